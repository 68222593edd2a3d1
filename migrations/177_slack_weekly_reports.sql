-- The Slack weeklyReport of design document 001 (connectors/slack/
-- weekly_report.c): one durable timer per Slack integration, in the shape of
-- workflow_timers (core/pg_timer.h): a replica claims the due row FOR UPDATE
-- SKIP LOCKED and holds it by a lease, so the report of a week is made by one
-- replica, and a replica killed mid-report loses the lease when it runs out
-- (the next claim makes it again; slack_notices keeps it from being posted
-- twice). due_at is the next Monday 08:00 UTC; the report covers the seven
-- days before it.
CREATE TABLE slack_report_timers (
    integration_id uuid PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    due_at timestamptz NOT NULL,
    lease_owner text,
    lease_until timestamptz
);
CREATE INDEX slack_report_timers_due ON slack_report_timers (due_at);
