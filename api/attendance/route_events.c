/* Attendance-X events on the attendance surface: GET /events (type, status,
 * from, to, search, organizer; page, limit), POST /events, GET, PUT and
 * DELETE (cancel) /events/:id. Reads come from the attendance domain's
 * table; changes are its commands (event.create, event.update,
 * event.cancel), answered once the domain applied them (att_events_api.h).
 * Fields: id (a UUID the API makes), title, description, type (the event
 * type), location, startDate, endDate (RFC 3339), timezone (IANA),
 * organizer {email, name}, attendees [{id, name, email}], isPrivate,
 * reminderMinutes; read-only: meetingUrl (the join URL of the Zoom meeting
 * made for it, connectors/zoom/auto_meetings.c), status (scheduled, cancelled), cancelReason,
 * version (1 at creation, +1 per change; PUT's expectedVersion refuses a
 * stale change), origin (the calendar sync that made the last change),
 * createdAt, updatedAt. In a PUT, null clears description, location and
 * reminderMinutes; an attribute not given is kept. */
#include "api/attendance/att_events_api.h"
#include "api/routes/routes.h"
#include "api/surface_fields.h"
#include "producers/attendance/rules.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TITLE_MAX 500
#define TEXT_MAX 4000
#define ID_MAX 200

/* The row as the API shows it. */
#define EVENT_JSON                                                                                          \
    "json_build_object('id', event_id, 'title', title, 'description', description, 'type', event_type,"    \
    " 'location', location, 'startDate', " BL_ATT_DATETIME_SQL("starts_at") ", 'endDate', "                 \
    BL_ATT_DATETIME_SQL("ends_at") ", 'timezone', timezone, 'organizer', organizer, 'attendees',"           \
    " (SELECT COALESCE(json_agg(json_build_object('id', a->>'person_id', 'name', a->>'name', 'email',"     \
    " a->'email')), '[]'::json) FROM jsonb_array_elements(attendees) a), 'isPrivate', is_private,"          \
    " 'reminderMinutes', reminder_minutes, 'meetingUrl', meeting_url, 'status', status, 'cancelReason',"    \
    " cancel_reason, 'version',"                                                                            \
    " version, 'origin', CASE WHEN origin IS NULL THEN NULL ELSE json_build_object('integrationId',"        \
    " origin->>'integration_id', 'provider', origin->>'provider', 'externalId', origin->>'external_id',"    \
    " 'externalVersion', origin->>'external_version') END, 'createdAt', " BL_ATT_DATETIME_SQL("created_at")  \
    ", 'updatedAt', " BL_ATT_DATETIME_SQL("updated_at") ")"

static json_t *read_event(bl_api_server *s, const char *org, const char *id, bl_err *err)
{
    const char *p[] = {org, id};
    return bl_api_query_json(s, "SELECT " EVENT_JSON "::text FROM attendance_events"
                                " WHERE organization_id = $1 AND event_id = $2", 2, p, err);
}

static int answer_event(const bl_api_request *req, bl_http_response *resp, const char *id, int status)
{
    bl_err err = {0};
    json_t *ev = read_event(req->server, req->auth->org_id, id, &err);
    if (!ev)
        return err.code == BL_ENOTFOUND ? bl_api_fail(req->http, resp, 404, "EVENT_NOT_FOUND", "no such event", NULL)
                                        : -1;
    if (status == 201) {
        char location[320];
        snprintf(location, sizeof location, "%s/events/%s",
                 bl_api_server_surface_prefix(req->server, BL_API_SURFACE_ATTENDANCE), id);
        bl_http_response_header(resp, "Location", location);
    }
    return bl_att_answer(resp, status, ev, NULL);
}

/* 1 when the event exists; 0 after answering 404; -1 on failure. */
static int exists(const bl_api_request *req, bl_http_response *resp, const char *id)
{
    bl_err err = {0};
    json_t *ev = read_event(req->server, req->auth->org_id, id, &err);
    json_decref(ev);
    if (ev)
        return 1;
    return err.code == BL_ENOTFOUND
               ? (bl_api_fail(req->http, resp, 404, "EVENT_NOT_FOUND", "no such event", NULL) == 0 ? 0 : -1)
               : -1;
}

