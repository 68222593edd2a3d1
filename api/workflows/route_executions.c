/* /v1/workflows/:id/executions: a workflow's executions listed (paginated,
 * ?status=), one inspected step by step, cancelled, or retried from its
 * failed step (connectors/workflows/wf_exec.h). Admin only. */
#include "api/workflows/workflows.h"

#include "api/routes/webhook_api.h"
#include "connectors/workflows/wf_exec.h"

#include <string.h>

static const char *const sorts[] = {"started_at", "updated_at", "status", NULL};

/* 1 when workflow :id is the caller's, 0 after answering 404, -1. */
static int workflow_found(const bl_api_request *req, bl_http_response *resp)
{
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    const char *p[] = {req->auth->org_id, bl_http_request_param(req->http, "id")};
    PGresult *r = bl_pg_exec(conn, "SELECT 1 FROM workflows WHERE organization_id = $1 AND id::text = $2", 2, p, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    PQclear(r);
    if (!found)
        bl_api_fail(req->http, resp, 404, NULL, "workflow: not found", NULL);
    return found;
}

static int list_executions(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    static const char *const statuses[] = {"running", "completed", "failed", "cancelled", NULL};
    const char *status = bl_http_request_query(req->http, "status");
    bool known = !status;
    for (size_t i = 0; status && statuses[i]; i++)
        known = known || strcmp(status, statuses[i]) == 0;
    if (!known)
        return bl_api_fail(req->http, resp, 400, NULL, "status: running, completed, failed or cancelled",
                           json_pack("{s:s}", "status", "running, completed, failed or cancelled"));
    int found = workflow_found(req, resp);
    if (found <= 0)
        return found;
    const char *params[] = {req->auth->org_id, bl_http_request_param(req->http, "id"), status};
    return bl_api_answer_page(req, resp,
                              "(SELECT * FROM workflow_executions WHERE organization_id = $1 AND workflow_id::text = $2"
                              " AND ($3::text IS NULL OR status = $3)) AS e",
                              3, params,
                              "jsonb_build_object('id', id, 'workflowId', workflow_id, 'workflowVersion',"
                              " workflow_version, 'status', status, 'triggerId', trigger_id, 'currentStep',"
                              " current_step, 'attempts', attempts, 'waitingUntil', waiting_until, 'errorMessage',"
                              " error_message, 'startedAt', started_at, 'updatedAt', updated_at, 'completedAt',"
                              " completed_at)",
                              sorts);
}

typedef int (*exec_change_fn)(PGconn *conn, const char *org, const char *wid, const char *eid, bl_err *err);

/* Runs change (NULL: none) on execution :eid, then answers it with 200. */
static int answer_execution(const bl_api_request *req, bl_http_response *resp, exec_change_fn change)
{
    const char *wid = bl_http_request_param(req->http, "id"), *eid = bl_http_request_param(req->http, "eid");
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    json_t *e = NULL;
    if (!change || change(conn, req->auth->org_id, wid, eid, &err) == 0)
        e = bl_wf_exec_get(conn, req->auth->org_id, wid, eid, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!e)
        return bl_wf_api_store_failed(req, resp, &err);
    int rc = bl_http_response_json(resp, 200, e);
    json_decref(e);
    return rc;
}

static int get_execution(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    return answer_execution(req, resp, NULL);
}

static int cancel_execution(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    return answer_execution(req, resp, bl_wf_exec_cancel);
}

static int retry_execution(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    return answer_execution(req, resp, bl_wf_exec_retry);
}

int bl_wf_api_executions_install(bl_api_server *s, bl_wf_api_ctx *ctx, bl_err *err)
{
    static const bl_api_route routes[] = {
        {"GET", "/v1/workflows/:id/executions", BL_API_ADMIN, list_executions},
        {"GET", "/v1/workflows/:id/executions/:eid", BL_API_ADMIN, get_execution},
        {"POST", "/v1/workflows/:id/executions/:eid/cancel", BL_API_ADMIN, cancel_execution},
        {"POST", "/v1/workflows/:id/executions/:eid/retry", BL_API_ADMIN, retry_execution},
    };
    return bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], ctx, err);
}
