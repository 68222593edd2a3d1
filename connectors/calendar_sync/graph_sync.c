/* Microsoft Graph calendar for the calendar sync (graph_sync.h). */
#include "connectors/calendar_sync/graph_sync.h"

#include "connectors/calendar_sync/graph_zones.h"
#include "connectors/calendar_sync/provider_http.h"
#include "core/clock.h"
#include "core/time_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_BASE "https://graph.microsoft.com/v1.0"
#define DAY_MS INT64_C(86400000)
#define TXN_PREFIX "busline/"

typedef struct graph {
    bl_calsync_http h; /* h.base: the API base */
} graph;

/* Graph's error body {"error": {"code", "message"}}. */
static int classify(const bl_http_sync_result *r, bool *again, char *msg, size_t cap)
{
    json_t *b = r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
    json_t *e = json_object_get(b, "error");
    const char *code = json_string_value(json_object_get(e, "code")) ?: "";
    snprintf(msg, cap, "%s%s%s", code, code[0] ? ": " : "", json_string_value(json_object_get(e, "message")) ?: "");
    int quota = strcmp(code, "ErrorQuotaExceeded") == 0 || strcmp(code, "QuotaExceeded") == 0;
    json_decref(b);
    *again = r->status == 429 || r->status == 503 || r->status == 504 || r->status >= 500;
    return bl_calsync_status_code(r->status, r->status == 429, quota);
}

static json_t *call(graph *g, const char *method, const char *url, const json_t *body, bl_err *err)
{
    return bl_calsync_http_call(&g->h, method, url, body, err);
}

/* {base}/me (the primary calendar) or {base}/me/calendars/{id}, then tail. */
static int calendar_url(graph *g, const char *calendar, const char *tail, char *url, size_t cap, bl_err *err)
{
    char cal[800];
    int n;
    if (!calendar || !*calendar || strcmp(calendar, "primary") == 0)
        n = snprintf(url, cap, "%s/me%s", g->h.base, tail);
    else if (bl_calsync_url_escape(calendar, cal, sizeof cal) != 0)
        return bl_err_set(err, BL_EINVAL, "graph: calendar id too long");
    else
        n = snprintf(url, cap, "%s/me/calendars/%s%s", g->h.base, cal, tail);
    return n > 0 && (size_t)n < cap ? 0 : bl_err_set(err, BL_EINVAL, "graph: URL too long");
}

static int event_url(graph *g, const char *id, char *url, size_t cap, bl_err *err)
{
    char ev[BL_CALSYNC_ID_MAX * 3];
    if (bl_calsync_url_escape(id, ev, sizeof ev) != 0)
        return bl_err_set(err, BL_EINVAL, "graph: event id too long");
    int n = snprintf(url, cap, "%s/me/events/%s", g->h.base, ev);
    return n > 0 && (size_t)n < cap ? 0 : bl_err_set(err, BL_EINVAL, "graph: URL too long");
}

/* A dateTimeTimeZone in UTC (Graph's answer without Prefer: outlook.timezone). */
static int64_t time_of(const json_t *t)
{
    const char *dt = json_string_value(json_object_get(t, "dateTime"));
    const char *tz = json_string_value(json_object_get(t, "timeZone"));
    if (!dt || (tz && strcmp(tz, "UTC") != 0 && strcmp(tz, "Etc/UTC") != 0))
        return -1;
    char text[64];
    size_t n = strlen(dt);
    int offset = n > 19 && (strchr(dt + 19, 'Z') || strchr(dt + 19, '+') || strchr(dt + 19, '-'));
    if (snprintf(text, sizeof text, "%s%s", dt, offset ? "" : "Z") >= (int)sizeof text)
        return -1;
    int64_t ms;
    return bl_rfc3339_parse_millis(text, &ms) == 0 ? ms : -1;
}

static json_t *person_of(const json_t *who)
{
    const json_t *ea = json_object_get(who, "emailAddress");
    const char *email = json_string_value(json_object_get(ea, "address"));
    return email ? json_pack("{s:s, s:s?}", "email", email, "name", json_string_value(json_object_get(ea, "name")))
                 : NULL;
}

