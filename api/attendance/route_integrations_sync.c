/* Document 001's synchronisation paths on the Attendance-X surface: POST
 * /integrations/:id/sync queues a run (status 'queued') that the sync
 * worker (`busline sync`) claims and executes, GET .../sync/:syncId/status
 * reads it, GET .../history lists the runs, and DELETE /integrations/:id
 * disconnects: it queues a 'cleanup' run (the worker removes the calendar
 * copies while the tokens still work), waits for it as long as the server
 * waits for a command's outcome (command_wait_ms), then revokes the tokens
 * and keeps the row 'disconnected'. cleanupStatus reports what that run
 * counted. Past the bound the answer is 202 with the run's statusUrl; the
 * revocation then happens when the run's end is next seen (its status read
 * or the DELETE repeated). */
#include "api/attendance/ax_integrations.h"

#include "core/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- one run ---- */

/* The run's JSON (BL_AX_RUN_JSON plus integrationId and type), or NULL
 * when no such run of integration id is in the organization ($3). */
static json_t *run_json(PGconn *conn, const char *id, const char *run, const char *org, bl_err *err)
{
    const char *params[] = {id, run, org};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT (" BL_AX_RUN_JSON "::jsonb || jsonb_build_object('syncId', s.id,"
                             " 'integrationId', s.integration_id, 'completed', s.status NOT IN ('queued', 'running')))"
                             "::text FROM integration_sync_runs s JOIN integrations i ON i.id = s.integration_id"
                             " WHERE s.integration_id::text = $1 AND s.id::text = $2 AND i.organization_id::text = $3",
                             3, params, err);
    if (!r)
        return NULL;
    json_t *out = PQntuples(r) == 1 ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    return out;
}

/* ---- disconnect ---- */

/* Revokes and disconnects once the cleanup run ended, unless done before;
 * the outcome of the revocation is kept in the run's statistics. The run's
 * row lock makes one caller do it when a DELETE and a status read meet. */
static int finish_if_ended(const bl_api_request *req, void *ctx, PGconn *conn, const char *id, json_t *run,
                           bl_err *err)
{
    if (!json_is_true(json_object_get(run, "completed")) ||
        strcmp(json_string_value(json_object_get(run, "type")), "cleanup") != 0 ||
        json_object_get(json_object_get(run, "statistics"), "tokensRevoked"))
        return 0;
    const char *params[] = {json_string_value(json_object_get(run, "syncId")), NULL};
    if (bl_pg_begin(conn, err) != 0)
        return -1;
    PGresult *r = bl_pg_exec(conn, "SELECT statistics->'tokensRevoked' FROM integration_sync_runs WHERE id::text = $1"
                                   " FOR UPDATE", 1, params, err);
    bool done_before = r && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0);
    json_t *before = done_before ? json_loads(PQgetvalue(r, 0, 0), JSON_DECODE_ANY, NULL) : NULL;
    PQclear(r);
    bool revoked = false;
    int rc = -1;
    if (!r)
        goto rollback;
    if (!done_before) {
        if (bl_ax_finish_disconnect(req, ctx, id, &revoked, err) != 0)
            goto rollback;
        params[1] = revoked ? "true" : "false";
        if (bl_pg_exec_cmd(conn,
                           "UPDATE integration_sync_runs SET statistics = statistics ||"
                           " jsonb_build_object('tokensRevoked', $2::boolean) WHERE id::text = $1",
                           2, params, err) != 0)
            goto rollback;
    }
    if (bl_pg_commit(conn, err) != 0)
        goto rollback;
    json_object_set_new(json_object_get(run, "statistics"), "tokensRevoked",
                        before ? before : json_boolean(revoked));
    return 0;
rollback:;
    bl_err tmp = {0};
    bl_pg_rollback(conn, &tmp);
    json_decref(before);
    return rc;
}

