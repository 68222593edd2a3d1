/* The calls of custom endpoints (document 002's APIMetric), off the request
 * path: record copies a call into a bounded in-memory queue and returns at
 * once; a writer thread drains the queue every flush_ms (or as soon as
 * batch_rows are waiting) in multi-row INSERTs into custom_api_metrics
 * (migrations/150_custom_api_metrics.sql). A full queue (PostgreSQL slow or
 * down for longer than the queue lasts) drops the new call and counts it:
 * a request never waits on the metrics. Rows a write failed to store go
 * back in front of the queue while there is room (core/row_queue.h, the
 * request log's queue too). Freeing flushes. */
#ifndef BUSLINE_API_CUSTOM_METRICS_LOG_H
#define BUSLINE_API_CUSTOM_METRICS_LOG_H

#include "core/err.h"
#include "core/pg_pool.h"

#include <stddef.h>
#include <stdint.h>

#define BL_CUSTOM_METRICS_QUEUE_DEFAULT 20000
#define BL_CUSTOM_METRICS_AGENT_MAX 256 /* user-agent bytes kept */
#define BL_CUSTOM_METRICS_ERROR_MAX 256 /* error message bytes kept */

typedef struct bl_custom_metrics_log bl_custom_metrics_log;

/* One call; strings are borrowed for the call (record copies, cut to the
 * bounds above). NULL or "" = none. */
typedef struct bl_custom_metric {
    const char *custom_api_id, *organization_id; /* required */
    int64_t at_ms;             /* unix ms the call was answered */
    double response_time_ms;   /* >= 0 */
    int status_code;
    int64_t request_size, response_size; /* bytes; < 0 = unknown */
    const char *caller;        /* "key:<id>", "user:<id>", "oauth:<sub>", "ip:<address>" */
    const char *user_agent, *ip_address, *error_message, *request_id;
} bl_custom_metric;

typedef struct bl_custom_metrics_opts {
    bl_pg_pool *pool;     /* required; borrowed, outlives the log */
    size_t capacity;      /* calls held at most; 0 = BL_CUSTOM_METRICS_QUEUE_DEFAULT */
    size_t batch_rows;    /* waiting calls that wake the writer early (and rows per INSERT); 0 = 500 */
    unsigned flush_ms;    /* longest a call waits; 0 = 500 */
    int start_writer;     /* 0 = no writer thread (tests drain with bl_custom_metrics_flush) */
} bl_custom_metrics_opts;

/* Returns a log (with its writer thread running unless opts->start_writer
 * is 0), or NULL with err. */
bl_custom_metrics_log *bl_custom_metrics_new(const bl_custom_metrics_opts *opts, bl_err *err);

/* Queues a copy of m. Never blocks on I/O: when the queue is full the call
 * is dropped and counted. Returns 1 when queued, 0 when dropped (or m lacks
 * its ids). Thread-safe. */
int bl_custom_metrics_record(bl_custom_metrics_log *l, const bl_custom_metric *m);

/* Writes every call queued now, in batches. Rows that failed go back in
 * front of the queue (as many as fit; the rest are dropped and counted).
 * Returns 0 or -1 with err. */
int bl_custom_metrics_flush(bl_custom_metrics_log *l, bl_err *err);

/* Calls dropped so far (full queue, or lost after a failed write). */
uint64_t bl_custom_metrics_dropped(bl_custom_metrics_log *l);

/* Calls waiting in the queue now. */
size_t bl_custom_metrics_queued(bl_custom_metrics_log *l);

/* Stops the writer, writes what is left (one try; what fails is logged as
 * lost) and frees. Accepts NULL. */
void bl_custom_metrics_free(bl_custom_metrics_log *l);

#endif