static bool body_is_object(const bl_api_request *req, bl_http_response *resp, int *rc)
{
    if (req->body && json_is_object(req->body))
        return true;
    json_t *details = NULL;
    bl_att_detail(&details, "body", "expected a JSON object");
    *rc = bl_att_invalid(req, resp, details);
    return false;
}

/* The members a body may hold: writable ones, then read-only ones a client
 * may send back from a GET (ignored). Anything else is refused. */
static const char *const writable[] = {"title", "description", "type", "location", "startDate", "endDate",
                                       "timezone", "organizer", "attendees", "isPrivate", "reminderMinutes",
                                       "expectedVersion", NULL};
static const char *const read_only[] = {"id", "status", "cancelReason", "version", "origin", "createdAt",
                                        "updatedAt", NULL};

static bool listed(const char *const *names, const char *key)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(names[i], key) == 0)
            return true;
    return false;
}

/* {email, name} of the body's organizer into data, adding details. */
static void read_organizer(const json_t *v, json_t *data, json_t **details)
{
    const json_t *email = json_object_get(v, "email"), *name = json_object_get(v, "name");
    if (!json_is_object(v)) {
        bl_att_detail(details, "organizer", "must be an object {email, name}");
        return;
    }
    bool ok = true;
    if (!bl_attendance_email_ok(json_string_value(email))) {
        bl_att_detail(details, "organizer.email", email ? "not a well-formed e-mail address" : "required");
        ok = false;
    }
    if (name && !json_is_null(name) && (!json_is_string(name) || json_string_length(name) > TITLE_MAX)) {
        bl_att_detail(details, "organizer.name", "must be a string of at most 500 characters");
        ok = false;
    }
    if (ok)
        json_object_set_new(data, "organizer", json_pack("{s:O, s:O}", "email", email, "name",
                                                          name ? (json_t *)name : json_null()));
}

/* [{person_id, name, email}] of the body's attendees into data, adding details. */
static void read_attendees(const json_t *v, json_t *data, json_t **details)
{
    if (!json_is_array(v) || json_array_size(v) > 5000) {
        bl_att_detail(details, "attendees", "must be an array of at most 5000 {id, name, email}");
        return;
    }
    json_t *list = json_array();
    size_t i;
    const json_t *a;
    bool ok = true;
    json_array_foreach(v, i, a)
    {
        char field[64];
        const json_t *id = json_object_get(a, "id"), *name = json_object_get(a, "name");
        const json_t *email = json_object_get(a, "email");
        bool item_ok = true;
        if (!json_is_object(a)) {
            snprintf(field, sizeof field, "attendees[%zu]", i);
            bl_att_detail(details, field, "must be an object {id, name, email}");
            ok = false;
            continue;
        }
        if (!json_is_string(id) || json_string_length(id) == 0 || json_string_length(id) > ID_MAX) {
            snprintf(field, sizeof field, "attendees[%zu].id", i);
            bl_att_detail(details, field, "required: a string of 1 to 200 characters");
            item_ok = false;
        }
        if (name && !json_is_null(name) && !json_is_string(name)) {
            snprintf(field, sizeof field, "attendees[%zu].name", i);
            bl_att_detail(details, field, "must be a string");
            item_ok = false;
        }
        if (email && !json_is_null(email) && !bl_attendance_email_ok(json_string_value(email))) {
            snprintf(field, sizeof field, "attendees[%zu].email", i);
            bl_att_detail(details, field, "not a well-formed e-mail address");
            item_ok = false;
        }
        for (size_t j = 0; json_is_string(id) && j < i; j++) {
            if (json_equal(id, json_object_get(json_array_get(v, j), "id"))) {
                snprintf(field, sizeof field, "attendees[%zu].id", i);
                bl_att_detail(details, field, "appears twice");
                item_ok = false;
            }
        }
        ok = ok && item_ok;
        if (ok) /* the name defaults to the e-mail address, then the id */
            json_array_append_new(list, json_pack("{s:O, s:O, s:O}", "person_id", id, "name",
                                                  json_is_string(name) ? name : json_is_string(email) ? email : id,
                                                  "email", json_is_string(email) ? (json_t *)email : json_null()));
    }
    if (ok && list)
        json_object_set_new(data, "attendees", list);
    else
        json_decref(list);
}

/* Reads the body into the command's data (domain names); creating: the
 * required attributes must be there. clear gets the attributes a PUT sets
 * to null. Adds a detail per invalid field. */
