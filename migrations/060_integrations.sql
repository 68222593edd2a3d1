-- Integrations with SaaS providers (connectors/oauth, api/route_integrations):
-- one row per connected account, its OAuth tokens sealed with the keyring
-- (AES-256-GCM "v1.<keyid>.<...>", associated data = the integration id so a
-- ciphertext cannot be moved to another row), single-use OAuth states, the
-- history of sync runs and the provider calls behind the analytics.

CREATE TABLE integrations (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES api_organizations (id) ON DELETE CASCADE,
    provider text NOT NULL CHECK (provider IN ('jira', 'slack', 'azure_devops', 'google_calendar',
                                               'microsoft_365', 'zoom')),
    type text NOT NULL CHECK (type IN ('issue_tracker', 'chat', 'work_items', 'calendar', 'meetings')),
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'connected', 'error', 'disconnected')),
    settings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    access_token_ciphertext text CHECK (access_token_ciphertext LIKE 'v1.%'),
    refresh_token_ciphertext text CHECK (refresh_token_ciphertext LIKE 'v1.%'),
    token_expires_at timestamptz,          -- NULL: the token does not expire (PAT)
    scopes text[] NOT NULL DEFAULT '{}',   -- as the provider granted them
    account_name text,
    last_sync_at timestamptz,
    error_count integer NOT NULL DEFAULT 0,
    last_error_code text,
    last_error_message text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX integrations_organization ON integrations (organization_id, provider, status);

-- A state handed out by connect and consumed once by callback. Only its
-- SHA-256 is kept; the PKCE code_verifier is sealed (AAD = the state hash).
CREATE TABLE oauth_states (
    state_sha256 text PRIMARY KEY CHECK (state_sha256 ~ '^[0-9a-f]{64}$'),
    organization_id uuid NOT NULL REFERENCES api_organizations (id) ON DELETE CASCADE,
    provider text NOT NULL,
    redirect_uri text NOT NULL,
    code_verifier_ciphertext text,         -- NULL when the provider takes no PKCE
    settings jsonb NOT NULL DEFAULT '{}',
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);

CREATE TABLE integration_sync_runs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    dry_run boolean NOT NULL DEFAULT false,
    direction text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'both')),
    range_from timestamptz,
    range_to timestamptz,
    items_synced bigint NOT NULL DEFAULT 0,
    duration_ms bigint,
    error_code text,
    error_message text,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX integration_sync_runs_integration ON integration_sync_runs (integration_id, started_at);

-- One row per call to a provider, written in batches (never one INSERT per
-- call); kept after the integration is deleted, for the analytics.
CREATE TABLE integration_calls (
    id bigserial PRIMARY KEY,
    organization_id uuid NOT NULL,
    integration_id uuid,
    provider text NOT NULL,
    operation text NOT NULL,               -- token, refresh, revoke, whoami, api
    success boolean NOT NULL,
    http_status integer,
    duration_us bigint NOT NULL,
    error_code text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX integration_calls_org_provider ON integration_calls (organization_id, provider, created_at);
