#include "api/command_rows.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLUMNS 7
#define ACQUIRE_TIMEOUT_MS 5000

/* One request waiting for its row: on the requester's stack, linked into
 * the queue until the writer has settled it. */
typedef struct waiter {
    const char *const *row;
    struct waiter *next;
    bool done;
    int rc;
    bl_err err;
} waiter;

struct bl_api_command_rows {
    bl_pg_pool *pool;
    pthread_mutex_t mu;
    pthread_cond_t work, settled;
    waiter *head, *tail;
    bool stopping;
    pthread_t thread;
};

/* The rows are bookkeeping written after Kafka's ack, committed without
 * waiting for their WAL flush, as api/command_send.c explains. */
#define INSERT_HEAD                                                                                     \
    "INSERT INTO api_commands (command_id, organization_id, command_type, topic, subject,"            \
    " request_sha256, state, response, accepted_at)"                                                  \
    " SELECT v.c::uuid, v.o::uuid, v.t, v.tp, v.s, v.h, 'accepted', v.r, now()"                      \
    " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS without_flush, (VALUES "
#define INSERT_TAIL ") AS v(c, o, t, tp, s, h, r)"

/* One INSERT of the n rows of batch over conn. Returns 0, or -1 with err. */
static int insert_rows(PGconn *conn, waiter **batch, size_t n, bl_err *err)
{
    size_t cap = sizeof INSERT_HEAD + sizeof INSERT_TAIL + n * (COLUMNS * 8 + 4);
    char *sql = malloc(cap);
    const char **params = malloc(n * COLUMNS * sizeof *params);
    if (!sql || !params) {
        free(sql);
        free(params);
        return bl_err_set(err, BL_ENOMEM, "api: command rows: out of memory");
    }
    size_t at = (size_t)snprintf(sql, cap, "%s", INSERT_HEAD);
    for (size_t i = 0; i < n; i++) {
        at += (size_t)snprintf(sql + at, cap - at, "%s(", i ? ", " : "");
        for (size_t col = 0; col < COLUMNS; col++) {
            params[i * COLUMNS + col] = batch[i]->row[col];
            at += (size_t)snprintf(sql + at, cap - at, "%s$%zu", col ? ", " : "", i * COLUMNS + col + 1);
        }
        at += (size_t)snprintf(sql + at, cap - at, ")");
    }
    snprintf(sql + at, cap - at, "%s", INSERT_TAIL);
    /* a few batch sizes recur under a steady load: those are kept prepared */
    PGresult *r = n <= 8 ? bl_pg_exec_prepared(conn, sql, (int)(n * COLUMNS), params, err)
                         : bl_pg_exec(conn, sql, (int)(n * COLUMNS), params, err);
    int rc = r ? 0 : -1;
    PQclear(r);
    free(sql);
    free(params);
    return rc;
}

/* Writes batch, settling each waiter's rc and err. */
static void write_batch(bl_api_command_rows *w, waiter **batch, size_t n)
{
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(w->pool, ACQUIRE_TIMEOUT_MS, &err);
    int rc = conn ? insert_rows(conn, batch, n, &err) : -1;
    if (rc != 0 && conn && n > 1) {
        /* one row may be what PostgreSQL refused: each on its own */
        for (size_t i = 0; i < n; i++)
            batch[i]->rc = insert_rows(conn, &batch[i], 1, &batch[i]->err);
    } else {
        for (size_t i = 0; i < n; i++) {
            batch[i]->rc = rc;
            batch[i]->err = err;
        }
    }
    bl_pg_pool_release(w->pool, conn);
}

static void *writer_main(void *arg)
{
    bl_api_command_rows *w = arg;
    waiter *batch[BL_API_COMMAND_ROWS_BATCH_MAX];
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->work, &w->mu);
        if (!w->head)
            break;
        size_t n = 0;
        while (w->head && n < BL_API_COMMAND_ROWS_BATCH_MAX) {
            batch[n++] = w->head;
            w->head = w->head->next;
        }
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        write_batch(w, batch, n);
        pthread_mutex_lock(&w->mu);
        for (size_t i = 0; i < n; i++)
            batch[i]->done = true;
        pthread_cond_broadcast(&w->settled);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

bl_api_command_rows *bl_api_command_rows_new(bl_pg_pool *pool, bl_err *err)
{
    bl_api_command_rows *w = calloc(1, sizeof *w);
    if (!w) {
        bl_err_set(err, BL_ENOMEM, "api: command rows: out of memory");
        return NULL;
    }
    w->pool = pool;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->settled, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_cond_destroy(&w->settled);
        pthread_cond_destroy(&w->work);
        pthread_mutex_destroy(&w->mu);
        free(w);
        bl_err_set(err, BL_EIO, "api: command rows: cannot start the writer thread");
        return NULL;
    }
    return w;
}

void bl_api_command_rows_free(bl_api_command_rows *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL); /* the queue is written before it ends */
    pthread_cond_destroy(&w->settled);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

int bl_api_command_rows_write(bl_api_command_rows *w, const char *const row[7], bl_err *err)
{
    waiter me = {.row = row};
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        return bl_err_set(err, BL_EIO, "api: command rows: the writer is stopping");
    }
    if (w->tail)
        w->tail->next = &me;
    else
        w->head = &me;
    w->tail = &me;
    pthread_cond_signal(&w->work);
    while (!me.done)
        pthread_cond_wait(&w->settled, &w->mu);
    pthread_mutex_unlock(&w->mu);
    if (me.rc != 0)
        *err = me.err;
    return me.rc;
}
