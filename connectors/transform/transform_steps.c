/* What each TransformationRule type does with its steps
 * (connectors/transform/README.md has the table):
 *   map       set: target := source, over a new object; parameters.default
 *   filter    keep | drop: an array's items by condition (@ the item);
 *             pass: the whole input, or null when the condition fails
 *   aggregate groupBy (first, at most once), count, sum, avg, min, max
 *   validate  assert | report: a JSON Schema (parameters.schema) on source
 *   custom    set | delete, in order, over a copy of the input */
#include "connectors/transform/transform_internal.h"

#include "consumers/event_filter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct op_def {
    tx_type type;
    const char *name;
    tx_op op;
    const char *param; /* the one parameter it takes, or NULL */
} op_def;

static const op_def op_defs[] = {
    {TX_TYPE_MAP, "set", TX_OP_SET, "default"},        {TX_TYPE_CUSTOM, "set", TX_OP_SET, NULL},
    {TX_TYPE_CUSTOM, "delete", TX_OP_DELETE, NULL},    {TX_TYPE_FILTER, "keep", TX_OP_KEEP, NULL},
    {TX_TYPE_FILTER, "drop", TX_OP_DROP, NULL},        {TX_TYPE_FILTER, "pass", TX_OP_PASS, NULL},
    {TX_TYPE_AGGREGATE, "groupBy", TX_OP_GROUP_BY, "key"}, {TX_TYPE_AGGREGATE, "count", TX_OP_COUNT, NULL},
    {TX_TYPE_AGGREGATE, "sum", TX_OP_SUM, NULL},       {TX_TYPE_AGGREGATE, "avg", TX_OP_AVG, NULL},
    {TX_TYPE_AGGREGATE, "min", TX_OP_MIN, NULL},       {TX_TYPE_AGGREGATE, "max", TX_OP_MAX, NULL},
    {TX_TYPE_VALIDATE, "assert", TX_OP_ASSERT, "schema"}, {TX_TYPE_VALIDATE, "report", TX_OP_REPORT, "schema"},
};
#define OP_DEF_COUNT (sizeof op_defs / sizeof op_defs[0])

static const char *ops_of(tx_type type, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < OP_DEF_COUNT; i++) {
        if (op_defs[i].type != type)
            continue;
        size_t o = strlen(buf);
        snprintf(buf + o, cap - o, "%s%s", o ? ", " : "", op_defs[i].name);
    }
    return buf;
}

/* Compiles "$" (a default target or source). */
static bl_tx_expr *root_path(bl_err *err)
{
    return bl_tx_expr_compile("$", err);
}

