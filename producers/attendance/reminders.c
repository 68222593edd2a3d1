/* The durable reminder timer of events (domain.h): due rows are claimed with
 * FOR UPDATE SKIP LOCKED, so two replicas firing at once split them and
 * neither waits; the claim, reminder_sent_at and the outbox rows commit
 * together, so a service killed mid-way leaves the reminder due for the
 * next one, and a committed one is never fired again. */
#include "producers/attendance/internal.h"

#include "core/pg_pool.h"

#include <stdio.h>
#include <string.h>

int bl_attendance_fire_reminders(PGconn *conn_in_tx, int limit, bl_domain_events *out, bl_err *err)
{
    char limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%d", limit > 0 ? limit : 1);
    const char *p[] = {limit_text};
    PGresult *res = bl_pg_exec(conn_in_tx,
        "WITH due AS (SELECT organization_id, event_id FROM attendance_events"
        "   WHERE status = 'scheduled' AND reminder_sent_at IS NULL AND reminder_due_at <= now()"
        "   ORDER BY reminder_due_at LIMIT $1::integer FOR UPDATE SKIP LOCKED)"
        " UPDATE attendance_events e SET reminder_sent_at = now() FROM due"
        " WHERE e.organization_id = due.organization_id AND e.event_id = due.event_id"
        " RETURNING e.organization_id, e.event_id, e.version, e.ends_at > now() AS live,"
        " json_build_object('event_id', e.event_id, 'event_name', e.title, 'starts_at', "
        BL_SQL_MS("e.starts_at") ", 'ends_at', " BL_SQL_MS("e.ends_at") ", 'location', e.location,"
        " 'remind_before_minutes', e.reminder_minutes, 'attendees', e.attendees)::text AS data",
        1, p, err);
    if (!res)
        return -1;
    int claimed = PQntuples(res);
    for (int i = 0; i < claimed; i++) {
        if (strcmp(PQgetvalue(res, i, 3), "t") != 0)
            continue;
        const char *org = PQgetvalue(res, i, 0), *event = PQgetvalue(res, i, 1);
        char seed[640];
        snprintf(seed, sizeof seed, "reminder/%s/%s/v%s", org, event, PQgetvalue(res, i, 2));
        json_t *data = json_loads(PQgetvalue(res, i, 4), 0, NULL);
        if (bl_domain_events_add_timed(out, "event.reminder_due", event, org, seed, data, err) != 0) {
            PQclear(res);
            return -1;
        }
    }
    PQclear(res);
    return claimed;
}
