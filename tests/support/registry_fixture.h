/* A schema registry for integration tests: a fresh database with the
 * migrations applied, a store and the REST server on an ephemeral port,
 * in-process; plus a one-call HTTP helper for its API. */
#ifndef BUSLINE_TEST_REGISTRY_FIXTURE_H
#define BUSLINE_TEST_REGISTRY_FIXTURE_H

#include "core/pg_pool.h"
#include "schemas/registry_server.h"
#include "schemas/registry_store.h"

#include <jansson.h>

typedef struct bl_test_registry {
    char pg_url[512];
    char base_url[64];
    bl_pg_pool *pool;
    bl_registry_store *store;
    bl_registry_server *server;
} bl_test_registry;

/* Starts everything; returns 0, or -1 after printing why (then call stop). */
int bl_test_registry_start(bl_test_registry *r);

/* Stops the server, frees and drops the database. Safe after a failed start. */
void bl_test_registry_stop(bl_test_registry *r);

/* Sends method path (with query) and body (JSON text or NULL) as
 * application/vnd.schemaregistry.v1+json; returns the HTTP status (0 on a
 * transport failure) and sets *json (may be NULL) to the parsed answer (new
 * reference, NULL when not JSON). */
long bl_test_registry_call(const bl_test_registry *r, const char *method, const char *path,
                           const char *body, json_t **json);

/* As bl_test_registry_call, with the request's Content-Type given (NULL: none). */
long bl_test_registry_call_typed(const bl_test_registry *r, const char *method, const char *path,
                                 const char *content_type, const char *body, json_t **json);

/* The "error_code" of an error answer, or -1. */
long bl_test_error_code(const json_t *json);

#endif
