/* Helpers for the transformation engine's tests (tests/unit/test_transform_*.c):
 * JSON from text, a rule compiled from text, and checks that name what they
 * expected when they fail. */
#ifndef BUSLINE_TESTS_TRANSFORM_TEST_H
#define BUSLINE_TESTS_TRANSFORM_TEST_H

#include "connectors/transform/expr.h"
#include "connectors/transform/json_schema.h"
#include "connectors/transform/transform.h"

#include <stdbool.h>

/* Parses JSON text (any value); NULL (and a message on stderr) when it is not JSON. */
json_t *bl_tt_json(const char *text);

/* Compiles the rule in text; NULL with err. */
bl_transform *bl_tt_compile(const char *rule_text, bl_err *err);

/* True when compiling the rule fails with a message containing want (prints
 * what it got when not). */
bool bl_tt_compile_fails(const char *rule_text, const char *want);

/* True when the rule compiles, has at least one test case and all of its
 * test cases pass (prints the compile error or the failures when not). */
bool bl_tt_tests_pass(const char *rule_text);

/* True when applying the rule to input gives want (JSON texts; prints the
 * output or the error when not). now: for now(), may be NULL. */
bool bl_tt_applies(const char *rule_text, const char *input, const char *want, const char *now);

/* True when applying the rule to input fails with a message containing want. */
bool bl_tt_apply_fails(const char *rule_text, const char *input, const char *want);

/* True when expr evaluates over root (JSON text) to want (JSON text, or NULL
 * for missing). */
bool bl_tt_evaluates(const char *expr, const char *root, const char *want);

/* True when expr fails to compile (or, when root is non-NULL, to evaluate
 * over root) with a message containing want. */
bool bl_tt_expr_fails(const char *expr, const char *root, const char *want);

#endif
