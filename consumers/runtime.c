/* The worker loop, rebalances, commits and the graceful stop. The one wait
 * of the loop is the connector's pump (or poll(2) on the wake fds): the
 * consumer and producer queues write to a pipe when they get events, so a
 * message, a delivery report, a completion from another thread or a SIGTERM
 * ends the wait early. */
#include "consumers/runtime_internal.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POLL_BATCH 500          /* messages taken per loop turn before other work */
#define COMMIT_CHUNK 64
#define CLOSE_FLUSH_MS 5000
#define PREPARE_TIMEOUT_MS 5000
#define DEFAULT_MAX_UNCOMMITTED 262144 /* 9 bytes each, and only while something is slow */

static int stop_asked(const bl_runtime *rt)
{
    return atomic_load(&rt->stop) || bl_signals_stop_requested();
}

static void drain_wake_pipe(bl_runtime *rt)
{
    char buf[256];
    while (read(rt->wake[0], buf, sizeof buf) > 0)
        ;
}

/* The single wait: the connector's pump, or poll(2) on the wake fds. */
static void wait_for_work(bl_runtime *rt, int timeout_ms)
{
    if (timeout_ms < 0)
        timeout_ms = 0;
    int fds[2];
    size_t n = 0;
    fds[n++] = rt->wake[0];
    /* Once a stop is asked for, the signal fd stays readable: leave it out
     * so the drain does not spin. */
    if (!rt->stopping && bl_signals_wake_fd() >= 0)
        fds[n++] = bl_signals_wake_fd();
    if (rt->conn.pump) {
        rt->conn.pump(timeout_ms, fds, n, rt->conn.ctx);
    } else {
        struct pollfd pfds[2];
        for (size_t i = 0; i < n; i++)
            pfds[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        (void)poll(pfds, (nfds_t)n, timeout_ms);
    }
    drain_wake_pipe(rt);
}

static int completions_pending(bl_runtime *rt)
{
    pthread_mutex_lock(&rt->done_lock);
    int pending = rt->done_head != NULL;
    pthread_mutex_unlock(&rt->done_lock);
    return pending;
}

/* ---- commits ---- */

static int commit_watermarks(bl_runtime *rt, int sync, bl_err *err)
{
    bl_kafka_offset offs[COMMIT_CHUNK];
    for (;;) {
        size_t n = bl_offset_tracker_committable(rt->tracker, offs, COMMIT_CHUNK);
        if (n == 0)
            return 0;
        int rc = sync ? bl_kafka_consumer_commit_sync(rt->consumer, offs, n, err)
                      : bl_kafka_consumer_commit_async(rt->consumer, offs, n, err);
        if (rc != 0)
            return -1;
        /* Async: counted as committed once sent; a lost one is covered by the
         * next, higher commit (or re-read: at least once either way). */
        bl_offset_tracker_committed(rt->tracker, offs, n);
        rt->stats.commits++;
        if (n < COMMIT_CHUNK)
            return 0;
    }
}

static void maybe_commit(bl_runtime *rt)
{
    int64_t now = bl_clock_mono_ms();
    if (rt->done_since_commit < rt->commit_every && now < rt->next_commit_mono)
        return;
    bl_err err = {0};
    if (commit_watermarks(rt, 0, &err) != 0)
        bl_log_warn("runtime: commit failed", BL_FS("connector", rt->connector_name), BL_FS("error", err.msg));
    rt->done_since_commit = 0;
    rt->next_commit_mono = now + rt->commit_interval_ms;
}

/* ---- draining ---- */

static size_t busy_in_closing(const bl_runtime *rt)
{
    size_t busy = 0;
    for (const rt_partition *p = rt->parts; p; p = p->next)
        if (p->closing)
            busy += p->n_busy;
    return busy;
}

/* Lets the running and producing jobs of closing partitions finish until
 * deadline_mono. */
static void drain_closing(bl_runtime *rt, int64_t deadline_mono)
{
    for (;;) {
        bl_kafka_producer_poll(rt->producer, 0);
        bl_rt_handle_completions(rt);
        bl_rt_handle_timers(rt);
        if (busy_in_closing(rt) == 0)
            return;
        int64_t now = bl_clock_mono_ms();
        if (now >= deadline_mono)
            return;
        int64_t t = deadline_mono - now;
        if (t > rt->max_wait_ms)
            t = rt->max_wait_ms;
        int64_t next = bl_rt_next_timer_mono(rt);
        if (next - now < t)
            t = next - now;
        if (completions_pending(rt))
            t = 0;
        wait_for_work(rt, (int)t);
    }
}

/* ---- rebalance hooks (run inside consumer poll and close) ---- */

static void partition_free(rt_partition *p)
{
    for (size_t i = 0; i < RT_LANE_BUCKETS; i++) {
        while (p->lanes[i]) {
            rt_lane *next = p->lanes[i]->next;
            free(p->lanes[i]);
            p->lanes[i] = next;
        }
    }
    free(p->backlog);
    free(p->topic);
    free(p);
}

static int tier_of_topic(const bl_runtime *rt, const char *topic)
{
    for (size_t i = 0; rt->has_tiers && i < rt->tiers.n; i++)
        if (strcmp(rt->tier_topics[i], topic) == 0)
            return (int)i;
    return -1;
}

static void on_assign(const rd_kafka_topic_partition_list_t *parts, int lost, void *user)
{
    (void)lost;
    bl_runtime *rt = user;
    for (int i = 0; i < parts->cnt; i++) {
        const char *topic = parts->elems[i].topic;
        int32_t partition = parts->elems[i].partition;
        if (bl_rt_partition_find(rt, topic, partition))
            continue;
        rt_partition *p = calloc(1, sizeof *p);
        if (!p || !(p->topic = strdup(topic))) {
            free(p);
            bl_log_error("runtime: out of memory on assign", BL_FS("topic", topic));
            continue;
        }
        p->partition = partition;
        p->tier_idx = tier_of_topic(rt, topic);
        bl_rt_metrics_bind_partition(rt, p);
        p->next = rt->parts;
        rt->parts = p;
        rt->stats.assigned++;
        atomic_fetch_add(&rt->assigned, 1);
        if (rt->m_assigned)
            bl_gauge_add(rt->m_assigned, 1);
        if (rt->stopping) {
            p->closing = 1;
            bl_rt_partition_pause(rt, p, 1);
        }
    }
}

static void on_revoke(const rd_kafka_topic_partition_list_t *parts, int lost, void *user)
{
    bl_runtime *rt = user;
    int commit = !lost && !rt->fatal;
    for (int i = 0; i < parts->cnt; i++) {
        rt_partition *p = bl_rt_partition_find(rt, parts->elems[i].topic, parts->elems[i].partition);
        if (p)
            bl_rt_partition_abandon(rt, p, !commit);
    }
    if (commit)
        drain_closing(rt, bl_clock_mono_ms() + rt->revoke_timeout_ms);

    bl_kafka_offset *finals = calloc(parts->cnt > 0 ? (size_t)parts->cnt : 1, sizeof *finals);
    rt_partition *gone = NULL;
    size_t n = 0;
    for (int i = 0; i < parts->cnt; i++) {
        rt_partition *p = bl_rt_partition_find(rt, parts->elems[i].topic, parts->elems[i].partition);
        if (!p)
            continue;
        bl_rt_partition_abandon(rt, p, 1);
        /* librdkafka keeps a partition's pause flag across reassignment. */
        bl_rt_partition_pause(rt, p, 0);
        int64_t next;
        if (bl_offset_tracker_forget(rt->tracker, p->topic, p->partition, &next) == 1 && finals)
            finals[n++] = (bl_kafka_offset){p->topic, p->partition, next};
        for (rt_partition **link = &rt->parts; *link; link = &(*link)->next) {
            if (*link == p) {
                *link = p->next;
                break;
            }
        }
        if (p->m_lag)
            bl_gauge_set(p->m_lag, 0);
        p->next = gone;
        gone = p;
        rt->stats.assigned--;
        atomic_fetch_sub(&rt->assigned, 1);
        if (rt->m_assigned)
            bl_gauge_add(rt->m_assigned, -1);
    }
    bl_err err = {0};
    if (commit && n > 0) {
        if (bl_kafka_consumer_commit_sync(rt->consumer, finals, n, &err) != 0)
            bl_log_warn("runtime: commit on revoke failed", BL_FS("connector", rt->connector_name),
                        BL_FS("error", err.msg));
        else
            rt->stats.commits++;
    }
    free(finals);
    while (gone) {
        rt_partition *next = gone->next;
        partition_free(gone);
        gone = next;
    }
}

/* ---- lifecycle ---- */

static int copy_topics(bl_runtime *rt, const bl_runtime_opts *opts, bl_err *err)
{
    rt->topics = calloc(opts->n_topics, sizeof *rt->topics);
    if (!rt->topics)
        return bl_err_set(err, BL_ENOMEM, "runtime: out of memory");
    rt->n_topics = opts->n_topics;
    for (size_t i = 0; i < opts->n_topics; i++) {
        if (!opts->topics[i] || !*opts->topics[i])
            return bl_err_set(err, BL_EINVAL, "runtime: topic %zu is empty", i);
        if (!(rt->topics[i] = strdup(opts->topics[i])))
            return bl_err_set(err, BL_ENOMEM, "runtime: out of memory");
    }
    return 0;
}

static int setup_topics(bl_runtime *rt, const bl_runtime_opts *opts, bl_err *err)
{
    if (opts->retry_tiers) {
        if (bl_retry_tiers_parse(&rt->tiers, opts->connector_name, opts->retry_tiers, err) != 0)
            return bl_err_wrap(err, "runtime");
        rt->has_tiers = 1;
        for (size_t i = 0; i < rt->tiers.n; i++)
            if (bl_retry_tier_topic(&rt->tiers, i, rt->tier_topics[i], sizeof rt->tier_topics[i], err) != 0)
                return bl_err_wrap(err, "runtime");
    } else {
        /* No tiers: still validate the name the same way, for the DLQ topic. */
        if (bl_retry_tiers_parse(&rt->tiers, opts->connector_name, "1s", err) != 0)
            return bl_err_wrap(err, "runtime");
        rt->tiers.n = 0;
    }
    snprintf(rt->connector_name, sizeof rt->connector_name, "%s", opts->connector_name);
    if (bl_retry_dlq_topic(&rt->tiers, rt->dlq_topic, sizeof rt->dlq_topic, err) != 0)
        return bl_err_wrap(err, "runtime");
    return copy_topics(rt, opts, err);
}

static int enable_wake(rd_kafka_queue_t *q, int fd)
{
    if (!q)
        return -1;
    rd_kafka_queue_io_event_enable(q, fd, "1", 1);
    return 0;
}

#define DEFAULT(v, d) ((v) > 0 ? (v) : (d))

bl_runtime *bl_runtime_new(const bl_runtime_opts *opts, bl_err *err)
{
    if (!opts || !opts->brokers || !opts->group_id || !opts->connector_name || !opts->topics ||
        opts->n_topics == 0 || !opts->connector.start) {
        bl_err_set(err, BL_EINVAL, "runtime: brokers, group id, connector name, topics and start are required");
        return NULL;
    }
    bl_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) {
        bl_err_set(err, BL_ENOMEM, "runtime: out of memory");
        return NULL;
    }
    rt->wake[0] = rt->wake[1] = -1;
    pthread_mutex_init(&rt->done_lock, NULL);
    rt->conn = opts->connector;
    rt->metrics = opts->metrics;
    rt->max_attempts = DEFAULT(opts->max_attempts, 4);
    rt->max_in_flight = DEFAULT(opts->max_in_flight, 1000);
    rt->commit_interval_ms = DEFAULT(opts->commit_interval_ms, 1000);
    rt->commit_every = DEFAULT(opts->commit_every, 1000);
    rt->drain_timeout_ms = DEFAULT(opts->drain_timeout_ms, 10000);
    rt->revoke_timeout_ms = DEFAULT(opts->revoke_timeout_ms, 5000);
    rt->lag_interval_ms = DEFAULT(opts->lag_interval_ms, 5000);
    rt->max_wait_ms = DEFAULT(opts->max_wait_ms, 200);
    if (setup_topics(rt, opts, err) != 0 || !(rt->group_id = strdup(opts->group_id)))
        goto fail;
    if (pipe2(rt->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        bl_err_set(err, BL_EIO, "runtime: pipe: %s", strerror(errno));
        goto fail;
    }
    size_t max_uncommitted = opts->max_uncommitted ? opts->max_uncommitted : DEFAULT_MAX_UNCOMMITTED;
    if (max_uncommitted < rt->max_in_flight)
        max_uncommitted = rt->max_in_flight;
    if (!(rt->tracker = bl_offset_tracker_new(rt->max_in_flight, max_uncommitted, err)))
        goto fail;
    bl_kafka_consumer_opts co = {
        .brokers = opts->brokers,
        .group_id = opts->group_id,
        .auto_offset_reset = opts->auto_offset_reset,
        .extra = opts->consumer_extra,
        .on_assign = on_assign,
        .on_revoke = on_revoke,
        .user = rt,
    };
    if (!(rt->consumer = bl_kafka_consumer_new(&co, err)))
        goto fail;
    if (!(rt->producer = bl_kafka_producer_new(opts->brokers, opts->producer_extra, bl_rt_on_delivery, rt, err)))
        goto fail;
    rt->consumer_q = rd_kafka_queue_get_consumer(bl_kafka_consumer_handle(rt->consumer));
    rt->producer_q = rd_kafka_queue_get_main(bl_kafka_producer_handle(rt->producer));
    if (enable_wake(rt->consumer_q, rt->wake[1]) != 0 || enable_wake(rt->producer_q, rt->wake[1]) != 0) {
        bl_err_set(err, BL_EKAFKA, "runtime: no event queue on the consumer or producer");
        goto fail;
    }
    bl_rt_metrics_bind_runtime(rt);
    return rt;
fail:
    bl_runtime_free(rt);
    return NULL;
}

static int poll_batch(bl_runtime *rt)
{
    int got = 0;
    while (got < POLL_BATCH && !stop_asked(rt)) {
        bl_kafka_msg *m = NULL;
        bl_err err = {0};
        int rc = bl_kafka_consumer_poll(rt->consumer, 0, &m, &err);
        if (rc == 0)
            break;
        if (rc < 0) {
            if (bl_kafka_consumer_fatal(rt->consumer, &rt->fatal_err)) {
                rt->fatal = 1;
                bl_log_error("runtime: consumer failed", BL_FS("connector", rt->connector_name),
                             BL_FS("error", rt->fatal_err.msg));
            } else {
                bl_log_warn("runtime: consumer error", BL_FS("connector", rt->connector_name),
                            BL_FS("error", err.msg));
            }
            break;
        }
        got++;
        bl_rt_take_message(rt, m);
    }
    return got;
}

static void shutdown_drain(bl_runtime *rt)
{
    rt->stopping = 1;
    bl_log_info("runtime: draining", BL_FS("connector", rt->connector_name),
                BL_FI("in_flight", (int64_t)rt->stats.in_flight));
    for (rt_partition *p = rt->parts; p; p = p->next) {
        bl_rt_partition_abandon(rt, p, 0);
        bl_rt_partition_pause(rt, p, 1);
    }
    if (!rt->fatal)
        drain_closing(rt, bl_clock_mono_ms() + rt->drain_timeout_ms);
    for (rt_partition *p = rt->parts; p; p = p->next)
        bl_rt_partition_abandon(rt, p, 1);
    bl_err err = {0};
    if (commit_watermarks(rt, 1, &err) != 0)
        bl_log_warn("runtime: final commit failed", BL_FS("connector", rt->connector_name), BL_FS("error", err.msg));
    if (bl_kafka_consumer_close(rt->consumer, &err) != 0)
        bl_log_warn("runtime: consumer close failed", BL_FS("connector", rt->connector_name), BL_FS("error", err.msg));
    if (bl_kafka_producer_flush(rt->producer, CLOSE_FLUSH_MS, &err) != 0)
        bl_log_warn("runtime: producer flush failed", BL_FS("connector", rt->connector_name), BL_FS("error", err.msg));
    rt->ran = 1;
    bl_log_info("runtime: stopped", BL_FS("connector", rt->connector_name),
                BL_FI("abandoned", (int64_t)rt->stats.abandoned));
}

/* The tier and dead-letter topics are first produced to when something
 * fails, often under load: learning their metadata then cost a round trip
 * (hundreds of ms) while the failing jobs held the window. A missing one is
 * only warned about: those copies are retried until it exists. */
static void prepare_output_topics(bl_runtime *rt)
{
    const char *topics[BL_RETRY_TIERS_MAX + 1];
    size_t n = 0;
    for (size_t i = 0; rt->has_tiers && i < rt->tiers.n; i++)
        topics[n++] = rt->tier_topics[i];
    topics[n++] = rt->dlq_topic;
    for (size_t i = 0; i < n; i++) {
        bl_err err = {0};
        if (bl_kafka_producer_prepare_topics(rt->producer, &topics[i], 1, PREPARE_TIMEOUT_MS, &err) == 0)
            continue;
        bl_log_warn("runtime: retry or dead-letter topic not ready", BL_FS("connector", rt->connector_name),
                    BL_FS("error", err.msg));
        if (err.code == BL_ETIMEOUT)
            return; /* the cluster does not answer: the first sends will learn them */
    }
}

int bl_runtime_run(bl_runtime *rt, bl_err *err)
{
    if (!rt || rt->ran)
        return bl_err_set(err, BL_EINVAL, "runtime: run: already ran");
    if (bl_kafka_consumer_subscribe(rt->consumer, (const char *const *)rt->topics, rt->n_topics, err) != 0)
        return bl_err_wrap(err, "runtime %s", rt->connector_name);
    prepare_output_topics(rt);
    int64_t now = bl_clock_mono_ms();
    rt->next_commit_mono = now + rt->commit_interval_ms;
    rt->next_lag_mono = now + rt->lag_interval_ms;
    while (!stop_asked(rt) && !rt->fatal) {
        int got = poll_batch(rt);
        bl_kafka_producer_poll(rt->producer, 0);
        bl_rt_handle_completions(rt);
        bl_rt_handle_timers(rt);
        maybe_commit(rt);
        now = bl_clock_mono_ms();
        if (now >= rt->next_lag_mono) {
            bl_rt_metrics_refresh_lag(rt);
            rt->next_lag_mono = now + rt->lag_interval_ms;
        }
        if (bl_kafka_producer_fatal(rt->producer, &rt->fatal_err)) {
            rt->fatal = 1;
            bl_log_error("runtime: producer failed", BL_FS("connector", rt->connector_name),
                         BL_FS("error", rt->fatal_err.msg));
            break;
        }
        int64_t next = bl_rt_next_timer_mono(rt);
        if (rt->next_commit_mono < next)
            next = rt->next_commit_mono;
        if (rt->next_lag_mono < next)
            next = rt->next_lag_mono;
        int64_t t = next - now;
        if (t > rt->max_wait_ms)
            t = rt->max_wait_ms;
        if (got == POLL_BATCH || completions_pending(rt) || rt->done_since_commit >= rt->commit_every)
            t = 0;
        wait_for_work(rt, (int)t);
    }
    shutdown_drain(rt);
    if (rt->fatal) {
        bl_err_set(err, rt->fatal_err.code ? rt->fatal_err.code : BL_EKAFKA, "runtime %s: %s",
                   rt->connector_name, rt->fatal_err.msg);
        return -1;
    }
    return 0;
}

void bl_runtime_stop(bl_runtime *rt)
{
    if (!rt)
        return;
    atomic_store(&rt->stop, 1);
    char one = 1;
    ssize_t w = write(rt->wake[1], &one, 1);
    (void)w;
}

void bl_runtime_get_stats(const bl_runtime *rt, bl_runtime_stats *out)
{
    *out = rt->stats;
}

int bl_runtime_has_assignment(const bl_runtime *rt)
{
    return rt && atomic_load(&rt->assigned) > 0;
}

int bl_runtime_ready(void *ctx, char *reason, size_t reason_len)
{
    if (bl_runtime_has_assignment(ctx))
        return 1;
    if (reason && reason_len)
        snprintf(reason, reason_len, "no partitions assigned yet");
    return 0;
}

void bl_runtime_free(bl_runtime *rt)
{
    if (!rt)
        return;
    if (rt->consumer && !rt->ran) {
        /* Abrupt: nothing more is committed; the next owner re-reads. */
        rt->stopping = 1;
        rt->fatal = 1;
        for (rt_partition *p = rt->parts; p; p = p->next)
            bl_rt_partition_abandon(rt, p, 1);
        bl_err err = {0};
        if (bl_kafka_consumer_close(rt->consumer, &err) != 0)
            bl_log_warn("runtime: consumer close failed", BL_FS("error", err.msg));
    }
    if (rt->consumer_q) {
        rd_kafka_queue_io_event_enable(rt->consumer_q, -1, NULL, 0);
        rd_kafka_queue_destroy(rt->consumer_q);
    }
    if (rt->producer_q) {
        rd_kafka_queue_io_event_enable(rt->producer_q, -1, NULL, 0);
        rd_kafka_queue_destroy(rt->producer_q);
    }
    /* Late delivery reports free their orphans here. */
    bl_kafka_producer_free(rt->producer, rt->ran ? CLOSE_FLUSH_MS : 0);
    while (rt->orphans) {
        bl_runtime_job *job = rt->orphans;
        rt->orphans = job->list_next;
        bl_rt_job_free(rt, job);
    }
    while (rt->parts) {
        rt_partition *p = rt->parts;
        bl_rt_partition_abandon(rt, p, 1);
        rt->parts = p->next;
        partition_free(p);
    }
    while (rt->orphans) {
        bl_runtime_job *job = rt->orphans;
        rt->orphans = job->list_next;
        bl_rt_job_free(rt, job);
    }
    bl_kafka_consumer_free(rt->consumer);
    bl_offset_tracker_free(rt->tracker);
    for (size_t i = 0; rt->topics && i < rt->n_topics; i++)
        free(rt->topics[i]);
    free(rt->topics);
    free(rt->group_id);
    if (rt->wake[0] >= 0)
        close(rt->wake[0]);
    if (rt->wake[1] >= 0)
        close(rt->wake[1]);
    pthread_mutex_destroy(&rt->done_lock);
    free(rt);
}
