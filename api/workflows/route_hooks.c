/* The inbound URL of `webhook` workflow triggers:
 *   POST /v1/workflows/:id/hook-secret (admin): a new signing secret for the
 *     workflow (the old one stops verifying), shown once, kept sealed;
 *   POST /v1/workflows/:id/hooks (public: the signature is the credential):
 *     a Standard Webhooks request (webhook-id, webhook-timestamp within 5
 *     minutes, webhook-signature "v1,<base64 HMAC-SHA256>") whose JSON body
 *     becomes the input of a new execution; 202 with its id. A bad signature
 *     is 401 invalid_signature, a replayed webhook-id 409 replayed. */
#include "api/workflows/workflows.h"

#include "connectors/webhook/policy/signature.h"
#include "connectors/workflows/wf_exec.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/pg_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOOK_TOLERANCE_S 300
#define HOOK_TRIGGER_MAX 300

/* The keyring, or NULL with the 503 answered in resp (*rc set). */
static bl_keyring *keyring_or_503(const bl_api_request *req, bl_http_response *resp, int *rc)
{
    bl_err err = {0};
    const char *keys = getenv(BL_KEYRING_ENV_KEYS);
    bl_keyring *kr = keys && *keys ? bl_keyring_from_env(&err) : NULL;
    if (!kr)
        *rc = bl_api_fail(req->http, resp, 503, "unavailable",
                          "workflow hook secrets need " BL_KEYRING_ENV_KEYS " (they are kept sealed)", NULL);
    return kr;
}

/* The trigger type of workflow wid of org into type. 1 found, 0 not, -1 err. */
static int trigger_type_of(PGconn *conn, const char *org, const char *wid, char type[16], bl_err *err)
{
    const char *p[] = {org, wid};
    PGresult *r = bl_pg_exec(conn, "SELECT trigger_type FROM workflows WHERE organization_id = $1 AND id::text = $2",
                             2, p, err);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    if (found)
        snprintf(type, 16, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return found;
}

static int new_hook_secret(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    const char *wid = bl_http_request_param(req->http, "id");
    bl_err err = {0};
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX] = "", path[160], type[16] = "";
    char *sealed = NULL;
    bl_keyring *kr = NULL;
    bl_pg_pool *pool = bl_api_server_pool(req->server);
    int rc = -1;
    PGconn *conn = bl_pg_pool_acquire(pool, 5000, &err);
    int found = conn ? trigger_type_of(conn, req->auth->org_id, wid, type, &err) : -1;
    if (found == 0) {
        rc = bl_api_fail(req->http, resp, 404, NULL, "workflow: not found", NULL);
        goto done;
    }
    if (found < 0)
        goto done;
    if (strcmp(type, "webhook") != 0) {
        rc = bl_api_fail(req->http, resp, 409, "conflict",
                         "only a workflow whose trigger is \"webhook\" has an inbound URL", NULL);
        goto done;
    }
    if (!(kr = keyring_or_503(req, resp, &rc)))
        goto done;
    rc = -1;
    if (bl_webhook_secret_generate(secret, sizeof secret, &err) != 0 ||
        !(sealed = bl_keyring_seal(kr, secret, strlen(secret), wid, strlen(wid), &err)))
        goto done;
    const char *by = req->auth->key_id[0] ? req->auth->key_id : req->auth->user_id;
    const char *p[] = {wid, sealed, by};
    if (bl_pg_exec_cmd(conn,
                       "INSERT INTO workflow_hooks (workflow_id, secret_sealed, created_by) VALUES ($1::uuid, $2, $3)"
                       " ON CONFLICT (workflow_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed,"
                       " created_by = EXCLUDED.created_by, created_at = now()",
                       3, p, &err) != 0)
        goto done;
    snprintf(path, sizeof path, "/v1/workflows/%s/hooks", wid);
    json_t *body = json_pack("{s:s, s:s, s:s}", "url", path, "secret", secret, "signature",
                             "Standard Webhooks v1: webhook-id, webhook-timestamp (within 300 s),"
                             " webhook-signature v1,<base64 HMAC-SHA256 of id.timestamp.body>");
    rc = body ? bl_http_response_json(resp, 201, body) : -1;
    json_decref(body);
    bl_log_info("workflows: hook secret made", BL_FS("workflow_id", wid),
                BL_FS("request_id", bl_http_request_id(req->http)));
done:
    if (rc < 0 && err.msg[0])
        bl_log_error("workflows: hook secret not made", BL_FS("workflow_id", wid), BL_FS("error", err.msg));
    bl_pg_pool_release(pool, conn);
    free(sealed);
    memset(secret, 0, sizeof secret);
    bl_keyring_free(kr);
    return rc;
}

/* What a hook request is checked against: the workflow's row. */
typedef struct hook_row {
    char org[BL_WF_ID_MAX], version[32], first_step[BL_WF_ID_MAX + 2];
    char *sealed;
} hook_row;

