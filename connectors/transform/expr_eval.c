/* The expression language's evaluator: a tree of expr_internal.h applied to
 * the values of a scope. Reads only those values; every operator checks its
 * operand types, and every value it builds is bounded (BL_TX_VALUE_ITEMS_MAX
 * elements, BL_TX_STRING_MAX bytes). Comparisons are event_filter's
 * (consumers/event_filter.h), so a condition means the same in both. The
 * functions are in expr_functions.c. */
#include "connectors/transform/expr_internal.h"

#include "consumers/event_filter.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *bl_tx_type_name(const json_t *v)
{
    if (!v)
        return "a missing value";
    switch (json_typeof(v)) {
    case JSON_NULL:
        return "null";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_STRING:
        return "a string";
    case JSON_ARRAY:
        return "an array";
    case JSON_OBJECT:
        return "an object";
    }
    return "a value";
}

static int oom(bl_err *err)
{
    return bl_err_set(err, BL_ENOMEM, "out of memory");
}


/* The truth of v for && || ! ?: and conditions: JSON true; false for false,
 * null and missing; anything else is an error. */
static int truth(const json_t *v, const char *what, size_t pos, bool *out, bl_err *err)
{
    if (!v || json_is_null(v) || json_is_false(v)) {
        *out = false;
        return 0;
    }
    if (json_is_true(v)) {
        *out = true;
        return 0;
    }
    return bl_err_set(err, BL_EINVAL, "at offset %zu: %s needs a boolean, got %s", pos, what, bl_tx_type_name(v));
}

static int eval_truth(const tx_node *n, const bl_tx_scope *sc, const char *what, size_t pos, bool *out, bl_err *err)
{
    json_t *v = NULL;
    if (bl_tx_eval_node(n, sc, &v, err) != 0)
        return -1;
    int rc = truth(v, what, pos, out, err);
    json_decref(v);
    return rc;
}

static const char *op_symbol(int op)
{
    static const char *const sym[] = {"==", "!=", "<", "<=", ">", ">=", "in", "contains", "+", "-", "*", "/", "%"};
    return op >= 0 && (size_t)op < sizeof sym / sizeof sym[0] ? sym[op] : "?";
}

static int arithmetic(const tx_node *n, const json_t *a, const json_t *b, json_t **out, bl_err *err)
{
    if (!json_is_number(a) || !json_is_number(b))
        return bl_err_set(err, BL_EINVAL, "at offset %zu: '%s' needs numbers, got %s and %s%s", n->pos,
                          op_symbol(n->op), bl_tx_type_name(a), bl_tx_type_name(b),
                          n->op == TX_ADD && (json_is_string(a) || json_is_string(b)) ? " (concat() joins text)" : "");
    bool ints = json_is_integer(a) && json_is_integer(b);
    json_int_t ia = ints ? json_integer_value(a) : 0, ib = ints ? json_integer_value(b) : 0, ir = 0;
    double da = json_number_value(a), db = json_number_value(b), dr = 0;
    switch (n->op) {
    case TX_ADD:
        if (ints && !__builtin_add_overflow(ia, ib, &ir))
            return (*out = json_integer(ir)) ? 0 : oom(err);
        dr = da + db;
        break;
    case TX_SUB:
        if (ints && !__builtin_sub_overflow(ia, ib, &ir))
            return (*out = json_integer(ir)) ? 0 : oom(err);
        dr = da - db;
        break;
    case TX_MUL:
        if (ints && !__builtin_mul_overflow(ia, ib, &ir))
            return (*out = json_integer(ir)) ? 0 : oom(err);
        dr = da * db;
        break;
    case TX_DIV:
        if (db == 0)
            return bl_err_set(err, BL_EINVAL, "at offset %zu: division by zero", n->pos);
        if (ints && ib != -1 && ia % ib == 0)
            return (*out = json_integer(ia / ib)) ? 0 : oom(err);
        dr = da / db;
        break;
    case TX_MOD:
        if (!ints)
            return bl_err_set(err, BL_EINVAL, "at offset %zu: '%%' needs integers", n->pos);
        if (ib == 0)
            return bl_err_set(err, BL_EINVAL, "at offset %zu: division by zero", n->pos);
        return (*out = json_integer(ib == -1 ? 0 : ia % ib)) ? 0 : oom(err);
    default:
        return bl_err_set(err, BL_EINVAL, "at offset %zu: unknown operator", n->pos);
    }
    if (!isfinite(dr))
        return bl_err_set(err, BL_EINVAL, "at offset %zu: '%s' gives a number out of range", n->pos, op_symbol(n->op));
    return (*out = json_real(dr)) ? 0 : oom(err);
}

/* ==: missing counts as null; null equals only null; else event_filter's. */
static bool equal(const json_t *a, const json_t *b)
{
    bool an = !a || json_is_null(a), bn = !b || json_is_null(b);
    if (an || bn)
        return an && bn;
    return bl_event_values_equal(a, b);
}

/* < <= > >=: event_filter's order, tried both ways; false when either side
 * is missing or null or they do not compare. */
static bool ordered(int op, const json_t *a, const json_t *b)
{
    int sign = 0;
    if (!a || !b || json_is_null(a) || json_is_null(b))
        return false;
    if (!bl_event_values_order(a, b, &sign)) {
        if (!bl_event_values_order(b, a, &sign))
            return false;
        sign = -sign;
    }
    switch (op) {
    case TX_LT:
        return sign < 0;
    case TX_LE:
        return sign <= 0;
    case TX_GT:
        return sign > 0;
    default:
        return sign >= 0;
    }
}

