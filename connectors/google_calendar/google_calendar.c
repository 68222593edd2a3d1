/* The Google Calendar connector (API v3): inserts, patches and deletes
 * events of one calendar.
 *
 * Endpoints: POST {base}/calendars/{calendarId}/events, PATCH and DELETE
 * {base}/calendars/{calendarId}/events/{eventId}; base
 * https://www.googleapis.com/calendar/v3. Auth: the OAuth 2.0 bearer token
 * of the integration (connectors/oauth, refreshed by the host after a 401).
 * Errors: {"error":{"code","message","errors":[{"domain","reason",
 * "message"}],"status"}}; 403 with reason rateLimitExceeded or
 * userRateLimitExceeded and 429 are retried.
 *
 * Settings: {"calendar_id": "primary", "title_prefix": "[PMO] ",
 *            "time_zone": "Europe/Berlin", "color_id": "5",
 *            "reminders": "popup:10, email:1440", "send_updates": "all",
 *            "default_duration_minutes": 60, "base_url": ...}
 * Template fields: summary and start (create_event), end or
 * duration_minutes, time_zone, description, location, attendees (e-mails,
 * comma separated), color_id ("1".."11"), reminders ("popup:10, email:60").
 *
 * One calendar event per (integration, aggregate): Google accepts a
 * client-chosen event id, derived here from the integration and the
 * aggregate, so a repeated insert answers 409 instead of making a second
 * event; the id is also linked under "event/<subject>" so a later event of
 * the aggregate patches it. create_event on a linked aggregate patches. */
#include "connectors/google_calendar/google_calendar.h"

#include "connectors/saas_common.h"
#include "connectors/vendor_http.h"
#include "core/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GCAL_NAME "google_calendar"
#define GCAL_URL_MAX 2048
#define GCAL_ID_MAX 64
#define GCAL_REMINDERS_MAX 5 /* Google's limit of reminder overrides */

typedef struct gcal {
    const bl_connector_host *host;
    char base_url[512];
    char calendar_enc[800];
    char title_prefix[128], time_zone[64], color_id[8], reminders[256], send_updates[16];
    long default_minutes;
} gcal;

static const char *const gcal_actions[] = {"create_event", "update_event", "delete_event", NULL};

