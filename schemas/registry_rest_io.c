/* Reading registry requests (bodies, path parameters, query flags) and
 * writing Confluent-shaped answers and errors. */
#include "schemas/registry_server_internal.h"

#include "core/log.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------- answers ---------- */

json_t *bl_registry_confluent_error_body(int status, const char *message, const bl_http_request *req,
                                         void *ctx)
{
    (void)req;
    (void)ctx;
    return json_pack("{s:i, s:s}", "error_code", status, "message", message ? message : "");
}

/* Sets status and body to json (stolen reference), as the registry's type. */
int bl_registry_reply_json(registry_reply *resp, int status, json_t *json)
{
    if (!json)
        return -1;
    char *text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(json);
    if (!text)
        return -1;
    resp->status = status;
    bl_http_response_status(resp->resp, status);
    return bl_http_response_body_owned(resp->resp, text, strlen(text), BL_REGISTRY_CONTENT_TYPE);
}

int bl_registry_reply_error(registry_reply *resp, int error_code, const char *message)
{
    int status = error_code < 1000 ? error_code : error_code / 100;
    return bl_registry_reply_json(resp, status, json_pack("{s:i, s:s}", "error_code", error_code, "message", message));
}

/* A store failure: the client's own error as Confluent words it, anything
 * else logged here and answered 50001 without internals. */
int bl_registry_reply_store_error(registry_reply *resp, const bl_http_request *req, const bl_err *err)
{
    if (bl_registry_code_is_client(err->code))
        return bl_registry_reply_error(resp, err->code, err->msg);
    bl_log_error("registry: store failed", BL_FS("request_id", bl_http_request_id(req)),
                 BL_FS("path", bl_http_request_path(req)), BL_FS("error", err->msg));
    return bl_registry_reply_error(resp, BL_REG_STORE_ERROR, "Error in the backend data store");
}

bool bl_registry_query_true(const bl_http_request *req, const char *name)
{
    const char *v = bl_http_request_query(req, name);
    return v && strcasecmp(v, "true") == 0;
}

/* ---------- request bodies ---------- */

/* Accepts the registry's JSON types, application/octet-stream and no type. */
static bool content_type_accepted(const bl_http_request *req)
{
    static const char *const accepted[] = {"application/vnd.schemaregistry.v1+json",
                                           "application/vnd.schemaregistry+json", "application/json",
                                           "application/octet-stream"};
    const char *ct = bl_http_request_header(req, "Content-Type");
    if (!ct || !*ct)
        return true;
    size_t len = strcspn(ct, "; \t");
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++)
        if (strlen(accepted[i]) == len && strncasecmp(ct, accepted[i], len) == 0)
            return true;
    return false;
}

/* Parses the body as a JSON object; on failure answers (415, or 400 as
 * Confluent does for unparseable JSON) and returns NULL. */
json_t *bl_registry_body_object(const bl_http_request *req, registry_reply *resp)
{
    if (!content_type_accepted(req)) {
        bl_registry_reply_error(resp, 415, "HTTP 415 Unsupported Media Type");
        return NULL;
    }
    bl_err err = {0};
    json_t *body = bl_http_request_json(req, &err);
    if (!body) {
        bl_registry_reply_error(resp, 400, err.msg[0] ? err.msg : "Unexpected end of input");
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        bl_registry_reply_error(resp, 400, "Cannot deserialize value: the body must be a JSON object");
        return NULL;
    }
    return body;
}

/* The "schema" of a register / lookup / compatibility body, checked the
 * way Confluent checks it. Answers and returns NULL on a bad body; the
 * returned string is borrowed from body. */
const char *bl_registry_body_schema(json_t *body, registry_reply *resp)
{
    json_t *schema = json_object_get(body, "schema");
    json_t *type = json_object_get(body, "schemaType");
    if (schema && !json_is_string(schema) && !json_is_null(schema)) {
        bl_registry_reply_error(resp, 400, "Cannot deserialize value of type `java.lang.String` for field 'schema'");
        return NULL;
    }
    if (type && !json_is_null(type) && !json_is_string(type)) {
        bl_registry_reply_error(resp, 400, "Cannot deserialize value of type `java.lang.String` for field 'schemaType'");
        return NULL;
    }
    if (json_is_string(type) && strcmp(json_string_value(type), "AVRO") != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "Invalid schema type %.64s: this registry stores AVRO schemas only",
                 json_string_value(type));
        bl_registry_reply_error(resp, BL_REG_INVALID_SCHEMA, msg);
        return NULL;
    }
    if (!json_is_string(schema) || json_string_length(schema) == 0) {
        bl_registry_reply_error(resp, BL_REG_INVALID_SCHEMA, "Empty schema");
        return NULL;
    }
    return json_string_value(schema);
}

/* The :version parameter; answers 42202 and returns -1 when invalid. */
int bl_registry_path_version(const bl_http_request *req, registry_reply *resp, int *version)
{
    bl_err err = {0};
    if (bl_registry_version_parse(bl_http_request_param(req, "version"), version, &err) == 0)
        return 0;
    bl_registry_reply_error(resp, err.code, err.msg);
    return -1;
}

json_t *bl_registry_version_json(const bl_registry_version *v)
{
    return json_pack("{s:s, s:i, s:i, s:s}", "subject", v->subject, "version", v->version, "id", v->id,
                     "schema", v->schema);
}

json_t *bl_registry_int_array(const bl_registry_versions *v)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < v->count; i++)
        if (json_array_append_new(arr, json_integer(v->versions[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

char *bl_registry_join_reasons(const bl_compat_reasons *reasons)
{
    return bl_compat_reasons_join(reasons, "; ");
}
