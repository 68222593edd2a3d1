/* The ended sessions every API replica refuses at once (table
 * api_session_revocations, migrations/094_session_revocations.sql): a set
 * in memory, loaded at start, kept current by a listener thread with its
 * own PostgreSQL connection (LISTEN busline_session_revoked) and reloaded
 * after that connection comes back, so a revocation announced while it was
 * down is not missed. A request's check is a lookup under a mutex. */
#ifndef BUSLINE_API_AUTH_REVOCATIONS_H
#define BUSLINE_API_AUTH_REVOCATIONS_H

#include "core/err.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <time.h>

/* The longest an access token lives (both surfaces' TTLs are below it):
 * how long a revocation is kept. */
#define BL_SESSION_REVOCATION_TTL_S 3600
#define BL_SESSION_REVOCATION_CHANNEL "busline_session_revoked"

typedef struct bl_session_revocations bl_session_revocations;

/* Connects to conninfo, LISTENs, loads the unexpired revocations and starts
 * the listener. Returns the set (free with bl_session_revocations_free) or
 * NULL with err. */
bl_session_revocations *bl_session_revocations_new(const char *conninfo, bl_err *err);

/* Stops the listener and frees. Accepts NULL. */
void bl_session_revocations_free(bl_session_revocations *r);

/* Whether session_id (an access token's "sid") was ended. Thread-safe;
 * accepts NULL for r or an empty id (false). */
bool bl_session_revoked(bl_session_revocations *r, const char *session_id);

/* Records as ended the sessions whose ids sql (run on conn, with n params)
 * returns in its first column, announces each to every replica and adds
 * them to local (this replica's set, may be NULL) at once. Returns the
 * number of sessions recorded, or -1 with err. */
int bl_session_revocations_record(PGconn *conn, bl_session_revocations *local, const char *sql, int n,
                                  const char *const *params, bl_err *err);

#endif
