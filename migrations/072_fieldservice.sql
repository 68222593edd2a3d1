-- The field-service domain service (busline fieldservice): its clients and
-- interventions, changed only by commands from commands.fieldservice. Every
-- row belongs to one organization (tenant); ids are the callers' ids, unique
-- within the organization. Deletion is soft (deleted_at): the rows stay for
-- the history and the reports. Statuses follow the Avro enums; the legal
-- moves between intervention statuses are the table of
-- producers/fieldservice/status_machine.c (a CHECK cannot see the old row).

CREATE TABLE fieldservice_clients (
    organization_id text NOT NULL,
    client_id text NOT NULL,
    name text NOT NULL,
    email text,
    phone text,
    street text NOT NULL,
    postal_code text NOT NULL,
    city text NOT NULL,
    country text NOT NULL,
    contract_ref text,
    statut text NOT NULL DEFAULT 'actif' CHECK (statut IN ('actif', 'inactif', 'prospect')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    delete_reason text,
    PRIMARY KEY (organization_id, client_id)
);

CREATE INDEX fieldservice_clients_live
    ON fieldservice_clients (organization_id, statut) WHERE deleted_at IS NULL;

CREATE TABLE fieldservice_interventions (
    organization_id text NOT NULL,
    intervention_id text NOT NULL,
    client_id text NOT NULL,
    title text NOT NULL,
    description text,
    intervention_type text,
    status text NOT NULL DEFAULT 'SCHEDULED' CHECK (status IN ('SCHEDULED', 'EN_ROUTE',
        'IN_PROGRESS', 'ON_HOLD', 'COMPLETED', 'CANCELLED')),
    status_note text,
    street text NOT NULL,
    postal_code text NOT NULL,
    city text NOT NULL,
    country text NOT NULL,
    scheduled_at timestamptz,
    technician_id text,
    technician_name text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    status_changed_at timestamptz,
    deleted_at timestamptz,
    delete_reason text,
    PRIMARY KEY (organization_id, intervention_id),
    FOREIGN KEY (organization_id, client_id) REFERENCES fieldservice_clients (organization_id, client_id)
);

CREATE INDEX fieldservice_interventions_by_client
    ON fieldservice_interventions (organization_id, client_id) WHERE deleted_at IS NULL;
CREATE INDEX fieldservice_interventions_by_status
    ON fieldservice_interventions (organization_id, status, scheduled_at) WHERE deleted_at IS NULL;

-- The commands already applied: a redelivered command (same id, or same
-- idempotency key in the organization) is skipped, as in pmo_processed_commands.
CREATE TABLE fieldservice_processed_commands (
    command_id text PRIMARY KEY,
    organization_id text NOT NULL,
    command_type text NOT NULL,
    idempotency_key text,
    events integer NOT NULL DEFAULT 0,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX fieldservice_processed_commands_idempotency
    ON fieldservice_processed_commands (organization_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
