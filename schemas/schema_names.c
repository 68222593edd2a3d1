#include "schemas/schema_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper nesting than this is refused rather than risking the stack on
 * hostile input; real schemas nest a handful of levels. */
#define MAX_DEPTH 64

typedef struct named_type {
    bl_schema_kind kind;
    json_t *def;
    char *fullname;
    char *ns;
} named_type;

struct bl_schema_names {
    json_t *root;
    named_type *types;
    size_t count;
    size_t cap;
};

static const struct {
    const char *name;
    bl_schema_kind kind;
} PRIMITIVES[] = {
    {"null", BL_SCHEMA_NULL},   {"boolean", BL_SCHEMA_BOOLEAN}, {"int", BL_SCHEMA_INT},
    {"long", BL_SCHEMA_LONG},   {"float", BL_SCHEMA_FLOAT},     {"double", BL_SCHEMA_DOUBLE},
    {"bytes", BL_SCHEMA_BYTES}, {"string", BL_SCHEMA_STRING},
};

static int primitive_kind(const char *name, bl_schema_kind *kind)
{
    for (size_t i = 0; i < sizeof PRIMITIVES / sizeof PRIMITIVES[0]; i++) {
        if (strcmp(PRIMITIVES[i].name, name) == 0) {
            *kind = PRIMITIVES[i].kind;
            return 1;
        }
    }
    return 0;
}

const char *bl_schema_kind_name(bl_schema_kind kind)
{
    for (size_t i = 0; i < sizeof PRIMITIVES / sizeof PRIMITIVES[0]; i++)
        if (PRIMITIVES[i].kind == kind)
            return PRIMITIVES[i].name;
    switch (kind) {
    case BL_SCHEMA_RECORD: return "record";
    case BL_SCHEMA_ENUM: return "enum";
    case BL_SCHEMA_FIXED: return "fixed";
    case BL_SCHEMA_ARRAY: return "array";
    case BL_SCHEMA_MAP: return "map";
    case BL_SCHEMA_UNION: return "union";
    default: return "unknown";
    }
}

const char *bl_schema_unqualified(const char *fullname)
{
    const char *dot = strrchr(fullname, '.');
    return dot ? dot + 1 : fullname;
}

