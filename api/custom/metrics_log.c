/* The custom endpoints' call metrics, queued and written in batches (see
 * metrics_log.h). */
#include "api/custom/metrics_log.h"

#include "core/log.h"
#include "core/row_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COLS 12

typedef struct row {
    char api_id[40], org_id[40], caller[200], agent[BL_CUSTOM_METRICS_AGENT_MAX + 1], ip[64];
    char error[BL_CUSTOM_METRICS_ERROR_MAX + 1], request_id[80];
    int64_t at_ms, request_size, response_size;
    double response_time_ms;
    int status;
} row;

struct bl_custom_metrics_log {
    bl_pg_pool *pool;
    size_t batch_rows;
    unsigned flush_ms;
    bl_row_queue *rows;
    pthread_mutex_t lock; /* guards stopping; the writer waits on wake under it */
    pthread_cond_t wake;
    bool stopping;
    pthread_t writer;
    bool writer_on;
};

/* Copies src into dst (cap bytes) keeping printable ASCII only: the column
 * is text, and a header's stray byte must not fail a whole batch. */
static void copy_clean(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    for (; src && src[n] && n + 1 < cap; n++) {
        unsigned char c = (unsigned char)src[n];
        dst[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[n] = '\0';
}

int bl_custom_metrics_record(bl_custom_metrics_log *l, const bl_custom_metric *m)
{
    if (!l || !m->custom_api_id || !m->custom_api_id[0] || !m->organization_id || !m->organization_id[0])
        return 0;
    row r;
    copy_clean(r.api_id, sizeof r.api_id, m->custom_api_id);
    copy_clean(r.org_id, sizeof r.org_id, m->organization_id);
    copy_clean(r.caller, sizeof r.caller, m->caller);
    copy_clean(r.agent, sizeof r.agent, m->user_agent);
    copy_clean(r.ip, sizeof r.ip, m->ip_address);
    copy_clean(r.error, sizeof r.error, m->error_message);
    copy_clean(r.request_id, sizeof r.request_id, m->request_id);
    r.at_ms = m->at_ms;
    r.request_size = m->request_size;
    r.response_size = m->response_size;
    r.response_time_ms = m->response_time_ms >= 0 ? m->response_time_ms : 0;
    r.status = m->status_code;
    size_t queued = bl_row_queue_push(l->rows, &r);
    if (queued >= l->batch_rows) { /* a batch waits: the writer need not wait for its period */
        pthread_mutex_lock(&l->lock);
        pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->lock);
    }
    return queued > 0;
}

uint64_t bl_custom_metrics_dropped(bl_custom_metrics_log *l)
{
    return bl_row_queue_dropped(l->rows);
}

size_t bl_custom_metrics_queued(bl_custom_metrics_log *l)
{
    return bl_row_queue_count(l->rows);
}

static const char *or_null(const char *s)
{
    return s[0] ? s : NULL;
}

/* Inserts n rows (n <= batch_rows) in one statement. */
static int insert_rows(PGconn *conn, const void *batch, size_t n, void *ctx, bl_err *err)
{
    (void)ctx;
    const row *rows = batch;
    char *text = malloc(256 + n * 160); /* a row's placeholders take under 150 bytes */
    const char **params = malloc(n * COLS * sizeof *params);
    char (*nums)[5][32] = malloc(n * sizeof *nums);
    int rc = -1;
    if (!text || !params || !nums) {
        bl_err_set(err, BL_ENOMEM, "custom api metrics: out of memory");
        goto done;
    }
    size_t off = (size_t)sprintf(text, "INSERT INTO custom_api_metrics (custom_api_id, organization_id, recorded_at,"
                                       " response_time_ms, status_code, request_size, response_size, caller,"
                                       " user_agent, ip_address, error_message, request_id) VALUES ");
    for (size_t i = 0; i < n; i++) {
        size_t p = i * COLS;
        const row *r = &rows[i];
        off += (size_t)sprintf(text + off,
                               "%s($%zu::uuid,$%zu::uuid,to_timestamp($%zu::float8/1000),$%zu::float8,$%zu::int,"
                               "$%zu::bigint,$%zu::bigint,$%zu,$%zu,$%zu,$%zu,$%zu)",
                               i ? "," : "", p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7, p + 8, p + 9, p + 10,
                               p + 11, p + 12);
        snprintf(nums[i][0], sizeof nums[i][0], "%lld", (long long)r->at_ms);
        snprintf(nums[i][1], sizeof nums[i][1], "%.3f", r->response_time_ms);
        snprintf(nums[i][2], sizeof nums[i][2], "%d", r->status);
        snprintf(nums[i][3], sizeof nums[i][3], "%lld", (long long)r->request_size);
        snprintf(nums[i][4], sizeof nums[i][4], "%lld", (long long)r->response_size);
        const char *values[COLS] = {r->api_id,   r->org_id,
                                        nums[i][0],  nums[i][1],
                                        nums[i][2],  r->request_size >= 0 ? nums[i][3] : NULL,
                                        r->response_size >= 0 ? nums[i][4] : NULL,
                                        or_null(r->caller), or_null(r->agent), or_null(r->ip),
                                        or_null(r->error), or_null(r->request_id)};
        memcpy(params + p, values, sizeof values);
    }
    rc = bl_pg_exec_cmd(conn, text, (int)(n * COLS), params, err);
done:
    free(text);
    free(params);
    free(nums);
    return rc;
}

int bl_custom_metrics_flush(bl_custom_metrics_log *l, bl_err *err)
{
    return bl_row_queue_drain(l->rows, l->pool, l->batch_rows, insert_rows, NULL, err);
}

/* The monotonic time ms from now, for pthread_cond_timedwait on wake (a
 * monotonic condition: a wall clock set back does not stall the writer). */
static struct timespec deadline_in(unsigned ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Every flush_ms, or as soon as batch_rows wait: a flush; after a failed
 * one, a whole period before the next try. Stopping wakes it at once (the
 * last flush is bl_custom_metrics_free's). */
static void *writer_main(void *arg)
{
    bl_custom_metrics_log *l = arg;
    bool failed = false;
    pthread_mutex_lock(&l->lock);
    while (!l->stopping) {
        struct timespec until = deadline_in(l->flush_ms);
        int w = 0;
        while (!l->stopping && (failed || bl_row_queue_count(l->rows) < l->batch_rows) && w != ETIMEDOUT)
            w = pthread_cond_timedwait(&l->wake, &l->lock, &until);
        if (l->stopping || bl_row_queue_count(l->rows) == 0)
            continue;
        pthread_mutex_unlock(&l->lock);
        bl_err err = {0};
        failed = bl_custom_metrics_flush(l, &err) != 0;
        if (failed)
            bl_log_warn("custom api: call metrics not written yet", BL_FS("error", err.msg));
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

bl_custom_metrics_log *bl_custom_metrics_new(const bl_custom_metrics_opts *opts, bl_err *err)
{
    if (!opts->pool) {
        bl_err_set(err, BL_EINVAL, "custom api metrics: a database pool is required");
        return NULL;
    }
    bl_custom_metrics_log *l = calloc(1, sizeof *l);
    if (!l) {
        bl_err_set(err, BL_ENOMEM, "custom api metrics: out of memory");
        return NULL;
    }
    l->pool = opts->pool;
    l->batch_rows = opts->batch_rows ? opts->batch_rows : 500;
    l->flush_ms = opts->flush_ms ? opts->flush_ms : 500;
    if (!(l->rows = bl_row_queue_new(sizeof(row), opts->capacity ? opts->capacity : BL_CUSTOM_METRICS_QUEUE_DEFAULT))) {
        free(l);
        bl_err_set(err, BL_ENOMEM, "custom api metrics: out of memory");
        return NULL;
    }
    pthread_mutex_init(&l->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (opts->start_writer) {
        if (pthread_create(&l->writer, NULL, writer_main, l) != 0) {
            bl_err_set(err, BL_EIO, "custom api metrics: the writer thread did not start");
            bl_custom_metrics_free(l);
            return NULL;
        }
        l->writer_on = true;
    }
    return l;
}

void bl_custom_metrics_free(bl_custom_metrics_log *l)
{
    if (!l)
        return;
    if (l->writer_on) {
        pthread_mutex_lock(&l->lock);
        l->stopping = true;
        pthread_cond_broadcast(&l->wake);
        pthread_mutex_unlock(&l->lock);
        pthread_join(l->writer, NULL);
    }
    bl_err err = {0};
    if (bl_custom_metrics_flush(l, &err) != 0)
        bl_log_warn("custom api: call metrics lost at stop", BL_FS("error", err.msg));
    bl_row_queue_free(l->rows);
    pthread_cond_destroy(&l->wake);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
