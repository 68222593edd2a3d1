/* GET {prefix}/integrations/analytics/metrics of design document 001
 * (Admin): figures computed from the organization's sync runs
 * (integration_sync_runs, cleanup runs left out) and its provider calls
 * (integration_calls, written in batches by the OAuth store: flushed here
 * first) over the period. What busline does not measure is left out rather
 * than guessed: bytes transferred (dataTransferred) and Slack's
 * messagesSent are not recorded, so byProvider does not show them. */
#include "api/attendance/ax_integrations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An average of microseconds (expression us) as the document writes it:
 * "1.2s", or "245ms" under a tenth of a second. */
#define AVG_TIME_SQL(us)                                                                                   \
    "CASE WHEN " us " IS NULL THEN NULL WHEN " us " < 100000 THEN round(" us " / 1000.0) || 'ms'"         \
    " ELSE to_char(" us " / 1000000.0, 'FM99990.0') || 's' END"

#define RATE_SQL(ok, all) "round((" ok ")::numeric / nullif(" all ", 0), 4)"

static const char *const metrics_sql =
    "WITH ints AS (SELECT * FROM integrations WHERE organization_id::text = $1"
    "   AND provider IN ('google_calendar', 'microsoft_365', 'slack', 'zoom')"
    "   AND ($3::text[] IS NULL OR provider = ANY ($3::text[]))),"
    " runs AS (SELECT s.*, i.provider FROM integration_sync_runs s JOIN ints i ON i.id = s.integration_id"
    "   WHERE s.type <> 'cleanup' AND s.started_at > now() - $2::interval),"
    " done AS (SELECT * FROM runs WHERE status NOT IN ('queued', 'running')),"
    " calls AS (SELECT * FROM integration_calls c WHERE c.organization_id::text = $1"
    "   AND c.provider IN ('google_calendar', 'microsoft_365', 'slack', 'zoom')"
    "   AND ($3::text[] IS NULL OR c.provider = ANY ($3::text[])) AND c.created_at > now() - $2::interval),"
    " providers AS (SELECT provider FROM ints UNION SELECT provider FROM calls),"
    " days AS (SELECT d::date AS day FROM generate_series((now() - $2::interval)::date, now()::date,"
    "   interval '1 day') d)"
    " SELECT json_build_object("
    " 'period', $4::text,"
    " 'overview', json_build_object("
    "   'totalIntegrations', (SELECT count(*) FROM ints),"
    "   'activeIntegrations', (SELECT count(*) FROM ints WHERE status = 'connected'),"
    "   'totalSyncs', (SELECT count(*) FROM runs),"
    "   'successRate', (SELECT " RATE_SQL("count(*) FILTER (WHERE status IN ('success', 'completed'))", "count(*)")
    "     FROM done),"
    "   'averageResponseTime', (SELECT " AVG_TIME_SQL("avg(duration_us)") " FROM calls),"
    "   'totalCalls', (SELECT count(*) FROM calls)),"
    " 'byProvider', coalesce((SELECT json_object_agg(CASE p.provider WHEN 'google_calendar' THEN 'google'"
    "   WHEN 'microsoft_365' THEN 'microsoft' ELSE p.provider END, json_build_object("
    "   'integrations', (SELECT count(*) FROM ints i WHERE i.provider = p.provider),"
    "   'syncs', (SELECT count(*) FROM runs r WHERE r.provider = p.provider),"
    "   'successRate', (SELECT " RATE_SQL("count(*) FILTER (WHERE status IN ('success', 'completed'))", "count(*)")
    "     FROM done d WHERE d.provider = p.provider),"
    "   'averageResponseTime', (SELECT " AVG_TIME_SQL("avg(duration_us)") " FROM calls c"
    "     WHERE c.provider = p.provider),"
    "   'calls', (SELECT count(*) FROM calls c WHERE c.provider = p.provider),"
    "   'eventsSynced', (SELECT coalesce(sum((statistics->>'eventsCreated')::bigint"
    "     + (statistics->>'eventsUpdated')::bigint + (statistics->>'eventsDeleted')::bigint), 0)"
    "     FROM done d WHERE d.provider = p.provider AND NOT d.dry_run))) FROM providers p), '{}'),"
    " 'trends', json_build_object("
    "   'syncVolume', (SELECT json_agg(json_build_object('date', to_char(day, 'YYYY-MM-DD'),"
    "     'syncs', (SELECT count(*) FROM runs r WHERE r.started_at::date = day),"
    "     'errors', (SELECT count(*) FROM done r WHERE r.started_at::date = day"
    "       AND r.status IN ('error', 'failed', 'partial'))) ORDER BY day) FROM days),"
    "   'responseTime', (SELECT json_agg(json_build_object('date', to_char(day, 'YYYY-MM-DD'),"
    "     'averageTime', (SELECT " AVG_TIME_SQL("avg(duration_us)") " FROM calls c"
    "       WHERE c.created_at::date = day)) ORDER BY day) FROM days)),"
    " 'errors', json_build_object("
    "   'totalErrors', (SELECT count(*) FROM calls WHERE NOT success),"
    "   'errorRate', (SELECT " RATE_SQL("count(*) FILTER (WHERE NOT success)", "count(*)") " FROM calls),"
    "   'commonErrors', (SELECT coalesce(json_agg(json_build_object('error', e.error_code, 'count', e.n,"
    "     'percentage', round(e.n::numeric / e.total, 4)) ORDER BY e.n DESC, e.error_code), '[]')"
    "     FROM (SELECT error_code, count(*) AS n, sum(count(*)) OVER () AS total FROM calls WHERE NOT success"
    "     GROUP BY error_code ORDER BY count(*) DESC, error_code LIMIT 5) e)))::text";

