#include "core/http_client.h"

#include "core/clock.h"
#include "core/http_host_queue.h"
#include "core/http_route.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* One reusable easy handle and the buffers of the request it carries. Slots
 * go back to a free list, so a busy client allocates nothing per request. */
typedef struct slot {
    CURL *easy;
    struct slot *next_free;
    struct slot *next_all;
    bool in_use;
    bl_http_done_fn on_done;
    void *opaque;
    struct curl_slist *req_headers;
    struct curl_slist *resolve; /* the call's pinned address, if any */
    char *req_body;
    size_t req_body_cap;
    char *body;         /* body_cap + 1 bytes */
    size_t body_len;
    size_t body_total;
    char *hdr_buf;      /* header_bytes: "name\0value\0" pairs */
    size_t hdr_used;
    bl_http_header *hdrs; /* max_headers entries pointing into hdr_buf */
    size_t hdr_count;
    bool hdr_truncated;
    char retry_after[BL_HTTP_HEADER_VALUE_MAX];
    char content_type[BL_HTTP_HEADER_VALUE_MAX];
    char errbuf[CURL_ERROR_SIZE];
    const bl_http_client *client;
    bl_http_host *host;    /* its host's turn: active or waiting */
    bool waiting;          /* submitted, not yet handed to curl */
    int64_t deadline_mono; /* from the call's timeout_ms; 0: none */
} slot;

struct bl_http_client {
    CURLM *multi;
    bl_http_host_queue *hosts;
    CURLU *url_parser; /* reused: the host key of each submitted URL */
    /* The last URL's host key: a worker sends to the same few endpoints, so
     * most submits skip parsing. */
    char last_url[1024], last_key[512];
    bl_http_client_config cfg;
    char *user_agent;
    slot *free_slots;
    slot *all_slots;
    size_t in_flight;
    bool closing;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

/* curl_global_init is not safe to race, so the first client does it once. */
static void curl_init_once(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

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

static void headers_reset(slot *s)
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
        headers_reset(s);
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

static void slot_free(slot *s)
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

static slot *slot_new(bl_http_client *c, bl_err *err)
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
    slot_free(s);
    bl_err_set(err, BL_ENOMEM, "http client: out of memory for a request slot");
    return NULL;
}

/* Returns the slot to the free list; the easy handle keeps nothing of the
 * request (reset), while its connection stays in the multi's pool. */
static void slot_release(bl_http_client *c, slot *s)
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

bl_http_client *bl_http_client_new(const bl_http_client_config *cfg, bl_err *err)
{
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_result != CURLE_OK) {
        bl_err_set(err, BL_EHTTP, "http client: curl_global_init: %s", curl_easy_strerror(curl_init_result));
        return NULL;
    }
    bl_http_client *c = calloc(1, sizeof *c);
    if (!c) {
        bl_err_set(err, BL_ENOMEM, "http client: out of memory");
        return NULL;
    }
    if (cfg)
        c->cfg = *cfg;
    if (c->cfg.max_host_connections <= 0)
        c->cfg.max_host_connections = 32;
    if (c->cfg.connection_cache <= 0)
        c->cfg.connection_cache = 256;
    if (c->cfg.body_cap == 0)
        c->cfg.body_cap = 4096;
    if (c->cfg.max_headers == 0)
        c->cfg.max_headers = 32;
    if (c->cfg.header_bytes == 0)
        c->cfg.header_bytes = 8192;
    if (c->cfg.connect_timeout_ms <= 0)
        c->cfg.connect_timeout_ms = 5000;
    c->user_agent = strdup(c->cfg.user_agent ? c->cfg.user_agent : "busline");
    c->cfg.user_agent = c->user_agent;
    c->multi = curl_multi_init();
    c->url_parser = curl_url();
    if (!c->user_agent || !c->multi || !c->url_parser) {
        bl_err_set(err, BL_ENOMEM, "http client: out of memory");
        goto fail;
    }
    if (!(c->hosts = bl_http_host_queue_new((size_t)c->cfg.max_host_connections, err)))
        goto fail;
    /* The per-host cap is ours (bl_http_host_queue): requests over it never
     * reach curl, so curl's own limits stay off. */
    CURLMcode mc = curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, c->cfg.connection_cache);
    if (mc != CURLM_OK) {
        bl_err_set(err, BL_EHTTP, "http client: curl_multi_setopt: %s", curl_multi_strerror(mc));
        goto fail;
    }
    return c;
fail:
    if (c->multi)
        curl_multi_cleanup(c->multi);
    curl_url_cleanup(c->url_parser);
    free(c->user_agent);
    free(c);
    return NULL;
}

