/* /v1/auth/login, /v1/auth/refresh, /v1/auth/logout: JWT sessions for
 * people. Public routes: the body carries the credential. */
#include "api/routes/routes.h"
#include "api/auth/session.h"

#include <stdlib.h>
#include <string.h>

/* Answers the access + refresh pair for auth. */
static int answer_tokens(const bl_api_request *req, bl_http_response *resp, const bl_api_auth *auth,
                         const char *refresh)
{
    bl_err err = {0};
    char *access = bl_session_access_issue(bl_api_server_config(req->server)->jwt_secret, auth,
                                           bl_api_server_now(req->server), &err);
    if (!access)
        return -1;
    json_t *out = json_pack("{s:s, s:s, s:i, s:s, s:s}", "access_token", access, "token_type", "Bearer",
                            "expires_in", BL_SESSION_ACCESS_TTL_S, "refresh_token", refresh,
                            "organization_id", auth->org_id);
    free(access);
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

/* Returns the string field name of the body, or NULL after answering 422. */
static const char *required_string(const bl_api_request *req, bl_http_response *resp, const char *name)
{
    const char *v = json_string_value(json_object_get(req->body, name));
    if (v && *v)
        return v;
    bl_api_fail(req->http, resp, 422, NULL, "a required field is missing",
                json_pack("{s:s}", name, "required string"));
    return NULL;
}

static bool sessions_on(const bl_api_request *req, bl_http_response *resp)
{
    if (bl_api_server_config(req->server)->jwt_secret)
        return true;
    bl_api_fail(req->http, resp, 404, NULL, "sessions are not enabled on this server", NULL);
    return false;
}

static int login(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *email, *password;
    if (!sessions_on(req, resp) || !(email = required_string(req, resp, "email")) ||
        !(password = required_string(req, resp, "password")))
        return 0;
    const char *totp = json_string_value(json_object_get(req->body, "totp_code"));
    bl_err err = {0};
    bl_api_auth auth;
    char refresh[BL_REFRESH_TOKEN_SIZE];
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    time_t now = bl_api_server_now(req->server);
    int ok = bl_session_login(conn, email, password, totp, now, &auth, &err);
    if (ok == 1 && bl_session_refresh_issue(conn, auth.user_id, NULL, now, refresh, auth.session_id, &err) != 0)
        ok = -1;
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (ok < 0)
        return -1;
    if (ok == 0)
        return bl_api_fail(req->http, resp, 401, NULL, err.msg, NULL);
    return answer_tokens(req, resp, &auth, refresh);
}

static int refresh(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *token;
    if (!sessions_on(req, resp) || !(token = required_string(req, resp, "refresh_token")))
        return 0;
    bl_err err = {0};
    bl_api_auth auth;
    char next[BL_REFRESH_TOKEN_SIZE];
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    int ok = bl_session_refresh_rotate(conn, bl_api_server_revocations(req->server), token,
                                       bl_api_server_now(req->server), next, &auth, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (ok < 0)
        return -1;
    if (ok == 0)
        return bl_api_fail(req->http, resp, 401, NULL, err.msg, NULL);
    return answer_tokens(req, resp, &auth, next);
}

static int logout(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *token;
    if (!sessions_on(req, resp) || !(token = required_string(req, resp, "refresh_token")))
        return 0;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    int ok = bl_session_logout(conn, bl_api_server_revocations(req->server), token, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (ok < 0)
        return -1;
    if (ok == 0)
        return bl_api_fail(req->http, resp, 401, NULL, "refresh token not recognised", NULL);
    bl_http_response_status(resp, 204);
    return 0;
}

static const bl_api_route routes[] = {
    {"POST", "/v1/auth/login", BL_API_PUBLIC, login},
    {"POST", "/v1/auth/refresh", BL_API_PUBLIC, refresh},
    {"POST", "/v1/auth/logout", BL_API_PUBLIC, logout},
};

int bl_api_routes_auth(bl_api_server *s, bl_err *err)
{
    return bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], NULL, err);
}
