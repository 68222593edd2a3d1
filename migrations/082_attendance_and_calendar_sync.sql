-- The Attendance-X domain (busline attendance) and the calendar sync of
-- design document 001 (busline sync): the tables both sides share, so the
-- domain service, the sync worker and the API read one shape.
--
-- attendance_events / attendance_records are changed only by commands from
-- commands.attendance (producers/attendance); ids are the callers' ids,
-- unique within the organization. version starts at 1 and grows by one per
-- applied change; the events carry it, and the calendar sync keeps the
-- version it last copied so it can tell who changed since.

CREATE TABLE attendance_events (
    organization_id text NOT NULL,
    event_id text NOT NULL,
    title text NOT NULL,
    description text,
    event_type text NOT NULL
        CHECK (event_type IN ('training', 'meeting', 'conference', 'workshop', 'webinar', 'other')),
    location text,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    timezone text NOT NULL,
    organizer jsonb NOT NULL CHECK (jsonb_typeof(organizer) = 'object'),   -- {email, name}
    attendees jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(attendees) = 'array'), -- [{person_id, name, email}]
    is_private boolean NOT NULL DEFAULT false,
    reminder_minutes integer CHECK (reminder_minutes BETWEEN 0 AND 40320),
    reminder_sent_at timestamptz,          -- when event.reminder_due was announced for this start
    status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
    cancel_reason text,
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    origin jsonb,                          -- the sync that made the last change, or NULL
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    cancelled_at timestamptz,
    PRIMARY KEY (organization_id, event_id),
    CHECK (ends_at > starts_at)
);
CREATE INDEX attendance_events_by_start ON attendance_events (organization_id, starts_at);
CREATE INDEX attendance_events_reminders ON attendance_events (starts_at)
    WHERE status = 'scheduled' AND reminder_minutes IS NOT NULL AND reminder_sent_at IS NULL;

CREATE TABLE attendance_records (
    organization_id text NOT NULL,
    event_id text NOT NULL,
    person_id text NOT NULL,
    name text,
    email text,
    status text NOT NULL CHECK (status IN ('PRESENT', 'LATE', 'ABSENT', 'EXCUSED')),
    duration_minutes integer CHECK (duration_minutes >= 0),
    source text NOT NULL DEFAULT 'manual',
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, event_id, person_id),
    FOREIGN KEY (organization_id, event_id) REFERENCES attendance_events (organization_id, event_id)
);

-- The settings of document 001's PUT /integrations/:id/settings beside the
-- provider's own nested settings (integrations.settings). next_sync_at is the
-- durable timer of autoSync: a worker claims due rows with SKIP LOCKED.
ALTER TABLE integrations
    ADD COLUMN sync_direction text NOT NULL DEFAULT 'bidirectional'
        CHECK (sync_direction IN ('bidirectional', 'attendance_to_external', 'external_to_attendance')),
    ADD COLUMN auto_sync boolean NOT NULL DEFAULT false,
    ADD COLUMN sync_interval_s integer NOT NULL DEFAULT 900 CHECK (sync_interval_s BETWEEN 1 AND 604800),
    ADD COLUMN notifications jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(notifications) = 'object'),
    ADD COLUMN next_sync_at timestamptz;
CREATE INDEX integrations_sync_due ON integrations (next_sync_at) WHERE auto_sync AND status = 'connected';

-- A sync run as document 001's history shows it. The old statuses
-- (completed, failed) and directions (inbound, outbound, both) stay legal
-- for the rows written before; new runs use the document's words. A run is
-- 'queued' by the API (manual) or the timer (automatic), executed by one
-- worker (claimed_by, heartbeat_at: a run whose worker stopped beating is
-- taken over), and ends success | partial | error. 'cleanup' runs remove
-- the calendar copies when an integration is disconnected.
ALTER TABLE integration_sync_runs
    DROP CONSTRAINT integration_sync_runs_status_check,
    ADD CONSTRAINT integration_sync_runs_status_check
        CHECK (status IN ('queued', 'running', 'success', 'partial', 'error', 'completed', 'failed')),
    DROP CONSTRAINT integration_sync_runs_direction_check,
    ADD CONSTRAINT integration_sync_runs_direction_check
        CHECK (direction IN ('bidirectional', 'attendance_to_external', 'external_to_attendance',
                             'inbound', 'outbound', 'both')),
    ADD COLUMN type text NOT NULL DEFAULT 'manual' CHECK (type IN ('manual', 'automatic', 'cleanup')),
    ADD COLUMN scope text NOT NULL DEFAULT 'all',
    ADD COLUMN force_update boolean NOT NULL DEFAULT false,
    ADD COLUMN triggered_by jsonb,         -- "scheduled_sync" or {"userId", "name"}
    ADD COLUMN statistics jsonb NOT NULL DEFAULT
        '{"eventsProcessed": 0, "eventsCreated": 0, "eventsUpdated": 0, "eventsDeleted": 0, "errors": 0}',
    ADD COLUMN errors jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(errors) = 'array'), -- [{eventId, error, code}]
    ADD COLUMN conflicts integer NOT NULL DEFAULT 0,
    ADD COLUMN claimed_by text,
    ADD COLUMN heartbeat_at timestamptz;
-- one run at a time per integration, across replicas
CREATE UNIQUE INDEX integration_sync_runs_one_active ON integration_sync_runs (integration_id)
    WHERE status IN ('queued', 'running');
CREATE INDEX integration_sync_runs_queue ON integration_sync_runs (started_at) WHERE status = 'queued';

-- The stable link between an Attendance-X event and its copy in one
-- integration's calendar, so updates and deletions reach the right item
-- and a round trip never duplicates.
CREATE TABLE integration_event_links (
    integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    organization_id text NOT NULL,
    event_id text NOT NULL,
    calendar_id text NOT NULL,
    external_id text NOT NULL,
    external_version text,                 -- ETag / changeKey last written or read
    event_version integer,                 -- attendance_events.version last copied either way
    external_updated_at timestamptz,
    removed_at timestamptz,                -- the copy was deleted (cancel, or cleanup)
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, event_id),
    UNIQUE (integration_id, calendar_id, external_id)
);

-- Where the incremental read of a calendar stands: Google's nextSyncToken or
-- Microsoft Graph's @odata.deltaLink.
CREATE TABLE integration_sync_cursors (
    integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    calendar_id text NOT NULL,
    cursor text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, calendar_id)
);
