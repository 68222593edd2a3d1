/* Avro <-> JSON walkers. Each walker descends the avro_schema_t and the
 * schema's JSON node in step: the avro_schema_t gives the shape, the JSON node
 * gives what avro-c drops (field defaults, logicalType). */
#include "schemas/avro_json.h"

#include "core/time_format.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bl_avro_schema {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    json_t *json;
    json_t *named; /* full name -> JSON definition of each record/enum/fixed */
};

/* ---- schema ------------------------------------------------------------ */

static int is_named_kind(const char *t)
{
    return t && (!strcmp(t, "record") || !strcmp(t, "error") || !strcmp(t, "enum") ||
                 !strcmp(t, "fixed"));
}

/* Records every named definition under its full name, so a type given by
 * name reference can find its JSON (and so its defaults). */
static void index_named(json_t *node, const char *ns, json_t *named)
{
    if (json_is_array(node)) {
        size_t i;
        json_t *b;
        json_array_foreach(node, i, b) index_named(b, ns, named);
        return;
    }
    if (!json_is_object(node))
        return;
    json_t *type = json_object_get(node, "type");
    if (!json_is_string(type)) {
        index_named(type, ns, named);
        return;
    }
    const char *t = json_string_value(type);
    if (!strcmp(t, "array"))
        index_named(json_object_get(node, "items"), ns, named);
    if (!strcmp(t, "map"))
        index_named(json_object_get(node, "values"), ns, named);
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
        index_named(json_object_get(f, "type"), inner_ns, named);
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
    index_named(s->json, "", s->named);
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

/* ---- shared helpers ---------------------------------------------------- */

static avro_schema_t target(avro_schema_t s)
{
    while (s && is_avro_link(s))
        s = avro_schema_link_target(s);
    return s;
}

static int is_named(avro_schema_t s)
{
    return is_avro_record(s) || is_avro_enum(s) || is_avro_fixed(s);
}

static void full_name(avro_schema_t s, char *out, size_t len)
{
    const char *ns = avro_schema_namespace(s);
    if (ns && *ns)
        snprintf(out, len, "%s.%s", ns, avro_schema_name(s));
    else
        snprintf(out, len, "%s", avro_schema_name(s));
}

/* The name a union branch goes by in the Avro JSON encoding. */
static const char *branch_name(avro_schema_t b, char *buf, size_t len)
{
    b = target(b);
    if (is_named(b)) {
        full_name(b, buf, len);
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

static int branch_is_called(avro_schema_t b, const char *name)
{
    char buf[512];
    if (!strcmp(branch_name(b, buf, sizeof buf), name))
        return 1;
    b = target(b);
    return is_named(b) && !strcmp(avro_schema_name(b), name);
}

/* The JSON node that describes s, given the node found at its place in the
 * schema text (which may be a name reference or a {"type": {...}} wrapper). */
static const json_t *node_of(const bl_avro_schema *S, avro_schema_t s, const json_t *j)
{
    while (json_is_object(j)) {
        const json_t *t = json_object_get(j, "type");
        if (!json_is_object(t) && !json_is_array(t))
            break;
        j = t;
    }
    if (is_named(s) && !json_is_object(j)) {
        char full[512];
        full_name(s, full, sizeof full);
        j = json_object_get(S->named, full);
    }
    return j;
}

static int is_timestamp_millis(const json_t *j)
{
    const char *lt = json_string_value(json_object_get(j, "logicalType"));
    return lt && !strcmp(lt, "timestamp-millis");
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

typedef struct walk {
    const bl_avro_schema *S;
    bl_avro_json_mode mode;
    const char *hint;
    int ignore_unknown;
    int enum_defaults;
    int in_default; /* inside a field default: unions take their first branch */
    char path[512];
    size_t plen;
    bl_err *err;
} walk;

static size_t path_push(walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t path_push(walk *w, const char *fmt, ...)
{
    size_t saved = w->plen;
    if (w->plen < sizeof w->path - 1) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(w->path + w->plen, sizeof w->path - w->plen, fmt, ap);
        va_end(ap);
        if (n > 0)
            w->plen += (size_t)n < sizeof w->path - w->plen ? (size_t)n : sizeof w->path - w->plen - 1;
    }
    return saved;
}

static void path_pop(walk *w, size_t saved)
{
    w->plen = saved;
    w->path[saved] = '\0';
}

static int fail(walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(walk *w, const char *fmt, ...)
{
    char msg[BL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bl_err_set(w->err, BL_EINVAL, "%s: %s", w->path, msg);
}

static int expected(walk *w, const char *what, const json_t *v)
{
    return fail(w, "expected %s, got %s", what, json_kind(v));
}

static int avro_rc(walk *w, int rc)
{
    return rc == 0 ? 0 : fail(w, "avro: %s", avro_strerror());
}

/* ---- JSON -> Avro ------------------------------------------------------ */

static int from_json(walk *w, avro_schema_t s, const json_t *j, const json_t *v, avro_value_t *dest);

/* Decodes a JSON string whose code points are all <= U+00FF into bytes. */
static int latin1_decode(walk *w, const json_t *v, char **out, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)json_string_value(v);
    size_t n = json_string_length(v), k = 0;
    char *buf = malloc(n + 1);
    if (!buf)
        return bl_err_set(w->err, BL_ENOMEM, "%s: out of memory", w->path);
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80) {
            buf[k++] = (char)p[i];
        } else if ((p[i] == 0xC2 || p[i] == 0xC3) && i + 1 < n) {
            buf[k++] = (char)(((p[i] & 0x03) << 6) | (p[i + 1] & 0x3F));
            i++;
        } else {
            free(buf);
            return fail(w, "bytes must be a string of code points U+0000..U+00FF");
        }
    }
    *out = buf;
    *out_len = k;
    return 0;
}

static int double_of(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    const char *t = json_string_value(v);
    if (t && !strcmp(t, "NaN"))
        *out = NAN;
    else if (t && !strcmp(t, "Infinity"))
        *out = INFINITY;
    else if (t && !strcmp(t, "-Infinity"))
        *out = -INFINITY;
    else
        return -1;
    return 0;
}

static int from_json_enum(walk *w, avro_schema_t s, const json_t *j, const json_t *v, avro_value_t *dest)
{
    if (!json_is_string(v))
        return expected(w, "enum symbol string", v);
    int idx = avro_schema_enum_get_by_name(s, json_string_value(v));
    const char *fallback = json_string_value(json_object_get(j, "default"));
    if (idx < 0 && w->enum_defaults && fallback)
        idx = avro_schema_enum_get_by_name(s, fallback);
    if (idx >= 0)
        return avro_rc(w, avro_value_set_enum(dest, idx));
    char list[200] = "";
    size_t used = 0;
    int n = avro_schema_enum_number_of_symbols(s);
    for (int i = 0; i < n && used < sizeof list - 1; i++) {
        int k = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", avro_schema_enum_get(s, i));
        used += k > 0 ? (size_t)k : 0;
    }
    return fail(w, "'%s' is not one of %s", json_string_value(v), list);
}

static int from_json_record(walk *w, avro_schema_t s, const json_t *j, const json_t *v, avro_value_t *dest)
{
    if (!json_is_object(v))
        return expected(w, "object", v);
    const json_t *fields = json_object_get(j, "fields");
    size_t n = avro_schema_record_size(s);
    for (size_t i = 0; i < n; i++) {
        const char *name = avro_schema_record_field_name(s, (int)i);
        avro_schema_t fs = avro_schema_record_field_get_by_index(s, (int)i);
        const json_t *fj = json_array_get(fields, i);
        avro_value_t child;
        size_t saved = path_push(w, ".%s", name);
        int rc;
        if (avro_value_get_by_index(dest, i, &child, NULL) != 0) {
            rc = avro_rc(w, -1);
        } else if (json_object_get(v, name)) {
            rc = from_json(w, fs, json_object_get(fj, "type"), json_object_get(v, name), &child);
        } else if (json_object_get(fj, "default")) {
            int was = w->in_default;
            w->in_default = 1;
            rc = from_json(w, fs, json_object_get(fj, "type"), json_object_get(fj, "default"), &child);
            w->in_default = was;
        } else {
            rc = fail(w, "required field missing");
        }
        path_pop(w, saved);
        if (rc)
            return rc;
    }
    if (w->ignore_unknown || w->in_default)
        return 0;
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)v, key, val) {
        if (avro_schema_record_field_get_index(s, key) < 0) {
            char rec[512];
            full_name(s, rec, sizeof rec);
            path_push(w, ".%s", key);
            return fail(w, "unknown field (record %s has no such field)", rec);
        }
    }
    return 0;
}

/* Plain mode: could v be a value of branch b? Records match when every key is
 * one of their fields and every field without a default is present. */
static int shape_matches(const bl_avro_schema *S, avro_schema_t b, const json_t *bj, const json_t *v)
{
    b = target(b);
    switch (avro_typeof(b)) {
    case AVRO_NULL: return json_is_null(v);
    case AVRO_BOOLEAN: return json_is_boolean(v);
    case AVRO_INT32: return json_is_integer(v);
    case AVRO_INT64: return json_is_integer(v) || (json_is_string(v) && is_timestamp_millis(node_of(S, b, bj)));
    case AVRO_FLOAT:
    case AVRO_DOUBLE: return json_is_number(v);
    case AVRO_STRING:
    case AVRO_BYTES:
    case AVRO_FIXED: return json_is_string(v);
    case AVRO_ENUM: return json_is_string(v) && avro_schema_enum_get_by_name(b, json_string_value(v)) >= 0;
    case AVRO_ARRAY: return json_is_array(v);
    case AVRO_MAP: return json_is_object(v);
    case AVRO_RECORD: {
        if (!json_is_object(v))
            return 0;
        const char *key;
        const json_t *val;
        json_object_foreach((json_t *)v, key, val) {
            if (avro_schema_record_field_get_index(b, key) < 0)
                return 0;
        }
        const json_t *fields = json_object_get(node_of(S, b, bj), "fields");
        for (size_t i = 0; i < avro_schema_record_size(b); i++) {
            if (!json_object_get(v, avro_schema_record_field_name(b, (int)i)) &&
                !json_object_get(json_array_get(fields, i), "default"))
                return 0;
        }
        return 1;
    }
    default: return 0;
    }
}

static void union_names(avro_schema_t s, char *list, size_t len)
{
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < avro_schema_union_size(s) && used < len - 1; i++) {
        char buf[512];
        int k = snprintf(list + used, len - used, "%s%s", i ? ", " : "",
                         branch_name(avro_schema_union_branch(s, i), buf, sizeof buf));
        used += k > 0 ? (size_t)k : 0;
    }
}

