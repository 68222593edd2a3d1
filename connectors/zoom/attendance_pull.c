/* Zoom participants reports into attendance (attendance_pull.h). */
#include "connectors/zoom/attendance_pull.h"

#include "connectors/zoom/zoom_api.h"
#include "core/log.h"
#include "producers/attendance/rules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGES_MAX 200     /* 60 000 participant rows */
#define ATTEMPTS_MAX "12" /* then the row gives up, keeping attendance_error */
#define PERSON_KEY_MAX 320

/* One claimed meeting. */
typedef struct pull {
    char integration_id[64], org[256], event_id[256], meeting_id[32];
    long minimum_minutes;
    json_t *attendees; /* [{person_id, name, email}] */
} pull;

/* Claims one due meeting and leases it. 1 claimed, 0 none, -1 with err. */
static int claim(PGconn *conn, pull *p, bl_err *err)
{
    PGresult *r = bl_pg_exec(conn,
        "UPDATE attendance_zoom_meetings m SET attendance_due_at = now() + interval '10 minutes',"
        " attendance_attempts = attendance_attempts + 1, updated_at = now()"
        " FROM (SELECT integration_id, event_id FROM attendance_zoom_meetings WHERE status = 'created'"
        "   AND attendance_pulled_at IS NULL AND attendance_due_at <= now() ORDER BY attendance_due_at"
        "   LIMIT 1 FOR UPDATE SKIP LOCKED) d, integrations i, attendance_events e"
        " WHERE m.integration_id = d.integration_id AND m.event_id = d.event_id AND i.id = m.integration_id"
        "   AND e.organization_id = m.organization_id AND e.event_id = m.event_id"
        " RETURNING m.integration_id::text, m.organization_id, m.event_id, m.meeting_id,"
        "   COALESCE(i.settings->'attendanceTracking'->>'minimumDuration', '0'), e.attendees::text",
        0, NULL, err);
    if (!r)
        return -1;
    int got = PQntuples(r) == 1;
    if (got) {
        snprintf(p->integration_id, sizeof p->integration_id, "%s", PQgetvalue(r, 0, 0));
        snprintf(p->org, sizeof p->org, "%s", PQgetvalue(r, 0, 1));
        snprintf(p->event_id, sizeof p->event_id, "%s", PQgetvalue(r, 0, 2));
        snprintf(p->meeting_id, sizeof p->meeting_id, "%s", PQgetvalue(r, 0, 3));
        p->minimum_minutes = atol(PQgetvalue(r, 0, 4));
        p->attendees = json_loads(PQgetvalue(r, 0, 5), 0, NULL);
        if (!json_is_array(p->attendees)) {
            json_decref(p->attendees);
            p->attendees = json_array();
        }
    }
    PQclear(r);
    return got;
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* Adds a page's rows to seconds: key (lower-case e-mail, else "name:"
 * name) -> {"seconds", "name", "email"}. */
static void add_rows(json_t *seconds, const json_t *rows)
{
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *email = json_string_value(json_object_get(row, "user_email"));
        const char *name = json_string_value(json_object_get(row, "name"));
        char key[PERSON_KEY_MAX];
        if (email && *email)
            snprintf(key, sizeof key, "%s", email);
        else if (name && *name)
            snprintf(key, sizeof key, "name:%s", name);
        else
            continue;
        if (email && *email)
            lower(key);
        json_t *acc = json_object_get(seconds, key);
        if (!acc) {
            acc = json_pack("{s:I, s:s?, s:s?}", "seconds", (json_int_t)0, "name", name,
                            "email", email && *email && bl_attendance_email_ok(email) ? email : NULL);
            json_object_set_new(seconds, key, acc);
        }
        json_int_t d = json_integer_value(json_object_get(row, "duration"));
        json_object_set_new(acc, "seconds",
                            json_integer(json_integer_value(json_object_get(acc, "seconds")) + (d > 0 ? d : 0)));
    }
}

/* Reads every page of the report into seconds. 0, or -1 with err. */
static int read_report(const bl_zoom_api *api, const pull *p, json_t *seconds, bl_err *err)
{
    char token[1024] = "";
    for (int page = 0; page < PAGES_MAX; page++) {
        json_t *j = bl_zoom_api_report_page(api, p->meeting_id, token, err);
        if (!j)
            return -1;
        add_rows(seconds, json_object_get(j, "participants"));
        const char *next = json_string_value(json_object_get(j, "next_page_token"));
        snprintf(token, sizeof token, "%s", next ? next : "");
        json_decref(j);
        if (!token[0])
            return 0;
    }
    return bl_err_set(err, BL_OAUTH_E_SYNC, "zoom report: more than %d pages", PAGES_MAX);
}

