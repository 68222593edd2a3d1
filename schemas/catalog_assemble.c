#include "schemas/catalog_assemble.h"

#include <string.h>

/* Named types met so far in one assembled schema: full name -> {def, ns, file}. */
typedef struct named_types {
    json_t *by_name;
} named_types;

static int is_primitive(const char *name)
{
    static const char *const primitives[] = {"null", "boolean", "int", "long",
                                             "float", "double", "bytes", "string"};
    for (size_t i = 0; i < sizeof primitives / sizeof primitives[0]; i++)
        if (strcmp(name, primitives[i]) == 0)
            return 1;
    return 0;
}

static int is_named_kind(const char *type)
{
    return strcmp(type, "record") == 0 || strcmp(type, "enum") == 0 || strcmp(type, "fixed") == 0;
}

static json_t *resolve_type(const json_t *node, const char *ns, named_types *seen,
                            const char *file, bl_err *err);

/* A reference by name: qualified with the enclosing namespace, so it still
 * means the same thing once inlined under the topic's envelope. */
static json_t *resolve_reference(const char *name, const char *ns)
{
    if (is_primitive(name) || strchr(name, '.') || ns[0] == '\0')
        return json_string(name);
    return json_sprintf("%s.%s", ns, name);
}

static json_t *resolve_fields(const json_t *fields, const char *ns, named_types *seen,
                              const char *file, bl_err *err)
{
    if (!json_is_array(fields)) {
        bl_err_set(err, BL_EINVAL, "catalog: %s: record fields are not an array", file);
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    const json_t *field;
    json_array_foreach(fields, i, field) {
        json_t *copy = json_copy((json_t *)field);
        json_t *type = resolve_type(json_object_get(field, "type"), ns, seen, file, err);
        if (!copy || !type || json_object_set_new(copy, "type", type) != 0 ||
            json_array_append_new(out, copy) != 0) {
            json_decref(copy);
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *resolve_named(const json_t *node, const char *kind, const char *ns,
                             named_types *seen, const char *file, bl_err *err)
{
    const char *name = json_string_value(json_object_get(node, "name"));
    if (!name)
        return bl_err_set(err, BL_EINVAL, "catalog: %s: %s without a name", file, kind), NULL;
    const char *own_ns = json_string_value(json_object_get(node, "namespace"));
    char full[512], inner_ns[512];
    const char *dot = strrchr(name, '.');
    int too_long;
    if (dot) {
        too_long = snprintf(full, sizeof full, "%s", name) >= (int)sizeof full;
        snprintf(inner_ns, sizeof inner_ns, "%.*s", (int)(dot - name), name);
    } else {
        too_long = snprintf(inner_ns, sizeof inner_ns, "%s", own_ns ? own_ns : ns) >= (int)sizeof inner_ns ||
                   snprintf(full, sizeof full, "%s%s%s", inner_ns, inner_ns[0] ? "." : "", name) >=
                       (int)sizeof full;
    }
    if (too_long)
        return bl_err_set(err, BL_EINVAL, "catalog: %s: name %s is too long", file, name), NULL;

    json_t *known = json_object_get(seen->by_name, full);
    if (known) {
        if (json_equal(json_object_get(known, "def"), (json_t *)node) &&
            strcmp(json_string_value(json_object_get(known, "ns")), ns) == 0)
            return json_string(full);
        bl_err_set(err, BL_EINVAL, "catalog: %s: %s differs from its definition in %s", file,
                   full, json_string_value(json_object_get(known, "file")));
        return NULL;
    }
    if (json_object_set_new(seen->by_name, full,
                            json_pack("{s:O,s:s,s:s}", "def", node, "ns", ns, "file", file)) != 0)
        return bl_err_set(err, BL_ENOMEM, "catalog: out of memory"), NULL;

    json_t *out = json_copy((json_t *)node);
    if (!out)
        return bl_err_set(err, BL_ENOMEM, "catalog: out of memory"), NULL;
    if (!dot && json_object_set_new(out, "namespace", json_string(inner_ns)) != 0)
        goto fail;
    if (strcmp(kind, "record") == 0) {
        json_t *fields = resolve_fields(json_object_get(node, "fields"), inner_ns, seen, file, err);
        if (!fields || json_object_set_new(out, "fields", fields) != 0)
            goto fail;
    }
    return out;
fail:
    json_decref(out);
    if (err && err->code == BL_OK)
        bl_err_set(err, BL_ENOMEM, "catalog: out of memory");
    return NULL;
}

static json_t *resolve_type(const json_t *node, const char *ns, named_types *seen,
                            const char *file, bl_err *err)
{
    if (json_is_string(node))
        return resolve_reference(json_string_value(node), ns);
    if (json_is_array(node)) {
        json_t *out = json_array();
        size_t i;
        const json_t *branch;
        json_array_foreach(node, i, branch) {
            json_t *r = resolve_type(branch, ns, seen, file, err);
            if (!r || json_array_append_new(out, r) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    const char *kind = json_string_value(json_object_get(node, "type"));
    if (!json_is_object(node) || !kind) {
        bl_err_set(err, BL_EINVAL, "catalog: %s: a type is neither a name, a union nor an object", file);
        return NULL;
    }
    if (is_named_kind(kind))
        return resolve_named(node, kind, ns, seen, file, err);
    const char *child = strcmp(kind, "array") == 0 ? "items" : strcmp(kind, "map") == 0 ? "values" : NULL;
    if (!child) /* a primitive with attributes, e.g. a logical type */
        return json_copy((json_t *)node);
    json_t *out = json_copy((json_t *)node);
    json_t *inner = resolve_type(json_object_get(node, child), ns, seen, file, err);
    if (!out || !inner || json_object_set_new(out, child, inner) != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *bl_catalog_assemble(const json_t *envelope, const char *ns, const char *name,
                            json_t *const *records, const char *const *files, size_t n,
                            bl_err *err)
{
    named_types seen = {json_object()};
    json_t *data_union = json_array();
    json_t *out = json_deep_copy(envelope);
    json_t *result = NULL;
    if (!seen.by_name || !data_union || !out) {
        bl_err_set(err, BL_ENOMEM, "catalog: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *rec = resolve_type(records[i], "", &seen, files[i], err);
        if (!rec)
            goto done;
        if (json_is_string(rec)) {
            bl_err_set(err, BL_EINVAL, "catalog: %s: record %s is already defined by another file",
                       files[i], json_string_value(rec));
            json_decref(rec);
            goto done;
        }
        json_array_append_new(data_union, rec);
    }

    json_t *data_field = NULL;
    size_t i;
    json_t *field;
    json_array_foreach(json_object_get(out, "fields"), i, field) {
        if (json_is_string(json_object_get(field, "name")) &&
            strcmp(json_string_value(json_object_get(field, "name")), "data") == 0)
            data_field = field;
    }
    if (!data_field) {
        bl_err_set(err, BL_EINVAL, "catalog: envelope template has no field \"data\"");
        goto done;
    }
    if (json_object_set_new(out, "name", json_string(name)) != 0 ||
        json_object_set_new(out, "namespace", json_string(ns)) != 0 ||
        json_object_set(data_field, "type", data_union) != 0) {
        bl_err_set(err, BL_ENOMEM, "catalog: out of memory");
        goto done;
    }
    result = out;
    out = NULL;
done:
    json_decref(out);
    json_decref(data_union);
    json_decref(seen.by_name);
    return result;
}
