/* The connector-agnostic consumer runtime: one thread per worker that reads
 * a consumer group, hands every message to a connector that works on many
 * of them at once, and commits only what is durable.
 *
 * How a connector plugs in (see bl_runtime_connector):
 *   - start(job) begins asynchronous work for one message (submit an HTTP
 *     request to a curl multi, ...) and returns at once;
 *   - the connector later reports the result with bl_runtime_complete(rt,
 *     job, outcome), from the worker thread (inside pump or start) or any
 *     other thread;
 *   - pump(timeout_ms, wake_fds) is the one place the worker waits: the
 *     runtime passes the time until its next due event, and fds that become
 *     readable when it has work (Kafka messages, delivery reports, a
 *     completion from another thread, SIGTERM). A connector driving a curl
 *     multi calls curl_multi_poll with those fds as extra_fds.
 *
 * A curl-multi connector, in short:
 *
 *   static void my_start(bl_runtime_job *job, void *ctx) {
 *       CURL *e = build_request(bl_runtime_job_msg(job));    // key, value, headers
 *       curl_easy_setopt(e, CURLOPT_PRIVATE, job);
 *       curl_multi_add_handle(((my_conn *)ctx)->multi, e);
 *   }
 *   static void my_pump(int timeout_ms, const int *fds, size_t n, void *ctx) {
 *       struct curl_waitfd w[2];  // fds as CURL_WAIT_POLLIN extra fds
 *       curl_multi_poll(multi, w, n, timeout_ms, NULL);
 *       curl_multi_perform(multi, &running);
 *       // for each CURLMSG_DONE: bl_runtime_complete(rt, job,
 *       //     ok ? bl_outcome_done() : bl_outcome_retry(backoff_ms, "HTTP 503"));
 *   }
 *
 * What the runtime guarantees:
 *   - At least once. Per partition, only the watermark below which every
 *     message is durable is committed (consumers/offset_tracker.h):
 *     asynchronously every commit_interval_ms or commit_every messages,
 *     synchronously on revoke and shutdown. A message counts as durable
 *     when the connector reported done, or when its copy on a retry tier or
 *     the dead-letter topic was acknowledged by the broker.
 *   - Retries leave the partition at once: "retry after N ms" produces the
 *     message (same key, value and headers, plus busline-* retry headers,
 *     consumers/retry_tier.h) to `<connector>.retry.<tier>`; "dead letter"
 *     or attempts exhausted produce it to `<connector>.dlq`.
 *   - The same runtime consuming tier topics is the retry worker: a
 *     partition whose head is not yet due (busline-due-at) is paused and
 *     resumed when due, so the poll loop never sleeps and heartbeats flow.
 *   - Bounded memory: when a partition has max_in_flight messages in work,
 *     or max_uncommitted taken since its oldest unfinished one (finished
 *     ones behind a slow one wait for the commit watermark), it is paused,
 *     and resumed when its window drains. So one slow message does not stop
 *     its partition after max_in_flight more, only after max_uncommitted.
 *   - Strict lanes (optional): messages the connector puts in the same lane
 *     run one at a time in offset order; a failing one is retried in place
 *     (with the backoff it asked for) and holds the rest of its lane back.
 *     Trade-off: the held message also holds its partition's commit
 *     watermark, and once the window fills the whole partition pauses, so a
 *     long-failing strict lane delays every lane sharing its partition (up
 *     to max_attempts x backoff). Non-strict messages never wait for others.
 *   - Graceful stop: on bl_runtime_stop or SIGTERM (core/signals.h) no new
 *     message starts; in-flight ones may finish until drain_timeout_ms; the
 *     rest are abandoned (not committed: the next owner reads them again);
 *     watermarks are committed; the consumer leaves the group. A revoke
 *     does the same for the revoked partitions within revoke_timeout_ms.
 *
 * Topics (main, tier and dead-letter) are not created here: deployments
 * create them (k8s topic resources), tests through core/kafka_admin.h. */
#ifndef BUSLINE_CONSUMERS_RUNTIME_H
#define BUSLINE_CONSUMERS_RUNTIME_H

#include "consumers/retry_tier.h"
#include "core/err.h"
#include "core/kafka_consumer.h"
#include "core/metrics.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bl_runtime bl_runtime;

/* One message being worked on: the handle a connector completes. Valid from
 * start until the connector completes it (or the runtime abandons it). */
