/* A fake Google Calendar API v3 holding state: calendars with events,
 * events insert (client ids, 409 on a duplicate), get, patch (null clears a
 * field) and delete (204; 410 once deleted), each change numbered; events.list
 * with paging (maxResults, nextPageToken) and incremental sync (syncToken /
 * nextSyncToken on the last page; deleted events included only in an
 * incremental list; 410 fullSyncRequired on an expired token; 400 when a
 * syncToken comes with timeMin, timeMax, updatedMin, orderBy, q, iCalUID or
 * showDeleted=false, as the reference says); bearer auth; throttling with
 * the queued failures of fake_saas.c (429 / 403 rateLimitExceeded). */
#include "tests/support/fake_saas.h"

#include "core/clock.h"
#include "core/time_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *bl_fake_google_error(int status, const char *message)
{
    int rate403 = status == 403 && message && strstr(message, "Rate Limit Exceeded");
    const char *reason = status == 401   ? "authError"
                         : status == 429 || rate403 ? "rateLimitExceeded"
                         : status == 403 ? "forbidden"
                         : status == 404 ? "notFound"
                         : status == 409 ? "duplicate"
                         : status == 410 ? "deleted"
                                         : "invalid";
    const char *st = status == 401   ? "UNAUTHENTICATED"
                     : status == 429 ? "RESOURCE_EXHAUSTED"
                     : status == 403 ? "PERMISSION_DENIED"
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

/* A new change of ev (in calendar): number, etag, updated. Lock held. */
static void touch(bl_fake_saas *f, const char *calendar, json_t *ev)
{
    const char *id = json_string_value(json_object_get(ev, "id"));
    long seq = ++f->gcal_seq;
    char etag[40], updated[40];
    snprintf(etag, sizeof etag, "\"%ld\"", seq);
    bl_rfc3339_format_millis(bl_clock_wall_ms(), updated, sizeof updated);
    json_object_set_new(ev, "etag", json_string(etag));
    json_object_set_new(ev, "updated", json_string(updated));
    json_object_set_new(ev, "sequence", json_integer(json_integer_value(json_object_get(ev, "sequence")) + 1));
    json_object_set_new(f->gcal_meta, id, json_pack("{s:s, s:I}", "calendar", calendar, "seq", (json_int_t)seq));
}

/* Holds the request numbered gcal_hold_at until released (lock held). */
static int held(bl_fake_saas *f, bl_http_response *resp)
{
    if (f->gcal_hold_at <= 0 || f->requests != f->gcal_hold_at)
        return 0;
    f->gcal_held = 1;
    while (f->gcal_hold_at > 0)
        pthread_cond_wait(&f->gcal_cond, &f->lock);
    f->gcal_held = 0;
    answer_error(resp, 503, "Backend Error");
    return 1;
}

static int event_insert(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    if (!bl_fake_saas_begin(f, req, resp) && !held(f, resp) && checks(f, req, resp, 1) == 0) {
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
            touch(f, bl_http_request_param(req, "calendar"), ev);
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
    if (!bl_fake_saas_begin(f, req, resp) && !held(f, resp) && checks(f, req, resp, 0) == 0) {
        if (!ev) {
            answer_error(resp, 404, "Not Found");
        } else {
            const char *k;
            json_t *v;
            json_object_foreach(f->last_body, k, v) {
                if (json_is_null(v))
                    json_object_del(ev, k);
                else
                    json_object_set(ev, k, v);
            }
            touch(f, bl_http_request_param(req, "calendar"), ev);
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
    if (!bl_fake_saas_begin(f, req, resp) && !held(f, resp)) {
        if (!ev) {
            answer_error(resp, 404, "Not Found");
        } else if (strcmp(json_string_value(json_object_get(ev, "status")) ?: "", "cancelled") == 0) {
            answer_error(resp, 410, "Resource has been deleted");
        } else {
            json_object_set_new(ev, "status", json_string("cancelled"));
            touch(f, bl_http_request_param(req, "calendar"), ev);
            bl_http_response_status(resp, 204);
        }
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int event_get(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    json_t *ev = json_object_get(f->objects, bl_http_request_param(req, "event"));
    if (!bl_fake_saas_begin(f, req, resp) && !held(f, resp)) {
        if (!ev)
            answer_error(resp, 404, "Not Found");
        else
            answer_event(resp, 200, ev);
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static void answer_gone(bl_http_response *resp)
{
    const char *m = "Sync token is no longer valid, a full sync is required.";
    json_t *b = json_pack("{s:{s:[{s:s, s:s, s:s}], s:i, s:s}}", "error", "errors", "domain", "calendar", "reason",
                          "fullSyncRequired", "message", m, "code", 410, "message", m);
    bl_http_response_json(resp, 410, b);
    json_decref(b);
}

/* events.list: since < 0 is a full listing (no deleted events). Page
 * tokens carry "since.snapshot.after" so a listing reads one snapshot. */
static int events_list(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    if (bl_fake_saas_begin(f, req, resp) || held(f, resp))
        goto done;
    f->gcal_lists++;
    const char *calendar = bl_http_request_param(req, "calendar");
    const char *sync = bl_http_request_query(req, "syncToken");
    const char *page = bl_http_request_query(req, "pageToken");
    const char *max_text = bl_http_request_query(req, "maxResults");
    const char *show_deleted = bl_http_request_query(req, "showDeleted");
    static const char *const restricted[] = {"timeMin", "timeMax", "updatedMin", "orderBy", "q", "iCalUID", NULL};
    if (sync) {
        for (size_t i = 0; restricted[i]; i++)
            if (bl_http_request_query(req, restricted[i])) {
                bl_fake_saas_refuse(f, resp, "Sync token cannot be used with other request restrictions.");
                goto done;
            }
        if (show_deleted && strcmp(show_deleted, "false") == 0) {
            bl_fake_saas_refuse(f, resp, "Sync token cannot be used with showDeleted=false.");
            goto done;
        }
    }
    long max = max_text ? atol(max_text) : 250;
    if (max < 1 || max > 2500) {
        bl_fake_saas_refuse(f, resp, "Invalid maxResults value.");
        goto done;
    }
    long since = -1, snapshot = f->gcal_seq, after = 0;
    if (sync) {
        if (strncmp(sync, "st.", 3) != 0) {
            bl_fake_saas_refuse(f, resp, "Invalid sync token value.");
            goto done;
        }
        since = atol(sync + 3);
        if (since < f->gcal_token_floor) {
            answer_gone(resp);
            goto done;
        }
    }
    if (page) {
        long ps, pn, pa;
        if (sscanf(page, "pt.%ld.%ld.%ld", &ps, &pn, &pa) != 3 || ps != since) {
            bl_fake_saas_refuse(f, resp, "Invalid page token value (or not the listing's syncToken).");
            goto done;
        }
        snapshot = pn;
        after = pa;
    }
    size_t n = json_object_size(f->gcal_meta), k = 0;
    bl_fake_change *all = calloc(n ? n : 1, sizeof *all);
    const char *id;
    json_t *m;
    json_object_foreach(f->gcal_meta, id, m) {
        long seq = (long)json_integer_value(json_object_get(m, "seq"));
        json_t *ev = json_object_get(f->objects, id);
        int cancelled = strcmp(json_string_value(json_object_get(ev, "status")) ?: "", "cancelled") == 0;
        if (strcmp(json_string_value(json_object_get(m, "calendar")) ?: "", calendar) != 0 || seq <= since ||
            seq > snapshot || seq <= after || (since < 0 && cancelled))
            continue;
        all[k++] = (bl_fake_change){seq, id};
    }
    qsort(all, k, sizeof *all, bl_fake_change_by_seq);
    json_t *items = json_array();
    for (size_t i = 0; i < k && (long)i < max; i++)
        json_array_append(items, json_object_get(f->objects, all[i].id));
    json_t *body = json_pack("{s:s, s:s, s:s, s:o}", "kind", "calendar#events", "summary", calendar, "timeZone",
                             "UTC", "items", items);
    char tok[96];
    if ((long)k > max) {
        snprintf(tok, sizeof tok, "pt.%ld.%ld.%ld", since, snapshot, all[max - 1].seq);
        json_object_set_new(body, "nextPageToken", json_string(tok));
    } else {
        snprintf(tok, sizeof tok, "st.%ld", snapshot);
        json_object_set_new(body, "nextSyncToken", json_string(tok));
    }
    free(all);
    bl_http_response_json(resp, 200, body);
    json_decref(body);
done:
    pthread_mutex_unlock(&f->lock);
    return 0;
}

int bl_fake_google_put(bl_fake_saas *f, const char *calendar, const json_t *ev)
{
    const char *id = json_string_value(json_object_get(ev, "id"));
    if (!id)
        return -1;
    pthread_mutex_lock(&f->lock);
    json_t *cur = json_object_get(f->objects, id);
    if (!cur) {
        cur = json_pack("{s:s, s:s, s:s}", "kind", "calendar#event", "status", "confirmed", "id", id);
        json_object_set_new(f->objects, id, cur);
    }
    json_object_update(cur, (json_t *)ev);
    touch(f, calendar, cur);
    pthread_mutex_unlock(&f->lock);
    return 0;
}

int bl_fake_google_cancel(bl_fake_saas *f, const char *id)
{
    pthread_mutex_lock(&f->lock);
    json_t *cur = json_object_get(f->objects, id);
    json_t *m = json_object_get(f->gcal_meta, id);
    if (cur && m) {
        char calendar[256];
        snprintf(calendar, sizeof calendar, "%s", json_string_value(json_object_get(m, "calendar")));
        json_object_set_new(cur, "status", json_string("cancelled"));
        touch(f, calendar, cur);
    }
    pthread_mutex_unlock(&f->lock);
    return cur && m ? 0 : -1;
}

void bl_fake_google_expire_tokens(bl_fake_saas *f)
{
    bl_fake_saas_expire_tokens(f);
}

json_t *bl_fake_google_event(bl_fake_saas *f, const char *id)
{
    return bl_fake_saas_object(f, id);
}

size_t bl_fake_google_live(bl_fake_saas *f, const char *calendar)
{
    pthread_mutex_lock(&f->lock);
    size_t n = 0;
    const char *id;
    json_t *m;
    json_object_foreach(f->gcal_meta, id, m) {
        json_t *ev = json_object_get(f->objects, id);
        if (strcmp(json_string_value(json_object_get(m, "calendar")) ?: "", calendar) == 0 &&
            strcmp(json_string_value(json_object_get(ev, "status")) ?: "", "cancelled") != 0)
            n++;
    }
    pthread_mutex_unlock(&f->lock);
    return n;
}

void bl_fake_google_hold(bl_fake_saas *f, int n)
{
    pthread_mutex_lock(&f->lock);
    f->gcal_hold_at = n;
    pthread_mutex_unlock(&f->lock);
}

int bl_fake_google_holding(bl_fake_saas *f)
{
    pthread_mutex_lock(&f->lock);
    int h = f->gcal_held;
    pthread_mutex_unlock(&f->lock);
    return h;
}

void bl_fake_google_release(bl_fake_saas *f)
{
    pthread_mutex_lock(&f->lock);
    f->gcal_hold_at = 0;
    pthread_cond_broadcast(&f->gcal_cond);
    pthread_mutex_unlock(&f->lock);
}

int bl_fake_google_calendar_routes(bl_fake_saas *f, bl_err *err)
{
    if (bl_http_server_route(f->server, "POST", "/calendars/:calendar/events", event_insert, f, err) != 0 ||
        bl_http_server_route(f->server, "GET", "/calendars/:calendar/events", events_list, f, err) != 0 ||
        bl_http_server_route(f->server, "GET", "/calendars/:calendar/events/:event", event_get, f, err) != 0 ||
        bl_http_server_route(f->server, "PATCH", "/calendars/:calendar/events/:event", event_patch, f, err) != 0 ||
        bl_http_server_route(f->server, "DELETE", "/calendars/:calendar/events/:event", event_delete, f, err) != 0)
        return -1;
    return 0;
}
