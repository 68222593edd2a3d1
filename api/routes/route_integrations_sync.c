/* /v1/integrations/:id/sync, its status, history and the analytics. A sync
 * request queues a run (status queued); the calendar sync worker (`busline
 * sync`) executes it, records statistics, errors and conflicts and appends
 * integration.sync_completed or integration.sync_failed in the transaction
 * that records it. */
#include "api/routes/route_integrations.h"
#include "api/routes/webhook_api.h"
#include "core/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static int answer_json_text(bl_http_response *resp, int status, const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    int rc = j ? bl_http_response_json(resp, status, j) : -1;
    json_decref(j);
    return rc;
}

#define RUN_JSON                                                                                         \
    "json_build_object('id', id, 'integration_id', integration_id, 'status', status, 'dry_run', dry_run," \
    " 'direction', direction, 'type', type, 'date_range', json_build_object('from', range_from, 'to', range_to)," \
    " 'items_synced', items_synced, 'statistics', statistics, 'errors', errors, 'conflicts', conflicts,"  \
    " 'duration_ms', duration_ms, 'error', CASE WHEN error_code IS NULL"                                  \
    " THEN NULL ELSE json_build_object('code', error_code, 'message', error_message) END,"              \
    " 'started_at', started_at, 'finished_at', finished_at)"

/* Validates the sync body into fields; fills the parameters. /v1's words
 * (inbound, outbound, both) and the document's are both taken; the run
 * keeps the document's. */
static void sync_params(const json_t *body, const char **direction, const char **from, const char **to,
                        bool *dry_run, bool *force, json_t *fields)
{
    json_t *dr = json_object_get(body, "dryRun"), *range = json_object_get(body, "dateRange");
    json_t *dir = json_object_get(body, "direction"), *fu = json_object_get(body, "forceUpdate");
    *dry_run = json_is_true(dr);
    *force = json_is_true(fu);
    if (dr && !json_is_boolean(dr))
        json_object_set_new(fields, "dryRun", json_string("a boolean"));
    if (fu && !json_is_boolean(fu))
        json_object_set_new(fields, "forceUpdate", json_string("a boolean"));
    const char *d = dir ? json_string_value(dir) : NULL;
    *direction = !dir                                            ? NULL
                 : !d                                            ? ""
                 : !strcmp(d, "inbound")                         ? "external_to_attendance"
                 : !strcmp(d, "outbound")                        ? "attendance_to_external"
                 : !strcmp(d, "both")                            ? "bidirectional"
                 : !strcmp(d, "bidirectional") || !strcmp(d, "attendance_to_external") ||
                         !strcmp(d, "external_to_attendance")    ? d
                                                                 : "";
    if (*direction && !**direction)
        json_object_set_new(fields, "direction",
                            json_string("one of inbound, outbound, both (or bidirectional, "
                                        "attendance_to_external, external_to_attendance)"));
    *from = json_string_value(json_object_get(range, "from"));
    *to = json_string_value(json_object_get(range, "to"));
    if (range && (!json_is_object(range) || !*from || !*to || strlen(*from) > 40 || strlen(*to) > 40))
        json_object_set_new(fields, "dateRange", json_string("an object {from, to} of RFC 3339 times"));
}

/* POST /v1/integrations/:id/sync queues a run; `busline sync` executes it
 * (connectors/calendar_sync/worker.h) and records its outcome and event. */
