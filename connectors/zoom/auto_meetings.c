/* Zoom meetings for Attendance-X events (auto_meetings.h). */
#include "connectors/zoom/auto_meetings.h"

#include "connectors/zoom/meeting_match.h"
#include "connectors/zoom/zoom_api.h"
#include "core/clock.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOPIC_MAX 200   /* Zoom's limits */
#define AGENDA_MAX 2000
#define CLOCK_SKEW_MS 60000 /* between our clock and Zoom's created_at */

/* The event row and its link: one JSON object. */
#define ROW_SQL                                                                                               \
    "SELECT json_build_object('status', e.status, 'title', e.title, 'description', e.description,"            \
    " 'event_type', e.event_type, 'starts_at', (extract(epoch FROM e.starts_at) * 1000)::bigint,"              \
    " 'ends_at', (extract(epoch FROM e.ends_at) * 1000)::bigint, 'timezone', e.timezone,"                     \
    " 'meeting_url', e.meeting_url, 'link', CASE WHEN m.event_id IS NULL THEN NULL ELSE json_build_object("     \
    " 'status', m.status, 'meeting_id', m.meeting_id, 'join_url', m.join_url, 'sent', m.sent,"                 \
    " 'recording_authentication', m.recording_authentication,"                                                \
    " 'pending_since', (extract(epoch FROM m.pending_since) * 1000)::bigint) END)::text"                        \
    " FROM attendance_events e LEFT JOIN attendance_zoom_meetings m ON m.integration_id::text = $1"              \
    " AND m.event_id = e.event_id WHERE e.organization_id = $2 AND e.event_id = $3"

static bool setting_true(const json_t *obj, const char *key, bool def)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

/* Whether the integration wants a meeting for an event of type. */
static bool type_wanted(const json_t *settings, const char *type)
{
    const json_t *types = json_object_get(json_object_get(settings, "filters"), "eventTypes");
    if (!json_is_array(types) || json_array_size(types) == 0)
        return true;
    size_t i;
    const json_t *t;
    json_array_foreach(types, i, t)
        if (type && json_is_string(t) && strcmp(json_string_value(t), type) == 0)
            return true;
    return false;
}

/* Whether the participants report is pulled after the meeting. */
static bool tracks_attendance(const json_t *settings)
{
    const json_t *t = json_object_get(settings, "attendanceTracking");
    return json_is_object(t) && setting_true(t, "enabled", true) && setting_true(t, "syncAttendance", false);
}

/* The meeting object for row with meetingDefaults (new). */
static json_t *meeting_body(const json_t *row, const json_t *settings)
{
    const json_t *d = json_object_get(settings, "meetingDefaults");
    int64_t starts = (int64_t)json_integer_value(json_object_get(row, "starts_at"));
    int64_t ends = (int64_t)json_integer_value(json_object_get(row, "ends_at"));
    time_t secs = (time_t)(starts / 1000);
    struct tm tm;
    char start[32];
    gmtime_r(&secs, &tm);
    strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_int_t minutes = ends > starts ? (json_int_t)((ends - starts + 59999) / 60000)
                                       : json_integer_value(json_object_get(d, "duration"));
    const char *tz = json_string_value(json_object_get(row, "timezone"));
    if (!tz || !*tz)
        tz = json_string_value(json_object_get(d, "timezone"));
    const char *rec = json_string_value(json_object_get(json_object_get(d, "recordingSettings"), "autoRecording"));
    json_t *b = json_pack("{s:o, s:i, s:s, s:I, s:s}", "topic",
                          bl_zoom_capped_string(json_string_value(json_object_get(row, "title")), TOPIC_MAX), "type", 2,
                          "start_time", start, "duration", minutes > 0 ? minutes : 60, "timezone", tz ? tz : "UTC");
    const char *agenda = json_string_value(json_object_get(row, "description"));
    if (b && agenda && *agenda)
        json_object_set_new(b, "agenda", bl_zoom_capped_string(agenda, AGENDA_MAX));
    if (b && setting_true(d, "password", false))
        json_object_set_new(b, "default_password", json_true());
    if (b)
        json_object_set_new(b, "settings",
                            json_pack("{s:b, s:b, s:b, s:s}", "waiting_room", setting_true(d, "waitingRoom", true),
                                      "join_before_host", setting_true(d, "joinBeforeHost", false),
                                      "mute_upon_entry", setting_true(d, "muteUponEntry", false), "auto_recording",
                                      rec ? rec : "none"));
    return b;
}

