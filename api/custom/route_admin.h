/* What the /v1/custom-apis route files share (route_admin.c,
 * route_admin_versions.c, route_admin_doc.c). */
#ifndef BUSLINE_API_CUSTOM_ROUTE_ADMIN_H
#define BUSLINE_API_CUSTOM_ROUTE_ADMIN_H

#include "api/custom/context.h"

/* Checks def (modified: its oauth2 secret sealed) against prev (may be
 * NULL) for req's organization. Returns 0 when valid, 1 with the 422
 * listing every problem in resp, or -1. */
int bl_custom_admin_check(bl_custom_ctx *ctx, const bl_api_request *req, json_t *def, const json_t *prev,
                          bl_http_response *resp);

/* Answers a write: row (stolen; NULL when the store failed with err) is
 * served by this replica now, its shared cached answers dropped, and shown
 * with 200; or the store's error. Returns 0 or -1. */
int bl_custom_admin_saved(bl_custom_ctx *ctx, const bl_api_request *req, bl_http_response *resp, json_t *row,
                          const bl_err *err);

/* Answers a store error (404, 409, 422), or returns -1 for a 500. */
int bl_custom_admin_store_failed(const bl_api_request *req, bl_http_response *resp, const bl_err *err);

/* Registers the versions, rollback and transformation test routes. */
int bl_custom_admin_versions_install(bl_api_server *s, bl_custom_ctx *ctx, bl_err *err);

/* Registers and documents GET /v1/custom-apis/:id/metrics (route_metrics.c). */
int bl_custom_admin_metrics_install(bl_api_server *s, bl_err *err);

/* Attaches the OpenAPI operations of every /v1/custom-apis route. */
int bl_custom_admin_document(bl_api_server *s, bl_err *err);

#endif
