/* libFuzzer target for the transformation engine (connectors/transform):
 * the expression parser and evaluator, and TransformationRules compiled and
 * applied, as a custom endpoint's definition and its callers bring them.
 *   part 1 (to a NUL)   an expression
 *   part 2 (to a NUL)   a TransformationRule JSON (may be empty)
 *   the rest            the input JSON
 * Besides sanitizer reports, it aborts when an evaluation or an apply is not
 * a function of its input (two runs differ), when a compiled expression
 * forgets its text, when an output passes BL_TRANSFORM_OUTPUT_MAX, or when
 * an apply changes its input. Built and run by tests/fuzz/run.sh. */
#include "connectors/transform/expr.h"
#include "connectors/transform/json_schema.h"
#include "connectors/transform/transform.h"
#include "support/fuzz_input.h"

#include <string.h>

static bool same(const json_t *a, const json_t *b)
{
    return (!a && !b) || (a && b && bl_json_schema_values_equal(a, b));
}

static void check_expression(const char *text, const json_t *input)
{
    bl_err err = {0};
    bl_tx_expr *e = bl_tx_expr_compile(text, &err);
    if (!e)
        return;
    if (strcmp(bl_tx_expr_source(e), text) != 0)
        fuzz_finding("a compiled expression forgets its text", text);
    bl_transform_ctx ctx = {.now = "2026-12-07T08:00:00Z"};
    bl_tx_scope sc = {.root = input, .current = json_array_get(input, 0), .ctx = &ctx};
    json_t *once = NULL, *twice = NULL;
    int rc1 = bl_tx_expr_eval(e, &sc, &once, &err), rc2 = bl_tx_expr_eval(e, &sc, &twice, &err);
    if (rc1 != rc2 || !same(once, twice))
        fuzz_finding("an expression evaluates two ways for one input", text);
    json_decref(once);
    json_decref(twice);
    bl_tx_expr_free(e);
}

static void check_rule(const json_t *rule, const json_t *input)
{
    bl_err err = {0};
    bl_transform *t = bl_transform_compile(rule, &err);
    if (!t)
        return;
    json_t *before = json_deep_copy(input);
    json_t *once = bl_transform_apply(t, input, &err), *twice = bl_transform_apply(t, input, &err);
    if (!same(once, twice))
        fuzz_finding("a rule applies two ways to one input", NULL);
    if (before && !bl_json_schema_values_equal(before, input))
        fuzz_finding("applying a rule changed its input", NULL);
    if (once && json_dumpb(once, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY) > BL_TRANSFORM_OUTPUT_MAX)
        fuzz_finding("an output passed BL_TRANSFORM_OUTPUT_MAX", NULL);
    (void)bl_transform_run_tests(t, NULL);
    json_decref(once);
    json_decref(twice);
    json_decref(before);
    bl_transform_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parts p;
    if (fuzz_parts_split(data, size, 3, &p) != 0)
        return 0;
    json_t *input = json_loadb(p.part[2], p.len[2], JSON_DECODE_ANY, NULL);
    if (!input)
        input = json_null();
    check_expression(p.part[0], input);
    /* the expression as a custom rule's source and a filter's condition */
    json_t *as_rule = json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "type", "custom", "rules", "operation", "set", "source",
                                p.part[0], "target", "$.out");
    if (as_rule)
        check_rule(as_rule, input);
    json_decref(as_rule);
    json_t *rule = json_loads(p.part[1], 0, NULL);
    if (rule)
        check_rule(rule, input);
    json_decref(rule);
    json_t *schema = json_loads(p.part[1], 0, NULL);
    bl_err err = {0};
    bl_json_schema *s = schema ? bl_json_schema_compile(schema, &err) : NULL;
    if (s)
        json_decref(bl_json_schema_validate(s, input));
    bl_json_schema_free(s);
    json_decref(schema);
    json_decref(input);
    fuzz_parts_free(&p);
    return 0;
}