/* "busline/<integration>/<event>" back into the item's markers. */
static void markers_of(json_t *n, const char *txn)
{
    if (!txn || strncmp(txn, TXN_PREFIX, strlen(TXN_PREFIX)) != 0)
        return;
    const char *integration = txn + strlen(TXN_PREFIX), *slash = strchr(integration, '/');
    if (!slash || slash == integration || !slash[1])
        return;
    json_object_set_new(n, "busline_integration_id", json_stringn(integration, (size_t)(slash - integration)));
    json_object_set_new(n, "busline_event_id", json_string(slash + 1));
}

/* A Graph event (or an @removed entry) as the normalized item (new), or
 * NULL for what the sync does not copy (all-day events, no times). */
static json_t *normalize(const json_t *ev)
{
    const char *id = json_string_value(json_object_get(ev, "id"));
    if (!id)
        return NULL;
    if (json_object_get(ev, "@removed"))
        return json_pack("{s:s, s:s, s:b}", "id", id, "version", "removed", "cancelled", 1);
    json_t *n = json_pack("{s:s, s:b}", "id", id, "cancelled", json_is_true(json_object_get(ev, "isCancelled")));
    if (!n)
        return NULL;
    const char *ck = json_string_value(json_object_get(ev, "changeKey"));
    json_object_set_new(n, "version", json_string(ck ? ck : ""));
    const char *subject = json_string_value(json_object_get(ev, "subject"));
    if (subject)
        json_object_set_new(n, "title", json_string(subject));
    const char *content = json_string_value(json_object_get(json_object_get(ev, "body"), "content"));
    if (content && *content)
        json_object_set_new(n, "description", json_string(content));
    const char *where = json_string_value(json_object_get(json_object_get(ev, "location"), "displayName"));
    if (where && *where)
        json_object_set_new(n, "location", json_string(where));
    int64_t s = time_of(json_object_get(ev, "start")), e = time_of(json_object_get(ev, "end")), updated;
    if (s >= 0)
        json_object_set_new(n, "starts_at", json_integer(s));
    if (e >= 0)
        json_object_set_new(n, "ends_at", json_integer(e));
    const char *tz = json_string_value(json_object_get(ev, "originalStartTimeZone"));
    json_object_set_new(n, "timezone", json_string(bl_calsync_iana_zone(tz)));
    const char *up = json_string_value(json_object_get(ev, "lastModifiedDateTime"));
    if (up && bl_rfc3339_parse_millis(up, &updated) == 0)
        json_object_set_new(n, "updated_at", json_integer(updated));
    const char *sens = json_string_value(json_object_get(ev, "sensitivity"));
    json_object_set_new(n, "private", json_boolean(sens && (!strcmp(sens, "private") || !strcmp(sens, "confidential"))));
    json_t *org = person_of(json_object_get(ev, "organizer"));
    if (org)
        json_object_set_new(n, "organizer", org);
    json_t *people = json_array();
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(ev, "attendees"), i, a) {
        json_t *p = person_of(a);
        if (p)
            json_array_append_new(people, p);
    }
    json_object_set_new(n, "attendees", people);
    json_t *mins = json_array();
    const json_t *before = json_object_get(ev, "reminderMinutesBeforeStart");
    if (json_is_true(json_object_get(ev, "isReminderOn")) && json_is_integer(before))
        json_array_append(mins, (json_t *)before);
    json_object_set_new(n, "reminder_minutes", mins);
    markers_of(n, json_string_value(json_object_get(ev, "transactionId")));
    if (s < 0 || e < 0 || json_is_true(json_object_get(ev, "isAllDay"))) {
        if (!json_is_true(json_object_get(n, "cancelled"))) {
            json_decref(n);
            return NULL;
        }
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
    size_t n = strlen(text);
    if (n && text[n - 1] == 'Z')
        text[n - 1] = '\0'; /* Graph's dateTime carries no offset: the zone says it */
    json_object_set_new(body, name, json_pack("{s:s, s:s}", "dateTime", text, "timeZone", "UTC"));
}

