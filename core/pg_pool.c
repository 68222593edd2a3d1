#include "core/pg_pool.h"

#include "core/clock.h"
#include "core/log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL_MAX_SIZE 1024
/* Applied only when the connection string names none, so an unreachable
 * host fails in bounded time instead of hanging a role at startup. */
#define DEFAULT_CONNECT_TIMEOUT_S "10"

struct pool_slot {
    PGconn *conn;
    int busy;
};

struct bl_pg_pool {
    pthread_mutex_t mu;
    pthread_cond_t slot_freed;
    char *conninfo; /* to mask its password in later errors, and for bl_pg_pool_conninfo */
    int size;
    struct pool_slot *slots;
};

/* ---- error text ---------------------------------------------------------- */

/* Appends src to the string in dst (cap bytes), cutting what does not fit. */
static void append_cut(char *dst, size_t cap, const char *src)
{
    size_t used = strnlen(dst, cap - 1);
    size_t n = strnlen(src, cap - 1 - used);
    memcpy(dst + used, src, n);
    dst[used + n] = '\0';
}

/* Copies src into dst (cap bytes), turning libpq's newlines and tabs into
 * single spaces and dropping trailing blanks, so an error is one line. */
static void copy_one_line(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    int pending_space = 0;
    for (const char *p = src; *p && n + 1 < cap; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
            pending_space = n > 0;
            continue;
        }
        if (pending_space && n + 2 < cap)
            dst[n++] = ' ';
        pending_space = 0;
        dst[n++] = *p;
    }
    dst[n] = '\0';
}

