-- An organization's egress proxy (PUT /v1/organizations/egress-proxy): its
-- webhook deliveries go out through this http(s) proxy (CURLOPT_PROXY), for
-- receivers that allow-list the proxy's static addresses. The endpoint
-- caches read it with each endpoint, so a change notifies every endpoint of
-- the organization on busline_webhook_endpoints.
CREATE TABLE organization_egress_proxies (
    organization_id text PRIMARY KEY,
    url text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2048),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION organization_egress_proxies_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    org text := CASE WHEN TG_OP = 'DELETE' THEN OLD.organization_id ELSE NEW.organization_id END;
    ep record;
BEGIN
    FOR ep IN SELECT id FROM webhook_endpoints WHERE organization_id = org LOOP
        PERFORM pg_notify('busline_webhook_endpoints', ep.id);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER organization_egress_proxies_notify
    AFTER INSERT OR UPDATE OR DELETE ON organization_egress_proxies
    FOR EACH ROW EXECUTE FUNCTION organization_egress_proxies_notify();
