-- The transactional outbox: domain services append events in their own
-- transaction (bl_outbox_append, producers/include/busline/outbox.h); the
-- relay (busline relay) publishes the unsent ones to Kafka and marks them sent.

-- One row per aggregate. Appending an event upserts this row first, which
-- holds its row lock until the appending transaction ends: two transactions
-- appending for the same aggregate are serialised, so the second one gets the
-- next seq, takes its outbox id only after the first one committed (or rolled
-- back), and commits after it. Per aggregate, id order is therefore commit
-- order, and no later event is ever visible while an earlier one is not.
CREATE TABLE busline_outbox_aggregates (
    aggregate_type text NOT NULL,
    aggregate_id text NOT NULL,
    last_seq bigint NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
);

CREATE TABLE busline_outbox (
    id bigserial PRIMARY KEY,
    aggregate_type text NOT NULL,
    aggregate_id text NOT NULL,
    aggregate_seq bigint NOT NULL,
    event_type text NOT NULL,
    topic text NOT NULL,
    schema_id integer NOT NULL,
    -- Confluent wire format (magic 0, 4-byte big-endian schema id, Avro),
    -- already encoded by the appender.
    payload bytea NOT NULL,
    -- The CloudEvents id; stable across re-sends, unique.
    ce_id text NOT NULL UNIQUE,
    -- Every Kafka header to send, as {"name": "text value"}: ce_id,
    -- ce_source, ce_type, ce_time, ce_subject, content-type.
    headers jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);

-- The relay's read: unsent rows in id order.
CREATE INDEX busline_outbox_unsent ON busline_outbox (id) WHERE sent_at IS NULL;
-- The cleanup's read: sent rows by age.
CREATE INDEX busline_outbox_sent_at ON busline_outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Appends one event; called by bl_outbox_append inside the caller's
-- transaction. The statements run in this order on purpose: the aggregate
-- row lock is taken before the outbox id is drawn (see above).
CREATE FUNCTION busline_outbox_append(
    p_aggregate_type text, p_aggregate_id text, p_event_type text, p_topic text,
    p_schema_id integer, p_payload bytea, p_ce_id text, p_ce_source text,
    p_ce_time text, p_ce_subject text, p_content_type text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
    v_id bigint;
    v_ce_id text := coalesce(p_ce_id, gen_random_uuid()::text);
    v_headers jsonb;
BEGIN
    INSERT INTO busline_outbox_aggregates AS a (aggregate_type, aggregate_id, last_seq)
    VALUES (p_aggregate_type, p_aggregate_id, 1)
    ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET last_seq = a.last_seq + 1
    RETURNING a.last_seq INTO v_seq;

    v_headers := jsonb_strip_nulls(jsonb_build_object(
        'ce_id', v_ce_id,
        'ce_source', p_ce_source,
        'ce_specversion', '1.0',
        'ce_type', p_event_type,
        'ce_time', coalesce(p_ce_time,
                            to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
        'ce_subject', p_ce_subject,
        'content-type', coalesce(p_content_type, 'application/avro')));

    INSERT INTO busline_outbox (aggregate_type, aggregate_id, aggregate_seq, event_type, topic,
                                schema_id, payload, ce_id, headers)
    VALUES (p_aggregate_type, p_aggregate_id, v_seq, p_event_type, p_topic,
            p_schema_id, p_payload, v_ce_id, v_headers)
    RETURNING id INTO v_id;

    -- Wakes a listening relay at commit; identical notifications of one
    -- transaction are folded into one by PostgreSQL.
    PERFORM pg_notify('busline_outbox', '');
    RETURN v_id;
END
$$;
