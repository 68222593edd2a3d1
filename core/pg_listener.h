/* A thread holding one PostgreSQL connection that LISTENs on a channel and
 * hands each notification to a callback: the shape of every cache a NOTIFY
 * keeps current (session revocations, custom endpoint definitions). A lost
 * connection is reconnected every second; each (re)connection LISTENs
 * first and then calls on_connect, which reloads the whole state, so a
 * change committed while the connection was away is not missed. */
#ifndef BUSLINE_CORE_PG_LISTENER_H
#define BUSLINE_CORE_PG_LISTENER_H

#include "core/err.h"

#include <libpq-fe.h>
#include <stdbool.h>

/* Loads the listener's whole state over conn (borrowed) after LISTEN.
 * Returns 0, or -1 with err (the connection is then dropped and retried). */
typedef int (*bl_pg_listener_load_fn)(PGconn *conn, void *ctx, bl_err *err);

/* Applies one notification's payload (borrowed); conn (borrowed) may be
 * used to read what changed. Called on the listener's thread. */
typedef void (*bl_pg_listener_notify_fn)(PGconn *conn, const char *payload, void *ctx);

typedef struct bl_pg_listener bl_pg_listener;

/* Connects to conninfo, LISTENs on channel and runs load once in the
 * caller's thread (so the state is there when this returns), then starts
 * the listener thread. what names it in logs and errors ("api: session
 * revocation listener"); channel and what are copied, ctx borrowed until
 * bl_pg_listener_stop. Returns the listener, or NULL with err. */
bl_pg_listener *bl_pg_listener_start(const char *conninfo, const char *channel, const char *what,
                                     bl_pg_listener_load_fn load, bl_pg_listener_notify_fn notify, void *ctx,
                                     bl_err *err);

/* Whether l is connected and LISTENing now (false from the moment its
 * connection is found broken until it is back and reloaded): a cache that
 * trusts its notifications trusts them only while this holds. */
bool bl_pg_listener_listening(bl_pg_listener *l);

/* Stops the thread and closes the connection; no callback runs after it
 * returns. l may be NULL. */
void bl_pg_listener_stop(bl_pg_listener *l);

#endif
