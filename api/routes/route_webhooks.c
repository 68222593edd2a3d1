/* /v1/webhooks: endpoint management for the caller's organization: list,
 * create (the secret is in the answer once), show, partial update, delete,
 * enable (optionally asking for a replay of what was missed), disable and
 * secret rotation. Reports (test delivery, logs, stats, event types) live in
 * route_webhook_reports.c. Reads need the read permission; everything else
 * is admin only. Another organization's endpoint is "not found". */
#include "api/routes/routes.h"
#include "api/routes/v1_operations.h"
#include "api/routes/webhook_api.h"
#include "api/routes/webhook_replay_api.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/time_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OVERLAP_MAX_MS (30LL * 24 * 3600 * 1000)

/* Answers the endpoint as JSON with status, adding extra's keys (stolen, may be NULL). */
static int answer_endpoint(const bl_api_request *req, bl_http_response *resp, int status,
                           const bl_webhook_endpoint *e, json_t *extra)
{
    json_t *last = bl_api_webhook_last_triggered(req->server, req->auth->org_id, e->id);
    json_t *creators = last ? bl_api_webhook_creators(req->server, req->auth->org_id, e->id) : NULL;
    json_t *j = creators ? bl_api_webhook_json(e, last, creators) : NULL;
    json_decref(last);
    json_decref(creators);
    if (j && extra)
        json_object_update(j, extra);
    json_decref(extra);
    int rc = j ? bl_http_response_json(resp, status, j) : -1;
    json_decref(j);
    return rc;
}

static int answer_invalid(const bl_api_request *req, bl_http_response *resp, json_t *errors)
{
    return bl_api_fail(req->http, resp, 422, NULL, "the request is not valid", errors);
}

/* sort=field.asc|desc over these (default created_at.desc, newest first). */
static const char *const webhook_sorts[] = {"created_at", "updated_at", "name", "url", NULL};

typedef struct sort_by {
    const char *field;
    bool desc;
} sort_by;

static int endpoint_cmp(const void *a, const void *b, void *arg)
{
    const sort_by *by = arg;
    const char *sort_field = by->field;
    const bl_webhook_endpoint *x = *(bl_webhook_endpoint *const *)a, *y = *(bl_webhook_endpoint *const *)b;
    int c = 0;
    if (strcmp(sort_field, "name") == 0)
        c = strcmp(x->name, y->name);
    else if (strcmp(sort_field, "url") == 0)
        c = strcmp(x->url, y->url);
    else if (strcmp(sort_field, "updated_at") == 0)
        c = (x->updated_ms > y->updated_ms) - (x->updated_ms < y->updated_ms);
    else
        c = (x->created_ms > y->created_ms) - (x->created_ms < y->created_ms);
    if (c == 0)
        c = strcmp(x->id, y->id);
    return by->desc ? -c : c;
}

static int list_webhooks(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    long limit, offset;
    const char *column = "created_at", *direction = "DESC";
    json_t *errors = json_object();
    if (!errors)
        return -1;
    bl_api_page_read(req->http, &limit, &offset, errors);
    bl_api_sort_read(req->http, webhook_sorts, &column, &direction, errors);
    if (json_object_size(errors))
        return bl_api_fail(req->http, resp, 400, NULL, "bad query parameters", errors);
    json_decref(errors);
    bl_api_webhook_env env;
    bl_webhook_endpoint_list list = {0};
    json_t *last = NULL, *creators = NULL;
    bl_err err = {0};
    int rc = -1;
    if (bl_api_webhook_env_open_logged(req, 0, &env) != 0 ||
        bl_webhook_store_list(env.store, req->auth->org_id, false, &list, &err) != 0 ||
        !(last = bl_api_webhook_last_triggered(req->server, req->auth->org_id, NULL)) ||
        !(creators = bl_api_webhook_creators(req->server, req->auth->org_id, NULL)))
        goto done;
    /* an organization has few endpoints: sorted here rather than in the store's SQL */
    sort_by by = {.field = column, .desc = strcmp(direction, "DESC") == 0};
    if (list.count > 1)
        qsort_r(list.items, list.count, sizeof *list.items, endpoint_cmp, &by);
    json_t *data = json_array();
    for (size_t i = (size_t)offset; data && i < list.count && i < (size_t)(offset + limit); i++)
        json_array_append_new(data, bl_api_webhook_json(list.items[i], last, creators));
    json_t *out = bl_api_page_envelope(data, (long)list.count, limit, offset);
    rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
done:
    json_decref(last);
    json_decref(creators);
    bl_webhook_endpoint_list_free(&list);
    bl_api_webhook_env_close(&env);
    return rc;
}

