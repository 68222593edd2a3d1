/* A webhook endpoint's payload transformation (see transformation.h):
 * checked on save, applied to the body before signing. */
#include "connectors/webhook/policy/transformation.h"

#include "core/time_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Compiles rule into *out (may be NULL: compile only to check), noting
 * each problem under prefix. */
static int check_rule(const json_t *rule, const char *prefix, json_t *problems, bl_transform **out)
{
    char field[160];
    if (!json_is_object(rule)) {
        json_object_set_new(problems, prefix,
                            json_string("a TransformationRule object {id, name, type, inputSchema, outputSchema, "
                                        "rules, testCases}, or null for none"));
        return -1;
    }
    char *text = json_dumps(rule, JSON_COMPACT);
    size_t text_len = text ? strlen(text) : 0;
    free(text);
    if (!text || text_len > BL_WEBHOOK_TRANSFORMATION_TEXT_MAX) {
        snprintf(field, sizeof field, "at most %d bytes as compact JSON", BL_WEBHOOK_TRANSFORMATION_TEXT_MAX);
        json_object_set_new(problems, prefix, json_string(field));
        return -1;
    }
    bl_err err = {0};
    bl_transform *t = bl_transform_compile(rule, &err);
    if (!t) {
        json_object_set_new(problems, prefix, json_string(err.msg));
        return -1;
    }
    json_t *failures = NULL;
    int failed = bl_transform_run_tests(t, &failures);
    if (failed < 0)
        json_object_set_new(problems, prefix, json_string("out of memory running the test cases"));
    size_t i;
    json_t *f;
    json_array_foreach(failures, i, f)
    {
        char text_out[512];
        bl_transform_failure_text(f, text_out, sizeof text_out);
        snprintf(field, sizeof field, "%.100s.testCases[%lld]", prefix,
                 (long long)json_integer_value(json_object_get(f, "index")));
        json_object_set_new(problems, field, json_string(text_out));
    }
    json_decref(failures);
    if (failed != 0 || !out) {
        bl_transform_free(t);
        return failed != 0 ? -1 : 0;
    }
    *out = t;
    return 0;
}

int bl_webhook_transformation_check(const json_t *rule, const char *prefix, json_t *problems)
{
    return check_rule(rule, prefix, problems, NULL);
}

bl_transform *bl_webhook_transformation_compile(const json_t *rule, bl_err *err)
{
    json_t *problems = json_object();
    bl_transform *t = NULL;
    if (!problems) {
        bl_err_set(err, BL_ENOMEM, "transformation: out of memory");
        return NULL;
    }
    if (check_rule(rule, "transformation", problems, &t) != 0) {
        void *it = json_object_iter(problems);
        const char *field = it ? json_object_iter_key(it) : "";
        const char *msg = it ? json_string_value(json_object_iter_value(it)) : NULL;
        size_t more = json_object_size(problems);
        /* "transformation: testCases[1]: ...": the API names the field by what comes before ':' */
        const char *sub = strncmp(field, "transformation.", 15) == 0 ? field + 15 : NULL;
        bl_err_set(err, BL_EINVAL, "transformation: %s%s%s%s", sub ? sub : "", sub ? ": " : "",
                   msg ? msg : "not valid", more > 1 ? " (and other problems)" : "");
    }
    json_decref(problems);
    return t;
}

char *bl_webhook_transformation_apply(const bl_transform *t, const char *body, size_t body_len, int64_t now_ms,
                                      size_t *out_len, json_t **problems, bl_err *err)
{
    if (problems)
        *problems = NULL;
    json_error_t jerr;
    json_t *in = json_loadb(body, body_len, JSON_DECODE_ANY, &jerr);
    if (!in) {
        bl_err_set(err, BL_EINVAL, "transformation: the body is not JSON: %s", jerr.text);
        return NULL;
    }
    char now[BL_RFC3339_MS_SIZE];
    bl_rfc3339_format_millis(now_ms, now, sizeof now);
    bl_transform_ctx ctx = {.now = now};
    bl_err aerr = {0};
    json_t *out = bl_transform_apply_ex(t, in, &ctx, problems, &aerr);
    json_decref(in);
    char *text = NULL;
    if (!out)
        bl_err_set(err, aerr.code ? aerr.code : BL_EINVAL, "transformation: %s", aerr.msg);
    else if (json_is_null(out))
        bl_err_set(err, BL_EINVAL, "transformation: its output is null (a filter dropped the event), so there "
                                   "is no body to send");
    else if (!(text = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY)))
        bl_err_set(err, BL_ENOMEM, "transformation: out of memory writing the body");
    json_decref(out);
    if (text)
        *out_len = strlen(text);
    return text;
}
