-- The Powalyze document's fields of POST /v1/projects and
-- POST /v1/reports/generate (project.create and report.generate's optional
-- fields, schemas/commands/pmo/): a project's phase beside its RAG status,
-- and what a report was asked for and how long it took to render.
ALTER TABLE pmo_projects
    ADD COLUMN phase text NOT NULL DEFAULT 'PLANNED'
        CHECK (phase IN ('PLANNED', 'IN_PROGRESS', 'ON_HOLD', 'COMPLETED', 'CANCELLED'));

ALTER TABLE pmo_reports
    ADD COLUMN report_type text NOT NULL DEFAULT 'EXECUTIVE' CHECK (report_type IN ('EXECUTIVE')),
    ADD COLUMN project_ids jsonb,
    ADD COLUMN include_risks boolean NOT NULL DEFAULT true,
    ADD COLUMN include_decisions boolean NOT NULL DEFAULT true,
    ADD COLUMN duration_ms integer NOT NULL DEFAULT 0 CHECK (duration_ms >= 0);
