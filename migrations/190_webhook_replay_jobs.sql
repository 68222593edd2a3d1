-- Webhook replays become tracked jobs (issue 21 item 9): a window
-- [replay_since, replay_until] to one endpoint or, endpoint_id NULL, to
-- every active endpoint of the organization, with progress, a cancel and a
-- recorded position so a job resumes where a stopped or dead worker left it
-- (connectors/webhook/workers/replay_jobs.h says how nothing is enqueued
-- twice). The rows made by POST /v1/webhooks/:id/enable {"replay_since"}
-- are jobs too (until = when they were asked for).
ALTER TABLE webhook_replay_requests DROP CONSTRAINT webhook_replay_requests_status_check;
DROP INDEX webhook_replay_requests_pending;
DROP INDEX webhook_replay_requests_finished;
UPDATE webhook_replay_requests SET status = 'queued' WHERE status = 'pending';
UPDATE webhook_replay_requests SET status = 'completed' WHERE status = 'done';
ALTER TABLE webhook_replay_requests RENAME COLUMN events_replayed TO events_enqueued;
ALTER TABLE webhook_replay_requests RENAME COLUMN completed_at TO finished_at;
ALTER TABLE webhook_replay_requests
    ALTER COLUMN status SET DEFAULT 'queued',
    ADD CONSTRAINT webhook_replay_requests_status_check
        CHECK (status IN ('queued', 'running', 'completed', 'cancelled', 'failed')),
    -- NULL: every active endpoint of organization_id
    ALTER COLUMN endpoint_id DROP NOT NULL,
    ADD COLUMN replay_until timestamptz,
    ADD COLUMN events_matched bigint NOT NULL DEFAULT 0,
    ADD COLUMN events_skipped bigint NOT NULL DEFAULT 0,
    -- {"topic": {"partition": next offset to read}} as of the last checkpoint
    ADD COLUMN position jsonb NOT NULL DEFAULT '{}',
    -- the worker holding a running job, and when it last checkpointed; a
    -- job whose heartbeat is too old is claimed again (and resumes)
    ADD COLUMN claimed_by text,
    ADD COLUMN heartbeat_at timestamptz,
    -- how many times a worker claimed it (1: never resumed)
    ADD COLUMN attempts int NOT NULL DEFAULT 0;
UPDATE webhook_replay_requests SET replay_until = requested_at WHERE replay_until IS NULL;
UPDATE webhook_replay_requests SET events_scanned = 0 WHERE events_scanned IS NULL;
UPDATE webhook_replay_requests SET events_enqueued = 0 WHERE events_enqueued IS NULL;
ALTER TABLE webhook_replay_requests
    ALTER COLUMN replay_until SET DEFAULT now(),
    ALTER COLUMN replay_until SET NOT NULL,
    ALTER COLUMN events_scanned SET DEFAULT 0,
    ALTER COLUMN events_scanned SET NOT NULL,
    ALTER COLUMN events_enqueued SET DEFAULT 0,
    ALTER COLUMN events_enqueued SET NOT NULL,
    ADD CONSTRAINT webhook_replay_requests_window CHECK (replay_until >= replay_since);
CREATE INDEX webhook_replay_requests_waiting
    ON webhook_replay_requests (requested_at) WHERE status IN ('queued', 'running');
CREATE INDEX webhook_replay_requests_by_org ON webhook_replay_requests (organization_id, requested_at DESC);
CREATE INDEX webhook_replay_requests_finished ON webhook_replay_requests (requested_at)
    WHERE status IN ('completed', 'cancelled', 'failed');