static int from_json_union(walk *w, avro_schema_t s, const json_t *j, const json_t *v, avro_value_t *dest)
{
    size_t n = avro_schema_union_size(s);
    long pick = -1;
    const json_t *inner = v;
    char names[200];
    union_names(s, names, sizeof names);
    if (w->in_default) {
        pick = 0;
    } else if (json_is_null(v)) {
        for (size_t i = 0; i < n && pick < 0; i++)
            if (is_avro_null(target(avro_schema_union_branch(s, i))))
                pick = (long)i;
        if (pick < 0)
            return fail(w, "null is not allowed here (union of %s)", names);
    } else if (w->mode == BL_AVRO_JSON_AVRO) {
        if (!json_is_object(v) || json_object_size(v) != 1)
            return fail(w, "expected null or {\"<branch>\": value} for a union of %s, got %s", names,
                        json_kind(v));
        const char *key = json_object_iter_key(json_object_iter((json_t *)v));
        for (size_t i = 0; i < n && pick < 0; i++)
            if (branch_is_called(avro_schema_union_branch(s, i), key))
                pick = (long)i;
        if (pick < 0)
            return fail(w, "'%s' is not a branch of the union (%s)", key, names);
        inner = json_object_get(v, key);
    } else {
        long only = -1;
        int non_null = 0;
        for (size_t i = 0; i < n; i++) {
            avro_schema_t b = avro_schema_union_branch(s, i);
            if (w->hint && pick < 0 && branch_is_called(b, w->hint))
                pick = (long)i;
            if (!is_avro_null(target(b))) {
                non_null++;
                only = (long)i;
            }
        }
        if (pick < 0 && non_null == 1)
            pick = only;
        if (pick < 0 && json_is_object(v) && json_object_size(v) == 1) {
            const char *key = json_object_iter_key(json_object_iter((json_t *)v));
            for (size_t i = 0; i < n && pick < 0; i++)
                if (branch_is_called(avro_schema_union_branch(s, i), key)) {
                    pick = (long)i;
                    inner = json_object_get(v, key);
                }
        }
        for (size_t i = 0; i < n && pick < 0; i++) {
            avro_schema_t b = avro_schema_union_branch(s, i);
            if (!shape_matches(w->S, b, json_array_get(j, i), v))
                continue;
            for (size_t k = i + 1; is_avro_record(target(b)) && k < n; k++) {
                avro_schema_t other = avro_schema_union_branch(s, k);
                if (is_avro_record(target(other)) && shape_matches(w->S, other, json_array_get(j, k), v))
                    return fail(w, "object fits several branches of the union (%s); give a type hint",
                                names);
            }
            pick = (long)i;
        }
        if (pick < 0)
            return fail(w, "%s does not fit any branch of the union (%s)", json_kind(v), names);
    }
    avro_value_t branch;
    if (avro_value_set_branch(dest, (int)pick, &branch) != 0)
        return avro_rc(w, -1);
    return from_json(w, avro_schema_union_branch(s, (size_t)pick), json_array_get(j, (size_t)pick), inner,
                     &branch);
}

