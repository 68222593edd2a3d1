/* The signed test delivery of POST /v1/webhooks/:id/test (see
 * connectors/webhook/workers/test_send.h). */
#include "connectors/webhook/workers/test_send.h"

#include "connectors/webhook/store/delivery_log.h"
#include "connectors/webhook/workers/payload.h"
#include "connectors/webhook/workers/smartleakpro_payload.h"
#include "core/http_client.h"
#include "core/uuid.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_LINES (6 + BL_WEBHOOK_HEADERS_MAX)
#define HEADER_LINE_MAX (BL_WEBHOOK_HEADER_NAME_MAX + BL_WEBHOOK_HEADER_VALUE_MAX + 4)

/* The body: {"event":"webhook.test","timestamp",...,"data":{endpoint_id, name, message}}, or
 * the SmartLeakPro test body for an endpoint of that format. */
static char *test_body(const bl_webhook_endpoint *e, int64_t now_ms, size_t *len, bl_err *err)
{
    json_t *env = json_pack("{s:s, s:I, s:s, s:{s:s, s:s, s:s}}", "type", BL_WEBHOOK_TEST_EVENT,
                            "time", (json_int_t)now_ms, "organization_id", e->organization_id, "data",
                            "endpoint_id", e->id, "name", e->name, "message",
                            "This is a test delivery from busline.");
    if (!env) {
        bl_err_set(err, BL_ENOMEM, "webhook test: out of memory");
        return NULL;
    }
    char *body = e->payload_format == BL_WEBHOOK_PAYLOAD_SMARTLEAKPRO
                     ? bl_slp_test_body(e->id, e->name, now_ms, len, err)
                     : bl_webhook_payload_build(env, len, err);
    json_decref(env);
    return body;
}

/* The signature headers of body into lines[0..2] (then X-Signature and the
 * HMAC header when the endpoint asks). */
static int sign(const bl_webhook_endpoint *e, const bl_keyring *kr, int64_t now_ms, const char *msg_id,
                const char *body, size_t len, char lines[][HEADER_LINE_MAX], size_t *n, bl_err *err)
{
    bl_webhook_keys k;
    if (bl_webhook_endpoint_keys_open(e, kr, now_ms, &k, err) != 0)
        return bl_err_wrap(err, "webhook test");
    int64_t now_s = now_ms / 1000;
    bl_webhook_rotation keys = bl_webhook_keys_rotation(e, &k);
    char sig[BL_WEBHOOK_SIG_HEADER_MAX], legacy[BL_WEBHOOK_LEGACY_SIG_MAX], mac[BL_WEBHOOK_LEGACY_SIG_MAX];
    int rc = bl_webhook_sign_header(&keys, now_s, msg_id, now_s, body, len, sig, sizeof sig, err);
    if (rc == 0 && e->legacy_signature)
        rc = bl_webhook_sign_legacy(k.secret.key, k.secret.len, body, len, legacy, sizeof legacy, err);
    if (rc == 0 && e->hmac_header)
        rc = bl_webhook_sign_text_keyed(&k.secret, body, len, mac, sizeof mac, err);
    bl_webhook_keys_wipe(&k);
    if (rc != 0)
        return bl_err_wrap(err, "webhook test");
    snprintf(lines[(*n)++], HEADER_LINE_MAX, "webhook-id: %s", msg_id);
    snprintf(lines[(*n)++], HEADER_LINE_MAX, "webhook-timestamp: %" PRId64, now_s);
    snprintf(lines[(*n)++], HEADER_LINE_MAX, "webhook-signature: %s", sig);
    if (e->legacy_signature)
        snprintf(lines[(*n)++], HEADER_LINE_MAX, "X-Signature: %s", legacy);
    if (e->hmac_header)
        snprintf(lines[(*n)++], HEADER_LINE_MAX, "%s: %s", e->hmac_header, mac);
    return 0;
}

int bl_webhook_test_send(const bl_webhook_endpoint *e, const bl_keyring *kr,
                             const bl_ssrf_allowlist *allow, int64_t now_ms, bl_webhook_test *out,
                             bl_err *err)
{
    memset(out, 0, sizeof *out);
    bl_ssrf_target target;
    char resolve[BL_SSRF_HOST_MAX + INET6_ADDRSTRLEN + 16];
    if (bl_ssrf_check_url(e->url, allow, &target, err) != 0) {
        err->code = BL_EINVAL; /* a name that does not resolve is refused the same way */
        return bl_err_wrap(err, "url");
    }
    if (bl_ssrf_resolve_entry(&target, resolve, sizeof resolve) != 0)
        return bl_err_set(err, BL_EINVAL, "url: host too long to pin");
    char uuid[BL_UUID_SIZE];
    if (bl_uuid_random(uuid, err) != 0)
        return -1;
    snprintf(out->event_id, sizeof out->event_id, "msg_test_%s", uuid);

    size_t len = 0;
    char *body = test_body(e, now_ms, &len, err);
    if (!body)
        return -1;
    char(*h)[HEADER_LINE_MAX] = calloc(HEADER_LINES, HEADER_LINE_MAX); /* 27 KiB: off the stack */
    const char *ptrs[HEADER_LINES];
    size_t n = 0, tls_key_len = 0;
    char *tls_key = NULL;
    int rc = -1;
    if (!h) {
        bl_err_set(err, BL_ENOMEM, "webhook test: out of memory");
        goto done;
    }
    snprintf(h[n++], HEADER_LINE_MAX, "Content-Type: application/json");
    if (sign(e, kr, now_ms, out->event_id, body, len, h, &n, err) != 0)
        goto done;
    const char *name;
    json_t *value;
    json_object_foreach(e->headers, name, value) {
        if (n < HEADER_LINES && json_string_value(value))
            snprintf(h[n++], HEADER_LINE_MAX, "%s: %s", name, json_string_value(value));
    }
    for (size_t i = 0; i < n; i++)
        ptrs[i] = h[i];
    if (bl_webhook_endpoint_tls_key_open(e, kr, &tls_key, &tls_key_len, err) != 0)
        goto done;
    bl_http_call call = {.method = "POST", .url = e->url, .headers = ptrs, .header_count = n,
                         .body = body, .body_len = len, .timeout_ms = e->timeout_ms,
                         .resolve = resolve[0] ? resolve : NULL,
                         .tls_client_cert = tls_key ? e->tls_client_cert : NULL, .tls_client_key = tls_key,
                         .tls_ca_cert = e->tls_ca_cert, .proxy = e->egress_proxy};
    bl_http_client_config cfg = {.body_cap = BL_DELIVERY_EXCERPT_MAX};
    bl_http_sync_result res = {0};
    bl_err call_err = {0};
    if (bl_http_request_sync(&call, &cfg, &res, &call_err) == 0) {
        out->status_code = (int)res.status;
        out->succeeded = res.status >= 200 && res.status < 300;
        out->response = res.body;
        out->response_len = res.body_len;
        res.body = NULL;
    } else {
        snprintf(out->error, sizeof out->error, "%s: %.200s", bl_http_transport_name(res.transport),
                 call_err.msg);
    }
    out->duration_ms = res.duration_us / 1000;
    bl_http_sync_result_clear(&res);
    out->sent = body;
    out->sent_len = len;
    body = NULL;
    rc = 0;
done:
    if (tls_key)
        OPENSSL_cleanse(tls_key, tls_key_len);
    free(tls_key);
    free(h);
    free(body);
    return rc;
}

void bl_webhook_test_clear(bl_webhook_test *out)
{
    free(out->response);
    out->response = NULL;
    free(out->sent);
    out->sent = NULL;
}
