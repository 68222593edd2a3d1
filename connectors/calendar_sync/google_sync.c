/* Google Calendar API v3 for the calendar sync (google_sync.h). */
#include "connectors/calendar_sync/google_sync.h"

#include "connectors/calendar_sync/provider_http.h"

#include "core/time_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BASE "https://www.googleapis.com/calendar/v3"

typedef struct google {
    bl_calsync_http h; /* h.base: the API base */
    int page_size;
} google;

/* Google's error reason (errors[0].reason) and message. */
static void error_of(const bl_http_sync_result *r, char *reason, size_t rcap, char *msg, size_t mcap)
{
    json_t *b = r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
    json_t *e = json_object_get(b, "error");
    const char *re = json_string_value(json_object_get(json_array_get(json_object_get(e, "errors"), 0), "reason"));
    const char *m = json_string_value(json_object_get(e, "message"));
    snprintf(reason, rcap, "%s", re ? re : "");
    snprintf(msg, mcap, "%s", m ? m : "");
    json_decref(b);
}

static int rate_limited(const bl_http_sync_result *r, const char *reason)
{
    return r->status == 429 || (r->status == 403 && (strcmp(reason, "rateLimitExceeded") == 0 ||
                                                      strcmp(reason, "userRateLimitExceeded") == 0));
}

static int classify(const bl_http_sync_result *r, bool *again, char *msg, size_t cap)
{
    char reason[64];
    error_of(r, reason, sizeof reason, msg, cap);
    *again = rate_limited(r, reason) || r->status >= 500;
    return bl_calsync_status_code(r->status, rate_limited(r, reason),
                                  r->status == 403 && strcmp(reason, "quotaExceeded") == 0);
}

static json_t *call(google *g, const char *method, const char *url, const json_t *body, bl_err *err)
{
    return bl_calsync_http_call(&g->h, method, url, body, err);
}

static int64_t time_of(const json_t *t)
{
    const char *dt = json_string_value(json_object_get(t, "dateTime"));
    int64_t ms;
    return dt && bl_rfc3339_parse_millis(dt, &ms) == 0 ? ms : -1;
}

/* A Google Event resource as the interface's normalized item (new), or
 * NULL for items the sync does not copy (all-day events). */
static json_t *normalize(const json_t *ev)
{
    const char *id = json_string_value(json_object_get(ev, "id"));
    if (!id)
        return NULL;
    json_t *n = json_pack("{s:s, s:b}", "id", id, "cancelled",
                          strcmp(json_string_value(json_object_get(ev, "status")) ?: "", "cancelled") == 0);
    if (!n)
        return NULL;
    static const char *const copy[][2] = {{"etag", "version"},         {"summary", "title"},
                                          {"description", "description"}, {"location", "location"},
                                          {"colorId", "color_id"}};
    for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) {
        const char *v = json_string_value(json_object_get(ev, copy[i][0]));
        if (v)
            json_object_set_new(n, copy[i][1], json_string(v));
    }
    const json_t *start = json_object_get(ev, "start"), *end = json_object_get(ev, "end");
    int64_t s = time_of(start), e = time_of(end), updated;
    if (s >= 0)
        json_object_set_new(n, "starts_at", json_integer(s));
    if (e >= 0)
        json_object_set_new(n, "ends_at", json_integer(e));
    const char *tz = json_string_value(json_object_get(start, "timeZone"));
    json_object_set_new(n, "timezone", json_string(tz ? tz : "UTC"));
    const char *up = json_string_value(json_object_get(ev, "updated"));
    if (up && bl_rfc3339_parse_millis(up, &updated) == 0)
        json_object_set_new(n, "updated_at", json_integer(updated));
    const char *vis = json_string_value(json_object_get(ev, "visibility"));
    json_object_set_new(n, "private", json_boolean(vis && (!strcmp(vis, "private") || !strcmp(vis, "confidential"))));
    const json_t *org = json_object_get(ev, "organizer");
    if (json_string_value(json_object_get(org, "email")))
        json_object_set_new(n, "organizer", json_pack("{s:s, s:s?}", "email",
                                                      json_string_value(json_object_get(org, "email")), "name",
                                                      json_string_value(json_object_get(org, "displayName"))));
    json_t *people = json_array();
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(ev, "attendees"), i, a) {
        const char *email = json_string_value(json_object_get(a, "email"));
        if (email)
            json_array_append_new(people, json_pack("{s:s, s:s?}", "email", email, "name",
                                                    json_string_value(json_object_get(a, "displayName"))));
    }
    json_object_set_new(n, "attendees", people);
    json_t *mins = json_array();
    json_array_foreach(json_object_get(json_object_get(ev, "reminders"), "overrides"), i, a)
        if (json_is_integer(json_object_get(a, "minutes")))
            json_array_append(mins, json_object_get(a, "minutes"));
    json_object_set_new(n, "reminder_minutes", mins);
    const json_t *priv = json_object_get(json_object_get(ev, "extendedProperties"), "private");
    const char *be = json_string_value(json_object_get(priv, "buslineEventId"));
    const char *bi = json_string_value(json_object_get(priv, "buslineIntegrationId"));
    if (be)
        json_object_set_new(n, "busline_event_id", json_string(be));
    if (bi)
        json_object_set_new(n, "busline_integration_id", json_string(bi));
    if ((s < 0 || e < 0) && !json_is_true(json_object_get(n, "cancelled"))) {
        json_decref(n); /* all-day (date) events are not copied */
        return NULL;
    }
    return n;
}

