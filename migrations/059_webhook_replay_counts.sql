-- What the replay worker (connectors/webhook/replay_requests.h) records on
-- a webhook replay request: when it claimed the row (a row 'running' for
-- too long belongs to a worker that died and is claimed again), how many
-- events it read in the window and how many deliveries it replayed.
ALTER TABLE webhook_replay_requests
    ADD COLUMN started_at timestamptz,
    ADD COLUMN events_scanned bigint,
    ADD COLUMN events_replayed bigint;