typedef struct bl_runtime_job bl_runtime_job;

typedef enum bl_outcome_kind {
    BL_OUTCOME_DONE = 0,        /* the work is durable */
    BL_OUTCOME_RETRY = 1,       /* try again after retry_after_ms */
    BL_OUTCOME_DEAD_LETTER = 2, /* give up: to the dead-letter topic */
    BL_OUTCOME_PARK = 3,        /* not tried (the destination is stuck): set aside
                                 * for retry_after_ms without spending an attempt */
} bl_outcome_kind;

/* What a connector reports for a job; error is copied (cut at
 * BL_RETRY_ERROR_MAX - 1 bytes) and may be NULL. */
typedef struct bl_outcome {
    bl_outcome_kind kind;
    int64_t retry_after_ms;
    const char *error;
} bl_outcome;

/* Longest strict-lane name a connector may give (NUL included). */
#define BL_RUNTIME_LANE_MAX 128

/* The connector's side. Every hook runs on the worker thread; ctx is
 * passed back. */
typedef struct bl_runtime_connector {
    /* Required. Begins work on job and returns without waiting; the
     * connector must later call bl_runtime_complete exactly once for it
     * (it may do so inside start) unless the runtime abandons it. */
    void (*start)(bl_runtime_job *job, void *ctx);
    /* Optional. Waits at most timeout_ms (0 = do not wait) for the
     * connector's own work and reports what finished; it must also return
     * when one of wake_fds[0..n) becomes readable (do not read them). When
     * NULL the runtime waits on wake_fds itself. */
    void (*pump)(int timeout_ms, const int *wake_fds, size_t n_wake_fds, void *ctx);
    /* Optional. Returns 1 and writes a NUL-terminated lane name into lane
     * (cap bytes) when job must run in strict order within that lane, else
     * 0. Lanes are per partition: give the message key (or a key derived
     * from it) so that one lane never spans partitions. */
    int (*strict_lane)(const bl_runtime_job *job, char *lane, size_t cap, void *ctx);
    /* Optional. The runtime gives up on a started job (revoke, drain
     * deadline): cancel it; after this returns the connector must not touch
     * or complete job. When NULL the runtime keeps the job until it is
     * completed and then drops the result. */
    void (*abandon)(bl_runtime_job *job, void *ctx);
    void *ctx;
} bl_runtime_connector;

/* The busline_consumer_* metric families, registered once per registry and
 * shared by every runtime of the process (labels connector, topic,
 * partition where it makes sense). */
typedef struct bl_runtime_metrics {
    bl_metric *lag;          /* busline_consumer_lag_messages{connector,topic,partition} */
    bl_metric *processed;    /* busline_consumer_processed_total{connector,topic} */
    bl_metric *retried;      /* busline_consumer_retried_total{connector,topic} */
    bl_metric *dead_letters; /* busline_consumer_dead_lettered_total{connector,topic} */
    bl_metric *in_flight;    /* busline_consumer_in_flight_messages{connector} */
    bl_metric *latency;      /* busline_consumer_processing_duration_seconds{connector} */
    bl_metric *assigned;     /* busline_consumer_assigned_partitions{connector} */
} bl_runtime_metrics;

/* Registers the families in m and fills out (pointers owned by m). Returns
 * 0, or -1 with err (BL_ECONFLICT when already registered in m). */
int bl_runtime_metrics_register(bl_metrics *m, bl_runtime_metrics *out, bl_err *err);

typedef struct bl_runtime_opts {
    const char *brokers;             /* required */
    const char *group_id;            /* required */
    const char *connector_name;      /* required: tier/DLQ topic prefix, metrics label */
    const char *const *topics;       /* required: main and/or tier topics to consume */
    size_t n_topics;
    const char *retry_tiers;         /* "5s,1m,10m"; NULL: every retry happens in place */
    int max_attempts;                /* attempts before the DLQ, first included; 0 = 4 */
    size_t max_in_flight;            /* per partition window; 0 = 1000 */
    size_t max_uncommitted;          /* per partition, finished ones included;
                                      * 0 = max(262144, max_in_flight) */
    int commit_interval_ms;          /* 0 = 1000 */
    size_t commit_every;             /* messages finished between commits; 0 = 1000 */
    int drain_timeout_ms;            /* on stop; 0 = 10000 */
    int revoke_timeout_ms;           /* on revoke; 0 = 5000 */
    int lag_interval_ms;             /* lag gauge refresh; 0 = 5000 */
    int max_wait_ms;                 /* longest single wait in pump; 0 = 200 */
    const char *auto_offset_reset;   /* NULL = "earliest" */
    const char *const *consumer_extra; /* librdkafka overrides, NULL-terminated k/v; may be NULL */
    const char *const *producer_extra; /* same for the tier/DLQ producer */
    const bl_runtime_metrics *metrics; /* may be NULL; borrowed, must outlive rt */
    bl_runtime_connector connector;
} bl_runtime_opts;