typedef struct link_ctx {
    const bl_zoom_meetings *z;
    PGconn *conn;
    const char *integration_id, *org, *event_id;
    bl_zoom_api api;
} link_ctx;

static int exec(link_ctx *c, const char *sql, int n, const char *const *p, bl_err *err)
{
    return bl_pg_exec_cmd(c->conn, sql, n, p, err);
}

/* Marks the link pending with body before a create. */
static int mark_pending(link_ctx *c, const char *body_text, bl_err *err)
{
    const char *p[] = {c->integration_id, c->org, c->event_id, body_text};
    return exec(c,
                "INSERT INTO attendance_zoom_meetings (integration_id, organization_id, event_id, status, sent,"
                " pending_since) VALUES ($1::uuid, $2, $3, 'pending', $4::jsonb, now())"
                " ON CONFLICT (integration_id, event_id) DO UPDATE SET status = 'pending', sent = EXCLUDED.sent,"
                " pending_since = now(), meeting_id = NULL, join_url = NULL, recording_authentication = NULL,"
                " attendance_pulled_at = NULL,"
                " attendance_attempts = 0, attendance_error = NULL, updated_at = now()",
                4, p, err);
}

/* Records the meeting made (or found) for the link, and arms the report. */
static int mark_created(link_ctx *c, const char *meeting_id, const char *join_url, const char *body_text,
                        const json_t *row, bool track, bl_err *err)
{
    char ends[32];
    snprintf(ends, sizeof ends, "%lld", (long long)json_integer_value(json_object_get(row, "ends_at")));
    const char *p[] = {c->integration_id, c->event_id, meeting_id, join_url, body_text, track ? ends : NULL};
    return exec(c,
                "UPDATE attendance_zoom_meetings SET status = 'created', meeting_id = $3, join_url = $4,"
                " sent = $5::jsonb, pending_since = NULL, attendance_due_at = to_timestamp($6::bigint / 1000.0),"
                " updated_at = now() WHERE integration_id = $1::uuid AND event_id = $2",
                6, p, err);
}

/* The meeting an earlier create with body made, found among the upcoming
 * ones: 1 with id and join URL, 0 none, -1 with err. */
static int find_lost(link_ctx *c, const json_t *sent, int64_t since_ms, char id[32], char *join, size_t cap,
                     bl_err *err)
{
    json_t *list = bl_zoom_api_upcoming(&c->api, err);
    if (!list)
        return -1;
    const json_t *m = bl_zoom_find_created(list, sent, since_ms - CLOCK_SKEW_MS, id, 32);
    int found = m != NULL;
    if (m) {
        const char *u = json_string_value(json_object_get(m, "join_url"));
        snprintf(join, cap, "%s", u ? u : "");
    }
    json_decref(list);
    return found;
}

/* event.update carrying the join URL (or clearing it), id derived from the
 * meeting so a repeat is a duplicate for the domain. */
static int write_back(link_ctx *c, const char *meeting_id, const char *join_url, bl_err *err)
{
    char seed[512];
    snprintf(seed, sizeof seed, "zoom/meeting-url/%s/%s/%s/%s", c->integration_id, c->event_id,
             meeting_id ? meeting_id : "-", join_url ? "set" : "clear");
    json_t *data = json_pack("{s:s}", "event_id", c->event_id);
    if (join_url)
        json_object_set_new(data, "meeting_url", json_string(join_url));
    else
        json_object_set_new(data, "clear", json_pack("[s]", "meeting_url"));
    if (meeting_id)
        json_object_set_new(data, "origin", json_pack("{s:s, s:s, s:s, s:n}", "integration_id", c->integration_id,
                                                      "provider", "zoom", "external_id", meeting_id,
                                                      "external_version"));
    int rc = data ? bl_calsync_send_command(&c->z->sender, "event.update", c->org, c->event_id, seed, data, NULL, err)
                  : bl_err_set(err, BL_ENOMEM, "zoom meetings: out of memory");
    json_decref(data);
    return rc;
}

