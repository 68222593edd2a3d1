#include "api/request_log.h"

#include "core/log.h"
#include "core/row_queue.h"
#include "core/ticker.h"

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
    bl_row_queue *rows;
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
    if (!(l->rows = bl_row_queue_new(sizeof(row), BL_API_REQUEST_LOG_CAP))) {
        free(l);
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        return NULL;
    }
    return l;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

void bl_api_request_log_record(bl_api_request_log *l, const bl_api_request_entry *e)
{
    row r;
    copy(r.org_id, sizeof r.org_id, e->org_id);
    copy(r.key_id, sizeof r.key_id, e->key_id);
    copy(r.user_id, sizeof r.user_id, e->user_id);
    copy(r.request_id, sizeof r.request_id, e->request_id);
    copy(r.method, sizeof r.method, e->method);
    copy(r.route, sizeof r.route, e->route);
    r.status = e->status;
    r.duration_us = e->duration_us;
    bl_row_queue_push(l->rows, &r);
}

uint64_t bl_api_request_log_dropped(bl_api_request_log *l)
{
    return bl_row_queue_dropped(l->rows);
}

/* Inserts n rows (n <= ROWS_PER_INSERT) in one statement. */
static int insert_rows(PGconn *conn, const void *batch, size_t n, void *ctx, bl_err *err)
{
    (void)ctx;
    const row *rows = batch;
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

int bl_api_request_log_flush(bl_api_request_log *l, bl_err *err)
{
    return bl_row_queue_drain(l->rows, l->pool, ROWS_PER_INSERT, insert_rows, NULL, err);
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
    bl_row_queue_free(l->rows);
    free(l);
}
