/* JSON Schema (draft 2020-12) validation, a documented subset: type,
 * properties, required, additionalProperties, items, prefixItems, enum,
 * const, minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf,
 * minLength, maxLength, pattern (POSIX extended regex, regcomp, not
 * ECMA-262), minItems, maxItems, uniqueItems, minProperties, maxProperties,
 * allOf, anyOf, oneOf, not, $ref to "#" or "#/$defs/<name>", $defs, and the
 * annotations $schema, $id, $comment, title, description, default,
 * examples, deprecated, readOnly, writeOnly, format (not asserted). Any
 * other keyword is refused at compile, never ignored
 * (connectors/transform/README.md). */
#ifndef BUSLINE_CONNECTORS_TRANSFORM_JSON_SCHEMA_H
#define BUSLINE_CONNECTORS_TRANSFORM_JSON_SCHEMA_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>

#define BL_JSON_SCHEMA_DEPTH_MAX 64     /* deepest schema nesting and instance nesting walked */
#define BL_JSON_SCHEMA_PROBLEMS_MAX 100 /* problems reported per validation */

typedef struct bl_json_schema bl_json_schema;

/* Compiles schema (an object or a boolean; borrowed, the compiled schema
 * keeps its own reference). Errors give the schema path:
 * "/properties/age/minimum: must be a number", "/foo: unknown keyword
 * \"foo\" (not in the supported subset)". Returns the schema (free with
 * bl_json_schema_free) or NULL with err (BL_EINVAL, BL_ENOMEM). */
bl_json_schema *bl_json_schema_compile(const json_t *schema, bl_err *err);

void bl_json_schema_free(bl_json_schema *s);

/* Validates instance (borrowed). Returns a new JSON array of problems, empty
 * when valid: {"instancePath": "/items/0/price" (JSON Pointer, "" for the
 * root), "schemaPath": "/properties/items/items/minimum", "keyword":
 * "minimum", "message": "-1 is less than the minimum 0"}; at most
 * BL_JSON_SCHEMA_PROBLEMS_MAX. NULL only when out of memory. */
json_t *bl_json_schema_validate(const bl_json_schema *s, const json_t *instance);

/* Formats the first problem of problems as "<instancePath>: <message>"
 * ("/age: ..."; "(root): ..." for the root) into err with code BL_EINVAL,
 * prefixed with what; adds "(and N more)". Returns -1. */
int bl_json_schema_problems_err(const json_t *problems, const char *what, bl_err *err);

/* JSON equality as JSON Schema defines it (enum, const, uniqueItems) and the
 * test cases use: numbers by value (1 == 1.0), objects regardless of key
 * order. */
bool bl_json_schema_values_equal(const json_t *a, const json_t *b);

#endif
