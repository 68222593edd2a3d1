#include "api/server_private.h"

#include "api/auth/key_cache.h"

#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- accessors ---- */

bl_pg_pool *bl_api_server_pool(const bl_api_server *s) { return s->pool; }
bl_metrics *bl_api_server_metrics(const bl_api_server *s) { return s->metrics; }
const bl_api_config *bl_api_server_config(const bl_api_server *s) { return &s->cfg; }
bl_session_revocations *bl_api_server_revocations(const bl_api_server *s) { return s->revocations; }

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

/* ---- lifecycle ---- */

static void flush_usage_now(void *arg)
{
    bl_err err = {0};
    if (bl_api_server_flush_usage(arg, &err) != 0)
        bl_log_warn("api: key usage not written yet", BL_FS("error", err.msg));
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

bl_api_server *bl_api_server_create(const bl_api_config *cfg, bl_pg_pool *pool, bl_err *err)
{
    bl_api_server *s = calloc(1, sizeof *s);
    if (!s) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->pool = pool;
    s->targets_tail = &s->targets;
    pthread_mutex_init(&s->shared_lock, NULL);
    if (!s->cfg.upload_cap)
        s->cfg.upload_cap = 25 * 1024 * 1024;
    if (!s->cfg.upload_concurrency)
        s->cfg.upload_concurrency = 4;
    if (!s->cfg.header_count_max)
        s->cfg.header_count_max = 64;
    if (!s->cfg.header_bytes_max)
        s->cfg.header_bytes_max = 16 * 1024;
    if (!s->cfg.json_depth_max)
        s->cfg.json_depth_max = 32;
    if (!s->cfg.client_timeout_s)
        s->cfg.client_timeout_s = 15;
    /* thread per connection: above the 1,024 connections the API is measured
     * with (tests/bench/api.sh), a bound on its threads and memory */
    if (!s->cfg.connection_limit)
        s->cfg.connection_limit = 1100;
    if (!s->cfg.max_in_flight)
        s->cfg.max_in_flight = 256;
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
    if (!s->cfg.command_wait_ms)
        s->cfg.command_wait_ms = 5000;
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
    const char *field_service_prefix = cfg->field_service_prefix ? cfg->field_service_prefix : "/api";
    if (bl_api_surface_prefix_check(field_service_prefix, "field-service prefix", err) != 0)
        goto fail;
    const char *attendance_prefix = cfg->attendance_prefix ? cfg->attendance_prefix : "/attendance/api";
    if (bl_api_surface_prefix_check(attendance_prefix, "attendance prefix", err) != 0 ||
        bl_api_surface_prefixes_apart(field_service_prefix, attendance_prefix, err) != 0 ||
        bl_api_surface_prefixes_apart(field_service_prefix, "/custom", err) != 0 ||
        bl_api_surface_prefixes_apart(attendance_prefix, "/custom", err) != 0)
        goto fail;
    s->surface_prefix[BL_API_SURFACE_V1] = strdup("/v1");
    s->surface_prefix[BL_API_SURFACE_FIELD_SERVICE] = strdup(field_service_prefix);
    s->surface_prefix[BL_API_SURFACE_ATTENDANCE] = strdup(attendance_prefix);
    s->surface_prefix[BL_API_SURFACE_CUSTOM] = strdup("/custom");
    s->cfg.field_service_prefix = s->surface_prefix[BL_API_SURFACE_FIELD_SERVICE];
    s->cfg.attendance_prefix = s->surface_prefix[BL_API_SURFACE_ATTENDANCE];
    static const char *const labels[] = {"code", NULL};
    /* the core server's own answers (404, 405, 413, bad paths) come in the
     * shape of the surface the path belongs to */
    bl_http_server_config hc = {.host = s->host, .port = cfg->port, .body_cap = cfg->body_cap,
                                .connection_timeout_s = s->cfg.client_timeout_s,
                                .connection_limit = s->cfg.connection_limit,
                                /* above our own header caps, so they answer in our shape */
                                .connection_memory = 4 * s->cfg.header_bytes_max + 16 * 1024,
                                .error_body = bl_api_core_error_body, .error_body_ctx = s, .owner = s};
    if (!s->host || (cfg->jwt_secret && !s->jwt_secret) || !s->surface_prefix[BL_API_SURFACE_V1] ||
        !s->cfg.field_service_prefix || !s->cfg.attendance_prefix || !s->surface_prefix[BL_API_SURFACE_CUSTOM] || !(s->metrics = bl_metrics_new()) ||
        !(s->limiter = bl_rate_limiter_new(pool)) || !(s->usage = bl_api_usage_new())) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        goto fail;
    }
    if (!(s->request_log = bl_api_request_log_new(pool, cfg->request_log_flush_ms, err)))
        goto fail;
    if (s->jwt_secret && pool && !(s->revocations = bl_session_revocations_new(bl_pg_pool_conninfo(pool), err)))
        goto fail;
    if (pool && !(s->key_cache = bl_api_key_cache_new(bl_pg_pool_conninfo(pool), err)))
        goto fail;
    if (!(s->requests = bl_metrics_counter(s->metrics, "busline_api_requests_total",
                                           "API requests answered after routing, by status", labels, err)) ||
        !(s->http = bl_http_server_new(&hc, err)))
        goto fail;
    return s;
fail:
    bl_api_server_free(s);
    return NULL;
}

