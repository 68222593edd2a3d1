#include "core/ops_server.h"

#include <stdlib.h>
#include <string.h>

struct bl_ops_server {
    bl_http_server *http;
    bl_metrics *metrics;
    bl_ops_ready_fn ready_fn;
    void *ready_ctx;
};

static int serve_healthz(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    return bl_http_response_body_copy(resp, "ok\n", 3, "text/plain");
}

static int serve_readyz(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    (void)req;
    bl_ops_server *ops = ctx;
    char reason[256] = "";
    if (ops->ready_fn && !ops->ready_fn(ops->ready_ctx, reason, sizeof reason)) {
        bl_http_response_status(resp, 503);
        size_t n = strnlen(reason, sizeof reason);
        char line[sizeof reason + 16];
        memcpy(line, "not ready: ", 11);
        memcpy(line + 11, reason, n);
        line[11 + n] = '\n';
        return bl_http_response_body_copy(resp, line, 12 + n, "text/plain");
    }
    return bl_http_response_body_copy(resp, "ready\n", 6, "text/plain");
}

static int serve_metrics(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    (void)req;
    bl_ops_server *ops = ctx;
    if (!ops->metrics)
        return bl_http_response_body_copy(resp, "", 0, "text/plain; version=0.0.4");
    bl_err err = {0};
    char *text = bl_metrics_render(ops->metrics, &err);
    if (!text)
        return -1;
    return bl_http_response_body_owned(resp, text, strlen(text), "text/plain; version=0.0.4");
}

bl_ops_server *bl_ops_server_start(const char *host, unsigned short port, bl_metrics *metrics,
                                   bl_ops_ready_fn ready_fn, void *ready_ctx, bl_err *err)
{
    bl_ops_server *ops = calloc(1, sizeof *ops);
    if (!ops) {
        bl_err_set(err, BL_ENOMEM, "ops server: out of memory");
        return NULL;
    }
    ops->metrics = metrics;
    ops->ready_fn = ready_fn;
    ops->ready_ctx = ready_ctx;
    bl_http_server_config cfg = {.host = host ? host : "0.0.0.0", .port = port,
                                 .connection_limit = 32, .body_cap = 1024};
    ops->http = bl_http_server_new(&cfg, err);
    if (!ops->http || bl_http_server_route(ops->http, "GET", "/healthz", serve_healthz, ops, err) ||
        bl_http_server_route(ops->http, "GET", "/readyz", serve_readyz, ops, err) ||
        bl_http_server_route(ops->http, "GET", "/metrics", serve_metrics, ops, err) ||
        bl_http_server_start(ops->http, err)) {
        bl_err_wrap(err, "ops server on port %u", port);
        bl_ops_server_free(ops);
        return NULL;
    }
    return ops;
}

unsigned short bl_ops_server_port(const bl_ops_server *ops)
{
    return bl_http_server_port(ops->http);
}

void bl_ops_server_free(bl_ops_server *ops)
{
    if (!ops)
        return;
    if (ops->http) {
        bl_http_server_stop(ops->http);
        bl_http_server_free(ops->http);
    }
    free(ops);
}
