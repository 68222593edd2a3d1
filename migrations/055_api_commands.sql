-- Commands the HTTP API put on the bus: one row per accepted command, for
-- its status URL (GET /v1/commands/:id) and Idempotency-Key. A request
-- claims its row (state 'sending') before producing, so of concurrent
-- retries with the same key exactly one produces; the others wait for its
-- answer, which is kept here and replayed.

CREATE TABLE api_commands (
    command_id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES api_organizations (id) ON DELETE CASCADE,
    command_type text NOT NULL,
    topic text NOT NULL,
    subject text NOT NULL,
    idempotency_key text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_sha256 text NOT NULL CHECK (request_sha256 ~ '^[0-9a-f]{64}$'),
    state text NOT NULL CHECK (state IN ('sending', 'accepted')),
    response text,                          -- the 202 body, replayed for a retry
    created_at timestamptz NOT NULL DEFAULT now(),
    accepted_at timestamptz
);
CREATE UNIQUE INDEX api_commands_idempotency
    ON api_commands (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX api_commands_org_time ON api_commands (organization_id, created_at);
