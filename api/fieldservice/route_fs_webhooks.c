/* /api/webhooks/ of the SmartLeakPro document: list (read), create (write)
 * and /api/webhooks/:id/test (write). An endpoint receives the one
 * type_webhook it names (intervention_created -> the bus's
 * intervention.created, ...) in the document's body, signed with the
 * caller's secret string (X-Webhook-Signature: sha256=<hex>, and the
 * Standard Webhooks headers keyed with the same string); without a secret
 * one is drawn and shown once. Conditions are written against the
 * document's body ("data.statut" equals "en_cours") and stored translated
 * for the fan-out; the listing shows them as written. */
#include "api/fieldservice/fs_common.h"
#include "api/fieldservice/fs_webhook.h"
#include "api/routes/routes.h"

#include "connectors/webhook/policy/signature.h"
#include "connectors/webhook/workers/smartleakpro_payload.h"
#include "connectors/webhook/workers/test_send.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEBHOOK_JSON                                                                                       \
    "json_build_object('id', e.id, 'nom', e.name, 'description', w.description, 'url', e.url,"           \
    " 'type_webhook', w.type_webhook, 'conditions', w.conditions, 'actif', e.active,"                    \
    " 'date_creation', w.created_at)"

static int list_webhooks(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    return bl_fs_answer_page(req, resp,
                              "SELECT json_build_object('webhooks', coalesce((SELECT json_agg(x.j ORDER BY x.c, x.i)"
                              "  FROM (SELECT " WEBHOOK_JSON " AS j, w.created_at AS c, e.id AS i"
                              "        FROM fieldservice_webhooks w JOIN webhook_endpoints e ON e.id = w.endpoint_id"
                              "        WHERE w.organization_id = $1 ORDER BY w.created_at, e.id"
                              "        LIMIT $2::bigint OFFSET $3::bigint) x), '[]'::json),"
                              " 'total', (SELECT count(*) FROM fieldservice_webhooks WHERE organization_id = $1),"
                              " 'page', $3::bigint / $2::bigint + 1, 'size', $2::bigint,"
                              " 'pages', (SELECT (count(*) + $2::bigint - 1) / $2::bigint FROM fieldservice_webhooks"
                              "           WHERE organization_id = $1))::text");
}

static const char *const webhook_fields[] = {"nom", "description", "url", "type_webhook", "secret", "conditions",
                                             NULL};

/* What the body asks for, checked; every problem goes into errors. */
typedef struct webhook_body {
    const char *name, *description, *url, *doc_type, *bus_type, *secret;
    const json_t *conditions; /* as written */
    json_t *bus_conditions;   /* owned */
} webhook_body;

static void read_webhook(const json_t *body, webhook_body *w, json_t *errors)
{
    bl_fs_unknown_fields(body, webhook_fields, errors);
    w->name = bl_fs_string(body, "nom", BL_WEBHOOK_NAME_MAX, true, errors);
    w->description = bl_fs_string(body, "description", 1000, false, errors);
    w->url = bl_fs_string(body, "url", 2048, true, errors);
    w->doc_type = bl_fs_string(body, "type_webhook", 64, true, errors);
    w->bus_type = w->doc_type ? bl_slp_bus_type(w->doc_type) : NULL;
    if (w->doc_type && !w->bus_type) {
        char msg[256] = "one of";
        for (size_t i = 0; bl_slp_doc_types[i]; i++)
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "%s %s", i ? "," : "", bl_slp_doc_types[i]);
        bl_fs_field_error(errors, "type_webhook", msg);
    }
    w->secret = bl_fs_string(body, "secret", BL_WEBHOOK_SECRET_MAX_BYTES, false, errors);
    bl_webhook_secret key;
    bl_err key_err = {0};
    if (w->secret && bl_webhook_secret_from_text(w->secret, &key, &key_err) != 0)
        bl_fs_field_error(errors, "secret", key_err.msg);
    else if (w->secret)
        bl_webhook_secret_wipe(&key);
    w->conditions = json_object_get(body, "conditions");
    if (w->conditions && json_is_null(w->conditions))
        w->conditions = NULL;
    if (w->conditions && w->bus_type) {
        bl_err err = {0};
        if (!(w->bus_conditions = bl_slp_conditions_to_bus(w->doc_type, w->conditions, &err)))
            bl_fs_field_error(errors, "conditions", err.msg);
    } else if (w->conditions && !json_is_array(w->conditions)) {
        bl_fs_field_error(errors, "conditions", "must be an array of {field, operator, value}");
    }
}

/* Records what the store does not hold; returns 0 or -1. */
static int record_webhook(const bl_api_request *req, const char *endpoint_id, const webhook_body *w)
{
    char *conditions = json_dumps(w->conditions ? w->conditions : json_array(), JSON_COMPACT);
    const char *params[] = {endpoint_id, req->auth->org_id, w->description, w->doc_type,
                            conditions ? conditions : "[]"};
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    int rc = conn ? bl_pg_exec_cmd(conn,
                                   "INSERT INTO fieldservice_webhooks (endpoint_id, organization_id, description,"
                                   " type_webhook, conditions) VALUES ($1, $2, $3, $4, $5::jsonb)",
                                   5, params, &err)
                  : -1;
    if (conn)
        bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    free(conditions);
    if (rc != 0)
        bl_log_error("api: field-service webhook not recorded", BL_FS("endpoint_id", endpoint_id),
                     BL_FS("error", err.msg));
    return rc;
}

