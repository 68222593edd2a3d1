/* /v1/api-keys: list (paginated), create (the token is in the answer once),
 * revoke. Admin only; a demo organization is refused by the plan check.
 * A key shows the Powalyze document's fields (permissions, is_active,
 * rate_limit + rate_window, usage_count, last_used_at, expires_at) beside
 * busline's own (active, prefix, the per-window limits). */
#include "api/audit/audit_log.h"
#include "api/auth/keys.h"
#include "api/rate_limit.h"
#include "api/routes/routes.h"
#include "api/routes/v1_operations.h"
#include "api/routes/webhook_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* sort=field.asc|desc over these; the default is created_at.desc. */
static const char *const key_sorts[] = {"created_at", "name", "last_used_at", "usage_count", "expires_at", NULL};

static int list_keys(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    long limit, offset;
    const char *column = "created_at", *direction = "DESC";
    json_t *errors = json_object();
    if (!errors)
        return -1;
    bl_api_page_read(req->http, &limit, &offset, errors);
    bl_api_sort_read(req->http, key_sorts, &column, &direction, errors);
    if (json_object_size(errors))
        return bl_api_fail(req->http, resp, 400, NULL, "bad query parameters", errors);
    json_decref(errors);
    char lim[24], off[24], sql[1536];
    snprintf(lim, sizeof lim, "%ld", limit);
    snprintf(off, sizeof off, "%ld", offset);
    /* column and direction come from the whitelist above, never from the query */
    snprintf(sql, sizeof sql,
             "WITH k AS (SELECT * FROM api_keys WHERE organization_id = $1),"
             " p AS (SELECT * FROM k ORDER BY %s %s NULLS LAST, id LIMIT $2::int OFFSET $3::bigint)"
             " SELECT (SELECT count(*) FROM k), coalesce((SELECT json_agg(json_build_object("
             " 'id', id, 'name', name, 'prefix', prefix, 'permissions', permissions,"
             " 'is_active', active, 'active', active, 'expires_at', expires_at, 'last_used_at', last_used_at,"
             " 'usage_count', usage_count,"
             " 'rate_limit', CASE rate_window WHEN 'minute' THEN rate_per_minute WHEN 'day' THEN rate_per_day"
             "  WHEN 'month' THEN rate_per_month ELSE rate_per_hour END, 'rate_window', rate_window,"
             " 'rate_per_minute', rate_per_minute, 'rate_per_hour', rate_per_hour, 'rate_per_day', rate_per_day,"
             " 'rate_per_month', rate_per_month, 'created_at', created_at)"
             " ORDER BY %s %s NULLS LAST, id) FROM p), '[]')::text",
             column, direction, column, direction);
    const char *params[] = {req->auth->org_id, lim, off};
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    PGresult *r = bl_pg_exec(conn, sql, 3, params, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!r)
        return -1;
    json_t *data = json_loads(PQgetvalue(r, 0, 1), 0, NULL);
    json_t *out = bl_api_page_envelope(data, strtol(PQgetvalue(r, 0, 0), NULL, 10), limit, offset);
    PQclear(r);
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

/* The highest level of a "permissions": ["read", "write"] array (the
 * document's form); BL_API_PERM_NONE when it is not such an array. */
static bl_api_perm perms_of(const json_t *v)
{
    bl_api_perm best = BL_API_PERM_NONE;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return BL_API_PERM_NONE;
    for (size_t i = 0; i < json_array_size(v); i++) {
        bl_api_perm p = bl_api_perm_parse(json_string_value(json_array_get(v, i)));
        if (p == BL_API_PERM_NONE)
            return BL_API_PERM_NONE;
        if (p > best)
            best = p;
    }
    return best;
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
    json_t *perms_v = json_object_get(req->body, "permissions");
    bl_api_perm perm = perm_v ? bl_api_perm_parse(json_string_value(perm_v)) : BL_API_PERM_READ;
    if (perm == BL_API_PERM_NONE)
        json_object_set_new(fields, "permission", json_string("one of read, write, admin"));
    if (perms_v && (perm = perms_of(perms_v)) == BL_API_PERM_NONE)
        json_object_set_new(fields, "permissions", json_string("a non-empty array of read, write, admin"));
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
    optional_limit(req->body, "rate_per_month", &spec.rate_per_month, fields);
    /* The document's form: one limit over one window (hour by default). */
    json_t *window_v = json_object_get(req->body, "rate_window");
    bl_rate_window window = BL_RATE_HOUR;
    if (window_v && (!json_is_string(window_v) || bl_rate_window_parse(json_string_value(window_v), &window) != 0))
        json_object_set_new(fields, "rate_window", json_string("one of minute, hour, day, month"));
    spec.rate_window = bl_rate_window_name(window);
    int64_t rate_limit = 0;
    optional_limit(req->body, "rate_limit", &rate_limit, fields);
    int64_t *slot[BL_RATE_WINDOWS] = {&spec.rate_per_minute, &spec.rate_per_hour, &spec.rate_per_day,
                                      &spec.rate_per_month};
    if (window != BL_RATE_HOUR && !rate_limit && !*slot[window])
        json_object_set_new(fields, "rate_limit", json_string("required with a rate_window other than hour"));
    else if (rate_limit && *slot[window] && *slot[window] != rate_limit)
        json_object_set_new(fields, "rate_limit", json_string("differs from the rate_per_ field of its window"));
    else if (rate_limit)
        *slot[window] = rate_limit;
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
    bl_audit_actor who = bl_audit_actor_of(req);
    int rc = bl_audit_key_create(conn, &who, &spec, token, id, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (rc != 0)
        return -1;
    int64_t shown = *slot[window] ? *slot[window] : (window == BL_RATE_HOUR ? 1000 : 0);
    json_t *perms = json_array();
    for (bl_api_perm p = BL_API_PERM_READ; perms && p <= perm; p++)
        json_array_append_new(perms, json_string(bl_api_perm_name(p)));
    json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:I, s:s, s:I, s:n, s:o}", "id", id, "name", name,
                            "token", token, "permission", bl_api_perm_name(perm), "permissions",
                            perms ? perms : json_array(), "is_active", 1, "rate_limit", (json_int_t)shown,
                            "rate_window", spec.rate_window, "usage_count", (json_int_t)0, "last_used_at",
                            "expires_at", spec.expires_at ? json_string(spec.expires_at) : json_null());
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
    bl_audit_actor who = bl_audit_actor_of(req);
    bl_audit_change ch = {.entity_type = "api_key", .table = "api_keys", .entity_id = id, .action = "revoke"};
    /* The id is compared as text so a malformed one is simply not found. */
    PGresult *r = NULL;
    int rc = bl_audit_exec(conn, &who, &ch,
                           "UPDATE api_keys SET active = false, revoked_at = coalesce(revoked_at, now())"
                           " WHERE id::text = $1 AND organization_id = $2 RETURNING id, token_sha256",
                           2, params, &r, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (rc != 0 && err.code != BL_ENOTFOUND)
        return -1;
    if (rc == 0 && r && PQntuples(r) == 1) /* refused here at once; other replicas on the NOTIFY */
        bl_api_server_forget_key(req->server, PQgetvalue(r, 0, 1));
    PQclear(r);
    if (rc != 0)
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
    if (bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], NULL, err) != 0)
        return -1;
    return bl_api_document_keys(s, err);
}
