/* JSON -> Avro: walks the avro_schema_t and the schema's JSON node in step
 * (the JSON node gives what avro-c drops: field defaults, logicalType). */
#include "schemas/avro_json_internal.h"

#include "core/time_format.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int from_json(bl_avro_walk *w, avro_schema_t s, const json_t *j, const json_t *v, avro_value_t *dest);

/* Decodes a JSON string whose code points are all <= U+00FF into bytes. */
static int latin1_decode(bl_avro_walk *w, const json_t *v, char **out, size_t *out_len)
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
            return bl_avro_fail(w, "bytes must be a string of code points U+0000..U+00FF");
        }
    }
    *out = buf;
    *out_len = k;
    return 0;
}

/* A plain timestamp: RFC 3339, or an RFC 3339 full-date ("2026-03-01", the
 * Powalyze document's start_date) read as its midnight UTC. */
static int plain_timestamp_millis(const char *text, int64_t *ms)
{
    if (bl_rfc3339_parse_millis(text, ms) == 0)
        return 0;
    char midnight[32];
    if (strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return -1;
    snprintf(midnight, sizeof midnight, "%.10sT00:00:00Z", text);
    return bl_rfc3339_parse_millis(midnight, ms);
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

static int from_json_enum(bl_avro_walk *w, avro_schema_t s, const json_t *j, const json_t *v, avro_value_t *dest)
{
    if (!json_is_string(v))
        return bl_avro_expected(w, "enum symbol string", v);
    int idx = avro_schema_enum_get_by_name(s, json_string_value(v));
    const char *fallback = json_string_value(json_object_get(j, "default"));
    if (idx < 0 && w->enum_defaults && fallback)
        idx = avro_schema_enum_get_by_name(s, fallback);
    if (idx >= 0)
        return bl_avro_rc(w, avro_value_set_enum(dest, idx));
    char list[200] = "";
    size_t used = 0;
    int n = avro_schema_enum_number_of_symbols(s);
    for (int i = 0; i < n && used < sizeof list - 1; i++) {
        int k = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", avro_schema_enum_get(s, i));
        used += k > 0 ? (size_t)k : 0;
    }
    return bl_avro_fail(w, "'%s' is not one of %s", json_string_value(v), list);
}

static int from_json_record(bl_avro_walk *w, avro_schema_t s, const json_t *j, const json_t *v, avro_value_t *dest)
{
    if (!json_is_object(v))
        return bl_avro_expected(w, "object", v);
    const json_t *fields = json_object_get(j, "fields");
    size_t n = avro_schema_record_size(s);
    for (size_t i = 0; i < n; i++) {
        const char *name = avro_schema_record_field_name(s, (int)i);
        avro_schema_t fs = avro_schema_record_field_get_by_index(s, (int)i);
        const json_t *fj = json_array_get(fields, i);
        avro_value_t child;
        size_t saved = bl_avro_path_push(w, ".%s", name);
        int rc;
        if (avro_value_get_by_index(dest, i, &child, NULL) != 0) {
            rc = bl_avro_rc(w, -1);
        } else if (json_object_get(v, name)) {
            rc = from_json(w, fs, json_object_get(fj, "type"), json_object_get(v, name), &child);
        } else if (json_object_get(fj, "default")) {
            int was = w->in_default;
            w->in_default = 1;
            rc = from_json(w, fs, json_object_get(fj, "type"), json_object_get(fj, "default"), &child);
            w->in_default = was;
        } else {
            rc = bl_avro_fail(w, "required field missing");
        }
        bl_avro_path_pop(w, saved);
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
            bl_avro_full_name(s, rec, sizeof rec);
            bl_avro_path_push(w, ".%s", key);
            return bl_avro_fail(w, "unknown field (record %s has no such field)", rec);
        }
    }
    return 0;
}

/* Plain mode: could v be a value of branch b? Records match when every key is
 * one of their fields and every field without a default is present. */
static int shape_matches(const bl_avro_schema *S, avro_schema_t b, const json_t *bj, const json_t *v)
{
    b = bl_avro_target(b);
    switch (avro_typeof(b)) {
    case AVRO_NULL: return json_is_null(v);
    case AVRO_BOOLEAN: return json_is_boolean(v);
    case AVRO_INT32: return json_is_integer(v);
    case AVRO_INT64: return json_is_integer(v) || (json_is_string(v) && bl_avro_is_timestamp_millis(bl_avro_node_of(S, b, bj)));
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
        const json_t *fields = json_object_get(bl_avro_node_of(S, b, bj), "fields");
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
                         bl_avro_branch_name(avro_schema_union_branch(s, i), buf, sizeof buf));
        used += k > 0 ? (size_t)k : 0;
    }
}

