/* JSON Schemas and examples of records' plain JSON forms (see avro_json_schema.h).
 * One walk over the schema's JSON text builds either; named types given by
 * reference are found in the schema's index of named definitions. */
#include "schemas/avro_json_schema.h"

#include "schemas/avro_json_internal.h"

#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 32
#define EXAMPLE_TIME "2026-03-01T09:00:00.000Z"

typedef struct js_walk {
    const bl_avro_schema *S;
    int example;       /* 1: an example value; 0: a JSON Schema */
    int depth;
    json_t *expanding; /* full names of the records being walked: a recursive type stops there */
    bl_err *err;
} js_walk;

static json_t *walk_node(js_walk *w, const json_t *node, const char *ns, const char *field);

static int has(const char *field, const char *part)
{
    return field && strstr(field, part) != NULL;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = s ? strlen(s) : 0, t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* A string that reads like the field it fills. */
static json_t *example_string(const char *field)
{
    char buf[160];
    if (!field)
        return json_string("example");
    if (strcmp(field, "id") == 0 || ends_with(field, "_id")) {
        int stem = strcmp(field, "id") == 0 ? 2 : (int)strlen(field) - 3;
        snprintf(buf, sizeof buf, "%.*s_1042", stem, field);
    } else if (has(field, "email"))
        snprintf(buf, sizeof buf, "ada.lovelace@example.com");
    else if (has(field, "url") || has(field, "link"))
        snprintf(buf, sizeof buf, "https://example.com/%s", field);
    else if (has(field, "phone"))
        snprintf(buf, sizeof buf, "+33 1 23 45 67 89");
    else if (has(field, "date") || ends_with(field, "_at") || ends_with(field, "_on"))
        snprintf(buf, sizeof buf, "2026-03-01");
    else if (has(field, "time_zone") || has(field, "timezone"))
        snprintf(buf, sizeof buf, "Europe/Paris");
    else {
        int at = snprintf(buf, sizeof buf, "example %s", field);
        for (int i = 0; i < at && i < (int)sizeof buf; i++)
            if (buf[i] == '_')
                buf[i] = ' ';
    }
    return json_string(buf);
}

/* A number that reads like the field it fills. */
static json_t *example_integer(const char *field)
{
    if (has(field, "percent") || has(field, "probability") || has(field, "progress") || has(field, "rate") ||
        has(field, "score") || has(field, "impact"))
        return json_integer(50);
    if (has(field, "minutes") || has(field, "duration"))
        return json_integer(30);
    if (has(field, "count") || has(field, "total") || has(field, "number"))
        return json_integer(3);
    return json_integer(1);
}

static json_t *example_real(const char *field)
{
    if (has(field, "amount") || has(field, "cost") || has(field, "budget") || has(field, "price"))
        return json_real(1250.5);
    return json_real(0.5);
}

/* {"type": t}. */
static json_t *typed(const char *t)
{
    return json_pack("{s:s}", "type", t);
}

static json_t *primitive(js_walk *w, const char *t, const json_t *node, const char *field)
{
    int ex = w->example;
    if (strcmp(t, "null") == 0)
        return ex ? json_null() : typed("null");
    if (strcmp(t, "boolean") == 0)
        return ex ? json_true() : typed("boolean");
    if (strcmp(t, "int") == 0)
        return ex ? example_integer(field)
                  : json_pack("{s:s, s:I, s:I}", "type", "integer", "minimum", (json_int_t)INT32_MIN, "maximum",
                              (json_int_t)INT32_MAX);
    if (strcmp(t, "long") == 0) {
        if (node && bl_avro_is_timestamp_millis(node))
            return ex ? json_string(EXAMPLE_TIME) : json_pack("{s:s, s:s}", "type", "string", "format", "date-time");
        return ex ? example_integer(field) : typed("integer");
    }
    if (strcmp(t, "float") == 0 || strcmp(t, "double") == 0)
        return ex ? example_real(field) : typed("number");
    if (strcmp(t, "string") == 0)
        return ex ? example_string(field) : typed("string");
    if (strcmp(t, "bytes") == 0)
        return ex ? json_string("example bytes")
                  : json_pack("{s:s, s:s}", "type", "string", "description", "bytes, one character per byte (ISO-8859-1)");
    return NULL;
}

static int is_primitive(const char *t)
{
    static const char *const names[] = {"null", "boolean", "int", "long", "float", "double", "string", "bytes", NULL};
    for (size_t i = 0; names[i]; i++)
        if (strcmp(t, names[i]) == 0)
            return 1;
    return 0;
}

/* The definition a name reference points to, its full name into full. */
static const json_t *named_def(const js_walk *w, const char *name, const char *ns, char *full, size_t len)
{
    if (strchr(name, '.') || !ns || !*ns)
        snprintf(full, len, "%s", name);
    else
        snprintf(full, len, "%s.%s", ns, name);
    const json_t *d = json_object_get(w->S->named, full);
    if (!d && strcmp(full, name) != 0 && (d = json_object_get(w->S->named, name)))
        snprintf(full, len, "%s", name);
    return d;
}

/* The namespace names inside a definition resolve against. */
static void def_namespace(const json_t *def, const char *ns, char *out, size_t len)
{
    const char *name = json_string_value(json_object_get(def, "name"));
    const char *space = json_string_value(json_object_get(def, "namespace"));
    if (name && strchr(name, '.'))
        snprintf(out, len, "%.*s", (int)(strrchr(name, '.') - name), name);
    else
        snprintf(out, len, "%s", space ? space : ns ? ns : "");
}

static void describe(json_t *schema, const json_t *node)
{
    const json_t *doc = json_object_get(node, "doc");
    if (json_is_object(schema) && json_is_string(doc) && !json_object_get(schema, "description"))
        json_object_set(schema, "description", (json_t *)doc);
}

static json_t *walk_record(js_walk *w, const json_t *def, const char *full, const char *ns)
{
    if (json_object_get(w->expanding, full)) /* recursive: an object of that type, not expanded again */
        return w->example ? json_null() : json_pack("{s:s, s:s}", "type", "object", "description", full);
    json_object_set_new(w->expanding, full, json_true());
    char inner[512];
    def_namespace(def, ns, inner, sizeof inner);
    json_t *props = json_object(), *required = json_array();
    const json_t *fields = json_object_get(def, "fields");
    size_t i;
    const json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *fname = json_string_value(json_object_get(f, "name"));
        const json_t *dflt = json_object_get(f, "default");
        json_t *sub = fname ? walk_node(w, json_object_get(f, "type"), inner, fname) : NULL;
        if (!sub) {
            if (!fname)
                bl_err_set(w->err, BL_EINVAL, "json schema: %s: a field has no name", full);
            json_decref(props);
            json_decref(required);
            return NULL;
        }
        if (w->example) {
            /* a default shows the usual value, when it is already in its plain form (a
             * timestamp's default is an integer, its plain form a string) */
            if (dflt && !json_is_null(dflt) && strcmp(bl_avro_json_kind(dflt), bl_avro_json_kind(sub)) == 0) {
                json_decref(sub);
                sub = json_incref((json_t *)dflt);
            }
            json_object_set_new(props, fname, sub);
            continue;
        }
        describe(sub, f);
        json_array_append_new(required, json_string(fname)); /* the writer always writes every field */
        json_object_set_new(props, fname, sub);
    }
    json_object_del(w->expanding, full);
    if (w->example) {
        json_decref(required);
        return props;
    }
    json_t *out = json_pack("{s:s, s:s, s:o, s:o, s:b}", "title", full, "type", "object", "properties", props,
                            "required", required, "additionalProperties", 0);
    describe(out, def);
    return out;
}

