/* The relay's life: take the lease, publish batches, wait for a NOTIFY or
 * the poll interval, delete old sent rows, keep the metrics fresh. */
#include "producers/outbox/relay_internal.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/pg_pool.h"
#include "core/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The lease: one session advisory lock key for every relay of a database. */
#define LEASE_SQL "SELECT pg_try_advisory_lock(7305093473295301)"
#define LISTEN_SQL "LISTEN busline_outbox"
#define CLEANUP_SQL                                                                   \
    "DELETE FROM busline_outbox WHERE id IN (SELECT id FROM busline_outbox "         \
    "WHERE sent_at < now() - $1::bigint * interval '1 millisecond' ORDER BY sent_at " \
    "LIMIT $2)"
#define BACKLOG_SQL                                                               \
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) " \
    "FROM busline_outbox WHERE sent_at IS NULL"

/* How many DELETEs of cleanup_batch rows one cleanup may run before the
 * relay publishes again. */
#define CLEANUP_ROUNDS_MAX 10
/* How often the backlog gauges are refreshed. */
#define BACKLOG_EVERY_MS 2000
#define EXACTLY_ONCE_BATCH_MAX 20000
#define DEFAULT_TRANSACTIONAL_ID "busline-relay"
#define DEFAULT_POSITIONS_TOPIC "busline.relay.positions"

static int stopping(const bl_relay *r)
{
    return atomic_load(&r->stop) || bl_signals_stop_requested();
}

void relay_count_error(bl_relay *r, int n)
{
    atomic_fetch_add(&r->errors, n);
    if (r->m_errors)
        bl_counter_add(r->m_errors, n);
}

static int check_config(const bl_relay_config *cfg, bl_err *err)
{
    if (!cfg || !cfg->pg_url || !cfg->brokers)
        return bl_err_set(err, BL_EINVAL, "relay: pg_url and brokers are required");
    if (cfg->batch_size < 1 || cfg->batch_size > 100000)
        return bl_err_set(err, BL_EINVAL, "relay: batch size %d is not within 1..100000",
                          cfg->batch_size);
    if (cfg->poll_interval_ms < 10)
        return bl_err_set(err, BL_EINVAL, "relay: poll interval %d ms is under 10 ms",
                          cfg->poll_interval_ms);
    if (cfg->retention_ms < 0 || cfg->cleanup_batch < 1 || cfg->cleanup_interval_ms < 10)
        return bl_err_set(err, BL_EINVAL,
                          "relay: retention must be >= 0, cleanup batch > 0, cleanup interval "
                          ">= 10 ms");
    if (cfg->delivery_timeout_ms < 1000)
        return bl_err_set(err, BL_EINVAL, "relay: delivery timeout %d ms is under 1 s",
                          cfg->delivery_timeout_ms);
    /* A marker names up to two batches of ids: it must fit Kafka's default
     * 1 MB message. */
    if (cfg->exactly_once && cfg->batch_size > EXACTLY_ONCE_BATCH_MAX)
        return bl_err_set(err, BL_EINVAL, "relay: batch size %d is over %d with exactly-once",
                          cfg->batch_size, EXACTLY_ONCE_BATCH_MAX);
    return 0;
}

static int register_metrics(bl_relay *r, bl_metrics *m, bl_err *err)
{
    bl_metric *backlog = bl_metrics_gauge(m, "busline_relay_backlog_events",
                                          "outbox rows not yet published", NULL, err);
    bl_metric *age = backlog ? bl_metrics_gauge(m, "busline_relay_oldest_unsent_age_seconds",
                                                "age of the oldest unpublished outbox row",
                                                NULL, err)
                             : NULL;
    bl_metric *leader = age ? bl_metrics_gauge(m, "busline_relay_leader",
                                               "1 while this relay holds the lease", NULL, err)
                            : NULL;
    bl_metric *published = leader ? bl_metrics_counter(m, "busline_relay_published_total",
                                                       "outbox rows published and marked sent",
                                                       NULL, err)
                                  : NULL;
    bl_metric *errors = published ? bl_metrics_counter(m, "busline_relay_errors_total",
                                                       "failed deliveries and database errors",
                                                       NULL, err)
                                  : NULL;
    if (!errors)
        return -1;
    r->m_backlog = bl_metric_gauge(backlog, NULL, err);
    r->m_oldest_age = bl_metric_gauge(age, NULL, err);
    r->m_leader = bl_metric_gauge(leader, NULL, err);
    r->m_published = bl_metric_counter(published, NULL, err);
    r->m_errors = bl_metric_counter(errors, NULL, err);
    return r->m_backlog && r->m_oldest_age && r->m_leader && r->m_published && r->m_errors ? 0
                                                                                           : -1;
}

