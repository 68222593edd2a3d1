/* The server's insides, shared by the files that make it up: api/server.c
 * (lifecycle, route registration, accessors) and api/request_checks.c (what
 * every request passes before its handler). Nothing outside api/ includes
 * this; route files use api/server.h. */
#ifndef BUSLINE_API_SERVER_PRIVATE_H
#define BUSLINE_API_SERVER_PRIVATE_H

#include "api/auth/keys.h"
#include "api/auth/revocations.h"
#include "api/rate_limit.h"
#include "api/request_log.h"
#include "api/server.h"
#include "core/ticker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct route_target {
    bl_api_server *server;
    char *method, *pattern;
    bl_api_access access;
    bl_api_surface surface;
    bl_api_handler_fn handler;
    void *ctx;
    const bl_api_stream_fns *stream; /* a streamed-body route's steps, or NULL */
    json_t *operation; /* OpenAPI operation, or NULL */
    struct route_target *next;
} route_target;

typedef struct shared_object {
    const char *key; /* a static string */
    void *obj;
    void (*drop)(void *obj);
    struct shared_object *next;
} shared_object;

typedef struct free_hook {
    void (*fn)(void *ctx);
    void *ctx;
    struct free_hook *next;
} free_hook;

struct bl_api_server {
    bl_api_config cfg;
    char *host;
    char *jwt_secret;
    bl_session_revocations *revocations; /* with jwt_secret and a pool */
    struct bl_api_key_cache *key_cache;  /* with a pool */
    bl_pg_pool *pool;
    bl_http_server *http;
    bl_metrics *metrics;
    bl_metric *requests;
    bl_rate_limiter *limiter;
    bl_api_usage *usage;
    route_target *targets, **targets_tail;
    size_t target_count;
    free_hook *free_hooks;
    pthread_mutex_t shared_lock; /* guards shared */
    shared_object *shared;       /* api/server_shared.c's objects, made on first use */
    bl_api_request_log *request_log;
    char *brokers, *registry_url, *schemas_dir, *topic_prefix;
    char *surface_prefix[BL_API_SURFACE_COUNT];
    bl_ticker *usage_flusher; /* NULL until started */
    struct bl_api_commands *commands; /* api/command_send.c's, made by the first route file asking */
    atomic_uint in_flight; /* requests of routes that are not public inside their handlers */
};

/* Drops every bl_api_server_shared object of s, once serving stopped. */
void bl_api_server_shared_drop_all(bl_api_server *s);

/* The core server's error body (404, 405, 413, ... before any route): the
 * shape of the surface the request's path belongs to. ctx is the server. */
json_t *bl_api_core_error_body(int status, const char *message, const bl_http_request *req, void *ctx);

/* Checks a configured surface prefix ("/api"): "/" then segments of
 * [A-Za-z0-9._-], no trailing "/", not /v1 nor under it. Returns 0 or -1
 * with err naming setting. */
int bl_api_surface_prefix_check(const char *prefix, const char *setting, bl_err *err);

/* 0 when neither prefix a nor b is b or a path under the other (so each path
 * belongs to one surface); else -1 with err naming both. */
int bl_api_surface_prefixes_apart(const char *a, const char *b, bl_err *err);

/* The core server's handler of every API route: runs the checks of
 * api/server.h in order, then the route's handler, then counts and logs the
 * answer. target is the route's route_target (borrowed). Returns the
 * handler's result (-1: the core server answers 500). */
int bl_api_checked_dispatch(const bl_http_request *req, bl_http_response *resp, void *target);

/* What the checks before the body learnt of the caller. */
typedef struct bl_api_checked {
    bl_api_auth auth;
    bool authed; /* auth is filled */
    bl_rate_verdict verdict;
    bool limited; /* verdict carries limits to announce in headers */
    bool field_service; /* the route is on the field-service surface */
} bl_api_checked;

/* Runs the checks that come before the body (header caps, authentication,
 * rate limit, permission, plan) for route t. Returns 0 when they pass (c
 * filled), 1 when resp holds the refusal. */
int bl_api_check_caller(route_target *t, const bl_http_request *req, bl_http_response *resp,
                        bl_api_checked *c);

/* Adds the X-RateLimit-* headers when the caller's limits call for them. */
void bl_api_rate_headers(bl_http_response *resp, const bl_api_checked *c);

/* Counts an answer of route t by status and logs the request (start_us
 * from bl_clock_mono_us when it began). */
void bl_api_answered(route_target *t, const bl_http_request *req, const bl_api_checked *c, int status,
                     int64_t start_us);

/* The core server's steps of every streamed API route (api/request_stream.c):
 * the checks, then the route's bl_api_stream_fns. */
extern const bl_http_stream_fns bl_api_stream_steps;

#endif
