/* Avro -> JSON, in either of the two JSON shapes, walked against the schema
 * and its JSON node in step. */
#include "schemas/avro_json_internal.h"

#include "core/time_format.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *to_json(bl_avro_walk *w, avro_schema_t s, const json_t *j, avro_value_t *v);

static json_t *made(bl_avro_walk *w, json_t *out)
{
    if (!out)
        bl_err_set(w->err, BL_ENOMEM, "%s: out of memory", w->path);
    return out;
}

static json_t *latin1_encode(bl_avro_walk *w, const unsigned char *p, size_t n)
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

static json_t *real_of(bl_avro_walk *w, double d)
{
    if (isnan(d))
        return made(w, json_string("NaN"));
    if (isinf(d))
        return made(w, json_string(d > 0 ? "Infinity" : "-Infinity"));
    return made(w, json_real(d));
}

/* Adds child under key (object) or at the end (array); takes child. */
static int put(bl_avro_walk *w, json_t *parent, const char *key, json_t *child)
{
    if (!child)
        return -1;
    int rc = key ? json_object_set_new(parent, key, child) : json_array_append_new(parent, child);
    if (rc != 0)
        return bl_avro_fail(w, "cannot hold key in JSON (not UTF-8?)");
    return 0;
}

static json_t *to_json_container(bl_avro_walk *w, avro_schema_t s, const json_t *j, avro_value_t *v)
{
    size_t n = 0;
    if (avro_value_get_size(v, &n) != 0) {
        bl_avro_rc(w, -1);
        return NULL;
    }
    json_t *out = made(w, is_avro_array(s) ? json_array() : json_object());
    for (size_t i = 0; out && i < n; i++) {
        avro_value_t child;
        const char *name = NULL;
        if (avro_value_get_by_index(v, i, &child, &name) != 0) {
            bl_avro_rc(w, -1);
            goto fail;
        }
        avro_schema_t cs;
        const json_t *cj;
        size_t saved;
        if (is_avro_array(s)) {
            cs = avro_schema_array_items(s);
            cj = json_object_get(j, "items");
            saved = bl_avro_path_push(w, "[%zu]", i);
        } else if (is_avro_map(s)) {
            cs = avro_schema_map_values(s);
            cj = json_object_get(j, "values");
            saved = bl_avro_path_push(w, ".%s", name);
        } else {
            cs = avro_schema_record_field_get_by_index(s, (int)i);
            cj = json_object_get(json_array_get(json_object_get(j, "fields"), i), "type");
            saved = bl_avro_path_push(w, ".%s", name);
        }
        int rc = put(w, out, is_avro_array(s) ? NULL : name, to_json(w, cs, cj, &child));
        bl_avro_path_pop(w, saved);
        if (rc)
            goto fail;
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

static json_t *to_json(bl_avro_walk *w, avro_schema_t s, const json_t *j, avro_value_t *v)
{
    s = bl_avro_target(s);
    j = bl_avro_node_of(w->S, s, j);
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
        if (w->mode == BL_AVRO_JSON_PLAIN && bl_avro_is_timestamp_millis(j)) {
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
            bl_avro_rc(w, -1);
            return NULL;
        }
        json_t *out = json_stringn(str ? str : "", size ? size - 1 : 0);
        if (!out)
            bl_avro_fail(w, "string is not valid UTF-8");
        return out;
    }
    case AVRO_BYTES:
    case AVRO_FIXED: {
        const void *buf = NULL;
        size_t size = 0;
        int rc = is_avro_bytes(s) ? avro_value_get_bytes(v, &buf, &size) : avro_value_get_fixed(v, &buf, &size);
        if (rc != 0) {
            bl_avro_rc(w, -1);
            return NULL;
        }
        return latin1_encode(w, buf, size);
    }
    case AVRO_ENUM: {
        int idx = -1;
        avro_value_get_enum(v, &idx);
        const char *sym = idx >= 0 && idx < avro_schema_enum_number_of_symbols(s) ? avro_schema_enum_get(s, idx) : NULL;
        if (!sym) {
            bl_avro_fail(w, "enum index %d out of range", idx);
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
            bl_avro_fail(w, "union has no branch set");
            return NULL;
        }
        avro_schema_t bs = avro_schema_union_branch(s, (size_t)d);
        json_t *inner = to_json(w, bs, json_array_get(j, (size_t)d), &branch);
        if (!inner || w->mode == BL_AVRO_JSON_PLAIN || is_avro_null(bl_avro_target(bs)))
            return inner;
        char name[512];
        json_t *out = made(w, json_object());
        if (out && put(w, out, bl_avro_branch_name(bs, name, sizeof name), inner) == 0)
            return out;
        if (!out)
            json_decref(inner);
        json_decref(out);
        return NULL;
    }
    default:
        bl_avro_fail(w, "unsupported Avro type");
        return NULL;
    }
}

json_t *bl_avro_to_json(const bl_avro_schema *s, avro_value_t *src, bl_avro_json_mode mode, bl_err *err)
{
    bl_avro_walk w = {.S = s, .mode = mode, .path = "$", .plen = 1, .err = err};
    return to_json(&w, s->schema, s->json, src);
}
