/* The expression language's evaluator: a tree of expr_internal.h applied to
 * the values of a scope. Reads only those values; every operator checks its
 * operand types, and every value it builds is bounded (BL_TX_VALUE_ITEMS_MAX
 * elements, BL_TX_STRING_MAX bytes). Comparisons are event_filter's
 * (consumers/event_filter.h), so a condition means the same in both. */
#include "connectors/transform/expr_internal.h"

#include "consumers/event_filter.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_name(const json_t *v)
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

static int eval(const tx_node *n, const bl_tx_scope *sc, json_t **out, bl_err *err);

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
    return bl_err_set(err, BL_EINVAL, "at offset %zu: %s needs a boolean, got %s", pos, what, type_name(v));
}

static int eval_truth(const tx_node *n, const bl_tx_scope *sc, const char *what, size_t pos, bool *out, bl_err *err)
{
    json_t *v = NULL;
    if (eval(n, sc, &v, err) != 0)
        return -1;
    int rc = truth(v, what, pos, out, err);
    json_decref(v);
    return rc;
}

static json_t *number_value(double d, bool want_int)
{
    if (want_int && d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == floor(d))
        return json_integer((json_int_t)d);
    return json_real(d);
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
                          op_symbol(n->op), type_name(a), type_name(b),
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
    if (eval(n->a, sc, &a, err) != 0 || eval(n->b, sc, &b, err) != 0)
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
                            type_name(b));
            goto done;
        }
        for (size_t i = 0; i < json_array_size(b) && !r; i++)
            r = equal(a, json_array_get(b, i));
        break;
    case TX_CONTAINS:
        if (a && !json_is_string(a) && !json_is_array(a) && !json_is_null(a)) {
            rc = bl_err_set(err, BL_EINVAL, "at offset %zu: 'contains' needs a string or an array on its left, got %s",
                            n->pos, type_name(a));
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

/* --- functions --- */

typedef struct text {
    char *s;
    size_t len, cap;
} text;

static int text_add(text *t, const char *s, size_t n, size_t pos, bl_err *err)
{
    if (t->len + n > BL_TX_STRING_MAX)
        return bl_err_set(err, BL_EINVAL, "at offset %zu: text longer than %d bytes", pos, BL_TX_STRING_MAX);
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 64;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *p = realloc(t->s, cap);
        if (!p)
            return oom(err);
        t->s = p;
        t->cap = cap;
    }
    if (n)
        memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
    return 0;
}

/* The text form of a scalar (numbers as JSON writes them). */
static int scalar_text(const json_t *v, text *t, size_t pos, bl_err *err)
{
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v))
        return text_add(t, json_string_value(v), json_string_length(v), pos, err);
    double d = json_is_real(v) ? json_real_value(v) : 0.5;
    if (d == floor(d) && fabs(d) < 9007199254740992.0) {
        char whole[32]; /* 240.0 reads as 240 in text, as JavaScript writes it */
        int w = snprintf(whole, sizeof whole, "%.0f", d);
        return text_add(t, whole, (size_t)w, pos, err);
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (!s)
        return oom(err);
    int rc = text_add(t, s, strlen(s), pos, err);
    free(s);
    return rc;
}

