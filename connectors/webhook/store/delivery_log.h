/* The webhook delivery log (table webhook_deliveries,
 * migrations/040_webhooks.sql): one row per delivery attempt, written in
 * batches by a background thread so that a delivery worker never waits on
 * PostgreSQL for it, plus the per-endpoint stats read from it.
 *
 * Appending copies the record into a bounded in-memory queue. When the
 * queue is full (PostgreSQL slow or down for longer than the queue lasts),
 * append waits up to append_wait_ms for room and then drops the record,
 * counting it: the log is an audit aid, the delivery itself is already
 * durable (its offset or retry), and a worker stalled behind the log would
 * stall every endpoint. The short wait absorbs bursts, so nothing is lost
 * while PostgreSQL keeps up. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_STORE_DELIVERY_LOG_H
#define BUSLINE_CONNECTORS_WEBHOOK_STORE_DELIVERY_LOG_H

#include "core/err.h"
#include "core/pg_pool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_DELIVERY_EXCERPT_MAX 4096 /* response bytes kept */
/* Body bytes kept of what was sent (the logs' "payload"): most events are
 * far smaller; the bound keeps a full queue of records a few tens of MiB. */
#define BL_DELIVERY_PAYLOAD_MAX 4096
#define BL_DELIVERY_ERROR_MAX 1024   /* error message bytes kept */
#define BL_DELIVERY_RECENT 10        /* attempts in bl_delivery_stats.recent */

/* One attempt. Pointers are borrowed for the call; append copies. */
typedef struct bl_delivery_record {
    const char *endpoint_id;      /* required */
    const char *organization_id;  /* required */
    const char *event_type;       /* required */
    const char *event_id;         /* required (the webhook-id) */
    const char *topic;            /* the event's Kafka record; NULL: unknown */
    int32_t partition;
    int64_t offset;
    int status_code;              /* 0: no response (see error) */
    bool succeeded;
    const char *response;         /* body received (any bytes), may be NULL */
    size_t response_len;          /* only the first BL_DELIVERY_EXCERPT_MAX are kept */
    const char *payload;          /* body sent, may be NULL (not sent) */
    size_t payload_len;           /* its size; only the first BL_DELIVERY_PAYLOAD_MAX are kept */
    const char *error;            /* transport error or NULL */
    int64_t duration_ms;          /* >= 0 */
    int attempt;                  /* 1 = the first */
    int64_t delivered_at_ms;      /* unix ms; 0: now */
} bl_delivery_record;

typedef struct bl_delivery_log_opts {
    bl_pg_pool *pool;             /* required; borrowed, outlives the log */
    size_t queue_capacity;        /* records held at most; 0: 20000 */
    size_t batch_rows;            /* rows that trigger a flush (and the most per COPY); 0: 1000 */
    int flush_interval_ms;        /* longest a record waits; 0: 200 */
    int append_wait_ms;           /* wait for room when full; 0: 100, < 0: none */
} bl_delivery_log_opts;

typedef struct bl_delivery_log bl_delivery_log;

/* Starts the writer thread. Returns the log (free with
 * bl_delivery_log_free), or NULL with err. */
bl_delivery_log *bl_delivery_log_new(const bl_delivery_log_opts *opts, bl_err *err);

/* Flushes what is queued (one last try), stops the thread and frees the
 * log; records that still cannot be written are counted as dropped and
 * logged. Accepts NULL. */
void bl_delivery_log_free(bl_delivery_log *log);

/* Queues a copy of rec (the response cut to BL_DELIVERY_EXCERPT_MAX bytes,
 * the payload to BL_DELIVERY_PAYLOAD_MAX with its whole size kept,
 * invalid UTF-8 and NUL bytes replaced by '?'). Returns 0; or -1 with err:
 * BL_EINVAL for a record missing a required field, BL_ETIMEOUT when the
 * queue stayed full (the record is dropped and counted). Thread-safe. */
int bl_delivery_log_append(bl_delivery_log *log, const bl_delivery_record *rec, bl_err *err);

/* Writes everything queued before the call and waits until it is written or
 * timeout_ms passes. Returns 0, or -1 with err (BL_ETIMEOUT). */
int bl_delivery_log_flush(bl_delivery_log *log, int timeout_ms, bl_err *err);

typedef struct bl_delivery_log_stats {
    long appended;   /* records accepted by append */
    long written;    /* rows committed */
    long dropped;    /* records refused when full, or lost at shutdown */
    long flushes;    /* COPY statements that committed */
    long failures;   /* flushes that failed (retried) */
    long queued;     /* records waiting now */
} bl_delivery_log_stats;

void bl_delivery_log_stats_get(bl_delivery_log *log, bl_delivery_log_stats *out);

/* One logged attempt as read back. */
typedef struct bl_delivery_attempt {
    int64_t id;
    char event_type[129];
    char event_id[256];
    int status_code;                   /* 0: no response */
    bool succeeded;
    char error[256];                   /* cut; "" when none */
    int64_t duration_ms;
    int attempt;
    int64_t delivered_at_ms;
} bl_delivery_attempt;

/* Figures for one endpoint over the attempts logged since since_ms (0: all). */
typedef struct bl_delivery_stats {
    long total;
    long succeeded;
    long failed;
    double success_rate;               /* succeeded / total; 0 when total is 0 */
    double avg_duration_ms;            /* 0 when total is 0 */
    size_t recent_count;
    bl_delivery_attempt recent[BL_DELIVERY_RECENT]; /* newest first */
} bl_delivery_stats;

/* Reads endpoint_id's stats through pool (borrowed). Returns 0 (an endpoint
 * without attempts gives zeros), or -1 with err. */
int bl_delivery_stats_get(bl_pg_pool *pool, const char *endpoint_id, int64_t since_ms,
                          bl_delivery_stats *out, bl_err *err);

#endif
