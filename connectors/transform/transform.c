/* TransformationRule: compile (shape, steps, schemas, test cases), apply
 * (inputSchema, the type's steps, size bound, outputSchema), test cases,
 * and chains of rules. */
#include "connectors/transform/transform_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {"map", "filter", "aggregate", "validate", "custom"};

static const char *const rule_keys[] = {"id",          "name",      "type", "inputSchema", "outputSchema",
                                        "rules",       "testCases", "description", NULL};
static const char *const step_keys[] = {"operation", "source", "target", "condition", "parameters", NULL};
static const char *const case_keys[] = {"name", "input", "expectedOutput", "description", NULL};

static bool key_known(const char *const *keys, const char *k)
{
    for (size_t i = 0; keys[i]; i++)
        if (strcmp(keys[i], k) == 0)
            return true;
    return false;
}

/* Refuses a key of obj not in keys: "<where>: unknown key \"x\" (...)". */
static int check_keys(const json_t *obj, const char *const *keys, const char *where, bl_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (!key_known(keys, k)) {
            char list[160] = "";
            for (size_t i = 0; keys[i]; i++) {
                size_t o = strlen(list);
                snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", keys[i]);
            }
            return bl_err_set(err, BL_EINVAL, "%s: unknown key \"%.40s\" (one of %s)", where, k, list);
        }
    }
    return 0;
}

static void step_clear(tx_step *s)
{
    bl_tx_expr_free(s->source);
    bl_tx_expr_free(s->target);
    bl_tx_expr_free(s->condition);
    bl_tx_expr_free(s->key);
    json_decref(s->fallback);
    bl_json_schema_free(s->schema);
}

void bl_transform_free(bl_transform *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_steps; i++)
        step_clear(&t->steps[i]);
    free(t->steps);
    bl_json_schema_free(t->input_schema);
    bl_json_schema_free(t->output_schema);
    json_decref(t->tests);
    free(t->id);
    free(t->name);
    free(t->type_name);
    free(t);
}

static int optional_string(const json_t *rule, const char *key, char **out, bl_err *err)
{
    const json_t *v = json_object_get(rule, key);
    if (v && !json_is_string(v))
        return bl_err_set(err, BL_EINVAL, "%s: a string is required", key);
    if (!(*out = strdup(v ? json_string_value(v) : "")))
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    return 0;
}

static int optional_schema(const json_t *rule, const char *key, bl_json_schema **out, bl_err *err)
{
    const json_t *v = json_object_get(rule, key);
    if (!v || json_is_null(v))
        return 0;
    if (!(*out = bl_json_schema_compile(v, err)))
        return bl_err_wrap(err, "%s", key);
    return 0;
}