/* Applies the body's is_active (if any) to endpoint e: enable or disable.
 * Returns e as it is after (caller frees), or NULL with err. */
static bl_webhook_endpoint *apply_is_active(const bl_api_request *req, bl_webhook_store *st,
                                            const bl_webhook_endpoint *e, bl_err *err)
{
    json_t *v = json_object_get(req->body, "is_active");
    if (v && json_is_true(v) != e->active &&
        (json_is_true(v) ? bl_webhook_store_enable(st, e->id, err)
                         : bl_webhook_store_disable(st, e->id, "is_active set to false", err)) != 0)
        return NULL;
    return bl_webhook_store_get(st, e->id, err);
}

static int create_webhook(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    bl_api_webhook_spec_buf spec;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    if (bl_api_webhook_spec_read(req->body, NULL, &spec, errors) != 0)
        return bl_api_fail(req->http, resp, 422, NULL, "the webhook endpoint is not valid", errors);
    json_decref(errors);
    bl_api_webhook_env env;
    bool state = json_object_get(req->body, "is_active") != NULL;
    if (bl_api_webhook_env_open_logged(req, BL_API_WH_KEYRING | BL_API_WH_EVENTS, &env) != 0) {
        bl_api_webhook_env_close(&env);
        return -1;
    }
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_err err = {0};
    bl_webhook_endpoint *e =
        bl_webhook_store_create(env.store, req->auth->org_id, &spec.spec, secret, sizeof secret, &err);
    /* created: a failure to name its creator leaves created_by null (unknown), never a second endpoint */
    bl_err by_err = {0};
    if (e && bl_api_webhook_set_creator(req, e->id, &by_err) != 0)
        bl_log_error("api: webhook creator not recorded", BL_FS("endpoint_id", e->id), BL_FS("error", by_err.msg));
    if (e && state) {
        bl_webhook_endpoint *after = apply_is_active(req, env.store, e, &err);
        bl_webhook_endpoint_free(e);
        e = after;
    }
    int rc;
    if (!e) {
        rc = bl_api_webhook_fail(req, resp, &err);
    } else {
        char location[128];
        snprintf(location, sizeof location, "/v1/webhooks/%s", e->id);
        rc = answer_endpoint(req, resp, 201, e, json_pack("{s:s}", "secret", secret));
        bl_http_response_header(resp, "Location", location);
    }
    memset(secret, 0, sizeof secret);
    bl_webhook_endpoint_free(e);
    bl_api_webhook_env_close(&env);
    return rc;
}

static int show_webhook(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    bl_api_webhook_env env;
    int rc = -1;
    if (bl_api_webhook_env_open_logged(req, 0, &env) == 0) {
        bl_webhook_endpoint *e = bl_api_webhook_find(req, env.store, resp, &rc);
        if (e)
            rc = answer_endpoint(req, resp, 200, e, NULL);
        bl_webhook_endpoint_free(e);
    }
    bl_api_webhook_env_close(&env);
    return rc;
}

static int update_webhook(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    bl_api_webhook_env env;
    bl_webhook_endpoint *e = NULL, *saved = NULL;
    json_t *errors = NULL;
    int rc = -1;
    /* choosing a scheme may draw an ed25519 pair, sealed with the keyring */
    int needs = BL_API_WH_EVENTS | (json_object_get(req->body, "signature_scheme") ? BL_API_WH_KEYRING : 0);
    /* a TLS client key is sealed with it too */
    if (json_object_get(req->body, "tls"))
        needs |= BL_API_WH_KEYRING;
    if (json_object_get(req->body, "kafka"))
        needs |= BL_API_WH_KEYRING; /* a Kafka destination's password too */
    if (bl_api_webhook_env_open_logged(req, needs, &env) != 0 ||
        !(e = bl_api_webhook_find(req, env.store, resp, &rc)))
        goto done;
    bl_api_webhook_spec_buf spec;
    if (!(errors = json_object()))
        goto done;
    if (bl_api_webhook_spec_read(req->body, e, &spec, errors) != 0) {
        rc = bl_api_fail(req->http, resp, 422, NULL, "the webhook endpoint is not valid", errors);
        errors = NULL;
        goto done;
    }
    bl_err err = {0};
    saved = bl_webhook_store_update(env.store, e->id, &spec.spec, &err);
    if (saved && json_object_get(req->body, "is_active")) {
        bl_webhook_endpoint *after = apply_is_active(req, env.store, saved, &err);
        bl_webhook_endpoint_free(saved);
        saved = after;
    }
    rc = saved ? answer_endpoint(req, resp, 200, saved, NULL) : bl_api_webhook_fail(req, resp, &err);
done:
    json_decref(errors);
    bl_webhook_endpoint_free(saved);
    bl_webhook_endpoint_free(e);
    bl_api_webhook_env_close(&env);
    return rc;
}

