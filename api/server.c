#include "api/server.h"

#include "api/input.h"
#include "api/keys.h"
#include "api/rate_limit.h"
#include "api/request_log.h"
#include "api/routes.h"
#include "api/session.h"
#include "core/clock.h"
#include "core/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct route_target {
    bl_api_server *server;
    char *method, *pattern;
    bl_api_access access;
    bl_api_handler_fn handler;
    void *ctx;
    json_t *operation; /* OpenAPI operation, or NULL */
    struct route_target *next;
} route_target;

typedef struct free_hook {
    void (*fn)(void *ctx);
    void *ctx;
    struct free_hook *next;
} free_hook;

struct bl_api_server {
    bl_api_config cfg;
    char *host;
    char *jwt_secret;
    bl_pg_pool *pool;
    bl_http_server *http;
    bl_metrics *metrics;
    bl_metric *requests;
    bl_rate_limiter *limiter;
    bl_api_usage *usage;
    route_target *targets, **targets_tail;
    size_t target_count;
    free_hook *free_hooks;
    bl_api_request_log *request_log;
    char *brokers, *registry_url, *schemas_dir, *topic_prefix;
    pthread_t flusher;
    bool flusher_running;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stopping;
};

/* ---- names ---- */

bl_api_perm bl_api_perm_parse(const char *t)
{
    if (!t)
        return BL_API_PERM_NONE;
    if (strcmp(t, "read") == 0)
        return BL_API_PERM_READ;
    if (strcmp(t, "write") == 0)
        return BL_API_PERM_WRITE;
    if (strcmp(t, "admin") == 0)
        return BL_API_PERM_ADMIN;
    return BL_API_PERM_NONE;
}

const char *bl_api_perm_name(bl_api_perm p)
{
    static const char *const names[] = {"none", "read", "write", "admin"};
    return p <= BL_API_PERM_ADMIN ? names[p] : "none";
}

int bl_api_plan_parse(const char *t, bl_api_plan *out)
{
    static const char *const names[] = {"demo", "pro", "enterprise"};
    for (int i = 0; t && i < 3; i++)
        if (strcmp(t, names[i]) == 0) {
            *out = (bl_api_plan)i;
            return 0;
        }
    return -1;
}

const char *bl_api_plan_name(bl_api_plan p)
{
    static const char *const names[] = {"demo", "pro", "enterprise"};
    return p <= BL_API_PLAN_ENTERPRISE ? names[p] : "demo";
}

/* ---- errors ---- */

const char *bl_api_status_code(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 413: return "payload_too_large";
    case 415: return "unsupported_media_type";
    case 422: return "validation_failed";
    case 429: return "rate_limited";
    case 431: return "headers_too_large";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal_error" : "error";
    }
}

json_t *bl_api_error_body(int status, const char *code, const char *message,
                          const char *request_id, json_t *field_errors)
{
    json_t *e = json_pack("{s:s, s:s, s:s}", "code", code ? code : bl_api_status_code(status),
                          "message", message ? message : "", "request_id", request_id ? request_id : "");
    if (e && field_errors)
        json_object_set(e, "field_errors", field_errors);
    json_decref(field_errors);
    return e ? json_pack("{s:o}", "error", e) : NULL;
}

/* The core server's error body (404, 405, 413, bad paths), in the API shape. */
static json_t *core_error_body(int status, const char *message, const char *request_id, void *ctx)
{
    (void)ctx;
    return bl_api_error_body(status, NULL, message, request_id, NULL);
}

int bl_api_fail(const bl_http_request *req, bl_http_response *resp, int status, const char *code,
                const char *message, json_t *field_errors)
{
    json_t *body = bl_api_error_body(status, code, message, bl_http_request_id(req), field_errors);
    if (!body)
        return -1;
    int rc = bl_http_response_json(resp, status, body);
    json_decref(body);
    return rc;
}

/* ---- accessors ---- */

