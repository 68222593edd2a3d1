/* Replay of a window of events to webhook endpoints: to one endpoint (what
 * it missed while disabled, or any window) or to every active endpoint of
 * an organization. The event topics are read once from the window's start
 * to their current end (consumers/topic_scan.h, no group commits), events
 * whose timestamp is outside [since, until] are passed over, each event is
 * decoded and matched against the endpoints with the fan-out's own rule
 * (endpoint_match.h), and each match is produced to deliveries.webhook
 * exactly as the fan-out would (delivery.h: same body, webhook-id = the
 * event id), so a receiver that already had one drops the duplicate.
 *
 * Endpoints must be active: the delivery workers drop deliveries of a
 * disabled endpoint, so replaying to one would lose the events again (a
 * job for all endpoints takes the active ones only).
 *
 * A tracked job (replay_jobs.h) runs this with a position (where each
 * partition got to), a checkpoint callback called after the broker
 * acknowledged everything produced so far, and the pairs a dead worker
 * enqueued after its last checkpoint (skipped, counted as enqueued). */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_REPLAY_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_REPLAY_H

#include "connectors/webhook/store/endpoint_store.h"
#include "connectors/webhook/store/replay_job_rows.h"
#include "core/err.h"
#include "schemas/codec.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bl_webhook_replay_opts {
    const char *brokers;              /* required */
    bl_webhook_store *store;          /* required: reads the endpoints; borrowed */
    bl_schema_cache *schemas;         /* required: decodes events; borrowed */
    const char *const *topics;        /* event topics; NULL: every events.* topic on the broker */
    size_t n_topics;
    const char *deliveries_topic;     /* NULL: deliveries.webhook */
    int timeout_ms;                   /* longest the scan may take; 0: 60000 */
} bl_webhook_replay_opts;

/* Called at a checkpoint: every deliveries produced so far are
 * acknowledged, position and counts say where the replay is. Return 0 to
 * go on, 1 to stop here (cancelled, shutting down), -1 with err to fail. */
typedef int (*bl_webhook_replay_checkpoint_fn)(void *user, const json_t *position,
                                               const bl_replay_job_counts *counts, bl_err *err);

/* True when the delivery of event_id to endpoint_id is already on the
 * broker (produced by an earlier run of the same job). */
typedef int (*bl_webhook_replay_done_fn)(void *user, const char *endpoint_id, const char *event_id);

/* What to replay, and for a job how it is tracked. */
typedef struct bl_webhook_replay_window {
    const char *organization_id;      /* required without endpoint_id; with it, checked */
    const char *endpoint_id;          /* NULL: every active endpoint of organization_id */
    int64_t since_ms;                 /* unix ms, > 0 */
    int64_t until_ms;                 /* unix ms, >= since; 0: no end */
    const char *job_id;               /* NULL: not a job; else each delivery's webhook-replay-job */
    json_t *position;                 /* NULL, or {"topic":{"partition":next offset}}: read from, kept up */
    bl_webhook_replay_checkpoint_fn checkpoint; /* NULL: none */
    bl_webhook_replay_done_fn already_enqueued; /* NULL: none */
    void *user;                       /* passed to both */
    int checkpoint_every;             /* events between checkpoints; 0: 200 */
    int checkpoint_ms;                /* and at least this often; 0: 1000; < 0: by count only */
} bl_webhook_replay_window;

/* Replays window w. counts (required) is read as what was done before (a
 * resumed job's) and added to. Returns 0 when the window was read to its
 * end, 1 when the checkpoint callback stopped it, or -1 with err:
 * BL_ENOTFOUND (no such endpoint, or one of another organization),
 * BL_ECONFLICT (disabled endpoint), BL_EINVAL (bad window), a Kafka or
 * registry error (a registry that does not answer fails the replay rather
 * than skipping events). */
int bl_webhook_replay_run(const bl_webhook_replay_opts *o, const bl_webhook_replay_window *w,
                          bl_replay_job_counts *counts, bl_err *err);

/* Replays to endpoint_id every event since since_ms (unix ms, > 0) that it
 * takes, untracked (`busline webhooks enable --replay-since`). out (may be
 * NULL) gets the counts, also on failure. Returns 0 or -1 with err as
 * bl_webhook_replay_run. */
int bl_webhook_replay(const bl_webhook_replay_opts *o, const char *endpoint_id, int64_t since_ms,
                      bl_replay_job_counts *out, bl_err *err);

#endif
