/* /v1/integrations: the providers one may connect, list, connect (authorization URL with PKCE and a
 * single-use state, or a browserless connect), callback, settings, delete
 * (revoking tokens), test, sync, history and analytics. The OAuth work is
 * connectors/oauth; errors use the integration codes of issue 7 in the API's
 * error shape. Connect, callback, settings and delete are admin-only. */
#include "api/routes/route_integrations.h"
#include "api/audit/audit_log.h"

#include "api/attendance/integration_settings.h"
#include "api/routes/routes.h"
#include "api/routes/webhook_api.h"
#include "connectors/providers.h"
#include "core/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ctx_free(void *arg)
{
    bl_api_integrations *ctx = arg;
    bl_oauth_store_free(ctx->store);
    bl_keyring_free(ctx->kr);
    free(ctx);
}

int bl_api_integrations_fail(const bl_api_request *req, bl_http_response *resp, const bl_err *err)
{
    const char *name = bl_oauth_code_name(err->code);
    if (name)
        return bl_api_fail(req->http, resp, bl_oauth_code_status(err->code), name, err->msg, NULL);
    if (err->code == BL_EINVAL)
        return bl_api_fail(req->http, resp, 422, NULL, err->msg, NULL);
    bl_log_error("api: integrations", BL_FS("request_id", bl_http_request_id(req->http)),
                 BL_FS("error", err->msg));
    return -1;
}

/* The store, or an answer of 503 when integrations are not configured. */
bl_oauth_store *bl_api_integrations_store(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_api_integrations *c = ctx;
    if (!c->store)
        bl_api_fail(req->http, resp, 503, NULL,
                    "integrations are not configured on this server (encryption keys missing)", NULL);
    return c->store;
}

const char *bl_api_integrations_actor(const bl_api_request *req)
{
    return req->auth->key_id[0] ? req->auth->key_id : req->auth->user_id;
}

bl_oauth_change bl_api_integrations_audit(const bl_api_request *req, bl_audit_hook *hook)
{
    *hook = (bl_audit_hook){.who = bl_audit_actor_of(req), .entity_type = "integration", .table = "integrations"};
    return (bl_oauth_change){.fn = bl_audit_hook_fn, .ctx = hook};
}

/* ---- the providers ---- */

/* How the console connects: a browser round trip, a token typed in, or a
 * connect without the browser (server-to-server grants). */
static const char *connect_style(bl_oauth_flow flow)
{
    switch (flow) {
    case BL_OAUTH_FLOW_CODE: return "oauth";
    case BL_OAUTH_FLOW_PAT: return "pat";
    default: return "direct";
    }
}

/* GET /v1/integrations/providers: the provider table of connectors/, so
 * the console lists what this server can connect. */
static int list_providers(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    long limit, offset;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    if (bl_api_page_read(req->http, &limit, &offset, errors) != 0)
        return bl_api_fail(req->http, resp, 400, NULL, "bad query parameters", errors);
    json_decref(errors);
    json_t *data = json_array();
    size_t total = 0;
    while (bl_saas_provider_at(total))
        total++;
    for (size_t i = (size_t)offset; data && i < total && i < (size_t)(offset + limit); i++) {
        const bl_saas_provider *p = bl_saas_provider_at(i);
        json_t *settings = json_array();
        for (size_t k = 0; settings && p->settings[k]; k++)
            json_array_append_new(settings, json_string(p->settings[k]));
        json_t *row = settings ? json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", p->oauth.name,
                                           "label", p->label, "type", p->oauth.type, "flow",
                                           connect_style(p->oauth.flow), "settings", settings)
                               : NULL;
        if (!row || json_array_append_new(data, row) != 0) {
            json_decref(data);
            return -1;
        }
    }
    json_t *out = bl_api_page_envelope(data, (long)total, limit, offset);
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

/* ---- list ---- */

static int list_integrations(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *provider = bl_http_request_query(req->http, "provider");
    const char *status = bl_http_request_query(req->http, "status");
    const char *type = bl_http_request_query(req->http, "type");
    if (provider && !bl_oauth_provider_find(provider))
        return bl_api_fail(req->http, resp, 400, "PROVIDER_NOT_SUPPORTED", "unknown provider filter", NULL);
    const char *params[] = {req->auth->org_id, provider, status, type};
    static const char *const sorts[] = {"created_at", "updated_at", "provider", "last_sync_at", NULL};
    return bl_api_answer_page(req, resp,
                              "integrations WHERE organization_id = $1 AND ($2::text IS NULL OR provider = $2)"
                              " AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR type = $4)",
                              4, params,
                              "json_build_object('id', id, 'provider', provider,"
                              " 'type', type, 'status', status, 'settings', settings, 'scopes', scopes,"
                              " 'account_name', account_name, 'token_expires_at', token_expires_at,"
                              " 'last_sync_at', last_sync_at, 'error_count', error_count,"
                              " 'last_error', CASE WHEN last_error_code IS NULL THEN NULL ELSE"
                              " json_build_object('code', last_error_code, 'message', last_error_message) END,"
                              " 'created_at', created_at, 'updated_at', updated_at)",
                              sorts);
}

