/* Confluent wire format over avro-c, with the schema cache and resolvers. */
#include "schemas/codec.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cached_schema {
    int32_t id;
    bl_avro_schema *schema;
} cached_schema;

/* How to read one writer id as one reader. avro-c's resolver cannot fill
 * defaults and does not map enum symbols, so when the reader has fields the
 * writer lacks or enums that differ, we resolve into `projected` (the reader
 * minus those fields, with the writer's enum symbols) and then convert into
 * the reader through JSON, where defaults and symbols are known. */
typedef struct resolver {
    int32_t writer_id;
    const bl_avro_schema *reader;
    avro_value_iface_t *iface;  /* NULL when the pair is incompatible */
    bl_avro_schema *projected;  /* NULL when avro-c's resolver suffices */
    char error[BL_ERR_MSG_MAX]; /* why the pair is incompatible */
} resolver;

struct bl_schema_cache {
    pthread_mutex_t lock;
    bl_schema_fetch_fn fetch;
    void *fetch_ctx;
    /* Linear arrays: a process sees a handful of schema ids, and lookups are
     * dwarfed by the decode itself. */
    cached_schema *schemas;
    size_t n_schemas, cap_schemas;
    resolver *resolvers;
    size_t n_resolvers, cap_resolvers;
};

static int grow(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t next = *cap ? *cap * 2 : 8;
    void *p = realloc(*items, next * size);
    if (!p)
        return -1;
    *items = p;
    *cap = next;
    return 0;
}

bl_schema_cache *bl_schema_cache_new(bl_schema_fetch_fn fetch, void *fetch_ctx, bl_err *err)
{
    bl_schema_cache *c = calloc(1, sizeof *c);
    if (!c) {
        bl_err_set(err, BL_ENOMEM, "codec: out of memory");
        return NULL;
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        bl_err_set(err, BL_ENOMEM, "codec: cannot make a mutex");
        return NULL;
    }
    c->fetch = fetch;
    c->fetch_ctx = fetch_ctx;
    return c;
}

void bl_schema_cache_free(bl_schema_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_resolvers; i++) {
        if (c->resolvers[i].iface)
            avro_value_iface_decref(c->resolvers[i].iface);
        bl_avro_schema_free(c->resolvers[i].projected);
    }
    for (size_t i = 0; i < c->n_schemas; i++)
        bl_avro_schema_free(c->schemas[i].schema);
    free(c->resolvers);
    free(c->schemas);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static bl_avro_schema *find_locked(bl_schema_cache *c, int32_t id)
{
    for (size_t i = 0; i < c->n_schemas; i++)
        if (c->schemas[i].id == id)
            return c->schemas[i].schema;
    return NULL;
}

static bl_avro_schema *add_locked(bl_schema_cache *c, int32_t id, const char *json, size_t len, bl_err *err)
{
    bl_avro_schema *s = find_locked(c, id);
    if (s)
        return s;
    if (grow((void **)&c->schemas, &c->cap_schemas, c->n_schemas, sizeof *c->schemas) != 0) {
        bl_err_set(err, BL_ENOMEM, "codec: out of memory");
        return NULL;
    }
    s = bl_avro_schema_parse(json, len, err);
    if (!s) {
        bl_err_wrap(err, "codec: schema id %" PRId32, id);
        return NULL;
    }
    c->schemas[c->n_schemas++] = (cached_schema){id, s};
    return s;
}

int bl_schema_cache_put(bl_schema_cache *c, int32_t id, const char *json, size_t len, bl_err *err)
{
    pthread_mutex_lock(&c->lock);
    bl_avro_schema *s = add_locked(c, id, json, len, err);
    pthread_mutex_unlock(&c->lock);
    return s ? 0 : -1;
}

