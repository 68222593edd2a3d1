/* /v1/custom-apis: list (paginated), create, read, replace, delete an
 * organization's custom endpoints (admin only). A definition is checked
 * whole before anything is written (422 listing every problem), saved in
 * one transaction with its version, and served by this replica before the
 * answer (the others follow on NOTIFY). */
#include "api/custom/route_admin.h"
#include "api/custom/store.h"
#include "api/routes/webhook_api.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

static const char *const sorts[] = {"created_at", "updated_at", "name", "path", NULL};

static int list_custom_apis(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    const char *params[] = {req->auth->org_id};
    return bl_api_answer_page(
        req, resp,
        "(SELECT c.*, o.slug FROM custom_apis c JOIN api_organizations o ON o.id = c.organization_id"
        " WHERE c.organization_id = $1) AS c",
        1, params,
        "((config || jsonb_build_object('id', id, 'name', name, 'path', path, 'method', method, 'description',"
        " description, 'version', version, 'isActive', is_active, 'createdAt', created_at, 'updatedAt', updated_at,"
        " 'url', '/custom/' || slug || path)) #- '{authentication,settings,clientSecretSealed}')",
        sorts);
}

/* Answers a stored row (its secrets hidden) with status. */
static int answer_row(bl_http_response *resp, int status, const json_t *row)
{
    json_t *pub = bl_custom_def_public(row);
    int rc = pub ? bl_http_response_json(resp, status, pub) : -1;
    json_decref(pub);
    return rc;
}

/* Checks def (modified: its secret sealed) against prev (may be NULL).
 * Returns 0 when valid, else 1 with the 422 in resp. */
static int check(bl_custom_ctx *ctx, const bl_api_request *req, json_t *def, const json_t *prev,
                 bl_http_response *resp)
{
    json_t *problems = json_object();
    if (!problems)
        return -1;
    bl_custom_def_seal_secret(def, prev, &ctx->env, problems);
    bl_custom_def *d = json_object_size(problems) ? NULL : bl_custom_def_compile(def, req->auth->org_id, &ctx->env, problems);
    bl_custom_def_unref(d);
    if (json_object_size(problems) == 0) {
        json_decref(problems);
        return 0;
    }
    bl_api_fail(req->http, resp, 422, "invalid_definition", "the custom endpoint is not valid: nothing was saved",
                problems);
    return 1;
}

/* After a save: this replica serves the new definition, the shared cache forgets the old. */
static void took_effect(bl_custom_ctx *ctx, const char *id)
{
    bl_err err = {0};
    if (bl_custom_registry_reload(ctx->registry, id, &err) != 0)
        bl_log_warn("custom api: saved, not yet reloaded here (NOTIFY will)", BL_FS("custom_api_id", id),
                    BL_FS("error", err.msg));
    bl_custom_cache_evict(ctx->cache, id, true);
}

static int store_failed(const bl_api_request *req, bl_http_response *resp, const bl_err *err)
{
    if (err->code == BL_ENOTFOUND)
        return bl_api_fail(req->http, resp, 404, NULL, "no such custom endpoint", NULL);
    if (err->code == BL_ECONFLICT)
        return bl_api_fail(req->http, resp, 409, "path_taken", err->msg,
                           json_pack("{s:s}", "path", "another endpoint of the organization has this path"));
    if (err->code == BL_EINVAL)
        return bl_api_fail(req->http, resp, 422, "invalid_definition", err->msg,
                           json_pack("{s:s}", "version", err->msg));
    bl_log_error("custom api: store failed", BL_FS("request_id", bl_http_request_id(req->http)),
                 BL_FS("error", err->msg));
    return -1;
}

static const char *saved_by(const bl_api_request *req)
{
    return req->auth->key_id[0] ? req->auth->key_id : req->auth->user_id;
}

/* Answers a write: row (stolen) served here now and shown with status, or
 * the store's error when row is NULL. */
static int saved(bl_custom_ctx *ctx, const bl_api_request *req, bl_http_response *resp, json_t *row, int status,
                 const bl_err *err)
{
    if (!row)
        return store_failed(req, resp, err);
    took_effect(ctx, json_string_value(json_object_get(row, "id")));
    int rc = answer_row(resp, status, row);
    json_decref(row);
    return rc;
}

