/* One transfer's slot: its curl easy handle set up from a call, the
 * response's headers and body captured into the slot's own buffers, and the
 * result reported to the caller with its transport outcome. */
#include "core/http_client_internal.h"

#include "core/http_route.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *bl_http_transport_name(bl_http_transport t)
{
    switch (t) {
    case BL_HTTP_TRANSPORT_OK: return "ok";
    case BL_HTTP_TRANSPORT_TIMEOUT: return "timeout";
    case BL_HTTP_TRANSPORT_REFUSED: return "connect_refused";
    case BL_HTTP_TRANSPORT_DNS: return "dns";
    case BL_HTTP_TRANSPORT_RESET: return "reset";
    case BL_HTTP_TRANSPORT_CANCELLED: return "cancelled";
    case BL_HTTP_TRANSPORT_OTHER: return "other";
    }
    return "other";
}

static bl_http_transport classify(CURLcode code, long os_errno)
{
    switch (code) {
    case CURLE_OK:
        return BL_HTTP_TRANSPORT_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return BL_HTTP_TRANSPORT_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
        return BL_HTTP_TRANSPORT_REFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return BL_HTTP_TRANSPORT_DNS;
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return BL_HTTP_TRANSPORT_RESET;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return (os_errno == ECONNRESET || os_errno == EPIPE || os_errno == 0)
                   ? BL_HTTP_TRANSPORT_RESET : BL_HTTP_TRANSPORT_OTHER;
    default:
        return BL_HTTP_TRANSPORT_OTHER;
    }
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    slot *s = userp;
    size_t n = size * nmemb;
    size_t room = s->client->cfg.body_cap - s->body_len;
    size_t keep = n < room ? n : room;
    memcpy(s->body + s->body_len, data, keep);
    s->body_len += keep;
    s->body_total += n;
    return n; /* always accept: what does not fit is drained, not an error */
}

static void copy_value(char *dst, const char *src, size_t len)
{
    if (len >= BL_HTTP_HEADER_VALUE_MAX)
        len = BL_HTTP_HEADER_VALUE_MAX - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

void bl_http_slot_headers_reset(slot *s)
{
    s->hdr_used = 0;
    s->hdr_count = 0;
    s->hdr_truncated = false;
    s->retry_after[0] = '\0';
    s->content_type[0] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userp)
{
    slot *s = userp;
    size_t n = size * nmemb;
    /* A status line starts a new response (after a 100 Continue, say):
     * only the last response's headers are reported. */
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        bl_http_slot_headers_reset(s);
        return n;
    }
    size_t len = n;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line || line[0] == ' ' || line[0] == '\t')
        return n;
    size_t name_len = (size_t)(colon - line);
    const char *value = colon + 1;
    size_t value_len = len - name_len - 1;
    while (value_len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        value_len--;
    }
    while (value_len > 0 && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
        value_len--;
    if (name_len == 11 && strncasecmp(line, "Retry-After", 11) == 0)
        copy_value(s->retry_after, value, value_len);
    else if (name_len == 12 && strncasecmp(line, "Content-Type", 12) == 0)
        copy_value(s->content_type, value, value_len);
    const bl_http_client_config *cfg = &s->client->cfg;
    size_t need = name_len + value_len + 2;
    if (s->hdr_count == cfg->max_headers || s->hdr_used + need > cfg->header_bytes) {
        s->hdr_truncated = true;
        return n;
    }
    char *dst = s->hdr_buf + s->hdr_used;
    memcpy(dst, line, name_len);
    dst[name_len] = '\0';
    memcpy(dst + name_len + 1, value, value_len);
    dst[name_len + 1 + value_len] = '\0';
    s->hdrs[s->hdr_count].name = dst;
    s->hdrs[s->hdr_count].value = dst + name_len + 1;
    s->hdr_count++;
    s->hdr_used += need;
    return n;
}

void bl_http_slot_free(slot *s)
{
    if (!s)
        return;
    if (s->easy)
        curl_easy_cleanup(s->easy);
    curl_slist_free_all(s->req_headers);
    curl_slist_free_all(s->resolve);
    free(s->req_body);
    free(s->body);
    free(s->hdr_buf);
    free(s->hdrs);
    free(s);
}