bl_relay *bl_relay_new(const bl_relay_config *cfg, bl_err *err)
{
    if (check_config(cfg, err) != 0)
        return NULL;
    bl_relay *r = calloc(1, sizeof *r);
    if (!r) {
        bl_err_set(err, BL_ENOMEM, "relay: out of memory");
        return NULL;
    }
    r->wake_pipe[0] = r->wake_pipe[1] = -1;
    r->cfg = *cfg;
    r->pg_url = strdup(cfg->pg_url);
    r->brokers = strdup(cfg->brokers);
    r->slots = calloc((size_t)cfg->batch_size, sizeof *r->slots);
    r->ids_cap = 2 * (size_t)cfg->batch_size * 21 + 3; /* a batch's marks and the one before's */
    r->ids_buf = malloc(r->ids_cap);
    r->carry_buf = malloc(r->ids_cap);
    r->flight_buf = malloc(r->ids_cap);
    if (!r->pg_url || !r->brokers || !r->slots || !r->ids_buf || !r->carry_buf || !r->flight_buf) {
        bl_err_set(err, BL_ENOMEM, "relay: out of memory");
        goto fail;
    }
    r->cfg.pg_url = r->pg_url;
    r->cfg.brokers = r->brokers;
    if (cfg->exactly_once) {
        r->transactional_id = strdup(cfg->transactional_id ? cfg->transactional_id : DEFAULT_TRANSACTIONAL_ID);
        r->positions_topic = strdup(cfg->positions_topic ? cfg->positions_topic : DEFAULT_POSITIONS_TOPIC);
        r->marker_buf = malloc(r->ids_cap);
        if (!r->transactional_id || !r->positions_topic || !r->marker_buf) {
            bl_err_set(err, BL_ENOMEM, "relay: out of memory");
            goto fail;
        }
    }
    r->cfg.transactional_id = r->transactional_id;
    r->cfg.positions_topic = r->positions_topic;
    if (pipe2(r->wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        bl_err_set(err, BL_EIO, "relay: pipe: %s", strerror(errno));
        goto fail;
    }
    if (cfg->metrics && register_metrics(r, cfg->metrics, err) != 0) {
        bl_err_wrap(err, "relay: metrics");
        goto fail;
    }
    return r;
fail:
    bl_relay_free(r);
    return NULL;
}

static void lose_lease(bl_relay *r)
{
    /* Marks not written: those rows are published again, same ce_id. */
    r->pending_marks = 0;
    relay_drop_prefetch(r);
    PQfinish(r->conn);
    r->conn = NULL;
    atomic_store(&r->connected, 0);
    if (atomic_exchange(&r->leader, 0))
        bl_log_info("relay: lease released");
    /* The next leader's producer fences this one: a new lease starts with a
     * new producer and the recovery that follows it. */
    if (r->cfg.exactly_once && r->producer) {
        bl_kafka_producer_free(r->producer, 0);
        r->producer = NULL;
    }
    if (r->m_leader)
        bl_gauge_set(r->m_leader, 0);
}

void bl_relay_free(bl_relay *r)
{
    if (!r)
        return;
    lose_lease(r);
    int lost = bl_kafka_producer_free(r->producer, 10000);
    if (lost > 0)
        bl_log_warn("relay: messages left unacknowledged at exit stay unsent",
                    BL_FI("messages", lost));
    if (r->wake_pipe[0] >= 0)
        close(r->wake_pipe[0]);
    if (r->wake_pipe[1] >= 0)
        close(r->wake_pipe[1]);
    free(r->pg_url);
    free(r->brokers);
    free(r->slots);
    free(r->payload_buf);
    free(r->ids_buf);
    free(r->carry_buf);
    free(r->flight_buf);
    free(r->transactional_id);
    free(r->positions_topic);
    free(r->marker_buf);
    free(r);
}

void bl_relay_stop(bl_relay *r)
{
    atomic_store(&r->stop, 1);
    char one = 1;
    ssize_t n = write(r->wake_pipe[1], &one, 1);
    (void)n; /* a full pipe already wakes the loop */
}

int bl_relay_is_leader(const bl_relay *r)
{
    return atomic_load(&r->leader);
}

int bl_relay_is_connected(const bl_relay *r)
{
    return atomic_load(&r->connected);
}

bl_relay_stats bl_relay_get_stats(const bl_relay *r)
{
    return (bl_relay_stats){atomic_load(&r->published), atomic_load(&r->errors),
                            atomic_load(&r->batches), atomic_load(&r->deleted)};
}

/* Connects if needed and tries to take the lease. Returns 1 when this relay
 * is now the leader, 0 when another one is, -1 when the database failed. */
static int try_lease(bl_relay *r, bl_err *err)
{
    if (!r->conn) {
        r->conn = bl_pg_connect(r->pg_url, err);
        if (!r->conn)
            return -1;
        atomic_store(&r->connected, 1);
    }
    PGresult *res = bl_pg_exec(r->conn, LEASE_SQL, 0, NULL, err);
    if (!res)
        return -1;
    int got = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!got)
        return 0;
    /* NOTIFYs are delivered to listeners only from here on; the first batch
     * runs right away, so nothing committed before is missed. */
    if (bl_pg_exec_cmd(r->conn, LISTEN_SQL, 0, NULL, err) != 0)
        return -1;
    atomic_store(&r->leader, 1);
    if (r->m_leader)
        bl_gauge_set(r->m_leader, 1);
    bl_log_info("relay: lease taken; publishing");
    return 1;
}

