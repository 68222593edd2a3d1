#include "core/pg_listener.h"

#include "core/log.h"
#include "core/pg_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECONNECT_PAUSE_MS 1000

struct bl_pg_listener {
    char *conninfo, *channel, *what;
    bl_pg_listener_load_fn load;
    bl_pg_listener_notify_fn notify;
    void *ctx;
    PGconn *conn; /* the listener thread's, once started */
    int wake_pipe[2];
    pthread_t thread;
    bool thread_running;
    atomic_bool stopping;
    atomic_bool listening; /* connected, LISTENing, loaded */
};

/* Connects, LISTENs, then loads: in that order, so a change committed in
 * between is seen by one or the other. */
static PGconn *connect_and_load(bl_pg_listener *l, bl_err *err)
{
    PGconn *conn = bl_pg_connect(l->conninfo, err);
    if (!conn)
        return NULL;
    char sql[160];
    snprintf(sql, sizeof sql, "LISTEN %s", l->channel);
    if (bl_pg_exec_cmd(conn, sql, 0, NULL, err) != 0 || l->load(conn, l->ctx, err) != 0) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* Hands every notification read to notify. Returns 0, or -1 when the
 * connection broke. */
static int drain(bl_pg_listener *l)
{
    if (!PQconsumeInput(l->conn))
        return -1;
    PGnotify *note;
    while ((note = PQnotifies(l->conn)) != NULL) {
        l->notify(l->conn, note->extra, l->ctx);
        PQfreemem(note);
    }
    return PQstatus(l->conn) == CONNECTION_OK ? 0 : -1;
}

static void wait_readable(bl_pg_listener *l, int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = l->wake_pipe[0], .events = POLLIN}};
    nfds_t n = 1;
    if (l->conn && PQsocket(l->conn) >= 0)
        fds[n++] = (struct pollfd){.fd = PQsocket(l->conn), .events = POLLIN};
    if (poll(fds, n, timeout_ms) < 0)
        return;
    char buf[16];
    while (read(l->wake_pipe[0], buf, sizeof buf) > 0)
        ;
}

static void *listen_loop(void *arg)
{
    bl_pg_listener *l = arg;
    while (!atomic_load(&l->stopping)) {
        if (!l->conn) {
            bl_err err = {0};
            if (!(l->conn = connect_and_load(l, &err))) {
                bl_log_warn("pg listener cannot reconnect", BL_FS("listener", l->what), BL_FS("error", err.msg));
                wait_readable(l, RECONNECT_PAUSE_MS);
                continue;
            }
            atomic_store(&l->listening, true);
            bl_log_info("pg listener reconnected (state reloaded)", BL_FS("listener", l->what));
        }
        if (drain(l) != 0) {
            atomic_store(&l->listening, false);
            bl_log_warn("pg listener lost its connection", BL_FS("listener", l->what),
                        BL_FS("error", PQerrorMessage(l->conn)));
            PQfinish(l->conn);
            l->conn = NULL;
            continue;
        }
        wait_readable(l, -1);
    }
    return NULL;
}

bl_pg_listener *bl_pg_listener_start(const char *conninfo, const char *channel, const char *what,
                                     bl_pg_listener_load_fn load, bl_pg_listener_notify_fn notify, void *ctx,
                                     bl_err *err)
{
    bl_pg_listener *l = calloc(1, sizeof *l);
    if (!l) {
        bl_err_set(err, BL_ENOMEM, "%s: out of memory", what);
        return NULL;
    }
    l->wake_pipe[0] = l->wake_pipe[1] = -1;
    l->load = load;
    l->notify = notify;
    l->ctx = ctx;
    l->conninfo = strdup(conninfo ? conninfo : "");
    l->channel = strdup(channel);
    l->what = strdup(what);
    if (!l->conninfo || !l->channel || !l->what) {
        bl_err_set(err, BL_ENOMEM, "%s: out of memory", what);
        goto fail;
    }
    if (pipe2(l->wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        bl_err_set(err, BL_EIO, "%s: pipe: %s", what, strerror(errno));
        goto fail;
    }
    if (!(l->conn = connect_and_load(l, err))) {
        bl_err_wrap(err, "%s", what);
        goto fail;
    }
    if (pthread_create(&l->thread, NULL, listen_loop, l) != 0) {
        bl_err_set(err, BL_EIO, "%s: cannot start its thread", what);
        goto fail;
    }
    l->thread_running = true;
    atomic_store(&l->listening, true);
    return l;
fail:
    bl_pg_listener_stop(l);
    return NULL;
}

bool bl_pg_listener_listening(bl_pg_listener *l)
{
    return l && atomic_load(&l->listening);
}

void bl_pg_listener_stop(bl_pg_listener *l)
{
    if (!l)
        return;
    if (l->thread_running) {
        atomic_store(&l->stopping, true);
        char one = 1;
        ssize_t n = write(l->wake_pipe[1], &one, 1);
        (void)n; /* a full pipe already wakes the loop */
        pthread_join(l->thread, NULL);
    }
    PQfinish(l->conn);
    for (int i = 0; i < 2; i++)
        if (l->wake_pipe[i] >= 0)
            close(l->wake_pipe[i]);
    free(l->conninfo);
    free(l->channel);
    free(l->what);
    free(l);
}
