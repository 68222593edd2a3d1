/* /v1/webhooks reports: a signed test delivery sent now
 * (POST /v1/webhooks/:id/test, admin), an endpoint's delivery log
 * (GET /v1/webhooks/:id/logs), delivery stats of the organization and per
 * endpoint (GET /v1/webhooks/stats and /v1/webhooks/:id/stats?period_days=N,
 * the Powalyze document's get_webhook_stats) and the event types an endpoint
 * may subscribe to, grouped by domain (GET /v1/webhooks/event-types). */
#include "api/routes/webhook_api.h"
#include "connectors/webhook/workers/test_send.h"

#include "connectors/webhook/store/delivery_log.h"
#include "core/log.h"
#include "core/time_format.h"
#include "schemas/catalog.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATS_DAYS_DEFAULT 30 /* the document's p_period_days default */
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
                              .payload = t->sent, .payload_len = t->sent_len,
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
    if (bl_api_webhook_env_open(req, BL_API_WH_KEYRING, &env, &err) != 0) {
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

/* The document's webhook_logs.payload: what the attempt sent, as JSON when
 * the kept excerpt is the whole body and parses, else the excerpt as text
 * (payload_truncated says it is cut at BL_DELIVERY_PAYLOAD_MAX bytes);
 * null when nothing was sent. */
static void put_payload(json_t *j, const PGresult *r, int i)
{
    json_t *payload = json_null();
    bool truncated = false;
    if (!PQgetisnull(r, i, 10)) {
        const char *text = PQgetvalue(r, i, 10);
        size_t kept = (size_t)PQgetlength(r, i, 10);
        truncated = strtoull(PQgetvalue(r, i, 11), NULL, 10) > kept;
        json_t *parsed = truncated ? NULL : json_loadb(text, kept, JSON_DECODE_ANY, NULL);
        json_decref(payload);
        payload = parsed ? parsed : json_stringn(text, kept);
    }
    json_object_set_new(j, "payload", payload);
    json_object_set_new(j, "payload_truncated", json_boolean(truncated));
    if (!PQgetisnull(r, i, 11))
        json_object_set_new(j, "payload_bytes", json_integer(strtoll(PQgetvalue(r, i, 11), NULL, 10)));
}

/* One attempt, with the document's webhook_logs names (webhook_id,
 * payload, error_message, response_body, retry_attempt counting from 0,
 * created_at) beside busline's. */
static json_t *log_row(const PGresult *r, int i, const char *endpoint_id)
{
    char when[32];
    bl_rfc3339_format_millis(strtoll(PQgetvalue(r, i, 7), NULL, 10), when, sizeof when);
    json_t *j = json_pack("{s:I, s:s, s:s, s:o, s:b, s:I, s:I, s:s, s:o, s:o}", "id",
                     (json_int_t)strtoll(PQgetvalue(r, i, 0), NULL, 10), "event_type", PQgetvalue(r, i, 1),
                     "event_id", PQgetvalue(r, i, 2), "status_code",
                     PQgetisnull(r, i, 3) ? json_null() : json_integer(atoi(PQgetvalue(r, i, 3))), "success",
                     PQgetvalue(r, i, 4)[0] == 't', "duration_ms",
                     (json_int_t)strtoll(PQgetvalue(r, i, 5), NULL, 10), "attempt",
                     (json_int_t)atoi(PQgetvalue(r, i, 6)), "delivered_at", when, "error",
                     PQgetisnull(r, i, 8) ? json_null() : json_string(PQgetvalue(r, i, 8)),
                     "response_excerpt", PQgetisnull(r, i, 9) ? json_null() : json_string(PQgetvalue(r, i, 9)));
    if (j) {
        json_object_set_new(j, "webhook_id", json_string(endpoint_id));
        json_object_set(j, "error_message", json_object_get(j, "error"));
        json_object_set(j, "response_body", json_object_get(j, "response_excerpt"));
        json_object_set_new(j, "retry_attempt", json_integer(atoi(PQgetvalue(r, i, 6)) - 1));
        json_object_set_new(j, "created_at", json_string(when));
        put_payload(j, r, i);
    }
    return j;
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
        return bl_api_fail(req->http, resp, 400, NULL, "bad query parameters", errors);
    json_decref(errors);

    bl_api_webhook_env env;
    bl_webhook_endpoint *e = NULL;
    PGconn *conn = NULL;
    PGresult *count = NULL, *rows = NULL;
    bl_err err = {0};
    int rc = -1;
    if (bl_api_webhook_env_open(req, 0, &env, &err) != 0 ||
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
                            " (extract(epoch FROM delivered_at) * 1000)::bigint, error, response_excerpt,"
                            " payload_excerpt, payload_bytes FROM webhook_deliveries " LOG_WHERE
                            " ORDER BY delivered_at DESC, id DESC LIMIT $3::int OFFSET $4::bigint",
                            4, params, &err)))
        goto done;
    json_t *data = json_array();
    for (int i = 0; data && i < PQntuples(rows); i++)
        json_array_append_new(data, log_row(rows, i, e->id));
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

