/* The four authentication types of a custom endpoint. */
#include "api/custom/caller_auth.h"

#include "api/auth/keys.h"
#include "api/auth/revocations.h"
#include "api/auth/session.h"
#include "core/crypto.h"
#include "core/http_client.h"
#include "core/log.h"
#include "core/pg_pool.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *bearer(const bl_http_request *req)
{
    const char *authz = bl_http_request_header(req, "Authorization");
    if (!authz || strncasecmp(authz, "Bearer ", 7) != 0)
        return NULL;
    authz += 7;
    while (*authz == ' ')
        authz++;
    return *authz ? authz : NULL;
}

static int refuse(int status, char *msg, size_t len, const char *text)
{
    snprintf(msg, len, "%s", text);
    return status;
}

static bool role_allowed(const bl_custom_def *d, bl_api_perm perm)
{
    if (d->role_count == 0)
        return true;
    for (size_t i = 0; i < d->role_count; i++)
        if (d->roles[i] == perm)
            return true;
    return false;
}

static int by_key(bl_api_server *s, const bl_custom_def *d, const bl_http_request *req, bl_custom_caller *out,
                  char *msg, size_t len)
{
    const char *token = bl_http_request_header(req, "X-API-Key");
    if (!token || !*token)
        token = bearer(req);
    if (!token || !bl_api_key_token_shaped(token))
        return refuse(401, msg, len, "an API key is required (X-API-Key or Authorization: Bearer)");
    bl_err err = {0};
    bl_api_auth auth;
    int rc = bl_api_server_authenticate_key(s, token, &auth, &err);
    if (rc < 0)
        return refuse(503, msg, len, "authentication is unavailable, try again");
    if (rc == 0 || strcmp(auth.org_id, d->org_id) != 0)
        return refuse(401, msg, len, "API key not recognised");
    if (!role_allowed(d, auth.perm))
        return refuse(403, msg, len, "this endpoint's roles do not include the key's permission");
    snprintf(out->subject, sizeof out->subject, "key:%s", auth.key_id);
    return 0;
}

static int by_jwt(bl_api_server *s, const bl_custom_def *d, const bl_http_request *req, bl_custom_caller *out,
                  char *msg, size_t len)
{
    const char *token = bearer(req);
    const char *secret = bl_api_server_config(s)->jwt_secret;
    if (!token || !secret)
        return refuse(401, msg, len, "an access token is required (Authorization: Bearer)");
    bl_api_auth auth;
    bl_err err = {0};
    int rc = bl_session_access_verify(secret, token, bl_api_server_now(s), &auth, &err);
    if (rc < 0)
        return refuse(503, msg, len, "authentication is unavailable, try again");
    if (rc == 0)
        return refuse(401, msg, len, err.msg);
    if (bl_session_revoked(bl_api_server_revocations(s), auth.session_id))
        return refuse(401, msg, len, "access token revoked: its session was logged out");
    if (strcmp(auth.org_id, d->org_id) != 0)
        return refuse(401, msg, len, "the access token is not of this endpoint's organization");
    if (!role_allowed(d, auth.perm))
        return refuse(403, msg, len, "this endpoint's roles do not include the caller's role");
    snprintf(out->subject, sizeof out->subject, "user:%s", auth.user_id);
    return 0;
}

/* Whether space-separated scope holds want. */
static bool scope_holds(const char *scope, const char *want)
{
    size_t n = strlen(want);
    for (const char *p = scope; p && *p;) {
        size_t w = strcspn(p, " ");
        if (w == n && strncmp(p, want, n) == 0)
            return true;
        p += w;
        while (*p == ' ')
            p++;
    }
    return false;
}

