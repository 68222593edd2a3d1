/* /v1/api-keys: list, create (the token is in the answer once), revoke.
 * Admin only; a demo organization is refused by the plan check. */
#include "api/auth/keys.h"
#include "api/routes/routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int list_keys(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *params[] = {req->auth->org_id};
    return bl_api_answer_json_query(req->server, resp,
                                    "SELECT coalesce(json_agg(json_build_object("
                                    " 'id', id, 'name', name, 'prefix', prefix, 'permissions', permissions,"
                                    " 'active', active, 'expires_at', expires_at, 'last_used_at', last_used_at,"
                                    " 'usage_count', usage_count, 'rate_per_minute', rate_per_minute,"
                                    " 'rate_per_hour', rate_per_hour, 'rate_per_day', rate_per_day,"
                                    " 'created_at', created_at) ORDER BY created_at), '[]')"
                                    " FROM api_keys WHERE organization_id = $1",
                                    1, params);
}

/* Reads an optional positive integer field; returns 0 or -1 after noting it. */
static int optional_limit(const json_t *body, const char *name, int64_t *out, json_t *fields)
{
    json_t *v = json_object_get(body, name);
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000000000) {
        json_object_set_new(fields, name, json_string("must be an integer from 1 to 1000000000"));
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

static int create_key(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    if (!req->body || !json_is_object(req->body))
        return bl_api_fail(req->http, resp, 400, NULL, "a JSON object body is required", NULL);
    json_t *fields = json_object();
    if (!fields)
        return -1;
    const char *name = json_string_value(json_object_get(req->body, "name"));
    if (!name || !*name || strlen(name) > 200)
        json_object_set_new(fields, "name", json_string("required, 1 to 200 characters"));
    json_t *perm_v = json_object_get(req->body, "permission");
    bl_api_perm perm = perm_v ? bl_api_perm_parse(json_string_value(perm_v)) : BL_API_PERM_READ;
    if (perm == BL_API_PERM_NONE)
        json_object_set_new(fields, "permission", json_string("one of read, write, admin"));
    json_t *exp_v = json_object_get(req->body, "expires_in_seconds");
    char expires[64] = "";
    if (exp_v && !json_is_null(exp_v)) {
        if (!json_is_integer(exp_v) || json_integer_value(exp_v) < 1 ||
            json_integer_value(exp_v) > 10LL * 365 * 86400)
            json_object_set_new(fields, "expires_in_seconds", json_string("a positive number of seconds"));
        else
            snprintf(expires, sizeof expires, "%lld",
                     (long long)bl_api_server_now(req->server) + (long long)json_integer_value(exp_v));
    }
    bl_api_key_spec spec = {.org_id = req->auth->org_id, .name = name, .perm = perm};
    optional_limit(req->body, "rate_per_minute", &spec.rate_per_minute, fields);
    optional_limit(req->body, "rate_per_hour", &spec.rate_per_hour, fields);
    optional_limit(req->body, "rate_per_day", &spec.rate_per_day, fields);
    if (json_object_size(fields) > 0)
        return bl_api_fail(req->http, resp, 422, NULL, "the key is not valid", fields);
    json_decref(fields);

    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    char expires_ts[96];
    if (expires[0]) { /* epoch seconds into timestamptz text Postgres accepts */
        snprintf(expires_ts, sizeof expires_ts, "epoch");
        const char *p[] = {expires};
        PGresult *r = bl_pg_exec(conn, "SELECT to_timestamp($1::bigint)::text", 1, p, &err);
        if (!r) {
            bl_pg_pool_release(bl_api_server_pool(req->server), conn);
            return -1;
        }
        snprintf(expires_ts, sizeof expires_ts, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        spec.expires_at = expires_ts;
    }
    char token[BL_API_TOKEN_SIZE], id[BL_API_ID_MAX];
    int rc = bl_api_key_create(conn, &spec, token, id, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (rc != 0)
        return -1;
    json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:s*}", "id", id, "name", name, "token", token,
                            "permission", bl_api_perm_name(perm), "expires_at",
                            spec.expires_at);
    memset(token, 0, sizeof token);
    rc = out ? bl_http_response_json(resp, 201, out) : -1;
    json_decref(out);
    return rc;
}

static int revoke_key(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *id = bl_http_request_param(req->http, "id");
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    const char *params[] = {id, req->auth->org_id};
    /* The id is compared as text so a malformed one is simply not found. */
    PGresult *r = bl_pg_exec(conn,
                             "UPDATE api_keys SET active = false, revoked_at = coalesce(revoked_at, now())"
                             " WHERE id::text = $1 AND organization_id = $2 RETURNING id",
                             2, params, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    PQclear(r);
    if (!found)
        return bl_api_fail(req->http, resp, 404, NULL, "no such API key in this organization", NULL);
    bl_http_response_status(resp, 204);
    return 0;
}

static const bl_api_route routes[] = {
    {"GET", "/v1/api-keys", BL_API_ADMIN, list_keys},
    {"POST", "/v1/api-keys", BL_API_ADMIN, create_key},
    {"DELETE", "/v1/api-keys/:id", BL_API_ADMIN, revoke_key},
};

int bl_api_routes_keys(bl_api_server *s, bl_err *err)
{
    return bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], NULL, err);
}
