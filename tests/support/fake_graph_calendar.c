/* The state side of the fake Microsoft Graph calendar (fake_graph.c): every
 * change numbered, delta queries over it, a person's own edits, events get,
 * and the online meetings the events' Teams meetings are.
 *
 * GET /me/calendarView/delta (and /me/calendars/{id}/calendarView/delta):
 * the first request needs startDateTime and endDateTime (ISO 8601) and
 * lists the events of that window as they are, page by page
 * (Prefer: odata.maxpagesize, else graph_page_size); each page but the
 * last carries an @odata.nextLink, the last an @odata.deltaLink. A request
 * with $skiptoken or $deltatoken takes no other parameter (the token holds
 * the window), as the reference says; the delta round returns what changed
 * since, deleted events as {"id", "@removed": {"reason": "deleted"}}. A
 * token older than bl_fake_saas_expire_tokens answers 410
 * SyncStateNotFound. $filter, $orderby, $search and $expand are refused
 * (calendarView delta does not support them).
 * GET /me/onlineMeetings?$filter=JoinWebUrl eq '<url>' and
 * PATCH /me/onlineMeetings/{id} (recordAutomatically, allowTranscription
 * booleans; lobbyBypassSettings.scope one of the documented values). */
#include "tests/support/fake_saas.h"

#include "core/clock.h"
#include "core/time_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bl_fake_graph_touch(bl_fake_saas *f, const char *calendar, json_t *ev)
{
    const char *id = json_string_value(json_object_get(ev, "id"));
    const char *cal = calendar ? calendar
                               : json_string_value(json_object_get(json_object_get(f->gcal_meta, id), "calendar"));
    char cal_copy[256];
    snprintf(cal_copy, sizeof cal_copy, "%s", cal ? cal : "primary");
    long seq = ++f->gcal_seq;
    char ck[40], etag[48], now[40];
    snprintf(ck, sizeof ck, "DwAAABYAAAA%ld", seq);
    snprintf(etag, sizeof etag, "W/\"%s\"", ck);
    bl_rfc3339_format_millis(bl_clock_wall_ms(), now, sizeof now);
    json_object_set_new(ev, "changeKey", json_string(ck));
    json_object_set_new(ev, "@odata.etag", json_string(etag));
    json_object_set_new(ev, "lastModifiedDateTime", json_string(now));
    if (!json_object_get(ev, "createdDateTime"))
        json_object_set_new(ev, "createdDateTime", json_string(now));
    json_object_set_new(f->gcal_meta, id, json_pack("{s:s, s:I}", "calendar", cal_copy, "seq", (json_int_t)seq));
}

void bl_fake_graph_tombstone(bl_fake_saas *f, const char *id)
{
    json_t *m = json_object_get(f->gcal_meta, id);
    if (m) {
        json_object_set_new(m, "seq", json_integer(++f->gcal_seq));
        json_object_set_new(m, "removed", json_true());
    }
    json_object_del(f->objects, id);
}

static void answer_error(bl_http_response *resp, int status, const char *code, const char *m)
{
    json_t *b = bl_fake_graph_error(status, m);
    json_object_set_new(json_object_get(b, "error"), "code", json_string(code));
    bl_http_response_json(resp, status, b);
    json_decref(b);
}

static int64_t instant(const char *text)
{
    int64_t ms;
    if (!text)
        return -1;
    char buf[64];
    size_t n = strlen(text);
    int offset = n > 19 && (strchr(text + 19, 'Z') || strchr(text + 19, '+') || strchr(text + 19, '-'));
    snprintf(buf, sizeof buf, "%s%s", text, offset ? "" : "Z");
    return bl_rfc3339_parse_millis(buf, &ms) == 0 ? ms : -1;
}

/* Whether ev overlaps [from, to). */
static int in_window(const json_t *ev, int64_t from, int64_t to)
{
    int64_t s = instant(json_string_value(json_object_get(json_object_get(ev, "start"), "dateTime")));
    int64_t e = instant(json_string_value(json_object_get(json_object_get(ev, "end"), "dateTime")));
    return s >= 0 && e >= 0 && s < to && e > from;
}

static long page_size(bl_fake_saas *f, const bl_http_request *req)
{
    const char *prefer = bl_http_request_header(req, "Prefer");
    const char *max = prefer ? strstr(prefer, "odata.maxpagesize=") : NULL;
    long n = max ? atol(max + 18) : f->graph_page_size > 0 ? f->graph_page_size : 10;
    return n > 0 ? n : 10;
}

/* Tokens: s.<since>.<snapshot>.<after>.<from>.<to> (a page of a round),
 * d.<snapshot>.<from>.<to> (the next round); since -1 = the first round. */
