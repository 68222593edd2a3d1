/* A workflow definition (seed document 002's WorkflowConfig and
 * WorkflowStep) checked whole and compiled. The accepted JSON:
 *
 *   name          required, 1..200 characters; description optional
 *   version       optional semver (the store numbers saves); isActive optional
 *   trigger       {type, config}:
 *                 "event": config {eventType: an event type pattern
 *                 ("risk.escalated", "risk.*", "*"), conditions: the webhook
 *                 condition language (consumers/event_filter.h), over the
 *                 event as webhooks see it: {"type", "data", ...}};
 *                 "schedule": config {cron: five fields (core/cron.h),
 *                 timezone: an IANA zone, default "UTC"}; an expression that
 *                 never fires in five years is refused.
 *                 "webhook": config absent or {}: executions start from
 *                 signed POSTs to /v1/workflows/:id/hooks (api/workflows/
 *                 route_hooks.c), the body as their input.
 *                 "api-call": config absent or {}: executions start from
 *                 the custom endpoints naming the workflow (api/custom/
 *                 serve_workflow.c), the request as their input.
 *   steps         1..64 WorkflowSteps {id, name?, type, config, onSuccess?,
 *                 onError?, timeout? (ms), retryPolicy?}; the first one starts.
 *                 onSuccess absent: the execution completes after the step;
 *                 onError absent: a failure of the step fails the execution.
 *     integration    config = an IntegrationConfig (connectors/calls/call.h);
 *                    timeout, when the config has none, becomes its timeout
 *     transformation config = a TransformationRule (connectors/transform)
 *     condition      config {expression (the engine's language, a boolean),
 *                    onTrue?, onFalse?}: the next step by the result (absent:
 *                    onSuccess)
 *     delay          config {duration: ms, 1 .. 30 days}
 *     parallel       refused (not built)
 *   errorHandling optional {retryPolicy}: the default of every step
 *   retryPolicy   {maxAttempts 1..10 (default 1), backoffStrategy "fixed" |
 *                 "linear" | "exponential" (default), baseDelay ms 0..3600000
 *                 (default 1000), maxDelay ms baseDelay..86400000 (default 60000)}
 *   notifications optional; a non-empty list is refused (not built)
 *
 * The graph: every onSuccess / onError / onTrue / onFalse names a step;
 * every step is reachable from the first; every cycle holds a delay. Each
 * transformation's testCases must pass. What every step sees is the
 * execution's context {"input": the trigger's input, "steps": {id: output}}. */
#ifndef BUSLINE_CONNECTORS_WORKFLOWS_WF_DEF_H
#define BUSLINE_CONNECTORS_WORKFLOWS_WF_DEF_H

#include "connectors/calls/call.h"
#include "connectors/transform/expr.h"
#include "connectors/transform/transform.h"
#include "consumers/event_filter.h"
#include "core/cron.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define BL_WF_STEPS_MAX 64
#define BL_WF_STEP_ID_MAX 64
#define BL_WF_DELAY_MAX_MS (30LL * 24 * 3600 * 1000)

typedef enum bl_wf_step_type {
    BL_WF_INTEGRATION = 0,
    BL_WF_TRANSFORMATION,
    BL_WF_CONDITION,
    BL_WF_DELAY,
} bl_wf_step_type;

typedef enum bl_wf_backoff {
    BL_WF_BACKOFF_EXPONENTIAL = 0,
    BL_WF_BACKOFF_FIXED,
    BL_WF_BACKOFF_LINEAR,
} bl_wf_backoff;

typedef struct bl_wf_retry {
    int max_attempts;
    bl_wf_backoff strategy;
    int64_t base_ms, max_ms;
} bl_wf_retry;

typedef struct bl_wf_step {
    char id[BL_WF_STEP_ID_MAX + 1];
    bl_wf_step_type type;
    const char *on_success, *on_error, *on_true, *on_false; /* borrowed from the def's JSON; NULL: none */
    int64_t timeout_ms;   /* 0: none given */
    int64_t delay_ms;     /* delay */
    bl_wf_retry retry;
    bl_transform *transform; /* transformation */
    bl_tx_expr *expr;        /* condition */
    bl_call *call;           /* integration (NULL when compiled without calls) */
} bl_wf_step;

typedef enum bl_wf_trigger_type {
    BL_WF_TRIGGER_EVENT = 0,
    BL_WF_TRIGGER_SCHEDULE,
    BL_WF_TRIGGER_WEBHOOK,
    BL_WF_TRIGGER_API_CALL,
} bl_wf_trigger_type;

typedef struct bl_wf_def {
    json_t *json;                 /* the definition (a reference kept: the steps borrow from it) */
    bl_wf_trigger_type trigger_type;
    bl_cron schedule;             /* schedule */
    char trigger_event[BL_EVENT_TYPE_MAX + 1];
    bl_event_filter *trigger_filter;
    size_t n_steps;
    bl_wf_step steps[BL_WF_STEPS_MAX];
} bl_wf_def;

/* What compiling needs of the process (borrowed for the call). */
typedef struct bl_wf_env {
    const bl_ssrf_allowlist *allow; /* integration URLs beyond public addresses; NULL: none */
    const bl_catalog *catalog;      /* bus integrations; NULL: the default catalog */
    const char *organization_id;    /* the workflow's organization (its calls' breakers) */
    bool run_tests;                 /* run the transformations' testCases (on save) */
} bl_wf_env;

/* Checks def (borrowed) whole and compiles it. Every problem is added to
 * problems (an object of field -> [message, ...], "steps[2].onSuccess").
 * Returns the definition (free with bl_wf_def_free) when there was none,
 * else NULL. */
bl_wf_def *bl_wf_def_compile(const json_t *def, const bl_wf_env *env, json_t *problems);

/* Frees d; accepts NULL. */
void bl_wf_def_free(bl_wf_def *d);

/* The step of d with this id (borrowed), or NULL. */
const bl_wf_step *bl_wf_def_step(const bl_wf_def *d, const char *id);

/* The backoff before attempt failed+1 of a step whose attempt number
 * failed (1-based) has just failed, in ms. */
int64_t bl_wf_retry_backoff_ms(const bl_wf_retry *r, int failed);

/* "integration", "transformation", "condition", "delay". */
const char *bl_wf_step_type_name(bl_wf_step_type t);

#endif