static int check_step(bl_transform *t, size_t i, const json_t *spec, bl_err *err)
{
    tx_step *s = &t->steps[i];
    const char *name = json_string_value(json_object_get(spec, "operation"));
    const op_def *def = NULL;
    for (size_t d = 0; d < OP_DEF_COUNT && !def; d++)
        if (op_defs[d].type == t->type && strcmp(op_defs[d].name, name) == 0)
            def = &op_defs[d];
    if (!def) {
        char list[128];
        return bl_err_set(err, BL_EINVAL, "rules[%zu].operation: \"%.40s\" is not an operation of type %s (%s)", i, name,
                          t->type_name, ops_of(t->type, list, sizeof list));
    }
    s->op = def->op;
    s->op_name = def->name;
    const json_t *params = json_object_get(spec, "parameters");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)params, k, v) {
        if (!def->param || strcmp(k, def->param) != 0)
            return bl_err_set(err, BL_EINVAL, "rules[%zu].parameters: unknown parameter \"%.40s\" for %s%s%s", i, k,
                              def->name, def->param ? " (it takes " : "", def->param ? def->param : "");
    }
    bool need_source = false, need_target = false, no_source = false, no_target = false, need_cond = false;
    switch (s->op) {
    case TX_OP_SET:
        need_source = need_target = true;
        if ((v = json_object_get(params, "default")))
            s->fallback = json_incref(v);
        break;
    case TX_OP_DELETE:
        need_target = no_source = true;
        break;
    case TX_OP_KEEP:
    case TX_OP_DROP:
        need_cond = true;
        if (!s->source && !(s->source = root_path(err)))
            return -1;
        if (!s->target) { /* the filtered array goes back where it came from */
            bl_err why = {0};
            if (bl_tx_target_check(s->source, &why) != 0)
                return bl_err_set(err, BL_EINVAL, "rules[%zu].target: %s needs a target when its source is not a "
                                  "plain path from $", i, def->name);
            if (!(s->target = bl_tx_expr_compile(bl_tx_expr_source(s->source), err)))
                return bl_err_wrap(err, "rules[%zu].target", i);
        }
        break;
    case TX_OP_PASS:
        need_cond = no_source = no_target = true;
        break;
    case TX_OP_GROUP_BY:
        if (i != 0)
            return bl_err_set(err, BL_EINVAL, "rules[%zu]: groupBy must be the first step, and only one", i);
        need_source = need_target = true;
        if (!json_is_string(json_object_get(params, "key")))
            return bl_err_set(err, BL_EINVAL, "rules[%zu].parameters.key: an expression of each item (@.region) is "
                              "required", i);
        if (!(s->key = bl_tx_expr_compile(json_string_value(json_object_get(params, "key")), err)))
            return bl_err_wrap(err, "rules[%zu].parameters.key", i);
        break;
    case TX_OP_COUNT:
        need_target = true;
        need_source = t->steps[0].op != TX_OP_GROUP_BY; /* grouped: count the items */
        break;
    case TX_OP_SUM:
    case TX_OP_AVG:
    case TX_OP_MIN:
    case TX_OP_MAX:
        need_source = need_target = true;
        break;
    case TX_OP_ASSERT:
    case TX_OP_REPORT:
        no_target = s->op == TX_OP_ASSERT;
        need_target = s->op == TX_OP_REPORT;
        if (!json_object_get(params, "schema"))
            return bl_err_set(err, BL_EINVAL, "rules[%zu].parameters.schema: a JSON Schema is required", i);
        if (!(s->schema = bl_json_schema_compile(json_object_get(params, "schema"), err)))
            return bl_err_wrap(err, "rules[%zu].parameters.schema", i);
        if (!s->source && !(s->source = root_path(err)))
            return -1;
        break;
    }
    if (need_source && !s->source)
        return bl_err_set(err, BL_EINVAL, "rules[%zu].source: %s needs a source expression", i, def->name);
    if (need_target && !s->target)
        return bl_err_set(err, BL_EINVAL, "rules[%zu].target: %s needs a target path", i, def->name);
    if (no_source && s->source)
        return bl_err_set(err, BL_EINVAL, "rules[%zu].source: %s takes no source", i, def->name);
    if (no_target && s->target)
        return bl_err_set(err, BL_EINVAL, "rules[%zu].target: %s takes no target", i, def->name);
    if (need_cond && !s->condition)
        return bl_err_set(err, BL_EINVAL, "rules[%zu].condition: %s needs a condition", i, def->name);
    return 0;
}

int bl_tx_steps_check(bl_transform *t, const json_t *steps, bl_err *err)
{
    if (t->n_steps == 0 && t->type != TX_TYPE_VALIDATE)
        return bl_err_set(err, BL_EINVAL, "rules: a %s needs at least one step", t->type_name);
    for (size_t i = 0; i < t->n_steps; i++)
        if (check_step(t, i, json_array_get(steps, i), err) != 0)
            return -1;
    if (t->type == TX_TYPE_AGGREGATE && t->n_steps == 1 && t->steps[0].op == TX_OP_GROUP_BY)
        return bl_err_set(err, BL_EINVAL, "rules: groupBy needs at least one count, sum, avg, min or max after it");
    return 0;
}

/* --- running --- */

static int step_err(bl_err *err, size_t i, const tx_step *s)
{
    return bl_err_wrap(err, "rules[%zu] (%s)", i, s->op_name);
}

/* Whether step s applies (no condition, or it holds) with scope sc. */
static int applies(const tx_step *s, const bl_tx_scope *sc, bool *yes, bl_err *err)
{
    *yes = true;
    if (!s->condition)
        return 0;
    if (bl_tx_expr_test(s->condition, sc, yes, err) != 0)
        return bl_err_wrap(err, "condition");
    return 0;
}

/* Sets target in *doc to a deep copy of v (v is released). */
static int put(const tx_step *s, json_t **doc, json_t *v, bl_err *err)
{
    json_t *copy = json_deep_copy(v);
    json_decref(v);
    if (!copy)
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    return bl_tx_path_set(s->target, doc, copy, err);
}

static const char *kind_of(const json_t *v)
{
    return !v ? "missing" : json_is_object(v) ? "an object" : json_is_string(v) ? "a string" : json_is_number(v) ? "a number" : json_is_null(v) ? "null" : "a boolean";
}

