/* The calendar sync worker loop (worker.h). */
#include "connectors/calendar_sync/worker.h"

#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int bl_calsync_schedule_due(PGconn *conn, bl_err *err)
{
    PGresult *r = bl_pg_exec(
        conn,
        "WITH due AS (SELECT id FROM integrations WHERE auto_sync AND status = 'connected' AND type = 'calendar'"
        "   AND coalesce(next_sync_at, '-infinity') <= now() ORDER BY next_sync_at NULLS FIRST"
        "   LIMIT 100 FOR UPDATE SKIP LOCKED),"
        " queued AS (INSERT INTO integration_sync_runs (integration_id, status, direction, type, triggered_by)"
        "   SELECT i.id, 'queued', i.sync_direction, 'automatic', '\"scheduled_sync\"'::jsonb"
        "   FROM integrations i JOIN due ON due.id = i.id ON CONFLICT DO NOTHING RETURNING integration_id),"
        " moved AS (UPDATE integrations i SET next_sync_at = now() + make_interval(secs => i.sync_interval_s)"
        "   FROM due WHERE i.id = due.id RETURNING i.id)"
        " SELECT (SELECT count(*) FROM queued), (SELECT count(*) FROM moved)",
        0, NULL, err);
    if (!r)
        return -1;
    int n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

int bl_calsync_claim(PGconn *conn, const char *worker_id, int stale_ms, char run_id[40], bl_err *err)
{
    char stale[24];
    snprintf(stale, sizeof stale, "%d", stale_ms > 0 ? stale_ms : 30000);
    const char *p[] = {worker_id, stale};
    PGresult *r = bl_pg_exec(
        conn,
        "UPDATE integration_sync_runs s SET status = 'running', claimed_by = $1, heartbeat_at = now(),"
        " started_at = CASE WHEN s.status = 'queued' THEN now() ELSE s.started_at END"
        " WHERE s.id = (SELECT id FROM integration_sync_runs WHERE status = 'queued'"
        "   OR (status = 'running' AND heartbeat_at < now() - make_interval(secs => $2::int / 1000.0))"
        "   ORDER BY started_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
        " RETURNING s.id, s.claimed_by",
        2, p, err);
    if (!r)
        return -1;
    int got = PQntuples(r) == 1;
    if (got)
        snprintf(run_id, 40, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return got;
}

int bl_calsync_worker_step(const bl_calsync_worker_opts *o, bl_err *err)
{
    PGconn *conn = bl_pg_pool_acquire(o->deps.pool, 10000, err);
    if (!conn)
        return -1;
    int queued = bl_calsync_schedule_due(conn, err);
    bl_pg_pool_release(o->deps.pool, conn);
    if (queued < 0)
        return -1;
    if (queued > 0)
        bl_log_info("calendar sync: automatic runs queued", BL_FI("runs", queued));
    int done = 0;
    while (!(o->deps.stop && o->deps.stop())) {
        char run_id[40];
        /* the claim's connection goes back before the run takes its own */
        if (!(conn = bl_pg_pool_acquire(o->deps.pool, 10000, err)))
            return -1;
        int got = bl_calsync_claim(conn, o->deps.worker_id, o->stale_ms, run_id, err);
        bl_pg_pool_release(o->deps.pool, conn);
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        bl_log_info("calendar sync: run claimed", BL_FS("run_id", run_id), BL_FS("worker", o->deps.worker_id));
        bl_calsync_outcome outcome;
        if (bl_calsync_run_execute(&o->deps, run_id, &outcome, err) != 0)
            return -1;
        if (outcome == BL_CALSYNC_LOST)
            bl_log_warn("calendar sync: run taken over by another worker", BL_FS("run_id", run_id));
        done++;
    }
    return done;
}

int bl_calsync_worker_run(const bl_calsync_worker_opts *o, bl_err *err)
{
    int idle = o->idle_ms > 0 ? o->idle_ms : 1000;
    while (!(o->deps.stop && o->deps.stop())) {
        bl_err e = {0};
        int n = bl_calsync_worker_step(o, &e);
        if (n < 0)
            bl_log_error("calendar sync: step failed", BL_FS("error", e.msg));
        if (n <= 0) {
            struct timespec ts = {idle / 1000, (idle % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    (void)err;
    return 0;
}
