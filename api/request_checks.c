/* The checks every API request passes, in the order api/server.h gives,
 * then the route's handler, the request counter and the request log. */
#include "api/server_private.h"

#include "api/auth/key_cache.h"
#include "api/auth/session.h"
#include "api/input.h"
#include "core/clock.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The credential of a request: "Authorization: Bearer X" or "X-API-Key: X". */
static const char *request_credential(const bl_http_request *req)
{
    const char *key = bl_http_request_header(req, "X-API-Key");
    if (key && *key)
        return key;
    const char *authz = bl_http_request_header(req, "Authorization");
    if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
        authz += 7;
        while (*authz == ' ')
            authz++;
        return *authz ? authz : NULL;
    }
    return NULL;
}

/* Returns 1 authenticated, 0 refused (message in err), -1 failed. */
static int authenticate(bl_api_server *s, const bl_http_request *req, bl_api_auth *auth, bl_err *err)
{
    const char *cred = request_credential(req);
    if (!cred) {
        bl_err_set(err, BL_ENOTFOUND, "credentials required: an API key (Authorization: Bearer or "
                                      "X-API-Key) or an access token");
        return 0;
    }
    time_t now = bl_api_server_now(s);
    if (strncmp(cred, BL_API_KEY_PREFIX, strlen(BL_API_KEY_PREFIX)) == 0)
        return bl_api_server_authenticate_key(s, cred, auth, err);
    if (s->jwt_secret) {
        int rc = bl_session_access_verify(s->jwt_secret, cred, now, auth, err);
        if (rc == 1 && bl_session_revoked(s->revocations, auth->session_id)) {
            bl_err_set(err, BL_ENOTFOUND, "access token revoked: its session was logged out");
            return 0;
        }
        return rc;
    }
    bl_err_set(err, BL_ENOTFOUND, "API key not recognised");
    return 0;
}

int bl_api_server_authenticate_key(bl_api_server *s, const char *token, bl_api_auth *out, bl_err *err)
{
    char hash[BL_SHA256_HEX_SIZE];
    int shaped = bl_api_key_hash(token, hash, err);
    if (shaped <= 0)
        return shaped;
    bl_api_key_record rec;
    time_t now = bl_api_server_now(s);
    if (s->key_cache && bl_api_key_cache_get(s->key_cache, hash, &rec))
        return bl_api_key_decide(&rec, now, out, err);
    uint64_t epoch = s->key_cache ? bl_api_key_cache_epoch(s->key_cache) : 0;
    PGconn *conn = bl_api_acquire_pg(s, err);
    if (!conn)
        return -1;
    int found = bl_api_key_lookup(conn, hash, &rec, err);
    bl_pg_pool_release(s->pool, conn);
    if (found <= 0) {
        if (found == 0)
            bl_err_set(err, BL_ENOTFOUND, "API key not recognised");
        return found;
    }
    if (s->key_cache)
        bl_api_key_cache_put(s->key_cache, hash, &rec, epoch);
    return bl_api_key_decide(&rec, now, out, err);
}

void bl_api_server_forget_key(bl_api_server *s, const char *hash)
{
    if (s->key_cache)
        bl_api_key_cache_forget(s->key_cache, hash);
}

void bl_api_server_key_cache_counts(bl_api_server *s, uint64_t *hits, uint64_t *misses)
{
    *hits = *misses = 0;
    if (s->key_cache)
        bl_api_key_cache_counts(s->key_cache, hits, misses);
}

/* On the field-service surface a key's scopes read as its document says:
 * read for GET, write for POST, PUT and DELETE; admin routes stay admin. */
static bl_api_perm perm_needed(bl_api_access access, const char *method, bool field_service)
{
    if (access == BL_API_ADMIN)
        return BL_API_PERM_ADMIN;
    if (access == BL_API_WRITE)
        return BL_API_PERM_WRITE;
    if (strcmp(method, "DELETE") == 0 && !field_service)
        return BL_API_PERM_ADMIN;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return BL_API_PERM_READ;
    return BL_API_PERM_WRITE;
}