bl_pg_pool *bl_api_server_pool(const bl_api_server *s) { return s->pool; }
bl_metrics *bl_api_server_metrics(const bl_api_server *s) { return s->metrics; }
const bl_api_config *bl_api_server_config(const bl_api_server *s) { return &s->cfg; }

time_t bl_api_server_now(const bl_api_server *s)
{
    return s->cfg.clock ? s->cfg.clock(s->cfg.clock_ctx) : time(NULL);
}

PGconn *bl_api_acquire_pg(bl_api_server *s, bl_err *err)
{
    return bl_pg_pool_acquire(s->pool, 5000, err);
}

int bl_api_answer_json_query(bl_api_server *s, bl_http_response *resp, const char *sql, int nparams,
                             const char *const *params)
{
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(s, &err);
    if (!conn)
        return -1;
    PGresult *r = bl_pg_exec(conn, sql, nparams, params, &err);
    bl_pg_pool_release(s->pool, conn);
    if (!r)
        return -1;
    json_t *data = PQntuples(r) == 1 ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    json_t *out = data ? json_pack("{s:o}", "data", data) : NULL;
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

/* ---- the checks every request passes ---- */

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
    if (strncmp(cred, BL_API_KEY_PREFIX, strlen(BL_API_KEY_PREFIX)) == 0) {
        PGconn *conn = bl_api_acquire_pg(s, err);
        if (!conn)
            return -1;
        int rc = bl_api_key_authenticate(conn, cred, now, auth, err);
        bl_pg_pool_release(s->pool, conn);
        return rc;
    }
    if (s->jwt_secret)
        return bl_session_access_verify(s->jwt_secret, cred, now, auth, err);
    bl_err_set(err, BL_ENOTFOUND, "API key not recognised");
    return 0;
}

static bl_api_perm perm_needed(bl_api_access access, const char *method)
{
    if (access == BL_API_ADMIN || strcmp(method, "DELETE") == 0)
        return BL_API_PERM_ADMIN;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return BL_API_PERM_READ;
    return BL_API_PERM_WRITE;
}

