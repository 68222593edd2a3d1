/* Rows queued for batched writes (see row_queue.h). */
#include "core/row_queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct bl_row_queue {
    size_t row_size, capacity;
    pthread_mutex_t lock; /* guards rows, count, cap, dropped */
    char *rows;
    size_t count, cap;
    uint64_t dropped;
    pthread_mutex_t drain_lock; /* one drain at a time */
};

bl_row_queue *bl_row_queue_new(size_t row_size, size_t capacity)
{
    bl_row_queue *q = row_size && capacity ? calloc(1, sizeof *q) : NULL;
    if (!q)
        return NULL;
    q->row_size = row_size;
    q->capacity = capacity;
    pthread_mutex_init(&q->lock, NULL);
    pthread_mutex_init(&q->drain_lock, NULL);
    return q;
}

void bl_row_queue_free(bl_row_queue *q)
{
    if (!q)
        return;
    free(q->rows);
    pthread_mutex_destroy(&q->drain_lock);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

size_t bl_row_queue_push(bl_row_queue *q, const void *row)
{
    pthread_mutex_lock(&q->lock);
    if (q->count == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        if (cap > q->capacity)
            cap = q->capacity;
        char *grown = cap > q->cap ? realloc(q->rows, cap * q->row_size) : NULL;
        if (!grown) {
            q->dropped++;
            pthread_mutex_unlock(&q->lock);
            return 0;
        }
        q->rows = grown;
        q->cap = cap;
    }
    memcpy(q->rows + q->count * q->row_size, row, q->row_size);
    size_t n = ++q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
}

/* Puts n rows back in front, as many as fit; the rest are dropped. */
static void requeue(bl_row_queue *q, const char *rows, size_t n)
{
    pthread_mutex_lock(&q->lock);
    size_t room = q->capacity > q->count ? q->capacity - q->count : 0;
    size_t keep = n < room ? n : room;
    char *grown = keep ? realloc(q->rows, (q->count + keep) * q->row_size) : NULL;
    if (grown) {
        q->rows = grown;
        memmove(q->rows + keep * q->row_size, q->rows, q->count * q->row_size);
        memcpy(q->rows, rows, keep * q->row_size);
        q->count += keep;
        q->cap = q->count;
        q->dropped += n - keep;
    } else {
        q->dropped += n;
    }
    pthread_mutex_unlock(&q->lock);
}

int bl_row_queue_drain(bl_row_queue *q, bl_pg_pool *pool, size_t chunk, bl_row_queue_write_fn write, void *ctx,
                       bl_err *err)
{
    pthread_mutex_lock(&q->drain_lock);
    pthread_mutex_lock(&q->lock);
    char *rows = q->rows;
    size_t n = q->count;
    q->rows = NULL;
    q->count = q->cap = 0;
    pthread_mutex_unlock(&q->lock);
    int rc = 0;
    size_t written = 0;
    if (n > 0) {
        PGconn *conn = bl_pg_pool_acquire(pool, 5000, err);
        rc = conn ? 0 : -1;
        while (rc == 0 && written < n) {
            size_t k = n - written < chunk ? n - written : chunk;
            rc = write(conn, rows + written * q->row_size, k, ctx, err);
            if (rc == 0)
                written += k;
        }
        bl_pg_pool_release(pool, conn);
        if (written < n)
            requeue(q, rows + written * q->row_size, n - written);
    }
    free(rows);
    pthread_mutex_unlock(&q->drain_lock);
    return rc;
}

size_t bl_row_queue_count(bl_row_queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
}

uint64_t bl_row_queue_dropped(bl_row_queue *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t d = q->dropped;
    pthread_mutex_unlock(&q->lock);
    return d;
}
