/* A fake Zoom API v2: meetings create (201), list (upcoming), update and
 * delete (204), a meeting's cloud recording settings (PATCH
 * /meetings/{id}/recordings/settings, 204: a JSON object of the documented
 * fields only -- share_recording, recording_authentication,
 * authentication_option, authentication_domains, viewer_download,
 * password, on_demand, approval_type, send_email_to_host,
 * show_social_share_buttons, topic, auto_delete -- each of its type; kept
 * on the meeting as "recording_settings"), the participants report of a past meeting
 * (GET /report/meetings/{id}/participants: page_size 1..300, default 30,
 * next_page_token of the next page, "" on the last; 404 code 3001 for a
 * meeting without a report), bearer auth, errors as {"code","message"}. */
#include "tests/support/fake_saas.h"

#include "core/time_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

json_t *bl_fake_zoom_error(int status, const char *message)
{
    int code = status == 401 ? 124 : status == 429 ? 429 : status == 404 ? 3001 : 300;
    const char *m = message ? message
                    : status == 401 ? "Invalid access token."
                    : status == 429 ? "You have reached the maximum per-second rate limit for this API. Try again later."
                                    : "Validation Failed.";
    return json_pack("{s:i, s:s}", "code", code, "message", m);
}

/* Zoom's 404 for meeting id: code 3001. */
static void meeting_not_found(bl_http_response *resp, const char *id)
{
    char msg[120];
    snprintf(msg, sizeof msg, "Meeting does not exist: %s.", id);
    json_t *b = bl_fake_zoom_error(404, msg);
    bl_http_response_json(resp, 404, b);
    json_decref(b);
}

static const char *meeting_problem(const json_t *b, int create)
{
    const json_t *v, *s;
    if (!json_is_object(b))
        return "Request Body should be a valid JSON object.";
    if ((v = json_object_get(b, "topic")) && (!json_is_string(v) || json_string_length(v) > 200))
        return "topic: at most 200 characters";
    json_int_t type = json_integer_value(json_object_get(b, "type"));
    if (create && !json_is_integer(json_object_get(b, "type")))
        return "type is required";
    if (json_object_get(b, "type") && type != 1 && type != 2 && type != 3 && type != 8)
        return "type: 1, 2, 3 or 8";
    const char *st = json_string_value(json_object_get(b, "start_time"));
    if (create && type == 2 && !st)
        return "start_time is required for a scheduled meeting";
    if (st && (strlen(st) < 19 || st[10] != 'T' || strchr(st + 19, '+')))
        return "start_time: yyyy-MM-ddTHH:mm:ssZ or a local time with timezone";
    if ((v = json_object_get(b, "duration")) && (!json_is_integer(v) || json_integer_value(v) < 1))
        return "duration: minutes as an integer";
    if ((v = json_object_get(b, "agenda")) && (!json_is_string(v) || json_string_length(v) > 2000))
        return "agenda: at most 2000 characters";
    if ((v = json_object_get(b, "timezone")) && !json_is_string(v))
        return "timezone: a string";
    if ((v = json_object_get(b, "default_password")) && !json_is_boolean(v))
        return "default_password: a boolean";
    if ((v = json_object_get(b, "password")) && (!json_is_string(v) || json_string_length(v) > 10))
        return "password: at most 10 characters";
    if ((s = json_object_get(b, "settings"))) {
        const char *rec = json_string_value(json_object_get(s, "auto_recording"));
        if (rec && strcmp(rec, "local") != 0 && strcmp(rec, "cloud") != 0 && strcmp(rec, "none") != 0)
            return "settings.auto_recording: local, cloud or none";
        static const char *const flags[] = {"waiting_room", "mute_upon_entry", "join_before_host"};
        for (size_t i = 0; i < 3; i++)
            if ((v = json_object_get(s, flags[i])) && !json_is_boolean(v))
                return "settings flags must be booleans";
    }
    return NULL;
}

static int checks(bl_fake_saas *f, const bl_http_request *req, bl_http_response *resp, int create)
{
    const char *why;
    if (!bl_fake_saas_content_type_is(req, "application/json"))
        return bl_fake_saas_refuse(f, resp, "Content-Type must be application/json"), -1;
    if ((why = meeting_problem(f->last_body, create)))
        return bl_fake_saas_refuse(f, resp, why), -1;
    return 0;
}

