/* GET /v1/usage?period_days=N (the Powalyze document's get_api_usage_stats:
 * total_requests, successful_requests, failed_requests, success_rate as a
 * percentage, avg_duration_ms, top_endpoints [{endpoint, requests}],
 * period_days) and GET /v1/metrics: figures of the caller's organization
 * from the request log (api_request_log, written in batches), the commands
 * it sent and the read model. */
#include "api/routes/routes.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAYS_DEFAULT 30 /* the document's p_period_days default */
#define DAYS_MAX 90

/* Runs sql (one row, one JSON text column) with params, answers its JSON. */
static int answer_json_query(const bl_api_request *req, bl_http_response *resp, const char *sql, int n,
                             const char *const *params)
{
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    PGresult *r = bl_pg_exec(conn, sql, n, params, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!r) {
        bl_log_error("api: usage query failed", BL_FS("error", err.msg));
        return -1;
    }
    int rc = bl_http_response_body_copy(resp, PQgetvalue(r, 0, 0), strlen(PQgetvalue(r, 0, 0)),
                                        "application/json");
    PQclear(r);
    return rc;
}

static int usage(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *name = "period_days";
    const char *v = bl_http_request_query(req->http, name);
    if (!v)
        v = bl_http_request_query(req->http, name = "days");
    char *end = NULL;
    long days = v ? strtol(v, &end, 10) : DAYS_DEFAULT;
    if (v && (!*v || *end || days < 1 || days > DAYS_MAX))
        return bl_api_fail(req->http, resp, 400, NULL, "bad query parameters",
                           json_pack("{s:s}", name, "an integer from 1 to 90"));
    char days_text[16];
    snprintf(days_text, sizeof days_text, "%ld", days);
    const char *params[] = {req->auth->org_id, days_text};
    return answer_json_query(
        req, resp,
        "WITH l AS (SELECT * FROM api_request_log WHERE organization_id = $1::uuid"
        "  AND created_at >= now() - make_interval(days => $2::int)),"
        " t AS (SELECT count(*) AS total, count(*) FILTER (WHERE status < 400) AS ok,"
        "  count(*) FILTER (WHERE status >= 400) AS failed, avg(duration_us) AS avg_us FROM l),"
        " e AS (SELECT method, route, count(*) AS n, count(*) FILTER (WHERE status >= 400) AS failed,"
        "  avg(duration_us) AS avg_us FROM l GROUP BY method, route ORDER BY n DESC, route LIMIT 10)"
        " SELECT json_build_object('period_days', $2::int, 'total_requests', t.total,"
        "  'successful_requests', t.ok, 'failed_requests', t.failed,"
        "  'success_rate', CASE WHEN t.total > 0 THEN round(100 * t.ok::numeric / t.total, 1) ELSE 0 END,"
        "  'avg_duration_ms', round(coalesce(t.avg_us, 0)::numeric / 1000, 1),"
        "  'top_endpoints', coalesce((SELECT json_agg(json_build_object('endpoint', route, 'requests', n,"
        "   'method', method, 'route', route, 'failed', failed, 'avg_duration_ms', round(avg_us::numeric / 1000, 1))"
        "   ORDER BY n DESC, route) FROM e), '[]'))::text FROM t",
        2, params);
}