slot *bl_http_slot_new(bl_http_client *c, bl_err *err)
{
    slot *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    s->client = c;
    s->easy = curl_easy_init();
    s->body = malloc(c->cfg.body_cap + 1);
    s->hdr_buf = malloc(c->cfg.header_bytes);
    s->hdrs = calloc(c->cfg.max_headers, sizeof *s->hdrs);
    if (!s->easy || !s->body || !s->hdr_buf || !s->hdrs)
        goto oom;
    s->next_all = c->all_slots;
    c->all_slots = s;
    return s;
oom:
    bl_http_slot_free(s);
    bl_err_set(err, BL_ENOMEM, "http client: out of memory for a request slot");
    return NULL;
}

/* Returns the slot to the free list; the easy handle keeps nothing of the
 * request (reset), while its connection stays in the multi's pool. */
void bl_http_slot_release(bl_http_client *c, slot *s)
{
    curl_easy_reset(s->easy);
    curl_slist_free_all(s->req_headers);
    s->req_headers = NULL;
    curl_slist_free_all(s->resolve);
    s->resolve = NULL;
    s->in_use = false;
    s->waiting = false;
    s->host = NULL;
    s->on_done = NULL;
    s->opaque = NULL;
    s->next_free = c->free_slots;
    c->free_slots = s;
}

void bl_http_slot_report(slot *s, CURLcode code)
{
    bl_http_result r = {0};
    long os_errno = 0;
    curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &os_errno);
    r.transport = classify(code, os_errno);
    if (code != CURLE_OK && s->errbuf[0] == '\0')
        snprintf(s->errbuf, sizeof s->errbuf, "%s", curl_easy_strerror(code));
    r.error = s->errbuf;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &r.status);
    curl_off_t total_us = 0;
    if (curl_easy_getinfo(s->easy, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK)
        r.duration_us = (int64_t)total_us;
    long connects = 0;
    if (curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
        r.connection_reused = code == CURLE_OK && connects == 0;
    r.headers = s->hdrs;
    r.header_count = s->hdr_count;
    r.headers_truncated = s->hdr_truncated;
    r.retry_after = s->retry_after[0] ? s->retry_after : NULL;
    r.content_type = s->content_type[0] ? s->content_type : NULL;
    s->body[s->body_len] = '\0';
    r.body = s->body;
    r.body_len = s->body_len;
    r.body_total = s->body_total;
    r.body_truncated = s->body_total > s->body_len;
    s->on_done(&r, s->opaque);
}

/* Reports a request that got no transfer of its own (errbuf says why). */
void bl_http_slot_report_unsent(slot *s, bl_http_transport t)
{
    bl_http_result r = {.transport = t, .error = s->errbuf};
    s->on_done(&r, s->opaque);
}

static bool line_is_clean(const char *s)
{
    return s && strpbrk(s, "\r\n") == NULL;
}

int bl_http_call_validate(const bl_http_call *call, bl_err *err)
{
    if (!call || !call->url || !call->on_done)
        return bl_err_set(err, BL_EINVAL, "http client: a call needs a url and on_done");
    if (call->method && !bl_http_method_valid(call->method))
        return bl_err_set(err, BL_EINVAL, "http client: bad method");
    if (!line_is_clean(call->url))
        return bl_err_set(err, BL_EINVAL, "http client: url contains a line break");
    if (call->body_len > 0 && !call->body)
        return bl_err_set(err, BL_EINVAL, "http client: body_len without body");
    if (call->proxy && (!line_is_clean(call->proxy) ||
                        (strncmp(call->proxy, "http://", 7) != 0 && strncmp(call->proxy, "https://", 8) != 0)))
        return bl_err_set(err, BL_EINVAL, "http client: the proxy must be an http:// or https:// URL");
    if (!call->tls_client_cert != !call->tls_client_key)
        return bl_err_set(err, BL_EINVAL, "http client: a client certificate needs its key, and a key its certificate");
    for (size_t i = 0; i < call->header_count; i++)
        if (!line_is_clean(call->headers[i]) || !strchr(call->headers[i], ':'))
            return bl_err_set(err, BL_EINVAL, "http client: header %zu is not one \"Name: value\" line", i);
    return 0;
}

static bool has_header(const bl_http_call *call, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < call->header_count; i++)
        if (strncasecmp(call->headers[i], name, len) == 0 && call->headers[i][len] == ':')
            return true;
    return false;
}

int bl_http_slot_set_headers(slot *s, const bl_http_call *call)
{
    for (size_t i = 0; i < call->header_count; i++) {
        struct curl_slist *grown = curl_slist_append(s->req_headers, call->headers[i]);
        if (!grown)
            return -1;
        s->req_headers = grown;
    }
    /* curl would send "Expect: 100-continue" on large bodies and wait up to
     * a second for servers that ignore it; callers may still ask for it. */
    if (!has_header(call, "Expect")) {
        struct curl_slist *grown = curl_slist_append(s->req_headers, "Expect:");
        if (!grown)
            return -1;
        s->req_headers = grown;
    }
    return 0;
}