int bl_api_integrations_sync(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_oauth_store *st = bl_api_integrations_store(req, resp, ctx);
    if (!st)
        return 0;
    const char *id = bl_http_request_param(req->http, "id"), *direction, *from, *to;
    bool dry_run, force;
    json_t *fields = json_object();
    if (!fields)
        return -1;
    sync_params(req->body, &direction, &from, &to, &dry_run, &force, fields);
    if (json_object_size(fields) > 0)
        return bl_api_fail(req->http, resp, 422, NULL, "the sync request is not valid", fields);
    json_decref(fields);
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    int rc = -1;
    const char *check[] = {id, req->auth->org_id};
    PGresult *r = bl_pg_exec(conn, "SELECT provider, status, sync_direction FROM integrations WHERE id::text = $1"
                                   " AND organization_id = $2", 2, check, &err);
    if (!r)
        goto done;
    if (PQntuples(r) != 1) {
        PQclear(r);
        rc = bl_api_fail(req->http, resp, 404, "INTEGRATION_NOT_FOUND", "no such integration in this organization",
                         NULL);
        goto done;
    }
    char status[16], default_direction[32];
    snprintf(status, sizeof status, "%s", PQgetvalue(r, 0, 1));
    snprintf(default_direction, sizeof default_direction, "%s", PQgetvalue(r, 0, 2));
    PQclear(r);
    if (strcmp(status, "connected") != 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "the integration is %s: connect it again before syncing", status);
        rc = bl_api_fail(req->http, resp, 409, "SYNC_FAILED", msg, NULL);
        goto done;
    }
    json_t *who = req->auth->user_id[0] ? json_pack("{s:s}", "userId", req->auth->user_id)
                                        : json_pack("{s:s}", "apiKeyId", req->auth->key_id);
    char *who_text = who ? json_dumps(who, JSON_COMPACT) : NULL;
    json_decref(who);
    const char *ins[] = {id, dry_run ? "true" : "false", direction ? direction : default_direction, from, to,
                         force ? "true" : "false", who_text};
    r = bl_pg_exec(conn, "INSERT INTO integration_sync_runs (integration_id, status, dry_run, direction, range_from,"
                         " range_to, type, force_update, triggered_by) VALUES ($1, 'queued', $2::boolean, $3,"
                         " $4::timestamptz, $5::timestamptz, 'manual', $6::boolean, $7::jsonb) RETURNING id",
                   7, ins, &err);
    free(who_text);
    if (!r) {
        char state[6];
        if (bl_pg_err_sqlstate(&err, state) == 0 && strncmp(state, "22", 2) == 0)
            rc = bl_api_fail(req->http, resp, 422, NULL, "dateRange holds a time that is not RFC 3339",
                             json_pack("{s:s}", "dateRange", "from and to must be RFC 3339 times"));
        else if (bl_pg_err_sqlstate(&err, state) == 0 && strcmp(state, "23505") == 0)
            rc = bl_api_fail(req->http, resp, 409, "SYNC_FAILED",
                             "a sync of this integration is already queued or running", NULL);
        goto done;
    }
    char run[40];
    snprintf(run, sizeof run, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    char url[160];
    snprintf(url, sizeof url, "/v1/integrations/%s/sync-runs/%s", id, run);
    bl_http_response_header(resp, "Location", url);
    json_t *out = json_pack("{s:s, s:s, s:s}", "runId", run, "status", "queued", "statusUrl", url);
    rc = out ? bl_http_response_json(resp, 202, out) : -1;
    json_decref(out);
done:
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    return rc;
}

/* Runs sql ($1 integration id, $2 organization, $3 optional) for one JSON text. */
static int answer_query(const bl_api_request *req, bl_http_response *resp, const char *sql, const char *third,
                        const char *missing)
{
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    const char *params[] = {bl_http_request_param(req->http, "id"), req->auth->org_id, third};
    PGresult *r = bl_pg_exec(conn, sql, third ? 3 : 2, params, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!r)
        return -1;
    int rc = PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)
                 ? answer_json_text(resp, 200, PQgetvalue(r, 0, 0))
                 : bl_api_fail(req->http, resp, 404, "INTEGRATION_NOT_FOUND", missing, NULL);
    PQclear(r);
    return rc;
}

