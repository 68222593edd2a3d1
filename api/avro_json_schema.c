#include "api/avro_json_schema.h"

#include <stdio.h>
#include <string.h>

/* The full name of a named type: its own namespace, or the enclosing one. */
static void full_name(const json_t *avro, const char *ns, char *out, size_t len)
{
    const char *name = json_string_value(json_object_get(avro, "name"));
    const char *own = json_string_value(json_object_get(avro, "namespace"));
    if (!name)
        name = "";
    if (strchr(name, '.') || !(own ? own : ns) || !*(own ? own : ns))
        snprintf(out, len, "%s", name);
    else
        snprintf(out, len, "%s.%s", own ? own : ns, name);
}

static json_t *ref_to(const char *name)
{
    char ref[400];
    snprintf(ref, sizeof ref, "#/components/schemas/%s", name);
    return json_pack("{s:s}", "$ref", ref);
}

static json_t *primitive(const char *t, const char *ns)
{
    if (strcmp(t, "null") == 0)
        return json_pack("{s:s}", "type", "null");
    if (strcmp(t, "boolean") == 0)
        return json_pack("{s:s}", "type", "boolean");
    if (strcmp(t, "int") == 0)
        return json_pack("{s:s, s:s}", "type", "integer", "format", "int32");
    if (strcmp(t, "long") == 0)
        return json_pack("{s:s, s:s}", "type", "integer", "format", "int64");
    if (strcmp(t, "float") == 0 || strcmp(t, "double") == 0)
        return json_pack("{s:s}", "type", "number");
    if (strcmp(t, "string") == 0 || strcmp(t, "bytes") == 0)
        return json_pack("{s:s}", "type", "string");
    /* a reference to a named type defined elsewhere */
    char name[300];
    if (strchr(t, '.') || !ns)
        snprintf(name, sizeof name, "%s", t);
    else
        snprintf(name, sizeof name, "%s.%s", ns, t);
    return ref_to(name);
}

static json_t *record(const json_t *avro, const char *ns, json_t *components)
{
    char name[300];
    full_name(avro, ns, name, sizeof name);
    if (json_object_get(components, name))
        return ref_to(name);
    const char *dot = strrchr(name, '.');
    char inner_ns[300];
    snprintf(inner_ns, sizeof inner_ns, "%.*s", dot ? (int)(dot - name) : 0, name);
    json_t *props = json_object(), *required = json_array();
    json_t *out = json_pack("{s:s, s:o, s:o, s:b}", "type", "object", "properties", props,
                            "required", required, "additionalProperties", 0);
    if (!out)
        return NULL;
    const char *doc = json_string_value(json_object_get(avro, "doc"));
    if (doc)
        json_object_set_new(out, "description", json_string(doc));
    json_object_set(components, name, out); /* placeholder first: recursive records */
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(avro, "fields"), i, f)
    {
        const char *fname = json_string_value(json_object_get(f, "name"));
        json_t *fs = bl_api_avro_json_schema(json_object_get(f, "type"), inner_ns, components);
        if (!fname || !fs) {
            json_decref(fs);
            json_object_del(components, name);
            json_decref(out);
            return NULL;
        }
        const char *fdoc = json_string_value(json_object_get(f, "doc"));
        if (fdoc)
            json_object_set_new(fs, "description", json_string(fdoc));
        json_object_set_new(props, fname, fs);
        if (!json_object_get(f, "default"))
            json_array_append_new(required, json_string(fname));
    }
    json_decref(out);
    return ref_to(name);
}

json_t *bl_api_avro_json_schema(const json_t *avro, const char *ns, json_t *components)
{
    if (json_is_string(avro))
        return primitive(json_string_value(avro), ns);
    if (json_is_array(avro)) {
        json_t *any = json_array();
        size_t i;
        const json_t *b;
        json_array_foreach(avro, i, b)
        {
            json_t *s = bl_api_avro_json_schema(b, ns, components);
            if (!s) {
                json_decref(any);
                return NULL;
            }
            json_array_append_new(any, s);
        }
        return json_pack("{s:o}", "anyOf", any);
    }
    const char *type = json_string_value(json_object_get(avro, "type"));
    const char *logical = json_string_value(json_object_get(avro, "logicalType"));
    if (!type)
        return NULL;
    if (logical && (strcmp(logical, "timestamp-millis") == 0 || strcmp(logical, "timestamp-micros") == 0))
        return json_pack("{s:s, s:s}", "type", "string", "format", "date-time");
    if (strcmp(type, "record") == 0)
        return record(avro, ns, components);
    if (strcmp(type, "enum") == 0) {
        char name[300];
        full_name(avro, ns, name, sizeof name);
        if (!json_object_get(components, name)) {
            json_t *e = json_pack("{s:s, s:O}", "type", "string", "enum", json_object_get(avro, "symbols"));
            const char *doc = json_string_value(json_object_get(avro, "doc"));
            if (e && doc)
                json_object_set_new(e, "description", json_string(doc));
            if (!e)
                return NULL;
            json_object_set_new(components, name, e);
        }
        return ref_to(name);
    }
    if (strcmp(type, "array") == 0) {
        json_t *items = bl_api_avro_json_schema(json_object_get(avro, "items"), ns, components);
        return items ? json_pack("{s:s, s:o}", "type", "array", "items", items) : NULL;
    }
    if (strcmp(type, "map") == 0) {
        json_t *values = bl_api_avro_json_schema(json_object_get(avro, "values"), ns, components);
        return values ? json_pack("{s:s, s:o}", "type", "object", "additionalProperties", values) : NULL;
    }
    if (strcmp(type, "fixed") == 0)
        return json_pack("{s:s}", "type", "string");
    return primitive(type, ns);
}

const json_t *bl_api_avro_find_record(const json_t *avro, const char *name)
{
    if (json_is_array(avro)) {
        size_t i;
        const json_t *b;
        json_array_foreach(avro, i, b)
        {
            const json_t *found = bl_api_avro_find_record(b, name);
            if (found)
                return found;
        }
        return NULL;
    }
    if (!json_is_object(avro))
        return NULL;
    const char *type = json_string_value(json_object_get(avro, "type"));
    if (type && strcmp(type, "record") == 0) {
        char full[300];
        full_name(avro, NULL, full, sizeof full);
        if (strcmp(full, name) == 0)
            return avro;
        size_t i;
        const json_t *f;
        json_array_foreach(json_object_get(avro, "fields"), i, f)
        {
            const json_t *found = bl_api_avro_find_record(json_object_get(f, "type"), name);
            if (found)
                return found;
        }
        return NULL;
    }
    if (type && strcmp(type, "array") == 0)
        return bl_api_avro_find_record(json_object_get(avro, "items"), name);
    if (type && strcmp(type, "map") == 0)
        return bl_api_avro_find_record(json_object_get(avro, "values"), name);
    return bl_api_avro_find_record(json_object_get(avro, "type"), name);
}
