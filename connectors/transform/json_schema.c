/* JSON Schema compile: every keyword of the supported subset checked once,
 * patterns compiled (POSIX extended regex), $refs resolved; anything outside
 * the subset refused with its schema path, never silently ignored. */
#include "connectors/transform/json_schema_internal.h"
#include "connectors/transform/text_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRAFT_2020_12 "https://json-schema.org/draft/2020-12/schema"

typedef struct compiler {
    bl_json_schema *s;
    bl_err *err;
} compiler;

static int compile_node(compiler *c, const json_t *node, char *path, size_t plen, int depth);

static size_t path_push_index(char *path, size_t plen, size_t i)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%zu", i);
    return bl_tx_pointer_push(path, plen, BL_ERR_MSG_MAX, tmp);
}

static int bad(compiler *c, const char *path, const char *what)
{
    return bl_err_set(c->err, BL_EINVAL, "%s: %s", *path ? path : "(root)", what);
}

static bool is_nonneg_int(const json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) >= 0;
    return json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) == floor(json_real_value(v)) &&
           json_real_value(v) < 9e15;
}

static const char *const type_names[] = {"null", "boolean", "object", "array", "number", "string", "integer", NULL};

static bool known_type(const json_t *v)
{
    for (size_t i = 0; json_is_string(v) && type_names[i]; i++)
        if (strcmp(json_string_value(v), type_names[i]) == 0)
            return true;
    return false;
}

static int compile_array_of_schemas(compiler *c, const json_t *arr, char *path, size_t plen, int depth)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return bad(c, path, "must be a non-empty array of schemas");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        size_t l = path_push_index(path, plen, i);
        if (compile_node(c, json_array_get(arr, i), path, l, depth + 1) != 0)
            return -1;
        path[plen] = '\0';
    }
    return 0;
}

static int compile_map_of_schemas(compiler *c, const json_t *obj, char *path, size_t plen, int depth)
{
    if (!json_is_object(obj))
        return bad(c, path, "must be an object of schemas");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        size_t l = bl_tx_pointer_push(path, plen, BL_ERR_MSG_MAX, k);
        if (compile_node(c, v, path, l, depth + 1) != 0)
            return -1;
        path[plen] = '\0';
    }
    return 0;
}

static int add_regex(compiler *c, const json_t *owner, const char *pattern, const char *path)
{
    schema_regex *r = realloc(c->s->regex, (c->s->n_regex + 1) * sizeof *r);
    if (!r)
        return bl_err_set(c->err, BL_ENOMEM, "out of memory");
    c->s->regex = r;
    int rc = regcomp(&r[c->s->n_regex].re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[128];
        regerror(rc, &r[c->s->n_regex].re, why, sizeof why);
        return bl_err_set(c->err, BL_EINVAL, "%s: not a POSIX extended regular expression: %s", path, why);
    }
    r[c->s->n_regex++].owner = owner;
    return 0;
}

