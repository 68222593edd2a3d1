-- The durable timers of `schedule` workflow triggers (connectors/workflows/
-- README.md, "Schedules"). One row per active workflow whose trigger is a
-- schedule, written by the API in the transaction that saves the workflow
-- (deleted when the trigger is no longer a schedule or the workflow is not
-- active). next_fire_at is the next instant the cron expression fires in its
-- time zone; a replica takes a due row with FOR UPDATE SKIP LOCKED and, in
-- that one transaction, starts the execution (trigger id "schedule:<fire
-- time>", unique per workflow, so a fire starts one execution whatever
-- replicas race) and moves next_fire_at to the next fire after now.
CREATE TABLE workflow_schedules (
    workflow_id uuid PRIMARY KEY REFERENCES workflows (id) ON DELETE CASCADE,
    organization_id uuid NOT NULL,
    cron text NOT NULL,
    timezone text NOT NULL,
    next_fire_at timestamptz NOT NULL,
    last_fired_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflow_schedules_due ON workflow_schedules (next_fire_at);