static int eval_binary(const tx_node *n, const bl_tx_scope *sc, json_t **out, bl_err *err)
{
    json_t *a = NULL, *b = NULL;
    int rc = -1;
    if (bl_tx_eval_node(n->a, sc, &a, err) != 0 || bl_tx_eval_node(n->b, sc, &b, err) != 0)
        goto done;
    bool r = false;
    switch (n->op) {
    case TX_EQ:
    case TX_NE:
        r = equal(a, b) == (n->op == TX_EQ);
        break;
    case TX_LT:
    case TX_LE:
    case TX_GT:
    case TX_GE:
        r = ordered(n->op, a, b);
        break;
    case TX_IN:
        if (!json_is_array(b)) {
            rc = bl_err_set(err, BL_EINVAL, "at offset %zu: 'in' needs an array on its right, got %s", n->pos,
                            bl_tx_type_name(b));
            goto done;
        }
        for (size_t i = 0; i < json_array_size(b) && !r; i++)
            r = equal(a, json_array_get(b, i));
        break;
    case TX_CONTAINS:
        if (a && !json_is_string(a) && !json_is_array(a) && !json_is_null(a)) {
            rc = bl_err_set(err, BL_EINVAL, "at offset %zu: 'contains' needs a string or an array on its left, got %s",
                            n->pos, bl_tx_type_name(a));
            goto done;
        }
        r = a && b && !json_is_null(a) && bl_event_value_contains(a, b);
        break;
    default:
        rc = arithmetic(n, a, b, out, err);
        goto done;
    }
    *out = json_boolean(r);
    rc = 0;
done:
    json_decref(a);
    json_decref(b);
    return rc;
}

int bl_tx_eval_node(const tx_node *n, const bl_tx_scope *sc, json_t **out, bl_err *err)
{
    *out = NULL;
    bool b = false;
    switch (n->kind) {
    case TX_LIT:
        *out = json_incref(n->lit);
        return 0;
    case TX_PATH: {
        const json_t *base = n->from_current && sc->current ? sc->current : sc->root;
        bool owned = false;
        if (bl_tx_path_walk(n, base, out, &owned, err) != 0)
            return -1;
        if (!owned)
            json_incref(*out);
        return 0;
    }
    case TX_ARRAY: {
        json_t *arr = json_array();
        if (!arr)
            return oom(err);
        for (size_t i = 0; i < n->n_args; i++) {
            json_t *v = NULL;
            if (bl_tx_eval_node(n->args[i], sc, &v, err) != 0 || json_array_append_new(arr, v ? v : json_null()) != 0) {
                json_decref(arr);
                return err && err->code ? -1 : oom(err);
            }
        }
        *out = arr;
        return 0;
    }
    case TX_NOT:
        if (eval_truth(n->a, sc, "'!'", n->pos, &b, err) != 0)
            return -1;
        return (*out = json_boolean(!b)) ? 0 : oom(err);
    case TX_NEG: {
        json_t *v = NULL;
        if (bl_tx_eval_node(n->a, sc, &v, err) != 0)
            return -1;
        int rc = 0;
        if (json_is_integer(v) && json_integer_value(v) != INT64_MIN)
            *out = json_integer(-json_integer_value(v));
        else if (json_is_number(v))
            *out = json_real(-json_number_value(v));
        else
            rc = bl_err_set(err, BL_EINVAL, "at offset %zu: '-' needs a number, got %s", n->pos, bl_tx_type_name(v));
        json_decref(v);
        return rc != 0 ? rc : *out ? 0 : oom(err);
    }
    case TX_AND:
    case TX_OR: {
        const char *what = n->kind == TX_AND ? "'&&'" : "'||'";
        if (eval_truth(n->a, sc, what, n->pos, &b, err) != 0)
            return -1;
        if (b == (n->kind == TX_AND) && eval_truth(n->b, sc, what, n->pos, &b, err) != 0)
            return -1;
        return (*out = json_boolean(b)) ? 0 : oom(err);
    }
    case TX_COND:
        if (eval_truth(n->a, sc, "'?'", n->pos, &b, err) != 0)
            return -1;
        return bl_tx_eval_node(b ? n->b : n->c, sc, out, err);
    case TX_BINARY:
        return eval_binary(n, sc, out, err);
    case TX_CALL:
        return bl_tx_eval_call(n, sc, out, err);
    case TX_FILTER: {
        json_t *v = NULL;
        bool owned = false;
        if (bl_tx_path_walk(n->a, sc->root, &v, &owned, err) != 0)
            return -1;
        bool holds = bl_event_condition_holds(n->op, v, n->lit);
        if (owned)
            json_decref(v);
        return (*out = json_boolean(holds)) ? 0 : oom(err);
    }
    }
    return bl_err_set(err, BL_EINVAL, "at offset %zu: unknown expression", n->pos);
}

int bl_tx_expr_eval(const bl_tx_expr *e, const bl_tx_scope *scope, json_t **out, bl_err *err)
{
    *out = NULL;
    if (!e || !scope)
        return bl_err_set(err, BL_EINVAL, "expression: nothing to evaluate");
    return bl_tx_eval_node(e->root, scope, out, err);
}

int bl_tx_expr_test(const bl_tx_expr *e, const bl_tx_scope *scope, bool *out, bl_err *err)
{
    *out = false;
    json_t *v = NULL;
    if (bl_tx_expr_eval(e, scope, &v, err) != 0)
        return -1;
    int rc = 0;
    if (v && json_is_true(v))
        *out = true;
    else if (v && !json_is_false(v) && !json_is_null(v))
        rc = bl_err_set(err, BL_EINVAL, "condition gave %s, not a boolean", bl_tx_type_name(v));
    json_decref(v);
    return rc;
}
