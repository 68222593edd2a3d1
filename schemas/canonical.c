#include "schemas/canonical.h"

#include "schemas/schema_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct canon_out {
    char *buf;
    size_t len;
    size_t cap;
    int oom;
    /* Named types already written in full; later uses print the fullname. */
    const char **seen;
    size_t seen_count;
    size_t seen_cap;
} canon_out;

static void put(canon_out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (o->len + n + 1 > cap)
            cap *= 2;
        char *grown = realloc(o->buf, cap);
        if (!grown) {
            o->oom = 1;
            return;
        }
        o->buf = grown;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void puts_raw(canon_out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* A JSON string literal with only the escapes JSON requires, so \uXXXX in the
 * input becomes plain UTF-8 ([STRINGS]). */
static void put_string(canon_out *o, const char *s)
{
    put(o, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            put(o, esc, 2);
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(o, esc, 6);
        } else {
            put(o, (const char *)&c, 1);
        }
    }
    put(o, "\"", 1);
}

static int already_seen(canon_out *o, const char *fullname)
{
    for (size_t i = 0; i < o->seen_count; i++)
        if (strcmp(o->seen[i], fullname) == 0)
            return 1;
    if (o->seen_count == o->seen_cap) {
        size_t cap = o->seen_cap ? o->seen_cap * 2 : 8;
        const char **grown = realloc(o->seen, cap * sizeof *grown);
        if (!grown) {
            o->oom = 1;
            return 1;
        }
        o->seen = grown;
        o->seen_cap = cap;
    }
    o->seen[o->seen_count++] = fullname;
    return 0;
}

static int emit(canon_out *o, const bl_schema_names *names, json_t *schema, const char *ns,
                bl_err *err);

static int emit_record_fields(canon_out *o, const bl_schema_names *names, const bl_schema_node *n,
                              bl_err *err)
{
    puts_raw(o, ",\"fields\":[");
    size_t i;
    json_t *field;
    json_array_foreach(json_object_get(n->def, "fields"), i, field) {
        if (i)
            puts_raw(o, ",");
        puts_raw(o, "{\"name\":");
        put_string(o, json_string_value(json_object_get(field, "name")));
        puts_raw(o, ",\"type\":");
        if (emit(o, names, json_object_get(field, "type"), n->ns, err) != 0)
            return -1;
        puts_raw(o, "}");
    }
    puts_raw(o, "]");
    return 0;
}

static int emit_named(canon_out *o, const bl_schema_names *names, const bl_schema_node *n,
                      bl_err *err)
{
    if (already_seen(o, n->fullname)) {
        put_string(o, n->fullname);
        return 0;
    }
    puts_raw(o, "{\"name\":");
    put_string(o, n->fullname);
    puts_raw(o, ",\"type\":\"");
    puts_raw(o, bl_schema_kind_name(n->kind));
    puts_raw(o, "\"");
    if (n->kind == BL_SCHEMA_RECORD) {
        if (emit_record_fields(o, names, n, err) != 0)
            return -1;
    } else if (n->kind == BL_SCHEMA_ENUM) {
        puts_raw(o, ",\"symbols\":[");
        size_t i;
        json_t *sym;
        json_array_foreach(json_object_get(n->def, "symbols"), i, sym) {
            if (i)
                puts_raw(o, ",");
            put_string(o, json_string_value(sym));
        }
        puts_raw(o, "]");
    } else {
        char size[32];
        snprintf(size, sizeof size, ",\"size\":%lld",
                 (long long)json_integer_value(json_object_get(n->def, "size")));
        puts_raw(o, size);
    }
    puts_raw(o, "}");
    return 0;
}

static int emit(canon_out *o, const bl_schema_names *names, json_t *schema, const char *ns,
                bl_err *err)
{
    bl_schema_node n;
    if (bl_schema_names_resolve(names, schema, ns, &n, err) != 0)
        return -1;
    switch (n.kind) {
    case BL_SCHEMA_RECORD:
    case BL_SCHEMA_ENUM:
    case BL_SCHEMA_FIXED:
        return emit_named(o, names, &n, err);
    case BL_SCHEMA_ARRAY:
        puts_raw(o, "{\"type\":\"array\",\"items\":");
        if (emit(o, names, json_object_get(n.def, "items"), n.ns, err) != 0)
            return -1;
        puts_raw(o, "}");
        return 0;
    case BL_SCHEMA_MAP:
        puts_raw(o, "{\"type\":\"map\",\"values\":");
        if (emit(o, names, json_object_get(n.def, "values"), n.ns, err) != 0)
            return -1;
        puts_raw(o, "}");
        return 0;
    case BL_SCHEMA_UNION: {
        puts_raw(o, "[");
        size_t i;
        json_t *branch;
        json_array_foreach(n.def, i, branch) {
            if (i)
                puts_raw(o, ",");
            if (emit(o, names, branch, n.ns, err) != 0)
                return -1;
        }
        puts_raw(o, "]");
        return 0;
    }
    default:
        put_string(o, bl_schema_kind_name(n.kind));
        return 0;
    }
}

char *bl_canonical_form(const char *schema_json, bl_err *err)
{
    canon_out o = {0};
    bl_schema_names *names = NULL;
    char *result = NULL;
    json_t *root = bl_schema_json_parse(schema_json, "canonical form", err);
    if (!root)
        goto done;
    names = bl_schema_names_build(root, err);
    if (!names) {
        bl_err_wrap(err, "canonical form");
        goto done;
    }
    if (emit(&o, names, root, "", err) != 0) {
        bl_err_wrap(err, "canonical form");
        goto done;
    }
    if (o.oom || !o.buf) {
        bl_err_set(err, BL_ENOMEM, "canonical form: out of memory");
        goto done;
    }
    result = o.buf;
    o.buf = NULL;
done:
    free(o.buf);
    free(o.seen);
    bl_schema_names_free(names);
    json_decref(root);
    return result;
}

#define RABIN_EMPTY 0xc15d213aa4d7a795ULL

uint64_t bl_canonical_rabin64(const char *data, size_t len)
{
    /* Built on each call: 256 entries cost less than the caller's JSON
     * parsing, and there is no shared state to initialise between threads. */
    uint64_t table[256];
    for (uint64_t i = 0; i < 256; i++) {
        uint64_t fp = i;
        for (int j = 0; j < 8; j++)
            fp = (fp >> 1) ^ (RABIN_EMPTY & (0 - (fp & 1)));
        table[i] = fp;
    }
    uint64_t fp = RABIN_EMPTY;
    for (size_t i = 0; i < len; i++)
        fp = (fp >> 8) ^ table[(fp ^ (uint8_t)data[i]) & 0xff];
    return fp;
}
