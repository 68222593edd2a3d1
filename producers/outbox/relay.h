/* The outbox relay: publishes the unsent rows of busline_outbox to Kafka and
 * marks them sent once the broker acknowledged them. `busline relay` runs one
 * (producers/outbox/cmd_relay.c); tests and benches may run it in-process.
 *
 * Two relays at once: a leader lease. Each relay takes a session advisory
 * lock on its own connection (pg_try_advisory_lock) and only the holder
 * publishes; the others retry every poll interval. The leader does all its
 * work on that same connection, so losing the lock (connection gone, process
 * killed: PostgreSQL ends the session and frees the lock) also means it can
 * no longer mark anything sent. We chose the lease over per-aggregate
 * claiming with SKIP LOCKED because it makes order trivially right (one
 * reader, in id order, which per aggregate is commit order: see
 * migrations/010_outbox.sql), and because the ceiling is PostgreSQL's
 * claim-and-mark rate, not Kafka (tests/bench/bench_relay.c: kcat is several
 * times faster than a bare claim/mark loop), which relays claiming with SKIP
 * LOCKED would share rather than multiply. The standby is for failover.
 *
 * A batch: read up to batch_size unsent rows in id order, produce them all
 * (key = aggregate id, headers from the row, value = payload) with the core
 * idempotent producer, wait for every delivery report, then mark sent only
 * the rows the broker acknowledged, and of those only the ones not preceded
 * in the batch by a failed row of the same aggregate (so a retried event
 * never follows a later one of its aggregate). The marking UPDATE travels
 * with the next batch's read when batches come full (one round trip per
 * batch); otherwise it runs at once. With a retention of 0 (the CLI's
 * default) "marking" is deleting: the row's job is done once Kafka holds
 * the event, and a DELETE costs a fraction of an UPDATE that rewrites the
 * row. Anything not acknowledged (a broker
 * outage past delivery_timeout_ms, a fatal producer error: the producer is
 * then recreated) stays unsent and is retried by a later batch with the
 * same ce_id.
 *
 * Exactly once (cfg.exactly_once): a relay killed between Kafka's ack and
 * the marking would publish those rows twice. So each batch is one Kafka
 * transaction (transactional.id shared by all relays of the outbox, so a
 * new leader's producer fences a zombie's) that also writes a marker to
 * the positions topic naming every row it holds that PostgreSQL may not
 * have marked yet; a new leader, once its producer completed or aborted
 * the last transaction, marks the rows of the last committed marker before
 * claiming any. read_committed consumers then see each row once. A failed
 * commit gives up the lease: the recovery decides what Kafka holds. */
#ifndef BUSLINE_PRODUCERS_RELAY_H
#define BUSLINE_PRODUCERS_RELAY_H

#include "core/err.h"
#include "core/metrics.h"

#include <stdint.h>

typedef struct bl_relay_config {
    const char *pg_url;          /* required */
    const char *brokers;         /* required */
    int batch_size;              /* rows per batch, 1..100000 */
    int poll_interval_ms;        /* wait without a NOTIFY, and standby retry; >= 10 */
    int64_t retention_ms;        /* sent rows older than this are deleted; >= 0; 0 = acknowledged
                                  * rows are deleted at once instead of marked sent */
    int cleanup_batch;           /* rows per DELETE; > 0 */
    int cleanup_interval_ms;     /* how often sent rows are deleted; >= 10 */
    int delivery_timeout_ms;     /* librdkafka message.timeout.ms; >= 1000 */
    int exactly_once;            /* 1: each batch is a Kafka transaction with a positions marker */
    const char *transactional_id; /* exactly_once: shared by every relay of the outbox (fencing);
                                   * NULL = "busline-relay" */
    const char *positions_topic; /* exactly_once: NULL = "busline.relay.positions" */
    bl_metrics *metrics;         /* may be NULL; borrowed, registers busline_relay_* */
} bl_relay_config;

typedef struct bl_relay bl_relay;

/* Counters of a relay's life, for tests and logs. */
typedef struct bl_relay_stats {
    int64_t published;  /* rows acknowledged by the broker and marked sent */
    int64_t errors;     /* failed deliveries, sends and database errors */
    int64_t batches;    /* batches that published at least one row */
    int64_t deleted;    /* sent rows removed by retention */
} bl_relay_stats;

/* Checks cfg and copies it (strings too). Connects to nothing yet. Returns
 * the relay (free with bl_relay_free), or NULL with err (BL_EINVAL naming the
 * bad setting; BL_ECONFLICT when cfg->metrics already holds busline_relay_*). */
bl_relay *bl_relay_new(const bl_relay_config *cfg, bl_err *err);

/* Frees the relay; closes its connection (releasing the lease) and flushes
 * its producer. r may be NULL. */
void bl_relay_free(bl_relay *r);

/* Runs until bl_relay_stop or a process stop request (core/signals.h); a
 * batch in flight is finished first (during a broker outage that can take
 * up to delivery_timeout_ms). Database and broker errors are logged,
 * counted (errors) and retried, never returned: the relay outlives outages
 * of both. Returns 0 once stopped. */
int bl_relay_run(bl_relay *r);

/* Asks bl_relay_run to stop after its batch in flight. Thread-safe, and
 * async-signal-safe. */
void bl_relay_stop(bl_relay *r);

/* 1 while this relay holds the lease. Thread-safe. */
int bl_relay_is_leader(const bl_relay *r);

/* 1 while this relay has a database connection (leader or standby).
 * Thread-safe. */
int bl_relay_is_connected(const bl_relay *r);

/* A snapshot of the counters. Thread-safe. */
bl_relay_stats bl_relay_get_stats(const bl_relay *r);

#endif