static bool method_writes(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static void rate_headers(bl_http_response *resp, const bl_rate_verdict *v)
{
    char limit[24], remaining[24], reset[24];
    snprintf(limit, sizeof limit, "%lld", (long long)v->limit);
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

/* Runs every check, then the route's handler; *authed tells whether auth
 * was filled. */
static int api_dispatch(route_target *t, const bl_http_request *req, bl_http_response *resp,
                        bl_api_auth *out_auth, bool *authed)
{
    bl_api_server *s = t->server;
    const char *method = bl_http_request_method(req);
    bl_api_auth auth;
    bl_api_request areq = {.http = req, .server = s};
    json_t *body = NULL;
    bl_rate_verdict verdict = {0};
    bool limited = false;
    int rc = 0;
    bl_err err = {0};

    size_t header_bytes = 0;
    size_t header_count = bl_http_request_header_count(req, &header_bytes);
    if (header_count > s->cfg.header_count_max || header_bytes > s->cfg.header_bytes_max) {
        char msg[128];
        snprintf(msg, sizeof msg, "at most %zu headers of %zu bytes in all are accepted",
                 s->cfg.header_count_max, s->cfg.header_bytes_max);
        bl_api_fail(req, resp, 431, NULL, msg, NULL);
        goto done;
    }
    if (t->access != BL_API_PUBLIC) {
        int a = authenticate(s, req, &auth, &err);
        if (a < 0) {
            bl_log_error("api: authentication failed", BL_FS("request_id", bl_http_request_id(req)),
                         BL_FS("error", err.msg));
            bl_api_fail(req, resp, 503, NULL, "authentication is unavailable, try again", NULL);
            goto done;
        }
        if (a == 0) {
            bl_api_fail(req, resp, 401, NULL, err.msg, NULL);
            goto done;
        }
        areq.auth = &auth;
        *out_auth = auth;
        *authed = true;
        if (auth.key_id[0])
            bl_api_usage_record(s->usage, auth.key_id, bl_api_server_now(s));
        char subject[64];
        snprintf(subject, sizeof subject, "%s:%s", auth.key_id[0] ? "key" : "user",
                 auth.key_id[0] ? auth.key_id : auth.user_id);
        int64_t limits[BL_RATE_WINDOWS] = {auth.rate_per_minute, auth.rate_per_hour, auth.rate_per_day};
        if (!limits[0] && !limits[1] && !limits[2])
            limits[BL_RATE_HOUR] = s->cfg.default_rate_per_hour;
        if (bl_rate_limiter_check(s->limiter, subject, limits, bl_api_server_now(s), &verdict, &err) != 0) {
            bl_log_error("api: rate limit unavailable", BL_FS("request_id", bl_http_request_id(req)),
                         BL_FS("error", err.msg));
            bl_api_fail(req, resp, 503, NULL, "rate limiting is unavailable, try again", NULL);
            goto done;
        }
        limited = verdict.limit > 0;
        if (!verdict.allowed) {
            char retry[24];
            snprintf(retry, sizeof retry, "%lld", (long long)verdict.retry_after);
            bl_api_fail(req, resp, 429, NULL, "rate limit exceeded for this key", NULL);
            bl_http_response_header(resp, "Retry-After", retry);
            goto done;
        }
        bl_api_perm need = perm_needed(t->access, method);
        if (auth.perm < need) {
            char msg[128];
            snprintf(msg, sizeof msg, "this needs the %s permission; the caller has %s",
                     bl_api_perm_name(need), bl_api_perm_name(auth.perm));
            bl_api_fail(req, resp, 403, NULL, msg, NULL);
            goto done;
        }
        if (auth.plan == BL_API_PLAN_DEMO && method_writes(method)) {
            bl_api_fail(req, resp, 403, "plan_required",
                        "the demo plan is read-only: creating keys, webhooks and commands is "
                        "available on the Pro plan",
                        NULL);
            goto done;
        }
    }
    if (take_body(s, req, resp, &body) != 0)
        goto done;
    areq.body = body;
    rc = t->handler(&areq, resp, t->ctx);
done:
    if (rc == 0 && limited)
        rate_headers(resp, &verdict);
    json_decref(body);
    return rc;
}

/* ---- lifecycle ---- */

static void *usage_flusher(void *arg)
{
    bl_api_server *s = arg;
    pthread_mutex_lock(&s->stop_lock);
    while (!s->stopping) {
        struct timespec until = bl_clock_deadline_after_ms(CLOCK_REALTIME, s->cfg.usage_flush_ms);
        pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, &until);
        pthread_mutex_unlock(&s->stop_lock);
        bl_err err = {0};
        if (bl_api_server_flush_usage(s, &err) != 0)
            bl_log_warn("api: key usage not written yet", BL_FS("error", err.msg));
        pthread_mutex_lock(&s->stop_lock);
    }
    pthread_mutex_unlock(&s->stop_lock);
    return NULL;
}

int bl_api_server_flush_usage(bl_api_server *s, bl_err *err)
{
    PGconn *conn = bl_api_acquire_pg(s, err);
    if (!conn)
        return -1;
    int rc = bl_api_usage_flush(s->usage, conn, err);
    bl_pg_pool_release(s->pool, conn);
    return rc;
}

bl_api_server *bl_api_server_new(const bl_api_config *cfg, bl_pg_pool *pool, bl_err *err)
{
    bl_api_server *s = calloc(1, sizeof *s);
    if (!s) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->pool = pool;
    s->targets_tail = &s->targets;
    pthread_mutex_init(&s->stop_lock, NULL);
    pthread_cond_init(&s->stop_cond, NULL);
    if (!s->cfg.header_count_max)
        s->cfg.header_count_max = 64;
    if (!s->cfg.header_bytes_max)
        s->cfg.header_bytes_max = 16 * 1024;
    if (!s->cfg.json_depth_max)
        s->cfg.json_depth_max = 32;
    if (!s->cfg.client_timeout_s)
        s->cfg.client_timeout_s = 15;
    if (!s->cfg.default_rate_per_hour)
        s->cfg.default_rate_per_hour = 1000;
    if (!s->cfg.usage_flush_ms)
        s->cfg.usage_flush_ms = 1000;
    s->host = strdup(cfg->host ? cfg->host : "127.0.0.1");
    s->cfg.host = s->host;
    if (cfg->jwt_secret && strlen(cfg->jwt_secret) < 32) {
        bl_err_set(err, BL_EINVAL, "api: the JWT secret must be at least 32 bytes");
        goto fail;
    }
    s->jwt_secret = cfg->jwt_secret ? strdup(cfg->jwt_secret) : NULL;
    s->cfg.jwt_secret = s->jwt_secret;
    if (!s->cfg.command_ack_timeout_ms)
        s->cfg.command_ack_timeout_ms = 10000;
    struct {
        const char *from;
        char **to;
        const char **view;
    } texts[] = {{cfg->kafka_brokers, &s->brokers, &s->cfg.kafka_brokers},
                 {cfg->registry_url, &s->registry_url, &s->cfg.registry_url},
                 {cfg->schemas_dir, &s->schemas_dir, &s->cfg.schemas_dir},
                 {cfg->topic_prefix, &s->topic_prefix, &s->cfg.topic_prefix}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (texts[i].from && !(*texts[i].to = strdup(texts[i].from))) {
            bl_err_set(err, BL_ENOMEM, "api: out of memory");
            goto fail;
        }
        *texts[i].view = *texts[i].to;
    }
    static const char *const labels[] = {"code", NULL};
    bl_http_server_config hc = {.host = s->host, .port = cfg->port, .body_cap = cfg->body_cap,
                                .connection_timeout_s = s->cfg.client_timeout_s,
                                /* above our own header caps, so they answer in our shape */
                                .connection_memory = 4 * s->cfg.header_bytes_max + 16 * 1024,
                                .error_body = core_error_body};
    if (!s->host || (cfg->jwt_secret && !s->jwt_secret) || !(s->metrics = bl_metrics_new()) ||
        !(s->limiter = bl_rate_limiter_new(pool)) || !(s->usage = bl_api_usage_new())) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        goto fail;
    }
    if (!(s->request_log = bl_api_request_log_new(pool, cfg->request_log_flush_ms, err)))
        goto fail;
    if (!(s->requests = bl_metrics_counter(s->metrics, "busline_api_requests_total",
                                           "API requests answered after routing, by status", labels, err)) ||
        !(s->http = bl_http_server_new(&hc, err)))
        goto fail;
    for (size_t i = 0; bl_api_route_files[i]; i++)
        if (bl_api_route_files[i](s, err) != 0)
            goto fail;
    return s;
fail:
    bl_api_server_free(s);
    return NULL;
}

