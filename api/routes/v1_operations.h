/* The OpenAPI operations of the /v1 management routes (webhooks, their
 * stats and logs, API keys), in the Powalyze document's shapes, attached
 * to routes already registered. */
#ifndef BUSLINE_API_ROUTES_V1_OPERATIONS_H
#define BUSLINE_API_ROUTES_V1_OPERATIONS_H

#include "api/server.h"

/* Documents the /v1/webhooks routes on s. Returns 0 or -1 with err. */
int bl_api_document_webhooks(bl_api_server *s, bl_err *err);

/* Documents the /v1/api-keys routes on s. Returns 0 or -1 with err. */
int bl_api_document_keys(bl_api_server *s, bl_err *err);

#endif
