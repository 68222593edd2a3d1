/* Attendance of an event on the attendance surface: POST
 * /events/:id/attendance records one person's presence (the domain's
 * event.record_attendance: one row per person, the last record wins) and GET
 * lists the records with the counts; GET /commands/:id is the status URL a
 * change answered 202 with. Fields: personId (the attendee's id, or the
 * e-mail address of someone not planned), name, email, status (present,
 * late, absent, excused), durationMinutes, source (manual, zoom, teams...). */
#include "api/attendance/att_events_api.h"
#include "api/routes/routes.h"
#include "api/surface_fields.h"
#include "producers/attendance/rules.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define RECORD_JSON                                                                                    \
    "json_build_object('personId', person_id, 'name', name, 'email', email, 'status', lower(status),"  \
    " 'durationMinutes', duration_minutes, 'source', source, 'recordedAt', "                           \
    BL_ATT_DATETIME_SQL("recorded_at") ")"

/* The counts as attendance.updated has them (expected: the planned
 * attendees plus anyone recorded who was not planned). */
#define SUMMARY_JSON                                                                                        \
    "(SELECT json_build_object('presentCount', present, 'expectedCount', expected, 'attendanceRate',"       \
    " CASE WHEN expected = 0 THEN 0 ELSE round(least(100.0, 100.0 * present / expected), 2) END) FROM"      \
    " (SELECT (SELECT count(*) FROM attendance_records r WHERE r.organization_id = e.organization_id"       \
    " AND r.event_id = e.event_id AND r.status IN ('PRESENT', 'LATE')) AS present,"                        \
    " jsonb_array_length(e.attendees) + (SELECT count(*) FROM attendance_records r"                         \
    " WHERE r.organization_id = e.organization_id AND r.event_id = e.event_id AND NOT EXISTS"              \
    " (SELECT 1 FROM jsonb_array_elements(e.attendees) a WHERE a->>'person_id' = r.person_id)) AS expected) c)"

/* {data: [records], meta: {total, presentCount, expectedCount, attendanceRate}}, or NULL with err. */
static json_t *read_attendance(bl_api_server *s, const char *org, const char *event, const char *person,
                               bl_err *err)
{
    const char *p[] = {org, event, person};
    return bl_api_query_json(s,
        "SELECT json_build_object('data', COALESCE((SELECT json_agg(" RECORD_JSON " ORDER BY recorded_at, person_id)"
        " FROM attendance_records r WHERE r.organization_id = e.organization_id AND r.event_id = e.event_id"
        " AND ($3::text IS NULL OR r.person_id = $3)), '[]'::json), 'meta', " SUMMARY_JSON
        "::jsonb || jsonb_build_object('total', (SELECT count(*) FROM attendance_records r"
        " WHERE r.organization_id = e.organization_id AND r.event_id = e.event_id)))::text"
        " FROM attendance_events e WHERE e.organization_id = $1 AND e.event_id = $2", 3, p, err);
}

static int not_found(const bl_api_request *req, bl_http_response *resp)
{
    return bl_api_fail(req->http, resp, 404, "EVENT_NOT_FOUND", "no such event", NULL);
}

static int list_attendance(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    bl_err err = {0};
    json_t *a = read_attendance(req->server, req->auth->org_id, bl_http_request_param(req->http, "id"), NULL, &err);
    if (!a)
        return err.code == BL_ENOTFOUND ? not_found(req, resp) : -1;
    json_t *data = json_incref(json_object_get(a, "data")), *meta = json_incref(json_object_get(a, "meta"));
    json_decref(a);
    return bl_att_answer(resp, 200, data, meta);
}