/* Deletes the linked meeting of an event that no longer wants one. */
static int drop_meeting(link_ctx *c, const json_t *row, const json_t *link, int *changed, bl_err *err)
{
    const char *id = json_string_value(json_object_get(link, "meeting_id"));
    bl_err why = {0};
    if (id && bl_zoom_api_delete(&c->api, id, &why) < 0) {
        bl_log_warn("zoom meetings: delete refused, left for the next change", BL_FS("event_id", c->event_id),
                    BL_FS("meeting_id", id), BL_FS("error", why.msg));
        return 0;
    }
    if (changed)
        (*changed)++;
    const char *p[] = {c->integration_id, c->event_id};
    if (exec(c, "UPDATE attendance_zoom_meetings SET status = 'deleted', attendance_due_at = NULL,"
                " updated_at = now() WHERE integration_id = $1::uuid AND event_id = $2", 2, p, err) != 0)
        return -1;
    const char *url = json_string_value(json_object_get(row, "meeting_url"));
    const char *join = json_string_value(json_object_get(link, "join_url"));
    bool scheduled = strcmp(json_string_value(json_object_get(row, "status")), "scheduled") == 0;
    return scheduled && url && join && strcmp(url, join) == 0 ? write_back(c, id, NULL, err) : 0;
}

/* meetingDefaults.recordingSettings.recordingAuthentication: not a field of
 * the create body, so the meeting's recording settings are PATCHed once
 * the meeting exists, and again whenever the value differs from the one
 * Zoom last accepted (link's recording_authentication; NULL link: a meeting
 * just made). A refusal is left for the event's next change. */
static int recording_authentication(link_ctx *c, const json_t *settings, const json_t *link, const char *meeting_id,
                                    int *changed, bl_err *err)
{
    const json_t *want = json_object_get(
        json_object_get(json_object_get(settings, "meetingDefaults"), "recordingSettings"), "recordingAuthentication");
    const json_t *had = json_object_get(link, "recording_authentication");
    if (!json_is_boolean(want) || !meeting_id || !*meeting_id ||
        (json_is_boolean(had) && json_is_true(had) == json_is_true(want)))
        return 0;
    json_t *body = json_pack("{s:b}", "recording_authentication", json_is_true(want));
    bl_err why = {0};
    int rc = body ? bl_zoom_api_recording_settings(&c->api, meeting_id, body, &why)
                  : bl_err_set(&why, BL_ENOMEM, "no memory");
    json_decref(body);
    if (rc != 0) {
        bl_log_warn("zoom meetings: recording settings refused, left for the next change",
                    BL_FS("event_id", c->event_id), BL_FS("meeting_id", meeting_id), BL_FS("error", why.msg));
        return 0;
    }
    if (changed)
        (*changed)++;
    const char *p[] = {c->integration_id, c->event_id, json_is_true(want) ? "true" : "false"};
    return exec(c, "UPDATE attendance_zoom_meetings SET recording_authentication = $3::boolean, updated_at = now()"
                   " WHERE integration_id = $1::uuid AND event_id = $2", 3, p, err);
}

/* Creates the meeting (after looking for a lost one when pending). */
static int make_meeting(link_ctx *c, const json_t *row, const json_t *link, const json_t *settings, json_t *body,
                        const char *body_text, bool track, int *changed, bl_err *err)
{
    char id[32] = "", join[1024] = "";
    const char *status = json_string_value(json_object_get(link, "status"));
    bl_err why = {0};
    int found = 0;
    if (status && strcmp(status, "pending") == 0) {
        found = find_lost(c, json_object_get(link, "sent"),
                          (int64_t)json_integer_value(json_object_get(link, "pending_since")), id, join, sizeof join,
                          &why);
        if (found < 0) {
            bl_log_warn("zoom meetings: cannot look for a lost create, left for the next change",
                        BL_FS("event_id", c->event_id), BL_FS("error", why.msg));
            return 0;
        }
        if (found)
            bl_log_warn("zoom meetings: a meeting made by a create whose answer was lost is linked",
                        BL_FS("event_id", c->event_id), BL_FS("meeting_id", id));
    }
    if (!found) {
        if (mark_pending(c, body_text, err) != 0)
            return -1;
        json_t *m = bl_zoom_api_create(&c->api, body, &why);
        if (!m) {
            bl_log_warn("zoom meetings: create refused, left for the next change", BL_FS("event_id", c->event_id),
                        BL_FS("error", why.msg));
            return 0;
        }
        bl_zoom_meeting_id(m, id, sizeof id);
        const char *u = json_string_value(json_object_get(m, "join_url"));
        snprintf(join, sizeof join, "%s", u ? u : "");
        json_decref(m);
        if (changed)
            (*changed)++;
    }
    if (mark_created(c, id, join, body_text, row, track, err) != 0 ||
        recording_authentication(c, settings, NULL, id, changed, err) != 0)
        return -1;
    return join[0] ? write_back(c, id, join, err) : 0;
}

