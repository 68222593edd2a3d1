/* The compiled TransformationRule, shared by transform.c (compile, apply,
 * test cases, chains) and transform_steps.c (what each type does). */
#ifndef BUSLINE_CONNECTORS_TRANSFORM_TRANSFORM_INTERNAL_H
#define BUSLINE_CONNECTORS_TRANSFORM_TRANSFORM_INTERNAL_H

#include "connectors/transform/expr.h"
#include "connectors/transform/json_schema.h"
#include "connectors/transform/transform.h"

typedef enum tx_type { TX_TYPE_MAP, TX_TYPE_FILTER, TX_TYPE_AGGREGATE, TX_TYPE_VALIDATE, TX_TYPE_CUSTOM } tx_type;

typedef enum tx_op {
    TX_OP_SET,      /* map, custom */
    TX_OP_DELETE,   /* custom */
    TX_OP_KEEP,     /* filter */
    TX_OP_DROP,     /* filter */
    TX_OP_PASS,     /* filter */
    TX_OP_GROUP_BY, /* aggregate */
    TX_OP_COUNT,
    TX_OP_SUM,
    TX_OP_AVG,
    TX_OP_MIN,
    TX_OP_MAX,
    TX_OP_ASSERT, /* validate */
    TX_OP_REPORT,
} tx_op;

typedef struct tx_step {
    tx_op op;
    const char *op_name; /* static */
    bl_tx_expr *source;    /* NULL when not given */
    bl_tx_expr *target;    /* NULL when not given */
    bl_tx_expr *condition; /* NULL when not given */
    bl_tx_expr *key;       /* groupBy: parameters.key */
    json_t *fallback;      /* map: parameters.default (own reference) */
    bl_json_schema *schema; /* validate: parameters.schema */
} tx_step;

struct bl_transform {
    char *id, *name, *type_name;
    tx_type type;
    bl_json_schema *input_schema, *output_schema;
    tx_step *steps;
    size_t n_steps;
    json_t *tests; /* testCases (own reference), or NULL */
};

/* Checks the steps of t->type (compile time), filling the type-specific
 * fields from steps (the rule's rules array, borrowed). Errors name
 * "rules[i]...". Returns 0 or -1 with err. */
int bl_tx_steps_check(bl_transform *t, const json_t *steps, bl_err *err);

/* Runs t's steps on input (borrowed, already checked against inputSchema).
 * Returns 0 with *out (new reference; *dropped true when a filter's pass
 * dropped the input, *out then JSON null), or -1 with err; a validate step's
 * refusal also gives *problems (new reference) when problems is non-NULL. */
int bl_tx_steps_run(const bl_transform *t, const json_t *input, const bl_transform_ctx *ctx, json_t **out,
                    bool *dropped, json_t **problems, bl_err *err);

#endif
