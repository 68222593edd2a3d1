/* What relay.c (the loop, the lease, cleanup) and relay_batch.c (one batch)
 * share. Not for use outside producers/outbox/relay*.c. */
#ifndef BUSLINE_PRODUCERS_RELAY_INTERNAL_H
#define BUSLINE_PRODUCERS_RELAY_INTERNAL_H

#include "core/kafka_producer.h"
#include "producers/outbox/relay.h"

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stddef.h>

/* What became of one row of the batch in flight. */
typedef enum relay_slot_state {
    SLOT_UNSENT = 0, /* not handed to the producer */
    SLOT_PENDING,    /* queued, no delivery report yet */
    SLOT_ACKED,      /* the broker acknowledged it */
    SLOT_FAILED,     /* the delivery report (or the send) failed */
} relay_slot_state;

typedef struct relay_slot {
    struct bl_relay *relay; /* the delivery report finds its relay here */
    relay_slot_state state;
} relay_slot;

struct bl_relay {
    bl_relay_config cfg; /* strings point at the copies below */
    char *pg_url;
    char *brokers;
    char *transactional_id, *positions_topic; /* copies; set with exactly_once */
    char *marker_buf; /* exactly_once: ids_cap bytes, the batch's positions marker */

    PGconn *conn; /* the lease and all the relay's SQL; NULL when disconnected */
    atomic_int leader;
    atomic_int connected; /* conn is set: read by the readiness probe */
    atomic_int stop;
    int wake_pipe[2]; /* bl_relay_stop writes a byte so a wait returns at once */

    bl_kafka_producer *producer; /* created on taking the lease, recreated after a fatal error */
    relay_slot *slots;           /* batch_size of them */
    int batch_open;              /* delivery reports outside a batch are ignored */
    char *payload_buf;           /* decoded payload of the row being sent */
    size_t payload_cap;
    char delivery_error[128]; /* the first failed report of the batch */
    char *ids_buf; /* "{1,2,...}": the rows to mark sent */
    size_t ids_cap;
    int pending_marks; /* ids in ids_buf not yet written */

    /* The next batch's claim, sent while the broker acknowledges this one
     * (relay_batch.c): it carries the marks of the batch before. */
    char *carry_buf;      /* ids_cap bytes: the marks the claim in flight writes */
    int carried_marks;
    char *flight_buf;     /* ids_cap bytes: the batch at the broker, left out of the claim */
    int prefetching;      /* a claim is in flight on conn */
    PGresult *prefetched; /* its rows, not yet sent; NULL when none */

    atomic_llong published, errors, batches, deleted;
    int64_t next_cleanup_ms, next_backlog_ms; /* CLOCK_MONOTONIC deadlines */

    /* NULL when cfg.metrics is NULL. */
    bl_gauge *m_backlog, *m_oldest_age, *m_leader;
    bl_counter *m_published, *m_errors;
};

/* Runs one batch on the leader's connection. Returns how many rows it read
 * (0: nothing to do), or -1 with err when the database failed (the caller
 * drops the connection, and with it the lease). *failures gets how many
 * rows could not be published (they stay unsent). */
int relay_batch_run(struct bl_relay *r, int *failures, bl_err *err);

/* The producer's delivery callback; user is the relay, msg_opaque a slot. */
void relay_on_delivery(const bl_kafka_delivery *d, void *user);

/* Forgets a claim in flight or its rows (a lost lease: the next leader
 * claims them again). */
void relay_drop_prefetch(struct bl_relay *r);

/* Writes the marks the last batch left pending (normally carried by the next
 * read). Returns 0, or -1 with err. */
int relay_flush_marks(struct bl_relay *r, bl_err *err);

/* Refreshes the backlog gauges when due (every few seconds), also while a
 * batch waits for a broker that is away. Returns 0, or -1 with err. */
int relay_refresh_backlog_if_due(struct bl_relay *r, bl_err *err);

/* Creates the compacted positions topic if missing and waits until it is
 * visible. Returns 0, or -1 with err. */
int relay_positions_ensure_topic(struct bl_relay *r, bl_err *err);

/* Reads the last committed positions marker ("{id,...}", malloc'd into
 * *ids; NULL when the topic holds none). Call after the producer's
 * txn_init so no transaction of ours is still open. Returns 0, or -1 with err. */
int relay_positions_last(struct bl_relay *r, char **ids, bl_err *err);

/* Marks the rows of ids ("{id,...}") sent (or deletes them, per retention)
 * on the leader's connection. Returns 0, or -1 with err. */
int relay_mark_ids(struct bl_relay *r, const char *ids, bl_err *err);

/* Counts one error in the stats and the errors metric. */
void relay_count_error(struct bl_relay *r, int n);

#endif