static void read_body(const json_t *body, bool creating, json_t *data, json_t *clear, json_t **details)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        if (!listed(writable, key) && !listed(read_only, key))
            bl_att_detail(details, key, "unknown field");
    }
    const char *title, *description, *type, *location, *tz, *start, *end;
    if (bl_att_string(body, "title", true, TITLE_MAX, &title, details) > 0)
        json_object_set_new(data, "title", json_string(title));
    if (bl_att_string(body, "description", false, TEXT_MAX, &description, details) > 0)
        json_object_set_new(data, "description", json_string(description));
    if (bl_att_string(body, "location", false, TEXT_MAX, &location, details) > 0)
        json_object_set_new(data, "location", json_string(location));
    if (bl_att_string(body, "type", true, 32, &type, details) > 0) {
        if (!bl_attendance_event_type_ok(type))
            bl_att_detail(details, "type", "must be one of " BL_ATTENDANCE_EVENT_TYPES_TEXT);
        else
            json_object_set_new(data, "event_type", json_string(type));
    }
    if (bl_att_string(body, "timezone", true, 64, &tz, details) > 0) {
        if (!bl_attendance_timezone_ok(tz))
            bl_att_detail(details, "timezone", "must be an IANA time zone, e.g. Europe/Paris");
        else
            json_object_set_new(data, "timezone", json_string(tz));
    }
    int64_t ms[2] = {0, 0};
    bool has[2] = {false, false};
    const char *names[2] = {"startDate", "endDate"}, *domain[2] = {"starts_at", "ends_at"};
    for (int i = 0; i < 2; i++) {
        if (bl_att_string(body, names[i], true, 40, i == 0 ? &start : &end, details) <= 0)
            continue;
        if (bl_api_parse_day_or_time(i == 0 ? start : end, false, &ms[i]) != 0) {
            bl_att_detail(details, names[i], "must be an RFC 3339 datetime (or a date, YYYY-MM-DD)");
            continue;
        }
        has[i] = true;
        json_object_set_new(data, domain[i], json_integer((json_int_t)ms[i]));
    }
    if (has[0] && has[1] && ms[1] <= ms[0])
        bl_att_detail(details, "endDate", "must be after startDate");
    if ((v = json_object_get(body, "organizer")) && !json_is_null(v))
        read_organizer(v, data, details);
    if ((v = json_object_get(body, "attendees")) && !json_is_null(v))
        read_attendees(v, data, details);
    if ((v = json_object_get(body, "isPrivate")) && !json_is_null(v)) {
        if (!json_is_boolean(v))
            bl_att_detail(details, "isPrivate", "must be a boolean");
        else
            json_object_set_new(data, "is_private", json_boolean(json_is_true(v)));
    }
    if ((v = json_object_get(body, "reminderMinutes")) && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 40320)
            bl_att_detail(details, "reminderMinutes", "must be an integer from 0 to 40320 (four weeks)");
        else
            json_object_set_new(data, "reminder_minutes", json_integer(json_integer_value(v)));
    }
    if (creating) {
        static const char *const required[] = {"title", "type", "startDate", "endDate", "timezone", "organizer"};
        for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
            v = json_object_get(body, required[i]);
            if (!v || json_is_null(v))
                bl_att_detail(details, required[i], "required");
        }
        if (!json_object_get(data, "attendees"))
            json_object_set_new(data, "attendees", json_array());
        if (!json_object_get(data, "is_private"))
            json_object_set_new(data, "is_private", json_false());
        return;
    }
    static const struct {
        const char *api, *domain;
    } clearable[] = {{"description", "description"}, {"location", "location"}, {"reminderMinutes", "reminder_minutes"}};
    for (size_t i = 0; i < sizeof clearable / sizeof clearable[0]; i++)
        if ((v = json_object_get(body, clearable[i].api)) && json_is_null(v))
            json_array_append_new(clear, json_string(clearable[i].domain));
    static const char *const not_null[] = {"title", "type", "startDate", "endDate", "timezone", "organizer",
                                           "attendees", "isPrivate"};
    for (size_t i = 0; i < sizeof not_null / sizeof not_null[0]; i++)
        if ((v = json_object_get(body, not_null[i])) && json_is_null(v))
            bl_att_detail(details, not_null[i], "cannot be null");
    if ((v = json_object_get(body, "expectedVersion")) && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > INT32_MAX)
            bl_att_detail(details, "expectedVersion", "must be a positive integer (the event's version)");
        else
            json_object_set_new(data, "expected_version", json_integer(json_integer_value(v)));
    }
}

