/* Endpoint event-type patterns and payload conditions. */
#include "consumers/event_filter.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum op {
    OP_EQUALS,
    OP_NOT_EQUALS,
    OP_IN,
    OP_GT,
    OP_LT,
    OP_CONTAINS,
    OP_EXISTS,
} op;

static const char *const op_names[] = {"equals", "not_equals", "in", "gt", "lt", "contains", "exists"};
#define OP_COUNT (sizeof op_names / sizeof op_names[0])

typedef struct condition {
    char field[BL_EVENT_FIELD_PATH_MAX + 1];
    op op;
    const json_t *value; /* borrowed from the filter's conditions array */
} condition;

struct bl_event_filter {
    json_t *conditions; /* own reference; keeps every condition's value alive */
    size_t count;
    condition items[];
};

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Length of the dotted name at s (segments of name chars joined by '.'), or
 * 0 when s does not start with one; *depth receives the segment count. */
static size_t dotted_name_len(const char *s, size_t *depth)
{
    size_t i = 0, segments = 0;
    for (;;) {
        size_t start = i;
        while (is_name_char(s[i]))
            i++;
        if (i == start)
            return 0;
        segments++;
        if (s[i] != '.' || !is_name_char(s[i + 1]))
            break;
        i++;
    }
    *depth = segments;
    return i;
}

int bl_event_type_pattern_check(const char *pattern, bl_err *err)
{
    if (!pattern || !*pattern)
        return bl_err_set(err, BL_EINVAL, "event type pattern: empty");
    size_t len = strlen(pattern);
    if (len > BL_EVENT_TYPE_MAX)
        return bl_err_set(err, BL_EINVAL, "event type pattern: longer than %d characters",
                          BL_EVENT_TYPE_MAX);
    if (strcmp(pattern, "*") == 0)
        return 0;
    size_t depth = 0, name = dotted_name_len(pattern, &depth);
    if (name == len || (name > 0 && name + 2 == len && strcmp(pattern + name, ".*") == 0))
        return 0;
    return bl_err_set(err, BL_EINVAL,
                      "event type pattern \"%.*s\": use an exact type (risk.escalated), a prefix "
                      "wildcard (risk.*) or *", BL_EVENT_TYPE_MAX, pattern);
}

bool bl_event_type_matches(const char *pattern, const char *type)
{
    if (!pattern || !type)
        return false;
    if (strcmp(pattern, "*") == 0)
        return true;
    size_t len = strlen(pattern);
    if (len >= 2 && strcmp(pattern + len - 2, ".*") == 0)
        return strncmp(type, pattern, len - 1) == 0 && type[len - 1] != '\0';
    return strcmp(pattern, type) == 0;
}

const json_t *bl_event_field_lookup(const json_t *event, const char *path)
{
    const json_t *node = event;
    const char *p = path;
    while (node && p && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len > BL_EVENT_FIELD_PATH_MAX)
            return NULL;
        char seg[BL_EVENT_FIELD_PATH_MAX + 1];
        memcpy(seg, p, len);
        seg[len] = '\0';
        if (json_is_object(node)) {
            node = json_object_get(node, seg);
        } else if (json_is_array(node) && len <= 9 && strspn(seg, "0123456789") == len) {
            node = json_array_get(node, (size_t)strtoul(seg, NULL, 10));
        } else {
            return NULL;
        }
        p = dot ? dot + 1 : NULL;
    }
    return node;
}

/* Reads a string that is wholly a decimal number ("-12", "3.5", "1e3"). */
static bool numeric_string(const json_t *s, double *out)
{
    const char *text = json_string_value(s);
    size_t len = json_string_length(s);
    if (!text || len == 0 || len > 64 || strlen(text) != len || strpbrk(text, "xXpP"))
        return false;
    const char *digits = text[0] == '-' ? text + 1 : text;
    if (*digits < '0' || *digits > '9')
        return false;
    char *end = NULL;
    double v = strtod(text, &end);
    if (*end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* A number, or a string holding one. */
static bool as_number(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    return json_is_string(v) && numeric_string(v, out);
}

/* -1, 0, 1 like strcmp, for two numbers (exact for two integers). */
static int compare_numbers(const json_t *a, const json_t *b, double da, double db)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t ia = json_integer_value(a), ib = json_integer_value(b);
        return ia < ib ? -1 : ia > ib;
    }
    return da < db ? -1 : da > db;
}

