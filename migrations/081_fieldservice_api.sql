-- The SmartLeakPro surface of the API (/api, api/fieldservice/): what its
-- users, API keys, webhooks and integrations carry beyond the /v1 ones.

-- Users log in with a user name (nom_utilisateur) or their email; the name,
-- first name, field-service role and the time GDPR consent was given are
-- those of POST /api/utilisateurs/. The role decides the permission level
-- (api/fieldservice/fs_users.c); rows made by /v1 tools leave them NULL.
ALTER TABLE api_users
    ADD COLUMN username text CHECK (username ~ '^[A-Za-z0-9._-]{3,150}$'),
    ADD COLUMN last_name text CHECK (length(last_name) BETWEEN 1 AND 100),
    ADD COLUMN first_name text CHECK (length(first_name) BETWEEN 1 AND 100),
    ADD COLUMN role text CHECK (role IN ('admin', 'manager', 'dispatcher', 'technicien')),
    ADD COLUMN gdpr_consent_at timestamptz;
CREATE UNIQUE INDEX api_users_username ON api_users (lower(username)) WHERE username IS NOT NULL;

-- A key's description (its monthly limit is rate_per_month of migration 080).
ALTER TABLE api_keys
    ADD COLUMN description text CHECK (length(description) <= 1000);

-- How a delivery's body is written: 'standard' is busline's own
-- {"event","timestamp","organization_id","data"}; 'smartleakpro' the
-- document's {"type","timestamp","data","resource_id"} with its event names
-- and French field names (connectors/webhook/workers/smartleakpro_payload.h).
ALTER TABLE webhook_endpoints
    ADD COLUMN payload_format text NOT NULL DEFAULT 'standard'
        CHECK (payload_format IN ('standard', 'smartleakpro'));

-- What /api/webhooks/ shows of an endpoint beyond the store's settings: its
-- description, its one type_webhook and the conditions as the caller wrote
-- them (the endpoint holds them translated to the bus's field names).
CREATE TABLE fieldservice_webhooks (
    endpoint_id text PRIMARY KEY REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    organization_id text NOT NULL,
    description text CHECK (length(description) <= 1000),
    type_webhook text NOT NULL,
    conditions jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fieldservice_webhooks_org ON fieldservice_webhooks (organization_id, created_at);

-- An integration of /api/integrations/: what busline carries out for it is
-- its webhook endpoint (a zapier integration receives every field-service
-- event of the organization at its webhook_url, its api_key sent as a
-- header). Deleting the endpoint deletes the integration.
CREATE TABLE fieldservice_integrations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id text NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text CHECK (length(description) <= 1000),
    integration_type text NOT NULL,
    endpoint_id text NOT NULL UNIQUE REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fieldservice_integrations_org ON fieldservice_integrations (organization_id, created_at);
