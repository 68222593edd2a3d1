/* /v1/custom-apis/:id/versions (every saved version, newest first),
 * /v1/custom-apis/:id/rollback {version} (a saved version made current
 * again, checked as a new save would be) and
 * /v1/custom-apis/:id/transformations/:tid/test (a transformation's test
 * cases run: its own, or those of the body). */
#include "api/custom/route_admin.h"
#include "api/custom/store.h"

#include <string.h>

static int list_versions(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    json_t *versions = bl_custom_store_versions(conn, req->auth->org_id, bl_http_request_param(req->http, "id"), &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!versions)
        return bl_custom_admin_store_failed(req, resp, &err);
    json_t *out = json_pack("{s:o}", "data", versions);
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

static int rollback(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    bl_custom_ctx *ctx = arg;
    const char *id = bl_http_request_param(req->http, "id");
    const char *version = json_string_value(json_object_get(req->body, "version"));
    if (!version)
        return bl_api_fail(req->http, resp, 400, NULL, "a body {\"version\": \"1.0.0\"} is required",
                           json_pack("{s:s}", "version", "required: a saved version"));
    bl_err err = {0};
    bl_audit_actor who = bl_audit_actor_of(req);
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    json_t *def = bl_custom_store_version(conn, req->auth->org_id, id, version, &err);
    json_t *saved = json_deep_copy(def); /* keeps its sealed secret for the check */
    int rc = 0;
    if (!def) {
        rc = bl_custom_admin_store_failed(req, resp, &err);
    } else if ((rc = bl_custom_admin_check(ctx, req, def, saved, resp)) == 0) {
        /* it compiles today too (its references still resolve) */
        rc = bl_custom_admin_saved(ctx, req, resp, bl_custom_store_restore(conn, &who, req->auth->org_id, id, version, &err),
                                   &err);
    } else {
        rc = rc > 0 ? 0 : -1;
    }
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    json_decref(def);
    json_decref(saved);
    return rc;
}

/* The rule tid of the row's transformations (borrowed), or NULL. */
static json_t *rule_of(const json_t *row, const char *tid)
{
    size_t i;
    json_t *rule;
    json_array_foreach(json_object_get(row, "transformations"), i, rule)
    {
        const char *rid = json_string_value(json_object_get(rule, "id"));
        if (rid && strcmp(rid, tid) == 0)
            return rule;
    }
    return NULL;
}

static int test_transformation(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    const char *tid = bl_http_request_param(req->http, "tid");
    const json_t *cases = json_object_get(req->body, "testCases");
    if (req->body && (!json_is_object(req->body) || (cases && !json_is_array(cases))))
        return bl_api_fail(req->http, resp, 400, NULL, "the body, when given, is {\"testCases\": [...]}", NULL);
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    json_t *row = bl_custom_store_get(conn, req->auth->org_id, bl_http_request_param(req->http, "id"), &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!row)
        return bl_custom_admin_store_failed(req, resp, &err);
    json_t *rule = rule_of(row, tid);
    if (!rule) {
        json_decref(row);
        return bl_api_fail(req->http, resp, 404, NULL, "the endpoint has no transformation with this id", NULL);
    }
    json_t *copy = json_deep_copy(rule);
    json_decref(row);
    if (cases)
        json_object_set(copy, "testCases", (json_t *)cases);
    bl_transform *t = copy ? bl_transform_compile(copy, &err) : NULL;
    json_decref(copy);
    if (!t)
        return bl_api_fail(req->http, resp, 422, "invalid_transformation", err.msg,
                           json_pack("{s:s}", "testCases", err.msg));
    json_t *failures = NULL;
    int failed = bl_transform_run_tests(t, &failures);
    size_t total = bl_transform_test_count(t);
    bl_transform_free(t);
    if (failed < 0)
        return -1;
    json_t *out = json_pack("{s:s, s:I, s:I, s:I, s:b, s:o}", "transformationId", tid, "total", (json_int_t)total,
                            "passed", (json_int_t)(total - (size_t)failed), "failed", (json_int_t)failed, "ok",
                            failed == 0, "failures", failures ? failures : json_array());
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

int bl_custom_admin_versions_install(bl_api_server *s, bl_custom_ctx *ctx, bl_err *err)
{
    static const bl_api_route routes[] = {
        {"GET", "/v1/custom-apis/:id/versions", BL_API_ADMIN, list_versions},
        {"POST", "/v1/custom-apis/:id/rollback", BL_API_ADMIN, rollback},
        {"POST", "/v1/custom-apis/:id/transformations/:tid/test", BL_API_ADMIN, test_transformation},
    };
    return bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], ctx, err);
}
