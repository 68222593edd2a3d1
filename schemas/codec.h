/* Avro in the Confluent wire format (magic byte 0, 4-byte big-endian schema
 * id, Avro binary), with a thread-safe cache of writer schemas by id and
 * decoding into a reader schema through schema resolution.
 *
 * Decoding never trusts the bytes: the body is first checked against the
 * writer schema (lengths, indexes, item counts, exact length), so avro-c only
 * ever reads a well-formed body. */
#ifndef BUSLINE_SCHEMAS_CODEC_H
#define BUSLINE_SCHEMAS_CODEC_H

#include "core/err.h"
#include "schemas/avro_json.h"

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#define BL_CODEC_HEADER_LEN 5
/* Most array/map items a decoded message may hold; stops a few bytes that
 * claim billions of empty items. */
#define BL_CODEC_MAX_ITEMS (1u << 20)

typedef struct bl_schema_cache bl_schema_cache;

/* Fetches the schema JSON text registered under id (the registry client plugs
 * in here). Returns malloc()ed NUL-terminated text that the cache free()s, or
 * NULL with err filled (code BL_ENOTFOUND when no such id exists). */
typedef char *(*bl_schema_fetch_fn)(void *ctx, int32_t id, bl_err *err);

/* Makes an empty cache. fetch (may be NULL: only put() ids are known) is
 * called on a miss, under the cache's lock, so each id is fetched and parsed
 * once. Returns NULL with err filled. */
bl_schema_cache *bl_schema_cache_new(bl_schema_fetch_fn fetch, void *fetch_ctx, bl_err *err);

/* Frees the cache, its schemas and resolvers. c may be NULL. */
void bl_schema_cache_free(bl_schema_cache *c);

/* Adds schema JSON text (len bytes) under id unless id is already known.
 * Returns 0, or -1 with err filled when the text is not a valid schema. */
int bl_schema_cache_put(bl_schema_cache *c, int32_t id, const char *json, size_t len, bl_err *err);

/* Returns the schema for id (borrowed, lives as long as c), fetching it on a
 * miss; NULL with err filled: "codec: schema id 42 unknown". */
const bl_avro_schema *bl_schema_cache_get(bl_schema_cache *c, int32_t id, bl_err *err);

/* Encodes value under schema_id into buf (cap bytes); *out_len gets the
 * length. Returns 0, or -1 with err filled (buffer too small, unset union). */
int bl_codec_encode_into(int32_t schema_id, avro_value_t *value, uint8_t *buf, size_t cap,
                         size_t *out_len, bl_err *err);

/* Same, into a new malloc()ed buffer *out that the caller free()s. */
int bl_codec_encode(int32_t schema_id, avro_value_t *value, uint8_t **out, size_t *out_len, bl_err *err);

/* Reads the schema id from the 5-byte header of msg (len bytes). Returns 0,
 * or -1 with err filled when msg is short or its magic byte is not 0. */
int bl_codec_read_header(const uint8_t *msg, size_t len, int32_t *schema_id, bl_err *err);

/* Decodes msg into *out, a new generic value of the writer schema (caller
 * avro_value_decref's it); *writer (may be NULL) gets that schema, borrowed
 * from c. Returns 0, or -1 with err filled and *out untouched. */
int bl_codec_decode(bl_schema_cache *c, const uint8_t *msg, size_t len, avro_value_t *out,
                    const bl_avro_schema **writer, bl_err *err);

/* Decodes msg into *out, a new generic value of reader (borrowed; must outlive
 * c, since c keeps a resolver per (writer id, reader) pair). Fields the writer
 * lacks take the reader's defaults; fields the reader lacks are dropped.
 * Returns 0, or -1 with err filled (incompatible schemas, bad bytes). */
int bl_codec_decode_as(bl_schema_cache *c, const bl_avro_schema *reader, const uint8_t *msg,
                       size_t len, avro_value_t *out, bl_err *err);

#endif
