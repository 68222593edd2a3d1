#include "api/auth/revocations.h"

#include "core/log.h"
#include "core/pg_listener.h"
#include "core/pg_pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_ID_MAX 64

typedef struct revoked {
    char id[SESSION_ID_MAX];
    time_t expires;
} revoked;

struct bl_session_revocations {
    bl_pg_listener *listener;
    pthread_mutex_t mu;
    revoked *items; /* unordered; expired ones are dropped when adding */
    size_t count, cap;
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

/* Loads the table's live revocations (after LISTEN: see core/pg_listener.h). */
static int load_revocations(PGconn *conn, void *ctx, bl_err *err)
{
    bl_session_revocations *r = ctx;
    PGresult *res = bl_pg_exec(conn,
                               "SELECT session_id, extract(epoch FROM expires_at)::bigint FROM api_session_revocations"
                               " WHERE expires_at > now()",
                               0, NULL, err);
    if (!res)
        return -1;
    time_t now = time(NULL);
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < PQntuples(res); i++)
        add_locked(r, PQgetvalue(res, i, 0), (time_t)strtoll(PQgetvalue(res, i, 1), NULL, 10), now);
    pthread_mutex_unlock(&r->mu);
    PQclear(res);
    return 0;
}

/* Adds one notified session id. */
static void on_revoked(PGconn *conn, const char *session_id, void *ctx)
{
    (void)conn;
    bl_session_revocations *r = ctx;
    time_t now = time(NULL);
    pthread_mutex_lock(&r->mu);
    add_locked(r, session_id, now + BL_SESSION_REVOCATION_TTL_S, now);
    pthread_mutex_unlock(&r->mu);
}

bl_session_revocations *bl_session_revocations_new(const char *conninfo, bl_err *err)
{
    bl_session_revocations *r = calloc(1, sizeof *r);
    if (!r) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->listener = bl_pg_listener_start(conninfo, BL_SESSION_REVOCATION_CHANNEL, "api: session revocation listener",
                                       load_revocations, on_revoked, r, err);
    if (!r->listener) {
        bl_session_revocations_free(r);
        return NULL;
    }
    return r;
}

void bl_session_revocations_free(bl_session_revocations *r)
{
    if (!r)
        return;
    bl_pg_listener_stop(r->listener);
    pthread_mutex_destroy(&r->mu);
    free(r->items);
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