/* ---- connect and callback ---- */

static int connect_provider(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_oauth_store *st = bl_api_integrations_store(req, resp, ctx);
    if (!st)
        return 0;
    const char *provider = bl_http_request_param(req->http, "provider");
    const bl_oauth_provider *p = bl_oauth_provider_find(provider);
    if (!p)
        return bl_api_fail(req->http, resp, 400, "PROVIDER_NOT_SUPPORTED", "this provider is not supported", NULL);
    const json_t *body = req->body && json_is_object(req->body) ? req->body : NULL;
    json_t *settings = body ? json_object_get(body, "settings") : NULL;
    json_t *fields = json_object();
    if (!fields)
        return -1;
    if (settings && bl_api_integration_settings_check(provider, settings, ((bl_api_integrations *)ctx)->catalog,
                                                      fields) != 0) {
        return bl_api_fail(req->http, resp, 422, NULL, "the settings are not valid", fields);
    }
    const char *mode = json_string_value(json_object_get(settings, "mode"));
    bool direct = p->flow != BL_OAUTH_FLOW_CODE || (mode && strcmp(mode, "client_credentials") == 0);
    bl_err err = {0};
    if (direct) {
        json_decref(fields);
        char id[40];
        const char *pat = json_string_value(json_object_get(body, "pat"));
        bl_audit_hook audit;
        bl_oauth_change change = bl_api_integrations_audit(req, &audit);
        int done = bl_oauth_connect_direct(st, provider, req->auth->org_id, settings, pat,
                                           bl_api_integrations_actor(req), id, &change, &err);
        bl_audit_hook_clear(&audit);
        if (done != 0)
            return bl_api_integrations_fail(req, resp, &err);
        json_t *out = json_pack("{s:s, s:s, s:s}", "id", id, "provider", provider, "status", "connected");
        int rc = out ? bl_http_response_json(resp, 201, out) : -1;
        json_decref(out);
        return rc;
    }
    const char *redirect = json_string_value(json_object_get(body, "redirectUri"));
    const char *scopes = json_string_value(json_object_get(body, "scopes"));
    if (!redirect)
        json_object_set_new(fields, "redirectUri", json_string("required: the URL the provider returns to"));
    if (json_object_size(fields) > 0)
        return bl_api_fail(req->http, resp, 422, NULL, "the connect request is not valid", fields);
    json_decref(fields);
    bl_oauth_begin_result b;
    if (bl_oauth_begin(st, provider, req->auth->org_id, redirect, scopes, settings, &b, &err) != 0)
        return bl_api_integrations_fail(req, resp, &err);
    json_t *out = json_pack("{s:s, s:s, s:I, s:b}", "authorizationUrl", b.authorization_url, "state", b.state,
                            "expiresAt", (json_int_t)b.expires_at, "pkce", b.pkce);
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

static int callback_provider(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_oauth_store *st = bl_api_integrations_store(req, resp, ctx);
    if (!st)
        return 0;
    const char *provider = bl_http_request_param(req->http, "provider");
    if (!bl_oauth_provider_find(provider))
        return bl_api_fail(req->http, resp, 400, "PROVIDER_NOT_SUPPORTED", "this provider is not supported", NULL);
    const json_t *body = req->body;
    const char *denied = json_string_value(json_object_get(body, "error"));
    if (denied) /* the provider redirected with ?error=access_denied */
        return bl_api_fail(req->http, resp, 400, "OAUTH_ERROR", denied, NULL);
    const char *state = json_string_value(json_object_get(body, "state"));
    const char *code = json_string_value(json_object_get(body, "code"));
    if (!state || !code) {
        json_t *fields = json_pack("{s:s}", !state ? "state" : "code", "required");
        return bl_api_fail(req->http, resp, 422, NULL, "state and code are required", fields);
    }
    bl_err err = {0};
    char id[40];
    bl_audit_hook audit;
    bl_oauth_change change = bl_api_integrations_audit(req, &audit);
    int done = bl_oauth_complete(st, provider, req->auth->org_id, state, code, bl_api_integrations_actor(req), id,
                                 &change, &err);
    bl_audit_hook_clear(&audit);
    if (done != 0)
        return bl_api_integrations_fail(req, resp, &err);
    json_t *out = json_pack("{s:s, s:s, s:s}", "id", id, "provider", provider, "status", "connected");
    int rc = out ? bl_http_response_json(resp, 201, out) : -1;
    json_decref(out);
    return rc;
}

/* ---- settings, delete, test ---- */

int bl_api_integration_settings_check(const char *provider, const json_t *settings, const bl_catalog *cat,
                                      json_t *fields)
{
    static const char *const segments[] = {"tenant", "cloud_id", "organization", "account_id"};
    if (!json_is_object(settings) || json_object_size(settings) > 32) {
        json_object_set_new(fields, "settings", json_string("an object of at most 32 fields"));
        return -1;
    }
    /* the document's nested settings, by the provider's schema; the rest
     * are /v1's own scalar settings */
    bl_integration_settings_check(provider, settings, "settings", false, cat, fields);
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)settings, key, v) {
        if (bl_integration_settings_known(provider, key))
            continue;
        if (strcmp(key, "rules") == 0) {
            if (!json_is_array(v))
                json_object_set_new(fields, "settings.rules", json_string("an array of mapping rules"));
            continue; /* their content: bl_api_integration_rules_check */
        }
        bool key_ok = strlen(key) >= 1 && strlen(key) <= 64;
        for (const char *c = key; *c && key_ok; c++)
            key_ok = islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_';
        if (!key_ok) {
            json_object_set_new(fields, "settings", json_string("field names are 1-64 of [a-z0-9_]"));
            continue;
        }
        char name[80];
        snprintf(name, sizeof name, "settings.%s", key);
        if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v) && !json_is_null(v))
            json_object_set_new(fields, name, json_string("must be a string, number, boolean or null"));
        else if (json_is_string(v) && json_string_length(v) > 512)
            json_object_set_new(fields, name, json_string("at most 512 characters"));
        for (size_t i = 0; i < 4; i++) {
            const char *s = json_string_value(v);
            if (strcmp(key, segments[i]) != 0)
                continue;
            bool ok = s && *s && strlen(s) <= 128;
            for (const char *c = s; ok && *c; c++)
                ok = isalnum((unsigned char)*c) || *c == '.' || *c == '_' || *c == '-';
            if (!ok)
                json_object_set_new(fields, name, json_string("1-128 of letters, digits, '.', '_', '-'"));
        }
        if (strcmp(key, "mode") == 0 && (!json_is_string(v) || (strcmp(json_string_value(v), "delegated") != 0 &&
                                                                 strcmp(json_string_value(v), "client_credentials") != 0)))
            json_object_set_new(fields, name, json_string("one of delegated, client_credentials"));
    }
    return json_object_size(fields) > 0 ? -1 : 0;
}

