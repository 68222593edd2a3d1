/* /v1/webhooks reports: a signed test delivery sent now
 * (POST /v1/webhooks/:id/test, admin), an endpoint's delivery log
 * (GET /v1/webhooks/:id/logs), delivery stats of the organization and per
 * endpoint (GET /v1/webhooks/stats?days=N) and the event types an endpoint
 * may subscribe to, grouped by domain (GET /v1/webhooks/event-types). */
#include "api/routes/webhook_api.h"
#include "connectors/webhook/workers/test_send.h"

#include "connectors/webhook/store/delivery_log.h"
#include "core/log.h"
#include "core/time_format.h"
#include "schemas/catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATS_DAYS_DEFAULT 7
#define STATS_DAYS_MAX 365

static int64_t now_ms(const bl_api_request *req)
{
    return (int64_t)bl_api_server_now(req->server) * 1000;
}

/* Writes the test delivery into the delivery log now, so the logs show it. */
static void log_test_delivery(const bl_api_request *req, const bl_webhook_endpoint *e,
                              const bl_webhook_test *t)
{
    bl_err err = {0};
    bl_delivery_log_opts o = {.pool = bl_api_server_pool(req->server)};
    bl_delivery_log *log = bl_delivery_log_new(&o, &err);
    bl_delivery_record rec = {.endpoint_id = e->id, .organization_id = e->organization_id,
                              .event_type = BL_WEBHOOK_TEST_EVENT, .event_id = t->event_id,
                              .status_code = t->status_code, .succeeded = t->succeeded,
                              .response = t->response, .response_len = t->response_len,
                              .error = t->error[0] ? t->error : NULL, .duration_ms = t->duration_ms,
                              .attempt = 1};
    if (!log || bl_delivery_log_append(log, &rec, &err) != 0 || bl_delivery_log_flush(log, 5000, &err) != 0)
        bl_log_warn("api: test delivery not logged", BL_FS("endpoint_id", e->id), BL_FS("error", err.msg));
    bl_delivery_log_free(log);
}

static int test_webhook(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    bl_api_webhook_env env;
    bl_webhook_endpoint *e = NULL;
    bl_webhook_test t = {0};
    bl_err err = {0};
    int rc = -1;
    if (bl_api_webhook_env_open(req->server, BL_API_WH_KEYRING, &env, &err) != 0) {
        bl_log_error("api: webhook store unavailable", BL_FS("error", err.msg));
        goto done;
    }
    if (!(e = bl_api_webhook_find(req, env.store, resp, &rc)))
        goto done;
    if (bl_webhook_test_send(e, env.keyring, &env.allow, now_ms(req), &t, &err) != 0) {
        rc = bl_api_webhook_fail(req, resp, &err);
        goto done;
    }
    log_test_delivery(req, e, &t);
    json_t *out = json_pack("{s:s, s:s, s:b, s:o, s:I, s:s%, s:o}", "event_id", t.event_id, "event_type",
                            BL_WEBHOOK_TEST_EVENT, "success", t.succeeded, "status_code",
                            t.status_code ? json_integer(t.status_code) : json_null(), "duration_ms",
                            (json_int_t)t.duration_ms, "response_excerpt", t.response ? t.response : "",
                            t.response ? t.response_len : 0, "error",
                            t.error[0] ? json_string(t.error) : json_null());
    rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
done:
    bl_webhook_test_clear(&t);
    bl_webhook_endpoint_free(e);
    bl_api_webhook_env_close(&env);
    return rc;
}

/* ---- logs ---- */

#define LOG_WHERE "WHERE endpoint_id = $1 AND ($2 = '' OR succeeded = ($2 = 'success'))"

