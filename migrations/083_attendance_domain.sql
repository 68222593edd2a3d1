-- The attendance domain service (producers/attendance, busline attendance):
-- its processed commands, and the durable timer of event.reminder_due.
--
-- A command seen again (same command id, or same idempotency key in the
-- organization) is skipped, as in fieldservice_processed_commands.
CREATE TABLE attendance_processed_commands (
    command_id text PRIMARY KEY,
    organization_id text NOT NULL,
    command_type text NOT NULL,
    idempotency_key text,
    events integer NOT NULL DEFAULT 0,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX attendance_processed_commands_idempotency
    ON attendance_processed_commands (organization_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX attendance_processed_commands_time ON attendance_processed_commands (processed_at);

-- When the reminder of an event is due (starts_at - reminder_minutes), kept
-- by the domain on every change so the timer is one indexed comparison: a
-- service replica claims due rows (FOR UPDATE SKIP LOCKED), announces
-- event.reminder_due and sets reminder_sent_at in one transaction. A change
-- of start or reminder_minutes clears reminder_sent_at: the timer re-arms.
ALTER TABLE attendance_events ADD COLUMN reminder_due_at timestamptz;
UPDATE attendance_events SET reminder_due_at = starts_at - make_interval(mins => reminder_minutes)
    WHERE reminder_minutes IS NOT NULL;
CREATE INDEX attendance_events_reminder_due ON attendance_events (reminder_due_at)
    WHERE status = 'scheduled' AND reminder_sent_at IS NULL AND reminder_due_at IS NOT NULL;