static int record(const bl_zoom_meetings *z, const pull *p, const char *person, const char *name,
                  const char *email, long minutes, int *sent, bl_err *err)
{
    const char *status = minutes >= p->minimum_minutes && minutes > 0 ? "PRESENT" : "ABSENT";
    char seed[1200];
    snprintf(seed, sizeof seed, "zoom/attendance/%s/%s/%s/%s/%ld", p->integration_id, p->meeting_id, person, status,
             minutes);
    json_t *data = json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:I, s:s}", "event_id", p->event_id, "person_id", person,
                             "name", name, "email", email, "status", status, "duration_minutes", (json_int_t)minutes,
                             "source", "zoom");
    int rc = data ? bl_calsync_send_command(&z->sender, "event.record_attendance", p->org, p->event_id, seed, data,
                                            NULL, err)
                  : bl_err_set(err, BL_ENOMEM, "zoom attendance: out of memory");
    json_decref(data);
    if (rc == 0 && sent)
        (*sent)++;
    return rc;
}

/* The attendance of the report: attendees first, then walk-ins. */
static int record_all(const bl_zoom_meetings *z, const pull *p, json_t *seconds, int *sent, bl_err *err)
{
    size_t i;
    const json_t *a;
    json_array_foreach(p->attendees, i, a)
    {
        const char *email = json_string_value(json_object_get(a, "email"));
        char key[PERSON_KEY_MAX] = "";
        if (email) {
            snprintf(key, sizeof key, "%s", email);
            lower(key);
        }
        json_t *acc = key[0] ? json_object_get(seconds, key) : NULL;
        long minutes = acc ? (long)(json_integer_value(json_object_get(acc, "seconds")) / 60) : 0;
        if (record(z, p, json_string_value(json_object_get(a, "person_id")),
                   json_string_value(json_object_get(a, "name")), email, minutes, sent, err) != 0)
            return -1;
        if (acc)
            json_object_del(seconds, key);
    }
    const char *key;
    json_t *acc;
    json_object_foreach(seconds, key, acc)
    {
        char person[PERSON_KEY_MAX + 8];
        snprintf(person, sizeof person, "zoom:%s", strncmp(key, "name:", 5) == 0 ? key + 5 : key);
        if (record(z, p, person, json_string_value(json_object_get(acc, "name")),
                   json_string_value(json_object_get(acc, "email")),
                   (long)(json_integer_value(json_object_get(acc, "seconds")) / 60), sent, err) != 0)
            return -1;
    }
    return 0;
}

/* The row after a pull: done, or due again later with the reason. */
static int finish(PGconn *conn, const pull *p, const char *error, bl_err *err)
{
    const char *params[] = {p->integration_id, p->event_id, error};
    return bl_pg_exec_cmd(conn,
        "UPDATE attendance_zoom_meetings SET attendance_error = $3, updated_at = now(),"
        " attendance_pulled_at = CASE WHEN $3::text IS NULL THEN now() END,"
        " attendance_due_at = CASE WHEN $3::text IS NULL THEN attendance_due_at"
        "   WHEN attendance_attempts >= " ATTEMPTS_MAX " THEN NULL ELSE now() + interval '15 minutes' END"
        " WHERE integration_id = $1::uuid AND event_id = $2", 3, params, err);
}

int bl_zoom_attendance_pull_due(const bl_zoom_meetings *z, int limit, int *recorded, bl_err *err)
{
    if (recorded)
        *recorded = 0;
    PGconn *conn = bl_pg_pool_acquire(z->pool, 10000, err);
    if (!conn)
        return -1;
    int done = 0, rc = 0;
    for (int n = 0; n < limit && rc == 0; n++) {
        pull p;
        memset(&p, 0, sizeof p);
        int got = claim(conn, &p, err);
        if (got <= 0) {
            rc = got;
            break;
        }
        bl_zoom_api api;
        bl_zoom_api_init(&api, z->store, p.integration_id, z->base_url, z->max_wait_ms);
        json_t *seconds = json_object();
        bl_err why = {0};
        if (read_report(&api, &p, seconds, &why) != 0) {
            bl_log_warn("zoom attendance: report not read, tried again later", BL_FS("event_id", p.event_id),
                        BL_FS("meeting_id", p.meeting_id), BL_FS("error", why.msg));
            rc = finish(conn, &p, why.msg, err);
        } else if ((rc = record_all(z, &p, seconds, recorded, err)) == 0 && (rc = finish(conn, &p, NULL, err)) == 0) {
            done++;
        }
        json_decref(seconds);
        json_decref(p.attendees);
    }
    bl_pg_pool_release(z->pool, conn);
    return rc == 0 ? done : -1;
}
