/* A bounded in-memory queue of fixed-size rows on their way to PostgreSQL
 * in batches (the API's request log, the custom endpoints' call metrics):
 * push copies a row and never waits on I/O; when the queue holds capacity
 * rows the new one is dropped and counted. A drain takes every queued row
 * at once and writes them in chunks; the rows a write failed to store go
 * back in front of the queue while there is room (the rest are dropped and
 * counted). Thread-safe. */
#ifndef BUSLINE_CORE_ROW_QUEUE_H
#define BUSLINE_CORE_ROW_QUEUE_H

#include "core/err.h"
#include "core/pg_pool.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bl_row_queue bl_row_queue;

/* Returns an empty queue of rows of row_size bytes holding at most
 * capacity (>= 1), or NULL when out of memory. Memory grows with use. */
bl_row_queue *bl_row_queue_new(size_t row_size, size_t capacity);

/* Frees q and any rows left in it. Accepts NULL. */
void bl_row_queue_free(bl_row_queue *q);

/* Copies row (row_size bytes, borrowed) to the back. Returns the rows queued
 * after it, or 0 when it was dropped (full, or out of memory) and counted. */
size_t bl_row_queue_push(bl_row_queue *q, const void *row);

/* Writes n rows (n <= the drain's chunk) on conn; returns 0 or -1 with err. */
typedef int (*bl_row_queue_write_fn)(PGconn *conn, const void *rows, size_t n, void *ctx, bl_err *err);

/* Takes every queued row and writes them through write in chunks of at most
 * chunk rows on one connection of pool (waiting up to 5 s for it); what is
 * not written goes back in front. One drain at a time. Returns 0, or -1 with
 * err. */
int bl_row_queue_drain(bl_row_queue *q, bl_pg_pool *pool, size_t chunk, bl_row_queue_write_fn write, void *ctx,
                       bl_err *err);

/* Rows queued now; rows dropped so far. */
size_t bl_row_queue_count(bl_row_queue *q);
uint64_t bl_row_queue_dropped(bl_row_queue *q);

#endif