static int delete_webhook(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    bl_api_webhook_env env;
    bl_webhook_endpoint *e = NULL;
    int rc = -1;
    if (bl_api_webhook_env_open_logged(req, BL_API_WH_EVENTS, &env) == 0 &&
        (e = bl_api_webhook_find(req, env.store, resp, &rc))) {
        bl_err err = {0};
        if (bl_webhook_store_delete(env.store, e->id, &err) == 0) {
            bl_http_response_status(resp, 204);
            rc = 0;
        } else {
            rc = bl_api_webhook_fail(req, resp, &err);
        }
    }
    bl_webhook_endpoint_free(e);
    bl_api_webhook_env_close(&env);
    return rc;
}

/* Records a replay job of e since since_ms until now; the fan-out role's
 * replay poller (connectors/webhook/workers/replay_jobs.h) carries it out.
 * Returns its description (new reference) or NULL. */
static json_t *record_replay(const bl_api_request *req, bl_webhook_store *st, const bl_webhook_endpoint *e,
                             int64_t since_ms)
{
    bl_replay_job job;
    bl_err err = {0};
    if (bl_api_replay_job_request(req, st, e->id, since_ms, 0, &job, &err) != 0) {
        bl_log_error("api: replay job not recorded", BL_FS("endpoint_id", e->id), BL_FS("error", err.msg));
        return NULL;
    }
    json_t *out = bl_api_replay_job_json(&job);
    if (out)
        json_object_set_new(out, "message", json_string("the replay of missed events is queued; the webhook "
                                                         "fan-out carries it out (GET /v1/webhooks/replays/:id)"));
    return out;
}

static int enable_webhook(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    json_t *v = json_object_get(req->body, "replay_since");
    int64_t since_ms = 0;
    if (req->body && (!json_is_object(req->body) || json_object_size(req->body) != (v ? 1u : 0u)))
        return answer_invalid(req, resp, json_pack("{s:s}", "body", "only {\"replay_since\": RFC 3339} is accepted"));
    if (v && (!json_string_value(v) || bl_rfc3339_parse_millis(json_string_value(v), &since_ms) != 0 ||
              since_ms >= bl_clock_wall_ms()))
        return answer_invalid(req, resp, json_pack("{s:s}", "replay_since", "an RFC 3339 time in the past"));
    bl_api_webhook_env env;
    bl_webhook_endpoint *e = NULL, *after = NULL;
    json_t *replay = NULL;
    bl_err err = {0};
    int rc = -1;
    if (bl_api_webhook_env_open_logged(req, BL_API_WH_EVENTS, &env) != 0 || !(e = bl_api_webhook_find(req, env.store, resp, &rc)))
        goto done;
    if (bl_webhook_store_enable(env.store, e->id, &err) != 0) {
        rc = bl_api_webhook_fail(req, resp, &err);
        goto done;
    }
    if (v && !(replay = record_replay(req, env.store, e, since_ms))) {
        rc = -1;
        goto done;
    }
    if (!(after = bl_webhook_store_get(env.store, e->id, &err))) {
        rc = bl_api_webhook_fail(req, resp, &err);
        goto done;
    }
    rc = answer_endpoint(req, resp, 200, after, replay ? json_pack("{s:O}", "replay", replay) : NULL);
done:
    json_decref(replay);
    bl_webhook_endpoint_free(after);
    bl_webhook_endpoint_free(e);
    bl_api_webhook_env_close(&env);
    return rc;
}