static const bl_connector_field gcal_fields[] = {
    {"summary", BL_CONNECTOR_ESCAPE_PLAIN, 1, "create_event"},
    {"start", BL_CONNECTOR_ESCAPE_PLAIN, 1, "create_event"},
    {"summary", BL_CONNECTOR_ESCAPE_PLAIN, 0, "update_event"},
    {"start", BL_CONNECTOR_ESCAPE_PLAIN, 0, "update_event"},
    {"end", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"duration_minutes", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"time_zone", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"description", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"location", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"attendees", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"color_id", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"reminders", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {NULL, 0, 0, NULL},
};

/* Builds the reminders object from "popup:10, email:1440" (a bare number
 * is a popup). Returns NULL with why filled on a bad item. */
typedef struct reminders_ctx {
    json_t *overrides;
    char why[160];
} reminders_ctx;

static void reminder_item(const char *item, void *ctx)
{
    reminders_ctx *c = ctx;
    char method[16] = "popup";
    const char *colon = strchr(item, ':');
    const char *num = item;
    if (colon) {
        snprintf(method, sizeof method, "%.*s", (int)(colon - item < 15 ? colon - item : 15), item);
        num = colon + 1;
    }
    long minutes;
    if ((strcmp(method, "popup") != 0 && strcmp(method, "email") != 0) ||
        bl_saas_parse_long(num, 0, 40320, &minutes) != 0) {
        if (!c->why[0])
            snprintf(c->why, sizeof c->why, "reminder \"%.60s\": popup:<0-40320> or email:<0-40320>", item);
        return;
    }
    json_array_append_new(c->overrides, json_pack("{s:s, s:I}", "method", method, "minutes", (json_int_t)minutes));
}

static json_t *reminders_object(const char *text, char *why, size_t cap)
{
    reminders_ctx c = {.overrides = json_array()};
    size_t given = bl_saas_split(text, GCAL_REMINDERS_MAX + 1, reminder_item, &c);
    if (given > GCAL_REMINDERS_MAX && !c.why[0])
        snprintf(c.why, sizeof c.why, "at most %d reminders", GCAL_REMINDERS_MAX);
    if (c.why[0]) {
        snprintf(why, cap, "%s", c.why);
        json_decref(c.overrides);
        return NULL;
    }
    return json_pack("{s:b, s:o}", "useDefault", 0, "overrides", c.overrides);
}

static int valid_color(const char *c)
{
    long v;
    return bl_saas_parse_long(c, 1, 11, &v) == 0;
}

static int gcal_init(const char *settings_json, const bl_connector_host *host, void **instance, char *err,
                     size_t err_len)
{
    json_error_t jerr;
    json_t *s = json_loads(settings_json, 0, &jerr);
    gcal *g = calloc(1, sizeof *g);
    char calendar[256];
    if (!g || !json_is_object(s)) {
        snprintf(err, err_len, GCAL_NAME ": settings: %s", g ? jerr.text : "out of memory");
        goto fail;
    }
    g->host = host;
    if (bl_saas_base_url(s, GCAL_NAME, "https://www.googleapis.com/calendar/v3", g->base_url, sizeof g->base_url,
                         err, err_len) != 0 ||
        bl_saas_setting_str(s, GCAL_NAME, "calendar_id", "primary", calendar, sizeof calendar, err, err_len) != 0 ||
        bl_saas_setting_str(s, GCAL_NAME, "title_prefix", "", g->title_prefix, sizeof g->title_prefix, err,
                            err_len) != 0 ||
        bl_saas_setting_str(s, GCAL_NAME, "time_zone", "", g->time_zone, sizeof g->time_zone, err, err_len) != 0 ||
        bl_saas_setting_str(s, GCAL_NAME, "color_id", "", g->color_id, sizeof g->color_id, err, err_len) != 0 ||
        bl_saas_setting_str(s, GCAL_NAME, "reminders", "", g->reminders, sizeof g->reminders, err, err_len) != 0 ||
        bl_saas_setting_str(s, GCAL_NAME, "send_updates", "", g->send_updates, sizeof g->send_updates, err,
                            err_len) != 0 ||
        bl_saas_setting_int(s, GCAL_NAME, "default_duration_minutes", 60, 1, 20160, &g->default_minutes, err,
                            err_len) != 0)
        goto fail;
    if (bl_vendor_url_encode(calendar, g->calendar_enc, sizeof g->calendar_enc) != 0) {
        snprintf(err, err_len, GCAL_NAME ": settings.calendar_id: too long");
        goto fail;
    }
    if (g->color_id[0] && !valid_color(g->color_id)) {
        snprintf(err, err_len, GCAL_NAME ": settings.color_id: \"1\" to \"11\"");
        goto fail;
    }
    if (g->send_updates[0] && strcmp(g->send_updates, "all") != 0 && strcmp(g->send_updates, "externalOnly") != 0 &&
        strcmp(g->send_updates, "none") != 0) {
        snprintf(err, err_len, GCAL_NAME ": settings.send_updates: \"all\", \"externalOnly\" or \"none\"");
        goto fail;
    }
    char why[160];
    json_t *check = reminders_object(g->reminders, why, sizeof why);
    if (!check) {
        snprintf(err, err_len, GCAL_NAME ": settings.reminders: %s", why);
        goto fail;
    }
    json_decref(check);
    json_decref(s);
    *instance = g;
    return 0;
fail:
    json_decref(s);
    free(g);
    return -1;
}

static void gcal_shutdown(void *instance)
{
    free(instance);
}

/* Google's error body; rate limits reported as 403 are retried. */
static int gcal_error_text(long status, const char *body, size_t len, char *msg, size_t cap)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    const json_t *e = json_object_get(j, "error");
    const char *m = json_string_value(json_object_get(e, "message"));
    const char *reason = json_string_value(json_object_get(json_array_get(json_object_get(e, "errors"), 0), "reason"));
    if (m)
        snprintf(msg, cap, "%s%s%s%s", m, reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
    int override = -1;
    if (status == 403 && reason &&
        (strcmp(reason, "rateLimitExceeded") == 0 || strcmp(reason, "userRateLimitExceeded") == 0 ||
         strcmp(reason, "quotaExceeded") == 0))
        override = BL_CONNECTOR_RETRYABLE;
    json_decref(j);
    return override;
}

static json_t *gcal_call(const gcal *g, const char *method, const char *url, const json_t *body, const char *what,
                         long *status, bl_connector_result *r)
{
    char auth[4200];
    if (bl_saas_bearer(g->host, GCAL_NAME, auth, sizeof auth, r) != 0) {
        *status = 0;
        return NULL;
    }
    bl_saas_request req = {.method = method, .url = url, .auth = auth, .body = body, .what = what,
                           .error_text = gcal_error_text};
    return bl_saas_call(g->host, &req, status, r);
}

/* The event id Google will hold for (integration, aggregate): "bl" and 30
 * base32hex digits of a SHA-256, within Google's [a-v0-9]{5,1024}. */
static void event_id_for(const bl_connector_event *ev, char out[GCAL_ID_MAX])
{
    static const char b32hex[] = "0123456789abcdefghijklmnopqrstuv";
    char seed[1200];
    int n = snprintf(seed, sizeof seed, "%s/%s", ev->integration_id ? ev->integration_id : "", ev->subject);
    uint8_t h[BL_SHA256_LEN];
    bl_err err = {0};
    if (bl_sha256(seed, (size_t)(n < (int)sizeof seed ? n : (int)sizeof seed - 1), h, &err) != 0)
        memset(h, 0, sizeof h);
    size_t o = 0;
    out[o++] = 'b';
    out[o++] = 'l';
    for (size_t i = 0; i < 30; i++) {
        size_t bit = i * 5, byte = bit / 8, shift = bit % 8;
        unsigned v = ((unsigned)h[byte] << 8 | (byte + 1 < sizeof h ? h[byte + 1] : 0)) >> (11 - shift);
        out[o++] = b32hex[v & 31];
    }
    out[o] = '\0';
}

typedef struct attendee_ctx {
    json_t *list;
} attendee_ctx;

static void attendee_item(const char *item, void *ctx)
{
    attendee_ctx *c = ctx;
    json_array_append_new(c->list, json_pack("{s:s}", "email", item));
}

/* {"dateTime", "timeZone"} of t: UTC with "Z" for an instant, the wall
 * time with the zone for a local time. */
static json_t *when(const bl_saas_time *t, const char *tz)
{
    char text[32];
    bl_saas_time_format(t, 1, text, sizeof text);
    json_t *o = json_pack("{s:s}", "dateTime", text);
    if (tz && *tz)
        json_object_set_new(o, "timeZone", json_string(tz));
    return o;
}

/* The event resource from the template; full: a create (start required,
 * the integration's defaults applied). NULL with r filled when invalid. */
static json_t *event_body(const gcal *g, const bl_connector_event *ev, int full, bl_connector_result *r)
{
    json_t *body = json_object();
    const char *summary = bl_saas_field(ev, "summary");
    if (full && !summary) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, GCAL_NAME ": the summary rendered empty");
        goto fail;
    }
    if (summary) {
        char title[1200];
        snprintf(title, sizeof title, "%s%s", g->title_prefix, summary);
        json_object_set_new(body, "summary", json_string(title));
    }
    const char *text_fields[][2] = {{"description", "description"}, {"location", "location"}};
    for (size_t i = 0; i < 2; i++) {
        const char *v = bl_saas_field(ev, text_fields[i][0]);
        if (v)
            json_object_set_new(body, text_fields[i][1], json_string(v));
    }
    if (full || bl_saas_field(ev, "start")) {
        bl_saas_time start, end;
        if (bl_saas_event_times(ev, GCAL_NAME, g->default_minutes, &start, &end, r) != 0)
            goto fail;
        const char *tz = bl_saas_field(ev, "time_zone");
        if (!tz)
            tz = g->time_zone;
        if (start.local && !*tz) {
            bl_vendor_result(r, BL_CONNECTOR_PERMANENT,
                             GCAL_NAME ": start has no UTC offset and no time zone is set (field time_zone or "
                                       "settings.time_zone)");
            goto fail;
        }
        json_object_set_new(body, "start", when(&start, tz));
        json_object_set_new(body, "end", when(&end, tz));
    }
    const char *attendees = bl_saas_field(ev, "attendees");
    if (attendees) {
        attendee_ctx c = {.list = json_array()};
        bl_saas_split(attendees, 200, attendee_item, &c);
        json_object_set_new(body, "attendees", c.list);
    }
    const char *color = bl_saas_field(ev, "color_id");
    if (!color && full && g->color_id[0])
        color = g->color_id;
    if (color) {
        if (!valid_color(color)) {
            bl_vendor_result(r, BL_CONNECTOR_PERMANENT, GCAL_NAME ": color_id: \"1\" to \"11\", got \"%.20s\"", color);
            goto fail;
        }
        json_object_set_new(body, "colorId", json_string(color));
    }
    const char *rem = bl_saas_field(ev, "reminders");
    if (!rem && full && g->reminders[0])
        rem = g->reminders;
    if (rem) {
        char why[160];
        json_t *o = reminders_object(rem, why, sizeof why);
        if (!o) {
            bl_vendor_result(r, BL_CONNECTOR_PERMANENT, GCAL_NAME ": reminders: %s", why);
            goto fail;
        }
        json_object_set_new(body, "reminders", o);
    }
    return body;