/* The Powalyze document's get_webhook_stats figures: success_rate is a
 * percentage and both it and avg_duration_ms have one decimal, as shown
 * there (95.8, 187.3). */
static json_t *figures(long total, long succeeded, double avg_ms, long days)
{
    double rate = total ? 100.0 * (double)succeeded / (double)total : 0.0;
    return json_pack("{s:I, s:I, s:I, s:f, s:f, s:I}", "total_triggers", (json_int_t)total, "successful_triggers",
                     (json_int_t)succeeded, "failed_triggers", (json_int_t)(total - succeeded), "success_rate",
                     round(rate * 10) / 10, "avg_duration_ms", round(avg_ms * 10) / 10, "period_days",
                     (json_int_t)days);
}

static json_t *recent_log(int64_t id, const char *event_type, int status_code, int64_t duration_ms,
                          int64_t at_ms, bool succeeded, int attempt, const char *endpoint_id)
{
    char when[32], log_id[32];
    bl_rfc3339_format_millis(at_ms, when, sizeof when);
    snprintf(log_id, sizeof log_id, "log_%lld", (long long)id); /* the document's "log_abc": a string */
    return json_pack("{s:s, s:s, s:o, s:I, s:s, s:b, s:i, s:s}", "id", log_id, "event_type", event_type,
                     "status_code", status_code ? json_integer(status_code) : json_null(), "duration_ms",
                     (json_int_t)duration_ms, "created_at", when, "success", succeeded, "attempt", attempt,
                     "endpoint_id", endpoint_id);
}

/* The organization's figures since since_ms over every endpoint it had,
 * with its BL_DELIVERY_RECENT latest attempts. */
static json_t *org_figures(const bl_api_request *req, int64_t since_ms, long days, bl_err *err)
{
    char since[24];
    snprintf(since, sizeof since, "%lld", (long long)since_ms);
    const char *params[] = {req->auth->org_id, since};
    PGconn *conn = bl_api_acquire_pg(req->server, err);
    if (!conn)
        return NULL;
#define ORG_WINDOW "WHERE organization_id = $1 AND delivered_at >= to_timestamp($2::bigint / 1000.0)"
    PGresult *r = bl_pg_exec(conn,
                             "SELECT count(*), count(*) FILTER (WHERE succeeded),"
                             " coalesce(avg(duration_ms), 0)::double precision FROM webhook_deliveries " ORG_WINDOW,
                             2, params, err);
    PGresult *l = r ? bl_pg_exec(conn,
                                 "SELECT id, event_type, coalesce(status_code, 0), duration_ms,"
                                 " (extract(epoch FROM delivered_at) * 1000)::bigint, succeeded, attempt, endpoint_id"
                                 " FROM webhook_deliveries " ORG_WINDOW " ORDER BY delivered_at DESC, id DESC LIMIT 10",
                                 2, params, err)
                    : NULL;
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    json_t *out = NULL, *recent = json_array();
    if (r && l && recent) {
        for (int i = 0; i < PQntuples(l); i++)
            json_array_append_new(recent, recent_log(strtoll(PQgetvalue(l, i, 0), NULL, 10), PQgetvalue(l, i, 1),
                                                     atoi(PQgetvalue(l, i, 2)), strtoll(PQgetvalue(l, i, 3), NULL, 10),
                                                     strtoll(PQgetvalue(l, i, 4), NULL, 10),
                                                     PQgetvalue(l, i, 5)[0] == 't', atoi(PQgetvalue(l, i, 6)),
                                                     PQgetvalue(l, i, 7)));
        out = figures(strtol(PQgetvalue(r, 0, 0), NULL, 10), strtol(PQgetvalue(r, 0, 1), NULL, 10),
                      strtod(PQgetvalue(r, 0, 2), NULL), days);
        if (out)
            json_object_set(out, "recent_logs", recent);
    }
    json_decref(recent);
    PQclear(r);
    PQclear(l);
    return out;
}

/* period_days (the document's name; days is read too) from the query:
 * 1..365, default 30. Returns 0, or -1 after answering 400. */
static int read_period(const bl_api_request *req, bl_http_response *resp, long *days, int *rc)
{
    *days = STATS_DAYS_DEFAULT;
    const char *text = bl_http_request_query(req->http, "period_days");
    const char *name = "period_days";
    if (!text) {
        text = bl_http_request_query(req->http, "days");
        name = "days";
    }
    if (!text)
        return 0;
    char *end = NULL;
    errno = 0;
    *days = strtol(text, &end, 10);
    if (!*text || *end || errno || *days < 1 || *days > STATS_DAYS_MAX) {
        *rc = bl_api_fail(req->http, resp, 400, NULL, "bad query parameters",
                          json_pack("{s:s}", name, "an integer from 1 to 365"));
        return -1;
    }
    return 0;
}

