/* One calendar sync run (run.h): loading, the passes, recording. */
#include "connectors/calendar_sync/run_internal.h"

#include "core/clock.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int load(run *r, const char *run_id, bl_err *err)
{
    const char *p[] = {run_id, r->deps->worker_id};
    PGresult *res = calsync_query(r,
                          "SELECT s.integration_id, i.organization_id, i.provider, s.type, s.direction, s.dry_run,"
                          " s.force_update, s.range_from, s.range_to, " MS("s.range_from") ", " MS("s.range_to")
                          ", i.settings::text, " MS("s.started_at") " FROM integration_sync_runs s JOIN integrations i"
                          " ON i.id = s.integration_id WHERE s.id = $1 AND s.claimed_by = $2 AND s.status = 'running'",
                          2, p, err);
    if (!res)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        r->lost = true;
        return 0;
    }
    snprintf(r->id, sizeof r->id, "%s", run_id);
    snprintf(r->integration_id, sizeof r->integration_id, "%s", PQgetvalue(res, 0, 0));
    snprintf(r->org, sizeof r->org, "%s", PQgetvalue(res, 0, 1));
    snprintf(r->provider, sizeof r->provider, "%s", PQgetvalue(res, 0, 2));
    snprintf(r->type, sizeof r->type, "%s", PQgetvalue(res, 0, 3));
    const char *dir = PQgetvalue(res, 0, 4);
    snprintf(r->direction, sizeof r->direction, "%s",
             !strcmp(dir, "inbound")    ? "external_to_attendance"
             : !strcmp(dir, "outbound") ? "attendance_to_external"
             : !strcmp(dir, "both")     ? "bidirectional"
                                        : dir);
    r->dry_run = PQgetvalue(res, 0, 5)[0] == 't';
    r->force = PQgetvalue(res, 0, 6)[0] == 't';
    r->has_range = !PQgetisnull(res, 0, 7) || !PQgetisnull(res, 0, 8);
    snprintf(r->range_from, sizeof r->range_from, "%s", PQgetvalue(res, 0, 7));
    snprintf(r->range_to, sizeof r->range_to, "%s", PQgetvalue(res, 0, 8));
    r->range_from_ms = PQgetisnull(res, 0, 9) ? -1 : atoll(PQgetvalue(res, 0, 9));
    r->range_to_ms = PQgetisnull(res, 0, 10) ? -1 : atoll(PQgetvalue(res, 0, 10));
    json_t *settings = json_loads(PQgetvalue(res, 0, 11), 0, NULL);
    r->started_ms = atoll(PQgetvalue(res, 0, 12));
    PQclear(res);
    bl_err e = {0};
    int rc = bl_calsync_mapping_load(settings, &r->map, &e);
    json_decref(settings);
    if (rc != 0) {
        snprintf(r->fatal_code, sizeof r->fatal_code, "SYNC_FAILED");
        snprintf(r->fatal_msg, sizeof r->fatal_msg, "%s", e.msg);
        return 0;
    }
    bl_err pe = {0};
    if (!(r->prov = bl_calsync_provider_open(r->deps, r->provider, r->integration_id, &pe))) {
        if (pe.code != BL_OAUTH_E_PROVIDER)
            return bl_err_set(err, pe.code, "%s", pe.msg);
        snprintf(r->fatal_code, sizeof r->fatal_code, "PROVIDER_NOT_SUPPORTED");
        snprintf(r->fatal_msg, sizeof r->fatal_msg, "%s", pe.msg);
        return 0;
    }
    return 0;
}