/* Creates a worker (consumer + producer, not yet subscribed); strings in
 * opts are copied, opts->metrics is borrowed. Returns NULL with err on a bad
 * option or a librdkafka error. Free with bl_runtime_free. */
bl_runtime *bl_runtime_new(const bl_runtime_opts *opts, bl_err *err);

/* Subscribes and runs the worker loop on the calling thread until
 * bl_runtime_stop or a SIGTERM (bl_signals_stop_requested), then drains,
 * commits and leaves the group. Returns 0 after a clean stop, or -1 with err
 * on a fatal Kafka error (after committing what it could). Call once. */
int bl_runtime_run(bl_runtime *rt, bl_err *err);

/* Asks the worker to stop gracefully. Thread-safe; returns at once. */
void bl_runtime_stop(bl_runtime *rt);

/* Reports the outcome of job (exactly once per started job). Thread-safe:
 * the runtime acts on it in its own thread, so job must not be touched
 * after this call. */
void bl_runtime_complete(bl_runtime *rt, bl_runtime_job *job, bl_outcome outcome);

/* Shorthands for the outcomes. */
bl_outcome bl_outcome_done(void);
bl_outcome bl_outcome_retry(int64_t after_ms, const char *error);
bl_outcome bl_outcome_dead_letter(const char *error);
bl_outcome bl_outcome_park(int64_t after_ms, const char *reason);

/* The polled message of job (topic, partition, offset, key, value, headers
 * through core/kafka_consumer.h accessors); borrowed for the job's life. */
const bl_kafka_msg *bl_runtime_job_msg(const bl_runtime_job *job);

/* Which attempt this is: 1 for a message read from its main topic, n + 1
 * for one carrying busline-attempt n, and counting up on in-place retries. */
int bl_runtime_job_attempt(const bl_runtime_job *job);

/* The busline-* headers the message arrived with (from a retry tier or a
 * replayed dead letter), or NULL on a first attempt. Borrowed. */
const bl_retry_headers *bl_runtime_job_retry_headers(const bl_runtime_job *job);

/* A connector's own pointer per job (NULL until set). */
void bl_runtime_job_set_user(bl_runtime_job *job, void *user);
void *bl_runtime_job_user(const bl_runtime_job *job);

/* The runtime a job belongs to (for completing from a callback). */
bl_runtime *bl_runtime_job_runtime(const bl_runtime_job *job);

/* Counts since creation, for tests and health checks. */
typedef struct bl_runtime_stats {
    uint64_t started;       /* start() calls, in-place retries included */
    uint64_t processed;     /* done outcomes */
    uint64_t retried;       /* copies acknowledged on a retry tier */
    uint64_t retried_in_place;
    uint64_t dead_lettered; /* copies acknowledged on the DLQ */
    uint64_t abandoned;     /* given up on revoke or stop (not committed) */
    uint64_t commits;       /* commit requests sent */
    size_t in_flight;       /* started and not finished */
    size_t assigned;        /* partitions held */
} bl_runtime_stats;

/* Fills out with the current counts. Call from the worker thread (inside a
 * hook) or after bl_runtime_run returned. */
void bl_runtime_get_stats(const bl_runtime *rt, bl_runtime_stats *out);

/* Readiness: 1 when the worker holds at least one partition. Thread-safe. */
int bl_runtime_has_assignment(const bl_runtime *rt);

/* bl_ops_ready_fn shape (core/ops_server.h) over bl_runtime_has_assignment;
 * ctx is the runtime. */
int bl_runtime_ready(void *ctx, char *reason, size_t reason_len);

/* Frees the worker. If bl_runtime_run did not finish, nothing more is
 * committed (in-flight work is dropped and read again by the next owner).
 * Every job still held by the connector must be completed or forgotten
 * first. rt may be NULL. */
void bl_runtime_free(bl_runtime *rt);

#endif
