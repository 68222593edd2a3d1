/* A parsed Avro schema kept with its JSON (avro-c drops defaults and
 * logical types), and the questions the walkers ask of its nodes. */
#include "schemas/avro_json_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_named_kind(const char *t)
{
    return t && (!strcmp(t, "record") || !strcmp(t, "error") || !strcmp(t, "enum") ||
                 !strcmp(t, "fixed"));
}

/* Records every named definition under its full name, so a type given by
 * name reference can find its JSON (and so its defaults). */
void bl_avro_index_named(json_t *node, const char *ns, json_t *named)
{
    if (json_is_array(node)) {
        size_t i;
        json_t *b;
        json_array_foreach(node, i, b) bl_avro_index_named(b, ns, named);
        return;
    }
    if (!json_is_object(node))
        return;
    json_t *type = json_object_get(node, "type");
    if (!json_is_string(type)) {
        bl_avro_index_named(type, ns, named);
        return;
    }
    const char *t = json_string_value(type);
    if (!strcmp(t, "array"))
        bl_avro_index_named(json_object_get(node, "items"), ns, named);
    if (!strcmp(t, "map"))
        bl_avro_index_named(json_object_get(node, "values"), ns, named);
    if (!is_named_kind(t))
        return;
    const char *name = json_string_value(json_object_get(node, "name"));
    if (!name)
        return;
    const char *space = json_string_value(json_object_get(node, "namespace"));
    if (!space)
        space = ns;
    char full[512], inner_ns[512];
    if (strchr(name, '.')) {
        snprintf(full, sizeof full, "%s", name);
        snprintf(inner_ns, sizeof inner_ns, "%.*s", (int)(strrchr(name, '.') - name), name);
    } else {
        if (space && *space)
            snprintf(full, sizeof full, "%s.%s", space, name);
        else
            snprintf(full, sizeof full, "%s", name);
        snprintf(inner_ns, sizeof inner_ns, "%s", space ? space : "");
    }
    if (!json_object_get(named, full))
        json_object_set(named, full, node);
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(node, "fields"), i, f)
        bl_avro_index_named(json_object_get(f, "type"), inner_ns, named);
}

bl_avro_schema *bl_avro_schema_parse(const char *text, size_t len, bl_err *err)
{
    json_error_t jerr;
    bl_avro_schema *s = calloc(1, sizeof *s);
    if (!s) {
        bl_err_set(err, BL_ENOMEM, "avro: out of memory");
        return NULL;
    }
    s->json = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    if (!s->json) {
        bl_err_set(err, BL_EINVAL, "avro: schema is not JSON: %s (line %d)", jerr.text, jerr.line);
        goto fail;
    }
    if (avro_schema_from_json_length(text, len, &s->schema) != 0) {
        s->schema = NULL;
        bl_err_set(err, BL_EINVAL, "avro: bad schema: %s", avro_strerror());
        goto fail;
    }
    s->iface = avro_generic_class_from_schema(s->schema);
    if (!s->iface) {
        bl_err_set(err, BL_EINVAL, "avro: no value class for schema: %s", avro_strerror());
        goto fail;
    }
    s->named = json_object();
    if (!s->named) {
        bl_err_set(err, BL_ENOMEM, "avro: out of memory");
        goto fail;
    }
    bl_avro_index_named(s->json, "", s->named);
    return s;
fail:
    bl_avro_schema_free(s);
    return NULL;
}

void bl_avro_schema_free(bl_avro_schema *s)
{
    if (!s)
        return;
    if (s->iface)
        avro_value_iface_decref(s->iface);
    if (s->schema)
        avro_schema_decref(s->schema);
    json_decref(s->named);
    json_decref(s->json);
    free(s);
}

avro_schema_t bl_avro_schema_avro(const bl_avro_schema *s) { return s->schema; }
avro_value_iface_t *bl_avro_schema_iface(const bl_avro_schema *s) { return s->iface; }
const json_t *bl_avro_schema_json(const bl_avro_schema *s) { return s->json; }

int bl_avro_value_new(const bl_avro_schema *s, avro_value_t *out, bl_err *err)
{
    if (avro_generic_value_new(s->iface, out) != 0)
        return bl_err_set(err, BL_ENOMEM, "avro: cannot make a value: %s", avro_strerror());
    return 0;
}

/* ---- schema nodes ---- */

avro_schema_t bl_avro_target(avro_schema_t s)
{
    while (s && is_avro_link(s))
        s = avro_schema_link_target(s);
    return s;
}

int bl_avro_is_named(avro_schema_t s)
{
    return is_avro_record(s) || is_avro_enum(s) || is_avro_fixed(s);
}

void bl_avro_full_name(avro_schema_t s, char *out, size_t len)
{
    const char *ns = avro_schema_namespace(s);
    if (ns && *ns)
        snprintf(out, len, "%s.%s", ns, avro_schema_name(s));
    else
        snprintf(out, len, "%s", avro_schema_name(s));
}

/* The name a union branch goes by in the Avro JSON encoding. */
const char *bl_avro_branch_name(avro_schema_t b, char *buf, size_t len)
{
    b = bl_avro_target(b);
    if (bl_avro_is_named(b)) {
        bl_avro_full_name(b, buf, len);
        return buf;
    }
    switch (avro_typeof(b)) {
    case AVRO_NULL: return "null";
    case AVRO_BOOLEAN: return "boolean";
    case AVRO_INT32: return "int";
    case AVRO_INT64: return "long";
    case AVRO_FLOAT: return "float";
    case AVRO_DOUBLE: return "double";
    case AVRO_STRING: return "string";
    case AVRO_BYTES: return "bytes";
    case AVRO_ARRAY: return "array";
    case AVRO_MAP: return "map";
    default: return "?";
    }
}

int bl_avro_branch_is_called(avro_schema_t b, const char *name)
{
    char buf[512];
    if (!strcmp(bl_avro_branch_name(b, buf, sizeof buf), name))
        return 1;
    b = bl_avro_target(b);
    return bl_avro_is_named(b) && !strcmp(avro_schema_name(b), name);
}

/* The JSON node that describes s, given the node found at its place in the
 * schema text (which may be a name reference or a {"type": {...}} wrapper). */
const json_t *bl_avro_node_of(const bl_avro_schema *S, avro_schema_t s, const json_t *j)
{
    while (json_is_object(j)) {
        const json_t *t = json_object_get(j, "type");
        if (!json_is_object(t) && !json_is_array(t))
            break;
        j = t;
    }
    if (bl_avro_is_named(s) && !json_is_object(j)) {
        char full[512];
        bl_avro_full_name(s, full, sizeof full);
        j = json_object_get(S->named, full);
    }
    return j;
}

int bl_avro_is_timestamp_millis(const json_t *j)
{
    const char *lt = json_string_value(json_object_get(j, "logicalType"));
    return lt && !strcmp(lt, "timestamp-millis");
}