fail:
    json_decref(body);
    return NULL;
}

static void events_url(const gcal *g, const char *event_id, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/calendars/%s/events%s%s", g->base_url, g->calendar_enc, event_id ? "/" : "",
                     event_id ? event_id : "");
    if (g->send_updates[0] && n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, "?sendUpdates=%s", g->send_updates);
}

/* PATCHes event id with body; r OK with the id on success. */
static void patch_event(const gcal *g, const bl_connector_event *ev, const char *id, json_t *body,
                        bl_connector_result *r)
{
    char url[GCAL_URL_MAX];
    events_url(g, id, url, sizeof url);
    long status;
    json_t *done = gcal_call(g, "PATCH", url, body, GCAL_NAME " patch event", &status, r);
    if (!done)
        return;
    json_decref(done);
    snprintf(r->external_id, sizeof r->external_id, "%s", id);
    if (bl_saas_link_put(g->host, "event", ev->subject, id, r) == 0)
        bl_vendor_result(r, BL_CONNECTOR_OK, GCAL_NAME ": updated event %s", id);
}

static void create_event(const void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    const gcal *g = instance;
    char id[GCAL_ID_MAX];
    int linked = bl_saas_link_get(g->host, "event", ev->subject, id, sizeof id, r);
    if (linked < 0)
        return;
    json_t *body = event_body(g, ev, 1, r);
    if (!body)
        return;
    /* A cancelled event keeps its id: patching it confirmed brings it back. */
    json_object_set_new(body, "status", json_string("confirmed"));
    if (linked == 1) {
        patch_event(g, ev, id, body, r);
        json_decref(body);
        return;
    }
    event_id_for(ev, id);
    json_object_set_new(body, "id", json_string(id));
    char url[GCAL_URL_MAX];
    events_url(g, NULL, url, sizeof url);
    long status;
    json_t *created = gcal_call(g, "POST", url, body, GCAL_NAME " insert event", &status, r);
    if (!created && status == 409) {
        /* Inserted before (a crash before the link, or deleted since). */
        memset(r, 0, sizeof *r);
        json_object_del(body, "id");
        patch_event(g, ev, id, body, r);
    } else if (created) {
        snprintf(r->external_id, sizeof r->external_id, "%s", id);
        if (bl_saas_link_put(g->host, "event", ev->subject, id, r) == 0)
            bl_vendor_result(r, BL_CONNECTOR_OK, GCAL_NAME ": inserted event %s", id);
    }
    json_decref(created);
    json_decref(body);
}

