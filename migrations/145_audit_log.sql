-- The audit trail of configuration changes (issue 19, part 4): one row per
-- change made through the admin API, written in the transaction of the
-- change itself (api/audit/audit_log.h). before/after are the entity as
-- stored, with every secret already redacted by the writer.
--
-- Append-only: a trigger refuses UPDATE and DELETE of any row, and TRUNCATE
-- of the table, for every role (the owner too).
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    organization_id text NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_type text NOT NULL CHECK (actor_type IN ('key', 'user', 'system')),
    actor_id text,             -- the key's or the user's id
    key_id text,
    user_id text,
    session_id text,
    entity_type text NOT NULL CHECK (entity_type ~ '^[a-z][a-z0-9_.]{0,63}$'),
    entity_id text NOT NULL CHECK (length(entity_id) BETWEEN 1 AND 200),
    action text NOT NULL CHECK (action ~ '^[a-z][a-z_]{0,31}$'),
    before jsonb,
    after jsonb,
    request_id text
);
CREATE INDEX audit_log_org_time ON audit_log (organization_id, occurred_at DESC, id DESC);
CREATE INDEX audit_log_entity ON audit_log (organization_id, entity_type, entity_id);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
