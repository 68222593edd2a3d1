#include "tests/support/fake_oauth.h"

#include "core/crypto.h"
#include "core/http_route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The decoded value of key in a form body, into out. Returns 0 or -1. */
static int form_get(const char *body, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (const char *p = body; p && *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == '=')
            return bl_http_percent_decode(p + kl + 1, len - kl - 1, true, out, cap) >= 0 ? 0 : -1;
        p = end ? end + 1 : NULL;
    }
    return -1;
}

static int refuse(fake_oauth *f, bl_http_response *resp, int status, const char *error, const char *why)
{
    snprintf(f->last_error, sizeof f->last_error, "%s", why);
    f->bad_requests++;
    char body[512];
    snprintf(body, sizeof body, "{\"error\":\"%s\",\"error_description\":\"%s\"}", error, why);
    bl_http_response_status(resp, status);
    return bl_http_response_body_copy(resp, body, strlen(body), "application/json");
}

static int issue(fake_oauth *f, bl_http_response *resp, bool with_refresh)
{
    f->issued++;
    snprintf(f->access, sizeof f->access, "ya29.access-%d", f->issued);
    if (with_refresh)
        snprintf(f->refresh, sizeof f->refresh, "1//refresh-%d", f->issued);
    char body[512];
    snprintf(body, sizeof body,
             "{\"access_token\":\"%s\",\"expires_in\":3599,%s%s%s\"scope\":\"openid "
             "https://www.googleapis.com/auth/calendar.events\",\"token_type\":\"Bearer\"}",
             f->access, with_refresh ? "\"refresh_token\":\"" : "", with_refresh ? f->refresh : "",
             with_refresh ? "\"," : "");
    bl_http_response_status(resp, 200);
    return bl_http_response_body_copy(resp, body, strlen(body), "application/json");
}

static int on_token(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    fake_oauth *f = ctx;
    size_t len = 0;
    const char *body = bl_http_request_body(req, &len);
    char grant[64] = "", id[128] = "", secret[128] = "", v[512] = "";
    const char *ct = bl_http_request_header(req, "Content-Type");
    pthread_mutex_lock(&f->lock);
    int rc;
    if (!ct || strncmp(ct, "application/x-www-form-urlencoded", 33) != 0)
        rc = refuse(f, resp, 400, "invalid_request", "not form encoded");
    else if (form_get(body, "grant_type", grant, sizeof grant) != 0 || form_get(body, "client_id", id, sizeof id) ||
             form_get(body, "client_secret", secret, sizeof secret) || strcmp(id, f->client_id) ||
             strcmp(secret, f->client_secret))
        rc = refuse(f, resp, 401, "invalid_client", "The OAuth client was not found.");
    else if (strcmp(grant, "authorization_code") == 0) {
        char verifier[128] = "", challenge[64] = "";
        uint8_t digest[BL_SHA256_LEN];
        bl_err err = {0};
        if (form_get(body, "code", v, sizeof v) || strcmp(v, "4/good-code"))
            rc = refuse(f, resp, 400, "invalid_grant", "Malformed auth code.");
        else if (form_get(body, "redirect_uri", v, sizeof v) || strcmp(v, f->redirect_uri))
            rc = refuse(f, resp, 400, "redirect_uri_mismatch", "Bad Request");
        else if (form_get(body, "code_verifier", verifier, sizeof verifier) ||
                 bl_sha256(verifier, strlen(verifier), digest, &err) ||
                 bl_base64_encode(digest, sizeof digest, challenge, sizeof challenge, &err))
            rc = refuse(f, resp, 400, "invalid_grant", "Missing code verifier.");
        else {
            for (char *c = challenge; *c; c++)
                *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
            challenge[strcspn(challenge, "=")] = '\0';
            rc = strcmp(challenge, f->challenge) ? refuse(f, resp, 400, "invalid_grant", "Invalid code verifier.")
                                                 : issue(f, resp, true);
        }
    } else if (strcmp(grant, "refresh_token") == 0) {
        if (form_get(body, "refresh_token", v, sizeof v) || strcmp(v, f->refresh) || f->refuse_refresh)
            rc = refuse(f, resp, 400, "invalid_grant", "Token has been expired or revoked.");
        else {
            f->refreshes++;
            rc = issue(f, resp, false); /* Google keeps the refresh token */
        }
    } else
        rc = refuse(f, resp, 400, "unsupported_grant_type", "Invalid grant_type");
    pthread_mutex_unlock(&f->lock);
    return rc;
}

