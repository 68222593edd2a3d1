/* The stored side of webhook replay jobs: rows of webhook_replay_requests
 * (migrations/058, 059, 190). A job replays the events of a window
 * [since, until] to one endpoint or to every active endpoint of its
 * organization; it is 'queued' when asked for (API, CLI, enable with a
 * replay), 'running' while a worker holds it (claimed_by, heartbeat_at at
 * each checkpoint), and ends 'completed', 'cancelled' or 'failed'.
 *
 * A worker claims the oldest queued job, or a running one whose heartbeat
 * is older than stale_after_s (its worker died), FOR UPDATE SKIP LOCKED so
 * two workers never take the same row. Every later write of the worker is
 * conditioned on claimed_by, so a worker that lost its claim changes
 * nothing. Carrying a job out is the workers' job (workers/replay_jobs.h). */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_STORE_REPLAY_JOB_ROWS_H
#define BUSLINE_CONNECTORS_WEBHOOK_STORE_REPLAY_JOB_ROWS_H

#include "connectors/webhook/store/endpoint_store.h"
#include "core/err.h"
#include "core/pg_pool.h"

#include <jansson.h>
#include <stdint.h>

#define BL_REPLAY_JOB_ID_MAX 24
#define BL_REPLAY_JOB_BY_MAX 160
#define BL_REPLAY_JOB_WORKER_MAX 64

/* What a job has done so far. */
typedef struct bl_replay_job_counts {
    long scanned;  /* events read in the window */
    long matched;  /* events at least one of the job's endpoints takes */
    long enqueued; /* deliveries the broker acknowledged (one per event and endpoint) */
    long skipped;  /* unreadable events, or events an endpoint's format cannot carry */
} bl_replay_job_counts;

/* One job as stored. Times are unix ms (0: none). */
typedef struct bl_replay_job {
    char id[BL_REPLAY_JOB_ID_MAX];
    char organization_id[BL_WEBHOOK_ORG_MAX + 1];
    char endpoint_id[BL_WEBHOOK_ID_MAX + 1]; /* "": every active endpoint of the organization */
    char status[16];                         /* queued|running|completed|cancelled|failed */
    int64_t since_ms, until_ms;
    bl_replay_job_counts counts;
    char requested_by[BL_REPLAY_JOB_BY_MAX];
    int64_t requested_ms, started_ms, finished_ms;
    char error[512];                         /* "" when none */
    int attempts;                            /* claims so far */
} bl_replay_job;

/* Records a queued job of organization_id for endpoint_id (NULL: every
 * endpoint of the organization) over [since_ms, until_ms], asked for by
 * requested_by ("key:<id>", "user:<id>", "cli"), into *out. Checks nothing
 * but the row's own constraints. Returns 0, or -1 with err. */
int bl_replay_job_create(bl_pg_pool *pool, const char *organization_id, const char *endpoint_id, int64_t since_ms,
                         int64_t until_ms, const char *requested_by, bl_replay_job *out, bl_err *err);

/* Asks for a replay of [since_ms, until_ms] (until 0, or later than now:
 * now; the events published after that reach the endpoints by the fan-out)
 * to endpoint_id (NULL: every active endpoint of organization_id) and
 * records it queued into *out. organization_id may be NULL with an
 * endpoint_id (the endpoint's is taken). now_ms: the caller's clock.
 * Returns 0, or -1 with err: BL_EINVAL whose message starts with the field
 * at fault ("since: ...", "until: ..."), BL_ENOTFOUND (no such endpoint in
 * the organization), BL_ECONFLICT (the endpoint is disabled: its
 * deliveries would be dropped), or a database error. */
int bl_replay_job_request(bl_pg_pool *pool, bl_webhook_store *store, const char *organization_id,
                          const char *endpoint_id, int64_t since_ms, int64_t until_ms, int64_t now_ms,
                          const char *requested_by, bl_replay_job *out, bl_err *err);

/* Job id into *out when it exists and (organization_id non-NULL) belongs to
 * that organization. Returns 1, 0 (no such job) or -1 with err. */
int bl_replay_job_get(bl_pg_pool *pool, const char *organization_id, const char *id, bl_replay_job *out,
                      bl_err *err);

/* The jobs of organization_id (NULL: every organization), newest first,
 * limit from offset, into a new array *out (*n of them; free it with
 * free()); *total (may be NULL) gets how many there are. Returns 0, or -1
 * with err. */
int bl_replay_job_list(bl_pg_pool *pool, const char *organization_id, long limit, long offset, bl_replay_job **out,
                       size_t *n, long *total, bl_err *err);

/* Cancels job id (of organization_id when non-NULL) if it is queued or
 * running: it becomes 'cancelled' with its finish time at once; a worker
 * running it stops at its next checkpoint. *out gets the row after. Returns
 * 1, 0 (no such job), or -1 with err: BL_ECONFLICT when it had already
 * ended (out filled), or a database error. */
int bl_replay_job_cancel(bl_pg_pool *pool, const char *organization_id, const char *id, bl_replay_job *out,
                         bl_err *err);

/* A claimed job: the row, where it had got to, and when its last holder
 * checkpointed (0: never held, nothing of it can be on the broker). */
typedef struct bl_replay_job_claim {
    bl_replay_job job;
    json_t *position;       /* {"topic": {"partition": next offset}}; owned, json_decref */
    int64_t last_heartbeat_ms;
} bl_replay_job_claim;

/* Claims for worker the oldest queued job, or a running one whose
 * heartbeat is older than stale_after_s seconds, marking it running
 * (claimed_by = worker, attempts + 1), into *out. Returns 1, 0 (none
 * waiting) or -1 with err. */
int bl_replay_job_claim_next(bl_pg_pool *pool, const char *worker, int stale_after_s, bl_replay_job_claim *out,
                             bl_err *err);

/* Records worker's progress on job id: position (borrowed) and counts,
 * heartbeat now. Returns 1 while the job is still running for worker, 0
 * when it is not (cancelled, or claimed by another worker: stop), or -1
 * with err. */
int bl_replay_job_checkpoint(bl_pg_pool *pool, const char *id, const char *worker, const json_t *position,
                             const bl_replay_job_counts *counts, bl_err *err);

/* Ends worker's hold of job id with position and counts: status
 * "completed" or "failed" (error, may be NULL) when it is still running,
 * a cancelled job keeps its status and gets the final counts, and status
 * "queued" gives a running job back (a worker that stops before the end:
 * the next claim resumes from position at once). Returns 0, or -1 with err
 * (also when worker no longer holds it). */
int bl_replay_job_finish(bl_pg_pool *pool, const char *id, const char *worker, const char *status,
                         const char *error, const json_t *position, const bl_replay_job_counts *counts,
                         bl_err *err);

#endif