/* Reads the active webhook workflow wid with its sealed secret. 1 found, 0 not, -1 err. */
static int hook_row_load(PGconn *conn, const char *wid, hook_row *h, bl_err *err)
{
    const char *p[] = {wid};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT w.organization_id::text, w.version, w.config -> 'steps' -> 0 ->> 'id',"
                             " h.secret_sealed FROM workflows w JOIN workflow_hooks h ON h.workflow_id = w.id"
                             " WHERE w.id::text = $1 AND w.is_active AND w.trigger_type = 'webhook'",
                             1, p, err);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    if (found) {
        snprintf(h->org, sizeof h->org, "%s", PQgetvalue(r, 0, 0));
        snprintf(h->version, sizeof h->version, "%s", PQgetvalue(r, 0, 1));
        snprintf(h->first_step, sizeof h->first_step, "%s", PQgetvalue(r, 0, 2));
        h->sealed = strdup(PQgetvalue(r, 0, 3));
        if (!h->sealed)
            found = bl_err_set(err, BL_ENOMEM, "workflows: out of memory");
    }
    PQclear(r);
    return found;
}

/* Verifies the request's signature with the sealed secret. Returns the verdict (err says why). */
static bl_webhook_verdict verify(const bl_api_request *req, const bl_keyring *kr, const char *wid, const char *sealed,
                                 bl_err *err)
{
    uint8_t *plain = NULL;
    size_t plain_len = 0, body_len = 0;
    bl_webhook_secret secret;
    bl_webhook_verdict v = BL_WEBHOOK_VERIFY_NO_MATCH;
    if (bl_keyring_open(kr, sealed, wid, strlen(wid), &plain, &plain_len, err) != 0 ||
        bl_webhook_secret_parse((const char *)plain, &secret, err) != 0)
        goto done;
    const char *body = bl_http_request_body(req->http, &body_len);
    v = bl_webhook_verify_v1(&secret, bl_http_request_header(req->http, "webhook-id"),
                             bl_http_request_header(req->http, "webhook-timestamp"),
                             bl_http_request_header(req->http, "webhook-signature"), body ? body : "", body_len,
                             (int64_t)time(NULL), HOOK_TOLERANCE_S, err);
    bl_webhook_secret_wipe(&secret);
done:
    if (plain) {
        memset(plain, 0, plain_len);
        free(plain);
    }
    return v;
}

static int receive_hook(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    const char *wid = bl_http_request_param(req->http, "id");
    bl_pg_pool *pool = bl_api_server_pool(req->server);
    bl_err err = {0};
    hook_row h = {0};
    bl_keyring *kr = NULL;
    int rc = -1;
    PGconn *conn = bl_pg_pool_acquire(pool, 5000, &err);
    int found = conn ? hook_row_load(conn, wid, &h, &err) : -1;
    if (found <= 0) {
        rc = found == 0 ? bl_api_fail(req->http, resp, 404, NULL,
                                      "no active workflow with a webhook trigger and a hook secret here", NULL)
                        : -1;
        goto done;
    }
    if (!(kr = keyring_or_503(req, resp, &rc)))
        goto done;
    rc = -1;
    bl_webhook_verdict v = verify(req, kr, wid, h.sealed, &err);
    if (v != BL_WEBHOOK_VERIFY_OK) {
        rc = bl_api_fail(req->http, resp, 401, "invalid_signature", "the webhook signature does not verify",
                         json_pack("{s:s}", "webhook-signature", bl_webhook_verdict_name(v)));
        goto done;
    }
    if (!req->body) {
        rc = bl_api_fail(req->http, resp, 400, NULL, "a JSON body is required (it becomes the execution's input)",
                         NULL);
        goto done;
    }
    char trigger_id[HOOK_TRIGGER_MAX], exec_id[BL_WF_ID_MAX] = "";
    snprintf(trigger_id, sizeof trigger_id, "webhook:%s", bl_http_request_header(req->http, "webhook-id"));
    int started = bl_wf_exec_start(conn, h.org, wid, h.version, h.first_step, trigger_id, req->body, exec_id, &err);
    if (started == 0) {
        rc = bl_api_fail(req->http, resp, 409, "replayed", "this webhook-id was already received",
                         json_pack("{s:s}", "webhook-id", "already received"));
    } else if (started == 1) {
        bl_log_info("workflows: execution started by a webhook", BL_FS("workflow_id", wid),
                    BL_FS("execution_id", exec_id), BL_FS("request_id", bl_http_request_id(req->http)));
        json_t *body = json_pack("{s:s, s:s, s:s}", "executionId", exec_id, "workflowId", wid, "status", "running");
        rc = body ? bl_http_response_json(resp, 202, body) : -1;
        json_decref(body);
    }
done:
    if (rc < 0)
        bl_log_error("workflows: hook not received", BL_FS("workflow_id", wid), BL_FS("error", err.msg));
    bl_pg_pool_release(pool, conn);
    free(h.sealed);
    bl_keyring_free(kr);
    return rc;
}

int bl_wf_api_hooks_install(bl_api_server *s, bl_wf_api_ctx *ctx, bl_err *err)
{
    static const bl_api_route routes[] = {
        {"POST", "/v1/workflows/:id/hook-secret", BL_API_ADMIN, new_hook_secret},
        {"POST", "/v1/workflows/:id/hooks", BL_API_PUBLIC, receive_hook},
    };
    return bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], ctx, err);
}
