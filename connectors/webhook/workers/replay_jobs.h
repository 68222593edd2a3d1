/* The worker side of webhook replay jobs (store/replay_job_rows.h): a
 * worker claims a queued job, carries it out (replay.h) and ends it
 * completed, cancelled or failed with its counts.
 *
 * Who runs it: the fan-out role (`busline webhooks fanout`) runs a poller
 * thread (it already has the registry, the broker and the event topics),
 * and `busline webhooks replay-requests` runs the waiting jobs once and
 * exits (for a cron job or an operator).
 *
 * Progress and cancel: every checkpoint_every events (and at least every
 * second) the worker waits until the broker acknowledged every delivery it
 * produced, then records the position (the next offset of each partition
 * read) and the counts with a heartbeat. The row's status comes back with
 * it: a job cancelled meanwhile stops there, so a cancel takes effect
 * within one checkpoint.
 *
 * Restarts, and why no event is enqueued twice: a poller that is stopped
 * (the role shutting down) gives its job back at the next checkpoint
 * ('queued', position kept) and the next worker resumes from the position
 * at once. A worker that dies leaves its job 'running' with a heartbeat
 * that stops; after stale_after_s another worker claims it and resumes
 * from the last checkpoint's position. What the dead worker produced after
 * that checkpoint is on the broker but not in the row: every replay
 * delivery carries its job id (header webhook-replay-job), so before
 * resuming the worker reads the deliveries topic from a minute before the
 * last heartbeat and skips every (endpoint, event) pair of this job it
 * finds there, counting it as enqueued. A delivery the dead worker had
 * queued but the broker never stored is not found, and is produced. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_REPLAY_JOBS_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_REPLAY_JOBS_H

#include "connectors/webhook/workers/replay.h"
#include "core/err.h"
#include "core/pg_pool.h"

#include <stdatomic.h>

typedef struct bl_webhook_replay_jobs_opts {
    bl_pg_pool *pool;                 /* required; borrowed */
    bl_webhook_replay_opts replay;    /* how to replay (brokers, store, schemas, topics) */
    int stale_after_s;                /* a running job without a heartbeat this long is claimed again; 0: 60 */
    int checkpoint_every;             /* events between checkpoints; 0: 200 */
    int checkpoint_ms;                /* and at least this often; 0: 1000; < 0: by count only */
    const char *worker;               /* this worker's name in claimed_by; NULL: host:pid:random */
    atomic_int *stop;                 /* NULL, or set to give the job back at the next checkpoint */
    /* Fault injection for tests: called before each checkpoint is
     * recorded; nonzero makes the worker end there as if it died (the row
     * is left running, the last checkpoint unrecorded). NULL in production. */
    int (*before_checkpoint)(void *user, const bl_replay_job_counts *counts);
    void *seam_user;
} bl_webhook_replay_jobs_opts;

/* Claims the oldest waiting job and carries it out. Returns 1 when one was
 * handled (whatever its end), 0 when none was waiting, or -1 with err when
 * the database failed. */
int bl_webhook_replay_jobs_run_one(const bl_webhook_replay_jobs_opts *o, bl_err *err);

/* Runs jobs until none is waiting, *o->stop is set or max were handled (0:
 * no limit). Returns how many were handled, or -1 with err (database). */
long bl_webhook_replay_jobs_run(const bl_webhook_replay_jobs_opts *o, long max, bl_err *err);

typedef struct bl_webhook_replay_poller bl_webhook_replay_poller;

/* Starts a thread that runs the waiting jobs every interval_ms (0: 2000)
 * and logs database errors (then tries again). o is copied (its stop is
 * the poller's own); what it points to must outlive the poller. Returns
 * the poller, or NULL with err. */
bl_webhook_replay_poller *bl_webhook_replay_poller_start(const bl_webhook_replay_jobs_opts *o, int interval_ms,
                                                         bl_err *err);

/* Stops the thread: a job under way is given back at its next checkpoint
 * (the next worker resumes it). Frees p; accepts NULL. */
void bl_webhook_replay_poller_stop(bl_webhook_replay_poller *p);

#endif
