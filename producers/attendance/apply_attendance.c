/* event.record_attendance: one attendee's presence on an event, kept in
 * attendance_records (one row per person, the last record wins), and the
 * event's counts announced as attendance.updated when the row changed. */
#include "producers/attendance/internal.h"

#include "core/pg_pool.h"
#include "producers/attendance/rules.h"

#include <stdio.h>
#include <string.h>

int att_apply_record_attendance(PGconn *conn, const bl_domain_command *c, bl_domain_events *out, bl_err *err)
{
    const char *event = NULL, *person = NULL, *name = NULL, *email = NULL, *status = NULL, *source = NULL;
    int64_t minutes = 0;
    char minutes_text[BL_FIELD_INT_TEXT_MAX];
    int has_minutes;
    if (bl_field_get_str(c, "event_id", true, &event, err) < 0 ||
        bl_field_get_str(c, "person_id", true, &person, err) < 0 ||
        bl_field_get_str(c, "name", false, &name, err) < 0 ||
        bl_field_get_str(c, "email", false, &email, err) < 0 ||
        bl_field_get_enum(c, "status", true, bl_attendance_statuses, &status, err) < 0 ||
        (has_minutes = bl_field_get_int(c, "duration_minutes", false, 0, 100000, &minutes, minutes_text, err)) < 0 ||
        bl_field_get_str(c, "source", false, &source, err) < 0)
        return -1;
    if (email && !bl_attendance_email_ok(email))
        return bl_err_set(err, BL_EINVAL, "%s: data.email: not a well-formed e-mail address", c->type);
    const char *key[] = {c->organization_id, event};
    PGresult *res = bl_pg_exec(conn,
        "SELECT status, title FROM attendance_events WHERE organization_id = $1 AND event_id = $2 FOR SHARE",
        2, key, err);
    if (!res || bl_require_row(res, "event", event, err) != 0) {
        PQclear(res);
        return -1;
    }
    bool cancelled = strcmp(bl_col(res, "status"), "cancelled") == 0;
    PQclear(res);
    if (cancelled)
        return bl_err_set(err, BL_ECONFLICT, "%s: %s: the event is cancelled: no attendance is recorded",
                          c->type, event);
    const char *params[] = {c->organization_id, event, person, name, email, status,
                            has_minutes == 1 ? minutes_text : NULL, source && *source ? source : "manual"};
    /* The row changes only when something differs: a repeat of the same
     * record announces nothing. */
    res = bl_pg_exec(conn,
        "INSERT INTO attendance_records AS r (organization_id, event_id, person_id, name, email, status,"
        " duration_minutes, source) VALUES ($1, $2, $3, $4, $5, $6, $7::integer, $8)"
        " ON CONFLICT (organization_id, event_id, person_id) DO UPDATE SET"
        " name = COALESCE(EXCLUDED.name, r.name), email = COALESCE(EXCLUDED.email, r.email),"
        " status = EXCLUDED.status, duration_minutes = EXCLUDED.duration_minutes, source = EXCLUDED.source,"
        " recorded_at = now()"
        " WHERE (r.name, r.email, r.status, r.duration_minutes, r.source) IS DISTINCT FROM"
        " (COALESCE(EXCLUDED.name, r.name), COALESCE(EXCLUDED.email, r.email), EXCLUDED.status,"
        " EXCLUDED.duration_minutes, EXCLUDED.source) RETURNING person_id", 8, params, err);
    if (!res)
        return -1;
    int changed = PQntuples(res);
    PQclear(res);
    if (!changed)
        return 0;
    /* Expected: the attendees planned, plus anyone recorded who was not
     * planned (a walk-in counts as expected once present). */
    res = bl_pg_exec(conn,
        "SELECT e.title,"
        " (SELECT count(*) FROM attendance_records r WHERE r.organization_id = e.organization_id"
        "   AND r.event_id = e.event_id AND r.status IN ('PRESENT', 'LATE')) AS present,"
        " jsonb_array_length(e.attendees) + (SELECT count(*) FROM attendance_records r"
        "   WHERE r.organization_id = e.organization_id AND r.event_id = e.event_id AND NOT EXISTS"
        "   (SELECT 1 FROM jsonb_array_elements(e.attendees) a WHERE a->>'person_id' = r.person_id)) AS expected"
        " FROM attendance_events e WHERE e.organization_id = $1 AND e.event_id = $2", 2, key, err);
    if (!res || bl_require_row(res, "event", event, err) != 0) {
        PQclear(res);
        return -1;
    }
    int64_t present = bl_col_int(res, "present"), expected = bl_col_int(res, "expected");
    double rate = expected > 0 ? 100.0 * (double)present / (double)expected : 0.0;
    json_t *data = json_pack("{s:s, s:s, s:f, s:I, s:I}", "event_id", event, "event_name", bl_col(res, "title"),
                             "attendance_rate", rate > 100.0 ? 100.0 : rate, "present_count",
                             (json_int_t)present, "expected_count", (json_int_t)expected);
    PQclear(res);
    return bl_domain_events_add(out, "attendance.updated", event, data, err);
}