const bl_avro_schema *bl_schema_cache_get(bl_schema_cache *c, int32_t id, bl_err *err)
{
    pthread_mutex_lock(&c->lock);
    bl_avro_schema *s = find_locked(c, id);
    if (!s && !c->fetch) {
        bl_err_set(err, BL_ENOTFOUND, "codec: schema id %" PRId32 " unknown", id);
    } else if (!s) {
        bl_err fetch_err = {0};
        char *text = c->fetch(c->fetch_ctx, id, &fetch_err);
        if (!text && fetch_err.code == BL_ENOTFOUND)
            bl_err_set(err, BL_ENOTFOUND, "codec: schema id %" PRId32 " unknown", id);
        else if (!text)
            bl_err_set(err, fetch_err.code ? fetch_err.code : BL_EIO, "codec: fetch schema id %" PRId32 ": %s",
                       id, fetch_err.msg);
        else
            s = add_locked(c, id, text, strlen(text), err);
        free(text);
    }
    pthread_mutex_unlock(&c->lock);
    return s;
}

/* ---- encode ------------------------------------------------------------ */

int bl_codec_encode_into(int32_t schema_id, avro_value_t *value, uint8_t *buf, size_t cap,
                         size_t *out_len, bl_err *err)
{
    size_t body = 0;
    if (avro_value_sizeof(value, &body) != 0)
        return bl_err_set(err, BL_EINVAL, "codec: cannot size value for schema id %" PRId32 ": %s", schema_id,
                          avro_strerror());
    if (cap < BL_CODEC_HEADER_LEN || cap - BL_CODEC_HEADER_LEN < body)
        return bl_err_set(err, BL_EINVAL, "codec: encoded message needs %zu bytes, buffer has %zu",
                          body + BL_CODEC_HEADER_LEN, cap);
    uint32_t id = (uint32_t)schema_id;
    buf[0] = 0;
    buf[1] = (uint8_t)(id >> 24);
    buf[2] = (uint8_t)(id >> 16);
    buf[3] = (uint8_t)(id >> 8);
    buf[4] = (uint8_t)id;
    avro_writer_t w = avro_writer_memory((const char *)buf + BL_CODEC_HEADER_LEN, (int64_t)body);
    if (!w)
        return bl_err_set(err, BL_ENOMEM, "codec: out of memory");
    int rc = avro_value_write(w, value);
    avro_writer_free(w);
    if (rc != 0)
        return bl_err_set(err, BL_EINVAL, "codec: encode for schema id %" PRId32 ": %s", schema_id,
                          avro_strerror());
    *out_len = body + BL_CODEC_HEADER_LEN;
    return 0;
}