/* Outlook's preset category of a color ("blue" -> "Blue category"), or the value as a name. */
static json_t *categories_of(const char *color)
{
    static const char *const presets[] = {"red", "orange", "yellow", "green", "blue", "purple"};
    char name[96];
    snprintf(name, sizeof name, "%s", color);
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcasecmp(color, presets[i]) == 0) {
            snprintf(name, sizeof name, "%c%s category", presets[i][0] - 'a' + 'A', presets[i] + 1);
            break;
        }
    return json_pack("[s]", name);
}

/* The Graph event body of a normalized item (new). */
static json_t *event_body(const json_t *item, int insert)
{
    json_t *b = json_object();
    const json_t *v;
    if ((v = json_object_get(item, "title")) && json_is_string(v))
        json_object_set(b, "subject", (json_t *)v);
    if ((v = json_object_get(item, "description")) && (json_is_string(v) || (!insert && json_is_null(v))))
        json_object_set_new(b, "body", json_pack("{s:s, s:s}", "contentType", "text", "content",
                                                 json_string_value(v) ?: ""));
    if ((v = json_object_get(item, "location")) && (json_is_string(v) || (!insert && json_is_null(v))))
        json_object_set_new(b, "location", json_pack("{s:s}", "displayName", json_string_value(v) ?: ""));
    time_field(b, "start", item, "starts_at");
    time_field(b, "end", item, "ends_at");
    json_object_set_new(b, "sensitivity",
                        json_string(json_is_true(json_object_get(item, "private")) ? "private" : "normal"));
    const json_t *people = json_object_get(item, "attendees");
    if (json_is_array(people)) {
        json_t *list = json_array();
        size_t i;
        const json_t *a;
        json_array_foreach(people, i, a) json_array_append_new(
            list, json_pack("{s:{s:s, s:s?}, s:s}", "emailAddress", "address",
                            json_string_value(json_object_get(a, "email")) ?: "", "name",
                            json_string_value(json_object_get(a, "name")), "type", "required"));
        json_object_set_new(b, "attendees", list);
    }
    const json_t *first = json_array_get(json_object_get(item, "reminder_minutes"), 0);
    json_object_set_new(b, "isReminderOn", json_boolean(json_is_integer(first)));
    if (json_is_integer(first))
        json_object_set(b, "reminderMinutesBeforeStart", (json_t *)first);
    const char *color = json_string_value(json_object_get(item, "category_color"));
    if (color && *color)
        json_object_set_new(b, "categories", categories_of(color));
    static const char *const copy[][2] = {{"importance", "importance"}, {"show_as", "showAs"}};
    for (size_t i = 0; i < 2; i++)
        if (json_is_string(v = json_object_get(item, copy[i][0])))
            json_object_set(b, copy[i][1], (json_t *)v);
    if (insert && json_is_object(json_object_get(item, "online_meeting"))) {
        json_object_set_new(b, "isOnlineMeeting", json_true());
        json_object_set_new(b, "onlineMeetingProvider", json_string("teamsForBusiness"));
    }
    const char *be = json_string_value(json_object_get(item, "busline_event_id"));
    const char *bi = json_string_value(json_object_get(item, "busline_integration_id"));
    if (insert && be && bi) {
        char txn[BL_CALSYNC_ID_MAX];
        snprintf(txn, sizeof txn, TXN_PREFIX "%s/%s", bi, be);
        json_object_set_new(b, "transactionId", json_string(txn));
    }
    return b;
}

/* Whether url is one of the base's (a link the server handed out). */
static int ours(graph *g, const char *url)
{
    size_t n = strlen(g->h.base);
    return strncmp(url, g->h.base, n) == 0 && (url[n] == '/' || url[n] == '?');
}