/* Replaces every occurrence of secret (secret_len > 0) in text with "***". */
static void mask_in_place(char *text, size_t cap, const char *secret, size_t secret_len)
{
    if (secret_len == 0)
        return;
    char out[BL_ERR_MSG_MAX * 2];
    size_t n = 0;
    for (const char *p = text; *p && n + 1 < sizeof out;) {
        if (strncmp(p, secret, secret_len) == 0) {
            for (const char *m = "***"; *m && n + 1 < sizeof out; m++)
                out[n++] = *m;
            p += secret_len;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    text[0] = '\0';
    append_cut(text, cap, out);
}

/* Masks the password(s) a connection string carries, wherever they show in
 * text: the user:password@ part of a URL and every password= value. The
 * string may be malformed (that is often why there is an error), so this
 * scans it by hand rather than trusting PQconninfoParse. */
static void mask_password(char *text, size_t cap, const char *conninfo)
{
    if (!conninfo)
        return;
    const char *scheme_end = strstr(conninfo, "://");
    if (scheme_end) {
        const char *auth = scheme_end + 3;
        size_t auth_len = strcspn(auth, "/?");
        const char *at = NULL;
        for (const char *p = auth; p < auth + auth_len; p++)
            if (*p == '@')
                at = p;
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon)
            mask_in_place(text, cap, colon + 1, (size_t)(at - colon - 1));
    }
    for (const char *p = strstr(conninfo, "password="); p; p = strstr(p + 1, "password=")) {
        const char *v = p + strlen("password=");
        if (*v == '\'')
            v++;
        mask_in_place(text, cap, v, strcspn(v, "'& \t\n"));
    }
    /* A URL that libpq echoes back may carry a password spelled in a way
     * the scan above missed (percent-encoded): drop any user:pass@ part. */
    char out[BL_ERR_MSG_MAX * 2];
    size_t n = 0;
    for (const char *p = text; *p && n + 1 < sizeof out;) {
        const char *auth = strncmp(p, "://", 3) == 0 ? p + 3 : NULL;
        size_t auth_len = auth ? strcspn(auth, "/?\" ") : 0;
        const char *at = auth ? memchr(auth, '@', auth_len) : NULL;
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (!colon) {
            out[n++] = *p++;
            continue;
        }
        int w = snprintf(out + n, sizeof out - n, "%.*s***", (int)(colon + 1 - p), p);
        if (w < 0)
            break;
        n = n + (size_t)w < sizeof out ? n + (size_t)w : sizeof out - 1;
        p = at;
    }
    out[n] = '\0';
    text[0] = '\0';
    append_cut(text, cap, out);
}

/* Fills err from a failed libpq call: the result's SQLSTATE, primary
 * message and detail when there is a result, else the connection's message.
 * sql (may be NULL) turns an error position into a line number. */
static void set_pg_error(bl_err *err, PGconn *conn, const PGresult *res, const char *sql)
{
    if (!err)
        return;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *position = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
    if (!primary || !*primary)
        primary = res && *PQresultErrorMessage(res) ? PQresultErrorMessage(res)
                                                    : PQerrorMessage(conn);
    if (!primary || !*primary)
        primary = "unknown error";

    char line_note[32] = "";
    if (position && sql) {
        long pos = strtol(position, NULL, 10); /* 1-based, in characters */
        long line = 1;
        for (long i = 0; i < pos - 1 && sql[i]; i++)
            line += sql[i] == '\n';
        snprintf(line_note, sizeof line_note, " (line %ld)", line);
    }
    char text[BL_ERR_MSG_MAX] = "pg: ";
    char flat[BL_ERR_MSG_MAX];
    if (state && *state) {
        snprintf(flat, sizeof flat, "[%.5s] ", state);
        append_cut(text, sizeof text, flat);
    }
    copy_one_line(flat, sizeof flat, primary);
    append_cut(text, sizeof text, flat);
    append_cut(text, sizeof text, line_note);
    if (detail && *detail) {
        copy_one_line(flat, sizeof flat, detail);
        append_cut(text, sizeof text, ": ");
        append_cut(text, sizeof text, flat);
    }
    bl_err_set(err, BL_EPG, "%s", text);
}

int bl_pg_err_sqlstate(const bl_err *err, char out[6])
{
    if (!err || err->code != BL_EPG)
        return -1;
    const char *open = strstr(err->msg, "pg: [");
    if (!open)
        return -1;
    const char *s = open + strlen("pg: [");
    if (strlen(s) < 6 || s[5] != ']')
        return -1;
    memcpy(out, s, 5);
    out[5] = '\0';
    return 0;
}

/* ---- connections --------------------------------------------------------- */

/* Fills err with why conn could not connect, password masked. */
static void set_connect_error(bl_err *err, PGconn *conn, const char *conninfo)
{
    if (!err)
        return;
    char text[BL_ERR_MSG_MAX];
    copy_one_line(text, sizeof text,
                  conn ? PQerrorMessage(conn) : "out of memory allocating a connection");
    mask_password(text, sizeof text, conninfo);
    bl_err_set(err, BL_EPG, "pg: connect: %s", text);
}

/* Server notices ("relation already exists, skipping") go to the JSON log
 * at debug level instead of libpq's default raw line on stderr. */
static void log_notice(void *arg, const char *message)
{
    (void)arg;
    char flat[BL_ERR_MSG_MAX];
    copy_one_line(flat, sizeof flat, message);
    bl_log_debug("pg notice", BL_FS("notice", flat));
}

PGconn *bl_pg_connect(const char *conninfo, bl_err *err)
{
    if (!conninfo || !*conninfo) {
        bl_err_set(err, BL_EINVAL, "pg: connect: empty connection string");
        return NULL;
    }
    /* Keywords after an expanded dbname override it, those before are
     * overridden by it: so the string's own connect_timeout wins. */
    const char *const keys[] = {"connect_timeout", "dbname", NULL};
    const char *const values[] = {DEFAULT_CONNECT_TIMEOUT_S, conninfo, NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        set_connect_error(err, conn, conninfo);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, log_notice, NULL);
    return conn;
}

/* True when the server has closed an idle connection behind our back. An
 * idle connection should have nothing to read; if it does, it is a FATAL
 * error and end of stream (pg_terminate_backend, server restart), or a
 * notice. Reading it lets libpq mark the connection bad. */
static int idle_conn_was_closed(PGconn *conn)
{
    for (int round = 0; round < 8; round++) {
        struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
        if (pfd.fd < 0)
            return 1;
        int n = poll(&pfd, 1, 0);
        if (n < 0)
            return errno != EINTR;
        if (n == 0)
            return 0;
        if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK)
            return 1;
    }
    return 0;
}

