-- Every call of a custom endpoint (seed document 002, its APIMetric model):
-- written in batches by each API replica's metrics writer
-- (api/custom/metrics_log.c), read by GET /v1/custom-apis/:id/metrics and
-- by the alert evaluator. No foreign key to custom_apis: a batch holding a
-- call of an endpoint deleted meanwhile must still be written; rows of
-- deleted endpoints age out with the rest.
CREATE TABLE custom_api_metrics (
    id bigserial PRIMARY KEY,
    custom_api_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    recorded_at timestamptz NOT NULL,
    response_time_ms double precision NOT NULL CHECK (response_time_ms >= 0),
    status_code integer NOT NULL,
    request_size bigint,
    response_size bigint,
    caller text,          -- "key:<id>", "user:<id>", "oauth:<sub>", "ip:<address>"; NULL before authentication
    user_agent text,
    ip_address text,
    error_message text,
    request_id text
);
CREATE INDEX custom_api_metrics_api_time ON custom_api_metrics (custom_api_id, recorded_at);
CREATE INDEX custom_api_metrics_status ON custom_api_metrics (status_code);
-- for `busline prune` (core/retention.c: custom_api_metrics, 30 days)
CREATE INDEX custom_api_metrics_time_brin ON custom_api_metrics USING brin (recorded_at);
