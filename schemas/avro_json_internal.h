/* What the Avro <-> JSON files share and nobody else sees: the schema
 * struct, the walk state, and the helpers on schema nodes and walk paths. */
#ifndef BUSLINE_SCHEMAS_AVRO_JSON_INTERNAL_H
#define BUSLINE_SCHEMAS_AVRO_JSON_INTERNAL_H

#include "schemas/avro_json.h"

#include <stddef.h>

struct bl_avro_schema {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    json_t *json;
    json_t *named; /* full name -> JSON definition of each record/enum/fixed */
};

/* ---- schema nodes (avro_schema.c) ---- */

/* Records every named definition under node in named (full name -> node,
 * borrowed refs taken with json_object_set), so a type given by name
 * reference can find its JSON (and so its defaults). ns: the enclosing
 * namespace ("" at the top). */
void bl_avro_index_named(json_t *node, const char *ns, json_t *named);

/* s with links followed to the schema they name. Borrowed. */
avro_schema_t bl_avro_target(avro_schema_t s);

/* 1 when s is a record, enum or fixed. */
int bl_avro_is_named(avro_schema_t s);

/* Writes s's full name ("ns.Name", or "Name") into out[len]. */
void bl_avro_full_name(avro_schema_t s, char *out, size_t len);

/* The name a union branch goes by in the Avro JSON encoding: a static
 * string, or buf (len bytes) filled with a named type's full name. */
const char *bl_avro_branch_name(avro_schema_t b, char *buf, size_t len);

/* 1 when name is branch b's Avro JSON name or (for a named type) its short name. */
int bl_avro_branch_is_called(avro_schema_t b, const char *name);

/* The JSON node that describes s, given the node found at its place in the
 * schema text (which may be a name reference or a {"type": {...}} wrapper).
 * Borrowed from S. */
const json_t *bl_avro_node_of(const bl_avro_schema *S, avro_schema_t s, const json_t *j);

/* 1 when the node j carries logicalType timestamp-millis. */
int bl_avro_is_timestamp_millis(const json_t *j);

/* ---- walks (avro_json_walk.c) ---- */

/* One walk over a value: its schema, mode and options, the JSON path it is
 * at (for error messages) and where errors go. */
typedef struct bl_avro_walk {
    const bl_avro_schema *S;
    bl_avro_json_mode mode;
    const char *hint;
    int ignore_unknown;
    int enum_defaults;
    int in_default; /* inside a field default: unions take their first branch */
    char path[512];
    size_t plen;
    bl_err *err;
} bl_avro_walk;

/* "object", "array", "string", "number", "boolean" or "null". Static string. */
const char *bl_avro_json_kind(const json_t *v);

/* Appends a printf piece to w's path (cut when full); returns the length to
 * give bl_avro_path_pop to undo it. */
size_t bl_avro_path_push(bl_avro_walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bl_avro_path_pop(bl_avro_walk *w, size_t saved);

/* Fills w->err with BL_EINVAL "<path>: <message>". Returns -1. */
int bl_avro_fail(bl_avro_walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* bl_avro_fail "expected <what>, got <kind of v>". Returns -1. */
int bl_avro_expected(bl_avro_walk *w, const char *what, const json_t *v);

/* 0 for rc 0, else bl_avro_fail with avro-c's last error. */
int bl_avro_rc(bl_avro_walk *w, int rc);

#endif
