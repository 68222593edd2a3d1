/* The smallest valid instance of an OpenAPI request schema (see
 * openapi_instance.h). */
#include "tests/support/openapi_instance.h"

#include <string.h>

/* Schemas nest no deeper than this in the served document; deeper is a loop. */
#define INSTANCE_DEPTH_MAX 8

static json_t *resolve_ref(const json_t *schema, const json_t *components)
{
    const char *ref = json_string_value(json_object_get(schema, "$ref"));
    const char *prefix = "#/components/schemas/";
    if (ref && strncmp(ref, prefix, strlen(prefix)) == 0)
        return json_object_get(components, ref + strlen(prefix));
    return (json_t *)schema;
}

static json_t *instance_at(const json_t *schema, const json_t *components, int depth)
{
    schema = resolve_ref(schema, components);
    if (!schema || depth > INSTANCE_DEPTH_MAX)
        return json_null();
    const json_t *any = json_object_get(schema, "anyOf");
    if (any) {
        size_t i;
        const json_t *b;
        json_array_foreach(any, i, b)
        {
            const char *t = json_string_value(json_object_get(b, "type"));
            if (t && strcmp(t, "null") == 0)
                return json_null();
        }
        return instance_at(json_array_get(any, 0), components, depth + 1);
    }
    const json_t *en = json_object_get(schema, "enum");
    if (en)
        return json_incref(json_array_get(en, 0));
    const char *type = json_string_value(json_object_get(schema, "type"));
    const char *format = json_string_value(json_object_get(schema, "format"));
    type = type ? type : "";
    format = format ? format : "";
    if (strcmp(type, "string") == 0)
        return json_string(strcmp(format, "date-time") == 0 ? "2024-01-01T00:00:00Z" : "x");
    if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0)
        return json_integer(1);
    if (strcmp(type, "boolean") == 0)
        return json_false();
    if (strcmp(type, "array") == 0)
        return json_array();
    json_t *out = json_object();
    size_t i;
    const json_t *name;
    json_array_foreach(json_object_get(schema, "required"), i, name)
    {
        const char *key = json_string_value(name);
        json_object_set_new(out, key,
                            instance_at(json_object_get(json_object_get(schema, "properties"), key),
                                             components, depth + 1));
    }
    return out;
}

json_t *bl_test_openapi_minimal_instance(const json_t *schema, const json_t *components)
{
    return instance_at(schema, components, 0);
}
