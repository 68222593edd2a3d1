/* The calendar sync worker (`busline sync`): a loop that
 *   1. turns due autoSync timers into queued runs: integrations with
 *      auto_sync, connected, next_sync_at past (or never set) get an
 *      'automatic' run and next_sync_at = now + sync_interval_s, in one
 *      statement with SKIP LOCKED, so replicas never queue one twice and the
 *      timer survives restarts (it is a column, not a process's clock);
 *   2. claims one run -- the oldest 'queued' one, or a 'running' one whose
 *      worker stopped beating for stale_ms (a killed worker: the run is
 *      taken over and re-executed; links and derived command ids make the
 *      repeat harmless) -- with FOR UPDATE SKIP LOCKED;
 *   3. executes it (run.h) and goes on; it sleeps idle_ms when nothing is due.
 * The one-active-run-per-integration index of migration 082 keeps an
 * integration to one run at a time across replicas. */
#ifndef BUSLINE_CONNECTORS_CALENDAR_SYNC_WORKER_H
#define BUSLINE_CONNECTORS_CALENDAR_SYNC_WORKER_H

#include "connectors/calendar_sync/run.h"

typedef struct bl_calsync_worker_opts {
    bl_calsync_deps deps;
    int stale_ms; /* a running run without a heartbeat this long is taken over; 0 = 30000 */
    int idle_ms;  /* sleep when nothing is due; 0 = 1000 */
} bl_calsync_worker_opts;

/* Queues the automatic runs now due. Returns how many, or -1 with err. */
int bl_calsync_schedule_due(PGconn *conn, bl_err *err);

/* Claims one run for worker_id (a queued one, or one stale for stale_ms);
 * run_id gets its id (37 bytes). Returns 1 when claimed, 0 when none, -1
 * with err. */
int bl_calsync_claim(PGconn *conn, const char *worker_id, int stale_ms, char run_id[40], bl_err *err);

/* One pass: schedule, then claim and execute runs until none is left or
 * *stop. Returns how many runs were executed, or -1 with err. */
int bl_calsync_worker_step(const bl_calsync_worker_opts *o, bl_err *err);

/* Steps until *o->deps.stop. Returns 0, or -1 with err. */
int bl_calsync_worker_run(const bl_calsync_worker_opts *o, bl_err *err);

#endif