/* The document's DELETE answer from a cleanup run and the integration. */
static json_t *disconnect_json(PGconn *conn, const bl_api_request *req, const char *id, json_t *run, bl_err *err)
{
    const char *params[] = {id};
    PGresult *r = bl_pg_exec(conn, "SELECT status, to_json(disconnected_at)#>>'{}' FROM integrations"
                                   " WHERE id::text = $1", 1, params, err);
    if (!r)
        return NULL;
    json_t *stats = json_object_get(run, "statistics");
    char url[512];
    bl_ax_status_url(req, id, json_string_value(json_object_get(run, "syncId")), url, sizeof url);
    /* the worker counts what it removed; a count it did not make is null */
    bool ended = json_is_true(json_object_get(run, "completed"));
    if (!ended)
        stats = NULL; /* a queued run's statistics are its zero defaults, not counts */
    json_t *cleanup = json_pack("{s:O?, s:O?, s:O?}", "eventsRemoved", json_object_get(stats, "eventsDeleted"),
                                "webhooksDisabled", json_object_get(stats, "webhooksDisabled"), "tokensRevoked",
                                json_object_get(stats, "tokensRevoked"));
    json_t *out = json_pack("{s:s, s:s, s:s?, s:o, s:{s:O, s:O, s:O, s:s}}", "integrationId", id, "status",
                            PQgetvalue(r, 0, 0), "disconnectedAt", PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1),
                            "cleanupStatus", cleanup ? cleanup : json_null(), "cleanupRun", "syncId",
                            json_object_get(run, "syncId"), "status", json_object_get(run, "status"), "errors",
                            json_object_get(run, "errors"), "statusUrl", url);
    PQclear(r);
    return out;
}

/* Queues the cleanup run, or finds the one already queued or running.
 * Writes its id into run (40 bytes). Returns 1, 0 after answering (409),
 * -1 on error. */
static int queue_cleanup(PGconn *conn, const bl_api_request *req, bl_http_response *resp, const char *id, char *run,
                         bl_err *err)
{
    json_t *who = bl_ax_caller(conn, req);
    char *who_text = who ? json_dumps(who, JSON_COMPACT) : NULL;
    json_decref(who);
    if (!who_text || bl_pg_begin(conn, err) != 0) {
        free(who_text);
        return -1;
    }
    int rc = -1;
    const char *params[] = {id, who_text};
    PGresult *r = bl_pg_exec(conn, "SELECT id, type, status FROM integration_sync_runs WHERE integration_id::text = $1"
                                   " AND status IN ('queued', 'running') FOR UPDATE", 1, params, err);
    if (!r)
        goto done;
    if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 1), "cleanup") == 0) {
        snprintf(run, 40, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        rc = bl_pg_commit(conn, err) == 0 ? 1 : -1;
        goto done;
    }
    if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 2), "running") == 0) {
        PQclear(r);
        bl_err tmp = {0};
        bl_pg_rollback(conn, &tmp);
        rc = bl_api_fail(req->http, resp, 409, "SYNC_FAILED",
                         "a sync of this integration is running: disconnect once it ends", NULL);
        goto done;
    }
    PQclear(r);
    /* a sync still waiting for a worker will not run on a disconnected integration */
    if (bl_pg_exec_cmd(conn,
                       "UPDATE integration_sync_runs SET status = 'error', finished_at = now(), duration_ms = 0,"
                       " errors = errors || '[{\"code\":\"SYNC_FAILED\",\"error\":\"cancelled: the integration"
                       " was disconnected\"}]'::jsonb, error_code = 'SYNC_FAILED', error_message ="
                       " 'cancelled: the integration was disconnected'"
                       " WHERE integration_id::text = $1 AND status = 'queued'",
                       1, params, err) != 0 ||
        bl_pg_exec_cmd(conn, "UPDATE integrations SET auto_sync = false, next_sync_at = NULL, updated_at = now()"
                             " WHERE id::text = $1", 1, params, err) != 0)
        goto rollback;
    r = bl_pg_exec(conn,
                   "INSERT INTO integration_sync_runs (integration_id, status, type, direction, triggered_by)"
                   " SELECT id, 'queued', 'cleanup', sync_direction, $2::jsonb FROM integrations WHERE id::text = $1"
                   " RETURNING id",
                   2, params, err);
    if (!r)
        goto rollback;
    snprintf(run, 40, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    rc = bl_pg_commit(conn, err) == 0 ? 1 : -1;
    goto done;
rollback:;
    bl_err tmp = {0};
    bl_pg_rollback(conn, &tmp);
done:
    free(who_text);
    return rc;
}

