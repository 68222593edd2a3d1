#include "core/http_server.h"

#include "core/crypto.h"
#include "core/http_route.h"
#include "core/http_server_internal.h"
#include "core/http_status.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ---------- error bodies ---------- */

json_t *bl_http_default_error_body(int status, const char *message,
                                   const bl_http_request *req, void *ctx)
{
    (void)ctx;
    const char *request_id = bl_http_request_id(req);
    return json_pack("{s:{s:s, s:s, s:s}}", "error", "code",
                     bl_http_status_error_code(status, BL_HTTP_SURFACE_V1), "message",
                     message ? message : "", "request_id", request_id ? request_id : "");
}

/* ---------- per-request state ---------- */

static void request_free(bl_http_request *req)
{
    if (!req)
        return;
    bl_http_stream_free(req);
    free(req->uri);
    free(req->query_buf);
    free(req->body);
    free(req);
}

/* MHD calls this once per request with the raw request target, before any
 * decoding: the router needs the raw path to tell "%2F" from '/'. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    bl_http_server *s = cls;
    bl_http_request *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->server = s;
    req->uri = strdup(uri ? uri : "/");
    if (!req->uri) {
        free(req);
        return NULL;
    }
    char *q = strchr(req->uri, '?');
    if (q)
        *q++ = '\0';
    req->query = q ? q : "";
    atomic_fetch_add(&s->in_flight, 1);
    return req;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    bl_http_server *s = cls;
    bl_http_request *req = *con_cls;
    if (!req)
        return;
    request_free(req);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

static bool request_id_acceptable(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > REQUEST_ID_MAX)
        return false;
    for (; *id; id++) {
        char c = *id;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static void request_identify(bl_http_request *req)
{
    const char *incoming = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Request-Id");
    if (incoming && request_id_acceptable(incoming)) {
        snprintf(req->request_id, sizeof req->request_id, "%s", incoming);
    } else {
        unsigned char raw[8] = {0};
        if (getrandom(raw, sizeof raw, GRND_NONBLOCK) != (ssize_t)sizeof raw) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            memcpy(raw, &ts.tv_nsec, sizeof raw < sizeof ts.tv_nsec ? sizeof raw : sizeof ts.tv_nsec);
        }
        bl_hex_encode(raw, sizeof raw, req->request_id);
    }
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->client_addr, sizeof req->client_addr);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->client_addr, sizeof req->client_addr);
}

/* Appends an upload piece, or marks the request too large (and stops
 * keeping bytes) once the body passes the cap. */
static void request_take_body(bl_http_request *req, const char *data, size_t n)
{
    size_t cap = req->server->cfg.body_cap;
    if (req->too_large)
        return;
    if (n > cap - req->body_len) {
        req->too_large = true;
        free(req->body);
        req->body = NULL;
        req->body_len = 0;
        return;
    }
    if (req->body_len + n + 1 > req->body_alloc) {
        size_t want = req->body_alloc ? req->body_alloc : 1024;
        while (want < req->body_len + n + 1)
            want *= 2;
        if (want > cap + 1)
            want = cap + 1;
        char *grown = realloc(req->body, want);
        if (!grown) {
            req->too_large = true; /* answer 413 rather than a half body */
            return;
        }
        req->body = grown;
        req->body_alloc = want;
    }
    memcpy(req->body + req->body_len, data, n);
    req->body_len += n;
    req->body[req->body_len] = '\0';
}

/* Decodes the query into req; returns 0, or -1 when malformed or too long. */
int bl_http_request_parse_query(bl_http_request *req)
{
    size_t len = strlen(req->query);
    if (len == 0)
        return 0;
    size_t room = len + 2 * MAX_QUERY_ARGS + 2;
    req->query_buf = malloc(room);
    if (!req->query_buf)
        return -1;
    size_t used = 0;
    const char *p = req->query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t piece = amp ? (size_t)(amp - p) : strlen(p);
        if (piece > 0) {
            if (req->query_count == MAX_QUERY_ARGS)
                return -1;
            const char *eq = memchr(p, '=', piece);
            size_t name_len = eq ? (size_t)(eq - p) : piece;
            long n = bl_http_percent_decode(p, name_len, true, req->query_buf + used, room - used);
            if (n < 0)
                return -1;
            req->query_names[req->query_count] = req->query_buf + used;
            used += (size_t)n + 1;
            const char *v = eq ? eq + 1 : p + piece;
            n = bl_http_percent_decode(v, (size_t)(p + piece - v), true, req->query_buf + used, room - used);
            if (n < 0)
                return -1;
            req->query_values[req->query_count] = req->query_buf + used;
            used += (size_t)n + 1;
            req->query_count++;
        }
        p += piece;
        if (*p == '&')
            p++;
    }
    return 0;
}

/* ---------- answering ---------- */

static void free_body(void *p)
{
    free(p);
}

static struct MHD_Response *response_from_buffer(bl_http_response *resp)
{
    char *body = resp->body;
    resp->body = NULL; /* MHD owns it from here */
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(
        resp->body_len, body, free_body);
    if (!r)
        free(body);
    return r;
}