static int graph_list(void *self, const char *calendar, const char *cursor, const char *page_token,
                      bl_calsync_page *out, bl_err *err)
{
    graph *g = self;
    memset(out, 0, sizeof *out);
    char url[BL_CALSYNC_CURSOR_MAX + 1024];
    const char *next = page_token && *page_token ? page_token : cursor && *cursor ? cursor : NULL;
    if (next) {
        bool is_cursor = !(page_token && *page_token);
        if (!ours(g, next) || strlen(next) >= sizeof url)
            /* a stored deltaLink of another base (the base was changed): list everything again */
            return bl_err_set(err, is_cursor ? BL_CALSYNC_E_CURSOR_GONE : BL_OAUTH_E_SYNC,
                              "graph: a %s that is not the configured base's", is_cursor ? "deltaLink" : "nextLink");
        snprintf(url, sizeof url, "%s", next);
    } else {
        int64_t now = bl_clock_wall_ms();
        char from[40], to[40], tail[160];
        bl_rfc3339_format_millis(now - 31 * DAY_MS, from, sizeof from);
        bl_rfc3339_format_millis(now + 400 * DAY_MS, to, sizeof to);
        snprintf(tail, sizeof tail, "/calendarView/delta?startDateTime=%s&endDateTime=%s", from, to);
        if (calendar_url(g, calendar, tail, url, sizeof url, err) != 0)
            return -1;
    }
    json_t *b = call(g, "GET", url, NULL, err);
    if (!b)
        return -1;
    out->items = json_array();
    size_t i;
    const json_t *ev;
    json_array_foreach(json_object_get(b, "value"), i, ev) {
        json_t *item = normalize(ev);
        if (item)
            json_array_append_new(out->items, item);
    }
    const char *np = json_string_value(json_object_get(b, "@odata.nextLink"));
    const char *dl = json_string_value(json_object_get(b, "@odata.deltaLink"));
    int fits = (!np || strlen(np) < sizeof out->next_page) && (!dl || strlen(dl) < sizeof out->next_cursor);
    snprintf(out->next_page, sizeof out->next_page, "%s", np && fits ? np : "");
    snprintf(out->next_cursor, sizeof out->next_cursor, "%s", dl && fits ? dl : "");
    json_decref(b);
    if ((!np && !dl) || !fits) {
        bl_calsync_page_clear(out);
        return bl_err_set(err, BL_OAUTH_E_SYNC, "graph: a delta page without a usable nextLink or deltaLink");
    }
    return 0;
}

/* The Teams meeting's options of a created event (PATCH onlineMeeting). */
static int meeting_options(graph *g, const json_t *ev, const json_t *want, bl_err *err)
{
    const char *join = json_string_value(json_object_get(json_object_get(ev, "onlineMeeting"), "joinUrl"));
    json_t *patch = json_object();
    const json_t *v;
    if (json_is_boolean(v = json_object_get(want, "record_automatically")))
        json_object_set(patch, "recordAutomatically", (json_t *)v);
    if (json_is_boolean(v = json_object_get(want, "allow_transcription")))
        json_object_set(patch, "allowTranscription", (json_t *)v);
    if (json_is_boolean(v = json_object_get(want, "allow_anonymous")))
        json_object_set_new(patch, "lobbyBypassSettings",
                            json_pack("{s:s}", "scope", json_is_true(v) ? "everyone" : "organization"));
    int rc = 0;
    if (json_object_size(patch) == 0)
        goto done;
    rc = -1;
    if (!join) {
        bl_err_set(err, BL_OAUTH_E_SYNC, "graph: the event has no Teams meeting to set up");
        goto done;
    }
    char filter[2048], quoted[1024], url[3072];
    size_t q = 0;
    for (const char *c = join; *c && q + 2 < sizeof quoted; c++) {
        if (*c == '\'')
            quoted[q++] = '\''; /* OData doubles a quote inside a literal */
        quoted[q++] = *c;
    }
    quoted[q] = '\0';
    snprintf(filter, sizeof filter, "JoinWebUrl eq '%s'", quoted);
    char enc[sizeof filter * 3];
    if (bl_calsync_url_escape(filter, enc, sizeof enc) != 0 ||
        snprintf(url, sizeof url, "%s/me/onlineMeetings?$filter=%s", g->h.base, enc) >= (int)sizeof url) {
        bl_err_set(err, BL_EINVAL, "graph: meeting join URL too long");
        goto done;
    }
    json_t *found = call(g, "GET", url, NULL, err);
    const char *mid = json_string_value(json_object_get(json_array_get(json_object_get(found, "value"), 0), "id"));
    if (!mid) {
        if (found)
            bl_err_set(err, BL_OAUTH_E_SYNC, "graph: no online meeting with the event's join URL");
        json_decref(found);
        goto done;
    }
    char menc[600];
    if (bl_calsync_url_escape(mid, menc, sizeof menc) != 0 ||
        snprintf(url, sizeof url, "%s/me/onlineMeetings/%s", g->h.base, menc) >= (int)sizeof url) {
        bl_err_set(err, BL_EINVAL, "graph: meeting id too long");
        json_decref(found);
        goto done;
    }
    json_decref(found);
    json_t *done_b = call(g, "PATCH", url, patch, err);
    rc = done_b ? 0 : -1;
    json_decref(done_b);
done:
    json_decref(patch);
    return rc;
}

