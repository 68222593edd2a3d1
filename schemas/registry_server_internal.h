/* What the registry server's files share and nobody else sees: the server
 * struct, the reply being built, the request and reply helpers, and the
 * resource handlers the routing table names. */
#ifndef BUSLINE_SCHEMAS_REGISTRY_SERVER_INTERNAL_H
#define BUSLINE_SCHEMAS_REGISTRY_SERVER_INTERNAL_H

#include "core/http_server.h"
#include "core/metrics.h"
#include "schemas/registry_server.h"

#include <jansson.h>
#include <stdbool.h>

struct bl_registry_server {
    bl_registry_store *store;
    bl_http_server *http;
    bl_metrics *metrics;
    bl_metric *requests; /* busline_registry_requests_total{route,status} */
};

/* The response being built and the status set on it (for the counter). */
typedef struct registry_reply {
    bl_http_response *resp;
    int status;
} registry_reply;

/* ---- requests and replies (registry_rest_io.c) ---- */

/* The http server's error body in Confluent's shape {"error_code", "message"}.
 * Returns a new reference. */
json_t *bl_registry_confluent_error_body(int status, const char *message, const bl_http_request *req,
                                         void *ctx);

/* Sets status and body to json (stolen reference), as the registry's type.
 * Returns 0, or -1 when json is NULL or cannot be written. */
int bl_registry_reply_json(registry_reply *resp, int status, json_t *json);

/* Answers {"error_code", "message"}, with the status error_code names (the
 * code itself below 1000, else its first three digits). Returns 0 or -1. */
int bl_registry_reply_error(registry_reply *resp, int error_code, const char *message);

/* A store failure: the client's own error as Confluent words it, anything
 * else logged here and answered 50001 without internals. Returns 0 or -1. */
int bl_registry_reply_store_error(registry_reply *resp, const bl_http_request *req, const bl_err *err);

/* True when the query parameter name is "true" (any case). */
bool bl_registry_query_true(const bl_http_request *req, const char *name);

/* Parses the body as a JSON object (caller decrefs); on failure answers (415,
 * or 400 as Confluent does for unparseable JSON) and returns NULL. */
json_t *bl_registry_body_object(const bl_http_request *req, registry_reply *resp);

/* The "schema" of a register / lookup / compatibility body, checked the way
 * Confluent checks it. Answers and returns NULL on a bad body; the returned
 * string is borrowed from body. */
const char *bl_registry_body_schema(json_t *body, registry_reply *resp);

/* The :version parameter into *version; answers 42202 and returns -1 when
 * invalid. */
int bl_registry_path_version(const bl_http_request *req, registry_reply *resp, int *version);

/* {"subject", "version", "id", "schema"} of v. New reference, or NULL. */
json_t *bl_registry_version_json(const bl_registry_version *v);

/* v's version numbers as a JSON array. New reference, or NULL. */
json_t *bl_registry_int_array(const bl_registry_versions *v);

/* The reasons joined with "; ", malloc'd (caller frees), or NULL. */
char *bl_registry_join_reasons(const bl_compat_reasons *reasons);

/* ---- resources (registry_resources.c) ----
 * Each answers one Confluent route on resp; returns 0, or -1 when no answer
 * could be written (the http server then answers 500). */

int bl_registry_handle_register(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);
int bl_registry_handle_lookup(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);
int bl_registry_handle_subjects(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);
int bl_registry_handle_versions(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);
int bl_registry_handle_get_version(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);
int bl_registry_handle_get_version_schema(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);
int bl_registry_handle_delete_version(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);
int bl_registry_handle_delete_subject(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);
int bl_registry_handle_schema_by_id(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);
int bl_registry_handle_id_versions(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);
int bl_registry_handle_compatibility(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);
int bl_registry_handle_config_get(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);
int bl_registry_handle_config_put(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);
int bl_registry_handle_config_delete(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp);

#endif
