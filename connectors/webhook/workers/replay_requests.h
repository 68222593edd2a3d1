/* The worker side of webhook replay requests: `POST /v1/webhooks/:id/enable
 * {"replay_since": T}` records a 'pending' row in webhook_replay_requests
 * (migrations/058, 059); here a worker claims it (FOR UPDATE SKIP LOCKED,
 * so several workers never take the same row), marks it 'running', carries
 * out the replay (replay.h) and marks it 'done' with the events scanned and
 * the deliveries replayed, or 'failed' with the reason.
 *
 * Who runs it: the fan-out role (`busline webhooks fanout`) runs a poller
 * thread (it already has the registry, the broker and the event topics), and
 * `busline webhooks replay-requests` handles the pending rows once and
 * exits (for a cron job or an operator). A row left 'running' by a worker
 * that died is claimed again once stale_after_s has passed; the replay is
 * idempotent for receivers (same webhook-ids). */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_REPLAY_REQUESTS_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_REPLAY_REQUESTS_H

#include "connectors/webhook/workers/replay.h"
#include "core/err.h"
#include "core/pg_pool.h"

typedef struct bl_webhook_replay_requests_opts {
    bl_pg_pool *pool;                 /* required; borrowed */
    bl_webhook_replay_opts replay;    /* how to replay (brokers, store, schemas, topics) */
    int stale_after_s;                /* a row 'running' this long is claimed again; 0: 600 */
} bl_webhook_replay_requests_opts;

/* Claims the oldest pending (or stale running) request and carries it out.
 * Returns 1 when one was handled (whether it ended done or failed), 0 when
 * none was waiting, or -1 with err when the database failed. */
int bl_webhook_replay_requests_run_one(const bl_webhook_replay_requests_opts *o, bl_err *err);

/* Runs requests until none is waiting or max were handled (0: no limit).
 * Returns how many were handled, or -1 with err (database). */
long bl_webhook_replay_requests_run(const bl_webhook_replay_requests_opts *o, long max, bl_err *err);

typedef struct bl_webhook_replay_poller bl_webhook_replay_poller;

/* Starts a thread that runs the waiting requests every interval_ms (0: 2000)
 * and logs database errors (then tries again). o is copied; what it points
 * to must outlive the poller. Returns the poller, or NULL with err. */
bl_webhook_replay_poller *bl_webhook_replay_poller_start(const bl_webhook_replay_requests_opts *o,
                                                         int interval_ms, bl_err *err);

/* Stops the thread (a replay under way is finished first) and frees p.
 * Accepts NULL. */
void bl_webhook_replay_poller_stop(bl_webhook_replay_poller *p);

#endif