int bl_zoom_meetings_sync_event(const bl_zoom_meetings *z, const char *integration_id, const json_t *settings,
                                const char *org, const char *event_id, int *changed, bl_err *err)
{
    link_ctx c = {.z = z, .integration_id = integration_id, .org = org, .event_id = event_id};
    bl_zoom_api_init(&c.api, z->store, integration_id, z->base_url, z->max_wait_ms);
    if (!(c.conn = bl_pg_pool_acquire(z->pool, 10000, err)))
        return -1;
    const char *p[] = {integration_id, org, event_id};
    PGresult *res = bl_pg_exec(c.conn, ROW_SQL, 3, p, err);
    json_t *row = res && PQntuples(res) == 1 ? json_loads(PQgetvalue(res, 0, 0), 0, NULL) : NULL;
    PQclear(res);
    int rc = res ? 0 : -1;
    json_t *body = NULL;
    char *body_text = NULL;
    if (!row)
        goto done;
    const json_t *link = json_object_get(row, "link");
    const char *link_status = json_string_value(json_object_get(link, "status"));
    bool scheduled = strcmp(json_string_value(json_object_get(row, "status")), "scheduled") == 0;
    bool wanted = scheduled && setting_true(settings, "autoCreateMeetings", false) &&
                  type_wanted(settings, json_string_value(json_object_get(row, "event_type")));
    bool created = link_status && strcmp(link_status, "created") == 0;
    if (!wanted) {
        rc = created ? drop_meeting(&c, row, link, changed, err) : 0;
        goto done;
    }
    bool track = tracks_attendance(settings);
    if (!(body = meeting_body(row, settings)) || !(body_text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS))) {
        rc = bl_err_set(err, BL_ENOMEM, "zoom meetings: out of memory");
        goto done;
    }
    if (!created) {
        rc = make_meeting(&c, row, link, settings, body, body_text, track, changed, err);
        goto done;
    }
    const char *id = json_string_value(json_object_get(link, "meeting_id"));
    const char *join = json_string_value(json_object_get(link, "join_url"));
    if (!json_equal(body, json_object_get(link, "sent"))) {
        bl_err why = {0};
        /* default_password asks for a passcode at creation; a PATCH keeps the one made */
        json_t *patch = json_deep_copy(body);
        json_object_del(patch, "default_password");
        int patched = patch ? bl_zoom_api_update(&c.api, id, patch, &why) : bl_err_set(&why, BL_ENOMEM, "no memory");
        json_decref(patch);
        if (patched != 0) {
            bl_log_warn("zoom meetings: update refused, left for the next change", BL_FS("event_id", event_id),
                        BL_FS("meeting_id", id), BL_FS("error", why.msg));
            goto done;
        }
        if (changed)
            (*changed)++;
        if ((rc = mark_created(&c, id, join ? join : "", body_text, row, track, err)) != 0)
            goto done;
    }
    if ((rc = recording_authentication(&c, settings, link, id, changed, err)) != 0)
        goto done;
    const char *url = json_string_value(json_object_get(row, "meeting_url"));
    if (join && *join && (!url || strcmp(url, join) != 0))
        rc = write_back(&c, id, join, err);
done:
    free(body_text);
    json_decref(body);
    json_decref(row);
    bl_pg_pool_release(z->pool, c.conn);
    return rc;
}

int bl_zoom_meetings_on_event(void *arg, const json_t *event, bl_err *err)
{
    const bl_zoom_meetings *z = arg;
    const char *type = json_string_value(json_object_get(event, "type"));
    const char *org = json_string_value(json_object_get(event, "organization_id"));
    const char *event_id = json_string_value(json_object_get(json_object_get(event, "data"), "event_id"));
    if (!type || !org || !event_id ||
        (strcmp(type, "event.created") && strcmp(type, "event.updated") && strcmp(type, "event.cancelled")))
        return 0;
    PGconn *conn = bl_pg_pool_acquire(z->pool, 10000, err);
    if (!conn)
        return -1;
    const char *p[] = {org};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT id::text, settings::text FROM integrations WHERE organization_id::text = $1"
                               " AND provider = 'zoom' AND status = 'connected' ORDER BY id",
                               1, p, err);
    bl_pg_pool_release(z->pool, conn);
    if (!res)
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        json_t *settings = json_loads(PQgetvalue(res, i, 1), 0, NULL);
        int changed = 0;
        rc = bl_zoom_meetings_sync_event(z, PQgetvalue(res, i, 0), settings, org, event_id, &changed, err);
        if (rc == 0 && changed > 0)
            bl_log_info("zoom meetings: meeting changed", BL_FS("event_id", event_id), BL_FS("type", type),
                        BL_FI("writes", changed));
        json_decref(settings);
    }
    PQclear(res);
    return rc;
}