static int graph_insert(void *self, const char *calendar, const json_t *item, char id_out[BL_CALSYNC_ID_MAX],
                        char version_out[BL_CALSYNC_VERSION_MAX], bl_err *err)
{
    graph *g = self;
    char url[2048];
    if (calendar_url(g, calendar, "/events", url, sizeof url, err) != 0)
        return -1;
    json_t *body = event_body(item, 1);
    json_t *b = bl_calsync_http_write(&g->h, "POST", url, body, "changeKey", id_out, version_out, err);
    json_decref(body);
    int rc = b ? 0 : -1;
    const json_t *meeting = json_object_get(item, "online_meeting");
    if (rc == 0 && json_is_object(meeting))
        rc = meeting_options(g, b, meeting, err);
    json_decref(b);
    return rc;
}

static json_t *graph_get(void *self, const char *calendar, const char *id, bl_err *err)
{
    graph *g = self;
    (void)calendar;
    char url[BL_CALSYNC_ID_MAX * 3 + 600];
    if (event_url(g, id, url, sizeof url, err) != 0)
        return NULL;
    return bl_calsync_http_get_item(&g->h, url, normalize, err);
}

static int graph_patch(void *self, const char *calendar, const char *id, const json_t *item,
                       char version_out[BL_CALSYNC_VERSION_MAX], bl_err *err)
{
    graph *g = self;
    (void)calendar;
    char url[BL_CALSYNC_ID_MAX * 3 + 600];
    if (event_url(g, id, url, sizeof url, err) != 0)
        return -1;
    json_t *body = event_body(item, 0);
    json_t *b = bl_calsync_http_write(&g->h, "PATCH", url, body, "changeKey", NULL, version_out, err);
    json_decref(body);
    int rc = b ? 0 : -1;
    json_decref(b);
    return rc;
}

static int graph_remove(void *self, const char *calendar, const char *id, bl_err *err)
{
    graph *g = self;
    (void)calendar;
    char url[BL_CALSYNC_ID_MAX * 3 + 600];
    if (event_url(g, id, url, sizeof url, err) != 0)
        return -1;
    return bl_calsync_http_delete(&g->h, url, err);
}

static void graph_free(void *self)
{
    free(self);
}

bl_calsync_provider *bl_calsync_graph_new(const bl_calsync_graph_opts *opts, bl_err *err)
{
    static const bl_calsync_provider table = {.name = "microsoft_365", .list_page = graph_list,
                                              .insert = graph_insert, .get = graph_get, .patch = graph_patch,
                                              .remove = graph_remove, .free = graph_free};
    graph *g = calloc(1, sizeof *g);
    if (g)
        bl_calsync_http_init(&g->h, opts->store, opts->integration_id, "graph", opts->base_url, DEFAULT_BASE,
                             opts->max_wait_ms, classify);
    return bl_calsync_provider_new(&table, g, err);
}