static void time_field(json_t *body, const char *name, const json_t *item, const char *key)
{
    const json_t *v = json_object_get(item, key);
    if (!json_is_integer(v))
        return;
    char text[40];
    bl_rfc3339_format_millis(json_integer_value(v), text, sizeof text);
    const char *tz = json_string_value(json_object_get(item, "timezone"));
    json_object_set_new(body, name, json_pack("{s:s, s:s}", "dateTime", text, "timeZone", tz ? tz : "UTC"));
}

/* The Event resource of a normalized item (new). */
static json_t *event_body(const json_t *item, int insert)
{
    json_t *b = json_object();
    const char *id = json_string_value(json_object_get(item, "id"));
    if (insert && id)
        json_object_set_new(b, "id", json_string(id));
    static const char *const copy[][2] = {{"title", "summary"},         {"description", "description"},
                                          {"location", "location"},     {"color_id", "colorId"}};
    for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) {
        const json_t *v = json_object_get(item, copy[i][0]);
        if (json_is_string(v))
            json_object_set(b, copy[i][1], (json_t *)v);
        else if (!insert && json_is_null(v))
            json_object_set_new(b, copy[i][1], json_null());
    }
    time_field(b, "start", item, "starts_at");
    time_field(b, "end", item, "ends_at");
    json_object_set_new(b, "visibility",
                        json_string(json_is_true(json_object_get(item, "private")) ? "private" : "default"));
    const json_t *people = json_object_get(item, "attendees");
    if (json_is_array(people)) {
        json_t *list = json_array();
        size_t i;
        const json_t *a;
        json_array_foreach(people, i, a) json_array_append_new(
            list, json_pack("{s:s, s:s?}", "email", json_string_value(json_object_get(a, "email")) ?: "",
                            "displayName", json_string_value(json_object_get(a, "name"))));
        json_object_set_new(b, "attendees", list);
    }
    const json_t *mins = json_object_get(item, "reminder_minutes");
    if (json_is_array(mins)) {
        json_t *over = json_array();
        size_t i;
        const json_t *m;
        json_array_foreach(mins, i, m) if (i < 5)
            json_array_append_new(over, json_pack("{s:s, s:O}", "method", "popup", "minutes", m));
        json_object_set_new(b, "reminders", json_pack("{s:b, s:o}", "useDefault", 0, "overrides", over));
    }
    const char *be = json_string_value(json_object_get(item, "busline_event_id"));
    const char *bi = json_string_value(json_object_get(item, "busline_integration_id"));
    if (be && bi)
        json_object_set_new(b, "extendedProperties",
                            json_pack("{s:{s:s, s:s}}", "private", "buslineEventId", be, "buslineIntegrationId", bi));
    return b;
}

static int event_url(google *g, const char *calendar, const char *id, char *url, size_t cap, bl_err *err)
{
    char cal[600], ev[BL_CALSYNC_ID_MAX * 3];
    if (bl_calsync_url_escape(calendar, cal, sizeof cal) != 0 || (id && bl_calsync_url_escape(id, ev, sizeof ev) != 0))
        return bl_err_set(err, BL_EINVAL, "google: calendar or event id too long");
    int n = id ? snprintf(url, cap, "%s/calendars/%s/events/%s", g->h.base, cal, ev)
               : snprintf(url, cap, "%s/calendars/%s/events", g->h.base, cal);
    return n > 0 && (size_t)n < cap ? 0 : bl_err_set(err, BL_EINVAL, "google: URL too long");
}