/* Drains NOTIFYs that libpq already read. Returns how many, or -1 when the
 * connection is broken. */
static int drain_notifies(bl_relay *r)
{
    if (!PQconsumeInput(r->conn))
        return -1;
    int n = 0;
    PGnotify *note;
    while ((note = PQnotifies(r->conn)) != NULL) {
        PQfreemem(note);
        n++;
    }
    return n;
}

/* Waits up to timeout_ms for a stop, or (listen) a NOTIFY on the leader's
 * connection. Returns 0, or -1 when that connection broke. */
static int wait_for_wake(bl_relay *r, int timeout_ms, int listen)
{
    if (listen && r->conn) {
        int n = drain_notifies(r);
        if (n != 0)
            return n < 0 ? -1 : 0;
    }
    struct pollfd fds[3];
    nfds_t nfds = 0;
    fds[nfds++] = (struct pollfd){.fd = r->wake_pipe[0], .events = POLLIN};
    if (bl_signals_wake_fd() >= 0)
        fds[nfds++] = (struct pollfd){.fd = bl_signals_wake_fd(), .events = POLLIN};
    int pg_index = -1;
    if (listen && r->conn && PQsocket(r->conn) >= 0) {
        pg_index = (int)nfds;
        fds[nfds++] = (struct pollfd){.fd = PQsocket(r->conn), .events = POLLIN};
    }
    if (poll(fds, nfds, timeout_ms) < 0 && errno != EINTR)
        return 0;
    char drain[64];
    while (read(r->wake_pipe[0], drain, sizeof drain) > 0)
        ;
    if (pg_index >= 0 && (fds[pg_index].revents & (POLLIN | POLLHUP | POLLERR)))
        return drain_notifies(r) < 0 ? -1 : 0;
    return 0;
}

/* Exactly-once: a transactional producer (fencing any older one of the
 * id), then the recovery: the rows the last committed transaction's marker
 * names are marked sent before anything is claimed. A failed transaction
 * rolls back the whole batch, so gapless delivery has nothing to add.
 * Returns 0, or -1 with err (no producer then). */
static int start_transactional_producer(bl_relay *r, const char *message_timeout, bl_err *err)
{
    char txn_timeout[16];
    snprintf(txn_timeout, sizeof txn_timeout, "%d", r->cfg.delivery_timeout_ms + 10000);
    const char *const extra[] = {"transactional.id", r->transactional_id, "message.timeout.ms", message_timeout,
                                 "transaction.timeout.ms", txn_timeout, NULL};
    char *ids = NULL;
    if (relay_positions_ensure_topic(r, err) != 0)
        return -1;
    r->producer = bl_kafka_producer_new(r->brokers, extra, relay_on_delivery, r, err);
    if (!r->producer)
        return -1;
    int rc = bl_kafka_producer_txn_init(r->producer, r->cfg.delivery_timeout_ms + 10000, err);
    if (rc == 0)
        rc = relay_positions_last(r, &ids, err);
    if (rc == 0 && ids)
        rc = relay_mark_ids(r, ids, err);
    if (rc == 0)
        bl_log_info("relay: exactly-once producer ready", BL_FS("transactional_id", r->transactional_id),
                    BL_FS("recovered", ids ? "marker" : "none"));
    free(ids);
    if (rc != 0) {
        bl_kafka_producer_free(r->producer, 0);
        r->producer = NULL;
        return bl_err_wrap(err, "relay: exactly-once start");
    }
    return 0;
}

static int ensure_producer(bl_relay *r, bl_err *err)
{
    if (r->producer)
        return 0;
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", r->cfg.delivery_timeout_ms);
    /* Gapless, chosen knowingly although librdkafka calls it experimental
     * (core/kafka_config.c logs its start-up warning at debug): without it,
     * an idempotent producer that gives up on a batch for a reason other
     * than the message timeout skips it and lets the partition's later
     * messages through, so a later event of an aggregate would land in
     * Kafka before the retry of an earlier one. With it, such an error
     * stops the producer (we then recreate it) and the later messages fail
     * too; the batch's marking rule covers the timeouts it does not. */
    const char *const extra[] = {"message.timeout.ms", timeout, "enable.gapless.guarantee", "true",
                                 NULL};
    if (r->cfg.exactly_once)
        return start_transactional_producer(r, timeout, err);
    r->producer = bl_kafka_producer_new(r->brokers, extra, relay_on_delivery, r, err);
    return r->producer ? 0 : -1;
}