static int create_event(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    int rc = 0;
    if (!body_is_object(req, resp, &rc))
        return rc;
    char id[BL_UUID_SIZE];
    bl_err err = {0};
    json_t *details = NULL, *data = json_object();
    if (!data || bl_uuid_random(id, &err) != 0) {
        json_decref(data);
        return -1;
    }
    json_object_set_new(data, "event_id", json_string(id));
    read_body(req->body, true, data, NULL, &details);
    if (json_object_get(req->body, "expectedVersion"))
        bl_att_detail(&details, "expectedVersion", "only for PUT: a new event is at version 1");
    if (details) {
        json_decref(data);
        return bl_att_invalid(req, resp, details);
    }
    char applied[BL_ATT_ID_MAX];
    bl_api_wait_result got = bl_att_send(ctx, req, resp, "event.create", id, data, NULL, applied);
    json_decref(data);
    if (got == BL_API_WAIT_APPLIED)
        return answer_event(req, resp, applied, 201);
    return got == BL_API_WAIT_ANSWERED ? 0 : -1;
}

static int get_event(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    return answer_event(req, resp, bl_http_request_param(req->http, "id"), 200);
}

static int update_event(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    const char *id = bl_http_request_param(req->http, "id");
    int rc = exists(req, resp, id); /* an unknown id is 404 whatever the body */
    if (rc <= 0)
        return rc;
    if (!body_is_object(req, resp, &rc))
        return rc;
    json_t *details = NULL, *data = json_pack("{s:s}", "event_id", id), *clear = json_array();
    if (!data || !clear) {
        json_decref(data);
        json_decref(clear);
        return -1;
    }
    read_body(req->body, false, data, clear, &details);
    json_object_set_new(data, "clear", clear);
    if (details) {
        json_decref(data);
        return bl_att_invalid(req, resp, details);
    }
    char applied[BL_ATT_ID_MAX];
    bl_api_wait_result got = bl_att_send(ctx, req, resp, "event.update", id, data, NULL, applied);
    json_decref(data);
    if (got == BL_API_WAIT_APPLIED)
        return answer_event(req, resp, id, 200);
    return got == BL_API_WAIT_ANSWERED ? 0 : -1;
}

/* DELETE cancels: the event stays readable (status cancelled). The reason
 * comes from ?reason= or a body {reason}. */
static int cancel_event(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    const char *id = bl_http_request_param(req->http, "id");
    int rc = exists(req, resp, id);
    if (rc <= 0)
        return rc;
    json_t *details = NULL;
    const char *reason = bl_http_request_query(req->http, "reason");
    if (!reason && req->body && json_is_object(req->body))
        bl_att_string(req->body, "reason", false, TEXT_MAX, &reason, &details);
    if (reason && strlen(reason) > TEXT_MAX)
        bl_att_detail(&details, "reason", "must be at most 4000 characters");
    if (details)
        return bl_att_invalid(req, resp, details);
    json_t *data = json_pack("{s:s, s:s?}", "event_id", id, "reason", reason);
    if (!data)
        return -1;
    char applied[BL_ATT_ID_MAX];
    bl_api_wait_result got = bl_att_send(ctx, req, resp, "event.cancel", id, data, NULL, applied);
    json_decref(data);
    if (got == BL_API_WAIT_APPLIED)
        return answer_event(req, resp, id, 200);
    return got == BL_API_WAIT_ANSWERED ? 0 : -1;
}

/* The list filters of the query, adding details. */
typedef struct list_filters {
    const char *type, *status, *organizer;
    char from[24], to[24], pattern[2 * TITLE_MAX + 3];
    bool has_from, has_to, has_pattern;
} list_filters;

