/* The Zoom connector (API v2): scheduled meetings with the organization's
 * defaults.
 *
 * Endpoints: POST {base}/users/{userId}/meetings (201 with the meeting),
 * PATCH and DELETE {base}/meetings/{meetingId} (204); base
 * https://api.zoom.us/v2. Auth: the server-to-server OAuth token of the
 * integration (connectors/oauth, account credentials, fetched again by the
 * host after a 401). Errors: {"code": 300, "message": "..."} (401: code 124,
 * 404: 3001 "Meeting does not exist"); 429 when rate limited.
 *
 * Settings (the organization's defaults): {"user_id": "me",
 *   "timezone": "Europe/Berlin", "default_duration_minutes": 60,
 *   "waiting_room": true, "mute_upon_entry": true, "join_before_host": false,
 *   "auto_recording": "cloud"|"local"|"none", "base_url": ...}
 * Template fields: topic and start (create_meeting), end or
 * duration_minutes, time_zone, agenda.
 *
 * One meeting per (integration, aggregate), linked under
 * "meeting/<subject>"; create_meeting on a linked aggregate patches it.
 * Zoom has no idempotency key: a create whose answer was lost (timeout,
 * 5xx, a crash before the link) may still have made the meeting. So each
 * create first marks "meeting-pending/<subject>" with its time, and a
 * create that finds such a mark first looks among the user's upcoming
 * meetings (GET /users/{userId}/meetings?type=upcoming, first 300) for one
 * it made: same topic, created since the mark, same start when the start
 * is an absolute time; found, it is linked and patched instead. */
#include "connectors/zoom/zoom.h"

#include "connectors/zoom/meeting_match.h"

#include "connectors/saas_common.h"
#include "connectors/vendor_http.h"

#include "core/clock.h"
#include "core/time_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ZOOM_NAME "zoom"
#define ZOOM_URL_MAX 2048
#define ZOOM_TOPIC_MAX 200   /* Zoom's limits */
#define ZOOM_AGENDA_MAX 2000
#define ZOOM_CLOCK_SKEW_MS 60000 /* between our clock and Zoom's created_at */

typedef struct zoom {
    const bl_connector_host *host;
    char base_url[512];
    char user_enc[800];
    char timezone[64], auto_recording[8];
    long default_minutes;
    int waiting_room, mute_upon_entry, join_before_host;
} zoom;

static const char *const zoom_actions[] = {"create_meeting", "update_meeting", "delete_meeting", NULL};

