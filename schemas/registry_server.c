/* The Confluent Schema Registry REST server over registry_store: the route
 * table, request counting, health, readiness and metrics, and the server's
 * life. The resources behind the routes are in registry_resources.c; reading
 * requests and writing Confluent-shaped answers in registry_rest_io.c. */
#include "schemas/registry_server_internal.h"

#include "core/http_server.h"
#include "core/log.h"
#include "core/metrics.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One route: its handler and the label it is counted under. */
typedef struct route_ctx {
    bl_registry_server *srv;
    const char *name;
    int (*fn)(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);
} route_ctx;

/* ---------- operations ---------- */

static int handle_healthz(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    (void)srv;
    (void)req;
    return bl_registry_reply_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

static int handle_readyz(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    bl_err err = {0};
    if (bl_registry_store_ping(srv->store, &err) == 0)
        return bl_registry_reply_json(resp, 200, json_pack("{s:s}", "status", "ready"));
    bl_log_warn("registry: not ready", BL_FS("request_id", bl_http_request_id(req)), BL_FS("error", err.msg));
    return bl_registry_reply_json(resp, 503, json_pack("{s:s}", "status", "postgres unreachable"));
}

static int handle_metrics(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    (void)req;
    bl_err err = {0};
    char *text = bl_metrics_render(srv->metrics, &err);
    if (!text)
        return -1;
    return bl_http_response_body_owned(resp->resp, text, strlen(text), "text/plain; version=0.0.4");
}

/* ---------- routing ---------- */

static void count_request(bl_registry_server *srv, const char *route, int status)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    const char *labels[] = {route, code, NULL};
    bl_counter *c = bl_metric_counter(srv->requests, labels, NULL);
    if (c)
        bl_counter_inc(c);
}

static int dispatch(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    const route_ctx *r = ctx;
    registry_reply out = {resp, 200};
    int rc = r->fn(r->srv, req, &out);
    count_request(r->srv, r->name, rc == 0 ? out.status : 500);
    return rc;
}

static const struct {
    const char *method, *pattern, *name;
    int (*fn)(bl_registry_server *, const bl_http_request *, registry_reply *);
} routes[] = {
    {"GET", "/subjects", "subjects", bl_registry_handle_subjects},
    {"GET", "/subjects/:subject/versions", "versions", bl_registry_handle_versions},
    {"POST", "/subjects/:subject/versions", "register", bl_registry_handle_register},
    {"GET", "/subjects/:subject/versions/:version", "get_version", bl_registry_handle_get_version},
    {"DELETE", "/subjects/:subject/versions/:version", "delete_version", bl_registry_handle_delete_version},
    {"GET", "/subjects/:subject/versions/:version/schema", "get_version_schema", bl_registry_handle_get_version_schema},
    {"POST", "/subjects/:subject", "lookup", bl_registry_handle_lookup},
    {"DELETE", "/subjects/:subject", "delete_subject", bl_registry_handle_delete_subject},
    {"GET", "/schemas/ids/:id", "schema_by_id", bl_registry_handle_schema_by_id},
    {"GET", "/schemas/ids/:id/versions", "id_versions", bl_registry_handle_id_versions},
    {"POST", "/compatibility/subjects/:subject/versions/:version", "compatibility", bl_registry_handle_compatibility},
    {"GET", "/config", "config_get", bl_registry_handle_config_get},
    {"PUT", "/config", "config_put", bl_registry_handle_config_put},
    {"GET", "/config/:subject", "config_get", bl_registry_handle_config_get},
    {"PUT", "/config/:subject", "config_put", bl_registry_handle_config_put},
    {"DELETE", "/config/:subject", "config_delete", bl_registry_handle_config_delete},
    {"GET", "/healthz", "healthz", handle_healthz},
    {"GET", "/readyz", "readyz", handle_readyz},
    {"GET", "/metrics", "metrics", handle_metrics},
};

#define ROUTE_COUNT (sizeof routes / sizeof routes[0])

/* The server and its per-route contexts in one allocation. */
typedef struct server_block {
    bl_registry_server srv;
    route_ctx ctx[ROUTE_COUNT];
} server_block;

bl_registry_server *bl_registry_server_new(bl_registry_store *store, const char *host,
                                           unsigned short port, bl_err *err)
{
    server_block *b = calloc(1, sizeof *b);
    if (!b) {
        bl_err_set(err, BL_ENOMEM, "registry: out of memory");
        return NULL;
    }
    bl_registry_server *s = &b->srv;
    s->store = store;
    static const char *const labels[] = {"route", "status", NULL};
    bl_http_server_config cfg = {.host = host, .port = port, .error_body = bl_registry_confluent_error_body};
    if (!(s->metrics = bl_metrics_new())) {
        bl_err_set(err, BL_ENOMEM, "registry: out of memory");
        goto fail;
    }
    s->requests = bl_metrics_counter(s->metrics, "busline_registry_requests_total",
                                     "Registry requests answered, by route and HTTP status",
                                     labels, err);
    if (!s->requests || !(s->http = bl_http_server_new(&cfg, err)))
        goto fail;
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        b->ctx[i] = (route_ctx){s, routes[i].name, routes[i].fn};
        if (bl_http_server_route(s->http, routes[i].method, routes[i].pattern, dispatch, &b->ctx[i], err) != 0)
            goto fail;
    }
    return s;
fail:
    bl_registry_server_free(s);
    return NULL;
}

int bl_registry_server_start(bl_registry_server *s, bl_err *err)
{
    return bl_http_server_start(s->http, err);
}

unsigned short bl_registry_server_port(const bl_registry_server *s)
{
    return bl_http_server_port(s->http);
}

void bl_registry_server_free(bl_registry_server *s)
{
    if (!s)
        return;
    bl_http_server_free(s->http);
    bl_metrics_free(s->metrics);
    free((server_block *)s);
}
