-- Custom API endpoints (seed document 002, its APIEndpointConfig and
-- CustomAPI model): an organization defines its own HTTP endpoints, served
-- by every API replica under /custom/<organization slug>/<path>.
--
-- An organization's slug names it in those URLs: lower-case letters,
-- digits and "-", made from its name and the start of its id unless given.
ALTER TABLE api_organizations ADD COLUMN slug text;
UPDATE api_organizations
   SET slug = coalesce(nullif(left(trim(BOTH '-' FROM regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g')), 80), ''),
                       'org') || '-' || left(id::text, 8);
CREATE FUNCTION api_organizations_slug() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.slug IS NULL THEN
        NEW.slug := coalesce(nullif(left(trim(BOTH '-' FROM regexp_replace(lower(NEW.name), '[^a-z0-9]+', '-',
                    'g')), 80), ''), 'org') || '-' || left(NEW.id::text, 8);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER api_organizations_slug BEFORE INSERT ON api_organizations
    FOR EACH ROW EXECUTE FUNCTION api_organizations_slug();
ALTER TABLE api_organizations ALTER COLUMN slug SET NOT NULL;
ALTER TABLE api_organizations ADD CONSTRAINT api_organizations_slug_shape
    CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,99}$');
CREATE UNIQUE INDEX api_organizations_slug_key ON api_organizations (slug);

-- The current definition of each endpoint. config holds the whole
-- APIEndpointConfig as the API shows it (authentication, rateLimit, caching,
-- transformations, integrations, workflow); the columns beside it are what
-- is looked up. path_key is the path with its parameter names blanked
-- ("/items/:" for "/items/:id"), so two paths that match the same requests
-- cannot both exist in one organization.
CREATE TABLE custom_apis (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES api_organizations (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    path text NOT NULL CHECK (path ~ '^/'),
    path_key text NOT NULL,
    method text NOT NULL CHECK (method IN ('GET', 'POST', 'PUT', 'DELETE', 'PATCH')),
    description text,
    config jsonb NOT NULL,
    version text NOT NULL CHECK (version ~ '^[0-9]+\.[0-9]+\.[0-9]+$'),
    is_active boolean NOT NULL DEFAULT true,
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, path_key)
);
CREATE INDEX custom_apis_org_active ON custom_apis (organization_id, is_active);

-- Every saved version of an endpoint (the current one too): what a
-- rollback restores. definition is the whole saved definition (name, path,
-- method, description, isActive and config), as it was saved.
CREATE TABLE custom_api_versions (
    custom_api_id uuid NOT NULL REFERENCES custom_apis (id) ON DELETE CASCADE,
    version text NOT NULL,
    major int NOT NULL,
    minor int NOT NULL,
    patch int NOT NULL,
    definition jsonb NOT NULL,
    saved_by text,
    saved_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (custom_api_id, version)
);

-- The `database` cache strategy: answers shared by every replica, until
-- expires_at or an invalidating event.
CREATE TABLE custom_api_cache (
    custom_api_id uuid NOT NULL REFERENCES custom_apis (id) ON DELETE CASCADE,
    cache_key text NOT NULL,
    status int NOT NULL,
    body text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (custom_api_id, cache_key)
);
CREATE INDEX custom_api_cache_expiry ON custom_api_cache (expires_at);

-- Every replica keeps the definitions in memory and reloads on
-- NOTIFY busline_custom_apis (payload: the endpoint id), so a change is
-- served everywhere within a second.
CREATE FUNCTION custom_apis_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('busline_custom_apis', coalesce(NEW.id, OLD.id)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER custom_apis_notify AFTER INSERT OR UPDATE OR DELETE ON custom_apis
    FOR EACH ROW EXECUTE FUNCTION custom_apis_notify();