static int from_json_union(bl_avro_walk *w, avro_schema_t s, const json_t *j, const json_t *v, avro_value_t *dest)
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
            if (is_avro_null(bl_avro_target(avro_schema_union_branch(s, i))))
                pick = (long)i;
        if (pick < 0)
            return bl_avro_fail(w, "null is not allowed here (union of %s)", names);
    } else if (w->mode == BL_AVRO_JSON_AVRO) {
        if (!json_is_object(v) || json_object_size(v) != 1)
            return bl_avro_fail(w, "expected null or {\"<branch>\": value} for a union of %s, got %s", names,
                        bl_avro_json_kind(v));
        const char *key = json_object_iter_key(json_object_iter((json_t *)v));
        for (size_t i = 0; i < n && pick < 0; i++)
            if (bl_avro_branch_is_called(avro_schema_union_branch(s, i), key))
                pick = (long)i;
        if (pick < 0)
            return bl_avro_fail(w, "'%s' is not a branch of the union (%s)", key, names);
        inner = json_object_get(v, key);
    } else {
        long only = -1;
        int non_null = 0;
        for (size_t i = 0; i < n; i++) {
            avro_schema_t b = avro_schema_union_branch(s, i);
            if (w->hint && pick < 0 && bl_avro_branch_is_called(b, w->hint))
                pick = (long)i;
            if (!is_avro_null(bl_avro_target(b))) {
                non_null++;
                only = (long)i;
            }
        }
        if (pick < 0 && non_null == 1)
            pick = only;
        if (pick < 0 && json_is_object(v) && json_object_size(v) == 1) {
            const char *key = json_object_iter_key(json_object_iter((json_t *)v));
            for (size_t i = 0; i < n && pick < 0; i++)
                if (bl_avro_branch_is_called(avro_schema_union_branch(s, i), key)) {
                    pick = (long)i;
                    inner = json_object_get(v, key);
                }
        }
        for (size_t i = 0; i < n && pick < 0; i++) {
            avro_schema_t b = avro_schema_union_branch(s, i);
            if (!shape_matches(w->S, b, json_array_get(j, i), v))
                continue;
            for (size_t k = i + 1; is_avro_record(bl_avro_target(b)) && k < n; k++) {
                avro_schema_t other = avro_schema_union_branch(s, k);
                if (is_avro_record(bl_avro_target(other)) && shape_matches(w->S, other, json_array_get(j, k), v))
                    return bl_avro_fail(w, "object fits several branches of the union (%s); give a type hint",
                                names);
            }
            pick = (long)i;
        }
        if (pick < 0)
            return bl_avro_fail(w, "%s does not fit any branch of the union (%s)", bl_avro_json_kind(v), names);
    }
    avro_value_t branch;
    if (avro_value_set_branch(dest, (int)pick, &branch) != 0)
        return bl_avro_rc(w, -1);
    return from_json(w, avro_schema_union_branch(s, (size_t)pick), json_array_get(j, (size_t)pick), inner,
                     &branch);
}

/* Fills a new array item (key NULL, at index) or map value (at key) that
 * avro-c made with status made_rc. */
static int from_json_item(bl_avro_walk *w, int made_rc, const char *key, size_t index, avro_schema_t s,
                          const json_t *j, const json_t *v, avro_value_t *child)
{
    if (made_rc != 0)
        return bl_avro_rc(w, made_rc);
    size_t saved = key ? bl_avro_path_push(w, ".%s", key) : bl_avro_path_push(w, "[%zu]", index);
    int rc = from_json(w, s, j, v, child);
    bl_avro_path_pop(w, saved);
    return rc;
}

