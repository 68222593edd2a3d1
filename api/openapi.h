/* The OpenAPI 3.1 document of one surface of the API, built from the server's route
 * table: each route with its path parameters, its security (bearer token or
 * X-API-Key, none for public routes), the operation a route file attached
 * (bl_api_server_document: request bodies derived from the Avro command
 * schemas, query parameters of the reads) or a generic one, and the error
 * object as the default response. */
#ifndef BUSLINE_API_OPENAPI_H
#define BUSLINE_API_OPENAPI_H

#include "api/server.h"

#include <jansson.h>

/* Builds the document of s's routes of surface (each documented API gets its
 * own). Returns a new reference or NULL with err. */
json_t *bl_api_openapi_build(const bl_api_server *s, bl_api_surface surface, bl_err *err);

#endif
