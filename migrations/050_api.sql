-- The HTTP API (busline api): tenants, their people and keys, sessions,
-- shared rate-limit counters and the request log. Secrets are never stored:
-- API keys and refresh tokens as SHA-256 hex, passwords as salted PBKDF2.

CREATE TABLE api_organizations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    plan text NOT NULL DEFAULT 'demo' CHECK (plan IN ('demo', 'pro', 'enterprise')),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- People who log in (JWT sessions). permission is one of the key levels.
CREATE TABLE api_users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES api_organizations (id) ON DELETE CASCADE,
    email text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
    password_hash text NOT NULL,           -- pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>
    permission text NOT NULL DEFAULT 'read' CHECK (permission IN ('read', 'write', 'admin')),
    totp_secret text,                      -- base32 (RFC 4648), NULL = no second factor
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (email)
);

CREATE TABLE api_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES api_organizations (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    token_sha256 text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    prefix text NOT NULL,                  -- first characters of the token, for display
    permissions text[] NOT NULL CHECK (permissions <@ ARRAY['read', 'write', 'admin']
                                       AND cardinality(permissions) > 0),
    active boolean NOT NULL DEFAULT true,
    expires_at timestamptz,
    last_used_at timestamptz,
    usage_count bigint NOT NULL DEFAULT 0,
    rate_per_minute integer CHECK (rate_per_minute > 0),  -- NULL = no limit for the window
    rate_per_hour integer DEFAULT 1000 CHECK (rate_per_hour > 0),
    rate_per_day integer CHECK (rate_per_day > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX api_keys_organization ON api_keys (organization_id, created_at);

-- Rotating refresh tokens: each use revokes the token and issues the next in
-- the same family; a revoked token used again revokes the whole family.
CREATE TABLE api_refresh_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES api_users (id) ON DELETE CASCADE,
    family_id uuid NOT NULL,
    token_sha256 text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_refresh_tokens_family ON api_refresh_tokens (family_id);

-- Shared rate-limit counters: replicas lease blocks of tokens per subject
-- ("key:<uuid>" or "user:<uuid>") and window, never one write per request.
CREATE TABLE api_rate_counters (
    subject text NOT NULL,
    window_kind text NOT NULL CHECK (window_kind IN ('minute', 'hour', 'day')),
    window_start timestamptz NOT NULL,
    used bigint NOT NULL,
    last_grant bigint NOT NULL,
    PRIMARY KEY (subject, window_kind, window_start)
);

-- One row per answered request, written in batches (for /v1/usage).
CREATE TABLE api_request_log (
    id bigserial PRIMARY KEY,
    organization_id uuid,
    key_id uuid,
    user_id uuid,
    request_id text NOT NULL,
    method text NOT NULL,
    route text NOT NULL,
    status integer NOT NULL,
    duration_us bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_request_log_org_time ON api_request_log (organization_id, created_at);