/* Copies the body into the slot: curl reads POSTFIELDS lazily. */
int bl_http_slot_set_body(slot *s, const bl_http_call *call)
{
    if (s->req_body_cap < call->body_len + 1) {
        char *grown = realloc(s->req_body, call->body_len + 1);
        if (!grown)
            return -1;
        s->req_body = grown;
        s->req_body_cap = call->body_len + 1;
    }
    if (call->body_len)
        memcpy(s->req_body, call->body, call->body_len);
    return 0;
}

static CURLcode slot_set_method(slot *s, const bl_http_call *call)
{
    const char *m = call->method ? call->method : "GET";
    bool sends_body = call->body_len > 0 || strcmp(m, "POST") == 0 ||
                      strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
    CURLcode rc = CURLE_OK;
    if (sends_body) {
        if ((rc = curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len)) ||
            (rc = curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->req_body)))
            return rc;
        if (strcmp(m, "POST") != 0)
            rc = curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST, m);
    } else if (strcmp(m, "HEAD") == 0) {
        rc = curl_easy_setopt(s->easy, CURLOPT_NOBODY, 1L);
    } else if (strcmp(m, "GET") != 0) {
        rc = curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST, m);
    }
    return rc;
}

/* PEM text as a blob curl copies. */
static CURLcode set_pem(CURL *easy, CURLoption opt, const char *pem)
{
    struct curl_blob blob = {.data = (void *)pem, .len = strlen(pem), .flags = CURL_BLOB_COPY};
    return curl_easy_setopt(easy, opt, &blob);
}

/* The call's client certificate, CA and proxy. */
static CURLcode slot_set_transport(slot *s, const bl_http_call *call)
{
    CURLcode rc = CURLE_OK;
    if (call->tls_client_cert && call->tls_client_key &&
        ((rc = set_pem(s->easy, CURLOPT_SSLCERT_BLOB, call->tls_client_cert)) ||
         (rc = curl_easy_setopt(s->easy, CURLOPT_SSLCERTTYPE, "PEM")) ||
         (rc = set_pem(s->easy, CURLOPT_SSLKEY_BLOB, call->tls_client_key)) ||
         (rc = curl_easy_setopt(s->easy, CURLOPT_SSLKEYTYPE, "PEM"))))
        return rc;
    /* the blob replaces the CA file; the CA directory is dropped too, so the
     * bundle alone is trusted */
    if (call->tls_ca_cert && ((rc = set_pem(s->easy, CURLOPT_CAINFO_BLOB, call->tls_ca_cert)) ||
                              (rc = curl_easy_setopt(s->easy, CURLOPT_CAPATH, NULL))))
        return rc;
    /* the proxy's scheme says http or https; https destinations go through CONNECT */
    if (call->proxy)
        rc = curl_easy_setopt(s->easy, CURLOPT_PROXY, call->proxy);
    return rc;
}

CURLcode bl_http_slot_set_options(bl_http_client *c, slot *s, const bl_http_call *call)
{
    long connect_ms = call->connect_timeout_ms > 0 ? call->connect_timeout_ms : c->cfg.connect_timeout_ms;
    CURLcode rc;
    if ((rc = curl_easy_setopt(s->easy, CURLOPT_URL, call->url)) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https")) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_FOLLOWLOCATION, 0L)) ||
        /* A proxy from the environment would send requests somewhere other
         * than the address that was checked (and pinned): never use one;
         * only the call's own (slot_set_transport). */
        (rc = curl_easy_setopt(s->easy, CURLOPT_NOPROXY, call->proxy ? "" : "*")) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L)) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s)) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf)) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body)) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s)) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, on_header)) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s)) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, call->timeout_ms > 0 ? call->timeout_ms : 0L)) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms)) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_USERAGENT, c->user_agent)) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->req_headers)) ||
        (rc = slot_set_method(s, call)) ||
        (rc = slot_set_transport(s, call)))
        return rc;
    if (call->resolve) {
        s->resolve = curl_slist_append(NULL, call->resolve);
        if (!s->resolve)
            return CURLE_OUT_OF_MEMORY;
        rc = curl_easy_setopt(s->easy, CURLOPT_RESOLVE, s->resolve);
    }
    return rc;
}
