/* GET /v1/custom-apis/:id/metrics?window=1h: the endpoint's calls over the
 * last window (document 002's APIMetric rows, written by metrics_log.c):
 * totals, response time percentiles (p50/p95/p99, continuous, in ms) and
 * the error rate. A server error is a status of 500 or more: a refused
 * caller (401, 403, 429) is the endpoint working, counted apart. */
#include "api/custom/route_admin.h"
#include "core/config.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

#define WINDOW_DEFAULT "1h"
#define WINDOW_MIN_MS 60000LL              /* 1m */
#define WINDOW_MAX_MS (90LL * 86400 * 1000) /* 90d: what the retention keeps at most */

static const char metrics_sql[] =
    "WITH c AS (SELECT id FROM custom_apis WHERE organization_id = $1 AND id::text = $2),"
    " m AS (SELECT k.* FROM custom_api_metrics k, c WHERE k.custom_api_id = c.id"
    "  AND k.recorded_at > now() - make_interval(secs => $3::float8 / 1000)),"
    " t AS (SELECT count(*) AS calls, count(*) FILTER (WHERE status_code < 400) AS ok,"
    "  count(*) FILTER (WHERE status_code >= 400 AND status_code < 500) AS client_errors,"
    "  count(*) FILTER (WHERE status_code >= 500) AS server_errors,"
    "  count(*) FILTER (WHERE status_code = 429) AS rate_limited,"
    "  avg(response_time_ms) AS avg_ms, max(response_time_ms) AS max_ms,"
    "  percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY response_time_ms) AS pct,"
    "  coalesce(sum(request_size), 0) AS req_bytes, coalesce(sum(response_size), 0) AS resp_bytes,"
    "  count(DISTINCT caller) AS callers, min(recorded_at) AS first_at, max(recorded_at) AS last_at FROM m)"
    " SELECT json_build_object('customApiId', c.id, 'window', $4::text, 'windowSeconds', $3::bigint / 1000,"
    "  'from', now() - make_interval(secs => $3::float8 / 1000), 'to', now(),"
    "  'totalCalls', t.calls, 'successfulCalls', t.ok, 'clientErrors', t.client_errors,"
    "  'serverErrors', t.server_errors, 'rateLimited', t.rate_limited,"
    "  'errorRate', CASE WHEN t.calls > 0 THEN round(100 * t.server_errors::numeric / t.calls, 2) ELSE 0 END,"
    "  'responseTimeMs', json_build_object('avg', round(t.avg_ms::numeric, 3), 'p50', round(t.pct[1]::numeric, 3),"
    "   'p95', round(t.pct[2]::numeric, 3), 'p99', round(t.pct[3]::numeric, 3), 'max', round(t.max_ms::numeric, 3)),"
    "  'requestBytes', t.req_bytes, 'responseBytes', t.resp_bytes, 'distinctCallers', t.callers,"
    "  'firstCallAt', t.first_at, 'lastCallAt', t.last_at)::text FROM c, t";

static int custom_api_metrics(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    const char *window = bl_http_request_query(req->http, "window");
    if (!window || !*window)
        window = WINDOW_DEFAULT;
    int64_t ms = 0;
    if (bl_config_parse_duration(window, &ms) != 0 || ms < WINDOW_MIN_MS || ms > WINDOW_MAX_MS)
        return bl_api_fail(req->http, resp, 400, "invalid_window",
                           "window is a duration from 1m to 90d: 15m, 1h, 24h, 7d",
                           json_pack("{s:s}", "window", "a duration from 1m to 90d (s, m, h, d)"));
    char ms_text[24];
    snprintf(ms_text, sizeof ms_text, "%lld", (long long)ms);
    const char *params[] = {req->auth->org_id, bl_http_request_param(req->http, "id"), ms_text, window};
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    PGresult *r = bl_pg_exec(conn, metrics_sql, 4, params, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!r) {
        bl_log_error("custom api: metrics query failed", BL_FS("request_id", bl_http_request_id(req->http)),
                     BL_FS("error", err.msg));
        return -1;
    }
    int rc = PQntuples(r) == 1 ? bl_http_response_body_copy(resp, PQgetvalue(r, 0, 0), strlen(PQgetvalue(r, 0, 0)),
                                                            "application/json")
                               : bl_api_fail(req->http, resp, 404, NULL, "no such custom endpoint", NULL);
    PQclear(r);
    return rc;
}

int bl_custom_admin_metrics_install(bl_api_server *s, bl_err *err)
{
    static const bl_api_route routes[] = {
        {"GET", "/v1/custom-apis/:id/metrics", BL_API_ADMIN, custom_api_metrics},
    };
    if (bl_api_server_routes(s, routes, 1, NULL, err) != 0)
        return -1;
    json_t *op = json_pack(
        "{s:s, s:s, s:[s], s:[{s:s, s:s, s:{s:s, s:s}}], s:{s:{s:s}, s:{s:s}, s:{s:s}}}", "summary",
        "Calls of a custom endpoint over a window: totals, response time p50/p95/p99 (ms) and error rate",
        "description",
        "Document 002's APIMetric rows of the last window (default 1h, 1m to 90d). errorRate is the percent of"
        " calls answered 500 or more; clientErrors (400-499, rateLimited among them) are counted apart. Calls"
        " are written in batches off the request path, so the last half second may not show yet.",
        "tags", "custom-apis", "parameters", "name", "window", "in", "query", "schema", "type", "string", "default",
        WINDOW_DEFAULT, "responses", "200", "description",
        "{customApiId, window, windowSeconds, from, to, totalCalls, successfulCalls, clientErrors, serverErrors,"
        " rateLimited, errorRate, responseTimeMs {avg, p50, p95, p99, max}, requestBytes, responseBytes,"
        " distinctCallers, firstCallAt, lastCallAt}",
        "400", "description", "window is not a duration from 1m to 90d (invalid_window)", "404", "description",
        "no such custom endpoint in this organization (not_found)");
    if (!op)
        return bl_err_set(err, BL_ENOMEM, "custom api: out of memory");
    return bl_api_server_document(s, "GET", "/v1/custom-apis/:id/metrics", op, err);
}
