/* JSON Schema validation of an instance against a compiled schema: every
 * failing keyword becomes one problem {instancePath, schemaPath, keyword,
 * message}; anyOf/oneOf/not try their branches quietly. Depth is bounded
 * (BL_JSON_SCHEMA_DEPTH_MAX), so a $ref cycle ends as a problem. */
#include "connectors/transform/json_schema_internal.h"
#include "connectors/transform/text_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 512

typedef struct vctx {
    const bl_json_schema *s;
    json_t *problems; /* NULL: quiet, only count */
    size_t count;
    bool oom;
} vctx;

typedef struct where {
    char inst[PATH_MAX_LEN];
    char schema[PATH_MAX_LEN];
} where;

/* Appends "/token" to a path buffer of PATH_MAX_LEN bytes. */
static void push_to(char *path, const char *token)
{
    bl_tx_pointer_push(path, strlen(path), PATH_MAX_LEN, token);
}

static void num_text(const json_t *v, char *out, size_t cap)
{
    if (json_is_integer(v))
        snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        snprintf(out, cap, "%.15g", json_number_value(v));
}

__attribute__((format(printf, 5, 6))) static void problem(vctx *c, const where *w, const char *keyword,
                                                          const char *suffix, const char *fmt, ...)
{
    c->count++;
    if (!c->problems || json_array_size(c->problems) >= BL_JSON_SCHEMA_PROBLEMS_MAX)
        return;
    char msg[256], schema_path[PATH_MAX_LEN * 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(schema_path, sizeof schema_path, "%s/%s%s", w->schema, keyword, suffix ? suffix : "");
    json_t *p = json_pack("{s:s, s:s, s:s, s:s}", "instancePath", w->inst, "schemaPath", schema_path, "keyword",
                          keyword, "message", msg);
    if (!p || json_array_append_new(c->problems, p) != 0)
        c->oom = true;
}

bool bl_json_schema_values_equal(const json_t *a, const json_t *b)
{
    if (!a || !b)
        return a == b;
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!bl_json_schema_values_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)a, k, v) {
            if (!bl_json_schema_values_equal(v, json_object_get(b, k)))
                return false;
        }
        return true;
    }
    return json_equal((json_t *)a, (json_t *)b);
}

static bool has_type(const json_t *inst, const char *type)
{
    if (strcmp(type, "null") == 0)
        return json_is_null(inst);
    if (strcmp(type, "boolean") == 0)
        return json_is_boolean(inst);
    if (strcmp(type, "object") == 0)
        return json_is_object(inst);
    if (strcmp(type, "array") == 0)
        return json_is_array(inst);
    if (strcmp(type, "number") == 0)
        return json_is_number(inst);
    if (strcmp(type, "string") == 0)
        return json_is_string(inst);
    if (strcmp(type, "integer") == 0)
        return json_is_integer(inst) || (json_is_real(inst) && json_real_value(inst) == floor(json_real_value(inst)));
    return false;
}

static const char *inst_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return "null";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_STRING:
        return "string";
    case JSON_ARRAY:
        return "array";
    case JSON_OBJECT:
        return "object";
    }
    return "value";
}

static void validate(vctx *c, const json_t *schema, const json_t *inst, where *w, int depth);

/* How many problems inst has against schema, quietly. */
static size_t quiet_count(vctx *c, const json_t *schema, const json_t *inst, const where *w, int depth)
{
    vctx q = {.s = c->s};
    where w2 = *w;
    validate(&q, schema, inst, &w2, depth);
    return q.count;
}

/* Validates inst against sub (at schema suffix and, when inst_token is
 * non-NULL, instance child). */
static void descend(vctx *c, const json_t *sub, const json_t *inst, const where *w, const char *schema_suffix,
                    const char *inst_token, int depth)
{
    where *w2 = malloc(sizeof *w2);
    if (!w2) {
        c->oom = true;
        return;
    }
    *w2 = *w;
    size_t o = strlen(w2->schema);
    snprintf(w2->schema + o, sizeof w2->schema - o, "%s", schema_suffix);
    if (inst_token)
        push_to(w2->inst, inst_token);
    validate(c, sub, inst, w2, depth + 1);
    free(w2);
}