/* Evaluates s->source as an array (new reference) or fails. */
static int source_array(const tx_step *s, const bl_tx_scope *sc, json_t **out, bl_err *err)
{
    if (bl_tx_expr_eval(s->source, sc, out, err) != 0)
        return bl_err_wrap(err, "source");
    if (json_is_array(*out))
        return 0;
    const char *what = kind_of(*out);
    json_decref(*out);
    *out = NULL;
    return bl_err_set(err, BL_EINVAL, "source %.80s gave %s, not an array", bl_tx_expr_source(s->source), what);
}

static int run_map(const bl_transform *t, const json_t *input, const bl_transform_ctx *ctx, json_t **out, bl_err *err)
{
    bl_tx_scope sc = {.root = input, .ctx = ctx};
    *out = json_object();
    if (!*out)
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    for (size_t i = 0; i < t->n_steps; i++) {
        const tx_step *s = &t->steps[i];
        bool yes;
        json_t *v = NULL;
        if (applies(s, &sc, &yes, err) != 0 || (yes && bl_tx_expr_eval(s->source, &sc, &v, err) != 0))
            return step_err(err, i, s);
        if (!yes)
            continue;
        if ((!v || json_is_null(v)) && s->fallback) {
            json_decref(v);
            v = json_incref(s->fallback);
        }
        if (v && put(s, out, v, err) != 0)
            return step_err(err, i, s);
    }
    return 0;
}

static int run_filter(const bl_transform *t, const json_t *input, const bl_transform_ctx *ctx, json_t **out,
                      bool *dropped, bl_err *err)
{
    if (!(*out = json_deep_copy(input)))
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    for (size_t i = 0; i < t->n_steps; i++) {
        const tx_step *s = &t->steps[i];
        bl_tx_scope sc = {.root = *out, .ctx = ctx};
        bool yes;
        if (s->op == TX_OP_PASS) {
            if (applies(s, &sc, &yes, err) != 0)
                return step_err(err, i, s);
            if (!yes) {
                json_decref(*out);
                *out = json_null();
                *dropped = true;
                return 0;
            }
            continue;
        }
        json_t *items = NULL, *kept = json_array();
        if (!kept)
            return bl_err_set(err, BL_ENOMEM, "out of memory");
        if (source_array(s, &sc, &items, err) != 0) {
            json_decref(kept);
            return step_err(err, i, s);
        }
        size_t k;
        json_t *item;
        json_array_foreach(items, k, item) {
            sc.current = item;
            if (applies(s, &sc, &yes, err) != 0) {
                json_decref(items);
                json_decref(kept);
                bl_err_wrap(err, "item %zu", k);
                return step_err(err, i, s);
            }
            if (yes == (s->op == TX_OP_KEEP) && json_array_append(kept, item) != 0) {
                json_decref(items);
                json_decref(kept);
                return bl_err_set(err, BL_ENOMEM, "out of memory");
            }
        }
        json_decref(items);
        if (put(s, out, kept, err) != 0)
            return step_err(err, i, s);
    }
    return 0;
}

/* --- aggregate --- */

typedef struct acc {
    size_t n;
    bool ints;
    json_int_t isum;
    double dsum;
    json_t *best; /* min/max: own reference */
} acc;

static int acc_add(acc *a, tx_op op, json_t *v, size_t item, bl_err *err)
{
    if (op == TX_OP_COUNT) {
        a->n += v && !json_is_null(v);
        return 0;
    }
    if (!v || json_is_null(v))
        return 0;
    if (op == TX_OP_SUM || op == TX_OP_AVG) {
        if (!json_is_number(v))
            return bl_err_set(err, BL_EINVAL, "item %zu is %s, not a number", item, kind_of(v));
        if (a->ints && json_is_integer(v) && !__builtin_add_overflow(a->isum, json_integer_value(v), &a->isum)) {
            a->dsum += (double)json_integer_value(v);
        } else {
            a->ints = false;
            a->dsum += json_number_value(v);
        }
        a->n++;
        return 0;
    }
    if (!json_is_number(v) && !json_is_string(v))
        return bl_err_set(err, BL_EINVAL, "item %zu is %s, not a number or a string", item, kind_of(v));
    if (a->best && json_is_string(a->best) != json_is_string(v))
        return bl_err_set(err, BL_EINVAL, "item %zu: numbers and strings do not compare", item);
    int sign = 0;
    if (!a->best || (bl_event_values_order(v, a->best, &sign) && (op == TX_OP_MIN ? sign < 0 : sign > 0))) {
        json_decref(a->best);
        a->best = json_incref(v);
    }
    a->n++;
    return 0;
}

