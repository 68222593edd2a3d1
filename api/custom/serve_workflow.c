/* A custom endpoint that names a workflow (its definition's workflow
 * {id, wait, waitTimeout}): each request starts one execution of that
 * `api-call` workflow, its input {method, path, params, query, body,
 * requestId}; `busline workflows` runs it. Without wait the answer is 202
 * with the execution's id at once; with wait the request waits (at most
 * waitTimeout, polling PostgreSQL, never holding a connection while
 * asleep) for the execution to end: completed is 200 with the last step's
 * output, failed or cancelled a 502 WORKFLOW_ERROR, still running a 202. */
#include "api/custom/context.h"
#include "connectors/workflows/wf_exec.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/pg_pool.h"
#include "core/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POLL_US 50000

/* Starts the execution; 1 with its id, 0 when the workflow cannot take it, -1 err. */
static int start(PGconn *conn, const bl_custom_def *d, const json_t *input, char exec_id[BL_WF_ID_MAX], bl_err *err)
{
    const char *p[] = {d->workflow_id, d->org_id};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT version, config -> 'steps' -> 0 ->> 'id' FROM workflows WHERE id::text = $1"
                             " AND organization_id::text = $2 AND is_active AND trigger_type = 'api-call'",
                             2, p, err);
    if (!r)
        return -1;
    int rc = 0;
    char uuid[BL_UUID_SIZE], trigger_id[BL_UUID_SIZE + 16];
    if (PQntuples(r) == 1 && (rc = bl_uuid_random(uuid, err)) == 0) {
        snprintf(trigger_id, sizeof trigger_id, "api-call:%s", uuid);
        rc = bl_wf_exec_start(conn, d->org_id, d->workflow_id, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), trigger_id,
                              input, exec_id, err);
    }
    PQclear(r);
    return rc;
}

/* Where execution id stands: its status into status, and (once ended) the
 * last step run's output and the error into *out (new reference). 0 or -1. */
static int poll_execution(bl_pg_pool *pool, const char *id, char status[16], json_t **out, bl_err *err)
{
    PGconn *conn = bl_pg_pool_acquire(pool, 5000, err);
    if (!conn)
        return -1;
    const char *p[] = {id};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT e.status, json_build_object('output', (SELECT s.output FROM"
                             " workflow_execution_steps s WHERE s.execution_id = e.id ORDER BY s.seq DESC LIMIT 1),"
                             " 'error', e.error_message)::text FROM workflow_executions e WHERE e.id = $1::uuid",
                             1, p, err);
    bl_pg_pool_release(pool, conn);
    if (!r)
        return -1;
    int rc = PQntuples(r) == 1 ? 0 : bl_err_set(err, BL_ENOTFOUND, "custom api: execution %s is gone", id);
    if (rc == 0) {
        snprintf(status, 16, "%s", PQgetvalue(r, 0, 0));
        *out = strcmp(status, "running") == 0 ? NULL : json_loads(PQgetvalue(r, 0, 1), 0, NULL);
    }
    PQclear(r);
    return rc;
}

static int answer_running(bl_http_response *resp, const bl_custom_def *d, const char *exec_id)
{
    char location[200];
    snprintf(location, sizeof location, "/v1/workflows/%s/executions/%s", d->workflow_id, exec_id);
    bl_http_response_header(resp, "Location", location);
    json_t *body = json_pack("{s:s, s:s, s:s}", "executionId", exec_id, "workflowId", d->workflow_id, "status",
                             "running");
    int rc = body ? bl_http_response_json(resp, 202, body) : -1;
    json_decref(body);
    return rc;
}

int bl_custom_run_workflow(bl_custom_ctx *ctx, const bl_custom_def *d, const bl_api_request *req, json_t *params,
                           json_t *query, bl_http_response *resp)
{
    bl_pg_pool *pool = bl_api_server_pool(ctx->server);
    bl_err err = {0};
    char exec_id[BL_WF_ID_MAX] = "";
    json_t *input = json_pack("{s:s, s:s, s:O, s:O, s:O, s:s}", "method", d->method, "path",
                              bl_http_request_path(req->http), "params", params, "query", query, "body",
                              req->body ? req->body : json_null(), "requestId", bl_http_request_id(req->http));
    PGconn *conn = input ? bl_pg_pool_acquire(pool, 5000, &err) : NULL;
    int started = conn ? start(conn, d, input, exec_id, &err) : -1;
    bl_pg_pool_release(pool, conn);
    json_decref(input);
    if (started == 0)
        return bl_custom_fail(req, resp, 502, "WORKFLOW_ERROR", "WORKFLOW_UNAVAILABLE",
                              "the endpoint's workflow is missing, inactive or not an api-call workflow",
                              json_pack("{s:s}", "workflowId", d->workflow_id));
    if (started < 0) {
        bl_log_error("custom api: workflow not started", BL_FS("custom_api_id", d->id),
                     BL_FS("workflow_id", d->workflow_id), BL_FS("error", err.msg));
        return -1;
    }
    bl_log_info("custom api: workflow started", BL_FS("custom_api_id", d->id), BL_FS("workflow_id", d->workflow_id),
                BL_FS("execution_id", exec_id), BL_FS("request_id", bl_http_request_id(req->http)));
    if (!d->workflow_wait)
        return answer_running(resp, d, exec_id);
    int64_t deadline = bl_clock_mono_ms() + d->workflow_wait_ms;
    char status[16] = "running";
    json_t *end = NULL;
    while (!end) {
        if (poll_execution(pool, exec_id, status, &end, &err) != 0) {
            bl_log_error("custom api: workflow result unreadable", BL_FS("execution_id", exec_id),
                         BL_FS("error", err.msg));
            return -1;
        }
        if (end || bl_clock_mono_ms() >= deadline)
            break;
        usleep(POLL_US);
    }
    if (!end)
        return answer_running(resp, d, exec_id);
    int rc;
    if (strcmp(status, "completed") == 0) {
        json_t *body = json_pack("{s:s, s:s, s:O}", "executionId", exec_id, "status", status, "output",
                                 json_object_get(end, "output"));
        rc = body ? bl_http_response_json(resp, 200, body) : -1;
        json_decref(body);
    } else {
        json_t *details = json_pack("{s:s, s:s, s:O}", "executionId", exec_id, "status", status, "error",
                                    json_object_get(end, "error"));
        rc = bl_custom_fail(req, resp, 502, "WORKFLOW_ERROR",
                            strcmp(status, "failed") == 0 ? "WORKFLOW_FAILED" : "WORKFLOW_CANCELLED",
                            "the endpoint's workflow did not complete", details);
    }
    json_decref(end);
    return rc;
}