static void update_event(const void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    const gcal *g = instance;
    char id[GCAL_ID_MAX];
    if (bl_saas_linked(g->host, GCAL_NAME, "event", ev->subject, "update", id, sizeof id, r) <= 0)
        return;
    json_t *body = event_body(g, ev, 0, r);
    if (body)
        patch_event(g, ev, id, body, r);
    json_decref(body);
}

static void delete_event(const void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    const gcal *g = instance;
    char id[GCAL_ID_MAX], url[GCAL_URL_MAX];
    if (bl_saas_linked(g->host, GCAL_NAME, "event", ev->subject, "delete", id, sizeof id, r) <= 0)
        return;
    events_url(g, id, url, sizeof url);
    long status;
    json_t *done = gcal_call(g, "DELETE", url, NULL, GCAL_NAME " delete event", &status, r);
    if (!done && status != 404 && status != 410)
        return;
    json_decref(done);
    bl_saas_unlink_deleted(g->host, GCAL_NAME, "event", ev->subject, id, status == 404 || status == 410, r);
}

static const bl_saas_action gcal_action_table[] = {
    {"create_event", create_event},
    {"update_event", update_event},
    {"delete_event", delete_event},
    {NULL, NULL},
};

static void gcal_handle(void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    bl_saas_dispatch(GCAL_NAME, gcal_action_table, instance, ev, r);
}

static const bl_connector_table gcal_table = {
    .abi_version = BL_CONNECTOR_ABI_VERSION,
    .struct_size = sizeof(bl_connector_table),
    .name = GCAL_NAME,
    .version = "1.0.0",
    .actions = gcal_actions,
    .fields = gcal_fields,
    .init = gcal_init,
    .handle = gcal_handle,
    .health = NULL,
    .shutdown = gcal_shutdown,
};

const bl_connector_table *bl_google_calendar_connector(void)
{
    return &gcal_table;
}