static void read_filters(const bl_http_request *http, list_filters *f, json_t **details)
{
    memset(f, 0, sizeof *f);
    f->type = bl_http_request_query(http, "type");
    if (f->type && !bl_attendance_event_type_ok(f->type))
        bl_att_detail(details, "type", "must be one of " BL_ATTENDANCE_EVENT_TYPES_TEXT);
    f->status = bl_http_request_query(http, "status");
    if (f->status && strcmp(f->status, "scheduled") != 0 && strcmp(f->status, "cancelled") != 0)
        bl_att_detail(details, "status", "must be scheduled or cancelled");
    f->organizer = bl_http_request_query(http, "organizer");
    const char *names[2] = {"from", "to"};
    int64_t ms[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        const char *v = bl_http_request_query(http, names[i]);
        if (!v)
            continue;
        if (bl_api_parse_day_or_time(v, i == 1, &ms[i]) != 0) {
            bl_att_detail(details, names[i], "must be a date (YYYY-MM-DD) or an RFC 3339 datetime");
            continue;
        }
        snprintf(i == 0 ? f->from : f->to, sizeof f->from, "%" PRId64, ms[i]);
        *(i == 0 ? &f->has_from : &f->has_to) = true;
    }
    if (f->has_from && f->has_to && ms[1] < ms[0])
        bl_att_detail(details, "to", "must not be before from");
    const char *search = bl_http_request_query(http, "search");
    if (search && *search) {
        if (strlen(search) > TITLE_MAX || bl_api_like_pattern(search, f->pattern, sizeof f->pattern) != 0)
            bl_att_detail(details, "search", "too long");
        else
            f->has_pattern = true;
    }
}

/* from / to: events that end after from and start before to (overlapping
 * the window); search: title, description or location; organizer: the
 * organizer's e-mail (any case). Ordered by start. */
static int list_events(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    json_t *details = NULL;
    long page, limit;
    list_filters f;
    bl_att_page(req->http, &page, &limit, &details);
    read_filters(req->http, &f, &details);
    if (details)
        return bl_att_invalid(req, resp, details);
    char limit_text[24], offset_text[24], page_text[24];
    snprintf(limit_text, sizeof limit_text, "%ld", limit);
    snprintf(offset_text, sizeof offset_text, "%ld", (page - 1) * limit);
    snprintf(page_text, sizeof page_text, "%ld", page);
    const char *p[] = {req->auth->org_id, f.type, f.status, f.has_from ? f.from : NULL, f.has_to ? f.to : NULL,
                       f.has_pattern ? f.pattern : NULL, f.organizer, limit_text, offset_text, page_text};
    bl_err err = {0};
    json_t *list = bl_api_query_json(req->server,
        "WITH f AS (SELECT * FROM attendance_events WHERE organization_id = $1"
        " AND ($2::text IS NULL OR event_type = $2) AND ($3::text IS NULL OR status = $3)"
        " AND ($4::bigint IS NULL OR ends_at > to_timestamp($4::bigint / 1000.0))"
        " AND ($5::bigint IS NULL OR starts_at <= to_timestamp($5::bigint / 1000.0))"
        " AND ($6::text IS NULL OR title ILIKE $6 OR description ILIKE $6 OR location ILIKE $6)"
        " AND ($7::text IS NULL OR lower(organizer->>'email') = lower($7))),"
        " p AS (SELECT * FROM f ORDER BY starts_at, event_id LIMIT $8::bigint OFFSET $9::bigint)"
        " SELECT json_build_object('data', COALESCE((SELECT json_agg(" EVENT_JSON " ORDER BY starts_at, event_id)"
        " FROM p), '[]'::json), 'meta', json_build_object('page', $10::bigint, 'limit', $8::bigint, 'total',"
        " (SELECT count(*) FROM f), 'totalPages', (SELECT (count(*) + $8::bigint - 1) / $8::bigint FROM f)))::text",
        10, p, &err);
    if (!list)
        return -1;
    json_t *data = json_incref(json_object_get(list, "data")), *meta = json_incref(json_object_get(list, "meta"));
    json_decref(list);
    return bl_att_answer(resp, 200, data, meta);
}

static const bl_api_route routes[] = {
    {"GET", "/events", BL_API_BY_METHOD, list_events},
    {"POST", "/events", BL_API_BY_METHOD, create_event},
    {"GET", "/events/:id", BL_API_BY_METHOD, get_event},
    {"PUT", "/events/:id", BL_API_BY_METHOD, update_event},
    {"DELETE", "/events/:id", BL_API_BY_METHOD, cancel_event},
};

int bl_api_routes_att_events(bl_api_server *s, bl_err *err)
{
    bl_api_commands *commands = bl_api_server_commands(s, err);
    if (!commands)
        return -1;
    return bl_api_server_surface_routes(s, BL_API_SURFACE_ATTENDANCE, routes, sizeof routes / sizeof routes[0],
                                        commands, err);
}