static json_t *acc_result(acc *a, tx_op op)
{
    switch (op) {
    case TX_OP_COUNT:
        return json_integer((json_int_t)a->n);
    case TX_OP_SUM:
        return a->ints ? json_integer(a->isum) : json_real(a->dsum);
    case TX_OP_AVG:
        return a->n ? json_real(a->dsum / (double)a->n) : json_null();
    default:
        return a->best ? json_incref(a->best) : json_null();
    }
}

/* One metric step over items (an array): each item is @; the value is
 * source's (grouped) or the item itself (ungrouped, where source gave the
 * items). */
static int metric(const tx_step *s, const json_t *items, bool grouped, const bl_tx_scope *base, json_t **out,
                  bl_err *err)
{
    acc a = {.ints = true};
    bl_tx_scope sc = *base;
    size_t k;
    json_t *item;
    int rc = 0;
    json_array_foreach(items, k, item) {
        sc.current = item;
        bool yes;
        if ((rc = applies(s, &sc, &yes, err)) != 0)
            break;
        if (!yes)
            continue;
        json_t *v = NULL;
        if (grouped && s->source) {
            if ((rc = bl_tx_expr_eval(s->source, &sc, &v, err)) != 0) {
                bl_err_wrap(err, "item %zu: source", k);
                break;
            }
        } else {
            v = json_incref(item);
            if (grouped && s->op == TX_OP_COUNT && json_is_null(v)) {
                json_decref(v); /* counting the items of a group: every item counts */
                v = json_true();
            }
        }
        rc = acc_add(&a, s->op, v, k, err);
        json_decref(v);
        if (rc != 0)
            break;
    }
    if (rc == 0 && !isfinite(a.dsum))
        rc = bl_err_set(err, BL_EINVAL, "sum out of range");
    if (rc == 0 && !(*out = acc_result(&a, s->op)))
        rc = bl_err_set(err, BL_ENOMEM, "out of memory");
    json_decref(a.best);
    return rc;
}