static void validate_numbers(vctx *c, const json_t *schema, const json_t *inst, const where *w)
{
    char a[40], b[40];
    double x = json_number_value(inst);
    const json_t *k;
    num_text(inst, a, sizeof a);
    if ((k = json_object_get(schema, "minimum")) && x < json_number_value(k)) {
        num_text(k, b, sizeof b);
        problem(c, w, "minimum", NULL, "%s is less than the minimum %s", a, b);
    }
    if ((k = json_object_get(schema, "maximum")) && x > json_number_value(k)) {
        num_text(k, b, sizeof b);
        problem(c, w, "maximum", NULL, "%s is greater than the maximum %s", a, b);
    }
    if ((k = json_object_get(schema, "exclusiveMinimum")) && x <= json_number_value(k)) {
        num_text(k, b, sizeof b);
        problem(c, w, "exclusiveMinimum", NULL, "%s is not greater than %s", a, b);
    }
    if ((k = json_object_get(schema, "exclusiveMaximum")) && x >= json_number_value(k)) {
        num_text(k, b, sizeof b);
        problem(c, w, "exclusiveMaximum", NULL, "%s is not less than %s", a, b);
    }
    if ((k = json_object_get(schema, "multipleOf"))) {
        double q = x / json_number_value(k);
        if (!isfinite(q) || fabs(q - round(q)) > 1e-9 * fmax(1.0, fabs(q))) {
            num_text(k, b, sizeof b);
            problem(c, w, "multipleOf", NULL, "%s is not a multiple of %s", a, b);
        }
    }
}

static void validate_string(vctx *c, const json_t *schema, const json_t *inst, const where *w)
{
    size_t len = bl_tx_utf8_length(json_string_value(inst), json_string_length(inst));
    const json_t *k;
    if ((k = json_object_get(schema, "minLength")) && (double)len < json_number_value(k))
        problem(c, w, "minLength", NULL, "%zu characters, fewer than the minimum %.0f", len, json_number_value(k));
    if ((k = json_object_get(schema, "maxLength")) && (double)len > json_number_value(k))
        problem(c, w, "maxLength", NULL, "%zu characters, more than the maximum %.0f", len, json_number_value(k));
    const regex_t *re = bl_json_schema_regex(c->s, schema);
    if (re && regexec(re, json_string_value(inst), 0, NULL, 0) != 0)
        problem(c, w, "pattern", NULL, "does not match the pattern %.120s",
                json_string_value(json_object_get(schema, "pattern")));
}

static void validate_array(vctx *c, const json_t *schema, const json_t *inst, const where *w, int depth)
{
    size_t n = json_array_size(inst), prefix = 0;
    const json_t *k;
    if ((k = json_object_get(schema, "minItems")) && (double)n < json_number_value(k))
        problem(c, w, "minItems", NULL, "%zu items, fewer than the minimum %.0f", n, json_number_value(k));
    if ((k = json_object_get(schema, "maxItems")) && (double)n > json_number_value(k))
        problem(c, w, "maxItems", NULL, "%zu items, more than the maximum %.0f", n, json_number_value(k));
    if (json_is_true(json_object_get(schema, "uniqueItems"))) {
        bool dup = false;
        for (size_t i = 0; i < n && !dup; i++)
            for (size_t j = i + 1; j < n && !dup; j++)
                if (bl_json_schema_values_equal(json_array_get(inst, i), json_array_get(inst, j))) {
                    problem(c, w, "uniqueItems", NULL, "items %zu and %zu are equal", i, j);
                    dup = true;
                }
    }
    char suffix[48], token[24];
    if ((k = json_object_get(schema, "prefixItems"))) {
        prefix = json_array_size(k);
        for (size_t i = 0; i < prefix && i < n; i++) {
            snprintf(suffix, sizeof suffix, "/prefixItems/%zu", i);
            snprintf(token, sizeof token, "%zu", i);
            descend(c, json_array_get(k, i), json_array_get(inst, i), w, suffix, token, depth);
        }
    }
    if ((k = json_object_get(schema, "items"))) {
        for (size_t i = prefix; i < n; i++) {
            snprintf(token, sizeof token, "%zu", i);
            descend(c, k, json_array_get(inst, i), w, "/items", token, depth);
        }
    }
}

