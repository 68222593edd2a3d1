/* The Microsoft 365 connector: Outlook calendar events through Microsoft
 * Graph v1.0, optionally as Teams online meetings.
 *
 * Endpoints: POST {base}/users/{id}/events (client credentials, app-only)
 * or {base}/me/events (delegated), or .../calendars/{calendarId}/events
 * when a calendar is set; PATCH and DELETE {base}/users/{id}/events/{eventId}
 * (or /me/...); base https://graph.microsoft.com/v1.0. Auth: the OAuth 2.0
 * bearer token of the integration (connectors/oauth: client credentials or
 * delegated with refresh tokens). Errors: {"error":{"code","message",
 * "innerError"}}; 429 and 503/504 carry Retry-After.
 *
 * Settings: {"mode": "delegated"|"client_credentials", "user_id": "...",
 *            "calendar_id": "...", "time_zone": "UTC", "online_meeting": true,
 *            "categories": "PMO", "importance": "normal", "show_as": "busy",
 *            "attendee_type": "required", "body_type": "text",
 *            "default_duration_minutes": 60, "base_url": ...}
 * Template fields: subject and start (create_event), end or
 * duration_minutes, time_zone, body, location, attendees ("Name
 * <a@b.example>" or "a@b.example", comma separated), online_meeting
 * ("true"/"false"), categories, importance, show_as.
 *
 * Graph times have no offset: an instant is sent as its UTC wall time with
 * timeZone "UTC", a local time with the event's or the setting's zone.
 *
 * One Outlook event per (integration, aggregate), linked under
 * "event/<subject>"; creates carry a transactionId derived from the
 * integration, aggregate and event id, which Graph uses to drop a repeated
 * POST of a client retry (a crash before the link). */
#include "connectors/microsoft_calendar/microsoft_calendar.h"

#include "connectors/saas_common.h"
#include "connectors/vendor_http.h"
#include "core/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSFT_NAME "microsoft_365"
#define MSFT_URL_MAX 4096
#define MSFT_ID_MAX 256 /* Graph event ids are ~150 characters */

typedef struct msft {
    const bl_connector_host *host;
    char base_url[512];
    char owner[900];    /* "users/<id>" or "me" (encoded) */
    char calendar[900]; /* "" or "/calendars/<id>" (encoded) */
    char time_zone[64], categories[256], importance[16], show_as[32], attendee_type[16], body_type[8];
    int online_meeting;
    long default_minutes;
} msft;

static const char *const msft_actions[] = {"create_event", "update_event", "delete_event", NULL};

static const bl_connector_field msft_fields[] = {
    {"subject", BL_CONNECTOR_ESCAPE_PLAIN, 1, "create_event"},
    {"start", BL_CONNECTOR_ESCAPE_PLAIN, 1, "create_event"},
    {"subject", BL_CONNECTOR_ESCAPE_PLAIN, 0, "update_event"},
    {"start", BL_CONNECTOR_ESCAPE_PLAIN, 0, "update_event"},
    {"end", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"duration_minutes", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"time_zone", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"body", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"location", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"attendees", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"online_meeting", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"categories", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"importance", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"show_as", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {NULL, 0, 0, NULL},
};

static int one_of(const char *v, const char *const *allowed)
{
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(v, allowed[i]) == 0)
            return 1;
    return 0;
}

static const char *const importances[] = {"low", "normal", "high", NULL};
static const char *const show_as_values[] = {"free", "tentative", "busy", "oof", "workingElsewhere", "unknown", NULL};
static const char *const attendee_types[] = {"required", "optional", "resource", NULL};
static const char *const body_types[] = {"text", "html", "HTML", NULL};