int bl_codec_encode(int32_t schema_id, avro_value_t *value, uint8_t **out, size_t *out_len, bl_err *err)
{
    size_t body = 0;
    if (avro_value_sizeof(value, &body) != 0)
        return bl_err_set(err, BL_EINVAL, "codec: cannot size value for schema id %" PRId32 ": %s", schema_id,
                          avro_strerror());
    uint8_t *buf = malloc(body + BL_CODEC_HEADER_LEN);
    if (!buf)
        return bl_err_set(err, BL_ENOMEM, "codec: out of memory");
    if (bl_codec_encode_into(schema_id, value, buf, body + BL_CODEC_HEADER_LEN, out_len, err) != 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

/* ---- body check -------------------------------------------------------- */

typedef struct scan {
    const uint8_t *p;
    size_t len, pos;
    size_t items;
    int depth;
    int truncated;
    char why[160];
} scan;

static int bad(scan *sc, int truncated, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(scan *sc, int truncated, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sc->why, sizeof sc->why, fmt, ap);
    va_end(ap);
    sc->truncated = truncated;
    return -1;
}

static int need(scan *sc, uint64_t n, const char *what)
{
    if (sc->len - sc->pos < n)
        return bad(sc, 1, "%s needs %" PRIu64 " bytes at offset %zu, %zu left", what, n, sc->pos,
                   sc->len - sc->pos);
    sc->pos += (size_t)n;
    return 0;
}

/* Zig-zag varint of at most max_bytes (5 for int, 10 for long). */
static int varint(scan *sc, int max_bytes, int64_t *out)
{
    uint64_t v = 0;
    for (int i = 0;; i++) {
        if (i == max_bytes)
            return bad(sc, 0, "varint longer than %d bytes at offset %zu", max_bytes, sc->pos);
        if (sc->pos == sc->len)
            return bad(sc, 1, "varint cut at offset %zu", sc->pos);
        uint8_t b = sc->p[sc->pos++];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            break;
    }
    *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    if (max_bytes == 5 && (*out < INT32_MIN || *out > INT32_MAX))
        return bad(sc, 0, "int out of range at offset %zu", sc->pos);
    return 0;
}

static int check_value(scan *sc, avro_schema_t s);

/* A length-prefixed string or bytes value. */
static int check_length(scan *sc, const char *what)
{
    int64_t n = 0;
    if (varint(sc, 10, &n) != 0)
        return -1;
    if (n < 0)
        return bad(sc, 0, "negative %s length %" PRId64 " at offset %zu", what, n, sc->pos);
    return need(sc, (uint64_t)n, what);
}

static int check_blocks(scan *sc, avro_schema_t s)
{
    for (;;) {
        int64_t count = 0, size = 0;
        if (varint(sc, 10, &count) != 0)
            return -1;
        if (count == 0)
            return 0;
        if (count < 0) {
            if (count == INT64_MIN)
                return bad(sc, 0, "bad block count at offset %zu", sc->pos);
            count = -count;
            if (varint(sc, 10, &size) != 0)
                return -1;
            if (size < 0)
                return bad(sc, 0, "negative block size at offset %zu", sc->pos);
        }
        for (int64_t i = 0; i < count; i++) {
            if (++sc->items > BL_CODEC_MAX_ITEMS)
                return bad(sc, 0, "more than %u array or map items", BL_CODEC_MAX_ITEMS);
            if (is_avro_map(s) && check_length(sc, "map key") != 0)
                return -1;
            avro_schema_t item = is_avro_map(s) ? avro_schema_map_values(s) : avro_schema_array_items(s);
            if (check_value(sc, item) != 0)
                return -1;
        }
    }
}

static int check_value(scan *sc, avro_schema_t s)
{
    while (is_avro_link(s))
        s = avro_schema_link_target(s);
    if (++sc->depth > 128)
        return bad(sc, 0, "values nested deeper than 128");
    int64_t v = 0;
    int rc = 0;
    switch (avro_typeof(s)) {
    case AVRO_NULL: break;
    case AVRO_BOOLEAN:
        if (sc->pos < sc->len && sc->p[sc->pos] > 1)
            rc = bad(sc, 0, "boolean byte 0x%02x at offset %zu", sc->p[sc->pos], sc->pos);
        else
            rc = need(sc, 1, "boolean");
        break;
    case AVRO_INT32: rc = varint(sc, 5, &v); break;
    case AVRO_INT64: rc = varint(sc, 10, &v); break;
    case AVRO_FLOAT: rc = need(sc, 4, "float"); break;
    case AVRO_DOUBLE: rc = need(sc, 8, "double"); break;
    case AVRO_STRING:
    case AVRO_BYTES:
        rc = check_length(sc, is_avro_string(s) ? "string" : "bytes");
        break;
    case AVRO_FIXED: rc = need(sc, (uint64_t)avro_schema_fixed_size(s), "fixed"); break;
    case AVRO_ENUM:
        rc = varint(sc, 5, &v);
        if (rc == 0 && (v < 0 || v >= avro_schema_enum_number_of_symbols(s)))
            rc = bad(sc, 0, "enum index %" PRId64 " out of range at offset %zu", v, sc->pos);
        break;
    case AVRO_UNION:
        rc = varint(sc, 10, &v);
        if (rc == 0 && (v < 0 || (uint64_t)v >= avro_schema_union_size(s)))
            rc = bad(sc, 0, "union branch %" PRId64 " out of range at offset %zu", v, sc->pos);
        else if (rc == 0)
            rc = check_value(sc, avro_schema_union_branch(s, (size_t)v));
        break;
    case AVRO_ARRAY:
    case AVRO_MAP: rc = check_blocks(sc, s); break;
    case AVRO_RECORD:
        for (size_t i = 0; rc == 0 && i < avro_schema_record_size(s); i++)
            rc = check_value(sc, avro_schema_record_field_get_by_index(s, (int)i));
        break;
    default: rc = bad(sc, 0, "unsupported Avro type");
    }
    sc->depth--;
    return rc;
}

/* ---- decode ------------------------------------------------------------ */

int bl_codec_read_header(const uint8_t *msg, size_t len, int32_t *schema_id, bl_err *err)
{
    /* Set on every path: at -O3 gcc cannot see that bl_err_set returns -1, and
     * callers reading the id after a failed check would trip -Wmaybe-uninitialized. */
    *schema_id = 0;
    if (len < BL_CODEC_HEADER_LEN)
        return bl_err_set(err, BL_EINVAL, "codec: message of %zu bytes is shorter than the %d-byte header", len,
                          BL_CODEC_HEADER_LEN);
    if (msg[0] != 0)
        return bl_err_set(err, BL_EINVAL, "codec: magic byte 0x%02x is not 0 (not Confluent wire format)", msg[0]);
    *schema_id = (int32_t)((uint32_t)msg[1] << 24 | (uint32_t)msg[2] << 16 | (uint32_t)msg[3] << 8 | msg[4]);
    return 0;
}

/* Checks the body against the writer schema, then lets avro-c read it into
 * dest (a value of the writer schema, or a resolver over one). */
static int read_body(const bl_avro_schema *writer, int32_t id, const uint8_t *body, size_t len,
                     avro_value_t *dest, bl_err *err)
{
    scan sc = {.p = body, .len = len};
    if (check_value(&sc, bl_avro_schema_avro(writer)) != 0)
        return bl_err_set(err, BL_EINVAL, "codec: %s Avro body for schema id %" PRId32 ": %s",
                          sc.truncated ? "truncated" : "malformed", id, sc.why);
    if (sc.pos != len)
        return bl_err_set(err, BL_EINVAL, "codec: %zu trailing bytes after the Avro body for schema id %" PRId32,
                          len - sc.pos, id);
    avro_reader_t r = avro_reader_memory((const char *)body, (int64_t)len);
    if (!r)
        return bl_err_set(err, BL_ENOMEM, "codec: out of memory");
    int rc = avro_value_read(r, dest);
    avro_reader_free(r);
    /* The body is well-formed by now, so what fails here is resolution (a
     * writer union branch or enum symbol the reader lacks). */
    if (rc != 0)
        return bl_err_set(err, BL_EINVAL, "codec: cannot read Avro body for schema id %" PRId32 ": %s", id,
                          avro_strerror());
    return 0;
}

int bl_codec_decode(bl_schema_cache *c, const uint8_t *msg, size_t len, avro_value_t *out,
                    const bl_avro_schema **writer, bl_err *err)
{
    int32_t id;
    if (bl_codec_read_header(msg, len, &id, err) != 0)
        return -1;
    const bl_avro_schema *ws = bl_schema_cache_get(c, id, err);
    if (!ws)
        return -1;
    avro_value_t value;
    if (bl_avro_value_new(ws, &value, err) != 0)
        return -1;
    if (read_body(ws, id, msg + BL_CODEC_HEADER_LEN, len - BL_CODEC_HEADER_LEN, &value, err) != 0) {
        avro_value_decref(&value);
        return -1;
    }
    *out = value;
    if (writer)
        *writer = ws;
    return 0;
}

static const char *schema_label(const bl_avro_schema *s)
{
    avro_schema_t a = bl_avro_schema_avro(s);
    return is_avro_record(a) || is_avro_enum(a) || is_avro_fixed(a) ? avro_schema_name(a) : avro_schema_type_name(a);
}

static void resolver_build(resolver *r, const bl_avro_schema *writer)
{
    bl_err err = {0};
    int changed = 0;
    char *text = bl_avro_schema_project(r->reader, bl_avro_schema_avro(writer), &changed, &err);
    if (!text)
        goto fail;
    if (changed) {
        r->projected = bl_avro_schema_parse(text, strlen(text), &err);
        if (!r->projected)
            goto fail;
    }
    const bl_avro_schema *dest = r->projected ? r->projected : r->reader;
    r->iface = avro_resolved_writer_new(bl_avro_schema_avro(writer), bl_avro_schema_avro(dest));
    if (!r->iface)
        bl_err_set(&err, BL_EINVAL, "avro: %s", avro_strerror());
fail:
    free(text);
    if (!r->iface)
        snprintf(r->error, sizeof r->error, "%s", err.msg);
}

/* Finds or makes the resolver for (writer id, reader) and hands out its parts:
 * *iface with a reference of the caller's own, *projected borrowed (entries
 * never free it before the cache dies; the array itself may move). */
static int resolver_get(bl_schema_cache *c, int32_t id, const bl_avro_schema *writer,
                        const bl_avro_schema *reader, avro_value_iface_t **iface,
                        const bl_avro_schema **projected, bl_err *err)
{
    resolver *r = NULL;
    int rc = -1;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n_resolvers && !r; i++)
        if (c->resolvers[i].writer_id == id && c->resolvers[i].reader == reader)
            r = &c->resolvers[i];
    if (!r && grow((void **)&c->resolvers, &c->cap_resolvers, c->n_resolvers, sizeof *c->resolvers) == 0) {
        r = &c->resolvers[c->n_resolvers++];
        *r = (resolver){.writer_id = id, .reader = reader};
        resolver_build(r, writer);
    }
    if (!r) {
        bl_err_set(err, BL_ENOMEM, "codec: out of memory");
    } else if (!r->iface) {
        bl_err_set(err, BL_EINVAL, "codec: schema id %" PRId32 " cannot be read as %s: %s", id,
                   schema_label(reader), r->error);
    } else {
        *iface = avro_value_iface_incref(r->iface);
        *projected = r->projected;
        rc = 0;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int bl_codec_decode_as(bl_schema_cache *c, const bl_avro_schema *reader, const uint8_t *msg,
                       size_t len, avro_value_t *out, bl_err *err)
{
    int32_t id;
    if (bl_codec_read_header(msg, len, &id, err) != 0)
        return -1;
    const bl_avro_schema *writer = bl_schema_cache_get(c, id, err);
    if (!writer)
        return -1;
    avro_value_iface_t *iface = NULL;
    const bl_avro_schema *projected = NULL;
    if (resolver_get(c, id, writer, reader, &iface, &projected, err) != 0)
        return -1;
    int rc = -1;
    json_t *bridge = NULL;
    avro_value_t dest = {0}, resolved = {0}, result = {0};
    if (bl_avro_value_new(projected ? projected : reader, &dest, err) != 0)
        goto done;
    if (avro_resolved_writer_new_value(iface, &resolved) != 0) {
        bl_err_set(err, BL_ENOMEM, "codec: cannot make a resolver value: %s", avro_strerror());
        goto done;
    }
    avro_resolved_writer_set_dest(&resolved, &dest);
    if (read_body(writer, id, msg + BL_CODEC_HEADER_LEN, len - BL_CODEC_HEADER_LEN, &resolved, err) != 0)
        goto done;
    if (!projected) {
        *out = dest;
        dest.self = NULL;
        rc = 0;
        goto done;
    }
    /* The projected value lacks the defaulted fields; JSON carries it over to
     * the reader, whose walker knows the defaults. */
    bridge = bl_avro_to_json(projected, &dest, BL_AVRO_JSON_AVRO, err);
    if (!bridge || bl_avro_value_new(reader, &result, err) != 0)
        goto done;
    bl_avro_json_opts resolve = {.use_enum_defaults = 1};
    if (bl_avro_from_json(reader, bridge, &resolve, &result, err) != 0) {
        bl_err_wrap(err, "codec: schema id %" PRId32 " as %s", id, schema_label(reader));
        goto done;
    }
    *out = result;
    result.self = NULL;
    rc = 0;
done:
    json_decref(bridge);
    if (result.self)
        avro_value_decref(&result);
    if (resolved.self)
        avro_value_decref(&resolved);
    if (dest.self)
        avro_value_decref(&dest);
    avro_value_iface_decref(iface);
    return rc;
}
