/* The schema registry's HTTP face: the Confluent Schema Registry REST API
 * (subjects, versions, schemas by id, compatibility, config) over
 * registry_store, plus /healthz, /readyz and /metrics. Answers carry
 * Content-Type application/vnd.schemaregistry.v1+json and errors Confluent's
 * {"error_code": 40401, "message": "..."}. */
#ifndef BUSLINE_SCHEMAS_REGISTRY_SERVER_H
#define BUSLINE_SCHEMAS_REGISTRY_SERVER_H

#include "core/err.h"
#include "schemas/registry_store.h"

#define BL_REGISTRY_CONTENT_TYPE "application/vnd.schemaregistry.v1+json"

typedef struct bl_registry_server bl_registry_server;

/* Creates a server for store (borrowed; must outlive the server) on
 * host:port (host NULL = 127.0.0.1, port 0 = ephemeral). Returns the server
 * (free with bl_registry_server_free), or NULL with err. */
bl_registry_server *bl_registry_server_new(bl_registry_store *store, const char *host,
                                           unsigned short port, bl_err *err);

/* Binds and starts serving on the HTTP server's threads. Returns 0 or -1. */
int bl_registry_server_start(bl_registry_server *s, bl_err *err);

/* The bound port, 0 before start. */
unsigned short bl_registry_server_port(const bl_registry_server *s);

/* Stops serving (waits for requests in flight) and frees; accepts NULL. */
void bl_registry_server_free(bl_registry_server *s);

#endif
