/* A fake Google Calendar API v3: events insert (client ids, 409 on a
 * duplicate), patch and delete (204; 410 once deleted), bearer auth. */
#include "tests/support/fake_saas.h"

#include <stdio.h>
#include <string.h>

json_t *bl_fake_google_error(int status, const char *message)
{
    const char *reason = status == 401   ? "authError"
                         : status == 429 ? "rateLimitExceeded"
                         : status == 404 ? "notFound"
                         : status == 409 ? "duplicate"
                         : status == 410 ? "deleted"
                                         : "invalid";
    const char *st = status == 401   ? "UNAUTHENTICATED"
                     : status == 429 ? "RESOURCE_EXHAUSTED"
                     : status == 404 ? "NOT_FOUND"
                     : status == 409 ? "ALREADY_EXISTS"
                                     : "INVALID_ARGUMENT";
    const char *m = message ? message
                    : status == 401 ? "Request had invalid authentication credentials. Expected OAuth 2 access "
                                      "token, login cookie or other valid authentication credential."
                                    : "Invalid request";
    json_t *e = json_pack("{s:i, s:s, s:[{s:s, s:s, s:s}], s:s}", "code", status, "message", m, "errors", "domain",
                          "global", "reason", reason, "message", m, "status", st);
    if (status == 401) {
        json_t *first = json_array_get(json_object_get(e, "errors"), 0);
        json_object_set_new(first, "location", json_string("Authorization"));
        json_object_set_new(first, "locationType", json_string("header"));
    }
    return json_pack("{s:o}", "error", e);
}

static int valid_event_id(const char *id)
{
    size_t n = strlen(id);
    if (n < 5 || n > 1024)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'v') || (*p >= '0' && *p <= '9')))
            return 0;
    return 1;
}

/* start/end: {"dateTime": RFC 3339 with an offset, or without one and a
 * timeZone}. */
static const char *time_problem(const json_t *t)
{
    const char *dt = json_string_value(json_object_get(t, "dateTime"));
    const char *tz = json_string_value(json_object_get(t, "timeZone"));
    if (!json_is_object(t) || !dt || strlen(dt) < 19 || dt[10] != 'T')
        return "start and end need a dateTime";
    int offset = strchr(dt + 19, 'Z') || strchr(dt + 19, '+') || strchr(dt + 19, '-');
    if (!offset && !tz)
        return "Missing time zone definition for start time.";
    return NULL;
}

static const char *event_problem(const json_t *b, int insert)
{
    if (!json_is_object(b))
        return "the body must be an Event resource";
    const json_t *v;
    if (insert && (!json_object_get(b, "start") || !json_object_get(b, "end")))
        return "Missing end time.";
    const char *why;
    if ((v = json_object_get(b, "start")) && (why = time_problem(v)))
        return why;
    if ((v = json_object_get(b, "end")) && (why = time_problem(v)))
        return why;
    if ((v = json_object_get(b, "id")) && (!json_is_string(v) || !valid_event_id(json_string_value(v))))
        return "Invalid resource id value.";
    if ((v = json_object_get(b, "summary")) && !json_is_string(v))
        return "summary must be a string";
    if ((v = json_object_get(b, "colorId")) && !json_is_string(v))
        return "colorId must be a string";
    size_t i;
    const json_t *a;
    if ((v = json_object_get(b, "attendees"))) {
        if (!json_is_array(v))
            return "attendees must be an array";
        json_array_foreach(v, i, a) if (!strchr(json_string_value(json_object_get(a, "email")) ?: "", '@'))
            return "Invalid attendee email.";
    }
    if ((v = json_object_get(b, "reminders"))) {
        const json_t *o = json_object_get(v, "overrides");
        if (!json_is_boolean(json_object_get(v, "useDefault")) || (o && !json_is_array(o)) ||
            json_array_size(o) > 5)
            return "Invalid reminders: useDefault boolean and at most 5 overrides";
        json_array_foreach(o, i, a) {
            const char *m = json_string_value(json_object_get(a, "method"));
            json_int_t min = json_integer_value(json_object_get(a, "minutes"));
            if (!m || (strcmp(m, "email") != 0 && strcmp(m, "popup") != 0) ||
                !json_is_integer(json_object_get(a, "minutes")) || min < 0 || min > 40320)
                return "Invalid reminder method or minutes";
        }
    }
    return NULL;
}

static int checks(bl_fake_saas *f, const bl_http_request *req, bl_http_response *resp, int insert)
{
    const char *why;
    if (!bl_fake_saas_content_type_is(req, "application/json"))
        return bl_fake_saas_refuse(f, resp, "Content-Type must be application/json"), -1;
    if ((why = event_problem(f->last_body, insert)))
        return bl_fake_saas_refuse(f, resp, why), -1;
    return 0;
}

static void answer_event(bl_http_response *resp, int status, const json_t *ev)
{
    bl_http_response_json(resp, status, ev);
}

static void answer_error(bl_http_response *resp, int status, const char *m)
{
    json_t *b = bl_fake_google_error(status, m);
    bl_http_response_json(resp, status, b);
    json_decref(b);
}

static int event_insert(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    if (!bl_fake_saas_begin(f, req, resp) && checks(f, req, resp, 1) == 0) {
        char id[64];
        const char *given = json_string_value(json_object_get(f->last_body, "id"));
        if (given)
            snprintf(id, sizeof id, "%s", given);
        else
            snprintf(id, sizeof id, "gen%ld", f->next_id++);
        if (json_object_get(f->objects, id)) {
            answer_error(resp, 409, "The requested identifier already exists.");
        } else {
            json_t *ev = json_deep_copy(f->last_body);
            json_object_set_new(ev, "kind", json_string("calendar#event"));
            json_object_set_new(ev, "id", json_string(id));
            json_object_set_new(ev, "status", json_string("confirmed"));
            json_object_set_new(ev, "htmlLink", json_string("https://www.google.com/calendar/event?eid=x"));
            json_object_set_new(f->objects, id, ev);
            f->creates++;
            answer_event(resp, 200, ev);
        }
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int event_patch(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    json_t *ev = json_object_get(f->objects, bl_http_request_param(req, "event"));
    if (!bl_fake_saas_begin(f, req, resp) && checks(f, req, resp, 0) == 0) {
        if (!ev) {
            answer_error(resp, 404, "Not Found");
        } else {
            json_object_update(ev, f->last_body);
            answer_event(resp, 200, ev);
        }
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int event_delete(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    json_t *ev = json_object_get(f->objects, bl_http_request_param(req, "event"));
    if (!bl_fake_saas_begin(f, req, resp)) {
        if (!ev)
            answer_error(resp, 404, "Not Found");
        else if (strcmp(json_string_value(json_object_get(ev, "status")) ?: "", "cancelled") == 0)
            answer_error(resp, 410, "Resource has been deleted");
        else
            json_object_set_new(ev, "status", json_string("cancelled")), bl_http_response_status(resp, 204);
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

int bl_fake_google_calendar_routes(bl_fake_saas *f, bl_err *err)
{
    if (bl_http_server_route(f->server, "POST", "/calendars/:calendar/events", event_insert, f, err) != 0 ||
        bl_http_server_route(f->server, "PATCH", "/calendars/:calendar/events/:event", event_patch, f, err) != 0 ||
        bl_http_server_route(f->server, "DELETE", "/calendars/:calendar/events/:event", event_delete, f, err) != 0)
        return -1;
    return 0;
}