static int create_custom_api(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    bl_custom_ctx *ctx = arg;
    if (!json_is_object(req->body))
        return bl_api_fail(req->http, resp, 400, NULL, "a JSON object body is required", NULL);
    json_t *def = json_deep_copy(req->body);
    int rc = def ? check(ctx, req, def, NULL, resp) : -1;
    if (rc != 0) {
        json_decref(def);
        return rc > 0 ? 0 : -1;
    }
    bl_err err = {0};
    bl_audit_actor who = bl_audit_actor_of(req);
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    json_t *row = conn ? bl_custom_store_create(conn, &who, req->auth->org_id, saved_by(req), def, &err) : NULL;
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    json_decref(def);
    return conn ? saved(ctx, req, resp, row, 201, &err) : -1;
}

static int get_custom_api(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    json_t *row = bl_custom_store_get(conn, req->auth->org_id, bl_http_request_param(req->http, "id"), &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!row)
        return store_failed(req, resp, &err);
    int rc = answer_row(resp, 200, row);
    json_decref(row);
    return rc;
}

static int replace_custom_api(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    bl_custom_ctx *ctx = arg;
    const char *id = bl_http_request_param(req->http, "id");
    if (!json_is_object(req->body))
        return bl_api_fail(req->http, resp, 400, NULL, "a JSON object body is required", NULL);
    bl_err err = {0};
    bl_audit_actor who = bl_audit_actor_of(req);
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    json_t *prev = bl_custom_store_get(conn, req->auth->org_id, id, &err);
    json_t *def = prev ? json_deep_copy(req->body) : NULL;
    int rc = 0;
    if (!prev)
        rc = store_failed(req, resp, &err);
    else if (!def)
        rc = -1;
    else if ((rc = check(ctx, req, def, prev, resp)) == 0)
        rc = saved(ctx, req, resp, bl_custom_store_update(conn, &who, req->auth->org_id, id, saved_by(req), def, &err), 200,
                   &err);
    else
        rc = rc > 0 ? 0 : -1;
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    json_decref(prev);
    json_decref(def);
    return rc;
}

static int delete_custom_api(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    bl_custom_ctx *ctx = arg;
    const char *id = bl_http_request_param(req->http, "id");
    bl_err err = {0};
    bl_audit_actor who = bl_audit_actor_of(req);
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    int rc = bl_custom_store_delete(conn, &who, req->auth->org_id, id, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (rc != 0)
        return store_failed(req, resp, &err);
    took_effect(ctx, id);
    bl_http_response_status(resp, 204);
    return 0;
}

int bl_custom_admin_check(bl_custom_ctx *ctx, const bl_api_request *req, json_t *def, const json_t *prev,
                          bl_http_response *resp)
{
    return check(ctx, req, def, prev, resp);
}

int bl_custom_admin_saved(bl_custom_ctx *ctx, const bl_api_request *req, bl_http_response *resp, json_t *row,
                          const bl_err *err)
{
    return saved(ctx, req, resp, row, 200, err);
}

int bl_custom_admin_store_failed(const bl_api_request *req, bl_http_response *resp, const bl_err *err)
{
    return store_failed(req, resp, err);
}

int bl_custom_admin_install(bl_api_server *s, bl_custom_ctx *ctx, bl_err *err)
{
    static const bl_api_route routes[] = {
        {"GET", "/v1/custom-apis", BL_API_ADMIN, list_custom_apis},
        {"POST", "/v1/custom-apis", BL_API_ADMIN, create_custom_api},
        {"GET", "/v1/custom-apis/:id", BL_API_ADMIN, get_custom_api},
        {"PUT", "/v1/custom-apis/:id", BL_API_ADMIN, replace_custom_api},
        {"DELETE", "/v1/custom-apis/:id", BL_API_ADMIN, delete_custom_api},
    };
    if (bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], ctx, err) != 0 ||
        bl_custom_admin_versions_install(s, ctx, err) != 0 || bl_custom_admin_metrics_install(s, err) != 0)
        return -1;
    return bl_custom_admin_document(s, err);
}