static int record_attendance(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    const char *event = bl_http_request_param(req->http, "id");
    bl_err err = {0};
    json_t *current = read_attendance(req->server, req->auth->org_id, event, "", &err);
    if (!current)
        return err.code == BL_ENOTFOUND ? not_found(req, resp) : -1;
    json_decref(current);
    json_t *details = NULL;
    if (!req->body || !json_is_object(req->body)) {
        bl_att_detail(&details, "body", "expected a JSON object");
        return bl_att_invalid(req, resp, details);
    }
    const char *person = NULL, *name = NULL, *email = NULL, *status = NULL, *source = NULL, *key;
    const json_t *v;
    static const char *const known[] = {"personId", "name", "email", "status", "durationMinutes", "source", NULL};
    json_object_foreach((json_t *)req->body, key, v)
    {
        size_t i = 0;
        while (known[i] && strcmp(known[i], key) != 0)
            i++;
        if (!known[i])
            bl_att_detail(&details, key, "unknown field");
    }
    if (bl_att_string(req->body, "personId", true, 200, &person, &details) == 0)
        bl_att_detail(&details, "personId", "required");
    bl_att_string(req->body, "name", false, 500, &name, &details);
    if (bl_att_string(req->body, "email", false, 254, &email, &details) > 0 && !bl_attendance_email_ok(email))
        bl_att_detail(&details, "email", "not a well-formed e-mail address");
    bl_att_string(req->body, "source", true, 32, &source, &details);
    char upper[16] = "";
    if (bl_att_string(req->body, "status", true, 15, &status, &details) == 0)
        bl_att_detail(&details, "status", "required");
    if (status) {
        for (size_t i = 0; status[i] && i + 1 < sizeof upper; i++)
            upper[i] = (char)toupper((unsigned char)status[i]);
        size_t k = 0;
        while (bl_attendance_statuses[k] && strcmp(bl_attendance_statuses[k], upper) != 0)
            k++;
        if (!bl_attendance_statuses[k])
            bl_att_detail(&details, "status", "must be one of present, late, absent, excused");
    }
    v = json_object_get(req->body, "durationMinutes");
    if (v && !json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100000))
        bl_att_detail(&details, "durationMinutes", "must be an integer from 0 to 100000");
    if (details)
        return bl_att_invalid(req, resp, details);
    json_t *data = json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:s}", "event_id", event, "person_id", person, "name", name,
                             "email", email, "status", upper, "source", source ? source : "manual");
    if (data && v && json_is_integer(v))
        json_object_set_new(data, "duration_minutes", json_integer(json_integer_value(v)));
    if (!data)
        return -1;
    char applied[BL_ATT_ID_MAX];
    bl_api_wait_result got = bl_att_send(ctx, req, resp, "event.record_attendance", event, data, NULL, applied);
    json_decref(data);
    if (got != BL_API_WAIT_APPLIED)
        return got == BL_API_WAIT_ANSWERED ? 0 : -1;
    json_t *a = read_attendance(req->server, req->auth->org_id, event, person, &err);
    if (!a)
        return -1;
    json_t *answer = json_pack("{s:O, s:O}", "record", json_array_get(json_object_get(a, "data"), 0), "summary",
                               json_object_get(a, "meta"));
    json_decref(a);
    return answer ? bl_att_answer(resp, 201, answer, NULL) : -1;
}

static int command_status(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_err err = {0};
    json_t *status = bl_api_command_status(ctx, bl_http_request_param(req->http, "id"), req->auth->org_id, &err);
    if (!status && err.code == BL_ENOTFOUND)
        return bl_api_fail(req->http, resp, 404, "NOT_FOUND", "no such command in this organization", NULL);
    return status ? bl_att_answer(resp, 200, status, NULL) : -1;
}

static const bl_api_route routes[] = {
    {"GET", "/events/:id/attendance", BL_API_BY_METHOD, list_attendance},
    {"POST", "/events/:id/attendance", BL_API_BY_METHOD, record_attendance},
    {"GET", "/commands/:id", BL_API_BY_METHOD, command_status},
};

int bl_api_routes_att_attendance(bl_api_server *s, bl_err *err)
{
    bl_api_commands *commands = bl_api_server_commands(s, err);
    if (!commands)
        return -1;
    if (bl_api_server_surface_routes(s, BL_API_SURFACE_ATTENDANCE, routes, sizeof routes / sizeof routes[0],
                                     commands, err) != 0)
        return -1;
    return bl_att_events_document(s, err);
}