static void validate_object(vctx *c, const json_t *schema, const json_t *inst, const where *w, int depth)
{
    const json_t *k, *props = json_object_get(schema, "properties");
    size_t n = json_object_size(inst);
    if ((k = json_object_get(schema, "minProperties")) && (double)n < json_number_value(k))
        problem(c, w, "minProperties", NULL, "%zu properties, fewer than the minimum %.0f", n, json_number_value(k));
    if ((k = json_object_get(schema, "maxProperties")) && (double)n > json_number_value(k))
        problem(c, w, "maxProperties", NULL, "%zu properties, more than the maximum %.0f", n, json_number_value(k));
    if ((k = json_object_get(schema, "required"))) {
        for (size_t i = 0; i < json_array_size(k); i++) {
            const char *name = json_string_value(json_array_get(k, i));
            if (!json_object_get(inst, name))
                problem(c, w, "required", NULL, "missing required property \"%.80s\"", name);
        }
    }
    const json_t *extra = json_object_get(schema, "additionalProperties");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)inst, key, v) {
        const json_t *sub = props ? json_object_get(props, key) : NULL;
        if (sub) {
            char suffix[PATH_MAX_LEN] = "/properties";
            push_to(suffix, key);
            descend(c, sub, v, w, suffix, key, depth);
        } else if (json_is_false(extra)) {
            where w2 = *w;
            push_to(w2.inst, key);
            problem(c, &w2, "additionalProperties", NULL, "property \"%.80s\" is not allowed", key);
        } else if (extra) {
            descend(c, extra, v, w, "/additionalProperties", key, depth);
        }
    }
}

static void validate_combinators(vctx *c, const json_t *schema, const json_t *inst, const where *w, int depth)
{
    const json_t *k;
    char suffix[48];
    if ((k = json_object_get(schema, "allOf"))) {
        for (size_t i = 0; i < json_array_size(k); i++) {
            snprintf(suffix, sizeof suffix, "/allOf/%zu", i);
            descend(c, json_array_get(k, i), inst, w, suffix, NULL, depth);
        }
    }
    if ((k = json_object_get(schema, "anyOf"))) {
        bool any = false;
        for (size_t i = 0; i < json_array_size(k) && !any; i++)
            any = quiet_count(c, json_array_get(k, i), inst, w, depth + 1) == 0;
        if (!any)
            problem(c, w, "anyOf", NULL, "matches none of the %zu anyOf schemas", json_array_size(k));
    }
    if ((k = json_object_get(schema, "oneOf"))) {
        size_t hits = 0;
        for (size_t i = 0; i < json_array_size(k) && hits < 2; i++)
            hits += quiet_count(c, json_array_get(k, i), inst, w, depth + 1) == 0;
        if (hits != 1)
            problem(c, w, "oneOf", NULL, hits == 0 ? "matches none of the oneOf schemas"
                                                   : "matches more than one oneOf schema (exactly one is required)");
    }
    if ((k = json_object_get(schema, "not")) && quiet_count(c, k, inst, w, depth + 1) == 0)
        problem(c, w, "not", NULL, "matches the schema under not");
}

