-- The commands a domain service refused (the ones it dead-letters with a
-- reason: invalid field, unknown aggregate, illegal status move), so the
-- API's GET /v1/commands/:id and a caller that waited past the bound can
-- read the outcome; applied commands are in <domain>_processed_commands.
-- A refused command changed nothing: this row is only its answer. Written
-- by producers/domain_service/service.c, which also announces every outcome
-- on the channel busline_command_outcome (NOTIFY).
CREATE TABLE domain_command_refusals (
    command_id text PRIMARY KEY,
    organization_id text NOT NULL,
    domain text NOT NULL,
    command_type text,
    error_class text NOT NULL,
    reason text NOT NULL,
    refused_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX domain_command_refusals_time ON domain_command_refusals (refused_at);
