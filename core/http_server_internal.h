/* What the http server's files share and nobody else sees: the server,
 * request and response structs behind the public handles. */
#ifndef BUSLINE_CORE_HTTP_SERVER_INTERNAL_H
#define BUSLINE_CORE_HTTP_SERVER_INTERNAL_H

#include "core/http_route.h"
#include "core/http_server.h"
#include "core/http_stream.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>

#define MAX_QUERY_ARGS 64
#define MAX_RESPONSE_HEADERS 32
#define REQUEST_ID_MAX 64

typedef struct route_target {
    bl_http_handler_fn fn;
    const bl_http_stream_fns *stream; /* set: a streamed-body route (fn unused) */
    size_t stream_cap;                /* its body cap */
    void *ctx;
    struct route_target *next;
} route_target;

struct bl_http_server {
    bl_http_server_config cfg;
    char *host;
    bl_http_router *router;
    route_target *targets;
    struct MHD_Daemon *daemon;
    MHD_socket quiesced_fd;
    unsigned short port;
    atomic_int in_flight; /* requests whose first line arrived, not yet completed */
};

struct bl_http_request {
    bl_http_server *server;
    struct MHD_Connection *conn;
    const char *method;
    char *uri;            /* raw request target; '?' replaced by NUL */
    const char *query;    /* raw query after '?', or "" */
    char *query_buf;
    size_t query_count;
    const char *query_names[MAX_QUERY_ARGS];
    const char *query_values[MAX_QUERY_ARGS];
    bl_http_route_match match;
    bool started;
    bool too_large;
    char *body;
    size_t body_len;
    size_t body_alloc;
    /* a streamed-body route's progress (see core/http_stream.h) */
    const route_target *stream_target;
    void *stream_state;
    bl_http_response *stream_resp; /* the answer being built across calls */
    uint64_t stream_bytes;         /* body bytes seen so far */
    bool stream_settled;           /* answered or over the cap: the rest is discarded */
    char client_addr[INET6_ADDRSTRLEN];
    char request_id[REQUEST_ID_MAX + 1];
};

struct bl_http_response {
    const bl_http_request *req;
    int status;
    size_t header_count;
    char *header_names[MAX_RESPONSE_HEADERS];
    char *header_values[MAX_RESPONSE_HEADERS];
    char *content_type;
    char *body;
    size_t body_len;
    /* a streamed body instead of body (see bl_http_response_body_stream) */
    bl_http_body_reader_fn stream_read;
    void (*stream_release)(void *state);
    void *stream_state;
    uint64_t stream_size;
};


/* Frees what resp holds and makes it an empty 200 again (keeping its
 * request), for an error answer after a handler's partial one or reuse. */
void bl_http_response_clear(bl_http_response *resp);

/* Decodes req's query into its arrays. Returns 0, or -1 when malformed or
 * too long. Once per request. */
int bl_http_request_parse_query(bl_http_request *req);

/* An MHD response reading resp's streamed body (which passes to it), or
 * NULL (the stream then released). */
struct MHD_Response *bl_http_response_from_stream(bl_http_response *resp);

/* Queues resp on req's connection (its body passes to MHD). Returns MHD's verdict. */
enum MHD_Result bl_http_send_response(bl_http_request *req, bl_http_response *resp);

/* The streamed-body steps of on_request (core/http_server_stream.c).
 * bl_http_stream_start: on the request's first call, once identified;
 * returns 1 when req is on a streamed route (then *rc is what to return to
 * MHD), 0 when it is not. bl_http_stream_step: every later call. */
int bl_http_stream_start(bl_http_request *req, enum MHD_Result *rc);
enum MHD_Result bl_http_stream_step(bl_http_request *req, const char *data, size_t *len);
/* Frees what a streamed request holds (its state through release). */
void bl_http_stream_free(bl_http_request *req);

#endif
