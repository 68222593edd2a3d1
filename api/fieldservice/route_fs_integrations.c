/* /api/integrations/ of the SmartLeakPro document: list (read) and create
 * (write). What busline carries out for an integration is a webhook
 * endpoint of the shared store: every integration type it accepts (zapier,
 * make, n8n) is a "catch hook" URL, so the endpoint posts every
 * field-service event the document names (intervention_created, ...,
 * client_created) of the organization to configuration.webhook_url in the
 * document's body, with configuration.api_key (when given) in an X-API-Key
 * header and the X-Webhook-Signature of a secret drawn here. Unknown types
 * and configuration fields are field errors: nothing is accepted that
 * nothing does. The api_key is never shown back. */
#include "api/audit/audit_log.h"
#include "api/fieldservice/fs_common.h"
#include "api/fieldservice/fs_webhook.h"
#include "api/routes/routes.h"

#include "connectors/webhook/workers/smartleakpro_payload.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

#define API_KEY_HEADER "X-API-Key"

static const char *const integration_types[] = {"zapier", "make", "n8n", NULL};

#define INTEGRATION_JSON                                                                                   \
    "json_build_object('id', i.id, 'nom', i.name, 'description', i.description,"                         \
    " 'type_integration', i.integration_type, 'configuration', json_build_object('webhook_url', e.url,"   \
    " 'api_key_configuree', e.headers ? '" API_KEY_HEADER "'), 'actif', e.active, 'webhook_id', e.id,"    \
    " 'date_creation', i.created_at)"

static int list_integrations(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    return bl_fs_answer_page(req, resp,
                              "SELECT json_build_object('integrations', coalesce((SELECT json_agg(x.j ORDER BY x.c, x.k)"
                              "  FROM (SELECT " INTEGRATION_JSON " AS j, i.created_at AS c, i.id AS k"
                              "        FROM fieldservice_integrations i JOIN webhook_endpoints e ON e.id = i.endpoint_id"
                              "        WHERE i.organization_id = $1 ORDER BY i.created_at, i.id"
                              "        LIMIT $2::bigint OFFSET $3::bigint) x), '[]'::json),"
                              " 'total', (SELECT count(*) FROM fieldservice_integrations WHERE organization_id = $1),"
                              " 'page', $3::bigint / $2::bigint + 1, 'size', $2::bigint,"
                              " 'pages', (SELECT (count(*) + $2::bigint - 1) / $2::bigint"
                              "           FROM fieldservice_integrations WHERE organization_id = $1))::text");
}

static const char *const integration_fields[] = {"nom", "description", "type_integration", "configuration", NULL};
static const char *const configuration_fields[] = {"webhook_url", "api_key", NULL};

typedef struct integration_body {
    const char *name, *description, *type, *url, *api_key;
} integration_body;

static void read_integration(const json_t *body, integration_body *b, json_t *errors)
{
    bl_fs_unknown_fields(body, integration_fields, errors);
    b->name = bl_fs_string(body, "nom", 200, true, errors);
    b->description = bl_fs_string(body, "description", 1000, false, errors);
    b->type = bl_fs_string(body, "type_integration", 64, true, errors);
    bool known = false;
    for (size_t i = 0; b->type && integration_types[i] && !known; i++)
        known = strcmp(b->type, integration_types[i]) == 0;
    if (b->type && !known)
        bl_fs_field_error(errors, "type_integration", "one of zapier, make, n8n");
    const json_t *conf = json_object_get(body, "configuration");
    if (!json_is_object(conf)) {
        bl_fs_field_error(errors, "configuration", "an object {webhook_url, api_key?} is required");
        return;
    }
    json_t *conf_errors = json_object();
    if (!conf_errors)
        return;
    bl_fs_unknown_fields(conf, configuration_fields, conf_errors);
    b->url = bl_fs_string(conf, "webhook_url", 2048, true, conf_errors);
    b->api_key = bl_fs_string(conf, "api_key", BL_WEBHOOK_HEADER_VALUE_MAX, false, conf_errors);
    const char *field;
    json_t *msgs;
    json_object_foreach(conf_errors, field, msgs) {
        char name[96];
        snprintf(name, sizeof name, "configuration.%s", field);
        size_t i;
        json_t *m;
        json_array_foreach(msgs, i, m)
            bl_fs_field_error(errors, name, json_string_value(m));
    }
    json_decref(conf_errors);
}