static json_t *endpoint_figures(const bl_api_request *req, const bl_webhook_endpoint *e, int64_t since_ms,
                                long days, bl_err *err)
{
    bl_delivery_stats s;
    if (bl_delivery_stats_get(bl_api_server_pool(req->server), e->id, since_ms, &s, err) != 0)
        return NULL;
    json_t *f = figures(s.total, s.succeeded, s.avg_duration_ms, days), *recent = json_array();
    for (size_t i = 0; recent && i < s.recent_count; i++) {
        const bl_delivery_attempt *a = &s.recent[i];
        json_array_append_new(recent, recent_log(a->id, a->event_type, a->status_code, a->duration_ms,
                                                 a->delivered_at_ms, a->succeeded, a->attempt, e->id));
    }
    if (f && recent) {
        json_object_set(f, "recent_logs", recent);
        json_object_set_new(f, "endpoint_id", json_string(e->id));
        json_object_set_new(f, "name", json_string(e->name));
    }
    json_decref(recent);
    return f;
}

/* GET /v1/webhooks/stats: get_webhook_stats with no webhook: the
 * organization's figures, plus each endpoint's under "endpoints". */
static int webhook_stats(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    long days;
    int rc = -1;
    if (read_period(req, resp, &days, &rc) != 0)
        return rc;
    int64_t since_ms = now_ms(req) - (int64_t)days * 86400 * 1000;
    bl_api_webhook_env env;
    bl_webhook_endpoint_list list = {0};
    json_t *out = NULL, *per = json_array();
    bl_err err = {0};
    if (!per || bl_api_webhook_env_open(req, 0, &env, &err) != 0 ||
        bl_webhook_store_list(env.store, req->auth->org_id, false, &list, &err) != 0)
        goto done;
    for (size_t i = 0; i < list.count; i++) {
        json_t *f = endpoint_figures(req, list.items[i], since_ms, days, &err);
        if (!f)
            goto done;
        json_array_append_new(per, f);
    }
    char when[32];
    bl_rfc3339_format_millis(since_ms, when, sizeof when);
    if (!(out = org_figures(req, since_ms, days, &err)))
        goto done;
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

/* GET /v1/webhooks/:id/stats: get_webhook_stats of one webhook. */
static int one_webhook_stats(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    long days;
    int rc = -1;
    if (read_period(req, resp, &days, &rc) != 0)
        return rc;
    int64_t since_ms = now_ms(req) - (int64_t)days * 86400 * 1000;
    bl_api_webhook_env env;
    bl_webhook_endpoint *e = NULL;
    bl_err err = {0};
    if (bl_api_webhook_env_open(req, 0, &env, &err) != 0 || !(e = bl_api_webhook_find(req, env.store, resp, &rc)))
        goto done;
    json_t *out = endpoint_figures(req, e, since_ms, days, &err);
    char when[32];
    bl_rfc3339_format_millis(since_ms, when, sizeof when);
    if (out)
        json_object_set_new(out, "since", json_string(when));
    rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
done:
    if (rc != 0)
        bl_log_error("api: webhook stats", BL_FS("error", err.msg));
    bl_webhook_endpoint_free(e);
    bl_api_webhook_env_close(&env);
    return rc;
}

/* ---- event types ---- */

static int event_types(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    long limit = 0, offset = 0;
    json_t *errors = json_object();
    bl_api_page_read(req->http, &limit, &offset, errors);
    if (json_object_size(errors))
        return bl_api_fail(req->http, resp, 400, NULL, "bad query parameters", errors);
    json_decref(errors);
    bl_err err = {0};
    const bl_catalog *cat = bl_api_server_catalog(req->server, &err);
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
    json_t *out = bl_api_page_slice(domains, limit, offset); /* a page of domains */
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

const bl_api_route bl_api_webhook_report_routes[] = {
    {"GET", "/v1/webhooks/stats", BL_API_BY_METHOD, webhook_stats},
    {"GET", "/v1/webhooks/event-types", BL_API_BY_METHOD, event_types},
    {"GET", "/v1/webhooks/:id/logs", BL_API_BY_METHOD, webhook_logs},
    {"GET", "/v1/webhooks/:id/stats", BL_API_BY_METHOD, one_webhook_stats},
    {"POST", "/v1/webhooks/:id/test", BL_API_ADMIN, test_webhook},
};

const size_t bl_api_webhook_report_route_count =
    sizeof bl_api_webhook_report_routes / sizeof bl_api_webhook_report_routes[0];