static int google_list(void *self, const char *calendar, const char *cursor, const char *page_token,
                       bl_calsync_page *out, bl_err *err)
{
    google *g = self;
    memset(out, 0, sizeof *out);
    char url[8192], tok[BL_CALSYNC_CURSOR_MAX * 3];
    if (event_url(g, calendar, NULL, url, sizeof url, err) != 0)
        return -1;
    size_t n = strlen(url);
    /* singleEvents: recurring events arrive as their instances, each a
     * plain event the attendance domain can hold */
    n += (size_t)snprintf(url + n, sizeof url - n, "?maxResults=%d&singleEvents=true", g->page_size);
    if (cursor && *cursor) {
        if (bl_calsync_url_escape(cursor, tok, sizeof tok) != 0)
            return bl_err_set(err, BL_EINVAL, "google: sync token too long");
        n += (size_t)snprintf(url + n, sizeof url - n, "&syncToken=%s", tok);
    }
    if (page_token && *page_token) {
        if (bl_calsync_url_escape(page_token, tok, sizeof tok) != 0)
            return bl_err_set(err, BL_EINVAL, "google: page token too long");
        n += (size_t)snprintf(url + n, sizeof url - n, "&pageToken=%s", tok);
    }
    if (n >= sizeof url)
        return bl_err_set(err, BL_EINVAL, "google: URL too long");
    json_t *b = call(g, "GET", url, NULL, err);
    if (!b)
        return -1;
    out->items = json_array();
    size_t i;
    const json_t *ev;
    json_array_foreach(json_object_get(b, "items"), i, ev) {
        json_t *item = normalize(ev);
        if (item)
            json_array_append_new(out->items, item);
    }
    const char *np = json_string_value(json_object_get(b, "nextPageToken"));
    const char *ns = json_string_value(json_object_get(b, "nextSyncToken"));
    snprintf(out->next_page, sizeof out->next_page, "%s", np ? np : "");
    snprintf(out->next_cursor, sizeof out->next_cursor, "%s", ns ? ns : "");
    json_decref(b);
    if (!np && !ns) {
        bl_calsync_page_clear(out);
        return bl_err_set(err, BL_OAUTH_E_SYNC, "google: a last page without nextSyncToken");
    }
    return 0;
}

static int google_insert(void *self, const char *calendar, const json_t *item, char id_out[BL_CALSYNC_ID_MAX],
                         char version_out[BL_CALSYNC_VERSION_MAX], bl_err *err)
{
    google *g = self;
    char url[4096];
    if (event_url(g, calendar, NULL, url, sizeof url, err) != 0)
        return -1;
    json_t *body = event_body(item, 1);
    json_t *b = bl_calsync_http_write(&g->h, "POST", url, body, "etag", id_out, version_out, err);
    json_decref(body);
    int rc = b ? 0 : -1;
    json_decref(b);
    return rc;
}

static json_t *google_get(void *self, const char *calendar, const char *id, bl_err *err)
{
    google *g = self;
    char url[8192];
    if (event_url(g, calendar, id, url, sizeof url, err) != 0)
        return NULL;
    return bl_calsync_http_get_item(&g->h, url, normalize, err);
}

static int google_patch(void *self, const char *calendar, const char *id, const json_t *item,
                        char version_out[BL_CALSYNC_VERSION_MAX], bl_err *err)
{
    google *g = self;
    char url[8192];
    if (event_url(g, calendar, id, url, sizeof url, err) != 0)
        return -1;
    json_t *body = event_body(item, 0);
    json_t *b = bl_calsync_http_write(&g->h, "PATCH", url, body, "etag", NULL, version_out, err);
    json_decref(body);
    int rc = b ? 0 : -1;
    json_decref(b);
    return rc;
}

static int google_remove(void *self, const char *calendar, const char *id, bl_err *err)
{
    google *g = self;
    char url[8192];
    if (event_url(g, calendar, id, url, sizeof url, err) != 0)
        return -1;
    return bl_calsync_http_delete(&g->h, url, err);
}

static void google_free(void *self)
{
    free(self);
}

bl_calsync_provider *bl_calsync_google_new(const bl_calsync_google_opts *opts, bl_err *err)
{
    static const bl_calsync_provider table = {.name = "google_calendar", .list_page = google_list,
                                              .insert = google_insert, .get = google_get, .patch = google_patch,
                                              .remove = google_remove, .free = google_free};
    google *g = calloc(1, sizeof *g);
    if (g) {
        bl_calsync_http_init(&g->h, opts->store, opts->integration_id, "google", opts->base_url, DEFAULT_BASE,
                             opts->max_wait_ms, classify);
        g->page_size = opts->page_size > 0 ? opts->page_size : 40;
    }
    return bl_calsync_provider_new(&table, g, err);
}