static bool method_writes(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* X-RateLimit-*: the tightest window's numbers; on the field-service
 * surface the limit shown is the per-minute one, as its document says
 * (Remaining and Reset still tell what the caller can really do). */
static void rate_headers(bl_http_response *resp, const bl_rate_verdict *v, bool field_service)
{
    char limit[24], remaining[24], reset[24];
    int64_t shown = field_service && v->window_limit[BL_RATE_MINUTE] > 0 ? v->window_limit[BL_RATE_MINUTE] : v->limit;
    snprintf(limit, sizeof limit, "%lld", (long long)shown);
    snprintf(remaining, sizeof remaining, "%lld", (long long)v->remaining);
    snprintf(reset, sizeof reset, "%lld", (long long)v->reset);
    bl_http_response_header(resp, "X-RateLimit-Limit", limit);
    bl_http_response_header(resp, "X-RateLimit-Remaining", remaining);
    bl_http_response_header(resp, "X-RateLimit-Reset", reset);
}

/* Reads the body as JSON under the input limits, or answers the error.
 * Returns 0 with *body set (NULL when no body came), or 1 when answered. */
static int take_body(bl_api_server *s, const bl_http_request *req, bl_http_response *resp, json_t **body)
{
    size_t len = 0;
    const char *text = bl_http_request_body(req, &len);
    *body = NULL;
    if (len == 0)
        return 0;
    if (!bl_api_content_type_is_json(bl_http_request_header(req, "Content-Type"))) {
        bl_api_fail(req, resp, 415, NULL, "request bodies must be application/json", NULL);
        return 1;
    }
    if (!bl_api_utf8_valid(text, len)) {
        bl_api_fail(req, resp, 400, "invalid_utf8", "request body is not valid UTF-8", NULL);
        return 1;
    }
    if (bl_api_json_depth(text, len, s->cfg.json_depth_max) > s->cfg.json_depth_max) {
        char msg[96];
        snprintf(msg, sizeof msg, "JSON nested deeper than %u levels", s->cfg.json_depth_max);
        bl_api_fail(req, resp, 400, "json_too_deep", msg, NULL);
        return 1;
    }
    bl_err err = {0};
    *body = bl_http_request_json(req, &err);
    if (!*body) {
        bl_api_fail(req, resp, 400, "malformed_json", err.msg, NULL);
        return 1;
    }
    return 0;
}

static void count_request(bl_api_server *s, int status)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    const char *values[] = {code, NULL};
    bl_counter *c = bl_metric_counter(s->requests, values, NULL);
    if (c)
        bl_counter_inc(c);
}

int bl_api_check_caller(route_target *t, const bl_http_request *req, bl_http_response *resp,
                        bl_api_checked *c)
{
    bl_api_server *s = t->server;
    const char *method = bl_http_request_method(req);
    bool field_service = t->surface == BL_API_SURFACE_FIELD_SERVICE;
    bl_api_auth *auth = &c->auth;
    bl_err err = {0};
    c->authed = false;
    c->limited = false;
    c->field_service = field_service;

    size_t header_bytes = 0;
    size_t header_count = bl_http_request_header_count(req, &header_bytes);
    if (header_count > s->cfg.header_count_max || header_bytes > s->cfg.header_bytes_max) {
        char msg[128];
        snprintf(msg, sizeof msg, "at most %zu headers of %zu bytes in all are accepted",
                 s->cfg.header_count_max, s->cfg.header_bytes_max);
        bl_api_fail(req, resp, 431, NULL, msg, NULL);
        return 1;
    }
    if (t->access == BL_API_PUBLIC)
        return 0;
    int a = authenticate(s, req, auth, &err);
    if (a < 0) {
        bl_log_error("api: authentication failed", BL_FS("request_id", bl_http_request_id(req)),
                     BL_FS("error", err.msg));
        bl_api_fail(req, resp, 503, NULL, "authentication is unavailable, try again", NULL);
        return 1;
    }
    if (a == 0) {
        bl_api_fail(req, resp, 401, NULL, err.msg, NULL);
        return 1;
    }
    c->authed = true;
    if (auth->key_id[0])
        bl_api_usage_record(s->usage, auth->key_id, bl_api_server_now(s));
    char subject[64];
    snprintf(subject, sizeof subject, "%s:%s", auth->key_id[0] ? "key" : "user",
             auth->key_id[0] ? auth->key_id : auth->user_id);
    int64_t limits[BL_RATE_WINDOWS] = {auth->rate_per_minute, auth->rate_per_hour, auth->rate_per_day,
                                       auth->rate_per_month};
    if (!limits[0] && !limits[1] && !limits[2] && !limits[3]) {
        if (field_service)
            limits[BL_RATE_MINUTE] = BL_API_FIELD_SERVICE_RATE_PER_MINUTE;
        else
            limits[BL_RATE_HOUR] = s->cfg.default_rate_per_hour;
    }
    if (bl_rate_limiter_check(s->limiter, subject, limits, bl_api_server_now(s), &c->verdict, &err) != 0) {
        bl_log_error("api: rate limit unavailable", BL_FS("request_id", bl_http_request_id(req)),
                     BL_FS("error", err.msg));
        bl_api_fail(req, resp, 503, NULL, "rate limiting is unavailable, try again", NULL);
        return 1;
    }
    c->limited = c->verdict.limit > 0;
    if (!c->verdict.allowed) {
        char retry[24];
        snprintf(retry, sizeof retry, "%lld", (long long)c->verdict.retry_after);
        char msg[128]; /* the Powalyze document's words */
        snprintf(msg, sizeof msg, "You have exceeded the rate limit of %lld requests per %s.",
                 (long long)c->verdict.limit, bl_rate_window_name(c->verdict.window));
        bl_api_fail(req, resp, 429, NULL, msg, NULL);
        bl_http_response_header(resp, "Retry-After", retry);
        return 1;
    }
    bl_api_perm need = perm_needed(t->access, method, field_service);
    if (auth->perm < need) {
        char msg[160]; /* on /v1 the Powalyze document's sentence first */
        snprintf(msg, sizeof msg, "%sthis needs the %s permission; the caller has %s",
                 field_service ? "" : "You do not have permission to perform this action. ",
                 bl_api_perm_name(need), bl_api_perm_name(auth->perm));
        bl_api_fail(req, resp, 403, NULL, msg, NULL);
        return 1;
    }
    if (auth->plan == BL_API_PLAN_DEMO && method_writes(method)) {
        bl_api_fail(req, resp, 403, "plan_required",
                    "the demo plan is read-only: creating keys, webhooks and commands is "
                    "available on the Pro plan",
                    NULL);
        return 1;
    }
    return 0;
}

