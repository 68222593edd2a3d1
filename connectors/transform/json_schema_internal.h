/* The compiled form of a JSON Schema, shared by json_schema.c (compile) and
 * json_schema_validate.c (not for other modules). */
#ifndef BUSLINE_CONNECTORS_TRANSFORM_JSON_SCHEMA_INTERNAL_H
#define BUSLINE_CONNECTORS_TRANSFORM_JSON_SCHEMA_INTERNAL_H

#include "connectors/transform/json_schema.h"

#include <regex.h>

typedef struct schema_regex {
    const json_t *owner; /* the schema object whose "pattern" this is */
    regex_t re;
} schema_regex;

struct bl_json_schema {
    json_t *root; /* own reference; validation walks it */
    schema_regex *regex;
    size_t n_regex;
};

/* The compiled pattern of schema object owner, or NULL. */
const regex_t *bl_json_schema_regex(const bl_json_schema *s, const json_t *owner);

/* The target of a $ref ("#" or "#/$defs/<name>") in s, or NULL. */
const json_t *bl_json_schema_ref(const bl_json_schema *s, const char *ref);

#endif