/* Leaves conn connected and outside any transaction: rolls back what a
 * previous user left open and reconnects a broken one. Returns 0, or -1 with
 * err when the server cannot be reached. */
static int make_ready(bl_pg_pool *pool, PGconn *conn, bl_err *err)
{
    if (PQstatus(conn) == CONNECTION_OK && !idle_conn_was_closed(conn)) {
        PGTransactionStatusType ts = PQtransactionStatus(conn);
        if (ts == PQTRANS_IDLE)
            return 0;
        if ((ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) &&
            bl_pg_exec_cmd(conn, "ROLLBACK", 0, NULL, NULL) == 0)
            return 0;
    }
    PQreset(conn);
    if (PQstatus(conn) != CONNECTION_OK) {
        set_connect_error(err, conn, pool->conninfo);
        bl_err_wrap(err, "pg pool: reconnect");
        return -1;
    }
    return 0;
}

/* ---- pool ---------------------------------------------------------------- */

const char *bl_pg_pool_conninfo(const bl_pg_pool *pool)
{
    return pool->conninfo;
}

bl_pg_pool *bl_pg_pool_new(const char *conninfo, int size, bl_err *err)
{
    if (size < 1 || size > POOL_MAX_SIZE) {
        bl_err_set(err, BL_EINVAL, "pg pool: size %d outside 1..%d", size, POOL_MAX_SIZE);
        return NULL;
    }
    bl_pg_pool *pool = calloc(1, sizeof *pool);
    if (!pool) {
        bl_err_set(err, BL_ENOMEM, "pg pool: out of memory");
        return NULL;
    }
    pthread_condattr_t attr;
    int cond_ok = pthread_condattr_init(&attr) == 0;
    cond_ok = cond_ok && pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
              pthread_cond_init(&pool->slot_freed, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!cond_ok || pthread_mutex_init(&pool->mu, NULL) != 0) {
        if (cond_ok)
            pthread_cond_destroy(&pool->slot_freed);
        free(pool);
        bl_err_set(err, BL_ENOMEM, "pg pool: cannot create lock");
        return NULL;
    }
    pool->conninfo = strdup(conninfo ? conninfo : "");
    pool->slots = calloc((size_t)size, sizeof *pool->slots);
    if (!pool->conninfo || !pool->slots) {
        bl_err_set(err, BL_ENOMEM, "pg pool: out of memory");
        goto fail;
    }
    for (pool->size = 0; pool->size < size; pool->size++) {
        pool->slots[pool->size].conn = bl_pg_connect(conninfo, err);
        if (!pool->slots[pool->size].conn)
            goto fail;
    }
    return pool;
fail:
    bl_pg_pool_free(pool);
    return NULL;
}

void bl_pg_pool_free(bl_pg_pool *pool)
{
    if (!pool)
        return;
    for (int i = 0; i < pool->size; i++)
        PQfinish(pool->slots[i].conn);
    free(pool->slots);
    free(pool->conninfo);
    pthread_cond_destroy(&pool->slot_freed);
    pthread_mutex_destroy(&pool->mu);
    free(pool);
}

/* Index of a free slot, or -1. Caller holds pool->mu. */
static int find_free_slot(const bl_pg_pool *pool)
{
    for (int i = 0; i < pool->size; i++)
        if (!pool->slots[i].busy)
            return i;
    return -1;
}

static void release_slot(bl_pg_pool *pool, int i)
{
    pthread_mutex_lock(&pool->mu);
    pool->slots[i].busy = 0;
    pthread_cond_signal(&pool->slot_freed);
    pthread_mutex_unlock(&pool->mu);
}

