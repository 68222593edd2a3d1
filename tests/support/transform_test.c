/* Helpers for the transformation engine's tests. */
#include "tests/support/transform_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *bl_tt_json(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!v)
        fprintf(stderr, "  bad test JSON at %d:%d (%s): %s\n", jerr.line, jerr.column, jerr.text, text);
    return v;
}

bl_transform *bl_tt_compile(const char *rule_text, bl_err *err)
{
    json_t *rule = bl_tt_json(rule_text);
    if (!rule)
        return NULL;
    bl_transform *t = bl_transform_compile(rule, err);
    json_decref(rule);
    return t;
}

static bool has(const char *what, const char *got, const char *want)
{
    if (strstr(got, want))
        return true;
    fprintf(stderr, "  %s: got \"%s\", want \"%s\"\n", what, got, want);
    return false;
}

bool bl_tt_compile_fails(const char *rule_text, const char *want)
{
    bl_err err = {0};
    bl_transform *t = bl_tt_compile(rule_text, &err);
    if (t) {
        fprintf(stderr, "  rule compiled, want an error \"%s\": %s\n", want, rule_text);
        bl_transform_free(t);
        return false;
    }
    return has("compile error", err.msg, want);
}

bool bl_tt_tests_pass(const char *rule_text)
{
    bl_err err = {0};
    bl_transform *t = bl_tt_compile(rule_text, &err);
    if (!t) {
        fprintf(stderr, "  rule: %s\n", err.msg);
        return false;
    }
    json_t *failures = NULL;
    int n = bl_transform_run_tests(t, &failures);
    if (n != 0) {
        char *f = failures ? json_dumps(failures, JSON_COMPACT) : NULL;
        fprintf(stderr, "  %d test cases failed: %s\n", n, f ? f : "?");
        free(f);
    }
    bool ok = n == 0 && bl_transform_test_count(t) > 0;
    json_decref(failures);
    bl_transform_free(t);
    return ok;
}

static bool same(const json_t *got, const char *want_text)
{
    json_t *want = bl_tt_json(want_text);
    bool ok = want && bl_json_schema_values_equal(got, want);
    if (!ok) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        fprintf(stderr, "  got %s, want %s\n", g ? g : "(missing)", want_text);
        free(g);
    }
    json_decref(want);
    return ok;
}

bool bl_tt_applies(const char *rule_text, const char *input, const char *want, const char *now)
{
    bl_err err = {0};
    bl_transform *t = bl_tt_compile(rule_text, &err);
    json_t *in = bl_tt_json(input);
    if (!t || !in) {
        fprintf(stderr, "  rule: %s\n", err.msg);
        bl_transform_free(t);
        json_decref(in);
        return false;
    }
    bl_transform_ctx ctx = {.now = now};
    json_t *out = bl_transform_apply_ex(t, in, &ctx, NULL, &err);
    bool ok = out ? same(out, want) : (fprintf(stderr, "  apply: %s\n", err.msg), false);
    json_decref(out);
    json_decref(in);
    bl_transform_free(t);
    return ok;
}

bool bl_tt_apply_fails(const char *rule_text, const char *input, const char *want)
{
    bl_err err = {0};
    bl_transform *t = bl_tt_compile(rule_text, &err);
    json_t *in = bl_tt_json(input);
    bool ok = false;
    if (!t || !in) {
        fprintf(stderr, "  rule: %s\n", err.msg);
    } else {
        json_t *out = bl_transform_apply(t, in, &err);
        if (out) {
            char *g = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
            fprintf(stderr, "  applied (%s), want the error \"%s\"\n", g ? g : "?", want);
            free(g);
            json_decref(out);
        } else {
            ok = has("apply error", err.msg, want);
        }
    }
    json_decref(in);
    bl_transform_free(t);
    return ok;
}

bool bl_tt_evaluates(const char *expr, const char *root, const char *want)
{
    bl_err err = {0};
    bl_tx_expr *e = bl_tx_expr_compile(expr, &err);
    json_t *r = bl_tt_json(root), *out = NULL;
    bool ok = false;
    if (!e || !r) {
        fprintf(stderr, "  %s: %s\n", expr, err.msg);
    } else if (bl_tx_expr_eval(e, &(bl_tx_scope){.root = r}, &out, &err) != 0) {
        fprintf(stderr, "  %s: %s\n", expr, err.msg);
    } else if (!want) {
        ok = out == NULL;
        if (!ok)
            fprintf(stderr, "  %s: want missing\n", expr);
    } else {
        ok = out && same(out, want);
        if (!out)
            fprintf(stderr, "  %s: missing, want %s\n", expr, want);
    }
    json_decref(out);
    json_decref(r);
    bl_tx_expr_free(e);
    return ok;
}

bool bl_tt_expr_fails(const char *expr, const char *root, const char *want)
{
    bl_err err = {0};
    bl_tx_expr *e = bl_tx_expr_compile(expr, &err);
    bool ok = false;
    if (!e) {
        ok = !root && has(expr, err.msg, want);
        if (root)
            fprintf(stderr, "  %s: did not compile (%s); want a runtime error\n", expr, err.msg);
        return ok;
    }
    if (!root) {
        fprintf(stderr, "  %s: compiled, want \"%s\"\n", expr, want);
        bl_tx_expr_free(e);
        return false;
    }
    json_t *r = bl_tt_json(root), *out = NULL;
    if (r && bl_tx_expr_eval(e, &(bl_tx_scope){.root = r}, &out, &err) != 0)
        ok = has(expr, err.msg, want);
    else
        fprintf(stderr, "  %s: evaluated, want \"%s\"\n", expr, want);
    json_decref(out);
    json_decref(r);
    bl_tx_expr_free(e);
    return ok;
}
