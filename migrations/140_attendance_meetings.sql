-- Zoom meetings and Slack notices of design document 001 (connectors/zoom/
-- auto_meetings.c, attendance_pull.c; connectors/slack/notices.c).
--
-- attendance_events.meeting_url: the join URL of the online meeting made for
-- the event, written back through event.update like every other attribute.

ALTER TABLE attendance_events ADD COLUMN meeting_url text;

-- One Zoom meeting per (integration, event). A row is written 'pending'
-- before the create call and 'created' with the meeting id after it, so a
-- redelivered event never makes a second meeting: a pending row means an
-- earlier create may have succeeded, and the user's upcoming meetings are
-- searched for it (Zoom has no idempotency key) before creating again.
-- attendance_due_at is the durable timer of attendanceTracking.syncAttendance:
-- after the event's end the participants report is pulled once, claimed
-- FOR UPDATE SKIP LOCKED so one replica does it.
CREATE TABLE attendance_zoom_meetings (
    integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    organization_id text NOT NULL,
    event_id text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'created', 'deleted')),
    meeting_id text,                       -- Zoom's numeric id, as text
    join_url text,
    sent jsonb NOT NULL,                   -- the meeting object last sent (create or PATCH)
    pending_since timestamptz,
    attendance_due_at timestamptz,         -- when the report is pulled (the event's end); NULL: not tracked
    attendance_pulled_at timestamptz,
    attendance_attempts integer NOT NULL DEFAULT 0,
    attendance_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, event_id)
);
CREATE INDEX attendance_zoom_meetings_due ON attendance_zoom_meetings (attendance_due_at)
    WHERE status = 'created' AND attendance_pulled_at IS NULL AND attendance_due_at IS NOT NULL;

-- One Slack message per (integration, notice): a redelivered event is not
-- posted twice. The row is written 'posted' with Slack's ts once
-- chat.postMessage answered ok (a crash in between posts again: Slack has
-- no idempotency key).
CREATE TABLE slack_notices (
    integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    message_id text NOT NULL,              -- the reminder's event id (ce_id), or attendanceAlert/<event id>
    template text NOT NULL,
    channel text NOT NULL,
    status text NOT NULL CHECK (status IN ('posted')),
    ts text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, message_id)
);