static json_t *walk_union(js_walk *w, const json_t *branches, const char *ns, const char *field)
{
    json_t *any = w->example ? NULL : json_array();
    size_t i;
    const json_t *b;
    json_array_foreach(branches, i, b)
    {
        int is_null = json_is_string(b) && strcmp(json_string_value(b), "null") == 0;
        if (w->example && is_null)
            continue;
        json_t *sub = walk_node(w, b, ns, field);
        if (!sub) {
            json_decref(any);
            return NULL;
        }
        if (w->example)
            return sub; /* the first non-null branch */
        json_array_append_new(any, sub);
    }
    if (w->example)
        return json_null();
    if (json_array_size(any) == 1) {
        json_t *only = json_incref(json_array_get(any, 0));
        json_decref(any);
        return only;
    }
    return json_pack("{s:o}", "anyOf", any);
}

static json_t *walk_complex(js_walk *w, const json_t *node, const char *t, const char *ns, const char *field)
{
    if (strcmp(t, "array") == 0) {
        json_t *items = walk_node(w, json_object_get(node, "items"), ns, field);
        if (!items)
            return NULL;
        return w->example ? json_pack("[o]", items) : json_pack("{s:s, s:o}", "type", "array", "items", items);
    }
    if (strcmp(t, "map") == 0) {
        json_t *values = walk_node(w, json_object_get(node, "values"), ns, field);
        if (!values)
            return NULL;
        return w->example ? json_pack("{s:o}", "key", values)
                          : json_pack("{s:s, s:o}", "type", "object", "additionalProperties", values);
    }
    char full[512];
    const char *name = json_string_value(json_object_get(node, "name"));
    if (!name) {
        bl_err_set(w->err, BL_EINVAL, "json schema: a %s has no name", t);
        return NULL;
    }
    char space[512];
    def_namespace(node, ns, space, sizeof space);
    int n = strchr(name, '.') || !*space ? snprintf(full, sizeof full, "%s", name)
                                          : snprintf(full, sizeof full, "%s.%s", space, name);
    if (n < 0 || (size_t)n >= sizeof full) {
        bl_err_set(w->err, BL_EINVAL, "json schema: the name %s is too long", name);
        return NULL;
    }
    if (strcmp(t, "record") == 0 || strcmp(t, "error") == 0)
        return walk_record(w, node, full, ns);
    if (strcmp(t, "enum") == 0) {
        const json_t *symbols = json_object_get(node, "symbols");
        if (!json_is_array(symbols) || json_array_size(symbols) == 0) {
            bl_err_set(w->err, BL_EINVAL, "json schema: enum %s has no symbols", full);
            return NULL;
        }
        if (w->example)
            return json_incref(json_array_get(symbols, json_array_size(symbols) > 1 ? 1 : 0));
        json_t *out = json_pack("{s:s, s:s, s:O}", "title", full, "type", "string", "enum", symbols);
        describe(out, node);
        return out;
    }
    if (strcmp(t, "fixed") == 0) {
        json_int_t size = json_integer_value(json_object_get(node, "size"));
        if (w->example) {
            char buf[64];
            size_t n = size > 0 && size < (json_int_t)sizeof buf ? (size_t)size : 0;
            memset(buf, 'x', n);
            buf[n] = '\0';
            return json_string(buf);
        }
        return json_pack("{s:s, s:s, s:I, s:I}", "title", full, "type", "string", "minLength", size, "maxLength", size);
    }
    bl_err_set(w->err, BL_EINVAL, "json schema: unknown type %s", t);
    return NULL;
}