static int compile_expr(const json_t *step, const char *key, size_t i, bl_tx_expr **out, bl_err *err)
{
    const json_t *v = json_object_get(step, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return bl_err_set(err, BL_EINVAL, "rules[%zu].%s: an expression string is required", i, key);
    if (!(*out = bl_tx_expr_compile(json_string_value(v), err)))
        return bl_err_wrap(err, "rules[%zu].%s", i, key);
    return 0;
}

static int compile_tests(bl_transform *t, const json_t *cases, bl_err *err)
{
    if (!cases || json_is_null(cases))
        return 0;
    if (!json_is_array(cases))
        return bl_err_set(err, BL_EINVAL, "testCases: an array is required");
    if (json_array_size(cases) > BL_TRANSFORM_MAX_TEST_CASES)
        return bl_err_set(err, BL_EINVAL, "testCases: at most %d", BL_TRANSFORM_MAX_TEST_CASES);
    size_t i;
    const json_t *c;
    json_array_foreach(cases, i, c) {
        char where[48];
        snprintf(where, sizeof where, "testCases[%zu]", i);
        if (!json_is_object(c))
            return bl_err_set(err, BL_EINVAL, "%s: an object is required", where);
        if (check_keys(c, case_keys, where, err) != 0)
            return -1;
        if (!json_object_get(c, "input"))
            return bl_err_set(err, BL_EINVAL, "%s: input is required", where);
        if (!json_object_get(c, "expectedOutput"))
            return bl_err_set(err, BL_EINVAL, "%s: expectedOutput is required", where);
        const json_t *name = json_object_get(c, "name");
        if (name && !json_is_string(name))
            return bl_err_set(err, BL_EINVAL, "%s.name: a string is required", where);
    }
    t->tests = json_incref((json_t *)cases);
    return 0;
}

static int compile_rule(bl_transform *t, const json_t *rule, bl_err *err)
{
    if (!json_is_object(rule))
        return bl_err_set(err, BL_EINVAL, "a TransformationRule object is required");
    if (check_keys(rule, rule_keys, "rule", err) != 0)
        return -1;
    if (optional_string(rule, "id", &t->id, err) != 0 || optional_string(rule, "name", &t->name, err) != 0)
        return -1;
    const char *type = json_string_value(json_object_get(rule, "type"));
    size_t ty = 0;
    while (type && ty < sizeof type_names / sizeof type_names[0] && strcmp(type, type_names[ty]) != 0)
        ty++;
    if (!type || ty == sizeof type_names / sizeof type_names[0])
        return bl_err_set(err, BL_EINVAL, "type: one of map, filter, aggregate, validate, custom is required");
    t->type = (tx_type)ty;
    if (!(t->type_name = strdup(type)))
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    if (optional_schema(rule, "inputSchema", &t->input_schema, err) != 0 ||
        optional_schema(rule, "outputSchema", &t->output_schema, err) != 0)
        return -1;
    const json_t *steps = json_object_get(rule, "rules");
    if (steps && !json_is_array(steps))
        return bl_err_set(err, BL_EINVAL, "rules: an array of steps is required");
    size_t n = steps ? json_array_size(steps) : 0;
    if (n > BL_TRANSFORM_MAX_STEPS)
        return bl_err_set(err, BL_EINVAL, "rules: at most %d steps", BL_TRANSFORM_MAX_STEPS);
    if (!(t->steps = calloc(n + 1, sizeof *t->steps)))
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(steps, i);
        tx_step *st = &t->steps[i];
        t->n_steps++;
        char where[32];
        snprintf(where, sizeof where, "rules[%zu]", i);
        if (!json_is_object(s))
            return bl_err_set(err, BL_EINVAL, "%s: a step object is required", where);
        if (check_keys(s, step_keys, where, err) != 0)
            return -1;
        if (!json_is_string(json_object_get(s, "operation")))
            return bl_err_set(err, BL_EINVAL, "%s.operation: a string is required", where);
        const json_t *params = json_object_get(s, "parameters");
        if (params && !json_is_object(params) && !json_is_null(params))
            return bl_err_set(err, BL_EINVAL, "%s.parameters: an object is required", where);
        if (compile_expr(s, "source", i, &st->source, err) != 0 || compile_expr(s, "target", i, &st->target, err) != 0 ||
            compile_expr(s, "condition", i, &st->condition, err) != 0)
            return -1;
        if (st->target && bl_tx_target_check(st->target, err) != 0)
            return bl_err_wrap(err, "%s", where);
    }
    if (bl_tx_steps_check(t, steps, err) != 0)
        return -1;
    return compile_tests(t, json_object_get(rule, "testCases"), err);
}