int bl_ax_delete(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    if (!bl_api_integrations_store(req, resp, ctx))
        return 0;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    const char *id = bl_http_request_param(req->http, "id");
    int rc = -1;
    json_t *run = NULL, *data = NULL;
    char provider[32], status[16], run_id[40] = "";
    int found = bl_ax_integration_find(conn, req, provider, status, &err);
    if (found <= 0) {
        rc = found < 0 ? -1 : bl_ax_not_found(req, resp);
        goto done;
    }
    if (strcmp(status, "disconnected") == 0) {
        /* disconnected before: the answer of its last cleanup */
        const char *params[] = {id};
        PGresult *r = bl_pg_exec(conn, "SELECT id FROM integration_sync_runs WHERE integration_id::text = $1"
                                       " AND type = 'cleanup' ORDER BY started_at DESC LIMIT 1", 1, params, &err);
        if (!r)
            goto done;
        if (PQntuples(r) == 1)
            snprintf(run_id, sizeof run_id, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    if (!run_id[0]) {
        int q = queue_cleanup(conn, req, resp, id, run_id, &err);
        if (q <= 0) {
            rc = q;
            goto done;
        }
    }
    int wait_ms = bl_api_server_config(req->server)->command_wait_ms;
    int64_t until = bl_clock_mono_ms() + (wait_ms > 0 ? wait_ms : 0);
    for (;;) {
        json_decref(run);
        if (!(run = run_json(conn, id, run_id, req->auth->org_id, &err)))
            goto done;
        if (json_is_true(json_object_get(run, "completed")) || bl_clock_mono_ms() >= until)
            break;
        struct timespec pause = {0, 50 * 1000 * 1000}; /* the worker's pace, not a busy loop */
        nanosleep(&pause, NULL);
    }
    if (finish_if_ended(req, ctx, conn, id, run, &err) != 0 || !(data = disconnect_json(conn, req, id, run, &err)))
        goto done;
    bool ended = json_is_true(json_object_get(run, "completed"));
    if (!ended) {
        json_object_set_new(data, "status", json_string("disconnecting"));
        json_object_set(data, "statusUrl", json_object_get(json_object_get(data, "cleanupRun"), "statusUrl"));
        bl_http_response_header(resp, "Location", json_string_value(json_object_get(data, "statusUrl")));
    }
    rc = bl_att_answer(resp, ended ? 200 : 202, data, NULL);
    data = NULL;
done:
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    json_decref(run);
    json_decref(data);
    return rc;
}

/* ---- sync ---- */

static const char *const sync_fields[] = {"direction", "scope", "options", NULL};
static const char *const option_fields[] = {"forceUpdate", "dryRun", "dateRange", NULL};
static const char *const range_fields[] = {"start", "end", NULL};

typedef struct sync_request {
    const char *direction, *scope, *start, *end;
    bool force, dry_run;
} sync_request;

static void read_sync(const json_t *body, sync_request *s, json_t *fields)
{
    *s = (sync_request){.scope = "all"};
    if (body && !json_is_object(body)) {
        json_object_set_new(fields, "body", json_string("an object"));
        return;
    }
    bl_ax_unknown_fields(body, sync_fields, "", fields);
    const json_t *dir = json_object_get(body, "direction"), *scope = json_object_get(body, "scope");
    s->direction = json_string_value(dir);
    if (dir && (!s->direction || (strcmp(s->direction, "bidirectional") && strcmp(s->direction, "attendance_to_external") &&
                                  strcmp(s->direction, "external_to_attendance"))))
        json_object_set_new(fields, "direction",
                            json_string("one of bidirectional, attendance_to_external, external_to_attendance"));
    if (scope) {
        s->scope = json_string_value(scope);
        if (!s->scope || (strcmp(s->scope, "all") && strcmp(s->scope, "events") && strcmp(s->scope, "upcoming")))
            json_object_set_new(fields, "scope", json_string("one of all, events, upcoming"));
    }
    const json_t *opts = json_object_get(body, "options");
    if (opts && !json_is_object(opts)) {
        json_object_set_new(fields, "options", json_string("an object"));
        return;
    }
    bl_ax_unknown_fields(opts, option_fields, "options", fields);
    const json_t *force = json_object_get(opts, "forceUpdate"), *dry = json_object_get(opts, "dryRun");
    if (force && !json_is_boolean(force))
        json_object_set_new(fields, "options.forceUpdate", json_string("a boolean"));
    if (dry && !json_is_boolean(dry))
        json_object_set_new(fields, "options.dryRun", json_string("a boolean"));
    s->force = json_is_true(force);
    s->dry_run = json_is_true(dry);
    const json_t *range = json_object_get(opts, "dateRange");
    if (range && !json_is_object(range)) {
        json_object_set_new(fields, "options.dateRange", json_string("an object {start, end}"));
        return;
    }
    bl_ax_unknown_fields(range, range_fields, "options.dateRange", fields);
    s->start = json_string_value(json_object_get(range, "start"));
    s->end = json_string_value(json_object_get(range, "end"));
    if (range && (!s->start || strlen(s->start) > 40))
        json_object_set_new(fields, "options.dateRange.start", json_string("an RFC 3339 time"));
    if (range && (!s->end || strlen(s->end) > 40))
        json_object_set_new(fields, "options.dateRange.end", json_string("an RFC 3339 time"));
}

int bl_ax_sync(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    json_t *fields = json_object();
    if (!fields)
        return -1;
    sync_request s;
    read_sync(req->body, &s, fields);
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn) {
        json_decref(fields);
        return -1;
    }
    int rc = -1;
    const char *id = bl_http_request_param(req->http, "id");
    char provider[32], status[16];
    int found = bl_ax_integration_find(conn, req, provider, status, &err);
    const bl_ax_provider *p = found == 1 ? bl_ax_provider_find(provider, true) : NULL;
    if (found <= 0 || !p) {
        rc = found < 0 ? -1 : bl_ax_not_found(req, resp);
        goto done;
    }
    if (json_object_size(fields) > 0) {
        rc = bl_api_fail(req->http, resp, 422, NULL, "the sync request is not valid", fields);
        fields = NULL;
        goto done;
    }
    if (strcmp(p->type, "calendar") != 0) {
        rc = bl_api_fail(req->http, resp, 400, "PROVIDER_NOT_SUPPORTED",
                         "only calendar integrations (google, microsoft) are synchronised", NULL);
        goto done;
    }
    if (strcmp(status, "connected") != 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "the integration is %s: connect it again before syncing", status);
        rc = bl_api_fail(req->http, resp, 409, "SYNC_FAILED", msg, NULL);
        goto done;
    }
    json_t *who = bl_ax_caller(conn, req);
    char *who_text = who ? json_dumps(who, JSON_COMPACT) : NULL;
    json_decref(who);
    if (!who_text)
        goto done;
    const char *params[] = {id, s.direction, s.scope, s.force ? "true" : "false", s.dry_run ? "true" : "false",
                            s.start, s.end, who_text};
    PGresult *r = bl_pg_exec(conn,
                             "INSERT INTO integration_sync_runs (integration_id, status, type, direction, scope,"
                             " force_update, dry_run, range_from, range_to, triggered_by)"
                             " SELECT id, 'queued', 'manual', coalesce($2, sync_direction), $3, $4::boolean,"
                             " $5::boolean, $6::timestamptz, $7::timestamptz, $8::jsonb FROM integrations"
                             " WHERE id::text = $1 RETURNING id, to_json(started_at)#>>'{}'",
                             8, params, &err);
    free(who_text);
    if (!r) {
        char state[6];
        if (bl_pg_err_sqlstate(&err, state) == 0 && strcmp(state, "23505") == 0) {
            const char *q[] = {id};
            PGresult *a = bl_pg_exec(conn, "SELECT id FROM integration_sync_runs WHERE integration_id::text = $1"
                                           " AND status IN ('queued', 'running')", 1, q, &err);
            char url[512] = "";
            if (a && PQntuples(a) == 1)
                bl_ax_status_url(req, id, PQgetvalue(a, 0, 0), url, sizeof url);
            json_t *details = json_pack("{s:s?, s:s?}", "activeSyncId", a && PQntuples(a) == 1 ? PQgetvalue(a, 0, 0)
                                                                                               : NULL,
                                        "statusUrl", url[0] ? url : NULL);
            PQclear(a);
            rc = bl_api_fail(req->http, resp, 409, NULL, "a sync of this integration is already queued or running",
                             details);
        } else if (bl_pg_err_sqlstate(&err, state) == 0 && strncmp(state, "22", 2) == 0) {
            rc = bl_api_fail(req->http, resp, 422, NULL, "options.dateRange holds a time that is not RFC 3339",
                             json_pack("{s:s}", "options.dateRange", "start and end must be RFC 3339 times"));
        }
        goto done;
    }
    char run[40], started[40], url[512];
    snprintf(run, sizeof run, "%s", PQgetvalue(r, 0, 0));
    snprintf(started, sizeof started, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    bl_ax_status_url(req, id, run, url, sizeof url);
    json_t *estimate = bl_ax_estimated_duration(conn, id, &err);
    if (!estimate)
        goto done;
    bl_http_response_header(resp, "Location", url);
    json_t *data = json_pack("{s:s, s:s, s:s, s:o, s:s, s:b}", "syncId", run, "status", "started", "startedAt",
                             started, "estimatedDuration", estimate, "statusUrl", url, "dryRun", s.dry_run);
    rc = data ? bl_att_answer(resp, 202, data, NULL) : -1;
done:
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    json_decref(fields);
    return rc;
}

int bl_ax_sync_status(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    const char *id = bl_http_request_param(req->http, "id");
    int rc = -1;
    json_t *run = run_json(conn, id, bl_http_request_param(req->http, "syncId"), req->auth->org_id, &err);
    if (!run && !err.msg[0])
        rc = bl_api_fail(req->http, resp, 404, "INTEGRATION_NOT_FOUND",
                         "no such sync run of an integration of this organization", NULL);
    else if (run && finish_if_ended(req, ctx, conn, id, run, &err) == 0)
        rc = bl_att_answer(resp, 200, json_incref(run), NULL);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    json_decref(run);
    return rc;
}

/* ---- history ---- */

static int read_positive(const bl_api_request *req, const char *name, long def, long max, long *out, json_t *fields)
{
    const char *text = bl_http_request_query(req->http, name);
    *out = def;
    if (!text)
        return 0;
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (!*text || *end || v < 1 || v > max) {
        char msg[64];
        snprintf(msg, sizeof msg, "an integer from 1 to %ld", max);
        json_object_set_new(fields, name, json_string(msg));
        return -1;
    }
    *out = v;
    return 0;
}

int bl_ax_history(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    json_t *fields = json_object();
    if (!fields)
        return -1;
    long limit, page;
    read_positive(req, "limit", 50, 100, &limit, fields);
    read_positive(req, "page", 1, 1000000, &page, fields);
    const char *status = bl_http_request_query(req->http, "status");
    if (status && strcmp(status, "success") && strcmp(status, "error") && strcmp(status, "partial"))
        json_object_set_new(fields, "status", json_string("one of success, error, partial"));
    const char *start = bl_http_request_query(req->http, "startDate");
    const char *end = bl_http_request_query(req->http, "endDate");
    if (json_object_size(fields) > 0)
        return bl_api_fail(req->http, resp, 400, NULL, "bad query parameters", fields);
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn) {
        json_decref(fields);
        return -1;
    }
    int rc = -1;
    char provider[32], istatus[16], limit_text[24], offset_text[24];
    int found = bl_ax_integration_find(conn, req, provider, istatus, &err);
    if (found <= 0) {
        rc = found < 0 ? -1 : bl_ax_not_found(req, resp);
        goto done;
    }
    snprintf(limit_text, sizeof limit_text, "%ld", limit);
    snprintf(offset_text, sizeof offset_text, "%ld", (page - 1) * limit);
    /* the legacy words of runs written before the document's */
    const char *legacy = !status ? NULL : strcmp(status, "success") == 0 ? "completed"
                                      : strcmp(status, "error") == 0     ? "failed"
                                                                         : "partial";
    const char *params[] = {bl_http_request_param(req->http, "id"), status, legacy, start, end, limit_text,
                            offset_text};
    PGresult *r = bl_pg_exec(conn,
                             "WITH runs AS (SELECT * FROM integration_sync_runs s WHERE s.integration_id::text = $1"
                             " AND ($2::text IS NULL OR s.status IN ($2, $3))"
                             " AND ($4::timestamptz IS NULL OR s.started_at >= $4::timestamptz)"
                             " AND ($5::timestamptz IS NULL OR s.started_at <= $5::timestamptz))"
                             " SELECT (SELECT coalesce(json_agg(x.j ORDER BY x.t DESC, x.k DESC), '[]') FROM"
                             " (SELECT " BL_AX_RUN_JSON " AS j, s.started_at AS t, s.id AS k FROM runs s"
                             " ORDER BY s.started_at DESC, s.id DESC LIMIT $6::bigint OFFSET $7::bigint) x)::text,"
                             " (SELECT count(*) FROM runs)",
                             7, params, &err);
    if (!r) {
        char state[6];
        if (bl_pg_err_sqlstate(&err, state) == 0 && strncmp(state, "22", 2) == 0)
            rc = bl_api_fail(req->http, resp, 400, NULL, "startDate and endDate are dates or RFC 3339 times",
                             json_pack("{s:s}", start ? "startDate" : "endDate", "a date or an RFC 3339 time"));
        goto done;
    }
    json_t *data = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    long total = atol(PQgetvalue(r, 0, 1));
    PQclear(r);
    json_t *meta = json_pack("{s:I, s:I, s:I, s:I}", "page", (json_int_t)page, "limit", (json_int_t)limit, "total",
                             (json_int_t)total, "totalPages", (json_int_t)((total + limit - 1) / limit));
    rc = data && meta ? bl_att_answer(resp, 200, data, meta) : -1;
    if (rc != 0 && !(data && meta)) {
        json_decref(data);
        json_decref(meta);
    }
done:
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    json_decref(fields);
    return rc;
}