static const bl_connector_field zoom_fields[] = {
    {"topic", BL_CONNECTOR_ESCAPE_PLAIN, 1, "create_meeting"},
    {"start", BL_CONNECTOR_ESCAPE_PLAIN, 1, "create_meeting"},
    {"topic", BL_CONNECTOR_ESCAPE_PLAIN, 0, "update_meeting"},
    {"start", BL_CONNECTOR_ESCAPE_PLAIN, 0, "update_meeting"},
    {"end", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"duration_minutes", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"time_zone", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"agenda", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {NULL, 0, 0, NULL},
};

static int zoom_init(const char *settings_json, const bl_connector_host *host, void **instance, char *err,
                     size_t err_len)
{
    json_error_t jerr;
    json_t *s = json_loads(settings_json, 0, &jerr);
    zoom *z = calloc(1, sizeof *z);
    char user[256];
    if (!z || !json_is_object(s)) {
        snprintf(err, err_len, ZOOM_NAME ": settings: %s", z ? jerr.text : "out of memory");
        goto fail;
    }
    z->host = host;
    if (bl_saas_base_url(s, ZOOM_NAME, "https://api.zoom.us/v2", z->base_url, sizeof z->base_url, err, err_len) != 0 ||
        bl_saas_setting_str(s, ZOOM_NAME, "user_id", "me", user, sizeof user, err, err_len) != 0 ||
        bl_saas_setting_str(s, ZOOM_NAME, "timezone", "UTC", z->timezone, sizeof z->timezone, err, err_len) != 0 ||
        bl_saas_setting_str(s, ZOOM_NAME, "auto_recording", "none", z->auto_recording, sizeof z->auto_recording, err,
                            err_len) != 0 ||
        bl_saas_setting_int(s, ZOOM_NAME, "default_duration_minutes", 60, 1, 1440, &z->default_minutes, err,
                            err_len) != 0 ||
        bl_saas_setting_bool(s, ZOOM_NAME, "waiting_room", 1, &z->waiting_room, err, err_len) != 0 ||
        bl_saas_setting_bool(s, ZOOM_NAME, "mute_upon_entry", 1, &z->mute_upon_entry, err, err_len) != 0 ||
        bl_saas_setting_bool(s, ZOOM_NAME, "join_before_host", 0, &z->join_before_host, err, err_len) != 0)
        goto fail;
    if (strcmp(z->auto_recording, "cloud") != 0 && strcmp(z->auto_recording, "local") != 0 &&
        strcmp(z->auto_recording, "none") != 0) {
        snprintf(err, err_len, ZOOM_NAME ": settings.auto_recording: \"cloud\", \"local\" or \"none\"");
        goto fail;
    }
    if (bl_vendor_url_encode(user, z->user_enc, sizeof z->user_enc) != 0) {
        snprintf(err, err_len, ZOOM_NAME ": settings.user_id: too long");
        goto fail;
    }
    json_decref(s);
    *instance = z;
    return 0;
fail:
    json_decref(s);
    free(z);
    return -1;
}

static void zoom_shutdown(void *instance)
{
    free(instance);
}

/* Zoom's error body {"code", "message", "errors": [{"field","message"}]}. */
static int zoom_error_text(long status, const char *body, size_t len, char *msg, size_t cap)
{
    (void)status;
    json_t *j = json_loadb(body, len, 0, NULL);
    const char *m = json_string_value(json_object_get(j, "message"));
    if (m) {
        size_t o = (size_t)snprintf(msg, cap, "%s (code %lld)", m,
                                    (long long)json_integer_value(json_object_get(j, "code")));
        size_t i;
        const json_t *e;
        json_array_foreach(json_object_get(j, "errors"), i, e) {
            const char *f = json_string_value(json_object_get(e, "field"));
            const char *fm = json_string_value(json_object_get(e, "message"));
            if (f && fm && o < cap)
                o += (size_t)snprintf(msg + o, cap - o, "; %s: %s", f, fm);
        }
    }
    json_decref(j);
    return -1;
}

static json_t *zoom_call(const zoom *z, const char *method, const char *url, const json_t *body, const char *what,
                         long *status, bl_connector_result *r)
{
    char auth[4200];
    *status = 0;
    if (bl_saas_bearer(z->host, ZOOM_NAME, auth, sizeof auth, r) != 0)
        return NULL;
    bl_saas_request req = {.method = method, .url = url, .auth = auth, .body = body, .what = what,
                           .error_text = zoom_error_text};
    return bl_saas_call(z->host, &req, status, r);
}

/* The meeting object; full: a create with the organization's settings. */
static json_t *meeting_body(const zoom *z, const bl_connector_event *ev, int full, bl_connector_result *r)
{
    json_t *body = json_object();
    const char *topic = bl_saas_field(ev, "topic");
    if (full && !topic) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, ZOOM_NAME ": the topic rendered empty");
        goto fail;
    }
    if (topic)
        json_object_set_new(body, "topic", bl_zoom_capped_string(topic, ZOOM_TOPIC_MAX));
    if (full)
        json_object_set_new(body, "type", json_integer(2)); /* a scheduled meeting */
    if (full || bl_saas_field(ev, "start")) {
        bl_saas_time start, end;
        if (bl_saas_event_times(ev, ZOOM_NAME, z->default_minutes, &start, &end, r) != 0)
            goto fail;
        char text[32];
        bl_saas_time_format(&start, 1, text, sizeof text);
        const char *tz = bl_saas_field(ev, "time_zone");
        json_object_set_new(body, "start_time", json_string(text));
        json_object_set_new(body, "duration", json_integer((json_int_t)((end.ms - start.ms + 59999) / 60000)));
        json_object_set_new(body, "timezone", json_string(tz ? tz : z->timezone));
    }
    const char *agenda = bl_saas_field(ev, "agenda");
    if (agenda)
        json_object_set_new(body, "agenda", bl_zoom_capped_string(agenda, ZOOM_AGENDA_MAX));
    if (full)
        json_object_set_new(body, "settings",
                            json_pack("{s:b, s:b, s:s, s:b}", "waiting_room", z->waiting_room, "mute_upon_entry",
                                      z->mute_upon_entry, "auto_recording", z->auto_recording, "join_before_host",
                                      z->join_before_host));
    return body;
fail:
    json_decref(body);
    return NULL;
}

static void patch_meeting(const zoom *z, const bl_connector_event *ev, const char *id, json_t *body,
                          bl_connector_result *r)
{
    char url[ZOOM_URL_MAX];
    snprintf(url, sizeof url, "%s/meetings/%s", z->base_url, id);
    long status;
    json_t *done = zoom_call(z, "PATCH", url, body, ZOOM_NAME " update meeting", &status, r);
    if (!done)
        return;
    json_decref(done);
    snprintf(r->external_id, sizeof r->external_id, "%s", id);
    if (bl_saas_link_put(z->host, "meeting", ev->subject, id, r) == 0)
        bl_vendor_result(r, BL_CONNECTOR_OK, ZOOM_NAME ": updated meeting %s", id);
}

/* Looks for the meeting an earlier create of body may have made since
 * since_ms. Returns 1 with its id, 0 when there is none, -1 with r filled. */
static int find_lost_meeting(const zoom *z, const json_t *body, int64_t since_ms, char *id, size_t cap,
                             bl_connector_result *r)
{
    char url[ZOOM_URL_MAX];
    snprintf(url, sizeof url, "%s/users/%s/meetings?type=upcoming&page_size=300", z->base_url, z->user_enc);
    long status;
    json_t *list = zoom_call(z, "GET", url, NULL, ZOOM_NAME " list meetings", &status, r);
    if (!list)
        return -1;
    int found = bl_zoom_find_created(list, body, since_ms, id, cap) != NULL;
    json_decref(list);
    return found;
}

