/* The API's request log: one row per answered request in api_request_log,
 * buffered in memory and written by a background thread every flush_ms in
 * multi-row INSERTs, so the request path never waits on Postgres. When the
 * buffer is full (Postgres down for long) new rows are dropped and counted. */
#ifndef BUSLINE_API_REQUEST_LOG_H
#define BUSLINE_API_REQUEST_LOG_H

#include "core/err.h"
#include "core/pg_pool.h"

#include <stddef.h>
#include <stdint.h>

/* Most rows held in memory before new ones are dropped. */
#define BL_API_REQUEST_LOG_CAP 100000

typedef struct bl_api_request_log bl_api_request_log;

/* One answered request; strings are copied by record. Empty ids = none. */
typedef struct bl_api_request_entry {
    const char *org_id, *key_id, *user_id;
    const char *request_id, *method, *route; /* route: the pattern, "/v1/risks/:id" */
    int status;
    int64_t duration_us;
} bl_api_request_entry;

/* Returns a log writing through pool (borrowed) every flush_ms (0 = 500)
 * once started, or NULL with err. */
bl_api_request_log *bl_api_request_log_new(bl_pg_pool *pool, unsigned flush_ms, bl_err *err);

/* Starts the writer thread. Returns 0 or -1 with err. */
int bl_api_request_log_start(bl_api_request_log *l, bl_err *err);

/* Buffers one row. Thread-safe, never blocks on I/O. */
void bl_api_request_log_record(bl_api_request_log *l, const bl_api_request_entry *e);

/* Writes every buffered row now. Rows that failed stay buffered for the next
 * flush. Returns 0 or -1 with err. */
int bl_api_request_log_flush(bl_api_request_log *l, bl_err *err);

/* Rows dropped because the buffer was full. */
uint64_t bl_api_request_log_dropped(bl_api_request_log *l);

/* Stops the writer, writes what is left and frees. Accepts NULL. */
void bl_api_request_log_free(bl_api_request_log *l);

#endif