static int meeting_create(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    if (!bl_fake_saas_begin(f, req, resp) && checks(f, req, resp, 1) == 0) {
        long long id = 85746065000LL + f->next_id++;
        char key[32], join[80];
        snprintf(key, sizeof key, "%lld", id);
        snprintf(join, sizeof join, "https://zoom.us/j/%lld?pwd=x", id);
        json_t *m = json_deep_copy(f->last_body);
        json_object_set_new(m, "id", json_integer(id));
        json_object_set_new(m, "uuid", json_string("aDYlohsHRtCd4ii1uC2+hA=="));
        json_object_set_new(m, "host_id", json_string(bl_http_request_param(req, "user")));
        json_object_set_new(m, "status", json_string("waiting"));
        json_object_set_new(m, "join_url", json_string(join));
        json_object_set_new(m, "start_url", json_string("https://zoom.us/s/x"));
        char now[32];
        bl_rfc3339_format_millis((int64_t)time(NULL) * 1000, now, sizeof now);
        snprintf(now + 19, sizeof now - 19, "Z"); /* Zoom writes whole seconds */
        json_object_set_new(m, "created_at", json_string(now));
        json_object_set_new(f->objects, key, m);
        f->creates++;
        if (f->lose_create_answers > 0) {
            f->lose_create_answers--; /* made, but the answer is lost on the way */
            json_t *e = bl_fake_zoom_error(502, "Bad gateway");
            bl_http_response_json(resp, 502, e);
            json_decref(e);
        } else {
            bl_http_response_json(resp, 201, m);
        }
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int meeting_list(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    if (!bl_fake_saas_begin(f, req, resp)) {
        json_t *meetings = json_array();
        const char *key;
        json_t *m;
        json_object_foreach(f->objects, key, m)
        {
            (void)key;
            json_array_append_new(meetings, json_pack("{s:O, s:O, s:O, s:O, s:O}", "id", json_object_get(m, "id"),
                                                      "topic", json_object_get(m, "topic"), "start_time",
                                                      json_object_get(m, "start_time"), "created_at",
                                                      json_object_get(m, "created_at"), "join_url",
                                                      json_object_get(m, "join_url")));
        }
        json_t *b = json_pack("{s:i, s:I, s:s, s:o}", "page_size", 300, "total_records",
                              (json_int_t)json_array_size(meetings), "next_page_token", "", "meetings", meetings);
        bl_http_response_json(resp, 200, b);
        json_decref(b);
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int meeting_update_or_delete(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    const char *id = bl_http_request_param(req, "meeting");
    json_t *m = json_object_get(f->objects, id);
    int del = strcmp(bl_http_request_method(req), "DELETE") == 0;
    if (!bl_fake_saas_begin(f, req, resp) && (del || checks(f, req, resp, 0) == 0)) {
        if (!m) {
            meeting_not_found(resp, id);
        } else {
            if (del)
                json_object_del(f->objects, id);
            else
                json_object_update(m, f->last_body);
            bl_http_response_status(resp, 204);
        }
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

/* Why body is not a recording settings update as Zoom documents it, or NULL. */
static const char *recording_settings_problem(const json_t *b)
{
    static const struct {
        const char *name;
        json_type type;
    } fields[] = {{"share_recording", JSON_STRING}, {"recording_authentication", JSON_TRUE},
                  {"authentication_option", JSON_STRING}, {"authentication_domains", JSON_STRING},
                  {"viewer_download", JSON_TRUE}, {"password", JSON_STRING}, {"on_demand", JSON_TRUE},
                  {"approval_type", JSON_INTEGER}, {"send_email_to_host", JSON_TRUE},
                  {"show_social_share_buttons", JSON_TRUE}, {"topic", JSON_STRING}, {"auto_delete", JSON_TRUE}};
    if (!json_is_object(b) || json_object_size(b) == 0)
        return "Request Body should be a valid JSON object.";
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)b, key, v) {
        size_t i = 0;
        while (i < sizeof fields / sizeof fields[0] && strcmp(fields[i].name, key) != 0)
            i++;
        if (i == sizeof fields / sizeof fields[0])
            return "Invalid field.";
        if (fields[i].type == JSON_TRUE ? !json_is_boolean(v) : json_typeof(v) != fields[i].type)
            return "Validation Failed: a field of the wrong type.";
    }
    const char *share = json_string_value(json_object_get(b, "share_recording"));
    if (share && strcmp(share, "publicly") && strcmp(share, "internally") && strcmp(share, "none"))
        return "share_recording: publicly, internally or none";
    const json_t *a = json_object_get(b, "approval_type");
    if (a && (json_integer_value(a) < 0 || json_integer_value(a) > 2))
        return "approval_type: 0, 1 or 2";
    return NULL;
}

static int recording_settings_update(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    const char *id = bl_http_request_param(req, "meeting");
    json_t *m = json_object_get(f->objects, id);
    const char *why;
    if (!bl_fake_saas_begin(f, req, resp)) {
        if (!bl_fake_saas_content_type_is(req, "application/json")) {
            bl_fake_saas_refuse(f, resp, "Content-Type must be application/json");
        } else if ((why = recording_settings_problem(f->last_body))) {
            bl_fake_saas_refuse(f, resp, why);
        } else if (!m) {
            meeting_not_found(resp, id);
        } else {
            json_t *rs = json_object_get(m, "recording_settings");
            if (!rs)
                json_object_set_new(m, "recording_settings", rs = json_object());
            json_object_update(rs, f->last_body);
            bl_http_response_status(resp, 204);
        }
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

void bl_fake_zoom_set_participants(bl_fake_saas *f, const char *meeting_id, const json_t *rows)
{
    pthread_mutex_lock(&f->lock);
    if (!f->zoom_reports)
        f->zoom_reports = json_object();
    json_object_set_new(f->zoom_reports, meeting_id, json_deep_copy(rows));
    pthread_mutex_unlock(&f->lock);
}

static int report_participants(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    const char *id = bl_http_request_param(req, "meeting");
    const json_t *rows = json_object_get(f->zoom_reports, id);
    const char *size_text = bl_http_request_query(req, "page_size");
    const char *token = bl_http_request_query(req, "next_page_token");
    long size = size_text ? atol(size_text) : 30;
    long from = 0;
    if (!bl_fake_saas_begin(f, req, resp)) {
        if (size < 1 || size > 300) {
            bl_fake_saas_refuse(f, resp, "page_size: 1 to 300");
        } else if (token && *token && (strncmp(token, "pg", 2) != 0 || (from = atol(token + 2)) <= 0 ||
                                       from >= (long)json_array_size(rows))) {
            bl_fake_saas_refuse(f, resp, "next_page_token: not one this report handed out");
        } else if (!rows) {
            meeting_not_found(resp, id);
        } else {
            json_t *page = json_array();
            long total = (long)json_array_size(rows);
            for (long i = from; i < total && i < from + size; i++)
                json_array_append(page, json_array_get(rows, (size_t)i));
            char next[32] = "";
            if (from + size < total)
                snprintf(next, sizeof next, "pg%ld", from + size);
            json_t *b = json_pack("{s:I, s:I, s:I, s:s, s:o}", "page_count", (json_int_t)((total + size - 1) / size),
                                  "page_size", (json_int_t)size, "total_records", (json_int_t)total,
                                  "next_page_token", next, "participants", page);
            f->zoom_report_pages++;
            bl_http_response_json(resp, 200, b);
            json_decref(b);
        }
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

int bl_fake_zoom_routes(bl_fake_saas *f, bl_err *err)
{
    if (bl_http_server_route(f->server, "GET", "/report/meetings/:meeting/participants", report_participants, f,
                             err) != 0)
        return -1;
    if (bl_http_server_route(f->server, "POST", "/users/:user/meetings", meeting_create, f, err) != 0 ||
        bl_http_server_route(f->server, "GET", "/users/:user/meetings", meeting_list, f, err) != 0 ||
        bl_http_server_route(f->server, "PATCH", "/meetings/:meeting", meeting_update_or_delete, f, err) != 0 ||
        bl_http_server_route(f->server, "PATCH", "/meetings/:meeting/recordings/settings", recording_settings_update, f,
                             err) != 0 ||
        bl_http_server_route(f->server, "DELETE", "/meetings/:meeting", meeting_update_or_delete, f, err) != 0)
        return -1;
    return 0;
}
