/* The /v1/workflows routes (route_workflows.c: definitions and versions;
 * route_executions.c: executions; route_doc.c: their OpenAPI operations),
 * registered by bl_api_routes_workflows (api/routes/routes.h). */
#ifndef BUSLINE_API_WORKFLOWS_WORKFLOWS_H
#define BUSLINE_API_WORKFLOWS_WORKFLOWS_H

#include "api/server.h"
#include "connectors/webhook/policy/ssrf_guard.h"
#include "schemas/catalog.h"

/* What the routes share (freed with the server). */
typedef struct bl_wf_api_ctx {
    const bl_catalog *catalog; /* the server's; bus integrations' types */
    bl_ssrf_allowlist allow; /* integration URLs (BUSLINE_WEBHOOK_ALLOW) */
} bl_wf_api_ctx;

/* Registers the execution routes (list, read, cancel, retry). Returns 0 or
 * -1 with err. */
int bl_wf_api_executions_install(bl_api_server *s, bl_wf_api_ctx *ctx, bl_err *err);

/* Registers the inbound URL of webhook triggers (route_hooks.c): the
 * secret route (admin) and the signed hook itself (public). Returns 0 or -1
 * with err. */
int bl_wf_api_hooks_install(bl_api_server *s, bl_wf_api_ctx *ctx, bl_err *err);

/* Attaches the OpenAPI operations of every /v1/workflows route. */
int bl_wf_api_document(bl_api_server *s, bl_err *err);

/* Answers a store error (404, 409, 422), or returns -1 for a 500. */
int bl_wf_api_store_failed(const bl_api_request *req, bl_http_response *resp, const bl_err *err);

#endif
