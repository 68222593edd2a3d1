/* The expression language's functions: length lower upper concat coalesce
 * round exists now sum min max string number (connectors/transform/README.md).
 * Each checks its argument types; text they build stays under
 * BL_TX_STRING_MAX, arrays under BL_TX_VALUE_ITEMS_MAX. */
#include "connectors/transform/expr_internal.h"
#include "connectors/transform/text_util.h"

#include "consumers/event_filter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int oom(bl_err *err)
{
    return bl_err_set(err, BL_ENOMEM, "out of memory");
}

static json_t *number_value(double d, bool want_int)
{
    if (want_int && d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == floor(d))
        return json_integer((json_int_t)d);
    return json_real(d);
}

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
                                  n->args[i]->pos, bl_tx_type_name(args[i]), i + 1);
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
                            bl_tx_type_name(args[i]), i + 1);
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
                          bl_tx_type_name(args[0]));
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
                          bl_tx_type_name(arr));
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
                              n->fn == TX_FN_SUM ? "numbers" : "numbers or strings, not both", i, bl_tx_type_name(item));
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
                      json_is_string(v) ? "this string" : bl_tx_type_name(v));
}

int bl_tx_eval_call(const tx_node *n, const bl_tx_scope *sc, json_t **out, bl_err *err)
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
            if (bl_tx_eval_node(n->args[i], sc, &v, err) != 0)
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
        rc = bl_tx_eval_node(n->args[i], sc, &args[i], err);
    if (rc != 0)
        goto done;
    const json_t *a = args[0];
    switch (n->fn) {
    case TX_FN_LENGTH:
        if (json_is_string(a))
            *out = json_integer((json_int_t)bl_tx_utf8_length(json_string_value(a), json_string_length(a)));
        else if (json_is_array(a))
            *out = json_integer((json_int_t)json_array_size(a));
        else if (json_is_object(a))
            *out = json_integer((json_int_t)json_object_size(a));
        else
            rc = bl_err_set(err, BL_EINVAL, "at offset %zu: length() needs a string, an array or an object, got %s",
                            n->pos, bl_tx_type_name(a));
        break;
    case TX_FN_LOWER:
    case TX_FN_UPPER: {
        if (!json_is_string(a)) {
            rc = bl_err_set(err, BL_EINVAL, "at offset %zu: %s() needs a string, got %s", n->pos, bl_tx_fn_name(n->fn),
                            bl_tx_type_name(a));
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