static int msft_init(const char *settings_json, const bl_connector_host *host, void **instance, char *err,
                     size_t err_len)
{
    json_error_t jerr;
    json_t *s = json_loads(settings_json, 0, &jerr);
    msft *m = calloc(1, sizeof *m);
    char mode[32], user[256], calendar[256], enc[800];
    if (!m || !json_is_object(s)) {
        snprintf(err, err_len, MSFT_NAME ": settings: %s", m ? jerr.text : "out of memory");
        goto fail;
    }
    m->host = host;
    if (bl_saas_base_url(s, MSFT_NAME, "https://graph.microsoft.com/v1.0", m->base_url, sizeof m->base_url, err,
                         err_len) != 0 ||
        bl_saas_setting_str(s, MSFT_NAME, "mode", "delegated", mode, sizeof mode, err, err_len) != 0 ||
        bl_saas_setting_str(s, MSFT_NAME, "user_id", "", user, sizeof user, err, err_len) != 0 ||
        bl_saas_setting_str(s, MSFT_NAME, "calendar_id", "", calendar, sizeof calendar, err, err_len) != 0 ||
        bl_saas_setting_str(s, MSFT_NAME, "time_zone", "UTC", m->time_zone, sizeof m->time_zone, err, err_len) != 0 ||
        bl_saas_setting_str(s, MSFT_NAME, "categories", "", m->categories, sizeof m->categories, err, err_len) != 0 ||
        bl_saas_setting_str(s, MSFT_NAME, "importance", "", m->importance, sizeof m->importance, err, err_len) != 0 ||
        bl_saas_setting_str(s, MSFT_NAME, "show_as", "", m->show_as, sizeof m->show_as, err, err_len) != 0 ||
        bl_saas_setting_str(s, MSFT_NAME, "attendee_type", "required", m->attendee_type, sizeof m->attendee_type,
                            err, err_len) != 0 ||
        bl_saas_setting_str(s, MSFT_NAME, "body_type", "text", m->body_type, sizeof m->body_type, err, err_len) != 0 ||
        bl_saas_setting_bool(s, MSFT_NAME, "online_meeting", 0, &m->online_meeting, err, err_len) != 0 ||
        bl_saas_setting_int(s, MSFT_NAME, "default_duration_minutes", 60, 1, 20160, &m->default_minutes, err,
                            err_len) != 0)
        goto fail;
    int app_only = strcmp(mode, "client_credentials") == 0;
    if (!app_only && strcmp(mode, "delegated") != 0) {
        snprintf(err, err_len, MSFT_NAME ": settings.mode: \"delegated\" or \"client_credentials\"");
        goto fail;
    }
    if (app_only && !user[0]) {
        snprintf(err, err_len, MSFT_NAME ": settings.user_id: required with client credentials (there is no /me)");
        goto fail;
    }
    if ((m->importance[0] && !one_of(m->importance, importances)) ||
        (m->show_as[0] && !one_of(m->show_as, show_as_values)) || !one_of(m->attendee_type, attendee_types) ||
        !one_of(m->body_type, body_types)) {
        snprintf(err, err_len,
                 MSFT_NAME ": settings: importance low|normal|high, show_as free|tentative|busy|oof|"
                           "workingElsewhere|unknown, attendee_type required|optional|resource, body_type text|html");
        goto fail;
    }
    if (user[0]) {
        if (bl_vendor_url_encode(user, enc, sizeof enc) != 0)
            goto too_long;
        snprintf(m->owner, sizeof m->owner, "users/%s", enc);
    } else {
        snprintf(m->owner, sizeof m->owner, "me");
    }
    if (calendar[0]) {
        if (bl_vendor_url_encode(calendar, enc, sizeof enc) != 0)
            goto too_long;
        snprintf(m->calendar, sizeof m->calendar, "/calendars/%s", enc);
    }
    json_decref(s);
    *instance = m;
    return 0;
too_long:
    snprintf(err, err_len, MSFT_NAME ": settings: user_id or calendar_id too long");
fail:
    json_decref(s);
    free(m);
    return -1;
}

static void msft_shutdown(void *instance)
{
    free(instance);
}