static int events_delta(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    if (bl_fake_saas_begin(f, req, resp))
        goto done;
    f->graph_deltas++;
    const char *calendar = bl_http_request_param(req, "calendar") ?: "primary";
    const char *skip = bl_http_request_query(req, "$skiptoken");
    const char *delta = bl_http_request_query(req, "$deltatoken");
    const char *start = bl_http_request_query(req, "startDateTime");
    const char *end = bl_http_request_query(req, "endDateTime");
    static const char *const unsupported[] = {"$filter", "$orderby", "$search", "$expand", "$top", NULL};
    for (size_t i = 0; unsupported[i]; i++)
        if (bl_http_request_query(req, unsupported[i])) {
            bl_fake_saas_refuse(f, resp, "calendarView delta does not support $filter, $orderby, $search, $expand"
                                         " or $top");
            goto done;
        }
    long since = -1, snapshot = f->gcal_seq, after = 0;
    long long from = 0, to = 0;
    if (skip || delta) {
        if (start || end || (skip && delta)) {
            bl_fake_saas_refuse(f, resp, "a state token is used alone: it holds the window");
            goto done;
        }
        if (skip ? sscanf(skip, "s.%ld.%ld.%ld.%lld.%lld", &since, &snapshot, &after, &from, &to) != 5
                 : sscanf(delta, "d.%ld.%lld.%lld", &since, &from, &to) != 3) {
            bl_fake_saas_refuse(f, resp, "Invalid state token");
            goto done;
        }
        if (since >= 0 && since < f->gcal_token_floor) {
            answer_error(resp, 410, "SyncStateNotFound", "The sync state generation is not found.");
            goto done;
        }
    } else {
        from = instant(start);
        to = instant(end);
        if (from < 0 || to <= from) {
            bl_fake_saas_refuse(f, resp, "startDateTime and endDateTime (ISO 8601) are required");
            goto done;
        }
    }
    size_t n = json_object_size(f->gcal_meta), k = 0;
    bl_fake_change *all = calloc(n ? n : 1, sizeof *all);
    const char *id;
    json_t *m;
    json_object_foreach(f->gcal_meta, id, m) {
        long seq = (long)json_integer_value(json_object_get(m, "seq"));
        int removed = json_is_true(json_object_get(m, "removed"));
        json_t *ev = json_object_get(f->objects, id);
        if (strcmp(json_string_value(json_object_get(m, "calendar")) ?: "", calendar) != 0 || seq <= since ||
            seq > snapshot || seq <= after || (since < 0 && removed) || (!removed && !in_window(ev, from, to)))
            continue;
        all[k++] = (bl_fake_change){seq, id};
    }
    qsort(all, k, sizeof *all, bl_fake_change_by_seq);
    long max = page_size(f, req);
    json_t *value = json_array();
    for (size_t i = 0; i < k && (long)i < max; i++) {
        json_t *ev = json_object_get(f->objects, all[i].id);
        json_array_append_new(value, ev ? json_deep_copy(ev)
                                        : json_pack("{s:s, s:s, s:{s:s}}", "@odata.type", "#microsoft.graph.event",
                                                    "id", all[i].id, "@removed", "reason", "deleted"));
    }
    json_t *body = json_pack("{s:s, s:o}", "@odata.context",
                             "https://graph.microsoft.com/v1.0/$metadata#Collection(event)", "value", value);
    char link[512];
    const char *path = bl_http_request_path(req);
    if ((long)k > max)
        snprintf(link, sizeof link, "%s%s?$skiptoken=s.%ld.%ld.%ld.%lld.%lld", f->base_url, path, since, snapshot,
                 all[max - 1].seq, from, to);
    else
        snprintf(link, sizeof link, "%s%s?$deltatoken=d.%ld.%lld.%lld", f->base_url, path, snapshot, from, to);
    json_object_set_new(body, (long)k > max ? "@odata.nextLink" : "@odata.deltaLink", json_string(link));
    free(all);
    bl_http_response_json(resp, 200, body);
    json_decref(body);
done:
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int event_get(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    json_t *ev = json_object_get(f->objects, bl_http_request_param(req, "event"));
    if (!bl_fake_saas_begin(f, req, resp)) {
        if (!ev)
            answer_error(resp, 404, "ErrorItemNotFound", "The specified object was not found in the store.");
        else
            bl_http_response_json(resp, 200, ev);
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int meetings_find(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    if (bl_fake_saas_begin(f, req, resp))
        goto done;
    const char *filter = bl_http_request_query(req, "$filter");
    char url[512];
    size_t n = filter ? strlen(filter) : 0;
    if (!filter || strncmp(filter, "JoinWebUrl eq '", 15) != 0 || n < 17 || filter[n - 1] != '\'' ||
        n - 16 >= sizeof url) {
        bl_fake_saas_refuse(f, resp, "onlineMeetings needs $filter=JoinWebUrl eq '<url>'");
        goto done;
    }
    snprintf(url, sizeof url, "%.*s", (int)(n - 16), filter + 15);
    json_t *value = json_array();
    const char *id;
    json_t *m;
    json_object_foreach(f->graph_meetings, id, m)
        if (strcmp(json_string_value(json_object_get(m, "joinWebUrl")) ?: "", url) == 0)
            json_array_append(value, m);
    json_t *body = json_pack("{s:o}", "value", value);
    bl_http_response_json(resp, 200, body);
    json_decref(body);
done:
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int meeting_update(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    static const char *const scopes[] = {"organization", "organizer", "invited", "organizationAndFederated",
                                         "everyone", NULL};
    pthread_mutex_lock(&f->lock);
    json_t *m = json_object_get(f->graph_meetings, bl_http_request_param(req, "meeting"));
    if (bl_fake_saas_begin(f, req, resp))
        goto done;
    const json_t *b = f->last_body, *v;
    const char *scope = json_string_value(json_object_get(json_object_get(b, "lobbyBypassSettings"), "scope"));
    int scope_ok = !json_object_get(b, "lobbyBypassSettings");
    for (size_t i = 0; scope && scopes[i]; i++)
        scope_ok |= strcmp(scope, scopes[i]) == 0;
    if (!bl_fake_saas_content_type_is(req, "application/json") || !json_is_object(b) ||
        ((v = json_object_get(b, "recordAutomatically")) && !json_is_boolean(v)) ||
        ((v = json_object_get(b, "allowTranscription")) && !json_is_boolean(v)) || !scope_ok) {
        bl_fake_saas_refuse(f, resp, "onlineMeeting: recordAutomatically and allowTranscription are booleans,"
                                     " lobbyBypassSettings.scope a lobbyBypassScope");
    } else if (!m) {
        answer_error(resp, 404, "NotFound", "The meeting was not found.");
    } else {
        json_object_update(m, (json_t *)b);
        bl_http_response_json(resp, 200, m);
    }
done:
    pthread_mutex_unlock(&f->lock);
    return 0;
}

int bl_fake_graph_put(bl_fake_saas *f, const char *calendar, const json_t *ev)
{
    const char *id = json_string_value(json_object_get(ev, "id"));
    if (!id)
        return -1;
    pthread_mutex_lock(&f->lock);
    json_t *cur = json_object_get(f->objects, id);
    if (!cur) {
        cur = json_pack("{s:s, s:b, s:{s:{s:s, s:s}}}", "id", id, "isCancelled", 0, "organizer", "emailAddress",
                        "address", "someone@contoso.example", "name", "Someone");
        json_object_set_new(f->objects, id, cur);
    }
    json_object_update(cur, (json_t *)ev);
    bl_fake_graph_touch(f, calendar, cur);
    pthread_mutex_unlock(&f->lock);
    return 0;
}

int bl_fake_graph_remove(bl_fake_saas *f, const char *id)
{
    pthread_mutex_lock(&f->lock);
    int there = json_object_get(f->objects, id) != NULL;
    if (there)
        bl_fake_graph_tombstone(f, id);
    pthread_mutex_unlock(&f->lock);
    return there ? 0 : -1;
}

size_t bl_fake_graph_live(bl_fake_saas *f, const char *calendar)
{
    pthread_mutex_lock(&f->lock);
    size_t n = 0;
    const char *id;
    json_t *m;
    json_object_foreach(f->gcal_meta, id, m)
        if (!json_is_true(json_object_get(m, "removed")) && json_object_get(f->objects, id) &&
            strcmp(json_string_value(json_object_get(m, "calendar")) ?: "", calendar) == 0)
            n++;
    pthread_mutex_unlock(&f->lock);
    return n;
}

json_t *bl_fake_graph_meeting_of(bl_fake_saas *f, const char *event_id)
{
    pthread_mutex_lock(&f->lock);
    const char *url = json_string_value(
        json_object_get(json_object_get(json_object_get(f->objects, event_id), "onlineMeeting"), "joinUrl"));
    json_t *found = NULL, *m;
    const char *id;
    json_object_foreach(f->graph_meetings, id, m)
        if (url && strcmp(json_string_value(json_object_get(m, "joinWebUrl")) ?: "", url) == 0)
            found = json_deep_copy(m);
    pthread_mutex_unlock(&f->lock);
    return found;
}

int bl_fake_graph_calendar_routes(bl_fake_saas *f, bl_err *err)
{
    if (bl_http_server_route(f->server, "GET", "/me/calendarView/delta", events_delta, f, err) != 0 ||
        bl_http_server_route(f->server, "GET", "/me/calendars/:calendar/calendarView/delta", events_delta, f,
                             err) != 0 ||
        bl_http_server_route(f->server, "GET", "/me/events/:event", event_get, f, err) != 0 ||
        bl_http_server_route(f->server, "GET", "/me/onlineMeetings", meetings_find, f, err) != 0 ||
        bl_http_server_route(f->server, "PATCH", "/me/onlineMeetings/:meeting", meeting_update, f, err) != 0)
        return -1;
    return 0;
}