static json_t *log_row(const PGresult *r, int i)
{
    char when[32];
    bl_rfc3339_format_millis(strtoll(PQgetvalue(r, i, 7), NULL, 10), when, sizeof when);
    return json_pack("{s:I, s:s, s:s, s:o, s:b, s:I, s:I, s:s, s:o, s:o}", "id",
                     (json_int_t)strtoll(PQgetvalue(r, i, 0), NULL, 10), "event_type", PQgetvalue(r, i, 1),
                     "event_id", PQgetvalue(r, i, 2), "status_code",
                     PQgetisnull(r, i, 3) ? json_null() : json_integer(atoi(PQgetvalue(r, i, 3))), "success",
                     PQgetvalue(r, i, 4)[0] == 't', "duration_ms",
                     (json_int_t)strtoll(PQgetvalue(r, i, 5), NULL, 10), "attempt",
                     (json_int_t)atoi(PQgetvalue(r, i, 6)), "delivered_at", when, "error",
                     PQgetisnull(r, i, 8) ? json_null() : json_string(PQgetvalue(r, i, 8)),
                     "response_excerpt", PQgetisnull(r, i, 9) ? json_null() : json_string(PQgetvalue(r, i, 9)));
}

static int webhook_logs(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    long limit, offset;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    const char *status = bl_http_request_query(req->http, "status");
    if (status && strcmp(status, "success") != 0 && strcmp(status, "failed") != 0)
        json_object_set_new(errors, "status", json_string("success or failed"));
    if (bl_api_page_read(req->http, &limit, &offset, errors) != 0 || json_object_size(errors))
        return bl_api_fail(req->http, resp, 422, NULL, "the request is not valid", errors);
    json_decref(errors);

    bl_api_webhook_env env;
    bl_webhook_endpoint *e = NULL;
    PGconn *conn = NULL;
    PGresult *count = NULL, *rows = NULL;
    bl_err err = {0};
    int rc = -1;
    if (bl_api_webhook_env_open(req->server, 0, &env, &err) != 0 ||
        !(e = bl_api_webhook_find(req, env.store, resp, &rc)))
        goto done;
    rc = -1;
    char lim[24], off[24];
    snprintf(lim, sizeof lim, "%ld", limit);
    snprintf(off, sizeof off, "%ld", offset);
    const char *params[] = {e->id, status ? status : "", lim, off};
    if (!(conn = bl_api_acquire_pg(req->server, &err)) ||
        !(count = bl_pg_exec(conn, "SELECT count(*) FROM webhook_deliveries " LOG_WHERE, 2, params, &err)) ||
        !(rows = bl_pg_exec(conn,
                            "SELECT id, event_type, event_id, status_code, succeeded, duration_ms, attempt,"
                            " (extract(epoch FROM delivered_at) * 1000)::bigint, error, response_excerpt"
                            " FROM webhook_deliveries " LOG_WHERE
                            " ORDER BY delivered_at DESC, id DESC LIMIT $3::int OFFSET $4::bigint",
                            4, params, &err)))
        goto done;
    json_t *data = json_array();
    for (int i = 0; data && i < PQntuples(rows); i++)
        json_array_append_new(data, log_row(rows, i));
    json_t *out = bl_api_page_envelope(data, strtol(PQgetvalue(count, 0, 0), NULL, 10), limit, offset);
    rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
done:
    if (rc != 0 && err.msg[0])
        bl_log_error("api: webhook logs", BL_FS("error", err.msg));
    PQclear(count);
    PQclear(rows);
    if (conn)
        bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    bl_webhook_endpoint_free(e);
    bl_api_webhook_env_close(&env);
    return rc;
}

/* ---- stats ---- */

static json_t *figures(long total, long succeeded, double avg_ms)
{
    return json_pack("{s:I, s:I, s:I, s:f, s:f}", "total", (json_int_t)total, "succeeded",
                     (json_int_t)succeeded, "failed", (json_int_t)(total - succeeded), "success_rate",
                     total ? (double)succeeded / (double)total : 0.0, "avg_duration_ms", avg_ms);
}

/* The organization's totals since since_ms, over every endpoint it had. */
static json_t *org_figures(const bl_api_request *req, int64_t since_ms, bl_err *err)
{
    char since[24];
    snprintf(since, sizeof since, "%lld", (long long)since_ms);
    const char *params[] = {req->auth->org_id, since};
    PGconn *conn = bl_api_acquire_pg(req->server, err);
    if (!conn)
        return NULL;
    PGresult *r = bl_pg_exec(conn,
                             "SELECT count(*), count(*) FILTER (WHERE succeeded),"
                             " coalesce(avg(duration_ms), 0)::double precision FROM webhook_deliveries"
                             " WHERE organization_id = $1 AND delivered_at >= to_timestamp($2::bigint / 1000.0)",
                             2, params, err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!r)
        return NULL;
    json_t *out = figures(strtol(PQgetvalue(r, 0, 0), NULL, 10), strtol(PQgetvalue(r, 0, 1), NULL, 10),
                          strtod(PQgetvalue(r, 0, 2), NULL));
    PQclear(r);
    return out;
}

