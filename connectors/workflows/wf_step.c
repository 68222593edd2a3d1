/* One step of a workflow run (see wf_step.h). */
#include "connectors/workflows/wf_step.h"


#include <stdio.h>
#include <string.h>

static void failed(bl_wf_step_result *out, const char *what, const char *msg)
{
    out->ok = false;
    snprintf(out->error, sizeof out->error, "%s: %s", what, msg);
}

static void run_transformation(const bl_wf_step *s, const json_t *context, bl_wf_step_result *out)
{
    bl_err err = {0};
    if (!(out->output = bl_transform_apply(s->transform, context, &err)))
        return failed(out, "transformation", err.msg);
    out->ok = true;
    out->next = s->on_success;
}

static void run_condition(const bl_wf_step *s, const json_t *context, bl_wf_step_result *out)
{
    bl_err err = {0};
    bool yes = false;
    bl_tx_scope scope = {.root = context};
    if (bl_tx_expr_test(s->expr, &scope, &yes, &err) != 0)
        return failed(out, "condition", err.msg);
    out->ok = true;
    out->output = json_pack("{s:b}", "result", yes);
    const char *branch = yes ? s->on_true : s->on_false;
    out->next = branch ? branch : s->on_success;
}

static void run_integration(const bl_wf_step *s, const json_t *context, bl_call_runner *runner, const char *key,
                            bl_wf_step_result *out)
{
    bl_call_result res = {0};
    bl_err err = {0};
    int rc = bl_call_run(runner, s->call, context, key, &res, &err);
    out->output = json_pack("{s:i, s:O?, s:s, s:i}", "status", res.status, "body", res.body, "source",
                            bl_call_source_name(res.source), "attempts", res.attempts);
    bl_call_result_clear(&res);
    if (rc != 0)
        return failed(out, "integration", err.msg);
    out->ok = true;
    out->next = s->on_success;
}

void bl_wf_step_run(const bl_wf_step *s, const json_t *context, bl_call_runner *runner, const char *idempotency_key,
                    bl_wf_step_result *out)
{
    memset(out, 0, sizeof *out);
    switch (s->type) {
    case BL_WF_TRANSFORMATION:
        run_transformation(s, context, out);
        break;
    case BL_WF_CONDITION:
        run_condition(s, context, out);
        break;
    case BL_WF_INTEGRATION:
        if (!runner || !s->call)
            failed(out, "integration", "no call runner");
        else
            run_integration(s, context, runner, idempotency_key, out);
        break;
    case BL_WF_DELAY:
        failed(out, "delay", "a delay is a timer, not a step to run");
        break;
    }
}

void bl_wf_step_result_clear(bl_wf_step_result *r)
{
    json_decref(r->output);
    r->output = NULL;
}