static void validate(vctx *c, const json_t *schema, const json_t *inst, where *w, int depth)
{
    if (c->oom)
        return;
    if (depth > BL_JSON_SCHEMA_DEPTH_MAX) {
        problem(c, w, "$ref", NULL, "nested deeper than %d (a $ref cycle?)", BL_JSON_SCHEMA_DEPTH_MAX);
        return;
    }
    if (json_is_true(schema))
        return;
    if (json_is_false(schema)) {
        c->count++;
        if (c->problems && json_array_size(c->problems) < BL_JSON_SCHEMA_PROBLEMS_MAX) {
            json_t *p = json_pack("{s:s, s:s, s:s, s:s}", "instancePath", w->inst, "schemaPath",
                                  *w->schema ? w->schema : "", "keyword", "false", "message", "no value is allowed here");
            if (!p || json_array_append_new(c->problems, p) != 0)
                c->oom = true;
        }
        return;
    }
    const json_t *k;
    if ((k = json_object_get(schema, "$ref"))) {
        const json_t *target = bl_json_schema_ref(c->s, json_string_value(k));
        if (target)
            descend(c, target, inst, w, "/$ref", NULL, depth);
    }
    if ((k = json_object_get(schema, "type"))) {
        bool ok = false;
        if (json_is_string(k)) {
            ok = has_type(inst, json_string_value(k));
        } else {
            for (size_t i = 0; i < json_array_size(k) && !ok; i++)
                ok = has_type(inst, json_string_value(json_array_get(k, i)));
        }
        if (!ok) {
            char *want = json_dumps(k, JSON_COMPACT | JSON_ENCODE_ANY);
            problem(c, w, "type", NULL, "expected %.100s, got %s", want ? want : "?", inst_type(inst));
            free(want);
        }
    }
    if ((k = json_object_get(schema, "enum"))) {
        bool hit = false;
        for (size_t i = 0; i < json_array_size(k) && !hit; i++)
            hit = bl_json_schema_values_equal(inst, json_array_get(k, i));
        if (!hit)
            problem(c, w, "enum", NULL, "not one of the enum values");
    }
    if ((k = json_object_get(schema, "const")) && !bl_json_schema_values_equal(inst, k))
        problem(c, w, "const", NULL, "not the const value");
    if (json_is_number(inst))
        validate_numbers(c, schema, inst, w);
    else if (json_is_string(inst))
        validate_string(c, schema, inst, w);
    else if (json_is_array(inst))
        validate_array(c, schema, inst, w, depth);
    else if (json_is_object(inst))
        validate_object(c, schema, inst, w, depth);
    validate_combinators(c, schema, inst, w, depth);
}

json_t *bl_json_schema_validate(const bl_json_schema *s, const json_t *instance)
{
    json_t *problems = json_array();
    where *w = calloc(1, sizeof *w);
    if (!problems || !w || !s || !instance) {
        free(w);
        if (problems && (!s || !instance)) {
            json_t *p = json_pack("{s:s, s:s, s:s, s:s}", "instancePath", "", "schemaPath", "", "keyword", "type",
                                  "message", "no value");
            if (p && json_array_append_new(problems, p) == 0)
                return problems;
        }
        json_decref(problems);
        return NULL;
    }
    vctx c = {.s = s, .problems = problems};
    validate(&c, s->root, instance, w, 0);
    free(w);
    if (c.oom) {
        json_decref(problems);
        return NULL;
    }
    return problems;
}

int bl_json_schema_problems_err(const json_t *problems, const char *what, bl_err *err)
{
    const json_t *first = json_array_get(problems, 0);
    const char *path = json_string_value(json_object_get(first, "instancePath"));
    const char *msg = json_string_value(json_object_get(first, "message"));
    size_t more = json_array_size(problems) > 1 ? json_array_size(problems) - 1 : 0;
    if (more)
        return bl_err_set(err, BL_EINVAL, "%s: %s: %s (and %zu more)", what, path && *path ? path : "(root)",
                          msg ? msg : "invalid", more);
    return bl_err_set(err, BL_EINVAL, "%s: %s: %s", what, path && *path ? path : "(root)", msg ? msg : "invalid");
}
