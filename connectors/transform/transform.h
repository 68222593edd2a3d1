/* The transformation engine: one TransformationRule of the custom-API design
 * document (seeds/002), compiled once and applied to JSON values.
 *
 *   {"id": "t1", "name": "order summary", "type": "map",
 *    "inputSchema": {...JSON Schema...}, "outputSchema": {...},
 *    "rules": [{"operation": "set", "source": "$.customer.name",
 *               "target": "$.customer", "condition": "$.customer != null",
 *               "parameters": {"default": "anonymous"}}],
 *    "testCases": [{"name": "n", "input": {...}, "expectedOutput": {...},
 *                   "description": "..."}]}
 *
 * type is map | filter | aggregate | validate | custom; rules are its
 * TransformationSteps {operation, source, target, condition?, parameters?};
 * sources and conditions are expressions of the engine's language
 * (connectors/transform/expr.h), targets are paths. inputSchema and
 * outputSchema (optional) are checked on every apply. What each type's
 * operations mean: connectors/transform/README.md. A compiled transform is
 * read-only once compiled: many threads may apply it at once. */
#ifndef BUSLINE_CONNECTORS_TRANSFORM_TRANSFORM_H
#define BUSLINE_CONNECTORS_TRANSFORM_TRANSFORM_H

#include "core/err.h"

#include <jansson.h>
#include <stddef.h>

#define BL_TRANSFORM_MAX_STEPS 64       /* rules[] of one TransformationRule */
#define BL_TRANSFORM_MAX_TEST_CASES 64  /* testCases[] of one rule */
#define BL_TRANSFORM_MAX_CHAIN 32       /* rules in one chain */
#define BL_TRANSFORM_OUTPUT_MAX (1024 * 1024) /* largest output, as compact JSON bytes */

/* What the caller lends an apply. now: an RFC 3339 time that the expression
 * function now() returns (NULL: now() fails, so a rule stays a function of
 * its input). Borrowed for the call. */
typedef struct bl_transform_ctx {
    const char *now;
} bl_transform_ctx;

typedef struct bl_transform bl_transform;

/* Compiles one TransformationRule (borrowed; the transform keeps what it
 * needs). Every expression, path, schema and step is checked here; errors
 * name the path of the problem: "rules[2].source: at offset 7: expected ')'",
 * "inputSchema: /properties/age/minimum: not a number". Returns the transform
 * (free with bl_transform_free) or NULL with err (BL_EINVAL, BL_ENOMEM). */
bl_transform *bl_transform_compile(const json_t *rule, bl_err *err);

/* Frees t. Accepts NULL. */
void bl_transform_free(bl_transform *t);

/* The rule's id, name and type (borrowed from t; "" when the rule had none). */
const char *bl_transform_id(const bl_transform *t);
const char *bl_transform_name(const bl_transform *t);
const char *bl_transform_type(const bl_transform *t);

/* bl_transform_apply_ex with no ctx and no problem list. */
json_t *bl_transform_apply(const bl_transform *t, const json_t *input, bl_err *err);

/* Checks input (borrowed) against inputSchema, runs the steps, checks the
 * result against outputSchema. ctx may be NULL. A filter that drops the
 * whole input returns JSON null. Returns a new reference, or NULL with err
 * ("inputSchema: /age: 3 is less than the minimum 18", "rules[1]: ...");
 * when problems is non-NULL and a schema refused the value, *problems
 * receives (new reference) the array of bl_json_schema_validate problems
 * plus "stage": "inputSchema" | "outputSchema" | "validate"; else NULL. */
json_t *bl_transform_apply_ex(const bl_transform *t, const json_t *input, const bl_transform_ctx *ctx,
                              json_t **problems, bl_err *err);

/* Runs every testCase: applies input (no ctx) and compares the result with
 * expectedOutput (JSON equality; numbers compare by value, 1 == 1.0).
 * Returns 0 when all pass (*failures = NULL), the number of failures with
 * *failures a new JSON array of {"index", "name", "input", "expected",
 * "actual" (null when the apply failed), "error" (null, or the message)},
 * or -1 when out of memory. failures may be NULL. */
int bl_transform_run_tests(const bl_transform *t, json_t **failures);

/* How many testCases t holds. */
size_t bl_transform_test_count(const bl_transform *t);

/* --- chains: an endpoint's transformations[], applied in order --- */

typedef struct bl_transform_chain bl_transform_chain;

/* Compiles an array of TransformationRules (borrowed; NULL or [] gives the
 * identity chain). Errors name the rule: "transformations[1] (id t2):
 * rules[0].source: ...". Ids, when given, must be unique. Returns the chain
 * (free with bl_transform_chain_free) or NULL with err. */
bl_transform_chain *bl_transform_chain_compile(const json_t *rules, bl_err *err);

void bl_transform_chain_free(bl_transform_chain *c);

size_t bl_transform_chain_count(const bl_transform_chain *c);

/* Rule i of the chain (borrowed), or NULL when i is out of range. */
const bl_transform *bl_transform_chain_at(const bl_transform_chain *c, size_t i);

/* The rule with this id (borrowed), or NULL. */
const bl_transform *bl_transform_chain_find(const bl_transform_chain *c, const char *id);

/* Applies each rule to the previous one's output, the first to input
 * (borrowed). Errors name the rule: "transformations[1] (id t2): ...";
 * problems as in bl_transform_apply_ex (each problem also gets "rule": its
 * index). Returns a new reference or NULL with err. */
json_t *bl_transform_chain_apply(const bl_transform_chain *c, const json_t *input,
                                 const bl_transform_ctx *ctx, json_t **problems, bl_err *err);

/* Runs the test cases of every rule. Returns 0 when all pass, else the
 * number of failures with *failures a JSON array of the failure objects of
 * bl_transform_run_tests, each with "rule" (index) and "ruleId"; -1 when out
 * of memory. failures may be NULL. */
int bl_transform_chain_run_tests(const bl_transform_chain *c, json_t **failures);

/* One failure object of bl_transform_run_tests (borrowed) as a sentence into
 * out: 'test case "n" failed: expected {...}, got {...}' (each value cut at
 * 150 bytes) or 'test case "n" failed: <error>'. */
void bl_transform_failure_text(const json_t *failure, char *out, size_t len);

#endif
