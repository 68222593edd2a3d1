-- Workflows (seed document 002, WorkflowConfig / WorkflowStep /
-- WorkflowExecution) and their durable executions, run by `busline
-- workflows` (connectors/workflows/README.md).
--
-- The current definition of each workflow. config holds the WorkflowConfig
-- as the API shows it (trigger, steps, errorHandling, notifications); the
-- columns beside it are what is looked up: trigger_type and trigger_event
-- (the event type pattern of an `event` trigger) let the trigger consumer
-- find the workflows an event may start without reading every config.
CREATE TABLE workflows (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES api_organizations (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text,
    config jsonb NOT NULL,
    trigger_type text NOT NULL CHECK (trigger_type IN ('event', 'schedule', 'webhook', 'api-call')),
    trigger_event text,
    version text NOT NULL CHECK (version ~ '^[0-9]+\.[0-9]+\.[0-9]+$'),
    is_active boolean NOT NULL DEFAULT true,
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflows_org_trigger ON workflows (organization_id, trigger_type) WHERE is_active;

-- Every saved version (the current one too). An execution runs the version
-- it started with, read from here, whatever is saved after it.
CREATE TABLE workflow_versions (
    workflow_id uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    version text NOT NULL,
    major int NOT NULL,
    minor int NOT NULL,
    patch int NOT NULL,
    definition jsonb NOT NULL,
    saved_by text,
    saved_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, version)
);

-- One run of a workflow (WorkflowExecution). context is what the steps
-- see: {"input": the trigger's input, "steps": {step id: its last output}}.
-- current_step is the step to run next (NULL once finished); step_seq the
-- sequence number it runs at (its row in workflow_execution_steps, and part
-- of its idempotency key); attempts the failed attempts of that step so far;
-- waiting_until the end of the delay the current step waits for.
-- (workflow_id, trigger_id) makes a start idempotent: one execution per
-- workflow and triggering event, however often the event is read.
CREATE TABLE workflow_executions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workflow_id uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    organization_id uuid NOT NULL,
    workflow_version text NOT NULL,
    status text NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
    trigger_id text NOT NULL,
    input jsonb NOT NULL,
    context jsonb NOT NULL,
    current_step text,
    step_seq int NOT NULL DEFAULT 1,
    attempts int NOT NULL DEFAULT 0,
    waiting_until timestamptz,
    error_message text,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    UNIQUE (workflow_id, trigger_id)
);
CREATE INDEX workflow_executions_workflow_status ON workflow_executions (workflow_id, status);
CREATE INDEX workflow_executions_started ON workflow_executions (started_at);

-- Each step run of an execution, in order (seq): its input and output,
-- attempts and error. status: running (a delay waiting), retrying (an
-- attempt failed, another is due), completed, failed.
CREATE TABLE workflow_execution_steps (
    execution_id uuid NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
    seq int NOT NULL,
    step_id text NOT NULL,
    step_type text NOT NULL,
    status text NOT NULL CHECK (status IN ('running', 'retrying', 'completed', 'failed')),
    attempts int NOT NULL DEFAULT 0,
    input jsonb,
    output jsonb,
    error text,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    PRIMARY KEY (execution_id, seq)
);

-- The durable timers: one row per running execution, due when its current
-- step may run (now, after a retry's backoff, or at a delay's end). A
-- replica claims due rows with FOR UPDATE SKIP LOCKED and holds them by a
-- lease (lease_owner until lease_until); a replica killed mid-step loses
-- its lease when it runs out, and whichever replica claims the row next
-- runs the step again from the last committed boundary.
CREATE TABLE workflow_timers (
    execution_id uuid PRIMARY KEY REFERENCES workflow_executions (id) ON DELETE CASCADE,
    due_at timestamptz NOT NULL,
    lease_owner text,
    lease_until timestamptz
);
CREATE INDEX workflow_timers_due ON workflow_timers (due_at);