static int webhook_stats(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    long days = STATS_DAYS_DEFAULT;
    const char *text = bl_http_request_query(req->http, "days");
    if (text) {
        char *end = NULL;
        errno = 0;
        days = strtol(text, &end, 10);
        if (!*text || *end || errno || days < 1 || days > STATS_DAYS_MAX)
            return bl_api_fail(req->http, resp, 422, NULL, "the request is not valid",
                               json_pack("{s:s}", "days", "an integer from 1 to 365"));
    }
    int64_t since_ms = now_ms(req) - (int64_t)days * 86400 * 1000;
    bl_api_webhook_env env;
    bl_webhook_endpoint_list list = {0};
    json_t *out = NULL, *per = json_array();
    bl_err err = {0};
    int rc = -1;
    if (!per || bl_api_webhook_env_open(req->server, 0, &env, &err) != 0 ||
        bl_webhook_store_list(env.store, req->auth->org_id, false, &list, &err) != 0)
        goto done;
    for (size_t i = 0; i < list.count; i++) {
        bl_delivery_stats s;
        if (bl_delivery_stats_get(bl_api_server_pool(req->server), list.items[i]->id, since_ms, &s, &err) != 0)
            goto done;
        json_t *f = figures(s.total, s.succeeded, s.avg_duration_ms);
        if (f) {
            json_object_set_new(f, "endpoint_id", json_string(list.items[i]->id));
            json_object_set_new(f, "name", json_string(list.items[i]->name));
            json_array_append_new(per, f);
        }
    }
    char when[32];
    bl_rfc3339_format_millis(since_ms, when, sizeof when);
    if (!(out = org_figures(req, since_ms, &err)))
        goto done;
    json_object_set_new(out, "days", json_integer(days));
    json_object_set_new(out, "since", json_string(when));
    json_object_set(out, "endpoints", per);
    rc = bl_http_response_json(resp, 200, out);
done:
    if (rc != 0)
        bl_log_error("api: webhook stats", BL_FS("error", err.msg));
    json_decref(out);
    json_decref(per);
    bl_webhook_endpoint_list_free(&list);
    bl_api_webhook_env_close(&env);
    return rc;
}

/* ---- event types ---- */

static int event_types(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    (void)req;
    bl_err err = {0};
    bl_catalog *cat = bl_catalog_load(bl_catalog_default_dir(), &err);
    if (!cat) {
        bl_log_error("api: schema catalog unavailable", BL_FS("error", err.msg));
        return -1;
    }
    json_t *domains = json_array(), *group = NULL;
    const char *domain = NULL;
    for (size_t i = 0; domains && i < bl_catalog_msg_count(cat); i++) {
        const bl_catalog_msg *m = bl_catalog_msg_at(cat, i);
        if (m->kind != BL_MSG_EVENT)
            continue; /* sorted by kind, then domain: one group per new domain */
        if (!domain || strcmp(domain, m->domain) != 0) {
            domain = m->domain;
            group = json_pack("{s:s, s:[]}", "domain", domain, "event_types");
            json_array_append_new(domains, group);
        }
        json_array_append_new(json_object_get(group, "event_types"),
                              json_pack("{s:s, s:s}", "type", m->type, "topic", m->topic));
    }
    json_t *out = domains ? json_pack("{s:o}", "data", domains) : NULL;
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    bl_catalog_free(cat);
    return rc;
}

const bl_api_route bl_api_webhook_report_routes[] = {
    {"GET", "/v1/webhooks/stats", BL_API_BY_METHOD, webhook_stats},
    {"GET", "/v1/webhooks/event-types", BL_API_BY_METHOD, event_types},
    {"GET", "/v1/webhooks/:id/logs", BL_API_BY_METHOD, webhook_logs},
    {"POST", "/v1/webhooks/:id/test", BL_API_ADMIN, test_webhook},
};

const size_t bl_api_webhook_report_route_count =
    sizeof bl_api_webhook_report_routes / sizeof bl_api_webhook_report_routes[0];
