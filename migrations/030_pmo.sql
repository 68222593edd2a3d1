-- The sample PMO domain service (busline pmo): its own state, changed only by
-- commands from commands.pmo. Every row belongs to one organization (tenant);
-- ids are the callers' ids, unique within the organization. Times are
-- timestamptz; the service turns them into epoch milliseconds for events.

CREATE TABLE pmo_projects (
    organization_id text NOT NULL,
    project_id text NOT NULL,
    name text NOT NULL,
    description text,
    owner_id text NOT NULL,
    status text NOT NULL DEFAULT 'GREEN' CHECK (status IN ('GREEN', 'YELLOW', 'RED')),
    progress integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    budget_cents bigint NOT NULL CHECK (budget_cents >= 0),
    spent_cents bigint NOT NULL DEFAULT 0 CHECK (spent_cents >= 0),
    currency text NOT NULL,
    start_date timestamptz,
    end_date timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, project_id)
);

CREATE TABLE pmo_risks (
    organization_id text NOT NULL,
    risk_id text NOT NULL,
    project_id text NOT NULL,
    title text NOT NULL,
    description text NOT NULL,
    severity text NOT NULL CHECK (severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
    probability integer NOT NULL CHECK (probability BETWEEN 0 AND 100),
    impact integer NOT NULL CHECK (impact BETWEEN 0 AND 100),
    mitigation text,
    owner_id text,
    status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'RESOLVED')),
    resolution text,
    resolved_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, risk_id),
    FOREIGN KEY (organization_id, project_id)
        REFERENCES pmo_projects (organization_id, project_id) ON DELETE CASCADE
);
CREATE INDEX pmo_risks_project ON pmo_risks (organization_id, project_id);

CREATE TABLE pmo_decisions (
    organization_id text NOT NULL,
    decision_id text NOT NULL,
    project_id text NOT NULL,
    title text NOT NULL,
    description text NOT NULL,
    decision_maker text NOT NULL,
    due_at timestamptz,
    status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    rationale text,
    decided_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, decision_id),
    FOREIGN KEY (organization_id, project_id)
        REFERENCES pmo_projects (organization_id, project_id) ON DELETE CASCADE
);
CREATE INDEX pmo_decisions_project ON pmo_decisions (organization_id, project_id);

-- A resource is one allocation of a person to a project for a period; a
-- person's load at an instant is the sum of their allocations active then.
CREATE TABLE pmo_resources (
    organization_id text NOT NULL,
    resource_id text NOT NULL,
    person_id text NOT NULL,
    person_name text NOT NULL,
    project_id text NOT NULL,
    allocation_pct integer NOT NULL CHECK (allocation_pct BETWEEN 0 AND 1000),
    role text,
    start_date timestamptz NOT NULL,
    end_date timestamptz CHECK (end_date IS NULL OR end_date > start_date),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, resource_id),
    FOREIGN KEY (organization_id, project_id)
        REFERENCES pmo_projects (organization_id, project_id) ON DELETE CASCADE
);
CREATE INDEX pmo_resources_person ON pmo_resources (organization_id, person_id);

CREATE TABLE pmo_sprints (
    organization_id text NOT NULL,
    sprint_id text NOT NULL,
    project_id text NOT NULL,
    name text NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
    committed_points integer NOT NULL CHECK (committed_points >= 0),
    -- Set once the sprint is completed; velocity = completed_points.
    completed_points integer CHECK (completed_points >= 0),
    completed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, sprint_id),
    FOREIGN KEY (organization_id, project_id)
        REFERENCES pmo_projects (organization_id, project_id) ON DELETE CASCADE
);
CREATE INDEX pmo_sprints_project ON pmo_sprints (organization_id, project_id, starts_at);

-- Generated reports are kept even when their project is deleted later.
CREATE TABLE pmo_reports (
    organization_id text NOT NULL,
    report_id text NOT NULL,
    project_id text,
    format text NOT NULL CHECK (format IN ('MARKDOWN', 'HTML', 'PDF')),
    title text NOT NULL,
    markdown text NOT NULL,
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    generated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, report_id)
);

-- One row per applied command, written in the transaction that applied it:
-- a command seen again (same id, or same idempotency key in the
-- organization) is skipped.
CREATE TABLE pmo_processed_commands (
    command_id text PRIMARY KEY,
    organization_id text NOT NULL,
    command_type text NOT NULL,
    idempotency_key text,
    events integer NOT NULL DEFAULT 0,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX pmo_processed_commands_idempotency
    ON pmo_processed_commands (organization_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