bl_transform *bl_transform_compile(const json_t *rule, bl_err *err)
{
    bl_transform *t = calloc(1, sizeof *t);
    if (!t) {
        bl_err_set(err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    if (compile_rule(t, rule, err) != 0) {
        bl_transform_free(t);
        return NULL;
    }
    return t;
}

const char *bl_transform_id(const bl_transform *t)
{
    return t && t->id ? t->id : "";
}

const char *bl_transform_name(const bl_transform *t)
{
    return t && t->name ? t->name : "";
}

const char *bl_transform_type(const bl_transform *t)
{
    return t && t->type_name ? t->type_name : "";
}

size_t bl_transform_test_count(const bl_transform *t)
{
    return t && t->tests ? json_array_size(t->tests) : 0;
}

/* Adds "stage" to every problem and hands the array to *problems. */
static void give_problems(json_t *list, const char *stage, json_t **problems)
{
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p) {
        json_object_set_new(p, "stage", json_string(stage));
    }
    if (problems)
        *problems = json_incref(list);
}

static int check_schema(const bl_json_schema *s, const json_t *v, const char *stage, json_t **problems, bl_err *err)
{
    if (!s)
        return 0;
    json_t *list = bl_json_schema_validate(s, v);
    if (!list)
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    int rc = 0;
    if (json_array_size(list) > 0) {
        rc = bl_json_schema_problems_err(list, stage, err);
        give_problems(list, stage, problems);
    }
    json_decref(list);
    return rc;
}

json_t *bl_transform_apply_ex(const bl_transform *t, const json_t *input, const bl_transform_ctx *ctx,
                              json_t **problems, bl_err *err)
{
    if (problems)
        *problems = NULL;
    if (!t || !input) {
        bl_err_set(err, BL_EINVAL, "transform: no rule or no input");
        return NULL;
    }
    if (check_schema(t->input_schema, input, "inputSchema", problems, err) != 0)
        return NULL;
    json_t *out = NULL, *step_problems = NULL;
    bool dropped = false;
    if (bl_tx_steps_run(t, input, ctx, &out, &dropped, problems ? &step_problems : NULL, err) != 0) {
        if (step_problems)
            give_problems(step_problems, "validate", problems);
        json_decref(step_problems);
        return NULL;
    }
    size_t size = json_dumpb(out, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    if (size > BL_TRANSFORM_OUTPUT_MAX) {
        json_decref(out);
        bl_err_set(err, BL_EINVAL, "output larger than %d bytes", BL_TRANSFORM_OUTPUT_MAX);
        return NULL;
    }
    if (!dropped && check_schema(t->output_schema, out, "outputSchema", problems, err) != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *bl_transform_apply(const bl_transform *t, const json_t *input, bl_err *err)
{
    return bl_transform_apply_ex(t, input, NULL, NULL, err);
}

int bl_transform_run_tests(const bl_transform *t, json_t **failures)
{
    if (failures)
        *failures = NULL;
    json_t *list = json_array();
    if (!list)
        return -1;
    size_t i;
    const json_t *c;
    json_array_foreach(t ? t->tests : NULL, i, c) {
        const json_t *input = json_object_get(c, "input"), *want = json_object_get(c, "expectedOutput");
        bl_err err = {0};
        json_t *got = bl_transform_apply(t, input, &err);
        if (got && bl_json_schema_values_equal(got, want)) {
            json_decref(got);
            continue;
        }
        if (!got && err.code == BL_ENOMEM) {
            json_decref(list);
            return -1;
        }
        const json_t *name = json_object_get(c, "name");
        json_t *f = json_pack("{s:I, s:O, s:O, s:O, s:o, s:o}", "index", (json_int_t)i, "name",
                              name ? (json_t *)name : json_null(), "input", (json_t *)input, "expected", (json_t *)want,
                              "actual", got ? got : json_null(), "error", got ? json_null() : json_string(err.msg));
        if (!f || json_array_append_new(list, f) != 0) {
            json_decref(list);
            return -1;
        }
    }
    int n = (int)json_array_size(list);
    if (n > 0 && failures)
        *failures = list;
    else
        json_decref(list);
    return n;
}

/* --- chains --- */

struct bl_transform_chain {
    bl_transform **rules;
    size_t n;
};

void bl_transform_chain_free(bl_transform_chain *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        bl_transform_free(c->rules[i]);
    free(c->rules);
    free(c);
}

static void wrap_rule(bl_err *err, size_t i, const bl_transform *t)
{
    if (t && *bl_transform_id(t))
        bl_err_wrap(err, "transformations[%zu] (id %.60s)", i, bl_transform_id(t));
    else
        bl_err_wrap(err, "transformations[%zu]", i);
}

bl_transform_chain *bl_transform_chain_compile(const json_t *rules, bl_err *err)
{
    if (rules && !json_is_null(rules) && !json_is_array(rules)) {
        bl_err_set(err, BL_EINVAL, "transformations: an array is required");
        return NULL;
    }
    size_t n = json_is_array(rules) ? json_array_size(rules) : 0;
    if (n > BL_TRANSFORM_MAX_CHAIN) {
        bl_err_set(err, BL_EINVAL, "transformations: at most %d", BL_TRANSFORM_MAX_CHAIN);
        return NULL;
    }
    bl_transform_chain *c = calloc(1, sizeof *c);
    if (c)
        c->rules = calloc(n + 1, sizeof *c->rules);
    if (!c || !c->rules) {
        free(c);
        bl_err_set(err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *r = json_array_get(rules, i);
        bl_transform *t = bl_transform_compile(r, err);
        if (!t) {
            const char *id = json_string_value(json_object_get(r, "id"));
            if (id && *id)
                bl_err_wrap(err, "transformations[%zu] (id %.60s)", i, id);
            else
                bl_err_wrap(err, "transformations[%zu]", i);
            bl_transform_chain_free(c);
            return NULL;
        }
        c->rules[c->n++] = t;
        if (*t->id && bl_transform_chain_find(c, t->id) != t) {
            bl_err_set(err, BL_EINVAL, "transformations[%zu]: id \"%.60s\" is used twice", i, t->id);
            bl_transform_chain_free(c);
            return NULL;
        }
    }
    return c;
}

size_t bl_transform_chain_count(const bl_transform_chain *c)
{
    return c ? c->n : 0;
}

const bl_transform *bl_transform_chain_at(const bl_transform_chain *c, size_t i)
{
    return c && i < c->n ? c->rules[i] : NULL;
}

const bl_transform *bl_transform_chain_find(const bl_transform_chain *c, const char *id)
{
    for (size_t i = 0; c && id && *id && i < c->n; i++)
        if (strcmp(c->rules[i]->id, id) == 0)
            return c->rules[i];
    return NULL;
}

json_t *bl_transform_chain_apply(const bl_transform_chain *c, const json_t *input, const bl_transform_ctx *ctx,
                                 json_t **problems, bl_err *err)
{
    if (problems)
        *problems = NULL;
    if (!input) {
        bl_err_set(err, BL_EINVAL, "transformations: no input");
        return NULL;
    }
    json_t *cur = json_incref((json_t *)input);
    for (size_t i = 0; c && i < c->n; i++) {
        json_t *list = NULL;
        json_t *next = bl_transform_apply_ex(c->rules[i], cur, ctx, problems ? &list : NULL, err);
        json_decref(cur);
        if (!next) {
            wrap_rule(err, i, c->rules[i]);
            size_t k;
            json_t *p;
            json_array_foreach(list, k, p) {
                json_object_set_new(p, "rule", json_integer((json_int_t)i));
            }
            if (problems)
                *problems = list;
            else
                json_decref(list);
            return NULL;
        }
        cur = next;
    }
    return cur;
}

int bl_transform_chain_run_tests(const bl_transform_chain *c, json_t **failures)
{
    if (failures)
        *failures = NULL;
    json_t *all = json_array();
    if (!all)
        return -1;
    for (size_t i = 0; c && i < c->n; i++) {
        json_t *list = NULL;
        int n = bl_transform_run_tests(c->rules[i], &list);
        if (n < 0) {
            json_decref(all);
            return -1;
        }
        size_t k;
        json_t *f;
        json_array_foreach(list, k, f) {
            json_object_set_new(f, "rule", json_integer((json_int_t)i));
            json_object_set_new(f, "ruleId", json_string(c->rules[i]->id));
        }
        if (list && json_array_extend(all, list) != 0) {
            json_decref(list);
            json_decref(all);
            return -1;
        }
        json_decref(list);
    }
    int n = (int)json_array_size(all);
    if (n > 0 && failures)
        *failures = all;
    else
        json_decref(all);
    return n;
}