static int compare_strings(const json_t *a, const json_t *b)
{
    size_t la = json_string_length(a), lb = json_string_length(b);
    int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return la < lb ? -1 : la > lb;
}

bool bl_event_values_equal(const json_t *field, const json_t *value)
{
    double a, b;
    bool either_number = json_is_number(field) || json_is_number(value);
    if (either_number && as_number(field, &a) && as_number(value, &b))
        return compare_numbers(field, value, a, b) == 0;
    if (json_is_string(field) && json_is_string(value))
        return compare_strings(field, value) == 0;
    return json_equal((json_t *)field, (json_t *)value);
}

/* Sign of field - value for gt/lt, or false when they do not compare. */
bool bl_event_values_order(const json_t *field, const json_t *value, int *sign)
{
    double a, b;
    if (json_is_number(value)) {
        if (!as_number(field, &a))
            return false;
        b = json_number_value(value);
        *sign = compare_numbers(field, value, a, b);
        return true;
    }
    if (json_is_string(value) && json_is_string(field)) {
        *sign = compare_strings(field, value);
        return true;
    }
    return false;
}

bool bl_event_value_contains(const json_t *field, const json_t *value)
{
    if (json_is_array(field)) {
        size_t i;
        const json_t *item;
        json_array_foreach(field, i, item) {
            if (bl_event_values_equal(item, value))
                return true;
        }
        return false;
    }
    if (!json_is_string(field) || !json_is_string(value))
        return false;
    return memmem(json_string_value(field), json_string_length(field), json_string_value(value),
                  json_string_length(value)) != NULL;
}

int bl_event_condition_op(const char *name)
{
    for (size_t o = 0; name && o < OP_COUNT; o++)
        if (strcmp(name, op_names[o]) == 0)
            return (int)o;
    return -1;
}

bool bl_event_condition_holds(int op, const json_t *field, const json_t *value)
{
    int sign = 0;
    switch (op) {
    case OP_EXISTS:
        return (field && !json_is_null(field)) == json_is_true(value);
    case OP_NOT_EQUALS:
        return !field || !bl_event_values_equal(field, value);
    case OP_EQUALS:
        return field && bl_event_values_equal(field, value);
    case OP_IN: {
        size_t i;
        const json_t *item;
        if (!field)
            return false;
        json_array_foreach(value, i, item) {
            if (bl_event_values_equal(field, item))
                return true;
        }
        return false;
    }
    case OP_GT:
        return field && bl_event_values_order(field, value, &sign) && sign > 0;
    case OP_LT:
        return field && bl_event_values_order(field, value, &sign) && sign < 0;
    case OP_CONTAINS:
        return field && bl_event_value_contains(field, value);
    }
    return false;
}

static bool condition_holds(const condition *c, const json_t *event)
{
    return bl_event_condition_holds((int)c->op, bl_event_field_lookup(event, c->field), c->value);
}

