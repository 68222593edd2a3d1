-- Field-service media (POST /api/medias/upload): one row per file attached
-- to an intervention of the organization. The bytes live in the media store
-- named by storage (by default PostgreSQL large objects: large_object is the
-- oid, written in the same transaction as the row, so a refused or failed
-- upload leaves no object behind). content_type and type_media are judged
-- from the bytes (libmagic), never from the name; sha256 is the hex digest
-- of the bytes, computed while they streamed in.
CREATE TABLE fieldservice_media (
    organization_id text NOT NULL,
    media_id text NOT NULL,
    intervention_id text NOT NULL,
    filename text NOT NULL,
    description text,
    tags jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
    content_type text NOT NULL,
    type_media text NOT NULL CHECK (type_media IN ('image', 'video', 'audio', 'document')),
    size_bytes bigint NOT NULL CHECK (size_bytes > 0),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    storage text NOT NULL DEFAULT 'pg_large_object',
    large_object oid NOT NULL,
    uploaded_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, media_id),
    FOREIGN KEY (organization_id, intervention_id)
        REFERENCES fieldservice_interventions (organization_id, intervention_id)
);

CREATE INDEX fieldservice_media_by_intervention
    ON fieldservice_media (organization_id, intervention_id, created_at DESC);
CREATE INDEX fieldservice_media_by_type
    ON fieldservice_media (organization_id, type_media, created_at DESC);