json_t *bl_schema_json_parse(const char *text, const char *what, bl_err *err)
{
    if (!text) {
        bl_err_set(err, BL_EINVAL, "%s: no schema text", what);
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        bl_err_set(err, BL_EINVAL, "%s: invalid JSON at line %d column %d: %s", what, jerr.line,
                   jerr.column, jerr.text);
    return root;
}

static char *join_name(const char *ns, const char *name)
{
    size_t a = strlen(ns), b = strlen(name);
    char *out = malloc(a + b + 2);
    if (!out)
        return NULL;
    if (a) {
        memcpy(out, ns, a);
        out[a++] = '.';
    }
    memcpy(out + a, name, b + 1);
    return out;
}

static named_type *find_by_fullname(const bl_schema_names *names, const char *fullname)
{
    for (size_t i = 0; i < names->count; i++)
        if (strcmp(names->types[i].fullname, fullname) == 0)
            return &names->types[i];
    return NULL;
}

static named_type *find_by_def(const bl_schema_names *names, const json_t *def)
{
    for (size_t i = 0; i < names->count; i++)
        if (names->types[i].def == def)
            return &names->types[i];
    return NULL;
}

/* A reference without dots means the enclosing namespace first, then the
 * null namespace (as the Java implementation, hence the registry, does). */
static named_type *find_reference(const bl_schema_names *names, const char *ref, const char *ns,
                                  bl_err *err)
{
    named_type *t = NULL;
    if (!strchr(ref, '.') && ns[0]) {
        char *qualified = join_name(ns, ref);
        if (!qualified) {
            bl_err_set(err, BL_ENOMEM, "schema: out of memory");
            return NULL;
        }
        t = find_by_fullname(names, qualified);
        free(qualified);
    }
    if (!t)
        t = find_by_fullname(names, ref);
    if (!t)
        bl_err_set(err, BL_EINVAL, "schema: unknown type '%s'%s%s%s", ref, ns[0] ? " (namespace '" : "",
                   ns, ns[0] ? "')" : "");
    return t;
}

static int register_named(bl_schema_names *names, json_t *def, bl_schema_kind kind,
                          const char *enclosing_ns, named_type **out, bl_err *err)
{
    json_t *jname = json_object_get(def, "name");
    const char *name = json_string_value(jname);
    if (!name || !name[0])
        return bl_err_set(err, BL_EINVAL, "schema: %s without a name", bl_schema_kind_name(kind));
    json_t *jns = json_object_get(def, "namespace");
    if (jns && !json_is_string(jns) && !json_is_null(jns))
        return bl_err_set(err, BL_EINVAL, "schema: %s '%s': namespace is not a string",
                          bl_schema_kind_name(kind), name);
    named_type t = {.kind = kind, .def = def};
    const char *dot = strrchr(name, '.');
    if (dot) {
        t.fullname = strdup(name);
        t.ns = strndup(name, (size_t)(dot - name));
    } else {
        const char *ns = json_is_string(jns) ? json_string_value(jns) : enclosing_ns;
        t.fullname = join_name(ns, name);
        t.ns = strdup(ns);
    }
    if (!t.fullname || !t.ns) {
        free(t.fullname);
        free(t.ns);
        return bl_err_set(err, BL_ENOMEM, "schema: out of memory");
    }
    if (find_by_fullname(names, t.fullname)) {
        bl_err_set(err, BL_EINVAL, "schema: type '%s' is defined twice", t.fullname);
        free(t.fullname);
        free(t.ns);
        return -1;
    }
    if (names->count == names->cap) {
        size_t cap = names->cap ? names->cap * 2 : 8;
        named_type *grown = realloc(names->types, cap * sizeof *grown);
        if (!grown) {
            free(t.fullname);
            free(t.ns);
            return bl_err_set(err, BL_ENOMEM, "schema: out of memory");
        }
        names->types = grown;
        names->cap = cap;
    }
    names->types[names->count] = t;
    *out = &names->types[names->count++];
    return 0;
}

static int walk(bl_schema_names *names, json_t *schema, const char *ns, int depth, bl_err *err);

static int walk_record(bl_schema_names *names, json_t *def, const char *ns, int depth, bl_err *err)
{
    named_type *t;
    if (register_named(names, def, BL_SCHEMA_RECORD, ns, &t, err) != 0)
        return -1;
    /* Copied: registering nested types may move the table. */
    char *fullname = strdup(t->fullname), *record_ns = strdup(t->ns);
    int rc = -1;
    if (!fullname || !record_ns) {
        bl_err_set(err, BL_ENOMEM, "schema: out of memory");
        goto done;
    }
    json_t *fields = json_object_get(def, "fields");
    if (!json_is_array(fields)) {
        bl_err_set(err, BL_EINVAL, "schema: record '%s': fields is not an array", fullname);
        goto done;
    }
    size_t i;
    json_t *field;
    json_array_foreach(fields, i, field) {
        const char *fname = json_string_value(json_object_get(field, "name"));
        json_t *ftype = json_object_get(field, "type");
        if (!fname || !ftype) {
            bl_err_set(err, BL_EINVAL, "schema: record '%s': field %zu needs a name and a type",
                       fullname, i);
            goto done;
        }
        if (walk(names, ftype, record_ns, depth + 1, err) != 0) {
            bl_err_wrap(err, "record '%s' field '%s'", fullname, fname);
            goto done;
        }
    }
    rc = 0;
done:
    free(fullname);
    free(record_ns);
    return rc;
}

static int walk_enum(bl_schema_names *names, json_t *def, const char *ns, bl_err *err)
{
    named_type *t;
    if (register_named(names, def, BL_SCHEMA_ENUM, ns, &t, err) != 0)
        return -1;
    json_t *symbols = json_object_get(def, "symbols");
    if (!json_is_array(symbols))
        return bl_err_set(err, BL_EINVAL, "schema: enum '%s': symbols is not an array", t->fullname);
    size_t i;
    json_t *sym;
    json_array_foreach(symbols, i, sym) {
        if (!json_is_string(sym))
            return bl_err_set(err, BL_EINVAL, "schema: enum '%s': symbol %zu is not a string",
                              t->fullname, i);
    }
    json_t *dflt = json_object_get(def, "default");
    if (dflt) {
        int known = 0;
        json_array_foreach(symbols, i, sym) known |= json_equal(sym, dflt);
        if (!known)
            return bl_err_set(err, BL_EINVAL, "schema: enum '%s': default is not one of its symbols",
                              t->fullname);
    }
    return 0;
}

static int walk_fixed(bl_schema_names *names, json_t *def, const char *ns, bl_err *err)
{
    named_type *t;
    if (register_named(names, def, BL_SCHEMA_FIXED, ns, &t, err) != 0)
        return -1;
    json_t *size = json_object_get(def, "size");
    if (!json_is_integer(size) || json_integer_value(size) < 0)
        return bl_err_set(err, BL_EINVAL, "schema: fixed '%s': size is not a non-negative integer",
                          t->fullname);
    return 0;
}

static int walk_object(bl_schema_names *names, json_t *def, const char *ns, int depth, bl_err *err)
{
    const char *type = json_string_value(json_object_get(def, "type"));
    bl_schema_kind kind;
    if (!type)
        return bl_err_set(err, BL_EINVAL, "schema: object without a string 'type'");
    if (primitive_kind(type, &kind))
        return 0;
    if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0)
        return walk_record(names, def, ns, depth, err);
    if (strcmp(type, "enum") == 0)
        return walk_enum(names, def, ns, err);
    if (strcmp(type, "fixed") == 0)
        return walk_fixed(names, def, ns, err);
    if (strcmp(type, "array") == 0 || strcmp(type, "map") == 0) {
        const char *key = type[0] == 'a' ? "items" : "values";
        json_t *inner = json_object_get(def, key);
        if (!inner)
            return bl_err_set(err, BL_EINVAL, "schema: %s without '%s'", type, key);
        return walk(names, inner, ns, depth + 1, err);
    }
    /* {"type": "SomeName"}: a reference written as an object. */
    return find_reference(names, type, ns, err) ? 0 : -1;
}