/* Checks one condition object and fills c; errors name the condition index. */
static int compile_condition(size_t index, const json_t *obj, condition *c, bl_err *err)
{
    if (!json_is_object(obj))
        return bl_err_set(err, BL_EINVAL, "condition %zu: not an object", index);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        if (strcmp(key, "field") != 0 && strcmp(key, "operator") != 0 && strcmp(key, "value") != 0)
            return bl_err_set(err, BL_EINVAL,
                              "condition %zu: unknown key \"%.40s\" (expected field, operator, value)",
                              index, key);
    }
    const json_t *field = json_object_get(obj, "field");
    if (!field)
        return bl_err_set(err, BL_EINVAL, "condition %zu: missing field", index);
    const char *path = json_string_value(field);
    size_t depth = 0;
    if (!path || !*path || strlen(path) > BL_EVENT_FIELD_PATH_MAX ||
        dotted_name_len(path, &depth) != strlen(path) ||
        json_string_length(field) != strlen(path))
        return bl_err_set(err, BL_EINVAL,
                          "condition %zu: field must be a dot path of [A-Za-z0-9_-] names "
                          "(e.g. data.severity), at most %d characters", index, BL_EVENT_FIELD_PATH_MAX);
    if (depth > BL_EVENT_FIELD_DEPTH_MAX)
        return bl_err_set(err, BL_EINVAL, "condition %zu: field path deeper than %d", index,
                          BL_EVENT_FIELD_DEPTH_MAX);
    const char *op_text = json_string_value(json_object_get(obj, "operator"));
    if (!op_text)
        return bl_err_set(err, BL_EINVAL, "condition %zu: missing operator", index);
    size_t o = 0;
    while (o < OP_COUNT && strcmp(op_text, op_names[o]) != 0)
        o++;
    if (o == OP_COUNT)
        return bl_err_set(err, BL_EINVAL,
                          "condition %zu: unknown operator \"%.40s\" (one of equals, not_equals, "
                          "in, gt, lt, contains, exists)", index, op_text);
    const json_t *value = json_object_get(obj, "value");
    if (!value)
        return bl_err_set(err, BL_EINVAL, "condition %zu: missing value", index);
    const char *need = NULL;
    if (o == OP_IN && !json_is_array(value))
        need = "an array";
    else if ((o == OP_GT || o == OP_LT) && !json_is_number(value) && !json_is_string(value))
        need = "a number or a string";
    else if (o == OP_CONTAINS && !json_is_string(value) && !json_is_number(value) &&
             !json_is_boolean(value))
        need = "a string, number or boolean";
    else if (o == OP_EXISTS && !json_is_boolean(value))
        need = "true or false";
    if (need)
        return bl_err_set(err, BL_EINVAL, "condition %zu: operator %s needs %s as value", index,
                          op_names[o], need);
    strcpy(c->field, path);
    c->op = (op)o;
    c->value = value;
    return 0;
}

bl_event_filter *bl_event_filter_new(const json_t *conditions, bl_err *err)
{
    if (conditions && !json_is_array(conditions)) {
        bl_err_set(err, BL_EINVAL, "conditions: not a JSON array");
        return NULL;
    }
    size_t n = conditions ? json_array_size(conditions) : 0;
    if (n > BL_EVENT_FILTER_MAX_CONDITIONS) {
        bl_err_set(err, BL_EINVAL, "conditions: %zu given, at most %d", n, BL_EVENT_FILTER_MAX_CONDITIONS);
        return NULL;
    }
    bl_event_filter *f = calloc(1, sizeof *f + n * sizeof f->items[0]);
    if (!f) {
        bl_err_set(err, BL_ENOMEM, "conditions: out of memory");
        return NULL;
    }
    f->conditions = conditions ? json_incref((json_t *)conditions) : NULL;
    for (size_t i = 0; i < n; i++) {
        if (compile_condition(i, json_array_get(conditions, i), &f->items[i], err) != 0) {
            bl_event_filter_free(f);
            return NULL;
        }
    }
    f->count = n;
    return f;
}

bl_event_filter *bl_event_filter_parse(const char *json_text, bl_err *err)
{
    json_error_t jerr;
    json_t *conditions = json_loads(json_text ? json_text : "", JSON_REJECT_DUPLICATES, &jerr);
    if (!conditions) {
        bl_err_set(err, BL_EINVAL, "conditions: invalid JSON at line %d column %d: %s", jerr.line,
                   jerr.column, jerr.text);
        return NULL;
    }
    bl_event_filter *f = bl_event_filter_new(conditions, err);
    json_decref(conditions);
    return f;
}

void bl_event_filter_free(bl_event_filter *f)
{
    if (!f)
        return;
    json_decref(f->conditions);
    free(f);
}

bool bl_event_filter_matches(const bl_event_filter *f, const json_t *event)
{
    for (size_t i = 0; f && i < f->count; i++) {
        if (!condition_holds(&f->items[i], event))
            return false;
    }
    return true;
}