/* Fills a new array item (key NULL, at index) or map value (at key) that
 * avro-c made with status made_rc. */
static int from_json_item(walk *w, int made_rc, const char *key, size_t index, avro_schema_t s,
                          const json_t *j, const json_t *v, avro_value_t *child)
{
    if (made_rc != 0)
        return avro_rc(w, made_rc);
    size_t saved = key ? path_push(w, ".%s", key) : path_push(w, "[%zu]", index);
    int rc = from_json(w, s, j, v, child);
    path_pop(w, saved);
    return rc;
}

static int from_json(walk *w, avro_schema_t s, const json_t *j, const json_t *v, avro_value_t *dest)
{
    s = target(s);
    j = node_of(w->S, s, j);
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        if (!json_is_null(v))
            return expected(w, "null", v);
        return avro_rc(w, avro_value_set_null(dest));
    case AVRO_BOOLEAN:
        if (!json_is_boolean(v))
            return expected(w, "boolean", v);
        return avro_rc(w, avro_value_set_boolean(dest, json_is_true(v)));
    case AVRO_INT32:
        if (!json_is_integer(v))
            return expected(w, "int", v);
        if (json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX)
            return fail(w, "%" JSON_INTEGER_FORMAT " is out of range for int", json_integer_value(v));
        return avro_rc(w, avro_value_set_int(dest, (int32_t)json_integer_value(v)));
    case AVRO_INT64:
        if (json_is_integer(v))
            return avro_rc(w, avro_value_set_long(dest, json_integer_value(v)));
        if (is_timestamp_millis(j) && w->mode == BL_AVRO_JSON_PLAIN && json_is_string(v)) {
            int64_t ms;
            if (bl_rfc3339_parse_millis(json_string_value(v), &ms) != 0)
                return fail(w, "'%s' is not an RFC 3339 timestamp", json_string_value(v));
            return avro_rc(w, avro_value_set_long(dest, ms));
        }
        if (is_timestamp_millis(j) && w->mode == BL_AVRO_JSON_PLAIN)
            return expected(w, "RFC 3339 timestamp or integer milliseconds", v);
        return expected(w, "long", v);
    case AVRO_FLOAT:
    case AVRO_DOUBLE: {
        double d;
        if (double_of(v, &d) != 0)
            return expected(w, is_avro_float(s) ? "float" : "double", v);
        return avro_rc(w, is_avro_float(s) ? avro_value_set_float(dest, (float)d) : avro_value_set_double(dest, d));
    }
    case AVRO_STRING:
        if (!json_is_string(v))
            return expected(w, "string", v);
        return avro_rc(w, avro_value_set_string_len(dest, json_string_value(v), json_string_length(v) + 1));
    case AVRO_BYTES:
    case AVRO_FIXED: {
        if (!json_is_string(v))
            return expected(w, is_avro_bytes(s) ? "bytes string" : "fixed string", v);
        char *buf = NULL;
        size_t n = 0;
        if (latin1_decode(w, v, &buf, &n) != 0)
            return -1;
        int rc;
        if (is_avro_fixed(s) && (int64_t)n != avro_schema_fixed_size(s))
            rc = fail(w, "fixed needs %" PRId64 " bytes, got %zu", avro_schema_fixed_size(s), n);
        else
            rc = avro_rc(w, is_avro_bytes(s) ? avro_value_set_bytes(dest, buf, n) : avro_value_set_fixed(dest, buf, n));
        free(buf);
        return rc;
    }
    case AVRO_ENUM:
        return from_json_enum(w, s, j, v, dest);
    case AVRO_ARRAY: {
        if (!json_is_array(v))
            return expected(w, "array", v);
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item) {
            avro_value_t child;
            int rc = avro_value_append(dest, &child, NULL);
            if (from_json_item(w, rc, NULL, i, avro_schema_array_items(s), json_object_get(j, "items"), item,
                               &child) != 0)
                return -1;
        }
        return 0;
    }
    case AVRO_MAP: {
        if (!json_is_object(v))
            return expected(w, "object (map)", v);
        const char *key;
        const json_t *item;
        json_object_foreach((json_t *)v, key, item) {
            avro_value_t child;
            int rc = avro_value_add(dest, key, &child, NULL, NULL);
            if (from_json_item(w, rc, key, 0, avro_schema_map_values(s), json_object_get(j, "values"), item,
                               &child) != 0)
                return -1;
        }
        return 0;
    }
    case AVRO_RECORD:
        return from_json_record(w, s, j, v, dest);
    case AVRO_UNION:
        return from_json_union(w, s, j, v, dest);
    default:
        return fail(w, "unsupported Avro type");
    }
}

