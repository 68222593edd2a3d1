/* Schema compatibility judged by the Avro 1.11 schema-resolution rules, the
 * way Confluent Schema Registry judges it: can data written with one schema be
 * read with another, and does a new schema fit a subject's history under a
 * compatibility mode. Works on schema JSON text (jansson), since avro-c does
 * not expose field defaults or aliases. */
#ifndef BUSLINE_SCHEMAS_COMPAT_H
#define BUSLINE_SCHEMAS_COMPAT_H

#include "core/err.h"

#include <stddef.h>

/* At most this many reasons are kept; the rest are only counted. */
#define BL_COMPAT_REASONS_MAX 32

/* Why schemas are incompatible, one human-readable sentence per problem,
 * e.g. "field 'data.severity' (reader) has no default and is absent in the
 * writer". Start from {0}; release with bl_compat_reasons_free. */
typedef struct bl_compat_reasons {
    char *items[BL_COMPAT_REASONS_MAX]; /* owned strings */
    size_t count;
    size_t dropped; /* reasons found beyond BL_COMPAT_REASONS_MAX */
} bl_compat_reasons;

/* Frees every reason and resets r to empty; accepts NULL. */
void bl_compat_reasons_free(bl_compat_reasons *r);

/* Joins the reasons with sep into a new string (caller frees with free()),
 * "" when there are none; NULL only when out of memory. */
char *bl_compat_reasons_join(const bl_compat_reasons *r, const char *sep);

typedef enum bl_compat_mode {
    BL_COMPAT_NONE,
    BL_COMPAT_BACKWARD,            /* new reads the latest */
    BL_COMPAT_BACKWARD_TRANSITIVE, /* new reads every previous version */
    BL_COMPAT_FORWARD,             /* the latest reads new */
    BL_COMPAT_FORWARD_TRANSITIVE,  /* every previous version reads new */
    BL_COMPAT_FULL,                /* both ways with the latest */
    BL_COMPAT_FULL_TRANSITIVE,     /* both ways with every previous version */
} bl_compat_mode;

/* Parses a registry mode name ("BACKWARD", "full_transitive"; case is
 * ignored). Returns 0, or -1 with err filled for an unknown name. */
int bl_compat_mode_parse(const char *text, bl_compat_mode *out, bl_err *err);

/* The registry name of mode ("FULL_TRANSITIVE"); a static string. */
const char *bl_compat_mode_name(bl_compat_mode mode);

/* Can data written with writer_json be read with reader_json? Returns 1 when
 * it can, 0 when it cannot (reasons appended to reasons_out, which may be
 * NULL), -1 with err filled when either text is not a valid Avro schema. */
int bl_compat_can_read(const char *reader_json, const char *writer_json,
                       bl_compat_reasons *reasons_out, bl_err *err);

/* Judges new_json against previous (n schema texts, oldest first, so the
 * latest is previous[n - 1]) under mode. Returns 1 when compatible (always
 * for NONE or n == 0), 0 when not (reasons appended, each prefixed with the
 * direction and the 1-based position of the previous version, e.g. "new
 * schema cannot read previous #2 of 3: ..."), -1 with err filled for an
 * invalid schema. reasons may be NULL. Borrows every argument. */
int bl_compat_check(bl_compat_mode mode, const char *new_json, const char *const *previous,
                    size_t n, bl_compat_reasons *reasons, bl_err *err);

#endif
