/* /v1/organizations/egress-proxy: the caller's organization's egress proxy
 * (migrations/197_organization_egress_proxy.sql). Its webhook deliveries go
 * out through it (CURLOPT_PROXY; CONNECT for https), so receivers can
 * allow-list the proxy's static addresses. The URL is http or https with no
 * credentials, and its host passes the SSRF guard like an endpoint's (in
 * tests, loopback via BUSLINE_WEBHOOK_ALLOW); the guard still checks every
 * delivery's destination. Reads need the read permission, changes admin. */
#include "api/routes/routes.h"
#include "api/routes/webhook_api.h"

#include "connectors/webhook/store/egress_proxy.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

/* Answers org's setting as {"data": {url, updated_at}}. */
static int answer(const bl_api_request *req, bl_http_response *resp, PGconn *conn)
{
    bl_err err = {0};
    json_t *shown = bl_webhook_egress_proxy_get(conn, req->auth->org_id, &err);
    json_t *out = shown ? json_pack("{s:o}", "data", shown) : NULL;
    if (!out)
        bl_log_error("api: egress proxy unreadable", BL_FS("error", err.msg));
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

/* Runs the method's change (PUT: url, DELETE) and answers. */
static int change(const bl_api_request *req, bl_http_response *resp, const char *url)
{
    bl_ssrf_allowlist allow;
    bl_err err = {0};
    if (bl_ssrf_allowlist_parse(getenv(BL_API_WEBHOOK_ALLOW_ENV), &allow, &err) != 0) {
        bl_log_error("api: " BL_API_WEBHOOK_ALLOW_ENV " unreadable", BL_FS("error", err.msg));
        return -1;
    }
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    int rc = url ? bl_webhook_egress_proxy_set(conn, req->auth->org_id, url, &allow, &err)
                 : bl_webhook_egress_proxy_clear(conn, req->auth->org_id, &err);
    if (rc == 0)
        rc = url ? answer(req, resp, conn) : (bl_http_response_status(resp, 204), 0);
    else if (err.code == BL_EINVAL)
        rc = bl_api_fail(req->http, resp, 422, NULL, "the egress proxy is not valid",
                         json_pack("{s:s}", "url", err.msg));
    else
        bl_log_error("api: egress proxy not saved", BL_FS("error", err.msg));
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    return rc;
}

static int show_proxy(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    int rc = answer(req, resp, conn);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    return rc;
}

static int put_proxy(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *url = json_string_value(json_object_get(req->body, "url"));
    if (!json_is_object(req->body) || json_object_size(req->body) != 1 || !url)
        return bl_api_fail(req->http, resp, 422, NULL, "the egress proxy is not valid",
                           json_pack("{s:s}", "url", "required: {\"url\": \"http(s)://host:port\"} and nothing "
                                                      "else (DELETE removes the proxy)"));
    return change(req, resp, url);
}

static int delete_proxy(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    return change(req, resp, NULL);
}

static const bl_api_route routes[] = {
    {"GET", "/v1/organizations/egress-proxy", BL_API_BY_METHOD, show_proxy},
    {"PUT", "/v1/organizations/egress-proxy", BL_API_ADMIN, put_proxy},
    {"DELETE", "/v1/organizations/egress-proxy", BL_API_ADMIN, delete_proxy},
};

#define PROXY_SCHEMA                                                                                        \
    "{\"type\":\"object\",\"required\":[\"url\",\"updated_at\"],\"properties\":{"                           \
    "\"url\":{\"type\":[\"string\",\"null\"],\"description\":\"http(s)://host:port of the proxy the "          \
    "organization's webhook deliveries go through (CONNECT for https endpoints); null: direct\"},"          \
    "\"updated_at\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"}}}"
#define PROXY_200 "\"200\":{\"description\":\"The setting\",\"content\":{\"application/json\":{\"schema\":{"   \
                  "\"type\":\"object\",\"properties\":{\"data\":" PROXY_SCHEMA "}}}}}"

static const char *const docs[][2] = {
    {"GET", "{\"operationId\":\"get_egress_proxy\",\"summary\":\"The organization's egress proxy for webhook "
            "deliveries\",\"tags\":[\"webhooks\"],\"responses\":{" PROXY_200 "}}"},
    {"PUT", "{\"operationId\":\"set_egress_proxy\",\"summary\":\"Send the organization's webhook deliveries "
            "through an http(s) proxy (static egress addresses); the SSRF guard still checks each "
            "destination\",\"tags\":[\"webhooks\"],\"requestBody\":{\"required\":true,\"content\":{"
            "\"application/json\":{\"schema\":{\"type\":\"object\",\"required\":[\"url\"],"
            "\"additionalProperties\":false,\"properties\":{\"url\":{\"type\":\"string\",\"maxLength\":2048,"
            "\"description\":\"http:// or https://, no user or password; its host must pass the SSRF guard\"}}}}}},"
            "\"responses\":{" PROXY_200 ",\"422\":{\"description\":\"not an http(s) URL, credentials in it, or "
            "an address the SSRF guard refuses (validation_failed, field_errors.url)\"}}}"},
    {"DELETE", "{\"operationId\":\"delete_egress_proxy\",\"summary\":\"Deliver directly again\","
               "\"tags\":[\"webhooks\"],\"responses\":{\"204\":{\"description\":\"Removed (or there was none)\"}}}"},
};

int bl_api_routes_egress_proxy(bl_api_server *s, bl_err *err)
{
    if (bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], NULL, err) != 0)
        return -1;
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_t *op = json_loads(docs[i][1], 0, NULL);
        if (!op)
            return bl_err_set(err, BL_EINVAL, "openapi: egress proxy %s is not valid JSON", docs[i][0]);
        if (bl_api_server_document(s, docs[i][0], "/v1/organizations/egress-proxy", op, err) != 0)
            return -1;
    }
    return 0;
}
