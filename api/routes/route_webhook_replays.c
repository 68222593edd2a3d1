/* /v1/webhooks/replays (see webhook_replay_api.h):
 *   POST   /v1/webhooks/replays             {since, until?, endpoint_id?} -> 202 {"data": job}
 *   GET    /v1/webhooks/replays             the organization's jobs, newest first (paginated)
 *   GET    /v1/webhooks/replays/:id         one job with its progress
 *   POST   /v1/webhooks/replays/:id/cancel  stops it (409 when it had ended)
 * Starting and cancelling are admin only, reading needs read. A bad window
 * (until not after since, since in the future, a webhook that is not the
 * organization's) is a 422 with field_errors; another organization's job
 * is "not found". */
#include "api/routes/webhook_replay_api.h"

#include "api/routes/webhook_api.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/time_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bl_api_replay_job_request(const bl_api_request *req, bl_webhook_store *st, const char *endpoint_id,
                              int64_t since_ms, int64_t until_ms, bl_replay_job *out, bl_err *err)
{
    char by[BL_API_ID_MAX + 8];
    snprintf(by, sizeof by, "%s:%s", req->auth->key_id[0] ? "key" : "user",
             req->auth->key_id[0] ? req->auth->key_id : req->auth->user_id);
    return bl_replay_job_request(bl_api_server_pool(req->server), st, req->auth->org_id, endpoint_id, since_ms,
                                 until_ms, bl_clock_wall_ms(), by, out, err);
}

static json_t *time_or_null(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char text[40];
    bl_rfc3339_format_millis(ms, text, sizeof text);
    return json_string(text);
}

json_t *bl_api_replay_job_json(const bl_replay_job *j)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I}, s:o, s:o, s:o, s:o, s:s, s:i}",
                     "id", j->id, "status", j->status,
                     "endpoint_id", j->endpoint_id[0] ? json_string(j->endpoint_id) : json_null(),
                     "since", time_or_null(j->since_ms), "until", time_or_null(j->until_ms),
                     "progress", "events_scanned", (json_int_t)j->counts.scanned, "events_matched",
                     (json_int_t)j->counts.matched, "deliveries_enqueued", (json_int_t)j->counts.enqueued,
                     "events_skipped", (json_int_t)j->counts.skipped,
                     "created_at", time_or_null(j->requested_ms), "started_at", time_or_null(j->started_ms),
                     "finished_at", time_or_null(j->finished_ms),
                     "error", j->error[0] ? json_string(j->error) : json_null(), "requested_by",
                     j->requested_by, "attempts", j->attempts);
}

static int answer_job(bl_http_response *resp, int status, const bl_replay_job *j)
{
    json_t *data = bl_api_replay_job_json(j);
    json_t *out = data ? json_pack("{s:o}", "data", data) : NULL;
    int rc = out ? bl_http_response_json(resp, status, out) : -1;
    json_decref(out);
    return rc;
}

static int answer_invalid(const bl_api_request *req, bl_http_response *resp, const char *field, const char *why)
{
    return bl_api_fail(req->http, resp, 422, NULL, "the replay is not valid", json_pack("{s:s}", field, why));
}

/* Reads the body's RFC 3339 field name into *ms (0 when absent and not
 * required). Returns 0, or answers a 422 and returns 1 (*rc set). */
static int read_time(const bl_api_request *req, bl_http_response *resp, const char *name, int required,
                     int64_t *ms, int *rc)
{
    json_t *v = json_object_get(req->body, name);
    *ms = 0;
    if (!v && !required)
        return 0;
    if (!json_is_string(v) || bl_rfc3339_parse_millis(json_string_value(v), ms) != 0) {
        *rc = answer_invalid(req, resp, name, "an RFC 3339 time, e.g. 2026-02-02T15:00:00Z");
        return 1;
    }
    return 0;
}

