#include "api/openapi.h"

#include <stdio.h>
#include <string.h>

static json_t *field_service_error_schema(void)
{
    return json_pack("{s:s, s:[s,s,s], s:{s:{s:s}, s:{s:s, s:[s,s,s,s,s,s]}, s:{s:s, s:s, s:{s:s, s:{s:s}}},"
                     " s:{s:s}, s:{s:s, s:s}}}",
                     "type", "object", "required", "detail", "error_code", "field_errors", "properties", "detail",
                     "type", "string", "error_code", "type", "string", "enum", "VALIDATION_ERROR",
                     "AUTHENTICATION_ERROR", "AUTHORIZATION_ERROR", "NOT_FOUND", "RATE_LIMIT_EXCEEDED",
                     "INTERNAL_ERROR", "field_errors", "type", "object", "description",
                     "every invalid field with its messages", "additionalProperties", "type", "array", "items",
                     "type", "string", "request_id", "type", "string", "reason", "type", "string",
                     "description", "the finer cause busline knows (malformed_json, ...)");
}

static json_t *attendance_error_schema(void)
{
    return json_loads("{\"type\":\"object\",\"required\":[\"success\",\"error\"],\"properties\":{\"success\":"
                      "{\"const\":false},\"error\":{\"type\":\"object\",\"required\":[\"code\",\"message\","
                      "\"request_id\"],\"properties\":{\"code\":{\"type\":\"string\",\"description\":"
                      "\"INTEGRATION_NOT_FOUND, PROVIDER_NOT_SUPPORTED, OAUTH_ERROR, PERMISSION_DENIED,"
                      " RATE_LIMIT_EXCEEDED, SYNC_FAILED, CONNECTION_ERROR, INVALID_CREDENTIALS, VALIDATION_ERROR,"
                      " CONFLICT, ...\"},\"message\":{\"type\":\"string\"},\"request_id\":{\"type\":\"string\"},"
                      "\"details\":{\"type\":\"object\",\"description\":\"every problem by path\"},"
                      "\"reason\":{\"type\":\"string\"}}}}}",
                      0, NULL);
}

static json_t *error_schema(void)
{
    return json_pack("{s:s, s:[s], s:{s:{s:s, s:[s,s,s], s:{s:{s:s}, s:{s:s}, s:{s:s},"
                     " s:{s:s, s:s, s:{s:s}}}}}}",
                     "type", "object", "required", "error", "properties", "error", "type", "object", "required",
                     "code", "message", "request_id", "properties", "code", "type", "string", "message", "type",
                     "string", "request_id", "type", "string", "field_errors", "type", "object", "description",
                     "invalid fields by JSON path or parameter name", "additionalProperties", "type", "string");
}

static json_t *components_base(bl_api_surface surface)
{
    return json_pack(
        "{s:{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}},"
        " s:{s:o, s:{s:s, s:[s,s], s:{s:{s:s, s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}},"
        "    s:{s:s, s:[s,s], s:{s:{s:s, s:{}}, s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}}}},"
        " s:{s:{s:s, s:{s:{s:{s:s}}}}}}",
        "securitySchemes", "bearer", "type", "http", "scheme", "bearer", "description",
        "an API key (bl_live_...) or a JWT access token", "apiKey", "type", "apiKey", "in", "header", "name",
        "X-API-Key",
        "schemas", "Error", surface == BL_API_SURFACE_FIELD_SERVICE ? field_service_error_schema()
        : surface == BL_API_SURFACE_ATTENDANCE  ? attendance_error_schema()
                                                : error_schema(),
        "CommandAccepted", "type", "object", "required", "command_id",
        "status_url", "properties", "command_id", "type", "string", "format", "uuid", "status_url", "type",
        "string", "status", "type", "string", "type", "type", "string", "aggregate_id", "type", "string",
        "Page", "type", "object", "required", "data", "pagination", "properties", "data", "type", "array",
        "items", "pagination", "type", "object", "properties", "total", "type", "integer", "limit", "type",
        "integer", "offset", "type", "integer", "has_more", "type", "boolean",
        "responses", "Error", "description", "The error object", "content", "application/json", "schema",
        "$ref", "#/components/schemas/Error");
}

/* 429 as the Powalyze document has it (§12), with its headers. */
static json_t *rate_limited_response(void)
{
    return json_loads("{\"description\":\"rate_limit_exceeded: \\\"You have exceeded the rate limit of N requests "
                      "per <rate_window>.\\\"\",\"headers\":{\"X-RateLimit-Limit\":{\"schema\":{\"type\":\"integer\"}},"
                      "\"X-RateLimit-Remaining\":{\"schema\":{\"type\":\"integer\"}},\"X-RateLimit-Reset\":"
                      "{\"description\":\"unix seconds\",\"schema\":{\"type\":\"integer\"}},\"Retry-After\":"
                      "{\"schema\":{\"type\":\"integer\"}}},\"content\":{\"application/json\":{\"schema\":"
                      "{\"$ref\":\"#/components/schemas/Error\"}}}}",
                      0, NULL);
}

/* "/v1/risks/:id/resolve" -> "/v1/risks/{id}/resolve", adding each ":name"
 * as a path parameter to params. */
static void openapi_path(const char *pattern, char *out, size_t len, json_t *params)
{
    size_t o = 0;
    for (const char *p = pattern; *p && o + 2 < len;) {
        if (*p == ':' && (p == pattern || p[-1] == '/')) {
            size_t n = strcspn(p + 1, "/");
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)n, p + 1);
            o += (size_t)snprintf(out + o, len - o, "{%s}", name);
            json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", name, "in", "path",
                                                    "required", 1, "schema", "type", "string"));
            p += n + 1;
        } else {
            out[o++] = *p++;
        }
    }
    out[o < len ? o : len - 1] = '\0';
}