static size_t utf8_length(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

static int fn_concat(const tx_node *n, json_t **args, json_t **out, bl_err *err)
{
    if (json_is_array(args[0])) {
        json_t *all = json_array();
        if (!all)
            return oom(err);
        for (size_t i = 0; i < n->n_args; i++) {
            if (!json_is_array(args[i])) {
                json_decref(all);
                return bl_err_set(err, BL_EINVAL, "at offset %zu: concat() of arrays got %s as argument %zu",
                                  n->args[i]->pos, type_name(args[i]), i + 1);
            }
            if (json_array_size(all) + json_array_size(args[i]) > BL_TX_VALUE_ITEMS_MAX) {
                json_decref(all);
                return bl_err_set(err, BL_EINVAL, "at offset %zu: concat() gives more than %d items", n->pos,
                                  BL_TX_VALUE_ITEMS_MAX);
            }
            if (json_array_extend(all, args[i]) != 0) {
                json_decref(all);
                return oom(err);
            }
        }
        *out = all;
        return 0;
    }
    text t = {0};
    int rc = text_add(&t, "", 0, n->pos, err);
    for (size_t i = 0; rc == 0 && i < n->n_args; i++) {
        if (json_is_array(args[i]) || json_is_object(args[i]))
            rc = bl_err_set(err, BL_EINVAL, "at offset %zu: concat() of text got %s as argument %zu", n->args[i]->pos,
                            type_name(args[i]), i + 1);
        else
            rc = scalar_text(args[i], &t, n->pos, err);
    }
    if (rc == 0 && !(*out = json_stringn(t.s, t.len)))
        rc = oom(err);
    free(t.s);
    return rc;
}

static int fn_round(const tx_node *n, json_t **args, json_t **out, bl_err *err)
{
    if (!json_is_number(args[0]))
        return bl_err_set(err, BL_EINVAL, "at offset %zu: round() needs a number, got %s", n->args[0]->pos,
                          type_name(args[0]));
    json_int_t digits = 0;
    if (n->n_args == 2) {
        if (!json_is_integer(args[1]) || json_integer_value(args[1]) < 0 || json_integer_value(args[1]) > 15)
            return bl_err_set(err, BL_EINVAL, "at offset %zu: round()'s digits must be an integer from 0 to 15",
                              n->args[1]->pos);
        digits = json_integer_value(args[1]);
    }
    if (json_is_integer(args[0]))
        return (*out = json_incref(args[0])) ? 0 : oom(err);
    double scale = pow(10.0, (double)digits), d = json_number_value(args[0]);
    double r = round(d * scale) / scale;
    if (!isfinite(r))
        r = d;
    return (*out = number_value(r, digits == 0)) ? 0 : oom(err);
}

/* sum/min/max over an array. */
static int fn_fold(const tx_node *n, const json_t *arr, json_t **out, bl_err *err)
{
    const char *name = bl_tx_fn_name(n->fn);
    if (!json_is_array(arr))
        return bl_err_set(err, BL_EINVAL, "at offset %zu: %s() needs an array, got %s", n->args[0]->pos, name,
                          type_name(arr));
    const json_t *best = NULL;
    bool ints = true;
    json_int_t isum = 0;
    double dsum = 0;
    size_t i;
    const json_t *item;
    json_array_foreach(arr, i, item) {
        if (json_is_null(item))
            continue;
        bool ok = json_is_number(item) || (n->fn != TX_FN_SUM && json_is_string(item));
        if (ok && best && json_is_string(best) != json_is_string(item))
            ok = false;
        if (!ok)
            return bl_err_set(err, BL_EINVAL, "at offset %zu: %s() needs %s, item %zu is %s", n->pos, name,
                              n->fn == TX_FN_SUM ? "numbers" : "numbers or strings, not both", i, type_name(item));
        if (n->fn == TX_FN_SUM) {
            if (ints && json_is_integer(item) && !__builtin_add_overflow(isum, json_integer_value(item), &isum)) {
                dsum += (double)json_integer_value(item);
                continue;
            }
            ints = false;
            dsum += json_number_value(item);
            continue;
        }
        int sign = 0;
        if (!best || (bl_event_values_order(item, best, &sign) && (n->fn == TX_FN_MIN ? sign < 0 : sign > 0)))
            best = item;
    }
    if (n->fn == TX_FN_SUM) {
        if (!isfinite(dsum))
            return bl_err_set(err, BL_EINVAL, "at offset %zu: sum() out of range", n->pos);
        *out = ints ? json_integer(isum) : json_real(dsum);
    } else {
        *out = best ? json_incref((json_t *)best) : json_null();
    }
    return *out ? 0 : oom(err);
}

static int fn_number(const tx_node *n, const json_t *v, json_t **out, bl_err *err)
{
    if (json_is_number(v))
        return (*out = json_incref((json_t *)v)) ? 0 : oom(err);
    if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < 64) {
        json_t *parsed = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
        if (json_is_number(parsed)) {
            *out = parsed;
            return 0;
        }
        json_decref(parsed);
    }
    return bl_err_set(err, BL_EINVAL, "at offset %zu: number() cannot read %s as a number", n->pos,
                      json_is_string(v) ? "this string" : type_name(v));
}