/* One keyword of schema object node; path ends with the keyword. */
static int compile_keyword(compiler *c, const json_t *node, const char *k, const json_t *v, char *path, size_t plen,
                           int depth)
{
    if (strcmp(k, "type") == 0) {
        if (json_is_string(v))
            return known_type(v) ? 0 : bad(c, path, "unknown type (null, boolean, object, array, number, string, integer)");
        if (!json_is_array(v) || json_array_size(v) == 0)
            return bad(c, path, "must be a type name or a non-empty array of them");
        for (size_t i = 0; i < json_array_size(v); i++)
            if (!known_type(json_array_get(v, i)))
                return bad(c, path, "unknown type (null, boolean, object, array, number, string, integer)");
        return 0;
    }
    if (strcmp(k, "properties") == 0 || strcmp(k, "$defs") == 0)
        return compile_map_of_schemas(c, v, path, plen, depth);
    if (strcmp(k, "required") == 0) {
        if (!json_is_array(v))
            return bad(c, path, "must be an array of property names");
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (!json_is_string(json_array_get(v, i)))
                return bad(c, path, "must be an array of property names");
            for (size_t j = 0; j < i; j++)
                if (json_equal(json_array_get(v, i), json_array_get(v, j)))
                    return bad(c, path, "names a property twice");
        }
        return 0;
    }
    if (strcmp(k, "additionalProperties") == 0 || strcmp(k, "items") == 0 || strcmp(k, "not") == 0)
        return compile_node(c, v, path, plen, depth + 1);
    if (strcmp(k, "prefixItems") == 0 || strcmp(k, "allOf") == 0 || strcmp(k, "anyOf") == 0 ||
        strcmp(k, "oneOf") == 0)
        return compile_array_of_schemas(c, v, path, plen, depth);
    if (strcmp(k, "enum") == 0)
        return json_is_array(v) && json_array_size(v) > 0 ? 0 : bad(c, path, "must be a non-empty array");
    if (strcmp(k, "const") == 0 || strcmp(k, "default") == 0)
        return 0;
    if (strcmp(k, "minimum") == 0 || strcmp(k, "maximum") == 0 || strcmp(k, "exclusiveMinimum") == 0 ||
        strcmp(k, "exclusiveMaximum") == 0)
        return json_is_number(v) ? 0 : bad(c, path, "must be a number");
    if (strcmp(k, "multipleOf") == 0)
        return json_is_number(v) && json_number_value(v) > 0 ? 0 : bad(c, path, "must be a number greater than 0");
    if (strcmp(k, "minLength") == 0 || strcmp(k, "maxLength") == 0 || strcmp(k, "minItems") == 0 ||
        strcmp(k, "maxItems") == 0 || strcmp(k, "minProperties") == 0 || strcmp(k, "maxProperties") == 0)
        return is_nonneg_int(v) ? 0 : bad(c, path, "must be a non-negative integer");
    if (strcmp(k, "pattern") == 0) {
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
            return bad(c, path, "must be a string (a POSIX extended regular expression)");
        return add_regex(c, node, json_string_value(v), path);
    }
    if (strcmp(k, "uniqueItems") == 0 || strcmp(k, "deprecated") == 0 || strcmp(k, "readOnly") == 0 ||
        strcmp(k, "writeOnly") == 0)
        return json_is_boolean(v) ? 0 : bad(c, path, "must be true or false");
    if (strcmp(k, "$ref") == 0) {
        if (!json_is_string(v))
            return bad(c, path, "must be a string");
        if (!bl_json_schema_ref(c->s, json_string_value(v)))
            return bl_err_set(c->err, BL_EINVAL, "%s: \"%.60s\" does not resolve (supported: \"#\" and \"#/$defs/<name>\")",
                              path, json_string_value(v));
        return 0;
    }
    if (strcmp(k, "$schema") == 0) {
        if (depth != 0)
            return bad(c, path, "only at the root");
        return json_is_string(v) && strcmp(json_string_value(v), DRAFT_2020_12) == 0
                   ? 0
                   : bad(c, path, "only draft 2020-12 (" DRAFT_2020_12 ") is supported");
    }
    if (strcmp(k, "$id") == 0 || strcmp(k, "$comment") == 0 || strcmp(k, "title") == 0 ||
        strcmp(k, "description") == 0 || strcmp(k, "format") == 0)
        return json_is_string(v) ? 0 : bad(c, path, "must be a string");
    if (strcmp(k, "examples") == 0)
        return json_is_array(v) ? 0 : bad(c, path, "must be an array");
    char msg[128];
    snprintf(msg, sizeof msg, "unknown keyword \"%.40s\" (not in the supported subset; see connectors/transform/README.md)",
             k);
    return bad(c, path, msg);
}

static int compile_node(compiler *c, const json_t *node, char *path, size_t plen, int depth)
{
    if (depth > BL_JSON_SCHEMA_DEPTH_MAX)
        return bad(c, path, "schema nested too deep");
    if (json_is_boolean(node))
        return 0;
    if (!json_is_object(node))
        return bad(c, path, "a schema must be an object or a boolean");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)node, k, v) {
        size_t l = bl_tx_pointer_push(path, plen, BL_ERR_MSG_MAX, k);
        if (compile_keyword(c, node, k, v, path, l, depth) != 0)
            return -1;
        path[plen] = '\0';
    }
    const json_t *lo = json_object_get(node, "minimum"), *hi = json_object_get(node, "maximum");
    if (lo && hi && json_number_value(lo) > json_number_value(hi))
        return bad(c, path, "minimum is greater than maximum");
    return 0;
}

const json_t *bl_json_schema_ref(const bl_json_schema *s, const char *ref)
{
    if (strcmp(ref, "#") == 0)
        return s->root;
    if (strncmp(ref, "#/$defs/", 8) != 0 || !ref[8])
        return NULL;
    char name[256];
    size_t o = 0;
    for (const char *p = ref + 8; *p; p++) {
        if (o + 1 >= sizeof name || *p == '/')
            return NULL;
        if (*p == '~' && (p[1] == '0' || p[1] == '1')) {
            name[o++] = p[1] == '0' ? '~' : '/';
            p++;
        } else {
            name[o++] = *p;
        }
    }
    name[o] = '\0';
    const json_t *target = json_object_get(json_object_get(s->root, "$defs"), name);
    return json_is_object(target) || json_is_boolean(target) ? target : NULL;
}

const regex_t *bl_json_schema_regex(const bl_json_schema *s, const json_t *owner)
{
    for (size_t i = 0; i < s->n_regex; i++)
        if (s->regex[i].owner == owner)
            return &s->regex[i].re;
    return NULL;
}

bl_json_schema *bl_json_schema_compile(const json_t *schema, bl_err *err)
{
    if (!schema) {
        bl_err_set(err, BL_EINVAL, "(root): a schema must be an object or a boolean");
        return NULL;
    }
    bl_json_schema *s = calloc(1, sizeof *s);
    if (!s) {
        bl_err_set(err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    s->root = json_incref((json_t *)schema);
    compiler c = {.s = s, .err = err};
    char path[BL_ERR_MSG_MAX] = "";
    if (compile_node(&c, schema, path, 0, 0) != 0) {
        bl_json_schema_free(s);
        return NULL;
    }
    return s;
}

void bl_json_schema_free(bl_json_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_regex; i++)
        regfree(&s->regex[i].re);
    free(s->regex);
    json_decref(s->root);
    free(s);
}