static int run_aggregate(const bl_transform *t, const json_t *input, const bl_transform_ctx *ctx, json_t **out,
                         bl_err *err)
{
    bl_tx_scope sc = {.root = input, .ctx = ctx};
    const tx_step *g = &t->steps[0];
    if (g->op != TX_OP_GROUP_BY) {
        if (!(*out = json_object()))
            return bl_err_set(err, BL_ENOMEM, "out of memory");
        for (size_t i = 0; i < t->n_steps; i++) {
            const tx_step *s = &t->steps[i];
            json_t *items = NULL, *v = NULL;
            if (source_array(s, &sc, &items, err) != 0)
                return step_err(err, i, s);
            int rc = metric(s, items, false, &sc, &v, err);
            json_decref(items);
            if (rc != 0 || put(s, out, v, err) != 0)
                return step_err(err, i, s);
        }
        return 0;
    }
    json_t *items = NULL, *keys = json_array(), *groups = json_array();
    int rc = -1;
    if (!keys || !groups) {
        bl_err_set(err, BL_ENOMEM, "out of memory");
        goto done;
    }
    if (source_array(g, &sc, &items, err) != 0) {
        step_err(err, 0, g);
        goto done;
    }
    size_t k;
    json_t *item;
    json_array_foreach(items, k, item) {
        bl_tx_scope isc = {.root = input, .current = item, .ctx = ctx};
        json_t *key = NULL;
        bool yes;
        if (applies(g, &isc, &yes, err) != 0 || (yes && bl_tx_expr_eval(g->key, &isc, &key, err) != 0)) {
            bl_err_wrap(err, "item %zu", k);
            step_err(err, 0, g);
            goto done;
        }
        if (!yes)
            continue;
        if (!key)
            key = json_null();
        size_t at = 0;
        while (at < json_array_size(keys) && !bl_json_schema_values_equal(json_array_get(keys, at), key))
            at++;
        if (at == json_array_size(keys) && (json_array_append(keys, key) != 0 || json_array_append_new(groups, json_array()) != 0)) {
            json_decref(key);
            bl_err_set(err, BL_ENOMEM, "out of memory");
            goto done;
        }
        json_decref(key);
        if (json_array_append(json_array_get(groups, at), item) != 0) {
            bl_err_set(err, BL_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (!(*out = json_array())) {
        bl_err_set(err, BL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t gi = 0; gi < json_array_size(groups); gi++) {
        json_t *obj = json_object(); /* put may replace it, for a target of $ */
        if (!obj) {
            bl_err_set(err, BL_ENOMEM, "out of memory");
            goto done;
        }
        if (put(g, &obj, json_incref(json_array_get(keys, gi)), err) != 0) {
            json_decref(obj);
            step_err(err, 0, g);
            goto done;
        }
        for (size_t i = 1; i < t->n_steps; i++) {
            const tx_step *s = &t->steps[i];
            json_t *v = NULL;
            if (metric(s, json_array_get(groups, gi), true, &sc, &v, err) != 0 || put(s, &obj, v, err) != 0) {
                json_decref(obj);
                step_err(err, i, s);
                goto done;
            }
        }
        if (json_array_append_new(*out, obj) != 0) {
            bl_err_set(err, BL_ENOMEM, "out of memory");
            goto done;
        }
    }
    rc = 0;
done:
    json_decref(items);
    json_decref(keys);
    json_decref(groups);
    return rc;
}

static int run_validate(const bl_transform *t, const json_t *input, const bl_transform_ctx *ctx, json_t **out,
                        json_t **problems, bl_err *err)
{
    if (!(*out = json_deep_copy(input)))
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    bl_tx_scope sc = {.root = input, .ctx = ctx};
    for (size_t i = 0; i < t->n_steps; i++) {
        const tx_step *s = &t->steps[i];
        bool yes;
        json_t *v = NULL;
        if (applies(s, &sc, &yes, err) != 0 || (yes && bl_tx_expr_eval(s->source, &sc, &v, err) != 0))
            return step_err(err, i, s);
        if (!yes)
            continue;
        json_t *list = v ? bl_json_schema_validate(s->schema, v) : json_pack("[{s:s, s:s, s:s, s:s}]", "instancePath",
                                                                              "", "schemaPath", "", "keyword", "source",
                                                                              "message", "the source value is missing");
        json_decref(v);
        if (!list)
            return bl_err_set(err, BL_ENOMEM, "out of memory");
        if (s->op == TX_OP_ASSERT) {
            if (json_array_size(list) > 0) {
                bl_json_schema_problems_err(list, "validate", err);
                step_err(err, i, s);
                if (problems)
                    *problems = list;
                else
                    json_decref(list);
                return -1;
            }
            json_decref(list);
            continue;
        }
        json_t *report = json_pack("{s:b, s:o}", "valid", json_array_size(list) == 0, "errors", list);
        if (!report)
            return bl_err_set(err, BL_ENOMEM, "out of memory");
        if (bl_tx_path_set(s->target, out, report, err) != 0)
            return step_err(err, i, s);
    }
    return 0;
}

static int run_custom(const bl_transform *t, const json_t *input, const bl_transform_ctx *ctx, json_t **out, bl_err *err)
{
    if (!(*out = json_deep_copy(input)))
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    for (size_t i = 0; i < t->n_steps; i++) {
        const tx_step *s = &t->steps[i];
        bl_tx_scope sc = {.root = *out, .ctx = ctx};
        bool yes;
        if (applies(s, &sc, &yes, err) != 0)
            return step_err(err, i, s);
        if (!yes)
            continue;
        if (s->op == TX_OP_DELETE) {
            if (bl_tx_path_delete(s->target, *out, err) != 0)
                return step_err(err, i, s);
            continue;
        }
        json_t *v = NULL;
        if (bl_tx_expr_eval(s->source, &sc, &v, err) != 0)
            return step_err(err, i, s);
        if (v && put(s, out, v, err) != 0)
            return step_err(err, i, s);
    }
    return 0;
}

int bl_tx_steps_run(const bl_transform *t, const json_t *input, const bl_transform_ctx *ctx, json_t **out,
                    bool *dropped, json_t **problems, bl_err *err)
{
    *out = NULL;
    *dropped = false;
    if (problems)
        *problems = NULL;
    int rc = -1;
    switch (t->type) {
    case TX_TYPE_MAP:
        rc = run_map(t, input, ctx, out, err);
        break;
    case TX_TYPE_FILTER:
        rc = run_filter(t, input, ctx, out, dropped, err);
        break;
    case TX_TYPE_AGGREGATE:
        rc = run_aggregate(t, input, ctx, out, err);
        break;
    case TX_TYPE_VALIDATE:
        rc = run_validate(t, input, ctx, out, problems, err);
        break;
    case TX_TYPE_CUSTOM:
        rc = run_custom(t, input, ctx, out, err);
        break;
    }
    if (rc != 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}
