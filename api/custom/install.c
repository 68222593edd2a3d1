/* Sets up custom endpoints on an API server: the shared parts, the /v1
 * management routes and the /custom/<slug>/... routes. */
#include "api/custom/context.h"
#include "api/routes/routes.h"
#include "api/routes/webhook_api.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

static void start_invalidator_locked(bl_custom_ctx *ctx)
{
    const bl_api_config *cfg = bl_api_server_config(ctx->server);
    if (ctx->invalidator || !ctx->wants_invalidator || !ctx->registry || !cfg->kafka_brokers)
        return;
    bl_err err = {0};
    ctx->invalidator = bl_custom_invalidator_new(cfg->kafka_brokers, cfg->topic_prefix, ctx->registry, ctx->cache,
                                                 &err);
    if (!ctx->invalidator)
        bl_log_error("custom api: event-driven cache invalidation is off", BL_FS("error", err.msg));
}

/* An endpoint changed: this replica's cached answers of it are stale (the
 * shared ones are dropped by the replica that saved the change); and the
 * consumer of invalidating events starts once an endpoint names some. */
static void endpoint_changed(const char *id, void *arg)
{
    bl_custom_ctx *ctx = arg;
    if (!ctx->registry) /* the first load, nothing cached yet */
        return;
    bl_custom_cache_evict(ctx->cache, id, false);
    bl_custom_def *d = bl_custom_registry_get(ctx->registry, id);
    bool wants = d && d->cache_enabled && d->rule_count > 0;
    bl_custom_def_unref(d);
    if (!wants)
        return;
    pthread_mutex_lock(&ctx->mu);
    ctx->wants_invalidator = true;
    start_invalidator_locked(ctx);
    pthread_mutex_unlock(&ctx->mu);
}

static void ctx_free(void *arg)
{
    bl_custom_ctx *ctx = arg;
    bl_custom_metrics_free(ctx->metrics); /* flushes what is queued */
    bl_custom_invalidator_free(ctx->invalidator);
    bl_custom_registry_free(ctx->registry);
    bl_call_runner_free(ctx->runner);
    bl_custom_cache_free(ctx->cache);
    bl_custom_limiter_free(ctx->limiter);
    bl_keyring_free(ctx->keyring);
    pthread_mutex_destroy(&ctx->mu);
    free(ctx);
}

static int shared_parts(bl_custom_ctx *ctx, bl_api_server *s, bl_err *err)
{
    const bl_api_config *cfg = bl_api_server_config(s);
    bl_err why = {0};
    if (!(ctx->keyring = bl_keyring_from_env(&why)))
        bl_log_info("custom api: oauth2 endpoints refused (no keyring for their client secrets)",
                    BL_FS("why", why.msg));
    if (!(ctx->catalog = bl_api_server_catalog(s, err)) ||
        bl_ssrf_allowlist_parse(getenv(BL_API_WEBHOOK_ALLOW_ENV), &ctx->allow, err) != 0)
        return -1;
    ctx->env = (bl_custom_env){.catalog = ctx->catalog, .keyring = ctx->keyring, .allow = &ctx->allow};
    bl_call_runner_opts ro = {.allow = &ctx->allow, .brokers = cfg->kafka_brokers, .registry_url = cfg->registry_url,
                              .schemas_dir = cfg->schemas_dir, .topic_prefix = cfg->topic_prefix};
    if (!(ctx->limiter = bl_custom_limiter_new(0)) ||
        !(ctx->cache = bl_custom_cache_new(bl_api_server_pool(s), 0, 0)))
        return bl_err_set(err, BL_ENOMEM, "custom api: out of memory");
    if (!(ctx->runner = bl_call_runner_new(&ro, err)))
        return -1;
    bl_pg_pool *pool = bl_api_server_pool(s);
    bl_custom_metrics_opts mo = {.pool = pool, .start_writer = 1};
    if (bl_custom_metrics_families(ctx, bl_api_server_metrics(s), err) != 0 ||
        (pool && !(ctx->metrics = bl_custom_metrics_new(&mo, err))))
        return -1;
    if (pool && !(ctx->registry = bl_custom_registry_new(bl_pg_pool_conninfo(pool), &ctx->env, endpoint_changed, ctx,
                                                         err)))
        return -1;
    pthread_mutex_lock(&ctx->mu);
    ctx->wants_invalidator = ctx->registry && bl_custom_registry_wants_events(ctx->registry);
    start_invalidator_locked(ctx);
    pthread_mutex_unlock(&ctx->mu);
    return 0;
}

int bl_api_routes_custom(bl_api_server *s, bl_err *err)
{
    bl_custom_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return bl_err_set(err, BL_ENOMEM, "custom api: out of memory");
    ctx->server = s;
    pthread_mutex_init(&ctx->mu, NULL);
    if (bl_api_server_on_free(s, ctx_free, ctx, err) != 0)
        return -1;
    if (shared_parts(ctx, s, err) != 0 || bl_custom_admin_install(s, ctx, err) != 0)
        return -1;
    /* every method of the surface: the endpoint's own is matched by the handler */
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        bl_api_route route = {methods[i], "/:org/*", BL_API_PUBLIC, bl_custom_serve};
        if (bl_api_server_surface_routes(s, BL_API_SURFACE_CUSTOM, &route, 1, ctx, err) != 0)
            return -1;
    }
    return 0;
}
