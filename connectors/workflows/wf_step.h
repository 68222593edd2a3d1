/* Runs one step of a workflow against an execution's context: a
 * transformation, a condition or an integration (delays are timers, run by
 * the orchestrator: wf_orchestrator.c). */
#ifndef BUSLINE_CONNECTORS_WORKFLOWS_WF_STEP_H
#define BUSLINE_CONNECTORS_WORKFLOWS_WF_STEP_H

#include "connectors/workflows/wf_def.h"

/* What one run gave. Clear with bl_wf_step_result_clear. */
typedef struct bl_wf_step_result {
    bool ok;
    json_t *output;            /* new reference (may be NULL after a failure) */
    const char *next;          /* ok: the step to run next (borrowed from the definition), NULL: the end */
    char error[BL_ERR_MSG_MAX + 32]; /* !ok: why */
} bl_wf_step_result;

/* Runs step s (not a delay) with context (borrowed) as its input; an
 * integration goes through runner with idempotency_key (the same for every
 * replay of this step run). Fills out; never fails otherwise. */
void bl_wf_step_run(const bl_wf_step *s, const json_t *context, bl_call_runner *runner, const char *idempotency_key,
                    bl_wf_step_result *out);

void bl_wf_step_result_clear(bl_wf_step_result *r);

#endif