static int on_userinfo(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    fake_oauth *f = ctx;
    const char *authz = bl_http_request_header(req, "Authorization");
    pthread_mutex_lock(&f->lock);
    bool ok = authz && strncmp(authz, "Bearer ", 7) == 0 && strcmp(authz + 7, f->access) == 0;
    if (ok && f->reject_next_401 > 0) {
        f->reject_next_401--;
        ok = false;
    }
    int fail = ok ? f->fail_next_status : 0;
    char fail_body[256];
    snprintf(fail_body, sizeof fail_body, "%s", f->fail_next_body);
    f->fail_next_status = 0;
    pthread_mutex_unlock(&f->lock);
    if (fail) {
        bl_http_response_status(resp, fail);
        return bl_http_response_body_copy(resp, fail_body, strlen(fail_body), "application/json");
    }
    if (!ok) {
        const char *e = "{\"error\":\"invalid_request\",\"error_description\":\"Invalid Credentials\"}";
        bl_http_response_status(resp, 401);
        return bl_http_response_body_copy(resp, e, strlen(e), "application/json");
    }
    const char *me = "{\"sub\":\"1234\",\"email\":\"planner@example.com\",\"email_verified\":true}";
    return bl_http_response_body_copy(resp, me, strlen(me), "application/json");
}

static int on_revoke(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    fake_oauth *f = ctx;
    size_t len = 0;
    const char *body = bl_http_request_body(req, &len);
    char token[128] = "";
    pthread_mutex_lock(&f->lock);
    int ok = form_get(body, "token", token, sizeof token) == 0 &&
             (strcmp(token, f->refresh) == 0 || strcmp(token, f->access) == 0);
    if (ok) {
        f->revokes++;
        f->refresh[0] = f->access[0] = '\0';
    }
    pthread_mutex_unlock(&f->lock);
    if (!ok)
        return refuse(f, resp, 400, "invalid_token", "Token expired or revoked");
    return bl_http_response_body_copy(resp, "{}", 2, "application/json");
}

int fake_oauth_start(fake_oauth *f, const char *client_id, const char *client_secret)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    snprintf(f->client_id, sizeof f->client_id, "%s", client_id);
    snprintf(f->client_secret, sizeof f->client_secret, "%s", client_secret);
    bl_err err = {0};
    bl_http_server_config cfg = {0};
    if (!(f->http = bl_http_server_new(&cfg, &err)) ||
        bl_http_server_route(f->http, "POST", "/token", on_token, f, &err) ||
        bl_http_server_route(f->http, "POST", "/:tenant/oauth2/v2.0/token", on_token, f, &err) ||
        bl_http_server_route(f->http, "GET", "/oauth2/v3/userinfo", on_userinfo, f, &err) ||
        bl_http_server_route(f->http, "POST", "/revoke", on_revoke, f, &err) ||
        bl_http_server_start(f->http, &err)) {
        fprintf(stderr, "fake oauth: %s\n", err.msg);
        return -1;
    }
    return 0;
}

unsigned short fake_oauth_port(const fake_oauth *f)
{
    return bl_http_server_port(f->http);
}

void fake_oauth_stop(fake_oauth *f)
{
    bl_http_server_free(f->http);
    f->http = NULL;
    pthread_mutex_destroy(&f->lock);
}