PGconn *bl_pg_pool_acquire(bl_pg_pool *pool, int timeout_ms, bl_err *err)
{
    struct timespec deadline = bl_clock_deadline_after_ms(CLOCK_MONOTONIC, timeout_ms);
    pthread_mutex_lock(&pool->mu);
    int i;
    while ((i = find_free_slot(pool)) < 0) {
        int rc = pthread_cond_timedwait(&pool->slot_freed, &pool->mu, &deadline);
        if (rc == ETIMEDOUT && (i = find_free_slot(pool)) < 0) {
            pthread_mutex_unlock(&pool->mu);
            bl_err_set(err, BL_ETIMEOUT,
                       "pg pool: all %d connections busy, none free after %d ms",
                       pool->size, timeout_ms);
            return NULL;
        }
        if (i >= 0)
            break;
    }
    pool->slots[i].busy = 1;
    pthread_mutex_unlock(&pool->mu);

    /* Checked outside the lock: a reconnect may take seconds. */
    if (make_ready(pool, pool->slots[i].conn, err) != 0) {
        release_slot(pool, i);
        return NULL;
    }
    return pool->slots[i].conn;
}

void bl_pg_pool_release(bl_pg_pool *pool, PGconn *conn)
{
    if (!pool || !conn)
        return;
    for (int i = 0; i < pool->size; i++) {
        if (pool->slots[i].conn == conn) {
            release_slot(pool, i);
            return;
        }
    }
}

/* ---- statements and transactions ---------------------------------------- */

PGresult *bl_pg_exec(PGconn *conn, const char *sql, int nparams,
                     const char *const *params, bl_err *err)
{
    /* The simple protocol (PQexec) is the one that accepts several
     * statements in one string, which migrations need. */
    PGresult *res = nparams == 0
                        ? PQexec(conn, sql)
                        : PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY)
        return res;
    if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR)
        set_pg_error(err, conn, res, sql);
    else /* COPY and the like: this helper cannot drive them */
        bl_err_set(err, BL_EPG, "pg: unexpected result %s", PQresStatus(st));
    PQclear(res);
    return NULL;
}

/* ---- prepared statements ------------------------------------------------ */

#define PREPARED_PER_CONN 64
#define PREPARED_CONNS 256

/* What one connection has prepared, known by the connection and its
 * backend's pid: a reset connection (new backend) starts with none. Names
 * are unique in the process ("bl_prep_<n>"), so a record lost to eviction
 * can never make a name stand for another statement. */
typedef struct prepared_conn {
    const PGconn *conn;
    int backend_pid;
    int count;
    char *sql[PREPARED_PER_CONN]; /* strdup'd */
    unsigned long name[PREPARED_PER_CONN];
} prepared_conn;

static pthread_mutex_t prepared_lock = PTHREAD_MUTEX_INITIALIZER;
static prepared_conn prepared[PREPARED_CONNS];
static unsigned long prepared_names, prepared_evict;

static void prepared_forget(prepared_conn *pc)
{
    for (int k = 0; k < pc->count; k++)
        free(pc->sql[k]);
    pc->count = 0;
}

/* The connection's record: its own, else a free or evicted one (the
 * connection evicted prepares again under new names). Caller holds
 * prepared_lock. */
static prepared_conn *prepared_of(const PGconn *conn)
{
    int pid = PQbackendPID(conn);
    prepared_conn *free_one = NULL;
    for (size_t i = 0; i < PREPARED_CONNS; i++) {
        if (prepared[i].conn == conn) {
            if (prepared[i].backend_pid != pid) {
                prepared_forget(&prepared[i]);
                prepared[i].backend_pid = pid;
            }
            return &prepared[i];
        }
        if (!prepared[i].conn && !free_one)
            free_one = &prepared[i];
    }
    prepared_conn *pc = free_one ? free_one : &prepared[prepared_evict++ % PREPARED_CONNS];
    prepared_forget(pc);
    pc->conn = conn;
    pc->backend_pid = pid;
    return pc;
}