static int disable_webhook(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    json_t *v = json_object_get(req->body, "reason");
    const char *reason = json_string_value(v);
    if (req->body && (!json_is_object(req->body) || json_object_size(req->body) != (v ? 1u : 0u)))
        return answer_invalid(req, resp, json_pack("{s:s}", "body", "only {\"reason\": text} is accepted"));
    if (v && !json_is_null(v) && (!reason || strlen(reason) > BL_WEBHOOK_REASON_MAX))
        return answer_invalid(req, resp, json_pack("{s:s}", "reason", "a text of at most 500 bytes"));
    bl_api_webhook_env env;
    bl_webhook_endpoint *e = NULL, *after = NULL;
    bl_err err = {0};
    int rc = -1;
    if (bl_api_webhook_env_open_logged(req, BL_API_WH_EVENTS, &env) != 0 || !(e = bl_api_webhook_find(req, env.store, resp, &rc)))
        goto done;
    if (bl_webhook_store_disable(env.store, e->id, reason, &err) != 0 ||
        !(after = bl_webhook_store_get(env.store, e->id, &err)))
        rc = bl_api_webhook_fail(req, resp, &err);
    else
        rc = answer_endpoint(req, resp, 200, after, NULL);
done:
    bl_webhook_endpoint_free(after);
    bl_webhook_endpoint_free(e);
    bl_api_webhook_env_close(&env);
    return rc;
}

static int rotate_secret(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    json_t *v = json_object_get(req->body, "overlap");
    int64_t overlap_ms = BL_WEBHOOK_DEFAULT_OVERLAP_MS;
    if (req->body && (!json_is_object(req->body) || json_object_size(req->body) != (v ? 1u : 0u)))
        return answer_invalid(req, resp, json_pack("{s:s}", "body", "only {\"overlap\": \"24h\"} is accepted"));
    if (v && (!json_string_value(v) || bl_config_parse_duration(json_string_value(v), &overlap_ms) != 0 ||
              overlap_ms < 0 || overlap_ms > OVERLAP_MAX_MS))
        return answer_invalid(req, resp,
                              json_pack("{s:s}", "overlap", "a duration from 0s to 720h, e.g. \"24h\""));
    bl_api_webhook_env env;
    bl_webhook_endpoint *e = NULL, *after = NULL;
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX] = "";
    bl_err err = {0};
    int rc = -1;
    if (bl_api_webhook_env_open_logged(req, BL_API_WH_KEYRING, &env) != 0 || !(e = bl_api_webhook_find(req, env.store, resp, &rc)))
        goto done;
    /* The store reads 0 as "the default" and < 0 as "none". */
    if (bl_webhook_store_rotate(env.store, e->id, overlap_ms > 0 ? overlap_ms : -1, secret, sizeof secret,
                                &err) != 0 ||
        !(after = bl_webhook_store_get(env.store, e->id, &err)))
        rc = bl_api_webhook_fail(req, resp, &err);
    else
        rc = answer_endpoint(req, resp, 200, after, json_pack("{s:s}", "secret", secret));
done:
    memset(secret, 0, sizeof secret);
    bl_webhook_endpoint_free(after);
    bl_webhook_endpoint_free(e);
    bl_api_webhook_env_close(&env);
    return rc;
}

static const bl_api_route routes[] = {
    {"GET", "/v1/webhooks", BL_API_BY_METHOD, list_webhooks},
    {"POST", "/v1/webhooks", BL_API_ADMIN, create_webhook},
    {"GET", "/v1/webhooks/:id", BL_API_BY_METHOD, show_webhook},
    {"PUT", "/v1/webhooks/:id", BL_API_ADMIN, update_webhook},
    {"DELETE", "/v1/webhooks/:id", BL_API_ADMIN, delete_webhook},
    {"POST", "/v1/webhooks/:id/enable", BL_API_ADMIN, enable_webhook},
    {"POST", "/v1/webhooks/:id/disable", BL_API_ADMIN, disable_webhook},
    {"POST", "/v1/webhooks/:id/rotate-secret", BL_API_ADMIN, rotate_secret},
};

int bl_api_routes_webhooks(bl_api_server *s, bl_err *err)
{
    /* the reports and replays first: /v1/webhooks/stats must win over /v1/webhooks/:id */
    if (bl_api_server_routes(s, bl_api_webhook_report_routes, bl_api_webhook_report_route_count, NULL, err) != 0 ||
        bl_api_server_routes(s, bl_api_webhook_replay_routes, bl_api_webhook_replay_route_count, NULL, err) != 0)
        return -1;
    if (bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], NULL, err) != 0)
        return -1;
    return bl_api_document_webhooks(s, err);
}