static int record_integration(const bl_api_request *req, const char *endpoint_id, const integration_body *b,
                              char id[BL_API_ID_MAX])
{
    const char *params[] = {req->auth->org_id, b->name, b->description, b->type, endpoint_id};
    bl_err err = {0};
    bl_audit_actor who = bl_audit_actor_of(req);
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    PGresult *r = conn && bl_pg_begin(conn, &err) == 0
                      ? bl_pg_exec(conn,
                                   "INSERT INTO fieldservice_integrations (organization_id, name, description,"
                                   " integration_type, endpoint_id) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                                   5, params, &err)
                      : NULL;
    if (r && (bl_audit_created(conn, &who, "fieldservice_integration", "fieldservice_integrations",
                               PQgetvalue(r, 0, 0), &err) != 0 ||
              bl_pg_commit(conn, &err) != 0)) {
        PQclear(r);
        r = NULL;
    }
    if (conn && !r)
        bl_pg_rollback(conn, &(bl_err){0});
    if (conn)
        bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!r) {
        bl_log_error("api: integration not recorded", BL_FS("endpoint_id", endpoint_id), BL_FS("error", err.msg));
        return -1;
    }
    snprintf(id, BL_API_ID_MAX, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

static int create_integration(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    integration_body b = {0};
    const json_t *body = bl_fs_body(req, errors);
    if (body)
        read_integration(body, &b, errors);
    if (json_object_size(errors) > 0)
        return bl_fs_invalid(req, resp, errors);
    bl_api_webhook_env env = {0};
    bl_webhook_endpoint *e = NULL;
    json_t *headers = b.api_key ? json_pack("{s:s}", API_KEY_HEADER, b.api_key) : NULL;
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX] = "", id[BL_API_ID_MAX];
    const char *types[16];
    size_t n = 0;
    for (; bl_slp_doc_types[n] && n < sizeof types / sizeof types[0]; n++)
        types[n] = bl_slp_bus_type(bl_slp_doc_types[n]);
    int rc = -1;
    if (bl_api_webhook_env_open_logged(req, BL_API_WH_KEYRING | BL_API_WH_EVENTS, &env) != 0)
        goto done;
    char name[BL_WEBHOOK_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", b.name);
    bl_fs_endpoint_spec spec = {.name = name, .url = b.url, .bus_types = types, .bus_type_count = n,
                                .headers = headers};
    bl_err err = {0};
    if (!(e = bl_fs_endpoint_create(req, &env, &spec, secret, errors, &err))) {
        if (json_object_size(errors) > 0) {
            /* the store names the URL "url": here it is configuration.webhook_url */
            json_t *url = json_object_get(errors, "url");
            if (url) {
                json_object_set(errors, "configuration.webhook_url", url);
                json_object_del(errors, "url");
            }
            rc = bl_fs_invalid(req, resp, errors);
            errors = NULL;
        } else {
            bl_log_error("api: integration endpoint not created", BL_FS("error", err.msg));
        }
        goto done;
    }
    if (record_integration(req, e->id, &b, id) != 0) {
        bl_fs_endpoint_undo(&env, e->id);
        goto done;
    }
    const char *params[] = {id};
    rc = bl_fs_answer_query(req, resp, 201,
                            "SELECT " INTEGRATION_JSON "::text FROM fieldservice_integrations i"
                            " JOIN webhook_endpoints e ON e.id = i.endpoint_id WHERE i.id::text = $1",
                            1, params);
done:
    memset(secret, 0, sizeof secret);
    json_decref(headers);
    bl_webhook_endpoint_free(e);
    bl_api_webhook_env_close(&env);
    json_decref(errors);
    return rc;
}

static const bl_api_route routes[] = {
    {"GET", "/integrations/", BL_API_BY_METHOD, list_integrations},
    {"POST", "/integrations/", BL_API_BY_METHOD, create_integration},
};

int bl_api_routes_fs_integrations(bl_api_server *s, bl_err *err)
{
    return bl_api_server_surface_routes(s, BL_API_SURFACE_FIELD_SERVICE, routes, sizeof routes / sizeof routes[0],
                                        NULL, err);
}