int bl_avro_from_json(const bl_avro_schema *s, const json_t *json, const bl_avro_json_opts *opts,
                      avro_value_t *dest, bl_err *err)
{
    walk w = {.S = s, .path = "$", .plen = 1, .err = err};
    if (opts) {
        w.mode = opts->mode;
        w.hint = opts->union_hint;
        w.ignore_unknown = opts->ignore_unknown_fields;
        w.enum_defaults = opts->use_enum_defaults;
    }
    if (!json)
        return fail(&w, "no JSON value");
    return from_json(&w, s->schema, s->json, json, dest);
}

int bl_avro_from_json_text(const bl_avro_schema *s, const char *text, size_t len,
                           const bl_avro_json_opts *opts, avro_value_t *dest, bl_err *err)
{
    json_error_t jerr;
    json_t *json = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!json)
        return bl_err_set(err, BL_EINVAL, "json: %s at line %d column %d", jerr.text, jerr.line, jerr.column);
    int rc = bl_avro_from_json(s, json, opts, dest, err);
    json_decref(json);
    return rc;
}

/* ---- Avro -> JSON ------------------------------------------------------ */

static json_t *to_json(walk *w, avro_schema_t s, const json_t *j, avro_value_t *v);

static json_t *made(walk *w, json_t *out)
{
    if (!out)
        bl_err_set(w->err, BL_ENOMEM, "%s: out of memory", w->path);
    return out;
}