/* Graph's error body {"error":{"code","message"}}. */
static int msft_error_text(long status, const char *body, size_t len, char *msg, size_t cap)
{
    (void)status;
    json_t *j = json_loadb(body, len, 0, NULL);
    const json_t *e = json_object_get(j, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *m = json_string_value(json_object_get(e, "message"));
    if (code || m)
        snprintf(msg, cap, "%s%s%s", code ? code : "", code && m ? ": " : "", m ? m : "");
    json_decref(j);
    return -1;
}

static json_t *msft_call(const msft *m, const char *method, const char *url, const json_t *body, const char *what,
                         long *status, bl_connector_result *r)
{
    char auth[4200];
    *status = 0;
    if (bl_saas_bearer(m->host, MSFT_NAME, auth, sizeof auth, r) != 0)
        return NULL;
    bl_saas_request req = {.method = method, .url = url, .auth = auth, .body = body, .what = what,
                           .error_text = msft_error_text};
    return bl_saas_call(m->host, &req, status, r);
}

static json_t *graph_time(const bl_saas_time *t, const char *tz)
{
    char text[32];
    bl_saas_time_format(t, 0, text, sizeof text);
    return json_pack("{s:s, s:s}", "dateTime", text, "timeZone", t->local ? tz : "UTC");
}

typedef struct list_ctx {
    json_t *list;
    const char *attendee_type;
} list_ctx;

/* "Name <address>" or "address". */
static void attendee_item(const char *item, void *ctx)
{
    list_ctx *c = ctx;
    const char *lt = strchr(item, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    json_t *email;
    if (lt && gt && gt > lt + 1) {
        char name[256], addr[256];
        size_t nl = (size_t)(lt - item);
        while (nl > 0 && item[nl - 1] == ' ')
            nl--;
        snprintf(name, sizeof name, "%.*s", (int)nl, item);
        snprintf(addr, sizeof addr, "%.*s", (int)(gt - lt - 1), lt + 1);
        email = json_pack("{s:s, s:s}", "address", addr, "name", name[0] ? name : addr);
    } else {
        email = json_pack("{s:s, s:s}", "address", item, "name", item);
    }
    json_array_append_new(c->list, json_pack("{s:o, s:s}", "emailAddress", email, "type", c->attendee_type));
}

static void string_item(const char *item, void *ctx)
{
    list_ctx *c = ctx;
    json_array_append_new(c->list, json_string(item));
}

/* The event resource from the template; full: a create. NULL with r
 * filled when invalid. */
static json_t *event_body(const msft *m, const bl_connector_event *ev, int full, bl_connector_result *r)
{
    json_t *body = json_object();
    const char *subject = bl_saas_field(ev, "subject");
    if (full && !subject) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, MSFT_NAME ": the subject rendered empty");
        goto fail;
    }
    if (subject)
        json_object_set_new(body, "subject", json_string(subject));
    const char *text = bl_saas_field(ev, "body");
    if (text)
        json_object_set_new(body, "body", json_pack("{s:s, s:s}", "contentType", m->body_type, "content", text));
    if (full || bl_saas_field(ev, "start")) {
        bl_saas_time start, end;
        if (bl_saas_event_times(ev, MSFT_NAME, m->default_minutes, &start, &end, r) != 0)
            goto fail;
        const char *tz = bl_saas_field(ev, "time_zone");
        json_object_set_new(body, "start", graph_time(&start, tz ? tz : m->time_zone));
        json_object_set_new(body, "end", graph_time(&end, tz ? tz : m->time_zone));
    }
    const char *where = bl_saas_field(ev, "location");
    if (where)
        json_object_set_new(body, "location", json_pack("{s:s}", "displayName", where));
    const char *attendees = bl_saas_field(ev, "attendees");
    if (attendees) {
        list_ctx c = {.list = json_array(), .attendee_type = m->attendee_type};
        bl_saas_split(attendees, 500, attendee_item, &c);
        json_object_set_new(body, "attendees", c.list);
    }
    const char *online = bl_saas_field(ev, "online_meeting");
    int teams = online ? strcmp(online, "true") == 0 : (full && m->online_meeting);
    if (online && !teams && strcmp(online, "false") != 0) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, MSFT_NAME ": online_meeting: \"true\" or \"false\"");
        goto fail;
    }
    if (teams) {
        json_object_set_new(body, "isOnlineMeeting", json_true());
        json_object_set_new(body, "onlineMeetingProvider", json_string("teamsForBusiness"));
    } else if (online) {
        json_object_set_new(body, "isOnlineMeeting", json_false());
    }
    const char *categories = bl_saas_field(ev, "categories");
    if (!categories && full && m->categories[0])
        categories = m->categories;
    if (categories) {
        list_ctx c = {.list = json_array()};
        bl_saas_split(categories, 25, string_item, &c);
        json_object_set_new(body, "categories", c.list);
    }
    const char *importance = bl_saas_field(ev, "importance");
    const char *show_as = bl_saas_field(ev, "show_as");
    if (!importance && full && m->importance[0])
        importance = m->importance;
    if (!show_as && full && m->show_as[0])
        show_as = m->show_as;
    if ((importance && !one_of(importance, importances)) || (show_as && !one_of(show_as, show_as_values))) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT,
                         MSFT_NAME ": importance low|normal|high and show_as free|tentative|busy|oof|"
                                   "workingElsewhere|unknown");
        goto fail;
    }
    if (importance)
        json_object_set_new(body, "importance", json_string(importance));
    if (show_as)
        json_object_set_new(body, "showAs", json_string(show_as));
    return body;
fail:
    json_decref(body);
    return NULL;
}

