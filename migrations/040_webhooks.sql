-- Webhook endpoints and their delivery log (connectors/webhook/endpoint_store.h,
-- endpoint_cache.h, delivery_log.h).

-- One subscriber endpoint of an organization. Secrets are sealed with the
-- keyring (core/crypto.h: "v1.<keyid>.<base64>", associated data = the
-- endpoint id), so a ciphertext copied onto another row does not open.
CREATE TABLE webhook_endpoints (
    id text PRIMARY KEY,
    organization_id text NOT NULL,
    name text NOT NULL,
    url text NOT NULL,
    secret_sealed text NOT NULL,
    -- The secret before the last rotation; it still signs until
    -- previous_secret_expires_at (the overlap), then it is ignored.
    previous_secret_sealed text,
    previous_secret_expires_at timestamptz,
    event_types text[] NOT NULL CHECK (cardinality(event_types) > 0),
    conditions jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- Extra request headers as {"Name": "value"}.
    headers jsonb NOT NULL DEFAULT '{}'::jsonb,
    active boolean NOT NULL DEFAULT true,
    disabled_reason text,
    legacy_signature boolean NOT NULL DEFAULT false,
    strict_order boolean NOT NULL DEFAULT false,
    max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 100),
    backoff_base_ms bigint NOT NULL DEFAULT 1000 CHECK (backoff_base_ms >= 0),
    timeout_ms integer NOT NULL DEFAULT 10000 CHECK (timeout_ms > 0),
    -- NULL: unlimited.
    rate_limit_per_s double precision CHECK (rate_limit_per_s > 0),
    rate_limit_burst integer CHECK (rate_limit_burst > 0),
    -- Health: failures in a row since the last success, and when the run began.
    consecutive_failures integer NOT NULL DEFAULT 0,
    failure_window_started_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL))
);

CREATE INDEX webhook_endpoints_org ON webhook_endpoints (organization_id, created_at);

-- Tells every endpoint cache which endpoint changed (payload: its id), at
-- commit. A cache that missed notifications (reconnect) reloads everything.
-- Health bookkeeping (failure counts) changes nothing a worker uses, so it
-- does not wake the caches on every failed delivery.
CREATE FUNCTION webhook_endpoints_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('busline_webhook_endpoints', OLD.id);
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND
       to_jsonb(OLD) - 'consecutive_failures' - 'failure_window_started_at' =
       to_jsonb(NEW) - 'consecutive_failures' - 'failure_window_started_at' THEN
        RETURN NEW;
    END IF;
    PERFORM pg_notify('busline_webhook_endpoints', NEW.id);
    RETURN NEW;
END
$$;

CREATE TRIGGER webhook_endpoints_notify
    AFTER INSERT OR UPDATE OR DELETE ON webhook_endpoints
    FOR EACH ROW EXECUTE FUNCTION webhook_endpoints_notify();

-- One row per delivery attempt, written in batches by the delivery workers.
-- No foreign key to webhook_endpoints: deleting an endpoint keeps its history,
-- and the batch writer never waits on a lock of the endpoint row.
CREATE TABLE webhook_deliveries (
    id bigserial PRIMARY KEY,
    endpoint_id text NOT NULL,
    organization_id text NOT NULL,
    event_type text NOT NULL,
    event_id text NOT NULL,
    -- Where the event's payload is: the source Kafka record.
    payload_topic text,
    payload_partition integer,
    payload_offset bigint,
    -- NULL when no response came back (see error).
    status_code integer,
    succeeded boolean NOT NULL,
    response_excerpt text CHECK (octet_length(response_excerpt) <= 4096),
    error text,
    duration_ms integer NOT NULL CHECK (duration_ms >= 0),
    attempt integer NOT NULL CHECK (attempt >= 1),
    delivered_at timestamptz NOT NULL DEFAULT now()
);

-- An endpoint's recent attempts, and its stats over a time window.
CREATE INDEX webhook_deliveries_endpoint_time
    ON webhook_deliveries (endpoint_id, delivered_at DESC, id DESC);
-- Looking up every attempt of one event (support, replay).
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