static json_t *generic_operation(const char *method, const char *pattern)
{
    char op_id[160], summary[200];
    size_t o = (size_t)snprintf(op_id, sizeof op_id, "%s", method);
    for (const char *p = pattern; *p && o + 1 < sizeof op_id; p++)
        op_id[o++] = (*p == '/' || *p == ':' || *p == '-' || *p == '.') ? '_' : *p;
    op_id[o] = '\0';
    for (char *c = op_id; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    snprintf(summary, sizeof summary, "%s %s", method, pattern);
    return json_pack("{s:s, s:s, s:{s:{s:s}}}", "operationId", op_id, "summary", summary, "responses",
                     "200", "description", "Success");
}

/* Moves the route file's schema definitions into components.schemas. */
static void take_components(json_t *op, json_t *schemas)
{
    json_t *extra = json_object_get(op, "x-busline-components");
    const char *name;
    json_t *v;
    json_object_foreach(extra, name, v)
    {
        if (!json_object_get(schemas, name))
            json_object_set(schemas, name, v);
    }
    json_object_del(op, "x-busline-components");
}

static const struct {
    const char *title, *description;
} surface_info[BL_API_SURFACE_COUNT] = {
    [BL_API_SURFACE_V1] = {"busline API (/v1, the Powalyze document)",
                           "Authenticated requests become Avro commands on Kafka; reads come from the domain "
                           "services' read models. Errors share one shape (Error)."},
    [BL_API_SURFACE_FIELD_SERVICE] = {"busline field-service API (the SmartLeakPro document)",
                                      "The SmartLeakPro API over the field-service domain service: French field "
                                      "names, {detail, error_code, field_errors} errors (Error)."},
    [BL_API_SURFACE_ATTENDANCE] = {"busline Attendance-X API (its events, the integrations document)",
                                   "Attendance-X's API: {success: true, data, meta?} answers and"
                                   " {success: false, error: {code, message, request_id, details?}} errors (Error)."},
    [BL_API_SURFACE_CUSTOM] = {"busline custom endpoints (/custom, seed document 002)",
                               "Endpoints organizations define at /v1/custom-apis, served at"
                               " /custom/<organization slug>/<path>; errors are document 002's APIError"
                               " {type, code, message, details?, timestamp, requestId}."},
};

json_t *bl_api_openapi_build(const bl_api_server *s, bl_api_surface surface, bl_err *err)
{
    if (surface < BL_API_SURFACE_V1 || surface >= BL_API_SURFACE_COUNT) {
        bl_err_set(err, BL_EINVAL, "openapi: no surface %d", (int)surface);
        return NULL;
    }
    json_t *components = components_base(surface);
    if (components && surface == BL_API_SURFACE_V1)
        json_object_set_new(json_object_get(components, "responses"), "RateLimited", rate_limited_response());
    json_t *paths = json_object();
    json_t *doc = components && paths
                      ? json_pack("{s:s, s:{s:s, s:s, s:s}, s:o, s:o}", "openapi", "3.1.0", "info", "title",
                                  surface_info[surface].title, "version", "1.0.0", "description",
                                  surface_info[surface].description, "paths", paths, "components", components)
                      : NULL;
    if (!doc) {
        json_decref(paths);
        json_decref(components);
        bl_err_set(err, BL_ENOMEM, "openapi: out of memory");
        return NULL;
    }
    json_t *schemas = json_object_get(components, "schemas");
    for (size_t i = 0; i < bl_api_server_route_count(s); i++) {
        const char *method, *pattern;
        bl_api_access access;
        bl_api_surface route_surface;
        const json_t *documented;
        if (bl_api_server_route_at(s, i, &method, &pattern, &access, &route_surface, &documented) != 0)
            break;
        if (route_surface != surface)
            continue;
        json_t *params = json_array();
        char path[256], lower[16];
        openapi_path(pattern, path, sizeof path, params);
        json_t *op = documented ? json_deep_copy(documented) : generic_operation(method, pattern);
        if (!op || !params) {
            json_decref(op);
            json_decref(params);
            json_decref(doc);
            bl_err_set(err, BL_ENOMEM, "openapi: out of memory");
            return NULL;
        }
        take_components(op, schemas);
        if (json_is_true(json_object_get(op, "x-busline-idempotent"))) {
            json_array_append_new(params, json_pack("{s:s, s:s, s:s, s:{s:s, s:i, s:i}}", "name",
                                                    "Idempotency-Key", "in", "header", "description",
                                                    "a retry with the same key returns the first answer",
                                                    "schema", "type", "string", "minLength", 1, "maxLength",
                                                    255));
        }
        json_object_del(op, "x-busline-idempotent");
        json_array_extend(params, json_object_get(op, "parameters"));
        if (json_array_size(params) > 0)
            json_object_set(op, "parameters", params);
        json_decref(params);
        json_object_set_new(op, "security", access == BL_API_PUBLIC
                                                ? json_array()
                                                : json_pack("[{s:[]}, {s:[]}]", "bearer", "apiKey"));
        json_t *responses = json_object_get(op, "responses");
        json_object_set_new(responses, "default", json_pack("{s:s}", "$ref", "#/components/responses/Error"));
        if (surface == BL_API_SURFACE_V1 && access != BL_API_PUBLIC && !json_object_get(responses, "429"))
            json_object_set_new(responses, "429", json_pack("{s:s}", "$ref", "#/components/responses/RateLimited"));
        snprintf(lower, sizeof lower, "%s", method);
        for (char *c = lower; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        json_t *item = json_object_get(paths, path);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, path, item);
        }
        json_object_set_new(item, lower, op);
    }
    return doc;
}
