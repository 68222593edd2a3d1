#include "api/auth/revocations.h"

#include "core/log.h"
#include "core/pg_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECONNECT_PAUSE_MS 1000
#define SESSION_ID_MAX 64

typedef struct revoked {
    char id[SESSION_ID_MAX];
    time_t expires;
} revoked;

struct bl_session_revocations {
    char *conninfo;
    PGconn *conn; /* the listener thread's, after new() */
    pthread_mutex_t mu;
    revoked *items; /* unordered; expired ones are dropped when adding */
    size_t count, cap;
    int wake_pipe[2];
    pthread_t thread;
    bool thread_running;
    volatile bool stopping;
};

/* Adds id (or pushes its expiry later). Caller holds mu. */
static void add_locked(bl_session_revocations *r, const char *id, time_t expires, time_t now)
{
    size_t kept = 0;
    bool found = false;
    for (size_t i = 0; i < r->count; i++) {
        if (strcmp(r->items[i].id, id) == 0) {
            found = true;
            if (r->items[i].expires < expires)
                r->items[i].expires = expires;
        }
        if (r->items[i].expires > now)
            r->items[kept++] = r->items[i];
    }
    r->count = kept;
    if (found || strlen(id) >= SESSION_ID_MAX || expires <= now)
        return;
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        revoked *grown = realloc(r->items, cap * sizeof *grown);
        if (!grown) {
            bl_log_error("api: session revocation not kept: out of memory", BL_FS("session_id", id));
            return;
        }
        r->items = grown;
        r->cap = cap;
    }
    snprintf(r->items[r->count].id, SESSION_ID_MAX, "%s", id);
    r->items[r->count++].expires = expires;
}

/* Connects, LISTENs, then loads the table: in that order, so a revocation
 * committed in between is seen by one or the other. */
static PGconn *connect_and_load(bl_session_revocations *r, bl_err *err)
{
    PGconn *conn = bl_pg_connect(r->conninfo, err);
    if (!conn)
        return NULL;
    PGresult *res = NULL;
    if (bl_pg_exec_cmd(conn, "LISTEN " BL_SESSION_REVOCATION_CHANNEL, 0, NULL, err) != 0 ||
        !(res = bl_pg_exec(conn,
                           "SELECT session_id, extract(epoch FROM expires_at)::bigint FROM api_session_revocations"
                           " WHERE expires_at > now()",
                           0, NULL, err))) {
        PQfinish(conn);
        return NULL;
    }
    time_t now = time(NULL);
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < PQntuples(res); i++)
        add_locked(r, PQgetvalue(res, i, 0), (time_t)strtoll(PQgetvalue(res, i, 1), NULL, 10), now);
    pthread_mutex_unlock(&r->mu);
    PQclear(res);
    return conn;
}

/* Adds every notified id. Returns 0, or -1 when the connection broke. */
static int drain(bl_session_revocations *r)
{
    if (!PQconsumeInput(r->conn))
        return -1;
    PGnotify *note;
    while ((note = PQnotifies(r->conn)) != NULL) {
        time_t now = time(NULL);
        pthread_mutex_lock(&r->mu);
        add_locked(r, note->extra, now + BL_SESSION_REVOCATION_TTL_S, now);
        pthread_mutex_unlock(&r->mu);
        PQfreemem(note);
    }
    return 0;
}

static void wait_readable(bl_session_revocations *r, int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = r->wake_pipe[0], .events = POLLIN}};
    nfds_t n = 1;
    if (r->conn && PQsocket(r->conn) >= 0)
        fds[n++] = (struct pollfd){.fd = PQsocket(r->conn), .events = POLLIN};
    if (poll(fds, n, timeout_ms) < 0)
        return;
    char buf[16];
    while (read(r->wake_pipe[0], buf, sizeof buf) > 0)
        ;
}