/* Forgets the create mark of subject; a failure only costs a lookup later. */
static void clear_pending(const zoom *z, const char *subject)
{
    bl_connector_result ignored = {0};
    bl_saas_link_put(z->host, "meeting-pending", subject, "", &ignored);
}

static void create_meeting(const void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    const zoom *z = instance;
    char id[64], url[ZOOM_URL_MAX];
    int linked = bl_saas_link_get(z->host, "meeting", ev->subject, id, sizeof id, r);
    if (linked < 0)
        return;
    json_t *body = meeting_body(z, ev, 1, r);
    if (!body)
        return;
    char mark[32];
    int pending = linked == 0 ? bl_saas_link_get(z->host, "meeting-pending", ev->subject, mark, sizeof mark, r) : 0;
    if (pending == 1) {
        linked = find_lost_meeting(z, body, strtoll(mark, NULL, 10) - ZOOM_CLOCK_SKEW_MS, id, sizeof id, r);
        if (linked == 1) {
            char line[300];
            snprintf(line, sizeof line, ZOOM_NAME ": meeting %s, made by an earlier create whose answer was lost,"
                     " is linked to %.150s", id, ev->subject);
            z->host->log(z->host->ctx, BL_CONNECTOR_LOG_WARN, line);
        }
    }
    if (linked < 0 || pending < 0) {
        json_decref(body);
        return;
    }
    if (linked == 1) {
        json_object_del(body, "type");
        patch_meeting(z, ev, id, body, r);
        json_decref(body);
        if (pending == 1 && r->status == BL_CONNECTOR_OK)
            clear_pending(z, ev->subject);
        return;
    }
    snprintf(mark, sizeof mark, "%lld", (long long)bl_clock_wall_ms());
    if (bl_saas_link_put(z->host, "meeting-pending", ev->subject, mark, r) != 0) {
        json_decref(body);
        return;
    }
    snprintf(url, sizeof url, "%s/users/%s/meetings", z->base_url, z->user_enc);
    long status;
    json_t *created = zoom_call(z, "POST", url, body, ZOOM_NAME " create meeting", &status, r);
    json_decref(body);
    if (!created)
        return;
    const json_t *mid = json_object_get(created, "id");
    if (!json_is_integer(mid)) {
        bl_vendor_result(r, BL_CONNECTOR_RETRYABLE, ZOOM_NAME ": answer without a meeting id");
    } else {
        snprintf(r->external_id, sizeof r->external_id, "%lld", (long long)json_integer_value(mid));
        if (bl_saas_link_put(z->host, "meeting", ev->subject, r->external_id, r) == 0) {
            bl_vendor_result(r, BL_CONNECTOR_OK, ZOOM_NAME ": created meeting %s", r->external_id);
            clear_pending(z, ev->subject);
        }
    }
    json_decref(created);
}

static void update_meeting(const void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    const zoom *z = instance;
    char id[64];
    if (bl_saas_linked(z->host, ZOOM_NAME, "meeting", ev->subject, "update", id, sizeof id, r) <= 0)
        return;
    json_t *body = meeting_body(z, ev, 0, r);
    if (body)
        patch_meeting(z, ev, id, body, r);
    json_decref(body);
}

static void delete_meeting(const void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    const zoom *z = instance;
    char id[64], url[ZOOM_URL_MAX];
    if (bl_saas_linked(z->host, ZOOM_NAME, "meeting", ev->subject, "delete", id, sizeof id, r) <= 0)
        return;
    snprintf(url, sizeof url, "%s/meetings/%s", z->base_url, id);
    long status;
    json_t *done = zoom_call(z, "DELETE", url, NULL, ZOOM_NAME " delete meeting", &status, r);
    if (!done && status != 404)
        return;
    json_decref(done);
    bl_saas_unlink_deleted(z->host, ZOOM_NAME, "meeting", ev->subject, id, status == 404, r);
}

static const bl_saas_action zoom_action_table[] = {
    {"create_meeting", create_meeting},
    {"update_meeting", update_meeting},
    {"delete_meeting", delete_meeting},
    {NULL, NULL},
};

static void zoom_handle(void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    bl_saas_dispatch(ZOOM_NAME, zoom_action_table, instance, ev, r);
}

static const bl_connector_table zoom_table = {
    .abi_version = BL_CONNECTOR_ABI_VERSION,
    .struct_size = sizeof(bl_connector_table),
    .name = ZOOM_NAME,
    .version = "1.0.0",
    .actions = zoom_actions,
    .fields = zoom_fields,
    .init = zoom_init,
    .handle = zoom_handle,
    .health = NULL,
    .shutdown = zoom_shutdown,
};

const bl_connector_table *bl_zoom_connector(void)
{
    return &zoom_table;
}
