/* Avro values <-> JSON (jansson), walked against a parsed schema.
 *
 * Two JSON shapes:
 *  - BL_AVRO_JSON_AVRO: the Avro specification's JSON encoding (unions as
 *    {"type.Name": value} or null, bytes/fixed as ISO-8859-1 strings,
 *    timestamps as plain longs). Lossless, what other Avro tools read.
 *  - BL_AVRO_JSON_PLAIN: for people (API input, webhook output): unions as the
 *    bare value, timestamp-millis as RFC 3339 strings (integer millis and
 *    a full-date, "2026-03-01" for its midnight UTC, also accepted on
 *    input), enums as symbols.
 *
 * avro-c keeps neither field defaults nor logical types, so a bl_avro_schema
 * keeps the schema's JSON beside the parsed avro_schema_t and the walkers read
 * both in step. */
#ifndef BUSLINE_SCHEMAS_AVRO_JSON_H
#define BUSLINE_SCHEMAS_AVRO_JSON_H

#include "core/err.h"

#include <avro.h>
#include <jansson.h>
#include <stdint.h>

/* A parsed schema: avro_schema_t, its generic value class, and its JSON.
 * Immutable once made, so threads may share one. */
typedef struct bl_avro_schema bl_avro_schema;

typedef enum bl_avro_json_mode {
    BL_AVRO_JSON_AVRO = 0,
    BL_AVRO_JSON_PLAIN = 1,
} bl_avro_json_mode;

/* Options for JSON -> Avro. Zero-initialised means Avro JSON, strict. */
typedef struct bl_avro_json_opts {
    bl_avro_json_mode mode;
    /* Plain mode: for a union with several non-null branches, the name (short
     * or full) of the branch to take; NULL to pick by the JSON value's shape. */
    const char *union_hint;
    /* Non-zero: object keys that are not fields of the record are skipped
     * instead of rejected. */
    int ignore_unknown_fields;
    /* Non-zero: a symbol the enum lacks takes the enum's own "default" symbol
     * (schema resolution); otherwise it is an error. */
    int use_enum_defaults;
} bl_avro_json_opts;

/* Parses schema JSON text of len bytes. Returns a new schema (free with
 * bl_avro_schema_free), or NULL with err filled. */
bl_avro_schema *bl_avro_schema_parse(const char *text, size_t len, bl_err *err);

/* Frees s and every avro-c object it holds. s may be NULL. */
void bl_avro_schema_free(bl_avro_schema *s);

/* Borrowed views of s, valid while s lives. */
avro_schema_t bl_avro_schema_avro(const bl_avro_schema *s);
avro_value_iface_t *bl_avro_schema_iface(const bl_avro_schema *s);
const json_t *bl_avro_schema_json(const bl_avro_schema *s);

/* Makes a new empty generic value of s into out (caller avro_value_decref's
 * it). Returns 0, or -1 with err filled. */
int bl_avro_value_new(const bl_avro_schema *s, avro_value_t *out, bl_err *err);

/* Fills dest (a fresh generic value of s) from json. opts may be NULL.
 * Errors name the JSON path: "$.data.severity: 'SEVERE' is not one of ...".
 * Returns 0, or -1 with err filled (dest is then partly filled). */
int bl_avro_from_json(const bl_avro_schema *s, const json_t *json,
                      const bl_avro_json_opts *opts, avro_value_t *dest, bl_err *err);

/* Same as bl_avro_from_json but parses JSON text of len bytes first. */
int bl_avro_from_json_text(const bl_avro_schema *s, const char *text, size_t len,
                           const bl_avro_json_opts *opts, avro_value_t *dest, bl_err *err);

/* Converts src (a value of s) to a new json_t in mode (caller json_decref's
 * it). Returns NULL with err filled when a value has no JSON form (a string
 * that is not UTF-8). */
json_t *bl_avro_to_json(const bl_avro_schema *s, avro_value_t *src,
                        bl_avro_json_mode mode, bl_err *err);

/* Schema resolution help, since avro-c's resolver refuses a reader field the
 * writer lacks even when it has a default, and copies enum indexes without
 * mapping symbols: returns new JSON text (caller free()s) of reader with each
 * such field removed and each differing enum given the writer's symbols
 * (recursively, through records, arrays, maps and unions), setting *changed
 * when anything was. A removed field without a default is an error. Returns
 * NULL with err filled. */
char *bl_avro_schema_project(const bl_avro_schema *reader, avro_schema_t writer, int *changed,
                             bl_err *err);


#endif
