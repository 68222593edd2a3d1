/* Shared HTTP plumbing of the built-in SaaS connectors. */
#include "connectors/vendor_http.h"

#include "consumers/retry_policy.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bl_vendor_result(bl_connector_result *result, int status, const char *fmt, ...)
{
    result->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(result->message, sizeof result->message, fmt, ap);
    va_end(ap);
    return status;
}

int bl_vendor_json_call(const bl_connector_host *host, const char *method, const char *url,
                        const char *const *headers, size_t n_headers, const json_t *body,
                        bl_connector_http_response *resp)
{
    return bl_vendor_json_call_as(host, method, url, headers, n_headers, body, NULL, resp);
}

int bl_vendor_json_call_as(const bl_connector_host *host, const char *method, const char *url,
                           const char *const *headers, size_t n_headers, const json_t *body,
                           const char *content_type, bl_connector_http_response *resp)
{
    char ct_line[128];
    const char *lines[16];
    size_t n = 0;
    for (size_t i = 0; i < n_headers && n < 14; i++)
        lines[n++] = headers[i];
    lines[n++] = "Accept: application/json";
    char *text = NULL;
    if (body) {
        if (content_type)
            snprintf(ct_line, sizeof ct_line, "Content-Type: %s", content_type);
        lines[n++] = content_type ? ct_line : "Content-Type: application/json; charset=utf-8";
        text = json_dumps(body, JSON_COMPACT);
        if (!text) {
            memset(resp, 0, sizeof *resp);
            resp->transport = "other";
            resp->error = "cannot serialise the request body";
            resp->body = "";
            return -1;
        }
    }
    bl_connector_http_request req = {
        .method = method,
        .url = url,
        .headers = lines,
        .n_headers = n,
        .body = text,
        .body_len = text ? strlen(text) : 0,
    };
    int rc = host->http(host->ctx, &req, resp);
    free(text);
    return rc;
}

int bl_vendor_classify(int rc, const bl_connector_http_response *resp, const char *what,
                       const char *vendor_message, int64_t now_ms, bl_connector_result *result)
{
    if (rc != 0) {
        result->retry_after_ms = -1;
        bl_vendor_result(result, BL_CONNECTOR_RETRYABLE, "%s: %s: %s", what, resp->transport,
                         resp->error ? resp->error : "");
        return 0;
    }
    long st = resp->status;
    if (st >= 200 && st < 300)
        return 1;
    const char *msg = vendor_message;
    char excerpt[200];
    if (!msg) {
        snprintf(excerpt, sizeof excerpt, "%.*s", (int)(resp->body_len < 199 ? resp->body_len : 199),
                 resp->body ? resp->body : "");
        msg = excerpt;
    }
    result->retry_after_ms = -1;
    int status;
    if (st == 401)
        status = BL_CONNECTOR_AUTH_EXPIRED;
    else if (st == 408 || st == 429 || st >= 500)
        status = BL_CONNECTOR_RETRYABLE;
    else
        status = BL_CONNECTOR_PERMANENT;
    int64_t delay;
    if ((st == 429 || st == 503) && resp->retry_after && bl_retry_after_parse(resp->retry_after, now_ms, &delay) == 0)
        result->retry_after_ms = delay;
    bl_vendor_result(result, status, "%s: HTTP %ld: %s", what, st, msg);
    return 0;
}

int bl_vendor_url_encode(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                    *p == '-' || *p == '_' || *p == '.' || *p == '~';
        if (o + (plain ? 1 : 3) + 1 > cap)
            return -1;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    if (o + 1 > cap)
        return -1;
    out[o] = '\0';
    return 0;
}

int bl_vendor_basic_auth(const char *user, const char *secret, char *out, size_t cap)
{
    char plain[1024];
    int n = snprintf(plain, sizeof plain, "%s:%s", user, secret);
    if (n < 0 || (size_t)n >= sizeof plain)
        return -1;
    size_t need = 4 * (((size_t)n + 2) / 3) + 1;
    const char *prefix = "Authorization: Basic ";
    if (strlen(prefix) + need > cap)
        return -1;
    strcpy(out, prefix);
    EVP_EncodeBlock((unsigned char *)out + strlen(prefix), (const unsigned char *)plain, n);
    return 0;
}
