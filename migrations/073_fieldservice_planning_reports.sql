-- Planning and reports of the field-service domain (busline fieldservice).
-- An appointment is an intervention seen in the calendar: it starts at
-- scheduled_at and lasts duration_minutes (60 unless the command says
-- otherwise). Two appointments of one technician overlap when their
-- [start, end) ranges intersect; the planning reads find them with the index
-- below (producers/fieldservice/README.md, "Planning").
ALTER TABLE fieldservice_interventions
    ADD COLUMN duration_minutes integer NOT NULL DEFAULT 60
        CHECK (duration_minutes BETWEEN 1 AND 1440);

CREATE INDEX fieldservice_interventions_by_technician
    ON fieldservice_interventions (organization_id, technician_id, scheduled_at)
    WHERE deleted_at IS NULL AND technician_id IS NOT NULL;

-- A rendered report (rapport) of one intervention, written by
-- rapport.generate in the same transaction as its report.generated outbox
-- row: a failed generation leaves no row. content is the whole document
-- (PDF, HTML or markdown bytes); sha256 its hex digest.
CREATE TABLE fieldservice_reports (
    organization_id text NOT NULL,
    report_id text NOT NULL,
    intervention_id text NOT NULL,
    report_type text NOT NULL,
    format text NOT NULL CHECK (format IN ('PDF', 'HTML', 'MARKDOWN')),
    template text NOT NULL,
    title text NOT NULL,
    content bytea NOT NULL,
    content_type text NOT NULL,
    size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, report_id),
    FOREIGN KEY (organization_id, intervention_id)
        REFERENCES fieldservice_interventions (organization_id, intervention_id)
);

CREATE INDEX fieldservice_reports_by_intervention
    ON fieldservice_reports (organization_id, intervention_id, created_at);
CREATE INDEX fieldservice_reports_by_time
    ON fieldservice_reports (organization_id, created_at);