static void report(slot *s, CURLcode code)
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
static void report_unsent(slot *s, bl_http_transport t)
{
    bl_http_result r = {.transport = t, .error = s->errbuf};
    s->on_done(&r, s->opaque);
}

void bl_http_client_free(bl_http_client *c)
{
    if (!c)
        return;
    c->closing = true;
    for (slot *s = c->all_slots; s; s = s->next_all) {
        if (!s->in_use)
            continue;
        if (!s->waiting)
            curl_multi_remove_handle(c->multi, s->easy);
        snprintf(s->errbuf, sizeof s->errbuf, "http client freed with the request in flight");
        report_unsent(s, BL_HTTP_TRANSPORT_CANCELLED);
    }
    bl_http_host_queue_free(c->hosts);
    curl_url_cleanup(c->url_parser);
    slot *s = c->all_slots;
    while (s) {
        slot *next = s->next_all;
        slot_free(s);
        s = next;
    }
    curl_multi_cleanup(c->multi);
    free(c->user_agent);
    free(c);
}

static bool line_is_clean(const char *s)
{
    return s && strpbrk(s, "\r\n") == NULL;
}

static int call_validate(const bl_http_call *call, bl_err *err)
{
    if (!call || !call->url || !call->on_done)
        return bl_err_set(err, BL_EINVAL, "http client: a call needs a url and on_done");
    if (call->method && !bl_http_method_valid(call->method))
        return bl_err_set(err, BL_EINVAL, "http client: bad method");
    if (!line_is_clean(call->url))
        return bl_err_set(err, BL_EINVAL, "http client: url contains a line break");
    if (call->body_len > 0 && !call->body)
        return bl_err_set(err, BL_EINVAL, "http client: body_len without body");
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

static int slot_set_headers(slot *s, const bl_http_call *call)
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
static int slot_set_body(slot *s, const bl_http_call *call)
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

static CURLcode slot_set_options(bl_http_client *c, slot *s, const bl_http_call *call)
{
    long connect_ms = call->connect_timeout_ms > 0 ? call->connect_timeout_ms : c->cfg.connect_timeout_ms;
    CURLcode rc;
    if ((rc = curl_easy_setopt(s->easy, CURLOPT_URL, call->url)) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https")) ||
        (rc = curl_easy_setopt(s->easy, CURLOPT_FOLLOWLOCATION, 0L)) ||
        /* A proxy from the environment would send requests somewhere other
         * than the address that was checked (and pinned): never use one. */
        (rc = curl_easy_setopt(s->easy, CURLOPT_NOPROXY, "*")) ||
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
        (rc = slot_set_method(s, call)))
        return rc;
    if (call->resolve) {
        s->resolve = curl_slist_append(NULL, call->resolve);
        if (!s->resolve)
            return CURLE_OUT_OF_MEMORY;
        rc = curl_easy_setopt(s->easy, CURLOPT_RESOLVE, s->resolve);
    }
    return rc;
}

/* "scheme://host:port" of url into key, the unit of the per-host cap (as
 * curl pools connections); a URL curl cannot parse shares the key "" and
 * fails in curl with curl's own message. */
static void host_key(bl_http_client *c, const char *url, char *key, size_t cap)
{
    if (c->last_url[0] && strcmp(url, c->last_url) == 0) {
        snprintf(key, cap, "%s", c->last_key);
        return;
    }
    char *scheme = NULL, *host = NULL, *port = NULL;
    key[0] = '\0';
    if (curl_url_set(c->url_parser, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(c->url_parser, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(c->url_parser, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(c->url_parser, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        snprintf(key, cap, "%s://%s:%s", scheme, host, port);
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    if (strlen(url) < sizeof c->last_url && strlen(key) < sizeof c->last_key) {
        memcpy(c->last_url, url, strlen(url) + 1);
        memcpy(c->last_key, key, strlen(key) + 1);
    }
}

#define WAIT_TIMED_OUT "timed out waiting for a free connection to the host"

/* Hands a slot whose host has room to curl, with what is left of its
 * timeout. Returns 0, or -1 with s->errbuf and *why set (not handed). */
static int slot_begin(bl_http_client *c, slot *s, bl_http_transport *why)
{
    s->waiting = false;
    if (s->deadline_mono > 0) {
        int64_t left = s->deadline_mono - bl_clock_mono_ms();
        if (left <= 0) {
            snprintf(s->errbuf, sizeof s->errbuf, "%s", WAIT_TIMED_OUT);
            *why = BL_HTTP_TRANSPORT_TIMEOUT;
            return -1;
        }
        curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, (long)left);
    }
    CURLMcode mc = curl_multi_add_handle(c->multi, s->easy);
    if (mc != CURLM_OK) {
        snprintf(s->errbuf, sizeof s->errbuf, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        *why = BL_HTTP_TRANSPORT_OTHER;
        return -1;
    }
    return 0;
}

/* A request of host ended: starts that host's next waiting ones until one
 * is handed to curl or none waits; those that cannot start are reported. */
static void host_advance(bl_http_client *c, bl_http_host *host)
{
    slot *next;
    while ((next = bl_http_host_queue_finish(c->hosts, host)) != NULL) {
        bl_http_transport why;
        if (slot_begin(c, next, &why) == 0)
            return;
        c->in_flight--;
        report_unsent(next, why);
        slot_release(c, next);
    }
}

/* Reports the waiting requests whose timeout passed before their turn;
 * returns how many. */
static int expire_waiting(bl_http_client *c)
{
    int n = 0;
    slot *s;
    int64_t now = bl_clock_mono_ms();
    while ((s = bl_http_host_queue_take_expired(c->hosts, now)) != NULL) {
        snprintf(s->errbuf, sizeof s->errbuf, "%s", WAIT_TIMED_OUT);
        c->in_flight--;
        report_unsent(s, BL_HTTP_TRANSPORT_TIMEOUT);
        slot_release(c, s);
        n++;
    }
    return n;
}

int bl_http_client_submit(bl_http_client *c, const bl_http_call *call, bl_err *err)
{
    if (!c || c->closing)
        return bl_err_set(err, BL_EINVAL, "http client: submit on a missing or closing client");
    if (call_validate(call, err) != 0)
        return -1;
    slot *s = c->free_slots;
    if (s)
        c->free_slots = s->next_free;
    else if (!(s = slot_new(c, err)))
        return -1;
    s->in_use = true;
    s->on_done = call->on_done;
    s->opaque = call->opaque;
    s->body_len = 0;
    s->body_total = 0;
    s->errbuf[0] = '\0';
    headers_reset(s);
    if (slot_set_headers(s, call) != 0 || slot_set_body(s, call) != 0) {
        bl_err_set(err, BL_ENOMEM, "http client: out of memory preparing %s", call->url);
        goto fail;
    }
    CURLcode rc = slot_set_options(c, s, call);
    if (rc != CURLE_OK) {
        bl_err_set(err, BL_EHTTP, "http client: %s: %s", call->url, curl_easy_strerror(rc));
        goto fail;
    }
    char key[512];
    host_key(c, call->url, key, sizeof key);
    s->deadline_mono = call->timeout_ms > 0 ? bl_clock_mono_ms() + call->timeout_ms : 0;
    int started = 0;
    if (!(s->host = bl_http_host_queue_admit(c->hosts, key, s, s->deadline_mono, &started, err)))
        goto fail;
    s->waiting = !started;
    if (started) {
        CURLMcode mc = curl_multi_add_handle(c->multi, s->easy);
        if (mc != CURLM_OK) {
            bl_err_set(err, BL_EHTTP, "http client: curl_multi_add_handle: %s", curl_multi_strerror(mc));
            bl_http_host *host = s->host;
            slot_release(c, s);
            host_advance(c, host);
            return -1;
        }
    }
    c->in_flight++;
    return 0;
fail:
    slot_release(c, s);
    return -1;
}

static int slot_carries(void *item, void *opaque)
{
    return ((slot *)item)->opaque == opaque;
}

int bl_http_client_withdraw(bl_http_client *c, const char *url, void *opaque)
{
    if (!c || !url)
        return 0;
    char key[512];
    host_key(c, url, key, sizeof key);
    slot *s = bl_http_host_queue_withdraw(c->hosts, key, slot_carries, opaque);
    if (!s)
        return 0;
    c->in_flight--;
    slot_release(c, s);
    return 1;
}

/* Reports every finished transfer; returns how many. */
static int reap(bl_http_client *c)
{
    int done = 0;
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result; /* msg dies with remove_handle */
        slot *s = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&s);
        curl_multi_remove_handle(c->multi, easy);
        c->in_flight--;
        bl_http_host *host = s->host;
        report(s, code);
        slot_release(c, s);
        host_advance(c, host);
        done++;
    }
    return done;
}

static int perform(bl_http_client *c, bl_err *err)
{
    int running = 0;
    CURLMcode mc = curl_multi_perform(c->multi, &running);
    if (mc != CURLM_OK)
        return bl_err_set(err, BL_EHTTP, "http client: curl_multi_perform: %s", curl_multi_strerror(mc));
    return 0;
}

int bl_http_client_run(bl_http_client *c, int wait_ms, bl_err *err)
{
    return bl_http_client_run_fds(c, wait_ms, NULL, 0, err);
}

#define RUN_FDS_MAX 16

int bl_http_client_run_fds(bl_http_client *c, int wait_ms, const int *fds, size_t n_fds, bl_err *err)
{
    if (n_fds > RUN_FDS_MAX)
        return bl_err_set(err, BL_EINVAL, "http client: at most %d extra fds", RUN_FDS_MAX);
    int done = expire_waiting(c);
    if (perform(c, err) != 0)
        return -1;
    done += reap(c);
    if (done > 0 || wait_ms <= 0)
        return done;
    int64_t until_expiry = bl_http_host_queue_next_deadline(c->hosts) - bl_clock_mono_ms();
    if (until_expiry < wait_ms)
        wait_ms = until_expiry < 1 ? 1 : (int)until_expiry;
    struct curl_waitfd extra[RUN_FDS_MAX];
    for (size_t i = 0; i < n_fds; i++)
        extra[i] = (struct curl_waitfd){.fd = fds[i], .events = CURL_WAIT_POLLIN, .revents = 0};
    CURLMcode mc = curl_multi_poll(c->multi, n_fds ? extra : NULL, (unsigned)n_fds, wait_ms, NULL);
    if (mc != CURLM_OK)
        return bl_err_set(err, BL_EHTTP, "http client: curl_multi_poll: %s", curl_multi_strerror(mc));
    if (perform(c, err) != 0)
        return -1;
    done = expire_waiting(c);
    return done + reap(c);
}

void bl_http_client_wakeup(bl_http_client *c)
{
    if (c)
        curl_multi_wakeup(c->multi);
}

size_t bl_http_client_in_flight(const bl_http_client *c)
{
    return c ? c->in_flight : 0;
}

typedef struct sync_state {
    bl_http_sync_result *out;
    size_t body_cap;
    bool done;
    bool oom;
    char error[CURL_ERROR_SIZE];
} sync_state;

static void sync_done(const bl_http_result *r, void *opaque)
{
    sync_state *st = opaque;
    bl_http_sync_result *out = st->out;
    st->done = true;
    out->transport = r->transport;
    out->status = r->status;
    out->duration_us = r->duration_us;
    snprintf(st->error, sizeof st->error, "%s", r->error ? r->error : "");
    snprintf(out->content_type, sizeof out->content_type, "%s", r->content_type ? r->content_type : "");
    snprintf(out->retry_after, sizeof out->retry_after, "%s", r->retry_after ? r->retry_after : "");
    out->body = malloc(r->body_len + 1);
    if (!out->body) {
        st->oom = true;
        return;
    }
    if (r->body_len)
        memcpy(out->body, r->body, r->body_len);
    out->body[r->body_len] = '\0';
    out->body_len = r->body_len;
    out->body_truncated = r->body_truncated;
}

int bl_http_request_sync(const bl_http_call *call, const bl_http_client_config *cfg,
                         bl_http_sync_result *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    out->transport = BL_HTTP_TRANSPORT_OTHER;
    bl_http_client_config one = cfg ? *cfg : (bl_http_client_config){0};
    one.max_host_connections = 1;
    one.connection_cache = 1;
    bl_http_client *c = bl_http_client_new(&one, err);
    if (!c)
        return -1;
    sync_state st = {.out = out};
    bl_http_call sync_call = *call;
    sync_call.on_done = sync_done;
    sync_call.opaque = &st;
    if (sync_call.timeout_ms <= 0)
        sync_call.timeout_ms = 30000; /* a CLI must not hang forever */
    int rc = -1;
    if (bl_http_client_submit(c, &sync_call, err) != 0)
        goto done;
    while (!st.done)
        if (bl_http_client_run(c, 1000, err) < 0)
            goto done;
    if (st.oom) {
        bl_err_set(err, BL_ENOMEM, "http: out of memory copying the response of %s", call->url);
        goto done;
    }
    if (out->transport != BL_HTTP_TRANSPORT_OK) {
        bl_err_set(err, out->transport == BL_HTTP_TRANSPORT_TIMEOUT ? BL_ETIMEOUT : BL_EHTTP,
                   "http: %s %s: %s (%s)", call->method ? call->method : "GET", call->url,
                   st.error, bl_http_transport_name(out->transport));
        goto done;
    }
    rc = 0;
done:
    bl_http_client_free(c);
    return rc;
}

void bl_http_sync_result_clear(bl_http_sync_result *r)
{
    if (!r)
        return;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}