int bl_api_integrations_sync_run(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    return answer_query(req, resp,
                        "SELECT " RUN_JSON "::text FROM integration_sync_runs s WHERE integration_id::text = $1"
                        " AND id::text = $3 AND EXISTS (SELECT 1 FROM integrations i WHERE i.id = s.integration_id"
                        " AND i.organization_id = $2)",
                        bl_http_request_param(req->http, "run"), "no such sync run in this organization");
}

int bl_api_integrations_history(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *params[] = {bl_http_request_param(req->http, "id"), req->auth->org_id};
    char found[8] = "";
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    PGresult *r = bl_pg_exec(conn, "SELECT 1 FROM integrations WHERE id::text = $1 AND organization_id = $2", 2,
                             params, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!r)
        return -1;
    if (PQntuples(r) == 1)
        snprintf(found, sizeof found, "yes");
    PQclear(r);
    if (!found[0])
        return bl_api_fail(req->http, resp, 404, "INTEGRATION_NOT_FOUND", "no such integration in this organization",
                           NULL);
    static const char *const sorts[] = {"started_at", "finished_at", "items_synced", "duration_ms", NULL};
    return bl_api_answer_page(req, resp, "integration_sync_runs WHERE integration_id::text = $1", 1, params,
                              RUN_JSON, sorts);
}

int bl_api_integrations_analytics(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_oauth_store *st = bl_api_integrations_store(req, resp, ctx);
    if (!st)
        return 0;
    const char *days_text = bl_http_request_query(req->http, "days");
    long days = days_text ? strtol(days_text, NULL, 10) : 30;
    if (days < 1 || days > 365)
        return bl_api_fail(req->http, resp, 422, NULL, "days must be from 1 to 365",
                           json_pack("{s:s}", "days", "an integer from 1 to 365"));
    bl_err err = {0};
    if (bl_oauth_store_flush(st, &err) != 0)
        return -1;
    char days_buf[16];
    snprintf(days_buf, sizeof days_buf, "%ld", days);
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    const char *params[] = {req->auth->org_id, days_buf};
    PGresult *r = bl_pg_exec(
        conn,
        "WITH calls AS (SELECT * FROM integration_calls WHERE organization_id = $1"
        " AND created_at > now() - make_interval(days => $2::int)),"
        " providers AS (SELECT provider FROM calls UNION SELECT provider FROM integrations WHERE organization_id = $1)"
        " SELECT json_build_object('days', $2::int, 'data', coalesce(json_agg(json_build_object("
        " 'provider', p.provider,"
        " 'integrations', (SELECT count(*) FROM integrations i WHERE i.organization_id = $1 AND i.provider = p.provider),"
        " 'connected', (SELECT count(*) FROM integrations i WHERE i.organization_id = $1 AND i.provider = p.provider"
        "   AND i.status = 'connected'),"
        " 'calls', (SELECT count(*) FROM calls c WHERE c.provider = p.provider),"
        " 'successful', (SELECT count(*) FROM calls c WHERE c.provider = p.provider AND c.success),"
        " 'success_rate', (SELECT CASE WHEN count(*) = 0 THEN NULL ELSE round(100.0 * count(*) FILTER (WHERE success)"
        "   / count(*), 2) END FROM calls c WHERE c.provider = p.provider),"
        " 'average_response_ms', (SELECT round(avg(duration_us) / 1000.0, 3) FROM calls c WHERE c.provider = p.provider),"
        " 'common_errors', (SELECT coalesce(json_agg(json_build_object('code', e.error_code, 'count', e.n)"
        "   ORDER BY e.n DESC, e.error_code), '[]') FROM (SELECT error_code, count(*) AS n FROM calls c"
        "   WHERE c.provider = p.provider AND NOT c.success GROUP BY error_code ORDER BY count(*) DESC, error_code"
        "   LIMIT 5) e)) ORDER BY p.provider), '[]'))::text FROM providers p",
        2, params, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!r)
        return -1;
    int rc = answer_json_text(resp, 200, PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}