/* The provider of integration id of org_id into out (32 bytes): 1 when
 * found, 0 when not, -1 on error. */
static int integration_provider(PGconn *conn, const char *id, const char *org_id, char out[32], bl_err *err)
{
    const char *params[] = {id, org_id};
    PGresult *r = bl_pg_exec(conn, "SELECT provider FROM integrations WHERE id::text = $1 AND organization_id = $2",
                             2, params, err);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    if (found)
        snprintf(out, 32, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return found;
}

static int put_settings(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_api_integrations *ic = ctx;
    json_t *settings = json_object_get(req->body, "settings");
    json_t *fields = json_object();
    if (!fields)
        return -1;
    if (!settings)
        json_object_set_new(fields, "settings", json_string("required"));
    if (json_object_size(fields) > 0)
        return bl_api_fail(req->http, resp, 422, NULL, "the settings are not valid", fields);
    char *text = json_dumps(settings, JSON_COMPACT);
    bl_err err = {0};
    PGconn *conn = text ? bl_api_acquire_pg(req->server, &err) : NULL;
    if (!conn) {
        json_decref(fields);
        free(text);
        return -1;
    }
    const char *params[] = {bl_http_request_param(req->http, "id"), req->auth->org_id, text};
    char provider[32] = "";
    int found = integration_provider(conn, params[0], params[1], provider, &err);
    PGresult *r = NULL;
    if (found >= 0 && bl_api_integration_settings_check(found == 1 ? provider : NULL, settings, ic->catalog,
                                                        fields) != 0) {
        bl_pg_pool_release(bl_api_server_pool(req->server), conn);
        free(text);
        return bl_api_fail(req->http, resp, 422, NULL, "the settings are not valid", fields);
    }
    if (found == 1 && bl_api_integration_rules_check(provider, json_object_get(settings, "rules"), ic->catalog,
                                                     fields) != 0) {
        bl_pg_pool_release(bl_api_server_pool(req->server), conn);
        free(text);
        return bl_api_fail(req->http, resp, 422, NULL, "the mapping rules are not valid", fields);
    }
    json_decref(fields);
    bl_audit_actor who = bl_audit_actor_of(req);
    bl_audit_change ch = {.entity_type = "integration", .table = "integrations", .entity_id = params[0],
                          .action = "update"};
    if (found == 1 && bl_audit_exec(conn, &who, &ch,
                                    "UPDATE integrations SET settings = $3::jsonb, updated_at = now()"
                                    " WHERE id::text = $1 AND organization_id = $2 RETURNING settings::text",
                                    3, params, &r, &err) != 0 && err.code != BL_ENOTFOUND)
        found = -1;
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    free(text);
    if (found < 0)
        return -1;
    found = r && PQntuples(r) == 1;
    json_t *saved = found ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    if (!found)
        return bl_api_fail(req->http, resp, 404, "INTEGRATION_NOT_FOUND", "no such integration in this organization",
                           NULL);
    json_t *out = json_pack("{s:s, s:o*}", "id", params[0], "settings", saved);
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

static int delete_integration(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_oauth_store *st = bl_api_integrations_store(req, resp, ctx);
    if (!st)
        return 0;
    bl_err err = {0};
    bool revoked = false;
    bl_audit_hook audit;
    bl_oauth_change change = bl_api_integrations_audit(req, &audit);
    int done = bl_oauth_disconnect(st, req->auth->org_id, bl_http_request_param(req->http, "id"),
                                   bl_api_integrations_actor(req), &revoked, &change, &err);
    bl_audit_hook_clear(&audit);
    if (done != 0)
        return bl_api_integrations_fail(req, resp, &err);
    json_t *out = json_pack("{s:s, s:b}", "status", "disconnected", "tokensRevoked", revoked);
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

static int test_integration(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_oauth_store *st = bl_api_integrations_store(req, resp, ctx);
    if (!st)
        return 0;
    bl_err err = {0};
    json_t *out = bl_oauth_test(st, req->auth->org_id, bl_http_request_param(req->http, "id"), &err);
    if (!out)
        return bl_api_integrations_fail(req, resp, &err);
    int rc = bl_http_response_json(resp, 200, out);
    json_decref(out);
    return rc;
}

static const bl_api_route routes[] = {
    {"GET", "/v1/integrations/providers", BL_API_BY_METHOD, list_providers},
    {"GET", "/v1/integrations/analytics", BL_API_BY_METHOD, bl_api_integrations_analytics},
    {"GET", "/v1/integrations", BL_API_BY_METHOD, list_integrations},
    {"POST", "/v1/integrations/:provider/connect", BL_API_ADMIN, connect_provider},
    {"POST", "/v1/integrations/:provider/callback", BL_API_ADMIN, callback_provider},
    {"PUT", "/v1/integrations/:id/settings", BL_API_ADMIN, put_settings},
    {"DELETE", "/v1/integrations/:id", BL_API_ADMIN, delete_integration},
    {"POST", "/v1/integrations/:id/test", BL_API_BY_METHOD, test_integration},
    {"POST", "/v1/integrations/:id/sync", BL_API_BY_METHOD, bl_api_integrations_sync},
    {"GET", "/v1/integrations/:id/sync-runs/:run", BL_API_BY_METHOD, bl_api_integrations_sync_run},
    {"GET", "/v1/integrations/:id/history", BL_API_BY_METHOD, bl_api_integrations_history},
};

bl_api_integrations *bl_api_integrations_attach(bl_api_server *s, const char *no_store_warning,
                                                const char *no_catalog_warning, bl_err *err)
{
    bl_api_integrations *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        return NULL;
    }
    if (bl_api_server_on_free(s, ctx_free, ctx, err) != 0)
        return NULL; /* freed by the hook */
    bl_err why = {0};
    bl_oauth_config cfg = {0};
    bl_oauth_config_from_env(&cfg);
    if (!(ctx->kr = bl_keyring_from_env(&why)) ||
        !(ctx->store = bl_oauth_store_new(bl_api_server_pool(s), ctx->kr, &cfg, &why)))
        bl_log_warn(no_store_warning, BL_FS("why", why.msg));
    if (!(ctx->catalog = bl_api_server_catalog(s, &why)))
        bl_log_warn(no_catalog_warning, BL_FS("why", why.msg));
    return ctx;
}

int bl_api_routes_integrations(bl_api_server *s, bl_err *err)
{
    bl_api_integrations *ctx = bl_api_integrations_attach(s, "api: integration routes answer 503",
                                                          "api: mapping rules checked without the event catalog", err);
    if (!ctx)
        return -1;
    return bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], ctx, err);
}