static json_t *walk_node(js_walk *w, const json_t *node, const char *ns, const char *field)
{
    if (++w->depth > MAX_DEPTH) {
        w->depth--;
        bl_err_set(w->err, BL_EINVAL, "json schema: nested deeper than %d", MAX_DEPTH);
        return NULL;
    }
    json_t *out = NULL;
    if (json_is_array(node))
        out = walk_union(w, node, ns, field);
    else if (json_is_string(node)) {
        const char *t = json_string_value(node);
        char full[512];
        const json_t *def;
        if (is_primitive(t))
            out = primitive(w, t, NULL, field);
        else if ((def = named_def(w, t, ns, full, sizeof full)))
            out = walk_complex(w, def, json_string_value(json_object_get(def, "type")), ns, field);
        else
            bl_err_set(w->err, BL_EINVAL, "json schema: unknown type name %s", t);
    } else if (json_is_object(node)) {
        const json_t *type = json_object_get(node, "type");
        if (!json_is_string(type))
            out = walk_node(w, type, ns, field);
        else if (is_primitive(json_string_value(type)))
            out = primitive(w, json_string_value(type), node, field);
        else
            out = walk_complex(w, node, json_string_value(type), ns, field);
    } else
        bl_err_set(w->err, BL_EINVAL, "json schema: a type is neither a name, an object nor a union");
    w->depth--;
    return out;
}

static json_t *walk_named_record(const bl_avro_schema *S, const char *record_name, int example, bl_err *err)
{
    const json_t *def = json_object_get(S->named, record_name);
    const char *t = def ? json_string_value(json_object_get(def, "type")) : NULL;
    if (!t || strcmp(t, "record") != 0) {
        bl_err_set(err, BL_ENOTFOUND, "json schema: no record named %s", record_name);
        return NULL;
    }
    js_walk w = {.S = S, .example = example, .expanding = json_object(), .err = err};
    if (!w.expanding) {
        bl_err_set(err, BL_ENOMEM, "json schema: out of memory");
        return NULL;
    }
    char ns[512];
    def_namespace(def, "", ns, sizeof ns);
    json_t *out = walk_record(&w, def, record_name, ns);
    json_decref(w.expanding);
    return out;
}

json_t *bl_avro_json_schema(const bl_avro_schema *S, const char *record_name, bl_err *err)
{
    return walk_named_record(S, record_name, 0, err);
}

json_t *bl_avro_json_example(const bl_avro_schema *S, const char *record_name, bl_err *err)
{
    return walk_named_record(S, record_name, 1, err);
}
