-- Replays asked for when a webhook endpoint is enabled again
-- (POST /v1/webhooks/:id/enable {"replay_since": ...}): the API records the
-- request; the replay tool of the delivery workers redelivers the events the
-- endpoint missed since then and marks the row done.
CREATE TABLE webhook_replay_requests (
    id bigserial PRIMARY KEY,
    endpoint_id text NOT NULL,
    organization_id text NOT NULL,
    replay_since timestamptz NOT NULL,
    -- "key:<id>" or "user:<id>" of the caller.
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
    completed_at timestamptz,
    error text
);

CREATE INDEX webhook_replay_requests_pending
    ON webhook_replay_requests (requested_at) WHERE status = 'pending';