static json_t *latin1_encode(walk *w, const unsigned char *p, size_t n)
{
    char *buf = malloc(2 * n + 1);
    if (!buf)
        return made(w, NULL);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80) {
            buf[k++] = (char)p[i];
        } else {
            buf[k++] = (char)(0xC0 | (p[i] >> 6));
            buf[k++] = (char)(0x80 | (p[i] & 0x3F));
        }
    }
    json_t *out = made(w, json_stringn(buf, k));
    free(buf);
    return out;
}

static json_t *real_of(walk *w, double d)
{
    if (isnan(d))
        return made(w, json_string("NaN"));
    if (isinf(d))
        return made(w, json_string(d > 0 ? "Infinity" : "-Infinity"));
    return made(w, json_real(d));
}

/* Adds child under key (object) or at the end (array); takes child. */
static int put(walk *w, json_t *parent, const char *key, json_t *child)
{
    if (!child)
        return -1;
    int rc = key ? json_object_set_new(parent, key, child) : json_array_append_new(parent, child);
    if (rc != 0)
        return fail(w, "cannot hold key in JSON (not UTF-8?)");
    return 0;
}

static json_t *to_json_container(walk *w, avro_schema_t s, const json_t *j, avro_value_t *v)
{
    size_t n = 0;
    if (avro_value_get_size(v, &n) != 0) {
        avro_rc(w, -1);
        return NULL;
    }
    json_t *out = made(w, is_avro_array(s) ? json_array() : json_object());
    for (size_t i = 0; out && i < n; i++) {
        avro_value_t child;
        const char *name = NULL;
        if (avro_value_get_by_index(v, i, &child, &name) != 0) {
            avro_rc(w, -1);
            goto fail;
        }
        avro_schema_t cs;
        const json_t *cj;
        size_t saved;
        if (is_avro_array(s)) {
            cs = avro_schema_array_items(s);
            cj = json_object_get(j, "items");
            saved = path_push(w, "[%zu]", i);
        } else if (is_avro_map(s)) {
            cs = avro_schema_map_values(s);
            cj = json_object_get(j, "values");
            saved = path_push(w, ".%s", name);
        } else {
            cs = avro_schema_record_field_get_by_index(s, (int)i);
            cj = json_object_get(json_array_get(json_object_get(j, "fields"), i), "type");
            saved = path_push(w, ".%s", name);
        }
        int rc = put(w, out, is_avro_array(s) ? NULL : name, to_json(w, cs, cj, &child));
        path_pop(w, saved);
        if (rc)
            goto fail;
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

static json_t *to_json(walk *w, avro_schema_t s, const json_t *j, avro_value_t *v)
{
    s = target(s);
    j = node_of(w->S, s, j);
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        return made(w, json_null());
    case AVRO_BOOLEAN: {
        int b = 0;
        avro_value_get_boolean(v, &b);
        return made(w, json_boolean(b));
    }
    case AVRO_INT32: {
        int32_t i = 0;
        avro_value_get_int(v, &i);
        return made(w, json_integer(i));
    }
    case AVRO_INT64: {
        int64_t l = 0;
        avro_value_get_long(v, &l);
        if (w->mode == BL_AVRO_JSON_PLAIN && is_timestamp_millis(j)) {
            char buf[48];
            bl_rfc3339_format_millis(l, buf, sizeof buf);
            return made(w, json_string(buf));
        }
        return made(w, json_integer(l));
    }
    case AVRO_FLOAT: {
        float f = 0;
        avro_value_get_float(v, &f);
        return real_of(w, f);
    }
    case AVRO_DOUBLE: {
        double d = 0;
        avro_value_get_double(v, &d);
        return real_of(w, d);
    }
    case AVRO_STRING: {
        const char *str = NULL;
        size_t size = 0;
        if (avro_value_get_string(v, &str, &size) != 0) {
            avro_rc(w, -1);
            return NULL;
        }
        json_t *out = json_stringn(str ? str : "", size ? size - 1 : 0);
        if (!out)
            fail(w, "string is not valid UTF-8");
        return out;
    }
    case AVRO_BYTES:
    case AVRO_FIXED: {
        const void *buf = NULL;
        size_t size = 0;
        int rc = is_avro_bytes(s) ? avro_value_get_bytes(v, &buf, &size) : avro_value_get_fixed(v, &buf, &size);
        if (rc != 0) {
            avro_rc(w, -1);
            return NULL;
        }
        return latin1_encode(w, buf, size);
    }
    case AVRO_ENUM: {
        int idx = -1;
        avro_value_get_enum(v, &idx);
        const char *sym = idx >= 0 && idx < avro_schema_enum_number_of_symbols(s) ? avro_schema_enum_get(s, idx) : NULL;
        if (!sym) {
            fail(w, "enum index %d out of range", idx);
            return NULL;
        }
        return made(w, json_string(sym));
    }
    case AVRO_ARRAY:
    case AVRO_MAP:
    case AVRO_RECORD:
        return to_json_container(w, s, j, v);
    case AVRO_UNION: {
        int d = -1;
        avro_value_t branch;
        if (avro_value_get_discriminant(v, &d) != 0 || d < 0 || avro_value_get_current_branch(v, &branch) != 0) {
            fail(w, "union has no branch set");
            return NULL;
        }
        avro_schema_t bs = avro_schema_union_branch(s, (size_t)d);
        json_t *inner = to_json(w, bs, json_array_get(j, (size_t)d), &branch);
        if (!inner || w->mode == BL_AVRO_JSON_PLAIN || is_avro_null(target(bs)))
            return inner;
        char name[512];
        json_t *out = made(w, json_object());
        if (out && put(w, out, branch_name(bs, name, sizeof name), inner) == 0)
            return out;
        if (!out)
            json_decref(inner);
        json_decref(out);
        return NULL;
    }
    default:
        fail(w, "unsupported Avro type");
        return NULL;
    }
}

json_t *bl_avro_to_json(const bl_avro_schema *s, avro_value_t *src, bl_avro_json_mode mode, bl_err *err)
{
    walk w = {.S = s, .mode = mode, .path = "$", .plen = 1, .err = err};
    return to_json(&w, s->schema, s->json, src);
}

/* ---- projection for resolution ---------------------------------------- */

static int same_kind(avro_schema_t a, avro_schema_t b)
{
    a = target(a);
    b = target(b);
    if (avro_typeof(a) != avro_typeof(b))
        return 0;
    return !is_named(a) || !strcmp(avro_schema_name(a), avro_schema_name(b));
}

typedef struct project {
    bl_avro_schema copy; /* schema borrowed from the reader; json is the copy being cut */
    json_t *done;        /* full names of records already cut */
    int changed;
    bl_err *err;
} project;

/* avro-c's resolver copies enum indexes across unchanged, so when the symbol
 * lists differ we read with the writer's list and map by symbol later. */
static int project_enum(project *pj, avro_schema_t rs, json_t *rj, avro_schema_t ws)
{
    int n = avro_schema_enum_number_of_symbols(ws), same = n == avro_schema_enum_number_of_symbols(rs);
    for (int i = 0; same && i < n; i++)
        same = !strcmp(avro_schema_enum_get(rs, i), avro_schema_enum_get(ws, i));
    if (same)
        return 0;
    json_t *symbols = json_array();
    for (int i = 0; symbols && i < n; i++)
        json_array_append_new(symbols, json_string(avro_schema_enum_get(ws, i)));
    if (!symbols || json_object_set_new(rj, "symbols", symbols) != 0)
        return bl_err_set(pj->err, BL_ENOMEM, "avro: out of memory");
    json_object_del(rj, "default");
    pj->changed = 1;
    return 0;
}

static int project_walk(project *pj, avro_schema_t rs, json_t *rj, avro_schema_t ws)
{
    rs = target(rs);
    ws = target(ws);
    rj = (json_t *)node_of(&pj->copy, rs, rj);
    if (is_avro_union(rs)) {
        for (size_t i = 0; i < avro_schema_union_size(rs); i++) {
            avro_schema_t rb = avro_schema_union_branch(rs, i);
            size_t wn = is_avro_union(ws) ? avro_schema_union_size(ws) : 1;
            for (size_t k = 0; k < wn; k++) {
                avro_schema_t wb = is_avro_union(ws) ? avro_schema_union_branch(ws, k) : ws;
                if (same_kind(rb, wb) && project_walk(pj, rb, json_array_get(rj, i), wb) != 0)
                    return -1;
            }
        }
        return 0;
    }
    if (is_avro_union(ws)) {
        for (size_t k = 0; k < avro_schema_union_size(ws); k++) {
            avro_schema_t wb = avro_schema_union_branch(ws, k);
            if (same_kind(rs, wb) && project_walk(pj, rs, rj, wb) != 0)
                return -1;
        }
        return 0;
    }
    if (is_avro_array(rs) && is_avro_array(ws))
        return project_walk(pj, avro_schema_array_items(rs), json_object_get(rj, "items"),
                            avro_schema_array_items(ws));
    if (is_avro_map(rs) && is_avro_map(ws))
        return project_walk(pj, avro_schema_map_values(rs), json_object_get(rj, "values"),
                            avro_schema_map_values(ws));
    if (is_avro_enum(rs) && is_avro_enum(ws))
        return project_enum(pj, rs, rj, ws);
    if (!is_avro_record(rs) || !is_avro_record(ws))
        return 0;
    char full[512];
    full_name(rs, full, sizeof full);
    if (json_object_get(pj->done, full))
        return 0; /* a second reference to a record already cut */
    json_object_set_new(pj->done, full, json_true());
    json_t *fields = json_object_get(rj, "fields");
    /* backwards, so removing field i keeps the earlier indexes aligned with rs */
    for (size_t i = avro_schema_record_size(rs); i-- > 0;) {
        const char *name = avro_schema_record_field_name(rs, (int)i);
        json_t *fj = json_array_get(fields, i);
        int widx = avro_schema_record_field_get_index(ws, name);
        if (widx < 0) {
            if (!json_object_get(fj, "default"))
                return bl_err_set(pj->err, BL_EINVAL,
                                  "avro: reader field %s.%s is not in the writer schema and has no default",
                                  full, name);
            json_array_remove(fields, i);
            pj->changed = 1;
        } else if (project_walk(pj, avro_schema_record_field_get_by_index(rs, (int)i),
                                json_object_get(fj, "type"),
                                avro_schema_record_field_get_by_index(ws, widx)) != 0) {
            return -1;
        }
    }
    return 0;
}

char *bl_avro_schema_project(const bl_avro_schema *reader, avro_schema_t writer, int *changed, bl_err *err)
{
    char *text = NULL;
    project pj = {.err = err};
    pj.copy.schema = reader->schema;
    pj.copy.json = json_deep_copy(reader->json);
    pj.copy.named = json_object();
    pj.done = json_object();
    if (!pj.copy.json || !pj.copy.named || !pj.done) {
        bl_err_set(err, BL_ENOMEM, "avro: out of memory");
        goto done;
    }
    index_named(pj.copy.json, "", pj.copy.named);
    if (project_walk(&pj, reader->schema, pj.copy.json, writer) != 0)
        goto done;
    text = json_dumps(pj.copy.json, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        bl_err_set(err, BL_ENOMEM, "avro: out of memory");
    *changed = pj.changed;
done:
    json_decref(pj.copy.json);
    json_decref(pj.copy.named);
    json_decref(pj.done);
    return text;
}
