/* The attendance domain (Attendance-X): applies one command to
 * attendance_events and attendance_records (migrations/082, 083) and derives
 * the events it causes, and fires the durable reminder timer. Pure domain
 * logic over a libpq connection and jansson values; the shared loop
 * (producers/domain_service/service.h) wraps it in a transaction with the
 * outbox writes and the processed-command row. Commands and events are in
 * the plain JSON shape of their Avro records (schemas/commands/attendance,
 * schemas/events/attendance). */
#ifndef BUSLINE_PRODUCERS_ATTENDANCE_DOMAIN_H
#define BUSLINE_PRODUCERS_ATTENDANCE_DOMAIN_H

#include "producers/domain_service/command.h"

#define BL_ATTENDANCE_DOMAIN "attendance"

/* attendance as the shared loop sees it: "attendance",
 * attendance_processed_commands, bl_attendance_apply, and
 * bl_attendance_fire_reminders as its timers. */
extern const bl_domain_rules bl_attendance_rules;

/* Applies cmd (event.create, event.update, event.cancel, event.record_attendance)
 * on conn (inside the caller's open transaction) and appends its events to
 * out; an update that changes nothing appends none. Returns 0, or -1 with
 * err: BL_EINVAL for an unknown type or a bad field (ends_at not after
 * starts_at, an unknown time zone or event type, a malformed e-mail),
 * BL_ENOTFOUND when the event does not exist, BL_ECONFLICT when the command
 * contradicts its state (an existing id, a change or record on a cancelled
 * event, expected_version not the event's), BL_EPG when PostgreSQL failed. */
int bl_attendance_apply(PGconn *conn_in_tx, const bl_domain_command *cmd, bl_domain_events *out,
                        bl_err *err);

/* The reminder timer (a bl_domain_timers_fn): claims at most limit
 * scheduled events whose reminder_due_at has come and whose reminder was not
 * sent, FOR UPDATE SKIP LOCKED, sets their reminder_sent_at and appends
 * event.reminder_due for each that has not ended yet (one past its end is
 * only marked: too late to remind). Event ids derive from the event and its
 * version, so a re-armed reminder is a new event and a retried one is not.
 * Returns how many were claimed, or -1 with err (BL_EPG). */
int bl_attendance_fire_reminders(PGconn *conn_in_tx, int limit, bl_domain_events *out, bl_err *err);

#endif