/* POSTs the token to the introspection endpoint; *answer gets its JSON. */
static int introspect(const bl_custom_def *d, const char *token, const bl_ssrf_allowlist *allow, json_t **answer,
                      bl_err *err)
{
    bl_ssrf_target target;
    char resolve[BL_SSRF_HOST_MAX + 64] = "";
    if (bl_ssrf_check_url(d->introspect_url, allow, &target, err) != 0 ||
        bl_ssrf_resolve_entry(&target, resolve, sizeof resolve) != 0)
        return -1;
    char *escaped = curl_easy_escape(NULL, token, 0);
    size_t creds_len = strlen(d->client_id) + strlen(d->client_secret) + 2;
    char *creds = malloc(creds_len), *b64 = malloc(bl_base64_encoded_size(creds_len));
    char *body = escaped ? malloc(strlen(escaped) + 48) : NULL;
    char *header = b64 ? malloc(bl_base64_encoded_size(creds_len) + 32) : NULL;
    int rc = -1;
    if (!creds || !b64 || !body || !header) {
        bl_err_set(err, BL_ENOMEM, "custom api: out of memory");
        goto done;
    }
    snprintf(creds, creds_len, "%s:%s", d->client_id, d->client_secret);
    if (bl_base64_encode(creds, strlen(creds), b64, bl_base64_encoded_size(creds_len), err) != 0)
        goto done;
    sprintf(header, "Authorization: Basic %s", b64);
    sprintf(body, "token=%s&token_type_hint=access_token", escaped);
    const char *headers[] = {header, "Content-Type: application/x-www-form-urlencoded", "Accept: application/json"};
    bl_http_call call = {.method = "POST", .url = d->introspect_url, .headers = headers, .header_count = 3,
                         .body = body, .body_len = strlen(body), .timeout_ms = 5000,
                         .resolve = resolve[0] ? resolve : NULL};
    bl_http_client_config cfg = {.body_cap = 64 * 1024};
    bl_http_sync_result res = {0};
    if (bl_http_request_sync(&call, &cfg, &res, err) != 0)
        goto done;
    if (res.status != 200) {
        bl_err_set(err, BL_EHTTP, "introspection answered %ld", res.status);
    } else if (!(*answer = json_loads(res.body ? res.body : "", 0, NULL)) || !json_is_object(*answer)) {
        json_decref(*answer);
        *answer = NULL;
        bl_err_set(err, BL_EHTTP, "introspection answered no JSON object");
    } else {
        rc = 0;
    }
    bl_http_sync_result_clear(&res);
done:
    if (creds)
        memset(creds, 0, creds_len);
    free(creds);
    free(b64);
    free(header);
    free(body);
    curl_free(escaped);
    return rc;
}

static int by_oauth2(const bl_custom_def *d, const bl_http_request *req, const bl_ssrf_allowlist *allow,
                     bl_custom_caller *out, char *msg, size_t len)
{
    const char *token = bearer(req);
    if (!token)
        return refuse(401, msg, len, "a bearer token is required (Authorization: Bearer)");
    json_t *answer = NULL;
    bl_err err = {0};
    if (introspect(d, token, allow, &answer, &err) != 0) {
        bl_log_warn("custom api: token introspection failed", BL_FS("custom_api_id", d->id),
                    BL_FS("request_id", bl_http_request_id(req)), BL_FS("error", err.msg));
        return refuse(503, msg, len, "the token cannot be checked now, try again");
    }
    int rc = 0;
    const char *scope = json_string_value(json_object_get(answer, "scope"));
    if (!json_is_true(json_object_get(answer, "active"))) {
        rc = refuse(401, msg, len, "the bearer token is not active");
    } else {
        for (size_t i = 0; i < d->scope_count && rc == 0; i++)
            if (!scope || !scope_holds(scope, d->scopes[i]))
                rc = refuse(403, msg, len, "the token's scope lacks one of this endpoint's roles");
    }
    const char *sub = json_string_value(json_object_get(answer, "sub"));
    if (!sub)
        sub = json_string_value(json_object_get(answer, "client_id"));
    snprintf(out->subject, sizeof out->subject, "oauth:%s", sub ? sub : "?");
    json_decref(answer);
    return rc;
}

int bl_custom_caller_auth(bl_api_server *s, const bl_custom_def *d, const bl_http_request *req,
                          const bl_ssrf_allowlist *allow, bl_custom_caller *out, char *msg, size_t msg_len)
{
    switch (d->auth) {
    case BL_CUSTOM_AUTH_API_KEY:
        return by_key(s, d, req, out, msg, msg_len);
    case BL_CUSTOM_AUTH_JWT:
        return by_jwt(s, d, req, out, msg, msg_len);
    case BL_CUSTOM_AUTH_OAUTH2:
        return by_oauth2(d, req, allow, out, msg, msg_len);
    case BL_CUSTOM_AUTH_NONE:
    default:
        snprintf(out->subject, sizeof out->subject, "ip:%s", bl_http_request_client_addr(req));
        return 0;
    }
}