/* The whole pattern of a route of surface (malloc'd, or NULL). */
static char *surface_pattern(const bl_api_server *s, bl_api_surface surface, const char *pattern)
{
    const char *prefix = surface == BL_API_SURFACE_V1 ? "" : s->surface_prefix[surface];
    size_t n = strlen(prefix) + strlen(pattern) + 1;
    char *whole = malloc(n);
    if (whole)
        snprintf(whole, n, "%s%s", prefix, pattern);
    return whole;
}

/* Adds route proto's bookkeeping and its core route (streamed when
 * proto->stream); proto's pattern is relative to its surface's prefix. */
static int add_target(bl_api_server *s, const route_target *proto, bl_err *err)
{
    if (proto->surface < BL_API_SURFACE_V1 || proto->surface >= BL_API_SURFACE_COUNT)
        return bl_err_set(err, BL_EINVAL, "api: no surface %d", (int)proto->surface);
    route_target *t = calloc(1, sizeof *t);
    if (!t)
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    *t = *proto;
    t->method = strdup(proto->method);
    t->pattern = surface_pattern(s, proto->surface, proto->pattern);
    *s->targets_tail = t;
    s->targets_tail = &t->next;
    s->target_count++;
    if (!t->method || !t->pattern)
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    int added = t->stream ? bl_http_server_stream_route(s->http, t->method, t->pattern, &bl_api_stream_steps,
                                                        s->cfg.upload_cap, t, err)
                          : bl_http_server_route(s->http, t->method, t->pattern, bl_api_checked_dispatch, t, err);
    if (added != 0)
        return bl_err_wrap(err, "api: route %s %s", t->method, t->pattern);
    return 0;
}

int bl_api_server_surface_routes(bl_api_server *s, bl_api_surface surface, const bl_api_route *table,
                                 size_t n, void *ctx, bl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        route_target proto = {.server = s, .access = table[i].access, .surface = surface,
                              .handler = table[i].handler, .ctx = ctx, .method = (char *)table[i].method,
                              .pattern = (char *)table[i].pattern};
        if (add_target(s, &proto, err) != 0)
            return -1;
    }
    return 0;
}

int bl_api_server_surface_stream_route(bl_api_server *s, bl_api_surface surface, const char *method,
                                       const char *pattern, bl_api_access access,
                                       const bl_api_stream_fns *fns, void *ctx, bl_err *err)
{
    if (!fns || !fns->begin || !fns->chunk || !fns->end || !fns->release)
        return bl_err_set(err, BL_EINVAL, "api: a streamed route needs its four steps");
    route_target proto = {.server = s, .access = access, .surface = surface, .stream = fns, .ctx = ctx,
                          .method = (char *)method, .pattern = (char *)pattern};
    return add_target(s, &proto, err);
}

int bl_api_server_routes(bl_api_server *s, const bl_api_route *table, size_t n, void *ctx, bl_err *err)
{
    return bl_api_server_surface_routes(s, BL_API_SURFACE_V1, table, n, ctx, err);
}

const char *bl_api_server_surface_prefix(const bl_api_server *s, bl_api_surface surface)
{
    return surface >= BL_API_SURFACE_V1 && surface < BL_API_SURFACE_COUNT ? s->surface_prefix[surface] : NULL;
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

int bl_api_server_surface_document(bl_api_server *s, bl_api_surface surface, const char *method,
                                   const char *pattern, json_t *operation, bl_err *err)
{
    char *whole = surface_pattern(s, surface, pattern);
    if (!whole) {
        json_decref(operation);
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    }
    int rc = bl_api_server_document(s, method, whole, operation, err);
    free(whole);
    return rc;
}

size_t bl_api_server_route_count(const bl_api_server *s)
{
    return s->target_count;
}

int bl_api_server_route_at(const bl_api_server *s, size_t i, const char **method, const char **pattern,
                           bl_api_access *access, bl_api_surface *surface, const json_t **operation)
{
    route_target *t = s->targets;
    for (size_t k = 0; t && k < i; k++)
        t = t->next;
    if (!t)
        return -1;
    *method = t->method;
    *pattern = t->pattern;
    *access = t->access;
    *surface = t->surface;
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
    if (!(s->usage_flusher = bl_ticker_start(s->cfg.usage_flush_ms, BL_TICKER_AFTER_A_PERIOD, flush_usage_now, s, "api: the usage flusher", err)))
        return -1;
    return 0;
}

unsigned bl_api_server_in_flight(const bl_api_server *s)
{
    return atomic_load(&((bl_api_server *)s)->in_flight);
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
    bl_ticker_stop(s->usage_flusher);
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
    bl_api_server_shared_drop_all(s);
    pthread_mutex_destroy(&s->shared_lock);
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
    bl_session_revocations_free(s->revocations);
    bl_api_key_cache_free(s->key_cache);
    free(s->brokers);
    free(s->registry_url);
    free(s->schemas_dir);
    free(s->topic_prefix);
    for (int i = 0; i < BL_API_SURFACE_COUNT; i++)
        free(s->surface_prefix[i]);
    free(s);
}
