/* An HTTP client over libcurl's multi interface: one client, driven by one
 * thread, keeps many requests in flight over reused keep-alive connections.
 * Submit requests, then call bl_http_client_run in the thread's loop; each
 * finished request is reported once through its completion callback.
 * Redirects are never followed and only http/https URLs are accepted. */
#ifndef BUSLINE_CORE_HTTP_CLIENT_H
#define BUSLINE_CORE_HTTP_CLIENT_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_HTTP_HEADER_VALUE_MAX 256

typedef struct bl_http_client bl_http_client;

/* Why a request got no complete HTTP response. */
typedef enum bl_http_transport {
    BL_HTTP_TRANSPORT_OK = 0,    /* a full response arrived (any status) */
    BL_HTTP_TRANSPORT_TIMEOUT,   /* per-request or connect timeout passed */
    BL_HTTP_TRANSPORT_REFUSED,   /* could not connect: refused or unreachable */
    BL_HTTP_TRANSPORT_DNS,       /* host name did not resolve */
    BL_HTTP_TRANSPORT_RESET,     /* peer reset or closed the connection mid-exchange */
    BL_HTTP_TRANSPORT_CANCELLED, /* the client was freed with the request in flight */
    BL_HTTP_TRANSPORT_OTHER,     /* TLS, protocol, bad URL and anything else */
} bl_http_transport;

/* "ok", "timeout", "connect_refused", "dns", "reset", "cancelled", "other". */
const char *bl_http_transport_name(bl_http_transport t);

typedef struct bl_http_header {
    const char *name;
    const char *value;
} bl_http_header;

/* What a completion callback sees. Everything is borrowed and valid only
 * during the callback: copy what must outlive it. */
typedef struct bl_http_result {
    bl_http_transport transport;
    const char *error;            /* curl's message; "" when transport is OK */
    long status;                  /* HTTP status, 0 when none arrived */
    const bl_http_header *headers; /* final response's headers, in order */
    size_t header_count;
    bool headers_truncated;       /* more headers came than the client keeps */
    const char *retry_after;      /* Retry-After value or NULL */
    const char *content_type;     /* Content-Type value or NULL */
    const char *body;             /* first body_len bytes, NUL-terminated */
    size_t body_len;
    size_t body_total;            /* bytes received in all (kept + drained) */
    bool body_truncated;          /* body_total > body_len */
    int64_t duration_us;          /* whole transfer, as curl measures it */
    bool connection_reused;       /* a response came over an already open
                                   * connection; false when transport failed */
} bl_http_result;

/* Called once per submitted request from bl_http_client_run (or from
 * bl_http_client_free with BL_HTTP_TRANSPORT_CANCELLED). It may submit new
 * requests; it must not free the client. */
typedef void (*bl_http_done_fn)(const bl_http_result *result, void *opaque);

typedef struct bl_http_client_config {
    long max_host_connections;  /* requests at once per scheme://host:port; the
                                 * rest wait their host's turn, in order; 0 = 32 */
    long connection_cache;      /* idle connections kept for reuse; 0 = 256 */
    size_t body_cap;            /* response bytes kept; the rest is drained; 0 = 4096 */
    size_t max_headers;         /* response headers kept; 0 = 32 */
    size_t header_bytes;        /* bytes for kept headers per request; 0 = 8192 */
    long connect_timeout_ms;    /* default when a request gives none; 0 = 5000 */
    const char *user_agent;     /* copied; NULL = "busline" */
} bl_http_client_config;