/* The name sql is prepared under on conn into name, preparing it first;
 * 0, 1 when it cannot be kept (run it unprepared), -1 with err. */
static int prepared_name(PGconn *conn, const char *sql, int nparams, char name[32], bl_err *err)
{
    pthread_mutex_lock(&prepared_lock);
    prepared_conn *pc = prepared_of(conn);
    int i = 0;
    while (i < pc->count && strcmp(pc->sql[i], sql) != 0)
        i++;
    int known = i < pc->count;
    unsigned long n = known ? pc->name[i] : ++prepared_names;
    char *copy = !known && pc->count < PREPARED_PER_CONN ? strdup(sql) : NULL;
    pthread_mutex_unlock(&prepared_lock);
    if (!known && !copy)
        return 1;
    snprintf(name, 32, "bl_prep_%lu", n);
    if (known)
        return 0;
    PGresult *res = PQprepare(conn, name, sql, nparams, NULL);
    int ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        set_pg_error(err, conn, res, sql);
    PQclear(res);
    pthread_mutex_lock(&prepared_lock);
    pc = prepared_of(conn);
    if (ok && pc->count < PREPARED_PER_CONN) {
        pc->name[pc->count] = n;
        pc->sql[pc->count++] = copy;
        copy = NULL;
    }
    pthread_mutex_unlock(&prepared_lock);
    free(copy);
    return ok ? 0 : -1;
}

PGresult *bl_pg_exec_prepared(PGconn *conn, const char *sql, int nparams,
                              const char *const *params, bl_err *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        char name[32];
        int p = prepared_name(conn, sql, nparams, name, err);
        if (p < 0)
            return NULL;
        if (p > 0)
            return bl_pg_exec(conn, sql, nparams, params, err);
        PGresult *res = PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
            return res;
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (attempt == 0 && state && strcmp(state, "26000") == 0) { /* forgotten by the server */
            PQclear(res);
            pthread_mutex_lock(&prepared_lock);
            prepared_forget(prepared_of(conn));
            pthread_mutex_unlock(&prepared_lock);
            continue;
        }
        set_pg_error(err, conn, res, sql);
        PQclear(res);
        return NULL;
    }
    return NULL;
}

int bl_pg_exec_cmd(PGconn *conn, const char *sql, int nparams,
                   const char *const *params, bl_err *err)
{
    PGresult *res = bl_pg_exec(conn, sql, nparams, params, err);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

int bl_pg_begin(PGconn *conn, bl_err *err)
{
    return bl_pg_exec_cmd(conn, "BEGIN", 0, NULL, err);
}

int bl_pg_commit(PGconn *conn, bl_err *err)
{
    PGresult *res = bl_pg_exec(conn, "COMMIT", 0, NULL, err);
    if (!res)
        return -1;
    /* COMMIT of a transaction where a statement failed "succeeds" as a
     * ROLLBACK: that must not look like a commit. */
    int rolled_back = strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
    PQclear(res);
    if (rolled_back)
        return bl_err_set(err, BL_EPG, "pg: commit: transaction was aborted and rolled back");
    return 0;
}

int bl_pg_rollback(PGconn *conn, bl_err *err)
{
    return bl_pg_exec_cmd(conn, "ROLLBACK", 0, NULL, err);
}

int bl_pg_transaction(PGconn *conn, bl_pg_tx_fn fn, void *arg, bl_err *err)
{
    if (bl_pg_begin(conn, err) != 0)
        return -1;
    if (fn(conn, arg, err) != 0) {
        /* fn's error is the one worth reporting; a failed ROLLBACK means the
         * connection is gone, which the pool notices on next acquire. */
        bl_pg_rollback(conn, NULL);
        return -1;
    }
    if (bl_pg_commit(conn, err) != 0) {
        bl_pg_rollback(conn, NULL);
        return -1;
    }
    return 0;
}
