/* What the custom-endpoint routes of one API server share (made by
 * bl_api_routes_custom, api/custom/install.c, freed with the server). */
#ifndef BUSLINE_API_CUSTOM_CONTEXT_H
#define BUSLINE_API_CUSTOM_CONTEXT_H

#include "api/custom/cache.h"
#include "api/custom/custom.h"
#include "api/custom/invalidation.h"
#include "api/custom/limiter.h"
#include "api/custom/metrics_log.h"
#include "api/custom/registry.h"
#include "connectors/calls/call.h"

#include <pthread.h>

typedef struct bl_custom_ctx {
    bl_api_server *server;
    const bl_catalog *catalog; /* the server's */
    bl_keyring *keyring; /* NULL without BUSLINE_ENCRYPTION_KEYS: oauth2 refused */
    bl_ssrf_allowlist allow;
    bl_custom_env env;
    bl_custom_registry *registry; /* NULL without a database: the routes answer 503 */
    bl_custom_limiter *limiter;
    bl_custom_cache *cache;
    bl_call_runner *runner;
    pthread_mutex_t mu;
    bool wants_invalidator;            /* an endpoint names invalidating events */
    bl_custom_invalidator *invalidator; /* started when first wanted, with brokers */
    bl_custom_metrics_log *metrics;     /* the calls' APIMetric rows; NULL without a database */
    bl_metric *m_duration, *m_calls;    /* on /metrics (serve_metrics.c) */
    bl_counter *m_dropped;
} bl_custom_ctx;

/* The /custom handler (api/custom/serve.c). */
int bl_custom_serve(const bl_api_request *req, bl_http_response *resp, void *ctx);

/* Records one answered call of d (api/custom/serve_metrics.c): its
 * APIMetric queued (never waiting), its time and status class on /metrics.
 * rc is the handler's return (-1: answered 500); caller "" before
 * authentication. */
void bl_custom_call_measured(bl_custom_ctx *ctx, const bl_custom_def *d, const bl_api_request *req,
                             const bl_http_response *resp, int rc, const char *caller, int64_t elapsed_us);

/* Registers the /metrics families of custom endpoints on m into ctx.
 * Returns 0 or -1 with err. */
int bl_custom_metrics_families(bl_custom_ctx *ctx, bl_metrics *m, bl_err *err);

/* Answers document 002's APIError with status on the /custom surface;
 * details stolen (may be NULL). Returns 0 or -1. */
/* Hands a request to d's api-call workflow (api/custom/serve_workflow.c):
 * starts its execution with the request (params and query borrowed) and
 * answers 202 at once, or with its result when d waits and it ends in
 * time. Returns 0, or -1 for a 500. */
int bl_custom_run_workflow(bl_custom_ctx *ctx, const bl_custom_def *d, const bl_api_request *req, json_t *params,
                           json_t *query, bl_http_response *resp);

int bl_custom_fail(const bl_api_request *req, bl_http_response *resp, int status, const char *type,
                   const char *code, const char *message, json_t *details);

/* The /v1/custom-apis routes (api/custom/route_admin.c,
 * route_admin_versions.c), registered by bl_api_routes_custom. */
int bl_custom_admin_install(bl_api_server *s, bl_custom_ctx *ctx, bl_err *err);

#endif
