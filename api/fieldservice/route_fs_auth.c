/* /api/auth/login, /api/auth/refresh, /api/auth/logout of the SmartLeakPro
 * document over the JWT sessions of api/auth/session.h: nom_utilisateur is
 * a user name or an email, code_2fa the TOTP code of a user who has one;
 * the access token lives 1800 s as documented. Logout revokes the session
 * of the refresh token given in the body, or, with only an access token,
 * every session of its user; the access tokens of a revoked session are
 * refused at once on every replica (api/auth/revocations.h: an in-memory
 * set kept by NOTIFY, no query per request). */
#include "api/auth/session.h"
#include "api/fieldservice/fs_common.h"
#include "api/routes/routes.h"

#include "core/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ACCESS_TTL_S 1800

/* {"id","nom_utilisateur","email","role"} of user_id, or NULL. */
static json_t *user_summary(PGconn *conn, const char *user_id, bl_err *err)
{
    const char *params[] = {user_id};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT json_build_object('id', id, 'nom_utilisateur', coalesce(username, email),"
                             " 'email', email, 'role', coalesce(role, permission))::text"
                             " FROM api_users WHERE id::text = $1",
                             1, params, err);
    if (!r)
        return NULL;
    json_error_t jerr;
    json_t *j = PQntuples(r) == 1 ? json_loads(PQgetvalue(r, 0, 0), 0, &jerr) : NULL;
    PQclear(r);
    return j;
}

/* Answers the document's token pair for auth; conn is released here. */
static int answer_tokens(const bl_api_request *req, bl_http_response *resp, PGconn *conn,
                         const bl_api_auth *auth, const char *refresh)
{
    bl_err err = {0};
    json_t *user = user_summary(conn, auth->user_id, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    char *access = user ? bl_session_access_issue_ttl(bl_api_server_config(req->server)->jwt_secret, auth,
                                                      bl_api_server_now(req->server), ACCESS_TTL_S, &err)
                        : NULL;
    json_t *out = access ? json_pack("{s:s, s:s, s:s, s:i, s:O}", "access_token", access, "refresh_token",
                                     refresh, "token_type", "bearer", "expires_in", ACCESS_TTL_S,
                                     "utilisateur", user)
                         : NULL;
    free(access);
    json_decref(user);
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

/* Sessions need a JWT key; without one the routes say so. */
static bool sessions_on(const bl_api_request *req, bl_http_response *resp)
{
    if (bl_api_server_config(req->server)->jwt_secret)
        return true;
    bl_api_fail(req->http, resp, 404, "NOT_FOUND", "sessions are not enabled on this server", NULL);
    return false;
}

static int login(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    if (!sessions_on(req, resp))
        return 0;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    const json_t *body = bl_fs_body(req, errors);
    const char *name = body ? bl_fs_string(body, "nom_utilisateur", 320, true, errors) : NULL;
    const char *password = body ? bl_fs_string(body, "mot_de_passe", 1024, true, errors) : NULL;
    const char *code = body ? bl_fs_string(body, "code_2fa", 16, false, errors) : NULL;
    if (json_object_size(errors) > 0)
        return bl_fs_invalid(req, resp, errors);
    json_decref(errors);
    bl_err err = {0};
    bl_api_auth auth;
    char refresh[BL_REFRESH_TOKEN_SIZE];
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    time_t now = bl_api_server_now(req->server);
    int ok = bl_session_login(conn, name, password, code, now, &auth, &err);
    if (ok == 1 && bl_session_refresh_issue(conn, auth.user_id, NULL, now, refresh, auth.session_id, &err) != 0)
        ok = -1;
    if (ok != 1) {
        bl_pg_pool_release(bl_api_server_pool(req->server), conn);
        return ok < 0 ? -1 : bl_api_fail(req->http, resp, 401, "AUTHENTICATION_ERROR", err.msg, NULL);
    }
    return answer_tokens(req, resp, conn, &auth, refresh);
}

static int refresh(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    if (!sessions_on(req, resp))
        return 0;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    const json_t *body = bl_fs_body(req, errors);
    const char *token = body ? bl_fs_string(body, "refresh_token", BL_REFRESH_TOKEN_SIZE, true, errors) : NULL;
    if (json_object_size(errors) > 0)
        return bl_fs_invalid(req, resp, errors);
    json_decref(errors);
    bl_err err = {0};
    bl_api_auth auth;
    char next[BL_REFRESH_TOKEN_SIZE];
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    int ok = bl_session_refresh_rotate(conn, bl_api_server_revocations(req->server), token,
                                       bl_api_server_now(req->server), next, &auth, &err);
    if (ok != 1) {
        bl_pg_pool_release(bl_api_server_pool(req->server), conn);
        return ok < 0 ? -1 : bl_api_fail(req->http, resp, 401, "AUTHENTICATION_ERROR", err.msg, NULL);
    }
    return answer_tokens(req, resp, conn, &auth, next);
}

/* The user of the request's access token (Authorization: Bearer), or 0. */
static int bearer_user(const bl_api_request *req, bl_api_auth *auth)
{
    const char *authz = bl_http_request_header(req->http, "Authorization");
    if (!authz || strncasecmp(authz, "Bearer ", 7) != 0)
        return 0;
    bl_err err = {0};
    return bl_session_access_verify(bl_api_server_config(req->server)->jwt_secret, authz + 7,
                                    bl_api_server_now(req->server), auth, &err) == 1;
}

static int logout(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    if (!sessions_on(req, resp))
        return 0;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    const char *token = NULL;
    if (req->body) {
        const json_t *body = bl_fs_body(req, errors);
        token = body ? bl_fs_string(body, "refresh_token", BL_REFRESH_TOKEN_SIZE, false, errors) : NULL;
    }
    if (json_object_size(errors) > 0)
        return bl_fs_invalid(req, resp, errors);
    json_decref(errors);
    bl_api_auth auth;
    int have_user = token ? 0 : bearer_user(req, &auth);
    if (!token && !have_user)
        return bl_api_fail(req->http, resp, 401, "AUTHENTICATION_ERROR",
                           "a refresh_token in the body or a valid access token is required", NULL);
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    int ok;
    if (token) {
        ok = bl_session_logout(conn, bl_api_server_revocations(req->server), token, &err);
    } else {
        ok = bl_session_logout_bearer(conn, bl_api_server_revocations(req->server), auth.user_id, auth.session_id,
                                    &err) == 0 ? 1 : -1;
    }
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (ok < 0)
        return -1;
    if (ok == 0)
        return bl_api_fail(req->http, resp, 401, "AUTHENTICATION_ERROR", "refresh token not recognised", NULL);
    bl_http_response_status(resp, 204);
    return 0;
}

static const bl_api_route routes[] = {
    {"POST", "/auth/login", BL_API_PUBLIC, login},
    {"POST", "/auth/refresh", BL_API_PUBLIC, refresh},
    {"POST", "/auth/logout", BL_API_PUBLIC, logout},
};

int bl_api_routes_fs_auth(bl_api_server *s, bl_err *err)
{
    return bl_api_server_surface_routes(s, BL_API_SURFACE_FIELD_SERVICE, routes, sizeof routes / sizeof routes[0],
                                        NULL, err);
}