static int org_metrics(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *params[] = {req->auth->org_id, req->auth->org_id}; /* as uuid, as text */
    return answer_json_query(
        req, resp,
        "WITH l AS (SELECT status, duration_us, created_at FROM api_request_log"
        "  WHERE organization_id = $1::uuid AND created_at >= now() - interval '24 hours')"
        " SELECT json_build_object("
        "  'requests_last_hour', (SELECT count(*) FROM l WHERE created_at >= now() - interval '1 hour'),"
        "  'requests_last_24h', (SELECT count(*) FROM l),"
        "  'errors_last_24h', (SELECT count(*) FROM l WHERE status >= 400),"
        "  'rate_limited_last_24h', (SELECT count(*) FROM l WHERE status = 429),"
        "  'p50_duration_ms_last_24h', (SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_us)"
        "   / 1000)::numeric, 3) FROM l),"
        "  'p99_duration_ms_last_24h', (SELECT round((percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_us)"
        "   / 1000)::numeric, 3) FROM l),"
        "  'commands_accepted_last_24h', (SELECT count(*) FROM api_commands WHERE organization_id = $1::uuid"
        "   AND state = 'accepted' AND created_at >= now() - interval '24 hours'),"
        "  'commands_processed_last_24h', (SELECT count(*) FROM pmo_processed_commands"
        "   WHERE organization_id = $2 AND processed_at >= now() - interval '24 hours'),"
        "  'projects', (SELECT count(*) FROM pmo_projects WHERE organization_id = $2),"
        "  'projects_red', (SELECT count(*) FROM pmo_projects WHERE organization_id = $2 AND status = 'RED'),"
        "  'open_risks', (SELECT count(*) FROM pmo_risks WHERE organization_id = $2 AND status = 'OPEN'),"
        "  'pending_decisions', (SELECT count(*) FROM pmo_decisions"
        "   WHERE organization_id = $2 AND status = 'PENDING'),"
        "  'active_api_keys', (SELECT count(*) FROM api_keys WHERE organization_id = $1::uuid AND active))::text",
        2, params);
}

static const bl_api_route routes[] = {
    {"GET", "/v1/usage", BL_API_BY_METHOD, usage},
    {"GET", "/v1/metrics", BL_API_BY_METHOD, org_metrics},
};

int bl_api_routes_usage(bl_api_server *s, bl_err *err)
{
    if (bl_api_server_routes(s, routes, 2, NULL, err) != 0)
        return -1;
    json_t *usage_op = json_loads(
        "{\"operationId\":\"get_api_usage_stats\",\"summary\":\"get_api_usage_stats: requests of the caller's "
        "organization over the last period_days days (days is read too)\",\"tags\":[\"usage\"],"
        "\"parameters\":[{\"name\":\"period_days\",\"in\":\"query\",\"schema\":{\"type\":\"integer\","
        "\"minimum\":1,\"maximum\":90,\"default\":30}}],\"responses\":{\"200\":{\"description\":\"Figures\","
        "\"content\":{\"application/json\":{\"schema\":{\"type\":\"object\",\"required\":[\"total_requests\","
        "\"successful_requests\",\"failed_requests\",\"success_rate\",\"avg_duration_ms\",\"top_endpoints\","
        "\"period_days\"],\"properties\":{\"total_requests\":{\"type\":\"integer\"},"
        "\"successful_requests\":{\"type\":\"integer\"},\"failed_requests\":{\"type\":\"integer\"},"
        "\"success_rate\":{\"type\":\"number\",\"description\":\"percent, one decimal\"},"
        "\"avg_duration_ms\":{\"type\":\"number\"},\"period_days\":{\"type\":\"integer\"},"
        "\"top_endpoints\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"endpoint\","
        "\"requests\"],\"properties\":{\"endpoint\":{\"type\":\"string\"},\"requests\":{\"type\":\"integer\"},"
        "\"method\":{\"type\":\"string\"},\"failed\":{\"type\":\"integer\"},"
        "\"avg_duration_ms\":{\"type\":\"number\"}}}}}}}}},\"400\":{\"description\":\"bad period_days\"}}}",
        0, NULL);
    json_t *metrics_op = json_pack("{s:s, s:s, s:[s], s:{s:{s:s}}}", "operationId", "get_org_metrics",
                                   "summary", "Figures of the caller's organization", "tags", "usage",
                                   "responses", "200", "description", "Figures as JSON numbers");
    if (bl_api_server_document(s, "GET", "/v1/usage", usage_op, err) != 0 ||
        bl_api_server_document(s, "GET", "/v1/metrics", metrics_op, err) != 0)
        return -1;
    return 0;
}
