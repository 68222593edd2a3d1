/* PostgreSQL over libpq: single connections, a thread-safe connection pool,
 * parameterised statements and transactions. Errors carry libpq's message
 * and the SQLSTATE ("pg: [23505] duplicate key value ..."), never the
 * password of the connection string. */
#ifndef BUSLINE_CORE_PG_POOL_H
#define BUSLINE_CORE_PG_POOL_H

#include "core/err.h"

#include <libpq-fe.h>

typedef struct bl_pg_pool bl_pg_pool;

/* Opens one connection. conninfo: a postgresql:// URL or a "key=value"
 * string; a connect_timeout of 10 s applies unless it sets its own.
 * Returns a connection the caller closes with PQfinish, or NULL with err
 * (BL_EPG) holding libpq's message with the password masked. */
PGconn *bl_pg_connect(const char *conninfo, bl_err *err);

/* Opens a pool of size (1..1024) connections to conninfo, all connected
 * before it returns. Returns the pool (free with bl_pg_pool_free), or NULL
 * with err as bl_pg_connect's. conninfo is copied. */
bl_pg_pool *bl_pg_pool_new(const char *conninfo, int size, bl_err *err);

/* The conninfo the pool connects with (borrowed for the pool's life), for a
 * component that needs a connection of its own beside the pool (a LISTEN). */
const char *bl_pg_pool_conninfo(const bl_pg_pool *pool);

/* Closes every connection and frees the pool. Every acquired connection must
 * have been released. pool may be NULL. */
void bl_pg_pool_free(bl_pg_pool *pool);

/* Takes a connection for this thread's exclusive use, waiting up to
 * timeout_ms while all are taken. A connection found broken (closed by the
 * server, failed, or left inside a transaction) is reset first, so the one
 * returned is connected and idle. Returns the connection (borrowed: give it
 * back with bl_pg_pool_release), or NULL with err: BL_ETIMEOUT when none came
 * free in time, BL_EPG when reconnecting failed. */
PGconn *bl_pg_pool_acquire(bl_pg_pool *pool, int timeout_ms, bl_err *err);

/* Gives back a connection from bl_pg_pool_acquire and wakes one waiter.
 * conn may be NULL (no-op). */
void bl_pg_pool_release(bl_pg_pool *pool, PGconn *conn);

/* Runs one statement with text parameters $1..$nparams (a NULL entry is SQL
 * NULL). Returns the result (caller PQclear's) when it succeeded with or
 * without rows, or NULL with err (BL_EPG) holding the SQLSTATE and message. */
PGresult *bl_pg_exec(PGconn *conn, const char *sql, int nparams,
                     const char *const *params, bl_err *err);

/* As bl_pg_exec, with sql prepared once per connection and executed by name
 * from then on, so the server parses and plans it once rather than on every
 * call: for the fixed statements a hot path runs again and again (sql is a
 * constant or one of few variants; at most 64 per connection are kept, the
 * rest run unprepared). Outside explicit transactions only: a statement the
 * server forgot (reset connection) is prepared again and retried once. */
PGresult *bl_pg_exec_prepared(PGconn *conn, const char *sql, int nparams,
                              const char *const *params, bl_err *err);

/* As bl_pg_exec, for statements whose rows are not needed. Returns 0 or -1. */
int bl_pg_exec_cmd(PGconn *conn, const char *sql, int nparams,
                   const char *const *params, bl_err *err);

/* BEGIN / COMMIT / ROLLBACK on conn. Return 0, or -1 with err. */
int bl_pg_begin(PGconn *conn, bl_err *err);
int bl_pg_commit(PGconn *conn, bl_err *err);
int bl_pg_rollback(PGconn *conn, bl_err *err);

/* Work done inside bl_pg_transaction: returns 0 to commit, -1 (with err
 * filled) to roll back. */
typedef int (*bl_pg_tx_fn)(PGconn *conn, void *arg, bl_err *err);

/* Runs fn(conn, arg, err) between BEGIN and COMMIT; if fn fails, or COMMIT
 * does, the transaction is rolled back. Returns 0, or -1 with err (fn's
 * error when fn failed). */
int bl_pg_transaction(PGconn *conn, bl_pg_tx_fn fn, void *arg, bl_err *err);

/* Copies the SQLSTATE that a bl_pg_* error carries into out (6 bytes with
 * the NUL). Returns 0, or -1 when err holds none (e.g. connection refused). */
int bl_pg_err_sqlstate(const bl_err *err, char out[6]);

#endif
