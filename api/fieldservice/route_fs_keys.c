/* /api/api-keys/: the organization's API keys, admin only. A key's scopes
 * are levels ("read" -> GET, "write" -> POST, PUT and DELETE, "admin" -> the
 * admin-only routes: users, keys, webhooks, integrations); a higher one
 * includes the lower ones, so ["write"] reads too and is listed back as
 * ["read", "write"]. Its per-minute, per-day and per-month limits are all
 * enforced at once by the shared counters of api/rate_limit.h (no hourly
 * limit on these keys: their rate_window is the minute); a key without
 * limite_requetes_par_minute gets the surface's default 100. The token is in the create answer only. */
#include "api/audit/audit_log.h"
#include "api/auth/keys.h"
#include "api/fieldservice/fs_common.h"
#include "api/routes/routes.h"

#include <stdio.h>
#include <string.h>

#define KEY_JSON                                                                                           \
    "json_build_object('id', id, 'nom', name, 'description', description, 'prefixe', prefix,"             \
    " 'scopes', permissions, 'limite_requetes_par_minute', rate_per_minute,"                               \
    " 'limite_requetes_par_jour', rate_per_day, 'limite_requetes_par_mois', rate_per_month,"               \
    " 'actif', active, 'derniere_utilisation', last_used_at, 'nombre_utilisations', usage_count,"          \
    " 'date_creation', created_at)"

#define LIMIT_MAX 1000000000

static int list_keys(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    return bl_fs_answer_page(req, resp,
                              "SELECT json_build_object('api_keys', coalesce((SELECT json_agg(k.j ORDER BY k.c, k.i)"
                              "  FROM (SELECT " KEY_JSON " AS j, created_at AS c, id AS i FROM api_keys"
                              "        WHERE organization_id::text = $1 ORDER BY created_at, id"
                              "        LIMIT $2::bigint OFFSET $3::bigint) k), '[]'::json),"
                              " 'total', (SELECT count(*) FROM api_keys WHERE organization_id::text = $1),"
                              " 'page', $3::bigint / $2::bigint + 1, 'size', $2::bigint,"
                              " 'pages', (SELECT (count(*) + $2::bigint - 1) / $2::bigint FROM api_keys"
                              "           WHERE organization_id::text = $1))::text");
}

/* An optional limit of 1..LIMIT_MAX requests; noted when wrong. */
static int64_t read_limit(const json_t *body, const char *name, json_t *errors)
{
    const json_t *v = json_object_get(body, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > LIMIT_MAX) {
        bl_fs_field_error(errors, name, "an integer from 1 to 1000000000");
        return 0;
    }
    return json_integer_value(v);
}

/* The highest level of the scopes array; noted when wrong. */
static bl_api_perm read_scopes(const json_t *body, json_t *errors)
{
    const json_t *v = json_object_get(body, "scopes");
    if (!v || json_is_null(v))
        return BL_API_PERM_READ;
    if (!json_is_array(v) || json_array_size(v) == 0) {
        bl_fs_field_error(errors, "scopes", "a non-empty array of read, write, admin");
        return BL_API_PERM_NONE;
    }
    bl_api_perm top = BL_API_PERM_NONE;
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item) {
        bl_api_perm p = bl_api_perm_parse(json_string_value(item));
        if (p == BL_API_PERM_NONE) {
            char msg[80];
            snprintf(msg, sizeof msg, "scope %zu: one of read, write, admin", i);
            bl_fs_field_error(errors, "scopes", msg);
        } else if (p > top) {
            top = p;
        }
    }
    return top;
}

static const char *const key_fields[] = {"nom",   "description", "scopes", "limite_requetes_par_minute",
                                         "limite_requetes_par_jour", "limite_requetes_par_mois", NULL};

static int create_key(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    const json_t *body = bl_fs_body(req, errors);
    /* the document's limits are per minute, day and month: no hourly default */
    bl_api_key_spec spec = {.org_id = req->auth->org_id, .rate_window = "minute"};
    if (body) {
        bl_fs_unknown_fields(body, key_fields, errors);
        spec.name = bl_fs_string(body, "nom", 200, true, errors);
        spec.description = bl_fs_string(body, "description", 1000, false, errors);
        spec.perm = read_scopes(body, errors);
        spec.rate_per_minute = read_limit(body, "limite_requetes_par_minute", errors);
        spec.rate_per_day = read_limit(body, "limite_requetes_par_jour", errors);
        spec.rate_per_month = read_limit(body, "limite_requetes_par_mois", errors);
    }
    if (json_object_size(errors) > 0)
        return bl_fs_invalid(req, resp, errors);
    json_decref(errors);
    if (!spec.rate_per_minute)
        spec.rate_per_minute = BL_API_FIELD_SERVICE_RATE_PER_MINUTE;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    char token[BL_API_TOKEN_SIZE], id[BL_API_ID_MAX];
    bl_audit_actor who = bl_audit_actor_of(req);
    int rc = bl_audit_key_create(conn, &who, &spec, token, id, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (rc != 0)
        return -1;
    const char *params[] = {id};
    json_t *out = bl_fs_query_json(req->server, "SELECT " KEY_JSON "::text FROM api_keys WHERE id::text = $1", 1,
                                   params);
    if (out)
        json_object_set_new(out, "cle_api", json_string(token));
    memset(token, 0, sizeof token);
    rc = out ? bl_http_response_json(resp, 201, out) : -1;
    json_decref(out);
    return rc;
}

static const bl_api_route routes[] = {
    {"GET", "/api-keys/", BL_API_ADMIN, list_keys},
    {"POST", "/api-keys/", BL_API_ADMIN, create_key},
};

int bl_api_routes_fs_keys(bl_api_server *s, bl_err *err)
{
    return bl_api_server_surface_routes(s, BL_API_SURFACE_FIELD_SERVICE, routes, sizeof routes / sizeof routes[0],
                                        NULL, err);
}
