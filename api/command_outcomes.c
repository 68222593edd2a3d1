#include "api/command_outcomes.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/pg_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHANNEL "busline_command_outcome"
#define RECONNECT_PAUSE_MS 1000
#define COMMAND_ID_MAX BL_API_OUTCOME_ID_MAX

struct bl_api_outcome_waiter {
    char command_id[COMMAND_ID_MAX];
    bool settled;
    bl_api_command_outcome outcome;
    pthread_cond_t cond;
    struct bl_api_outcome_waiter *next;
};

struct bl_api_outcomes {
    char *conninfo;
    PGconn *conn; /* the listener thread's, after new() */
    pthread_mutex_t mu;
    bl_api_outcome_waiter *waiters;
    int wake_pipe[2];
    pthread_t thread;
    bool thread_running;
    volatile bool stopping;
    bl_api_outcome_recheck_fn recheck;
    void *recheck_ctx;
};

/* Connects and LISTENs. Returns the connection or NULL with err. */
static PGconn *listen_connection(const char *conninfo, bl_err *err)
{
    PGconn *conn = bl_pg_connect(conninfo, err);
    if (conn && bl_pg_exec_cmd(conn, "LISTEN " CHANNEL, 0, NULL, err) != 0) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* Reads one NOTIFY payload into an outcome. Returns 0 with command_id set
 * (borrowed from the parsed json, which the caller frees), or -1 for a
 * payload that is not an outcome. */
static int parse_outcome(const char *payload, json_t **json, const char **command_id,
                         bl_api_command_outcome *out)
{
    memset(out, 0, sizeof *out);
    *json = json_loads(payload, 0, NULL);
    const char *kind = json_string_value(json_object_get(*json, "outcome"));
    *command_id = json_string_value(json_object_get(*json, "command_id"));
    if (!kind || !*command_id)
        return -1;
    if (strcmp(kind, "applied") == 0) {
        out->kind = BL_API_OUTCOME_APPLIED;
        out->events = (long)json_integer_value(json_object_get(*json, "events"));
        return 0;
    }
    if (strcmp(kind, "refused") != 0)
        return -1;
    out->kind = BL_API_OUTCOME_REFUSED;
    const char *cls = json_string_value(json_object_get(*json, "error_class"));
    const char *reason = json_string_value(json_object_get(*json, "reason"));
    snprintf(out->error_class, sizeof out->error_class, "%s", cls ? cls : "invalid");
    snprintf(out->reason, sizeof out->reason, "%s", reason ? reason : "");
    return 0;
}

/* Settles every notification libpq has read. Returns 0, or -1 when the
 * connection broke. */
static int drain(bl_api_outcomes *o)
{
    if (!PQconsumeInput(o->conn))
        return -1;
    PGnotify *note;
    while ((note = PQnotifies(o->conn)) != NULL) {
        json_t *json = NULL;
        const char *id = NULL;
        bl_api_command_outcome outcome;
        if (parse_outcome(note->extra, &json, &id, &outcome) == 0)
            bl_api_outcomes_settle(o, id, &outcome);
        else
            bl_log_warn("api: command outcome not understood", BL_FS("payload", note->extra));
        json_decref(json);
        PQfreemem(note);
    }
    return 0;
}

/* Waits up to timeout_ms (-1: no limit) for the wake pipe or, with a
 * connection, its socket to be readable. */
static void wait_readable(bl_api_outcomes *o, int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = o->wake_pipe[0], .events = POLLIN}};
    nfds_t n = 1;
    if (o->conn && PQsocket(o->conn) >= 0)
        fds[n++] = (struct pollfd){.fd = PQsocket(o->conn), .events = POLLIN};
    if (poll(fds, n, timeout_ms) < 0)
        return;
    char buf[16];
    while (read(o->wake_pipe[0], buf, sizeof buf) > 0)
        ;
}

/* After a reconnect: the waiters still unsettled may have missed their
 * announcement; their outcome, if any, is in the tables. LISTEN is already
 * on again, so an outcome recorded after this read is announced. */
static void recheck_waiters(bl_api_outcomes *o)
{
    if (!o->recheck)
        return;
    size_t n = 0, cap = 0;
    char (*ids)[COMMAND_ID_MAX] = NULL;
    pthread_mutex_lock(&o->mu);
    for (bl_api_outcome_waiter *w = o->waiters; w; w = w->next)
        if (!w->settled)
            cap++;
    if (cap && (ids = malloc(cap * sizeof *ids)))
        for (bl_api_outcome_waiter *w = o->waiters; w && n < cap; w = w->next)
            if (!w->settled)
                memcpy(ids[n++], w->command_id, COMMAND_ID_MAX);
    pthread_mutex_unlock(&o->mu);
    for (size_t i = 0; i < n; i++) {
        bl_api_command_outcome out = {0};
        if (o->recheck(o->recheck_ctx, ids[i], &out) == 1)
            bl_api_outcomes_settle(o, ids[i], &out);
    }
    if (cap && !ids)
        bl_log_warn("api: pending commands not re-checked after reconnect: out of memory");
    free(ids);
}

