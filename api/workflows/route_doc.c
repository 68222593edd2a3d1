/* The OpenAPI operations of /v1/workflows: what a definition holds and how
 * each route treats it (document 002's WorkflowConfig / WorkflowExecution). */
#include "api/workflows/workflows.h"

#include <string.h>

static const char definition_text[] =
    "A workflow is document 002's WorkflowConfig: name, description, trigger {type: event (config {eventType: an"
    " event type pattern such as risk.* , conditions: the webhook condition language over the event}) | schedule"
    " (config {cron: five fields, timezone: an IANA zone, default UTC}; fires missed while no orchestrator ran"
    " start one execution after the restart) | webhook (no config; POST /v1/workflows/:id/hooks signed per"
    " Standard Webhooks starts it, the body as input) | api-call (no config; a custom endpoint whose workflow"
    " names it starts it per request)}, steps (WorkflowSteps {id, name, type:"
    " integration (config = an IntegrationConfig: http, graphql, webhook or bus, called with the idempotency key"
    " <execution id>:<step id>:<step run>) | transformation (config = a TransformationRule) | condition (config"
    " {expression, onTrue, onFalse}) | delay (config {duration: ms up to 30 days}); parallel is refused},"
    " onSuccess, onError, timeout (ms), retryPolicy {maxAttempts, backoffStrategy, baseDelay, maxDelay}}; the"
    " first step starts), errorHandling {retryPolicy: every step's default}, notifications (refused when not"
    " empty), version (semver; every save kept) and isActive. Refused whole with 422 and field_errors naming each"
    " problem: a reference to no step, a step unreachable from the first, a cycle without a delay, a failing"
    " transformation test case, any invalid field. `busline workflows` runs the executions, one per workflow and"
    " triggering event, with their state in PostgreSQL at every step boundary.";

static const struct {
    const char *method, *pattern, *summary, *status, *answer;
} docs[] = {
    {"GET", "/v1/workflows", "List the organization's workflows (paginated: limit, offset, sort)", "200",
     "{data: [definition], pagination}"},
    {"POST", "/v1/workflows", "Create a workflow from its definition (version 1.0.0 unless given)", "201",
     "the definition with id, createdAt, updatedAt"},
    {"GET", "/v1/workflows/:id", "Read a workflow", "200", "the definition"},
    {"PUT", "/v1/workflows/:id",
     "Replace a workflow's definition; the previous version is kept (running executions go on with theirs)."
     " version: above every saved one, or absent (or unchanged) for the next patch",
     "200", "the definition"},
    {"DELETE", "/v1/workflows/:id", "Delete a workflow, its versions and executions", "204", "nothing"},
    {"GET", "/v1/workflows/:id/versions", "Every saved version, newest first", "200",
     "{data: [{version, savedAt, savedBy, current}]}"},
    {"GET", "/v1/workflows/:id/executions",
     "The workflow's executions (paginated; ?status=running|completed|failed|cancelled)", "200",
     "{data: [execution], pagination}"},
    {"GET", "/v1/workflows/:id/executions/:eid", "One execution, step by step: each step run's input, output,"
     " attempts and error", "200", "{id, status, input, context, currentStep, steps: [...], ...}"},
    {"POST", "/v1/workflows/:id/executions/:eid/cancel",
     "Cancel a running execution (409 when it is not running): no further step runs", "200", "the execution"},
    {"POST", "/v1/workflows/:id/hook-secret",
     "A new signing secret for a webhook-triggered workflow (409 for another trigger; 503 without"
     " BUSLINE_ENCRYPTION_KEYS): shown once, kept sealed; the previous one stops verifying",
     "201", "{url, secret: whsec_..., signature}"},
    {"POST", "/v1/workflows/:id/hooks",
     "Start an execution of a webhook-triggered workflow, the JSON body as its input. No API credentials: signed"
     " per Standard Webhooks with the workflow's secret (webhook-id, webhook-timestamp within 300 s,"
     " webhook-signature v1,<base64 HMAC-SHA256 of id.timestamp.body>); 401 invalid_signature otherwise, 409"
     " replayed for a webhook-id already received",
     "202", "{executionId, workflowId, status: running}"},
    {"POST", "/v1/workflows/:id/executions/:eid/retry",
     "Run a failed execution again from its failed step (409 when it is not failed)", "200", "the execution"},
};

int bl_wf_api_document(bl_api_server *s, bl_err *err)
{
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_t *op = json_pack("{s:s, s:s, s:[s], s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}", "summary", docs[i].summary,
                               "description", definition_text, "tags", "workflows", "responses", docs[i].status,
                               "description", docs[i].answer, "404", "description",
                               "no such workflow or execution in this organization (not_found)", "409",
                               "description", "the execution is not in a state that allows it (conflict)", "422",
                               "description", "the definition has problems; nothing saved (invalid_definition)");
        if (op && strstr(docs[i].pattern, "/hooks"))
            json_object_set_new(json_object_get(op, "responses"), "401",
                                json_pack("{s:s}", "description",
                                          "the signature does not verify, or its timestamp is not within 300 s"
                                          " (invalid_signature)"));
        if (!op)
            return bl_err_set(err, BL_ENOMEM, "workflows: out of memory");
        if (bl_api_server_document(s, docs[i].method, docs[i].pattern, op, err) != 0)
            return -1;
    }
    return 0;
}