enum MHD_Result bl_http_send_response(bl_http_request *req, bl_http_response *resp)
{
    struct MHD_Response *r = resp->stream_read ? bl_http_response_from_stream(resp) : response_from_buffer(resp);
    if (!r) {
        bl_log_error("http server: cannot create a response", BL_FS("request_id", req->request_id));
        return MHD_NO;
    }
    bool ok = MHD_add_response_header(r, "X-Request-Id", req->request_id) == MHD_YES;
    if (resp->content_type)
        ok = ok && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type) == MHD_YES;
    for (size_t i = 0; i < resp->header_count; i++)
        ok = ok && MHD_add_response_header(r, resp->header_names[i], resp->header_values[i]) == MHD_YES;
    if (!ok)
        bl_log_warn("http server: a response header was refused", BL_FS("request_id", req->request_id),
                    BL_FS("path", req->uri));
    enum MHD_Result rc = MHD_queue_response(req->conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_error(bl_http_request *req, int status, const char *message, const char *allow)
{
    bl_http_response resp = {.req = req};
    bl_http_response_clear(&resp);
    if (bl_http_response_error(&resp, status, message) != 0 ||
        (allow && bl_http_response_header(&resp, "Allow", allow) != 0))
        bl_log_warn("http server: error body incomplete", BL_FS("request_id", req->request_id));
    enum MHD_Result rc = bl_http_send_response(req, &resp);
    bl_http_response_clear(&resp);
    return rc;
}

static enum MHD_Result dispatch(bl_http_request *req)
{
    if (req->too_large)
        return send_error(req, 413, "request body too large", NULL);
    if (bl_http_request_parse_query(req) != 0)
        return send_error(req, 400, "malformed query string", NULL);
    switch (bl_http_router_match(req->server->router, req->method, req->uri, &req->match)) {
    case BL_ROUTE_BAD_PATH:
        return send_error(req, 400, req->match.problem, NULL);
    case BL_ROUTE_NOT_FOUND:
        return send_error(req, 404, "no such path", NULL);
    case BL_ROUTE_METHOD_NOT_ALLOWED:
        return send_error(req, 405, "method not allowed for this path", req->match.allow);
    case BL_ROUTE_MATCHED:
        break;
    }
    const route_target *t = req->match.target;
    bl_http_response resp = {.req = req};
    bl_http_response_clear(&resp);
    int handled = t->fn(req, &resp, t->ctx);
    if (handled == BL_HTTP_DROP_CONNECTION) {
        bl_http_response_clear(&resp);
        return MHD_NO;
    }
    if (handled != 0) {
        bl_log_warn("http server: handler failed", BL_FS("request_id", req->request_id),
                    BL_FS("method", req->method), BL_FS("path", req->uri));
        bl_http_response_clear(&resp);
        if (bl_http_response_error(&resp, 500, "internal error") != 0)
            bl_http_response_clear(&resp);
        resp.status = 500;
    }
    enum MHD_Result rc = bl_http_send_response(req, &resp);
    bl_http_response_clear(&resp);
    return rc;
}

static bool declared_too_large(const bl_http_request *req)
{
    const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return false;
    char *end = NULL;
    unsigned long long n = strtoull(cl, &end, 10);
    return end != cl && n > req->server->cfg.body_cap;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url; /* already decoded by MHD; the raw target came through on_uri */
    (void)version;
    bl_http_request *req = *con_cls;
    if (!req)
        return MHD_NO; /* on_uri ran out of memory: drop the connection */
    if (req->stream_target || req->stream_resp)
        return bl_http_stream_step(req, upload_data, upload_data_size);
    if (!req->started) {
        req->started = true;
        req->conn = conn;
        req->method = method;
        request_identify(req);
        enum MHD_Result streamed;
        if (bl_http_stream_start(req, &streamed))
            return streamed;
        /* A client waiting on "Expect: 100-continue" gets its 413 before
         * sending the body; others send it and get the 413 after. */
        if (declared_too_large(req)) {
            req->too_large = true;
            if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT))
                return send_error(req, 413, "request body too large", NULL);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        request_take_body(req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(req);
}

/* ---------- lifecycle ---------- */

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    bl_log_warn("http server: libmicrohttpd", BL_FS("detail", msg));
}

bl_http_server *bl_http_server_new(const bl_http_server_config *cfg, bl_err *err)
{
    bl_http_server *s = calloc(1, sizeof *s);
    if (!s) {
        bl_err_set(err, BL_ENOMEM, "http server: out of memory");
        return NULL;
    }
    if (cfg)
        s->cfg = *cfg;
    if (s->cfg.connection_limit == 0)
        s->cfg.connection_limit = 256;
    if (s->cfg.connection_timeout_s == 0)
        s->cfg.connection_timeout_s = 30;
    if (s->cfg.body_cap == 0)
        s->cfg.body_cap = 1024 * 1024;
    if (s->cfg.drain_timeout_ms == 0)
        s->cfg.drain_timeout_ms = 10000;
    if (!s->cfg.error_body)
        s->cfg.error_body = bl_http_default_error_body;
    s->quiesced_fd = MHD_INVALID_SOCKET;
    s->host = strdup(s->cfg.host ? s->cfg.host : "127.0.0.1");
    s->cfg.host = s->host;
    s->router = bl_http_router_new();
    if (!s->host || !s->router) {
        bl_http_server_free(s);
        bl_err_set(err, BL_ENOMEM, "http server: out of memory");
        return NULL;
    }
    return s;
}

static int add_target(bl_http_server *s, const char *method, const char *pattern,
                      const route_target *proto, bl_err *err)
{
    if (s->daemon)
        return bl_err_set(err, BL_EINVAL, "http server: routes must be added before start");
    route_target *t = calloc(1, sizeof *t);
    if (!t)
        return bl_err_set(err, BL_ENOMEM, "http server: out of memory");
    *t = *proto;
    if (bl_http_router_add(s->router, method, pattern, t, err) != 0) {
        free(t);
        return -1;
    }
    t->next = s->targets;
    s->targets = t;
    return 0;
}

int bl_http_server_route(bl_http_server *s, const char *method, const char *pattern,
                         bl_http_handler_fn handler, void *ctx, bl_err *err)
{
    if (!s || !handler)
        return bl_err_set(err, BL_EINVAL, "http server: route needs a server and a handler");
    return add_target(s, method, pattern, &(route_target){.fn = handler, .ctx = ctx}, err);
}

int bl_http_server_stream_route(bl_http_server *s, const char *method, const char *pattern,
                                const bl_http_stream_fns *fns, size_t body_cap, void *ctx,
                                bl_err *err)
{
    if (!s || !fns || !fns->begin || !fns->chunk || !fns->end || !fns->release)
        return bl_err_set(err, BL_EINVAL, "http server: a streamed route needs a server and its four steps");
    route_target proto = {.stream = fns, .stream_cap = body_cap ? body_cap : s->cfg.body_cap, .ctx = ctx};
    return add_target(s, method, pattern, &proto, err);
}

int bl_http_server_start(bl_http_server *s, bl_err *err)
{
    if (s->daemon)
        return bl_err_set(err, BL_EINVAL, "http server: already started");
    struct sockaddr_storage addr = {0};
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
    if (inet_pton(AF_INET, s->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(s->cfg.port);
    } else if (inet_pton(AF_INET6, s->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(s->cfg.port);
        flags |= MHD_USE_IPv6;
    } else {
        return bl_err_set(err, BL_EINVAL, "http server: host \"%s\" is not an IP address", s->host);
    }
    if (s->cfg.thread_pool_size == 0)
        flags |= MHD_USE_THREAD_PER_CONNECTION | (MHD_is_feature_supported(MHD_FEATURE_POLL) ? MHD_USE_POLL : 0);
    else
        flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) ? MHD_USE_EPOLL : MHD_USE_AUTO;
    /* MHD warns about a pool size given in thread-per-connection mode, so
     * the option is only passed when there is a pool. */
    struct MHD_OptionItem pool[] = {
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)s->cfg.connection_memory, NULL},
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)s->cfg.thread_pool_size, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    if (s->cfg.thread_pool_size < 2)
        pool[1].option = MHD_OPTION_END;
    if (s->cfg.connection_memory == 0) {
        pool[0] = pool[1];
        pool[1].option = MHD_OPTION_END;
    }
    s->daemon = MHD_start_daemon(
        flags, s->cfg.port, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_CONNECTION_LIMIT, s->cfg.connection_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, s->cfg.connection_timeout_s,
        MHD_OPTION_ARRAY, pool,
        MHD_OPTION_END);
    if (!s->daemon)
        return bl_err_set(err, BL_EIO, "http server: cannot listen on %s:%u (see libmicrohttpd log)",
                          s->host, (unsigned)s->cfg.port);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : s->cfg.port;
    return 0;
}

unsigned short bl_http_server_port(const bl_http_server *s)
{
    return s && s->daemon ? s->port : 0;
}

void bl_http_server_stop(bl_http_server *s)
{
    if (!s || !s->daemon)
        return;
    s->quiesced_fd = MHD_quiesce_daemon(s->daemon);
    struct timespec nap = {.tv_sec = 0, .tv_nsec = 5 * 1000 * 1000};
    for (unsigned waited = 0; atomic_load(&s->in_flight) > 0 && waited < s->cfg.drain_timeout_ms; waited += 5)
        nanosleep(&nap, NULL);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    /* MHD hands the listening socket back on quiesce; it is ours to close,
     * and only once its threads are gone. */
    if (s->quiesced_fd != MHD_INVALID_SOCKET)
        close(s->quiesced_fd);
    s->quiesced_fd = MHD_INVALID_SOCKET;
}

void bl_http_server_free(bl_http_server *s)
{
    if (!s)
        return;
    bl_http_server_stop(s);
    bl_http_router_free(s->router);
    route_target *t = s->targets;
    while (t) {
        route_target *next = t->next;
        free(t);
        t = next;
    }
    free(s->host);
    free(s);
}