static int64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Counts the status of each answer after the handler ran and logs the
 * request (buffered; see api/request_log.h). */
static int counted_dispatch(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    route_target *t = ctx;
    int64_t start = monotonic_us();
    bl_api_auth auth;
    bool authed = false;
    int rc = api_dispatch(t, req, resp, &auth, &authed);
    int status = rc == 0 ? bl_http_response_status_code(resp) : 500;
    count_request(t->server, status);
    bl_api_request_entry e = {.org_id = authed ? auth.org_id : NULL,
                              .key_id = authed ? auth.key_id : NULL,
                              .user_id = authed ? auth.user_id : NULL,
                              .request_id = bl_http_request_id(req), .method = t->method,
                              .route = t->pattern, .status = status,
                              .duration_us = monotonic_us() - start};
    bl_api_request_log_record(t->server->request_log, &e);
    return rc;
}

int bl_api_server_routes(bl_api_server *s, const bl_api_route *table, size_t n, void *ctx, bl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        route_target *t = calloc(1, sizeof *t);
        if (!t)
            return bl_err_set(err, BL_ENOMEM, "api: out of memory");
        *t = (route_target){.server = s, .access = table[i].access, .handler = table[i].handler,
                            .ctx = ctx, .method = strdup(table[i].method),
                            .pattern = strdup(table[i].pattern)};
        *s->targets_tail = t;
        s->targets_tail = &t->next;
        s->target_count++;
        if (!t->method || !t->pattern)
            return bl_err_set(err, BL_ENOMEM, "api: out of memory");
        if (bl_http_server_route(s->http, table[i].method, table[i].pattern, counted_dispatch, t, err) != 0)
            return bl_err_wrap(err, "api: route %s %s", table[i].method, table[i].pattern);
    }
    return 0;
}