static void *listen_loop(void *arg)
{
    bl_api_outcomes *o = arg;
    while (!__atomic_load_n(&o->stopping, __ATOMIC_ACQUIRE)) {
        if (!o->conn) {
            bl_err err = {0};
            if (!(o->conn = listen_connection(o->conninfo, &err))) {
                bl_log_warn("api: command outcome listener cannot reconnect", BL_FS("error", err.msg));
                wait_readable(o, RECONNECT_PAUSE_MS);
                continue;
            }
            bl_log_info("api: command outcome listener reconnected");
            recheck_waiters(o);
        }
        /* drained before waiting: libpq may hold notifications it read with
         * the LISTEN's answer, and the socket would not wake us for them */
        if (drain(o) != 0) {
            bl_log_warn("api: command outcome listener lost its connection",
                        BL_FS("error", PQerrorMessage(o->conn)));
            PQfinish(o->conn);
            o->conn = NULL;
            continue;
        }
        wait_readable(o, -1);
    }
    return NULL;
}

bl_api_outcomes *bl_api_outcomes_new(const char *conninfo, bl_api_outcome_recheck_fn recheck, void *recheck_ctx,
                                     bl_err *err)
{
    bl_api_outcomes *o = calloc(1, sizeof *o);
    if (!o) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        return NULL;
    }
    o->wake_pipe[0] = o->wake_pipe[1] = -1;
    o->recheck = recheck;
    o->recheck_ctx = recheck_ctx;
    pthread_mutex_init(&o->mu, NULL);
    if (!(o->conninfo = strdup(conninfo ? conninfo : ""))) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        goto fail;
    }
    if (pipe2(o->wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        bl_err_set(err, BL_EIO, "api: outcome listener pipe: %s", strerror(errno));
        goto fail;
    }
    if (!(o->conn = listen_connection(o->conninfo, err))) {
        bl_err_wrap(err, "api: command outcome listener");
        goto fail;
    }
    if (pthread_create(&o->thread, NULL, listen_loop, o) != 0) {
        bl_err_set(err, BL_EIO, "api: cannot start the command outcome listener");
        goto fail;
    }
    o->thread_running = true;
    return o;
fail:
    bl_api_outcomes_free(o);
    return NULL;
}

void bl_api_outcomes_free(bl_api_outcomes *o)
{
    if (!o)
        return;
    if (o->thread_running) {
        __atomic_store_n(&o->stopping, true, __ATOMIC_RELEASE);
        char one = 1;
        ssize_t n = write(o->wake_pipe[1], &one, 1);
        (void)n; /* a full pipe already wakes the loop */
        pthread_join(o->thread, NULL);
    }
    PQfinish(o->conn);
    for (int i = 0; i < 2; i++)
        if (o->wake_pipe[i] >= 0)
            close(o->wake_pipe[i]);
    pthread_mutex_destroy(&o->mu);
    free(o->conninfo);
    free(o);
}

bl_api_outcome_waiter *bl_api_outcomes_register(bl_api_outcomes *o, const char *command_id, bl_err *err)
{
    if (!command_id || strlen(command_id) >= COMMAND_ID_MAX) {
        bl_err_set(err, BL_EINVAL, "api: command id missing or too long to wait on");
        return NULL;
    }
    bl_api_outcome_waiter *w = calloc(1, sizeof *w);
    if (!w) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        return NULL;
    }
    snprintf(w->command_id, sizeof w->command_id, "%s", command_id);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_lock(&o->mu);
    w->next = o->waiters;
    o->waiters = w;
    pthread_mutex_unlock(&o->mu);
    return w;
}

int bl_api_outcomes_wait(bl_api_outcomes *o, bl_api_outcome_waiter *w, int timeout_ms,
                         bl_api_command_outcome *out)
{
    struct timespec until = bl_clock_deadline_after_ms(CLOCK_MONOTONIC, timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&o->mu);
    while (!w->settled)
        if (pthread_cond_timedwait(&w->cond, &o->mu, &until) == ETIMEDOUT)
            break;
    int got = w->settled;
    if (got)
        *out = w->outcome;
    else
        memset(out, 0, sizeof *out);
    pthread_mutex_unlock(&o->mu);
    return got;
}

void bl_api_outcomes_settle(bl_api_outcomes *o, const char *command_id, const bl_api_command_outcome *outcome)
{
    pthread_mutex_lock(&o->mu);
    for (bl_api_outcome_waiter *w = o->waiters; w; w = w->next) {
        if (strcmp(w->command_id, command_id) != 0 || w->settled)
            continue;
        w->outcome = *outcome;
        w->settled = true;
        pthread_cond_signal(&w->cond);
    }
    pthread_mutex_unlock(&o->mu);
}

void bl_api_outcomes_release(bl_api_outcomes *o, bl_api_outcome_waiter *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&o->mu);
    for (bl_api_outcome_waiter **p = &o->waiters; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    pthread_mutex_unlock(&o->mu);
    pthread_cond_destroy(&w->cond);
    free(w);
}