static int start_replay(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    int rc = -1;
    if (!json_is_object(req->body))
        return answer_invalid(req, resp, "body", "{\"since\": RFC 3339, \"until\"?: RFC 3339, \"endpoint_id\"?}");
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)req->body, key, value) {
        if (strcmp(key, "since") != 0 && strcmp(key, "until") != 0 && strcmp(key, "endpoint_id") != 0)
            return answer_invalid(req, resp, key, "unknown field (since, until, endpoint_id are accepted)");
    }
    int64_t since_ms, until_ms;
    if (read_time(req, resp, "since", 1, &since_ms, &rc) || read_time(req, resp, "until", 0, &until_ms, &rc))
        return rc;
    json_t *ep = json_object_get(req->body, "endpoint_id");
    if (ep && !json_is_null(ep) && (!json_is_string(ep) || !json_string_length(ep)))
        return answer_invalid(req, resp, "endpoint_id", "a webhook id, or null for every webhook");
    if (until_ms && until_ms <= since_ms)
        return answer_invalid(req, resp, "until", "must be later than since");
    bl_api_webhook_env env;
    bl_replay_job job;
    bl_err err = {0};
    if (bl_api_webhook_env_open_logged(req, 0, &env) != 0)
        goto done;
    if (bl_api_replay_job_request(req, env.store, json_string_value(ep), since_ms, until_ms, &job, &err) != 0) {
        if (err.code == BL_EINVAL) {
            /* the message starts with the field: "since: must be in the past" */
            char field[16] = "since";
            const char *colon = strchr(err.msg, ':');
            if (colon && (size_t)(colon - err.msg) < sizeof field)
                snprintf(field, sizeof field, "%.*s", (int)(colon - err.msg), err.msg);
            rc = answer_invalid(req, resp, field, colon ? colon + 2 : err.msg);
        } else if (err.code == BL_ENOTFOUND) {
            rc = answer_invalid(req, resp, "endpoint_id", "no such webhook in this organization");
        } else if (err.code == BL_ECONFLICT) {
            rc = bl_api_fail(req->http, resp, 409, NULL, "the webhook is disabled: enable it first", NULL);
        } else {
            bl_log_error("api: replay job not recorded", BL_FS("request_id", bl_http_request_id(req->http)),
                         BL_FS("error", err.msg));
        }
        goto done;
    }
    rc = answer_job(resp, 202, &job);
done:
    bl_api_webhook_env_close(&env);
    return rc;
}

static int list_replays(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    long limit, offset, total = 0;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    bl_api_page_read(req->http, &limit, &offset, errors);
    if (json_object_size(errors))
        return bl_api_fail(req->http, resp, 400, NULL, "bad query parameters", errors);
    json_decref(errors);
    bl_replay_job *jobs = NULL;
    size_t n = 0;
    bl_err err = {0};
    if (bl_replay_job_list(bl_api_server_pool(req->server), req->auth->org_id, limit, offset, &jobs, &n, &total,
                           &err) != 0) {
        bl_log_error("api: replay jobs not listed", BL_FS("error", err.msg));
        return -1;
    }
    json_t *data = json_array();
    for (size_t i = 0; data && i < n; i++)
        json_array_append_new(data, bl_api_replay_job_json(&jobs[i]));
    free(jobs);
    json_t *out = bl_api_page_envelope(data, total, limit, offset);
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

static int not_found(const bl_api_request *req, bl_http_response *resp)
{
    return bl_api_fail(req->http, resp, 404, NULL, "no such replay in this organization", NULL);
}

static int show_replay(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    bl_replay_job job;
    bl_err err = {0};
    int got = bl_replay_job_get(bl_api_server_pool(req->server), req->auth->org_id,
                                bl_http_request_param(req->http, "id"), &job, &err);
    if (got < 0)
        bl_log_error("api: replay job not read", BL_FS("error", err.msg));
    return got < 0 ? -1 : got == 0 ? not_found(req, resp) : answer_job(resp, 200, &job);
}

static int cancel_replay(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    bl_replay_job job;
    bl_err err = {0};
    int got = bl_replay_job_cancel(bl_api_server_pool(req->server), req->auth->org_id,
                                   bl_http_request_param(req->http, "id"), &job, &err);
    if (got < 0 && err.code == BL_ECONFLICT)
        return bl_api_fail(req->http, resp, 409, NULL, "the replay has already ended",
                           json_pack("{s:s}", "status", job.status));
    if (got < 0)
        bl_log_error("api: replay job not cancelled", BL_FS("error", err.msg));
    return got < 0 ? -1 : got == 0 ? not_found(req, resp) : answer_job(resp, 200, &job);
}

const bl_api_route bl_api_webhook_replay_routes[] = {
    {"POST", "/v1/webhooks/replays", BL_API_ADMIN, start_replay},
    {"GET", "/v1/webhooks/replays", BL_API_BY_METHOD, list_replays},
    {"GET", "/v1/webhooks/replays/:id", BL_API_BY_METHOD, show_replay},
    {"POST", "/v1/webhooks/replays/:id/cancel", BL_API_ADMIN, cancel_replay},
};

const size_t bl_api_webhook_replay_route_count =
    sizeof bl_api_webhook_replay_routes / sizeof bl_api_webhook_replay_routes[0];
