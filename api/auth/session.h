/* JWT sessions for people: short HS256 access tokens (libjwt) and rotating
 * refresh tokens stored as SHA-256, grouped in families so that a revoked
 * token used again revokes the whole family (a stolen token is detected). */
#ifndef BUSLINE_API_SESSION_H
#define BUSLINE_API_SESSION_H

#include "api/auth/auth.h"
#include "api/auth/revocations.h"
#include "core/err.h"

#include <libpq-fe.h>
#include <time.h>

#define BL_SESSION_ACCESS_TTL_S (15 * 60)
#define BL_SESSION_REFRESH_TTL_S (30 * 24 * 3600)
#define BL_REFRESH_PREFIX "bl_rt_"
#define BL_REFRESH_TOKEN_SIZE 64

/* Signs an access token for auth (user, organization, permission, plan)
 * valid from now for BL_SESSION_ACCESS_TTL_S. Returns a malloc'd token (free
 * with free), or NULL with err. */
char *bl_session_access_issue(const char *secret, const bl_api_auth *auth, time_t now, bl_err *err);

/* bl_session_access_issue valid for ttl_s seconds instead (the field-service
 * surface's documented 1800). */
char *bl_session_access_issue_ttl(const char *secret, const bl_api_auth *auth, time_t now, long ttl_s,
                                  bl_err *err);

/* Checks an access token's signature (HS256 only), type and expiry. Returns
 * 1 and fills *out; 0 when refused (message for the client in err); -1 on
 * an internal failure. */
int bl_session_access_verify(const char *secret, const char *token, time_t now, bl_api_auth *out,
                             bl_err *err);

/* Issues a refresh token for user_id in family_id (NULL = a new family).
 * Returns 0 and writes the token and, when family_out is not NULL, the
 * family id (the session id access tokens carry as "sid"), or -1 with err. */
int bl_session_refresh_issue(PGconn *conn, const char *user_id, const char *family_id, time_t now,
                             char token[BL_REFRESH_TOKEN_SIZE], char family_out[BL_API_ID_MAX], bl_err *err);

/* Spends a refresh token: revokes it and issues the next one of its family
 * into next, and fills *auth from the user (session_id: the family). Returns 1; 0 when refused
 * (unknown, expired, or reused: then the whole family is revoked, added to
 * local at once), with the
 * client's message in err; -1 on a Postgres failure. */
int bl_session_refresh_rotate(PGconn *conn, bl_session_revocations *local, const char *token, time_t now,
                              char next[BL_REFRESH_TOKEN_SIZE], bl_api_auth *auth, bl_err *err);

/* Revokes the family of token (logout), its access tokens included (every
 * replica refuses them at once: api/auth/revocations.h; local, this
 * replica's set, may be NULL). Returns 1 when a
 * live token was found, 0 when not, -1 on failure. */
int bl_session_logout(PGconn *conn, bl_session_revocations *local, const char *token, bl_err *err);

/* Logout with an access token only: revokes the token's own session
 * (session_id, its "sid": the refresh family and every access token of
 * it), not the user's other sessions. A token from before sessions had ids
 * (no sid) names no session: then every session of user_id is revoked, the
 * only way to end it. Returns 0 or -1. */
int bl_session_logout_bearer(PGconn *conn, bl_session_revocations *local, const char *user_id,
                           const char *session_id, bl_err *err);

/* Logs a user in by email or user name (either, case-insensitive) and
 * password (+ TOTP code when the user has a secret). Returns 1 and fills *auth; 0 when refused (message in err); -1 on
 * failure. */
int bl_session_login(PGconn *conn, const char *email, const char *password, const char *totp_code,
                     time_t now, bl_api_auth *auth, bl_err *err);

#endif
