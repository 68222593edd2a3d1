/* /v1/workflows: list (paginated), create, read, replace, delete an
 * organization's workflows, and their saved versions (admin only). A
 * definition is checked whole before anything is written (422 listing every
 * problem: connectors/workflows/wf_def.h) and saved in one transaction with
 * its version. `busline workflows` runs them. */
#include "api/workflows/workflows.h"

#include "api/routes/webhook_api.h"
#include "api/workflows/store.h"
#include "connectors/workflows/wf_def.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

static const char *const sorts[] = {"created_at", "updated_at", "name", NULL};

static int list_workflows(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    const char *params[] = {req->auth->org_id};
    return bl_api_answer_page(req, resp, "(SELECT * FROM workflows WHERE organization_id = $1) AS w", 1, params,
                              "(config || jsonb_build_object('id', id, 'name', name, 'description', description,"
                              " 'version', version, 'isActive', is_active, 'createdAt', created_at, 'updatedAt',"
                              " updated_at))",
                              sorts);
}

/* Checks def for req's organization. Returns 0 when valid, 1 with the 422
 * listing every problem in resp, or -1. */
static int check(bl_wf_api_ctx *ctx, const bl_api_request *req, const json_t *def, bl_http_response *resp)
{
    json_t *problems = json_object();
    if (!problems)
        return -1;
    bl_wf_env env = {.allow = &ctx->allow, .catalog = ctx->catalog, .organization_id = req->auth->org_id,
                     .run_tests = true};
    bl_wf_def_free(bl_wf_def_compile(def, &env, problems));
    if (json_object_size(problems) == 0) {
        json_decref(problems);
        return 0;
    }
    bl_api_fail(req->http, resp, 422, "invalid_definition", "the workflow is not valid: nothing was saved", problems);
    return 1;
}

int bl_wf_api_store_failed(const bl_api_request *req, bl_http_response *resp, const bl_err *err)
{
    if (err->code == BL_ENOTFOUND)
        return bl_api_fail(req->http, resp, 404, NULL, err->msg, NULL);
    if (err->code == BL_EINVAL)
        return bl_api_fail(req->http, resp, 422, "invalid_definition", err->msg,
                           json_pack("{s:[s]}", "version", err->msg));
    if (err->code == BL_ECONFLICT)
        return bl_api_fail(req->http, resp, 409, "conflict", err->msg, NULL);
    bl_log_error("workflows: store failed", BL_FS("request_id", bl_http_request_id(req->http)),
                 BL_FS("error", err->msg));
    return -1;
}

static const char *saved_by(const bl_api_request *req)
{
    return req->auth->key_id[0] ? req->auth->key_id : req->auth->user_id;
}

/* Answers row (stolen) with status, or the store's error when it is NULL. */
static int answer(const bl_api_request *req, bl_http_response *resp, json_t *row, int status, const bl_err *err)
{
    if (!row)
        return bl_wf_api_store_failed(req, resp, err);
    int rc = bl_http_response_json(resp, status, row);
    json_decref(row);
    return rc;
}

static int create_workflow(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    if (!json_is_object(req->body))
        return bl_api_fail(req->http, resp, 400, NULL, "a JSON object body is required", NULL);
    int rc = check(arg, req, req->body, resp);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    bl_err err = {0};
    bl_audit_actor who = bl_audit_actor_of(req);
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    json_t *row = conn ? bl_wf_store_create(conn, &who, req->auth->org_id, saved_by(req), req->body, &err) : NULL;
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    return conn ? answer(req, resp, row, 201, &err) : -1;
}

static int get_workflow(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    json_t *row = bl_wf_store_get(conn, req->auth->org_id, bl_http_request_param(req->http, "id"), &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    return answer(req, resp, row, 200, &err);
}

static int replace_workflow(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    if (!json_is_object(req->body))
        return bl_api_fail(req->http, resp, 400, NULL, "a JSON object body is required", NULL);
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    const char *id = bl_http_request_param(req->http, "id");
    json_t *prev = bl_wf_store_get(conn, req->auth->org_id, id, &err);
    int rc = 0;
    if (!prev) {
        rc = bl_wf_api_store_failed(req, resp, &err);
    } else if ((rc = check(arg, req, req->body, resp)) == 0) {
        bl_audit_actor who = bl_audit_actor_of(req);
        rc = answer(req, resp, bl_wf_store_update(conn, &who, req->auth->org_id, id, saved_by(req), req->body, &err),
                    200, &err);
    } else {
        rc = rc > 0 ? 0 : -1;
    }
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    json_decref(prev);
    return rc;
}

static int delete_workflow(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    bl_err err = {0};
    bl_audit_actor who = bl_audit_actor_of(req);
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    int rc = bl_wf_store_delete(conn, &who, req->auth->org_id, bl_http_request_param(req->http, "id"), &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (rc != 0)
        return bl_wf_api_store_failed(req, resp, &err);
    bl_http_response_status(resp, 204);
    return 0;
}

static int list_versions(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    json_t *versions = bl_wf_store_versions(conn, req->auth->org_id, bl_http_request_param(req->http, "id"), &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    return answer(req, resp, versions ? json_pack("{s:o}", "data", versions) : NULL, 200, &err);
}

static void ctx_free(void *arg)
{
    bl_wf_api_ctx *ctx = arg;
    free(ctx);
}

int bl_api_routes_workflows(bl_api_server *s, bl_err *err)
{
    bl_wf_api_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return bl_err_set(err, BL_ENOMEM, "workflows: out of memory");
    if (bl_api_server_on_free(s, ctx_free, ctx, err) != 0) {
        free(ctx);
        return -1;
    }
    if (!(ctx->catalog = bl_api_server_catalog(s, err)) ||
        bl_ssrf_allowlist_parse(getenv(BL_API_WEBHOOK_ALLOW_ENV), &ctx->allow, err) != 0)
        return -1;
    static const bl_api_route routes[] = {
        {"GET", "/v1/workflows", BL_API_ADMIN, list_workflows},
        {"POST", "/v1/workflows", BL_API_ADMIN, create_workflow},
        {"GET", "/v1/workflows/:id", BL_API_ADMIN, get_workflow},
        {"PUT", "/v1/workflows/:id", BL_API_ADMIN, replace_workflow},
        {"DELETE", "/v1/workflows/:id", BL_API_ADMIN, delete_workflow},
        {"GET", "/v1/workflows/:id/versions", BL_API_ADMIN, list_versions},
    };
    if (bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], ctx, err) != 0 ||
        bl_wf_api_executions_install(s, ctx, err) != 0 || bl_wf_api_hooks_install(s, ctx, err) != 0)
        return -1;
    return bl_wf_api_document(s, err);
}
