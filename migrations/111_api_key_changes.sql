-- Each API replica keeps the keys it has authenticated in memory (api/auth/
-- key_cache.c) so a request costs no query for its key. A change to what
-- authenticating with a key decides (revoked, expiry, permissions, rate
-- limits, the organization's plan) is told to every replica by NOTIFY
-- busline_api_key_changed once it commits: the key's token_sha256, or '*'
-- for an organization's change (its keys are dropped together). The usage
-- columns (last_used_at, usage_count), written in batches, say nothing.
CREATE FUNCTION api_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('busline_api_key_changed', OLD.token_sha256);
    IF TG_OP = 'UPDATE' AND NEW.token_sha256 <> OLD.token_sha256 THEN
        PERFORM pg_notify('busline_api_key_changed', NEW.token_sha256);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER api_keys_changed
    AFTER UPDATE OF active, expires_at, permissions, rate_per_minute, rate_per_hour, rate_per_day,
                    rate_per_month, organization_id, token_sha256 OR DELETE
    ON api_keys FOR EACH ROW EXECUTE FUNCTION api_key_changed();

CREATE FUNCTION api_organization_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('busline_api_key_changed', '*');
    RETURN NULL;
END $$;

CREATE TRIGGER api_organizations_changed
    AFTER UPDATE OF plan OR DELETE ON api_organizations
    FOR EACH ROW EXECUTE FUNCTION api_organization_changed();