static int record(run *r, bl_err *err)
{
    long done_n = r->created + r->updated + r->deleted;
    const char *status = r->fatal_code[0] || (r->errors > 0 && done_n == 0) ? "error"
                         : r->errors > 0                                     ? "partial"
                                                                             : "success";
    bool failed = strcmp(status, "error") == 0;
    const char *code = r->fatal_code[0] ? r->fatal_code
                       : failed         ? json_string_value(json_object_get(json_array_get(r->error_list, 0), "code"))
                                        : NULL;
    const char *msg = r->fatal_code[0] ? r->fatal_msg
                      : failed         ? json_string_value(json_object_get(json_array_get(r->error_list, 0), "error"))
                                       : NULL;
    json_t *stats = json_pack("{s:I, s:I, s:I, s:I, s:I}", "eventsProcessed", (json_int_t)r->processed,
                              "eventsCreated", (json_int_t)r->created, "eventsUpdated", (json_int_t)r->updated,
                              "eventsDeleted", (json_int_t)r->deleted, "errors", (json_int_t)r->errors);
    char *stats_text = stats ? json_dumps(stats, JSON_COMPACT) : NULL;
    char *errors_text = json_dumps(r->error_list, JSON_COMPACT);
    int64_t ms = bl_clock_wall_ms() - r->started_ms;
    char duration[24], conflicts[24], items[24];
    snprintf(duration, sizeof duration, "%lld", (long long)(ms > 0 ? ms : 0));
    snprintf(conflicts, sizeof conflicts, "%ld", r->conflicts);
    snprintf(items, sizeof items, "%ld", done_n);
    json_t *data = failed ? json_pack("{s:s, s:s, s:s, s:s, s:b, s:i}", "integration_id", r->integration_id,
                                      "provider", r->provider, "error_code", code ? code : "SYNC_FAILED",
                                      "error_message", msg ? msg : "the sync failed", "retryable", 1, "attempt", 1)
                          : json_pack("{s:s, s:s, s:I, s:I, s:I}", "integration_id", r->integration_id, "provider",
                                      r->provider, "items_synced", (json_int_t)done_n, "duration_ms",
                                      (json_int_t)(ms > 0 ? ms : 0), "started_at", (json_int_t)r->started_ms);
    int rc = -1;
    if (!stats_text || !errors_text || !data) {
        bl_err_set(err, BL_ENOMEM, "calendar sync: out of memory");
        goto done;
    }
    const char *p[] = {r->id, r->deps->worker_id, status, duration, stats_text, errors_text, conflicts, items, code,
                       msg, r->integration_id};
    if (bl_pg_begin(r->conn, err) != 0)
        goto done;
    PGresult *res = bl_pg_exec(r->conn,
                               "UPDATE integration_sync_runs SET status = $3, finished_at = now(), duration_ms ="
                               " $4::bigint, statistics = $5::jsonb, errors = $6::jsonb, conflicts = $7::int,"
                               " items_synced = $8::bigint, error_code = $9, error_message = $10,"
                               " heartbeat_at = now() WHERE id = $1 AND claimed_by = $2 AND status = 'running'"
                               " RETURNING 1",
                               10, p, err);
    bool ours = res && PQntuples(res) == 1;
    PQclear(res);
    if (!res || !ours) {
        r->lost = res != NULL;
        bl_err tmp = {0};
        bl_pg_rollback(r->conn, &tmp);
        rc = res ? 0 : -1;
        goto done;
    }
    if ((!r->dry_run &&
         bl_pg_exec_cmd(r->conn,
                        failed ? "UPDATE integrations SET error_count = error_count + 1, updated_at = now()"
                                 " WHERE id = $1"
                               : "UPDATE integrations SET last_sync_at = now(), updated_at = now() WHERE id = $1",
                        1, p + 10, err) != 0) ||
        bl_oauth_append_event(r->deps->store, r->conn,
                              failed ? "integration.sync_failed" : "integration.sync_completed", r->org,
                              r->integration_id, data, err) != 0 ||
        bl_pg_commit(r->conn, err) != 0) {
        bl_err tmp = {0};
        bl_pg_rollback(r->conn, &tmp);
        goto done;
    }
    bl_log_info("calendar sync: run recorded", BL_FS("run_id", r->id), BL_FS("integration_id", r->integration_id),
                BL_FS("status", status), BL_FI("processed", r->processed), BL_FI("created", r->created),
                BL_FI("updated", r->updated), BL_FI("deleted", r->deleted), BL_FI("errors", r->errors),
                BL_FI("conflicts", r->conflicts));
    rc = 0;
done:
    json_decref(stats);
    json_decref(data);
    free(stats_text);
    free(errors_text);
    return rc;
}

int bl_calsync_run_execute(const bl_calsync_deps *deps, const char *run_id, bl_calsync_outcome *outcome, bl_err *err)
{
    run r;
    memset(&r, 0, sizeof r);
    r.deps = deps;
    r.last_beat = bl_clock_mono_ms();
    r.error_list = json_array();
    r.touched = json_object();
    *outcome = BL_CALSYNC_RECORDED;
    int rc = -1;
    if (!r.error_list || !r.touched) {
        bl_err_set(err, BL_ENOMEM, "calendar sync: out of memory");
        goto done;
    }
    if (!(r.conn = bl_pg_pool_acquire(deps->pool, 10000, err)) || load(&r, run_id, err) != 0)
        goto done;
    if (!r.lost && !r.fatal_code[0]) {
        bool in = !strcmp(r.direction, "bidirectional") || !strcmp(r.direction, "external_to_attendance");
        bool out = !strcmp(r.direction, "bidirectional") || !strcmp(r.direction, "attendance_to_external");
        int step = 0;
        if (!strcmp(r.type, "cleanup"))
            step = calsync_cleanup(&r, err);
        else {
            /* inbound first: its conflicts decide what the outbound pass may overwrite */
            if (in)
                step = calsync_inbound(&r, err);
            if (step == 0 && out && !r.lost && !r.stopped)
                step = calsync_outbound(&r, err);
        }
        if (step != 0)
            goto done;
    }
    if (r.stopped) {
        /* handed back at once rather than left for the stale takeover */
        const char *p[] = {run_id, deps->worker_id};
        *outcome = BL_CALSYNC_STOPPED;
        rc = bl_pg_exec_cmd(r.conn, "UPDATE integration_sync_runs SET status = 'queued', claimed_by = NULL"
                                    " WHERE id = $1 AND claimed_by = $2 AND status = 'running'", 2, p, err);
        goto done;
    }
    if (!r.lost && record(&r, err) != 0)
        goto done;
    *outcome = r.lost ? BL_CALSYNC_LOST : BL_CALSYNC_RECORDED;
    rc = 0;
done:
    bl_calsync_provider_free(r.prov);
    if (r.conn)
        bl_pg_pool_release(deps->pool, r.conn);
    json_decref(r.error_list);
    json_decref(r.touched);
    return rc;
}

