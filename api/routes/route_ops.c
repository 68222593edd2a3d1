/* GET /healthz, /readyz (Postgres reachable) and /metrics, public. */
#include "api/routes/routes.h"

#include <stdlib.h>
#include <string.h>

static int healthz(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    return bl_http_response_body_copy(resp, "ok\n", 3, "text/plain");
}

static int readyz(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    int ok = conn && bl_pg_exec_cmd(conn, "SELECT 1", 0, NULL, &err) == 0;
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!ok)
        return bl_api_fail(req->http, resp, 503, NULL, "postgres unreachable", NULL);
    return bl_http_response_body_copy(resp, "ready\n", 6, "text/plain");
}

static int metrics(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    bl_err err = {0};
    char *text = bl_metrics_render(bl_api_server_metrics(req->server), &err);
    if (!text)
        return -1;
    return bl_http_response_body_owned(resp, text, strlen(text), "text/plain; version=0.0.4");
}

static const bl_api_route routes[] = {
    {"GET", "/healthz", BL_API_PUBLIC, healthz},
    {"GET", "/readyz", BL_API_PUBLIC, readyz},
    {"GET", "/metrics", BL_API_PUBLIC, metrics},
};

int bl_api_routes_ops(bl_api_server *s, bl_err *err)
{
    return bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], NULL, err);
}