/* Deletes sent rows older than the retention, a few small DELETEs at a time
 * so that publishing is never held up long. Returns 0, or -1 with err. */
static int delete_old_sent(bl_relay *r, bl_err *err)
{
    char retention[24], batch[16];
    snprintf(retention, sizeof retention, "%lld", (long long)r->cfg.retention_ms);
    snprintf(batch, sizeof batch, "%d", r->cfg.cleanup_batch);
    const char *params[2] = {retention, batch};
    for (int round = 0; round < CLEANUP_ROUNDS_MAX; round++) {
        PGresult *res = bl_pg_exec(r->conn, CLEANUP_SQL, 2, params, err);
        if (!res)
            return bl_err_wrap(err, "relay: delete sent rows");
        long n = strtol(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        atomic_fetch_add(&r->deleted, n);
        if (n < r->cfg.cleanup_batch)
            break;
    }
    return 0;
}

int relay_refresh_backlog_if_due(bl_relay *r, bl_err *err)
{
    int64_t now = bl_clock_mono_ms();
    /* the connection is busy with the next claim: the gauges wait for it */
    if (!r->m_backlog || now < r->next_backlog_ms || r->prefetching)
        return 0;
    r->next_backlog_ms = now + BACKLOG_EVERY_MS;
    PGresult *res = bl_pg_exec(r->conn, BACKLOG_SQL, 0, NULL, err);
    if (!res)
        return bl_err_wrap(err, "relay: backlog");
    bl_gauge_set(r->m_backlog, strtod(PQgetvalue(res, 0, 0), NULL));
    bl_gauge_set(r->m_oldest_age, strtod(PQgetvalue(res, 0, 1), NULL));
    PQclear(res);
    return 0;
}

/* The leader's housekeeping between batches. Returns 0, or -1 with err. */
static int housekeeping(bl_relay *r, bl_err *err)
{
    int64_t now = bl_clock_mono_ms();
    if (r->cfg.retention_ms > 0 && now >= r->next_cleanup_ms) {
        r->next_cleanup_ms = now + r->cfg.cleanup_interval_ms;
        if (delete_old_sent(r, err) != 0)
            return -1;
    }
    return relay_refresh_backlog_if_due(r, err);
}

int bl_relay_run(bl_relay *r)
{
    while (!stopping(r)) {
        bl_err e = {0};
        if (!atomic_load(&r->leader)) {
            int got = try_lease(r, &e);
            if (got < 0) {
                bl_log_warn("relay: database unavailable; retrying", BL_FS("error", e.msg));
                relay_count_error(r, 1);
                lose_lease(r);
            }
            if (got <= 0)
                wait_for_wake(r, r->cfg.poll_interval_ms, 0);
            continue;
        }
        if (ensure_producer(r, &e) != 0) {
            bl_log_error("relay: cannot create the Kafka producer", BL_FS("error", e.msg));
            relay_count_error(r, 1);
            wait_for_wake(r, r->cfg.poll_interval_ms, 0);
            continue;
        }
        int failures = 0;
        int rows = relay_batch_run(r, &failures, &e);
        if (rows >= 0 && housekeeping(r, &e) != 0)
            rows = -1;
        if (rows < 0) {
            /* Rows published but not marked are sent again by the next
             * leader, with the same ce_id (exactly-once: the next leader
             * marks them from the positions marker instead). */
            bl_log_error("relay: batch failed; giving up the lease", BL_FS("error", e.msg));
            relay_count_error(r, 1);
            lose_lease(r);
            wait_for_wake(r, r->cfg.poll_interval_ms, 0);
            continue;
        }
        if (failures > 0) {
            wait_for_wake(r, r->cfg.poll_interval_ms, 0); /* back off, then retry */
        } else if (rows < r->cfg.batch_size && wait_for_wake(r, r->cfg.poll_interval_ms, 1) != 0) {
            bl_log_error("relay: database connection lost; giving up the lease");
            relay_count_error(r, 1);
            lose_lease(r);
        }
    }
    bl_err e = {0};
    relay_drop_prefetch(r); /* claimed, never sent: still unsent */
    if (atomic_load(&r->leader) && relay_flush_marks(r, &e) != 0)
        bl_log_error("relay: marks of the last batch not written; its rows go out again",
                     BL_FS("error", e.msg));
    bl_log_info("relay: stopped", BL_FI("published", atomic_load(&r->published)));
    return 0;
}
