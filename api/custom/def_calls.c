/* An endpoint's integrations, compiled and run in order. */
#include "api/custom/def_calls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALLS_MAX 16

struct bl_custom_calls {
    bl_call *calls[CALLS_MAX];
    size_t count;
};

/* err's message starts with the field's path ("retryPolicy.maxAttempts: ...");
 * the problem's field is integrations[i] then that path. */
static void call_problem(json_t *problems, size_t i, const char *msg)
{
    char field[160];
    size_t n = strcspn(msg, ": ");
    bool has_path = msg[n] == ':' && n > 0 && n < 80;
    if (has_path)
        snprintf(field, sizeof field, "integrations[%zu].%.*s", i, (int)n, msg);
    else
        snprintf(field, sizeof field, "integrations[%zu]", i);
    bl_custom_problem(problems, field, "%s", has_path ? msg + n + 2 : msg);
}

bl_custom_calls *bl_custom_calls_compile(const json_t *integrations, const char *org_id, const bl_custom_env *env,
                                         json_t *problems)
{
    if (!integrations || json_is_null(integrations))
        return NULL;
    if (!json_is_array(integrations) || json_array_size(integrations) > CALLS_MAX) {
        bl_custom_problem(problems, "integrations", "an array of at most %d IntegrationConfigs", CALLS_MAX);
        return NULL;
    }
    if (json_array_size(integrations) == 0)
        return NULL;
    bl_custom_calls *c = calloc(1, sizeof *c);
    if (!c) {
        bl_custom_problem(problems, "integrations", "out of memory");
        return NULL;
    }
    bl_call_compile_opts opts = {.allow = env->allow, .catalog = env->catalog, .organization_id = org_id};
    bool bad = false;
    size_t i;
    json_t *cfg;
    json_array_foreach(integrations, i, cfg)
    {
        bl_err err = {0};
        bl_call *call = bl_call_compile(cfg, &opts, &err);
        if (!call) {
            call_problem(problems, i, err.msg);
            bad = true;
            continue;
        }
        for (size_t k = 0; k < c->count; k++)
            if (strcmp(bl_call_id(c->calls[k]), bl_call_id(call)) == 0) {
                char field[64];
                snprintf(field, sizeof field, "integrations[%zu].id", i);
                bl_custom_problem(problems, field, "\"%s\" is the id of an earlier integration", bl_call_id(call));
                bad = true;
            }
        c->calls[c->count++] = call;
    }
    if (bad) {
        bl_custom_calls_free(c);
        return NULL;
    }
    return c;
}

void bl_custom_calls_free(bl_custom_calls *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->count; i++)
        bl_call_free(c->calls[i]);
    free(c);
}

int bl_custom_calls_run(const bl_custom_calls *c, bl_call_runner *runner, json_t *input, const char *request_id,
                        json_t **failed, bl_err *err)
{
    *failed = NULL;
    json_t *answers = json_object_get(input, "integrations");
    for (size_t i = 0; c && i < c->count; i++) {
        const bl_call *call = c->calls[i];
        char key[200];
        snprintf(key, sizeof key, "%s:%s", request_id, bl_call_id(call));
        bl_call_result out = {0};
        if (bl_call_run(runner, call, input, key, &out, err) != 0) {
            *failed = json_pack("{s:s, s:s, s:i, s:s, s:i}", "integration", bl_call_id(call), "type",
                                bl_call_type_name(bl_call_get_type(call)), "status", out.status, "error",
                                out.error[0] ? out.error : err->msg, "attempts", out.attempts);
            bl_call_result_clear(&out);
            return -1;
        }
        json_object_set_new(answers, bl_call_id(call), out.body ? json_incref(out.body) : json_null());
        bl_call_result_clear(&out);
    }
    return 0;
}