/* A UUID-shaped transactionId from (integration, aggregate, event id). */
static void transaction_id(const bl_connector_event *ev, char out[40])
{
    char seed[1400], hex[BL_SHA256_HEX_SIZE];
    int n = snprintf(seed, sizeof seed, "%s/%s/%s", ev->integration_id ? ev->integration_id : "", ev->subject, ev->id);
    bl_err err = {0};
    if (bl_sha256_hex(seed, (size_t)(n < (int)sizeof seed ? n : (int)sizeof seed - 1), hex, &err) != 0)
        memset(hex, '0', 64);
    snprintf(out, 40, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static void event_url(const msft *m, const char *id, char *out, size_t cap)
{
    char enc[800];
    if (id && bl_vendor_url_encode(id, enc, sizeof enc) != 0)
        snprintf(enc, sizeof enc, "-");
    int n = id ? snprintf(out, cap, "%s/%s/events/%s", m->base_url, m->owner, enc)
               : snprintf(out, cap, "%s/%s%s/events", m->base_url, m->owner, m->calendar);
    if (n < 0 || (size_t)n >= cap)
        out[0] = '\0'; /* cannot happen with the settings' caps; an empty URL fails the call */
}

static void linked_ok(const msft *m, const bl_connector_event *ev, const char *id, const char *verb,
                      bl_connector_result *r)
{
    snprintf(r->external_id, sizeof r->external_id, "%.*s", (int)sizeof r->external_id - 1, id);
    if (bl_saas_link_put(m->host, "event", ev->subject, id, r) == 0)
        bl_vendor_result(r, BL_CONNECTOR_OK, MSFT_NAME ": %s event %s", verb, r->external_id);
}

static void patch_event(const msft *m, const bl_connector_event *ev, const char *id, json_t *body,
                        bl_connector_result *r)
{
    char url[MSFT_URL_MAX];
    event_url(m, id, url, sizeof url);
    long status;
    json_t *done = msft_call(m, "PATCH", url, body, MSFT_NAME " update event", &status, r);
    if (done)
        linked_ok(m, ev, id, "updated", r);
    json_decref(done);
}

static void create_event(const void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    const msft *m = instance;
    char id[MSFT_ID_MAX], url[MSFT_URL_MAX], txn[40];
    int linked = bl_saas_link_get(m->host, "event", ev->subject, id, sizeof id, r);
    if (linked < 0)
        return;
    json_t *body = event_body(m, ev, 1, r);
    if (!body)
        return;
    if (linked == 1) {
        patch_event(m, ev, id, body, r);
        json_decref(body);
        return;
    }
    transaction_id(ev, txn);
    json_object_set_new(body, "transactionId", json_string(txn));
    event_url(m, NULL, url, sizeof url);
    long status;
    json_t *created = msft_call(m, "POST", url, body, MSFT_NAME " create event", &status, r);
    json_decref(body);
    if (!created)
        return;
    const char *new_id = json_string_value(json_object_get(created, "id"));
    if (!new_id || strlen(new_id) >= sizeof id)
        bl_vendor_result(r, BL_CONNECTOR_RETRYABLE, MSFT_NAME ": answer without an event id");
    else
        linked_ok(m, ev, new_id, "created", r);
    json_decref(created);
}

static void update_event(const void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    const msft *m = instance;
    char id[MSFT_ID_MAX];
    if (bl_saas_linked(m->host, MSFT_NAME, "event", ev->subject, "update", id, sizeof id, r) <= 0)
        return;
    json_t *body = event_body(m, ev, 0, r);
    if (body)
        patch_event(m, ev, id, body, r);
    json_decref(body);
}

static void delete_event(const void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    const msft *m = instance;
    char id[MSFT_ID_MAX], url[MSFT_URL_MAX];
    if (bl_saas_linked(m->host, MSFT_NAME, "event", ev->subject, "delete", id, sizeof id, r) <= 0)
        return;
    event_url(m, id, url, sizeof url);
    long status;
    json_t *done = msft_call(m, "DELETE", url, NULL, MSFT_NAME " delete event", &status, r);
    if (!done && status != 404)
        return;
    json_decref(done);
    bl_saas_unlink_deleted(m->host, MSFT_NAME, "event", ev->subject, id, status == 404, r);
}

static const bl_saas_action msft_action_table[] = {
    {"create_event", create_event},
    {"update_event", update_event},
    {"delete_event", delete_event},
    {NULL, NULL},
};

static void msft_handle(void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    bl_saas_dispatch(MSFT_NAME, msft_action_table, instance, ev, r);
}

static const bl_connector_table msft_table = {
    .abi_version = BL_CONNECTOR_ABI_VERSION,
    .struct_size = sizeof(bl_connector_table),
    .name = MSFT_NAME,
    .version = "1.0.0",
    .actions = msft_actions,
    .fields = msft_fields,
    .init = msft_init,
    .handle = msft_handle,
    .health = NULL,
    .shutdown = msft_shutdown,
};

const bl_connector_table *bl_microsoft_365_connector(void)
{
    return &msft_table;
}
