/* A client of a Confluent-compatible schema registry (busline's own or
 * Confluent's), over core/http_client's synchronous requests. Errors the
 * registry answered keep its Confluent code in err->code (BL_REG_*, e.g.
 * 40401) and its message in err->msg; transport failures are BL_EHTTP or
 * BL_ETIMEOUT. Safe from many threads (each call has its own connection). */
#ifndef BUSLINE_SCHEMAS_REGISTRY_CLIENT_H
#define BUSLINE_SCHEMAS_REGISTRY_CLIENT_H

#include "core/err.h"
#include "schemas/registry_store.h"

#include <stdbool.h>
#include <stdint.h>

/* Largest registry answer read (schemas can be large). */
#define BL_REGISTRY_CLIENT_BODY_MAX (4 * 1024 * 1024)

typedef struct bl_registry_client bl_registry_client;

/* base_url: "http://127.0.0.1:8081" (a trailing '/' is ignored; copied).
 * timeout_ms per request (0 = 10000). Returns NULL with err on a bad URL. */
bl_registry_client *bl_registry_client_new(const char *base_url, long timeout_ms, bl_err *err);

/* Frees the client; accepts NULL. */
void bl_registry_client_free(bl_registry_client *c);

/* Registers schema_json (Avro) under subject; *id gets its id. An
 * incompatible schema fails with BL_REG_INCOMPATIBLE and the registry's
 * message (which holds the reasons, possibly cut to fit err). */
int bl_registry_client_register(bl_registry_client *c, const char *subject, const char *schema_json,
                                int *id, bl_err *err);

/* The schema text of id (caller frees), or NULL with err (BL_REG_SCHEMA_NOT_FOUND). */
char *bl_registry_client_schema_by_id(bl_registry_client *c, int id, bl_err *err);

/* A bl_schema_fetch_fn for schemas/codec's cache: ctx is the client. A
 * missing id fails with BL_ENOTFOUND as the cache expects. */
char *bl_registry_client_fetch_schema(void *ctx, int32_t id, bl_err *err);

/* One version of subject (BL_REG_LATEST for the latest) into out (caller
 * clears with bl_registry_version_clear). */
int bl_registry_client_get(bl_registry_client *c, const char *subject, int version,
                           bl_registry_version *out, bl_err *err);

/* Whether schema_json may be registered under subject (against version, or
 * BL_REG_LATEST). messages (may be NULL; caller clears) gets the reasons
 * when not. */
int bl_registry_client_check(bl_registry_client *c, const char *subject, int version,
                             const char *schema_json, bool *compatible,
                             bl_registry_strings *messages, bl_err *err);

/* The subjects (caller clears out). */
int bl_registry_client_subjects(bl_registry_client *c, bl_registry_strings *out, bl_err *err);

/* The live versions of subject (caller clears out). */
int bl_registry_client_versions(bl_registry_client *c, const char *subject,
                                bl_registry_versions *out, bl_err *err);

#endif
