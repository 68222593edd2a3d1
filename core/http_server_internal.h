/* What the http server's files share and nobody else sees: the server,
 * request and response structs behind the public handles. */
#ifndef BUSLINE_CORE_HTTP_SERVER_INTERNAL_H
#define BUSLINE_CORE_HTTP_SERVER_INTERNAL_H

#include "core/http_route.h"
#include "core/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>

#define MAX_QUERY_ARGS 64
#define MAX_RESPONSE_HEADERS 32
#define REQUEST_ID_MAX 64

typedef struct route_target {
    bl_http_handler_fn fn;
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
};


/* Frees what resp holds and makes it an empty 200 again (keeping its
 * request), for an error answer after a handler's partial one or reuse. */
void bl_http_response_clear(bl_http_response *resp);

#endif