static int walk(bl_schema_names *names, json_t *schema, const char *ns, int depth, bl_err *err)
{
    if (depth > MAX_DEPTH)
        return bl_err_set(err, BL_EINVAL, "schema: nested deeper than %d levels", MAX_DEPTH);
    if (json_is_string(schema)) {
        bl_schema_kind kind;
        if (primitive_kind(json_string_value(schema), &kind))
            return 0;
        return find_reference(names, json_string_value(schema), ns, err) ? 0 : -1;
    }
    if (json_is_array(schema)) {
        size_t i;
        json_t *branch;
        json_array_foreach(schema, i, branch) {
            if (json_is_array(branch))
                return bl_err_set(err, BL_EINVAL, "schema: a union may not directly contain a union");
            if (walk(names, branch, ns, depth + 1, err) != 0)
                return -1;
        }
        return 0;
    }
    if (json_is_object(schema))
        return walk_object(names, schema, ns, depth, err);
    return bl_err_set(err, BL_EINVAL, "schema: a schema must be a string, an object or an array");
}

bl_schema_names *bl_schema_names_build(json_t *root, bl_err *err)
{
    bl_schema_names *names = calloc(1, sizeof *names);
    if (!names) {
        bl_err_set(err, BL_ENOMEM, "schema: out of memory");
        return NULL;
    }
    names->root = root;
    if (walk(names, root, "", 0, err) != 0) {
        bl_schema_names_free(names);
        return NULL;
    }
    return names;
}

void bl_schema_names_free(bl_schema_names *names)
{
    if (!names)
        return;
    for (size_t i = 0; i < names->count; i++) {
        free(names->types[i].fullname);
        free(names->types[i].ns);
    }
    free(names->types);
    free(names);
}

static void fill_named(const named_type *t, bl_schema_node *out)
{
    out->kind = t->kind;
    out->def = t->def;
    out->fullname = t->fullname;
    out->ns = t->ns;
}

int bl_schema_names_resolve(const bl_schema_names *names, json_t *schema, const char *ns,
                            bl_schema_node *out, bl_err *err)
{
    *out = (bl_schema_node){.def = schema, .ns = ns};
    const char *ref = NULL;
    if (json_is_string(schema)) {
        ref = json_string_value(schema);
    } else if (json_is_array(schema)) {
        out->kind = BL_SCHEMA_UNION;
        return 0;
    } else if (json_is_object(schema)) {
        const char *type = json_string_value(json_object_get(schema, "type"));
        if (!type)
            return bl_err_set(err, BL_EINVAL, "schema: object without a string 'type'");
        if (strcmp(type, "array") == 0 || strcmp(type, "map") == 0) {
            out->kind = type[0] == 'a' ? BL_SCHEMA_ARRAY : BL_SCHEMA_MAP;
            return 0;
        }
        const named_type *t = find_by_def(names, schema);
        if (t) {
            fill_named(t, out);
            return 0;
        }
        ref = type;
    } else {
        return bl_err_set(err, BL_EINVAL, "schema: a schema must be a string, an object or an array");
    }
    if (primitive_kind(ref, &out->kind))
        return 0;
    const named_type *t = find_reference(names, ref, ns, err);
    if (!t)
        return -1;
    fill_named(t, out);
    return 0;
}

int bl_schema_names_root(const bl_schema_names *names, bl_schema_node *out, bl_err *err)
{
    return bl_schema_names_resolve(names, names->root, "", out, err);
}