static void *listen_loop(void *arg)
{
    bl_session_revocations *r = arg;
    while (!__atomic_load_n(&r->stopping, __ATOMIC_ACQUIRE)) {
        if (!r->conn) {
            bl_err err = {0};
            if (!(r->conn = connect_and_load(r, &err))) {
                bl_log_warn("api: session revocation listener cannot reconnect", BL_FS("error", err.msg));
                wait_readable(r, RECONNECT_PAUSE_MS);
                continue;
            }
            bl_log_info("api: session revocation listener reconnected (revocations reloaded)");
        }
        if (drain(r) != 0) {
            bl_log_warn("api: session revocation listener lost its connection",
                        BL_FS("error", PQerrorMessage(r->conn)));
            PQfinish(r->conn);
            r->conn = NULL;
            continue;
        }
        wait_readable(r, -1);
    }
    return NULL;
}

bl_session_revocations *bl_session_revocations_new(const char *conninfo, bl_err *err)
{
    bl_session_revocations *r = calloc(1, sizeof *r);
    if (!r) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        return NULL;
    }
    r->wake_pipe[0] = r->wake_pipe[1] = -1;
    pthread_mutex_init(&r->mu, NULL);
    if (!(r->conninfo = strdup(conninfo ? conninfo : ""))) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        goto fail;
    }
    if (pipe2(r->wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        bl_err_set(err, BL_EIO, "api: revocation listener pipe: %s", strerror(errno));
        goto fail;
    }
    if (!(r->conn = connect_and_load(r, err))) {
        bl_err_wrap(err, "api: session revocation listener");
        goto fail;
    }
    if (pthread_create(&r->thread, NULL, listen_loop, r) != 0) {
        bl_err_set(err, BL_EIO, "api: cannot start the session revocation listener");
        goto fail;
    }
    r->thread_running = true;
    return r;
fail:
    bl_session_revocations_free(r);
    return NULL;
}

void bl_session_revocations_free(bl_session_revocations *r)
{
    if (!r)
        return;
    if (r->thread_running) {
        __atomic_store_n(&r->stopping, true, __ATOMIC_RELEASE);
        char one = 1;
        ssize_t n = write(r->wake_pipe[1], &one, 1);
        (void)n; /* a full pipe already wakes the loop */
        pthread_join(r->thread, NULL);
    }
    PQfinish(r->conn);
    for (int i = 0; i < 2; i++)
        if (r->wake_pipe[i] >= 0)
            close(r->wake_pipe[i]);
    pthread_mutex_destroy(&r->mu);
    free(r->items);
    free(r->conninfo);
    free(r);
}

bool bl_session_revoked(bl_session_revocations *r, const char *session_id)
{
    if (!r || !session_id || !*session_id)
        return false;
    bool hit = false;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->count && !hit; i++)
        hit = strcmp(r->items[i].id, session_id) == 0;
    pthread_mutex_unlock(&r->mu);
    return hit;
}

int bl_session_revocations_record(PGconn *conn, bl_session_revocations *local, const char *sql, int n,
                                  const char *const *params, bl_err *err)
{
    char text[2048];
    int w = snprintf(text, sizeof text,
                     "WITH fam AS (%s), rev AS (INSERT INTO api_session_revocations (session_id, expires_at)"
                     " SELECT DISTINCT f::text, now() + make_interval(secs => %d) FROM fam AS t(f)"
                     " ON CONFLICT (session_id) DO UPDATE SET expires_at = EXCLUDED.expires_at"
                     " RETURNING session_id)"
                     " SELECT session_id, pg_notify('" BL_SESSION_REVOCATION_CHANNEL "', session_id) FROM rev",
                     sql, BL_SESSION_REVOCATION_TTL_S);
    if (w < 0 || (size_t)w >= sizeof text)
        return bl_err_set(err, BL_EINVAL, "session: revocation statement too long");
    PGresult *res = bl_pg_exec(conn, text, n, params, err);
    if (!res)
        return bl_err_wrap(err, "session: record revocations");
    int count = PQntuples(res);
    time_t now = time(NULL);
    if (local) {
        pthread_mutex_lock(&local->mu);
        for (int i = 0; i < count; i++)
            add_locked(local, PQgetvalue(res, i, 0), now + BL_SESSION_REVOCATION_TTL_S, now);
        pthread_mutex_unlock(&local->mu);
    }
    PQclear(res);
    return count;
}
