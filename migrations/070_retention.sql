-- Indexes for `busline prune` (core/retention.c): each table it trims is
-- found by its time column. The append-only logs get BRIN indexes (a few
-- pages for millions of rows, since their time follows insertion order);
-- the small tables that are updated in place get B-trees.
CREATE INDEX webhook_deliveries_time_brin ON webhook_deliveries USING brin (delivered_at);
CREATE INDEX api_request_log_time_brin ON api_request_log USING brin (created_at);
CREATE INDEX integration_calls_time_brin ON integration_calls USING brin (created_at);
CREATE INDEX api_commands_time ON api_commands (created_at);
CREATE INDEX api_rate_counters_window ON api_rate_counters (window_start);
CREATE INDEX api_refresh_tokens_expiry ON api_refresh_tokens (expires_at);
CREATE INDEX integration_sync_runs_time ON integration_sync_runs (started_at) WHERE status <> 'running';
CREATE INDEX webhook_replay_requests_finished ON webhook_replay_requests (requested_at)
    WHERE status IN ('done', 'failed');
CREATE INDEX connector_state_done_marks ON connector_state (updated_at) WHERE key LIKE 'done/%';