static int from_json(bl_avro_walk *w, avro_schema_t s, const json_t *j, const json_t *v, avro_value_t *dest)
{
    s = bl_avro_target(s);
    j = bl_avro_node_of(w->S, s, j);
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        if (!json_is_null(v))
            return bl_avro_expected(w, "null", v);
        return bl_avro_rc(w, avro_value_set_null(dest));
    case AVRO_BOOLEAN:
        if (!json_is_boolean(v))
            return bl_avro_expected(w, "boolean", v);
        return bl_avro_rc(w, avro_value_set_boolean(dest, json_is_true(v)));
    case AVRO_INT32:
        if (!json_is_integer(v))
            return bl_avro_expected(w, "int", v);
        if (json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX)
            return bl_avro_fail(w, "%" JSON_INTEGER_FORMAT " is out of range for int", json_integer_value(v));
        return bl_avro_rc(w, avro_value_set_int(dest, (int32_t)json_integer_value(v)));
    case AVRO_INT64:
        if (json_is_integer(v))
            return bl_avro_rc(w, avro_value_set_long(dest, json_integer_value(v)));
        if (bl_avro_is_timestamp_millis(j) && w->mode == BL_AVRO_JSON_PLAIN && json_is_string(v)) {
            int64_t ms;
            if (plain_timestamp_millis(json_string_value(v), &ms) != 0)
                return bl_avro_fail(w, "'%s' is not an RFC 3339 timestamp or date", json_string_value(v));
            return bl_avro_rc(w, avro_value_set_long(dest, ms));
        }
        if (bl_avro_is_timestamp_millis(j) && w->mode == BL_AVRO_JSON_PLAIN)
            return bl_avro_expected(w, "RFC 3339 timestamp or integer milliseconds", v);
        return bl_avro_expected(w, "long", v);
    case AVRO_FLOAT:
    case AVRO_DOUBLE: {
        double d;
        if (double_of(v, &d) != 0)
            return bl_avro_expected(w, is_avro_float(s) ? "float" : "double", v);
        return bl_avro_rc(w, is_avro_float(s) ? avro_value_set_float(dest, (float)d) : avro_value_set_double(dest, d));
    }
    case AVRO_STRING:
        if (!json_is_string(v))
            return bl_avro_expected(w, "string", v);
        return bl_avro_rc(w, avro_value_set_string_len(dest, json_string_value(v), json_string_length(v) + 1));
    case AVRO_BYTES:
    case AVRO_FIXED: {
        if (!json_is_string(v))
            return bl_avro_expected(w, is_avro_bytes(s) ? "bytes string" : "fixed string", v);
        char *buf = NULL;
        size_t n = 0;
        if (latin1_decode(w, v, &buf, &n) != 0)
            return -1;
        int rc;
        if (is_avro_fixed(s) && (int64_t)n != avro_schema_fixed_size(s))
            rc = bl_avro_fail(w, "fixed needs %" PRId64 " bytes, got %zu", avro_schema_fixed_size(s), n);
        else
            rc = bl_avro_rc(w, is_avro_bytes(s) ? avro_value_set_bytes(dest, buf, n) : avro_value_set_fixed(dest, buf, n));
        free(buf);
        return rc;
    }
    case AVRO_ENUM:
        return from_json_enum(w, s, j, v, dest);
    case AVRO_ARRAY: {
        if (!json_is_array(v))
            return bl_avro_expected(w, "array", v);
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
            return bl_avro_expected(w, "object (map)", v);
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
        return bl_avro_fail(w, "unsupported Avro type");
    }
}

int bl_avro_from_json(const bl_avro_schema *s, const json_t *json, const bl_avro_json_opts *opts,
                      avro_value_t *dest, bl_err *err)
{
    bl_avro_walk w = {.S = s, .path = "$", .plen = 1, .err = err};
    if (opts) {
        w.mode = opts->mode;
        w.hint = opts->union_hint;
        w.ignore_unknown = opts->ignore_unknown_fields;
        w.enum_defaults = opts->use_enum_defaults;
    }
    if (!json)
        return bl_avro_fail(&w, "no JSON value");
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
