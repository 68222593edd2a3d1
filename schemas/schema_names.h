/* Avro schema JSON as a typed view: which kind each schema node is and the
 * fullnames of named types (record, enum, fixed), resolved with the Avro
 * namespace rules. Shared by compat (schema resolution) and canonical
 * (Parsing Canonical Form), which both work on jansson trees because avro-c
 * does not expose defaults or aliases. */
#ifndef BUSLINE_SCHEMAS_SCHEMA_NAMES_H
#define BUSLINE_SCHEMAS_SCHEMA_NAMES_H

#include "core/err.h"

#include <jansson.h>

typedef enum bl_schema_kind {
    BL_SCHEMA_NULL,
    BL_SCHEMA_BOOLEAN,
    BL_SCHEMA_INT,
    BL_SCHEMA_LONG,
    BL_SCHEMA_FLOAT,
    BL_SCHEMA_DOUBLE,
    BL_SCHEMA_BYTES,
    BL_SCHEMA_STRING,
    BL_SCHEMA_RECORD,
    BL_SCHEMA_ENUM,
    BL_SCHEMA_FIXED,
    BL_SCHEMA_ARRAY,
    BL_SCHEMA_MAP,
    BL_SCHEMA_UNION,
} bl_schema_kind;

/* One schema node after name resolution. All pointers are borrowed from the
 * JSON tree and the names table; valid while both live. */
typedef struct bl_schema_node {
    bl_schema_kind kind;
    json_t *def;          /* the defining JSON: object for record/enum/fixed/
                             array/map, array for a union, string or object
                             for a primitive */
    const char *fullname; /* record/enum/fixed only, else NULL */
    const char *ns;       /* namespace that names inside this node resolve
                             against ("" = the null namespace) */
} bl_schema_node;

typedef struct bl_schema_names bl_schema_names;

/* Parses schema JSON text (a bare string such as "int" is accepted). Returns
 * a new tree owned by the caller (json_decref), or NULL with err filled with
 * the parse position. what names the input in the message ("reader schema"). */
json_t *bl_schema_json_parse(const char *text, const char *what, bl_err *err);

/* Walks the whole schema, checks its structure, registers every named type
 * and checks that every reference names a type defined before it (a record
 * may refer to itself). Returns a new table (free with bl_schema_names_free)
 * that borrows root, or NULL with err filled ("unknown type 'Foo' at ..."). */
bl_schema_names *bl_schema_names_build(json_t *root, bl_err *err);

/* Frees the table; accepts NULL. Does not touch the JSON tree. */
void bl_schema_names_free(bl_schema_names *names);

/* Resolves schema (any node of the tree given to build), found where the
 * enclosing namespace is ns ("" = null), into out. A name reference resolves
 * to its definition. Returns 0, or -1 with err filled. */
int bl_schema_names_resolve(const bl_schema_names *names, json_t *schema, const char *ns,
                            bl_schema_node *out, bl_err *err);

/* The resolved root of the table's tree. */
int bl_schema_names_root(const bl_schema_names *names, bl_schema_node *out, bl_err *err);

/* The part of a fullname after its last dot (the name itself if undotted). */
const char *bl_schema_unqualified(const char *fullname);

/* The Avro type name of a kind: "int", "record", "union"... */
const char *bl_schema_kind_name(bl_schema_kind kind);

#endif
