#include "api/request_log.h"

#include "core/log.h"
#include "core/ticker.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROWS_PER_INSERT 500
#define COLS 8

typedef struct row {
    char org_id[40], key_id[40], user_id[40];
    char request_id[80], method[12], route[160];
    int status;
    int64_t duration_us;
} row;

struct bl_api_request_log {
    bl_pg_pool *pool;
    unsigned flush_ms;
    pthread_mutex_t lock; /* guards rows, count, cap, dropped */
    row *rows;
    size_t count, cap;
    uint64_t dropped;
    pthread_mutex_t flush_lock; /* one flush at a time */
    bl_ticker *writer; /* NULL until started */
};

bl_api_request_log *bl_api_request_log_new(bl_pg_pool *pool, unsigned flush_ms, bl_err *err)
{
    bl_api_request_log *l = calloc(1, sizeof *l);
    if (!l) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        return NULL;
    }
    l->pool = pool;
    l->flush_ms = flush_ms ? flush_ms : 500;
    pthread_mutex_init(&l->lock, NULL);
    pthread_mutex_init(&l->flush_lock, NULL);
    return l;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

void bl_api_request_log_record(bl_api_request_log *l, const bl_api_request_entry *e)
{
    pthread_mutex_lock(&l->lock);
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        row *grown = cap <= BL_API_REQUEST_LOG_CAP ? realloc(l->rows, cap * sizeof *grown) : NULL;
        if (!grown) {
            l->dropped++;
            pthread_mutex_unlock(&l->lock);
            return;
        }
        l->rows = grown;
        l->cap = cap;
    }
    row *r = &l->rows[l->count++];
    copy(r->org_id, sizeof r->org_id, e->org_id);
    copy(r->key_id, sizeof r->key_id, e->key_id);
    copy(r->user_id, sizeof r->user_id, e->user_id);
    copy(r->request_id, sizeof r->request_id, e->request_id);
    copy(r->method, sizeof r->method, e->method);
    copy(r->route, sizeof r->route, e->route);
    r->status = e->status;
    r->duration_us = e->duration_us;
    pthread_mutex_unlock(&l->lock);
}

uint64_t bl_api_request_log_dropped(bl_api_request_log *l)
{
    pthread_mutex_lock(&l->lock);
    uint64_t d = l->dropped;
    pthread_mutex_unlock(&l->lock);
    return d;
}

/* Inserts n rows (n <= ROWS_PER_INSERT) in one statement. */
static int insert_rows(PGconn *conn, const row *rows, size_t n, bl_err *err)
{
    char *text = malloc(256 + n * 128); /* a row's placeholders take under 100 */
    const char **params = malloc(n * COLS * sizeof *params);
    char (*nums)[2][24] = malloc(n * sizeof *nums);
    int rc = -1;
    if (!text || !params || !nums) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        goto done;
    }
    size_t off = (size_t)sprintf(text, "INSERT INTO api_request_log (organization_id, key_id, user_id,"
                                       " request_id, method, route, status, duration_us) VALUES ");
    for (size_t i = 0; i < n; i++) {
        size_t p = i * COLS;
        off += (size_t)sprintf(text + off, "%s($%zu::uuid,$%zu::uuid,$%zu::uuid,$%zu,$%zu,$%zu,$%zu::int,$%zu::bigint)",
                               i ? "," : "", p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7, p + 8);
        snprintf(nums[i][0], sizeof nums[i][0], "%d", rows[i].status);
        snprintf(nums[i][1], sizeof nums[i][1], "%lld", (long long)rows[i].duration_us);
        params[p] = rows[i].org_id[0] ? rows[i].org_id : NULL;
        params[p + 1] = rows[i].key_id[0] ? rows[i].key_id : NULL;
        params[p + 2] = rows[i].user_id[0] ? rows[i].user_id : NULL;
        params[p + 3] = rows[i].request_id;
        params[p + 4] = rows[i].method;
        params[p + 5] = rows[i].route;
        params[p + 6] = nums[i][0];
        params[p + 7] = nums[i][1];
    }
    rc = bl_pg_exec_cmd(conn, text, (int)(n * COLS), params, err);
done:
    free(text);
    free(params);
    free(nums);
    return rc;
}

/* Puts rows that could not be written back in front of the buffer. */
static void requeue(bl_api_request_log *l, const row *rows, size_t n)
{
    pthread_mutex_lock(&l->lock);
    size_t room = BL_API_REQUEST_LOG_CAP > l->count ? BL_API_REQUEST_LOG_CAP - l->count : 0;
    size_t keep = n < room ? n : room;
    row *grown = keep ? realloc(l->rows, (l->count + keep) * sizeof *grown) : l->rows;
    if (grown) {
        l->rows = grown;
        memmove(l->rows + keep, l->rows, l->count * sizeof *l->rows);
        memcpy(l->rows, rows, keep * sizeof *rows);
        l->count += keep;
        l->cap = l->count;
        l->dropped += n - keep;
    } else {
        l->dropped += n;
    }
    pthread_mutex_unlock(&l->lock);
}

int bl_api_request_log_flush(bl_api_request_log *l, bl_err *err)
{
    pthread_mutex_lock(&l->flush_lock);
    pthread_mutex_lock(&l->lock);
    row *rows = l->rows;
    size_t n = l->count;
    l->rows = NULL;
    l->count = l->cap = 0;
    pthread_mutex_unlock(&l->lock);
    int rc = 0;
    size_t done = 0;
    if (n > 0) {
        PGconn *conn = bl_pg_pool_acquire(l->pool, 5000, err);
        rc = conn ? 0 : -1;
        while (rc == 0 && done < n) {
            size_t chunk = n - done < ROWS_PER_INSERT ? n - done : ROWS_PER_INSERT;
            rc = insert_rows(conn, rows + done, chunk, err);
            if (rc == 0)
                done += chunk;
        }
        bl_pg_pool_release(l->pool, conn);
        if (done < n)
            requeue(l, rows + done, n - done);
    }
    free(rows);
    pthread_mutex_unlock(&l->flush_lock);
    return rc;
}

static void write_now(void *arg)
{
    bl_err err = {0};
    if (bl_api_request_log_flush(arg, &err) != 0)
        bl_log_warn("api: request log not written yet", BL_FS("error", err.msg));
}

int bl_api_request_log_start(bl_api_request_log *l, bl_err *err)
{
    l->writer = bl_ticker_start(l->flush_ms, BL_TICKER_AFTER_A_PERIOD, write_now, l, "api: the request log writer", err);
    return l->writer ? 0 : -1;
}

void bl_api_request_log_free(bl_api_request_log *l)
{
    if (!l)
        return;
    bl_ticker_stop(l->writer);
    bl_err err = {0};
    if (bl_api_request_log_flush(l, &err) != 0)
        bl_log_warn("api: request log rows lost at stop", BL_FS("error", err.msg));
    free(l->rows);
    pthread_mutex_destroy(&l->flush_lock);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
