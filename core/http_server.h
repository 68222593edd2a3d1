/* A small HTTP server over libmicrohttpd with a route table, for the schema
 * registry and the API. Handlers run on MHD's threads and may block (on
 * Postgres, on a Kafka acknowledgement): by default each connection has its
 * own thread, so a slow handler holds back only its own keep-alive
 * connection. A thread pool over epoll (thread_pool_size > 0) serves many
 * idle keep-alive connections with few threads, but a blocking handler then
 * stalls every connection of its pool thread, so use it only for handlers
 * that never block. */
#ifndef BUSLINE_CORE_HTTP_SERVER_H
#define BUSLINE_CORE_HTTP_SERVER_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct bl_http_server bl_http_server;
typedef struct bl_http_request bl_http_request;
typedef struct bl_http_response bl_http_response;

/* Handles one matched request by filling resp. Returns 0, or -1 to have the
 * server answer 500 with its error body instead (resp is then discarded), or
 * BL_HTTP_DROP_CONNECTION to close the connection without answering (a
 * reset, for tests of clients).
 * Runs on a server thread: ctx must be safe to share between requests. */
#define BL_HTTP_DROP_CONNECTION 1

typedef int (*bl_http_handler_fn)(const bl_http_request *req, bl_http_response *resp, void *ctx);

/* Builds the JSON body of an error answer for req (borrowed: its id, and its
 * path for a server whose surfaces answer in different shapes); returns a
 * new reference (NULL falls back to an empty body). The API uses
 * {"error":{"code","message","request_id"}} on /v1, the registry Confluent's
 * {"error_code":40401,"message":"..."}. */
typedef json_t *(*bl_http_error_body_fn)(int status, const char *message,
                                         const bl_http_request *req, void *ctx);

typedef struct bl_http_server_config {
    const char *host;                 /* IPv4 or IPv6 literal; NULL = "127.0.0.1" */
    unsigned short port;              /* 0 = ephemeral, see bl_http_server_port */
    unsigned thread_pool_size;        /* 0 = thread per connection; N = epoll pool of N */
    unsigned connection_limit;        /* open connections at once; 0 = 256 */
    unsigned connection_timeout_s;    /* idle seconds before a connection closes; 0 = 30 */
    size_t body_cap;                  /* request body bytes accepted, else 413; 0 = 1 MiB */
    unsigned drain_timeout_ms;        /* how long stop waits for in-flight requests; 0 = 10000 */
    size_t connection_memory;         /* per-connection buffer for the request line and
                                       * headers (past it MHD answers 431 itself); 0 = 32 KiB */
    bl_http_error_body_fn error_body; /* NULL = {"error":{"code","message","request_id"}} */
    void *error_body_ctx;
    void *owner;                      /* borrowed; what bl_http_request_owner answers */
} bl_http_server_config;

/* Creates a server with an empty route table; cfg is copied (host too).
 * Returns NULL with err filled. Add routes, then bl_http_server_start. */
bl_http_server *bl_http_server_new(const bl_http_server_config *cfg, bl_err *err);

/* Adds a route (see core/http_route.h for patterns and precedence); ctx is
 * borrowed and handed to the handler. Only before start. Returns 0 or -1. */
int bl_http_server_route(bl_http_server *s, const char *method, const char *pattern,
                         bl_http_handler_fn handler, void *ctx, bl_err *err);

/* Binds and starts serving on MHD's threads. Returns 0, or -1 with err. */
int bl_http_server_start(bl_http_server *s, bl_err *err);

/* The bound port (useful after port 0), or 0 when not started. */
unsigned short bl_http_server_port(const bl_http_server *s);

/* Stops accepting, waits up to drain_timeout_ms for requests in flight to be
 * answered, then closes every connection. Safe to call twice. */
void bl_http_server_stop(bl_http_server *s);

/* Stops if needed and frees; accepts NULL. */
void bl_http_server_free(bl_http_server *s);

/* --- the request a handler sees (all borrowed, valid during the call) --- */

const char *bl_http_request_method(const bl_http_request *req);
/* The path as sent (still percent-encoded), without the query. */
const char *bl_http_request_path(const bl_http_request *req);
/* A decoded ":name" path parameter, or NULL. */
const char *bl_http_request_param(const bl_http_request *req, const char *name);
/* A decoded query argument ('+' is a space), first occurrence, or NULL;
 * "?flag" gives "". */
const char *bl_http_request_query(const bl_http_request *req, const char *name);
/* The decoded query arguments in the order sent: their count, then
 * argument i's name and value (borrowed). Returns 0, or -1 out of range. */
size_t bl_http_request_query_count(const bl_http_request *req);
int bl_http_request_query_at(const bl_http_request *req, size_t i, const char **name, const char **value);
/* A request header by case-insensitive name, or NULL. */
const char *bl_http_request_header(const bl_http_request *req, const char *name);
/* How many request headers came, and their names' and values' bytes in
 * *bytes (may be NULL), so a caller can enforce caps below MHD's own. */
size_t bl_http_request_header_count(const bl_http_request *req, size_t *bytes);
/* The body (NUL-terminated, may hold NULs) and its length in *len. */
const char *bl_http_request_body(const bl_http_request *req, size_t *len);
/* Parses the body as JSON; returns a new reference or NULL with err filled. */
json_t *bl_http_request_json(const bl_http_request *req, bl_err *err);
/* The client's IP address as text. */
const char *bl_http_request_client_addr(const bl_http_request *req);
/* The request's id: a sane incoming X-Request-Id, else a generated one. It
 * is echoed in the X-Request-Id response header. */
const char *bl_http_request_id(const bl_http_request *req);
/* The owner given in the server's config (borrowed), so code below a
 * server's handlers can reach the server built over this one. */
void *bl_http_request_owner(const bl_http_request *req);

/* --- the response a handler fills (default: 200, empty body) --- */

void bl_http_response_status(bl_http_response *resp, int status);
/* The status set so far (200 when none was). */
int bl_http_response_status_code(const bl_http_response *resp);
/* The body set so far (borrowed from resp; NULL when none, or streamed)
 * and its length in *len (0 then). */
const char *bl_http_response_body_view(const bl_http_response *resp, size_t *len);
/* Adds a header (copied). Rejects line breaks and, past 32 headers, more.
 * Returns 0 or -1. */
int bl_http_response_header(bl_http_response *resp, const char *name, const char *value);
/* Sets the body to a copy of data; content_type may be NULL. Returns 0 or -1. */
int bl_http_response_body_copy(bl_http_response *resp, const void *data, size_t len,
                               const char *content_type);
/* Sets the body to buf (malloc'd; ownership passes to resp, even on -1). */
int bl_http_response_body_owned(bl_http_response *resp, char *buf, size_t len,
                                const char *content_type);
/* Sets status and a compact JSON body from json (borrowed), as
 * application/json. Returns 0 or -1. */
int bl_http_response_json(bl_http_response *resp, int status, const json_t *json);
/* Sets status and the server's error body for message. Returns 0 or -1. */
int bl_http_response_error(bl_http_response *resp, int status, const char *message);

/* The default error body: {"error":{"code":"not_found","message":...,
 * "request_id":...}} with code named after the status (the /v1 column of
 * core/http_status.h). */
json_t *bl_http_default_error_body(int status, const char *message,
                                   const bl_http_request *req, void *ctx);

#endif
