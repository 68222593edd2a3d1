/* The host table given to connector instances. */
#include "connectors/host.h"

#include "core/clock.h"
#include "core/http_client.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOST_TOKEN_MAX 4096

struct bl_connector_host_impl {
    bl_connector_host table;
    char *connector, *integration_id;
    json_t *secrets; /* name -> resolved value */
    bl_state_store *state;
    long http_timeout_ms;
    size_t http_body_cap;
    bl_connector_token_fn token;
    void *token_ctx;
    char bearer[HOST_TOKEN_MAX];
};

static void host_log(void *ctx, int level, const char *msg)
{
    bl_connector_host_impl *h = ctx;
    bl_log_level lvl = level <= BL_CONNECTOR_LOG_DEBUG  ? BL_LOG_DEBUG
                       : level == BL_CONNECTOR_LOG_INFO ? BL_LOG_INFO
                       : level == BL_CONNECTOR_LOG_WARN ? BL_LOG_WARN
                                                        : BL_LOG_ERROR;
    bl_log_write(lvl, msg, (const bl_field[]){BL_FS("connector", h->connector),
                                              BL_FS("integration_id", h->integration_id), {0}});
}

static int host_http(void *ctx, const bl_connector_http_request *req, bl_connector_http_response *resp)
{
    bl_connector_host_impl *h = ctx;
    memset(resp, 0, sizeof *resp);
    bl_http_sync_result *r = calloc(1, sizeof *r);
    if (!r) {
        resp->transport = "other";
        resp->error = "out of memory";
        resp->body = "";
        return -1;
    }
    bl_http_call call = {
        .method = req->method,
        .url = req->url,
        .headers = req->headers,
        .header_count = req->n_headers,
        .body = req->body,
        .body_len = req->body_len,
        .timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : h->http_timeout_ms,
    };
    bl_http_client_config cc = {.body_cap = h->http_body_cap, .user_agent = "busline-connector"};
    bl_err err = {0};
    int rc = bl_http_request_sync(&call, &cc, r, &err);
    resp->host_private = r;
    resp->status = r->status;
    resp->transport = bl_http_transport_name(r->transport);
    /* The error text must outlive this call: keep it in the result's body
     * slot when no body came. */
    resp->body = r->body ? r->body : "";
    resp->body_len = r->body ? r->body_len : 0;
    resp->content_type = r->content_type[0] ? r->content_type : NULL;
    resp->retry_after = r->retry_after[0] ? r->retry_after : NULL;
    resp->error = "";
    if (rc != 0) {
        free(r->body);
        r->body = strdup(err.msg);
        resp->body = "";
        resp->body_len = 0;
        resp->error = r->body ? r->body : "transport error";
        return -1;
    }
    return 0;
}

static void host_http_release(void *ctx, bl_connector_http_response *resp)
{
    (void)ctx;
    bl_http_sync_result *r = resp->host_private;
    if (r) {
        bl_http_sync_result_clear(r);
        free(r);
    }
    memset(resp, 0, sizeof *resp);
}

static const char *host_secret(void *ctx, const char *name)
{
    bl_connector_host_impl *h = ctx;
    return json_string_value(json_object_get(h->secrets, name));
}

static int host_auth_token(void *ctx, char *out, size_t cap)
{
    bl_connector_host_impl *h = ctx;
    if (h->token) {
        bl_err err = {0};
        if (h->token(h->token_ctx, h->integration_id, 0, out, cap, &err) != 0) {
            bl_log_warn("connector: no bearer token", BL_FS("integration_id", h->integration_id),
                        BL_FS("error", err.msg));
            return -1;
        }
        return 0;
    }
    const char *t = host_secret(ctx, "bearer_token");
    if (!t || strlen(t) >= cap)
        return -1;
    memcpy(out, t, strlen(t) + 1);
    return 0;
}

static int64_t host_now_ms(void *ctx)
{
    (void)ctx;
    return bl_clock_wall_ms();
}

static int host_state_get(void *ctx, const char *key, char *out, size_t cap)
{
    bl_connector_host_impl *h = ctx;
    bl_err err = {0};
    int rc = bl_state_store_get(h->state, h->integration_id, key, out, cap, &err);
    if (rc < 0)
        bl_log_error("connector: state read failed", BL_FS("integration_id", h->integration_id),
                     BL_FS("error", err.msg));
    return rc;
}

static int host_state_put(void *ctx, const char *key, const char *value)
{
    bl_connector_host_impl *h = ctx;
    bl_err err = {0};
    int rc = bl_state_store_put(h->state, h->integration_id, key, value, &err);
    if (rc < 0)
        bl_log_error("connector: state write failed", BL_FS("integration_id", h->integration_id),
                     BL_FS("error", err.msg));
    return rc;
}

void bl_connector_host_free(bl_connector_host_impl *h)
{
    if (!h)
        return;
    json_decref(h->secrets);
    free(h->connector);
    free(h->integration_id);
    free(h);
}

bl_connector_host_impl *bl_connector_host_new(const bl_connector_host_config *cfg, bl_err *err)
{
    bl_connector_host_impl *h = calloc(1, sizeof *h);
    if (!h || !(h->secrets = json_object()) || !(h->connector = strdup(cfg->connector ? cfg->connector : "")) ||
        !(h->integration_id = strdup(cfg->integration_id ? cfg->integration_id : ""))) {
        bl_connector_host_free(h);
        bl_err_set(err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)cfg->credentials, name, v) {
        const char *s = json_string_value(v);
        if (!s) {
            bl_err_set(err, BL_EINVAL, "credentials.%s: not a string", name);
            bl_connector_host_free(h);
            return NULL;
        }
        if (strncmp(s, "env:", 4) == 0) {
            const char *env = getenv(s + 4);
            if (!env) {
                bl_err_set(err, BL_EINVAL, "credentials.%s: environment variable %s is not set", name, s + 4);
                bl_connector_host_free(h);
                return NULL;
            }
            s = env;
        }
        if (json_object_set_new(h->secrets, name, json_string(s)) != 0) {
            bl_err_set(err, BL_EINVAL, "credentials.%s: not UTF-8", name);
            bl_connector_host_free(h);
            return NULL;
        }
    }
    h->state = cfg->state;
    h->http_timeout_ms = cfg->http_timeout_ms > 0 ? cfg->http_timeout_ms : 15000;
    h->http_body_cap = cfg->http_body_cap > 0 ? cfg->http_body_cap : 64 * 1024;
    h->token = cfg->token;
    h->token_ctx = cfg->token_ctx;
    h->table = (bl_connector_host){
        .abi_version = BL_CONNECTOR_ABI_VERSION,
        .struct_size = sizeof(bl_connector_host),
        .ctx = h,
        .log = host_log,
        .http = host_http,
        .http_release = host_http_release,
        .secret = host_secret,
        .auth_token = host_auth_token,
        .now_ms = host_now_ms,
        .state_get = host_state_get,
        .state_put = host_state_put,
    };
    return h;
}

const bl_connector_host *bl_connector_host_table(const bl_connector_host_impl *h)
{
    return &h->table;
}

int bl_connector_host_refresh_auth(bl_connector_host_impl *h, bl_err *err)
{
    if (!h->token)
        return bl_err_set(err, BL_EINVAL, "integration %s has no token source to refresh", h->integration_id);
    return h->token(h->token_ctx, h->integration_id, 1, h->bearer, sizeof h->bearer, err);
}