static int eval_call(const tx_node *n, const bl_tx_scope *sc, json_t **out, bl_err *err)
{
    if (n->fn == TX_FN_NOW) {
        if (!sc->ctx || !sc->ctx->now)
            return bl_err_set(err, BL_EINVAL, "at offset %zu: now() is not available here (the caller gave no clock)",
                              n->pos);
        return (*out = json_string(sc->ctx->now)) ? 0 : oom(err);
    }
    if (n->fn == TX_FN_EXISTS) {
        const tx_node *path = n->args[0];
        const json_t *base = path->from_current && sc->current ? sc->current : sc->root;
        json_t *v = NULL;
        bool owned = false;
        if (bl_tx_path_walk(path, base, &v, &owned, err) != 0)
            return -1;
        bool present = v && !json_is_null(v) && !(owned && json_array_size(v) == 0);
        if (owned)
            json_decref(v);
        return (*out = json_boolean(present)) ? 0 : oom(err);
    }
    if (n->fn == TX_FN_COALESCE) {
        for (size_t i = 0; i < n->n_args; i++) {
            json_t *v = NULL;
            if (eval(n->args[i], sc, &v, err) != 0)
                return -1;
            if (v && !json_is_null(v)) {
                *out = v;
                return 0;
            }
            json_decref(v);
        }
        return (*out = json_null()) ? 0 : oom(err);
    }
    json_t **args = calloc(n->n_args, sizeof *args);
    if (!args)
        return oom(err);
    int rc = 0;
    for (size_t i = 0; i < n->n_args && rc == 0; i++)
        rc = eval(n->args[i], sc, &args[i], err);
    if (rc != 0)
        goto done;
    const json_t *a = args[0];
    switch (n->fn) {
    case TX_FN_LENGTH:
        if (json_is_string(a))
            *out = json_integer((json_int_t)utf8_length(json_string_value(a), json_string_length(a)));
        else if (json_is_array(a))
            *out = json_integer((json_int_t)json_array_size(a));
        else if (json_is_object(a))
            *out = json_integer((json_int_t)json_object_size(a));
        else
            rc = bl_err_set(err, BL_EINVAL, "at offset %zu: length() needs a string, an array or an object, got %s",
                            n->pos, type_name(a));
        break;
    case TX_FN_LOWER:
    case TX_FN_UPPER: {
        if (!json_is_string(a)) {
            rc = bl_err_set(err, BL_EINVAL, "at offset %zu: %s() needs a string, got %s", n->pos, bl_tx_fn_name(n->fn),
                            type_name(a));
            break;
        }
        size_t len = json_string_length(a);
        char *s = malloc(len + 1);
        if (!s) {
            rc = oom(err);
            break;
        }
        memcpy(s, json_string_value(a), len + 1);
        for (size_t i = 0; i < len; i++) {
            if (n->fn == TX_FN_LOWER && s[i] >= 'A' && s[i] <= 'Z')
                s[i] = (char)(s[i] - 'A' + 'a');
            else if (n->fn == TX_FN_UPPER && s[i] >= 'a' && s[i] <= 'z')
                s[i] = (char)(s[i] - 'a' + 'A');
        }
        *out = json_stringn(s, len);
        free(s);
        break;
    }
    case TX_FN_CONCAT:
        rc = fn_concat(n, args, out, err);
        break;
    case TX_FN_ROUND:
        rc = fn_round(n, args, out, err);
        break;
    case TX_FN_SUM:
    case TX_FN_MIN:
    case TX_FN_MAX:
        rc = fn_fold(n, a, out, err);
        break;
    case TX_FN_STRING: {
        if (json_is_string(a)) {
            *out = json_incref((json_t *)a);
            break;
        }
        text t = {0};
        if (json_is_array(a) || json_is_object(a)) {
            char *s = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(15));
            rc = s ? text_add(&t, s, strlen(s), n->pos, err) : oom(err);
            free(s);
        } else {
            rc = !a || json_is_null(a) ? text_add(&t, "null", 4, n->pos, err) : scalar_text(a, &t, n->pos, err);
        }
        if (rc == 0)
            *out = json_stringn(t.s, t.len);
        free(t.s);
        break;
    }
    case TX_FN_NUMBER:
        rc = fn_number(n, a, out, err);
        break;
    default:
        rc = bl_err_set(err, BL_EINVAL, "at offset %zu: unknown function", n->pos);
        break;
    }
    if (rc == 0 && !*out)
        rc = oom(err);
done:
    for (size_t i = 0; i < n->n_args; i++)
        json_decref(args[i]);
    free(args);
    return rc;
}

static int eval(const tx_node *n, const bl_tx_scope *sc, json_t **out, bl_err *err)
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
            if (eval(n->args[i], sc, &v, err) != 0 || json_array_append_new(arr, v ? v : json_null()) != 0) {
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
        if (eval(n->a, sc, &v, err) != 0)
            return -1;
        int rc = 0;
        if (json_is_integer(v) && json_integer_value(v) != INT64_MIN)
            *out = json_integer(-json_integer_value(v));
        else if (json_is_number(v))
            *out = json_real(-json_number_value(v));
        else
            rc = bl_err_set(err, BL_EINVAL, "at offset %zu: '-' needs a number, got %s", n->pos, type_name(v));
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
        return eval(b ? n->b : n->c, sc, out, err);
    case TX_BINARY:
        return eval_binary(n, sc, out, err);
    case TX_CALL:
        return eval_call(n, sc, out, err);
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
    return eval(e->root, scope, out, err);
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
        rc = bl_err_set(err, BL_EINVAL, "condition gave %s, not a boolean", type_name(v));
    json_decref(v);
    return rc;
}