int bl_ax_metrics(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_oauth_store *st = bl_api_integrations_store(req, resp, ctx);
    if (!st)
        return 0;
    static const char *const periods[][2] = {
        {"day", "1 day"}, {"week", "7 days"}, {"month", "1 month"}, {"quarter", "3 months"}};
    const char *period = bl_http_request_query(req->http, "period");
    const char *interval = NULL;
    if (!period)
        period = "month";
    for (size_t i = 0; i < sizeof periods / sizeof periods[0]; i++)
        if (strcmp(period, periods[i][0]) == 0)
            interval = periods[i][1];
    if (!interval)
        return bl_api_fail(req->http, resp, 400, NULL, "period is one of day, week, month, quarter",
                           json_pack("{s:s}", "period", "one of day, week, month, quarter"));
    /* providers=google,slack as a text[] literal of busline's names */
    const char *list = bl_http_request_query(req->http, "providers");
    char names[256] = "";
    size_t o = 0;
    for (const char *s = list; s && *s;) {
        size_t len = strcspn(s, ",");
        char word[32];
        snprintf(word, sizeof word, "%.*s", (int)(len < sizeof word ? len : sizeof word - 1), s);
        const bl_ax_provider *p = bl_ax_provider_find(word, false);
        if (!p || len >= sizeof word) {
            char msg[96];
            snprintf(msg, sizeof msg, "\"%s\" is not one of google, microsoft, slack, zoom", word);
            return bl_api_fail(req->http, resp, 400, "PROVIDER_NOT_SUPPORTED", msg, NULL);
        }
        o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", o ? "," : "{", p->internal);
        if (o >= sizeof names)
            return bl_api_fail(req->http, resp, 400, NULL, "too many providers", NULL);
        s += len;
        s += strspn(s, ",");
    }
    if (o)
        snprintf(names + o, sizeof names - o, "}");
    bl_err err = {0};
    if (bl_oauth_store_flush(st, &err) != 0)
        return -1;
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    const char *params[] = {req->auth->org_id, interval, o ? names : NULL, period};
    PGresult *r = bl_pg_exec(conn, metrics_sql, 4, params, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!r)
        return -1;
    json_t *data = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    return data ? bl_att_answer(resp, 200, data, NULL) : -1;
}