void bl_api_answered(route_target *t, const bl_http_request *req, const bl_api_checked *c, int status,
                     int64_t start_us)
{
    count_request(t->server, status);
    bl_api_request_entry e = {.org_id = c->authed ? c->auth.org_id : NULL,
                              .key_id = c->authed ? c->auth.key_id : NULL,
                              .user_id = c->authed ? c->auth.user_id : NULL,
                              .request_id = bl_http_request_id(req), .method = t->method,
                              .route = t->pattern, .status = status,
                              .duration_us = bl_clock_mono_us() - start_us};
    bl_api_request_log_record(t->server->request_log, &e);
}

void bl_api_rate_headers(bl_http_response *resp, const bl_api_checked *c)
{
    if (c->limited)
        rate_headers(resp, &c->verdict, c->field_service);
}

/* Runs every check, then the route's handler. */
static int api_dispatch(route_target *t, const bl_http_request *req, bl_http_response *resp,
                        bl_api_checked *c)
{
    bl_api_request areq = {.http = req, .server = t->server};
    json_t *body = NULL;
    int rc = 0;
    if (bl_api_check_caller(t, req, resp, c) != 0)
        goto done;
    if (c->authed)
        areq.auth = &c->auth;
    if (take_body(t->server, req, resp, &body) != 0)
        goto done;
    areq.body = body;
    rc = t->handler(&areq, resp, t->ctx);
done:
    if (rc == 0)
        bl_api_rate_headers(resp, c);
    json_decref(body);
    return rc;
}

/* Counts the status of each answer after the handler ran and logs the
 * request (buffered; see api/request_log.h). */
int bl_api_checked_dispatch(const bl_http_request *req, bl_http_response *resp, void *target)
{
    route_target *t = target;
    bl_api_server *s = t->server;
    int64_t start = bl_clock_mono_us();
    bl_api_checked c = {0};
    int rc = 0;
    /* Past the bound, more requests inside would only wait in line for a
     * database connection or the bus's ack, each holding its thread and
     * memory: shedding them at once keeps the latency of those admitted
     * and tells the client when to come back. Health and metrics stay
     * answered. */
    bool counted = t->access != BL_API_PUBLIC;
    if (counted && atomic_fetch_add(&s->in_flight, 1) >= s->cfg.max_in_flight) {
        rc = bl_api_fail(req, resp, 503, "overloaded", "the server is at capacity; retry after a second", NULL);
        bl_http_response_header(resp, "Retry-After", "1");
    } else {
        rc = api_dispatch(t, req, resp, &c);
    }
    if (counted)
        atomic_fetch_sub(&s->in_flight, 1);
    bl_api_answered(t, req, &c, rc == 0 ? bl_http_response_status_code(resp) : 500, start);
    return rc;
}