/* One request. The client copies everything it needs during submit. */
typedef struct bl_http_call {
    const char *method;          /* "GET", "POST", ...; NULL = GET */
    const char *url;             /* http:// or https:// */
    const char *const *headers;  /* "Name: value" lines */
    size_t header_count;
    const void *body;            /* may be NULL when body_len is 0 */
    size_t body_len;
    long timeout_ms;             /* whole request, including waiting for a connection; 0 = none */
    long connect_timeout_ms;     /* 0 = the client's default */
    const char *resolve;         /* "host:port:address" to connect to that address only
                                  * (the SSRF guard's pinned answer); NULL = resolve normally */
    bl_http_done_fn on_done;     /* required */
    void *opaque;                /* handed back to on_done */
    /* TLS per request, PEM texts copied on submit (libcurl blobs, never
     * files): a client certificate and its key (both or neither) for mutual
     * TLS, and a CA bundle trusted instead of the system's. NULL: none. */
    const char *tls_client_cert;
    const char *tls_client_key;
    const char *tls_ca_cert;
    /* "http(s)://host:port" to send the request through (CONNECT for
     * https); NULL: direct. The environment's proxy settings are never used. */
    const char *proxy;
} bl_http_call;

/* Creates a client; cfg may be NULL for defaults (copied). Returns NULL with
 * err filled on failure. Free with bl_http_client_free. */
bl_http_client *bl_http_client_new(const bl_http_client_config *cfg, bl_err *err);

/* Reports every request still in flight as CANCELLED, then frees all;
 * accepts NULL. Must not be called from a completion callback. */
void bl_http_client_free(bl_http_client *c);

/* Queues one request; it starts on the next bl_http_client_run. Returns 0,
 * or -1 with err filled (bad call, curl refused an option); on -1 on_done
 * is never called. Only from the client's thread. */
int bl_http_client_submit(bl_http_client *c, const bl_http_call *call, bl_err *err);

/* Takes back a request still waiting for its host's turn (never sent),
 * found by the url and opaque it was submitted with: returns 1 and its
 * on_done is never called, or 0 when it is not waiting (sent, finished or
 * unknown). Only from the client's thread. */
int bl_http_client_withdraw(bl_http_client *c, const char *url, void *opaque);

/* Drives transfers: waits up to wait_ms for network activity (or a wakeup),
 * then calls on_done for every finished request. Returns how many finished,
 * or -1 with err filled when curl's multi interface fails. */
int bl_http_client_run(bl_http_client *c, int wait_ms, bl_err *err);

/* bl_http_client_run that also returns when one of fds[0..n_fds) becomes
 * readable (at most 16; they are not read), so one thread can wait on its
 * transfers and on other sources (a Kafka queue, a pipe) at once. Returns
 * as bl_http_client_run; -1 with BL_EINVAL for too many fds. */
int bl_http_client_run_fds(bl_http_client *c, int wait_ms, const int *fds, size_t n_fds, bl_err *err);

/* Makes a waiting bl_http_client_run return early. Safe from any thread. */
void bl_http_client_wakeup(bl_http_client *c);

/* Requests submitted and not yet reported. */
size_t bl_http_client_in_flight(const bl_http_client *c);

/* A finished request as owned copies, for bl_http_request_sync. */
typedef struct bl_http_sync_result {
    bl_http_transport transport;
    long status;
    char *body;             /* malloc'd, NUL-terminated, at most body_cap bytes */
    size_t body_len;
    bool body_truncated;
    char content_type[BL_HTTP_HEADER_VALUE_MAX];
    char retry_after[BL_HTTP_HEADER_VALUE_MAX];
    int64_t duration_us;
} bl_http_sync_result;

/* Runs one request to completion on a private client (for CLI tools).
 * call->on_done is ignored. Returns 0 when an HTTP response arrived (any
 * status), or -1 with err filled (code BL_ETIMEOUT for timeouts, BL_EHTTP
 * otherwise) and out->transport set. Free out with bl_http_sync_result_clear. */
int bl_http_request_sync(const bl_http_call *call, const bl_http_client_config *cfg,
                         bl_http_sync_result *out, bl_err *err);

/* Frees what a sync result owns; accepts NULL. */
void bl_http_sync_result_clear(bl_http_sync_result *r);

#endif