int bl_api_server_on_free(bl_api_server *s, void (*fn)(void *ctx), void *ctx, bl_err *err)
{
    free_hook *h = calloc(1, sizeof *h);
    if (!h) {
        fn(ctx);
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    }
    *h = (free_hook){.fn = fn, .ctx = ctx, .next = s->free_hooks};
    s->free_hooks = h;
    return 0;
}

int bl_api_server_document(bl_api_server *s, const char *method, const char *pattern,
                           json_t *operation, bl_err *err)
{
    for (route_target *t = s->targets; t; t = t->next) {
        if (strcmp(t->method, method) == 0 && strcmp(t->pattern, pattern) == 0) {
            json_decref(t->operation);
            t->operation = operation;
            return 0;
        }
    }
    json_decref(operation);
    return bl_err_set(err, BL_ENOTFOUND, "api: no route %s %s to document", method, pattern);
}

size_t bl_api_server_route_count(const bl_api_server *s)
{
    return s->target_count;
}

int bl_api_server_route_at(const bl_api_server *s, size_t i, const char **method,
                           const char **pattern, bl_api_access *access, const json_t **operation)
{
    route_target *t = s->targets;
    for (size_t k = 0; t && k < i; k++)
        t = t->next;
    if (!t)
        return -1;
    *method = t->method;
    *pattern = t->pattern;
    *access = t->access;
    *operation = t->operation;
    return 0;
}

int bl_api_server_flush_requests(bl_api_server *s, bl_err *err)
{
    return bl_api_request_log_flush(s->request_log, err);
}

int bl_api_server_start(bl_api_server *s, bl_err *err)
{
    if (bl_http_server_start(s->http, err) != 0)
        return -1;
    if (bl_api_request_log_start(s->request_log, err) != 0)
        return -1;
    if (pthread_create(&s->flusher, NULL, usage_flusher, s) != 0)
        return bl_err_set(err, BL_EIO, "api: cannot start the usage flusher");
    s->flusher_running = true;
    return 0;
}

unsigned short bl_api_server_port(const bl_api_server *s)
{
    return s ? bl_http_server_port(s->http) : 0;
}

void bl_api_server_free(bl_api_server *s)
{
    if (!s)
        return;
    bl_http_server_free(s->http);
    if (s->flusher_running) {
        pthread_mutex_lock(&s->stop_lock);
        s->stopping = true;
        pthread_cond_signal(&s->stop_cond);
        pthread_mutex_unlock(&s->stop_lock);
        pthread_join(s->flusher, NULL);
    }
    if (s->usage && s->pool) {
        bl_err err = {0};
        if (bl_api_server_flush_usage(s, &err) != 0)
            bl_log_warn("api: key usage lost at stop", BL_FS("error", err.msg));
    }
    bl_api_request_log_free(s->request_log);
    while (s->free_hooks) {
        free_hook *h = s->free_hooks;
        s->free_hooks = h->next;
        h->fn(h->ctx);
        free(h);
    }
    route_target *t = s->targets;
    while (t) {
        route_target *next = t->next;
        free(t->method);
        free(t->pattern);
        json_decref(t->operation);
        free(t);
        t = next;
    }
    bl_api_usage_free(s->usage);
    bl_rate_limiter_free(s->limiter);
    bl_metrics_free(s->metrics);
    free(s->host);
    free(s->jwt_secret);
    free(s->brokers);
    free(s->registry_url);
    free(s->schemas_dir);
    free(s->topic_prefix);
    pthread_cond_destroy(&s->stop_cond);
    pthread_mutex_destroy(&s->stop_lock);
    free(s);
}