static json_t *webhook_json(bl_api_server *s, const char *id)
{
    const char *params[] = {id};
    return bl_fs_query_json(s,
                            "SELECT " WEBHOOK_JSON "::text FROM fieldservice_webhooks w"
                            " JOIN webhook_endpoints e ON e.id = w.endpoint_id WHERE e.id = $1",
                            1, params);
}

static int create_webhook(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    webhook_body w = {0};
    const json_t *body = bl_fs_body(req, errors);
    if (body)
        read_webhook(body, &w, errors);
    bl_api_webhook_env env = {0};
    bl_webhook_endpoint *e = NULL;
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX] = "";
    int rc = -1;
    if (json_object_size(errors) > 0) {
        rc = bl_fs_invalid(req, resp, errors);
        errors = NULL;
        goto done;
    }
    if (bl_api_webhook_env_open_logged(req, BL_API_WH_KEYRING | BL_API_WH_EVENTS, &env) != 0)
        goto done;
    const char *types[] = {w.bus_type};
    bl_fs_endpoint_spec spec = {.name = w.name, .url = w.url, .bus_types = types, .bus_type_count = 1,
                                .bus_conditions = w.bus_conditions, .secret = w.secret};
    bl_err err = {0};
    if (!(e = bl_fs_endpoint_create(req, &env, &spec, secret, errors, &err))) {
        if (json_object_size(errors) > 0) {
            rc = bl_fs_invalid(req, resp, errors);
            errors = NULL;
        } else {
            bl_log_error("api: webhook endpoint not created", BL_FS("error", err.msg));
        }
        goto done;
    }
    if (record_webhook(req, e->id, &w) != 0) {
        bl_fs_endpoint_undo(&env, e->id);
        goto done;
    }
    json_t *out = webhook_json(req->server, e->id);
    if (out && !w.secret) /* drawn here: shown this once */
        json_object_set_new(out, "secret", json_string(secret));
    rc = out ? bl_http_response_json(resp, 201, out) : -1;
    json_decref(out);
done:
    memset(secret, 0, sizeof secret);
    bl_webhook_endpoint_free(e);
    bl_api_webhook_env_close(&env);
    json_decref(w.bus_conditions);
    json_decref(errors);
    return rc;
}

/* Whether endpoint id is one of this surface's webhooks (not a /v1 one). */
static int is_fs_webhook(const bl_api_request *req, const char *id)
{
    const char *params[] = {id, req->auth->org_id};
    json_t *j = bl_fs_query_json(req->server,
                                 "SELECT json_build_object('n', count(*))::text FROM fieldservice_webhooks"
                                 " WHERE endpoint_id = $1 AND organization_id = $2",
                                 2, params);
    if (!j)
        return -1;
    int found = json_integer_value(json_object_get(j, "n")) == 1;
    json_decref(j);
    return found;
}

static int test_webhook(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *id = bl_http_request_param(req->http, "id");
    int known = is_fs_webhook(req, id);
    if (known < 0)
        return -1;
    if (known == 0)
        return bl_api_fail(req->http, resp, 404, "NOT_FOUND", "no such webhook in this organization", NULL);
    bl_api_webhook_env env = {0};
    bl_webhook_endpoint *e = NULL;
    bl_webhook_test t = {0};
    bl_err err = {0};
    int rc = -1;
    if (bl_api_webhook_env_open_logged(req, BL_API_WH_KEYRING, &env) != 0 ||
        !(e = bl_api_webhook_find(req, env.store, resp, &rc)))
        goto done;
    if (bl_webhook_test_send(e, env.keyring, &env.allow, (int64_t)bl_api_server_now(req->server) * 1000, &t,
                             &err) != 0) {
        rc = err.code == BL_EINVAL ? bl_api_fail(req->http, resp, 422, "VALIDATION_ERROR", err.msg,
                                                 json_pack("{s:s}", "url", err.msg))
                                   : -1;
        goto done;
    }
    json_t *out = json_pack("{s:s, s:s, s:b, s:o, s:I, s:s%, s:o}", "event_id", t.event_id, "type",
                            BL_SLP_TEST_TYPE, "succes", t.succeeded, "code_statut",
                            t.status_code ? json_integer(t.status_code) : json_null(), "duree_ms",
                            (json_int_t)t.duration_ms, "reponse", t.response ? t.response : "",
                            t.response ? t.response_len : 0, "erreur", t.error[0] ? json_string(t.error) : json_null());
    rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
done:
    bl_webhook_test_clear(&t);
    bl_webhook_endpoint_free(e);
    bl_api_webhook_env_close(&env);
    return rc;
}

static const bl_api_route routes[] = {
    {"GET", "/webhooks/", BL_API_BY_METHOD, list_webhooks},
    {"POST", "/webhooks/", BL_API_BY_METHOD, create_webhook},
    {"POST", "/webhooks/:id/test", BL_API_BY_METHOD, test_webhook},
};

int bl_api_routes_fs_webhooks(bl_api_server *s, bl_err *err)
{
    return bl_api_server_surface_routes(s, BL_API_SURFACE_FIELD_SERVICE, routes, sizeof routes / sizeof routes[0],
                                        NULL, err);
}
