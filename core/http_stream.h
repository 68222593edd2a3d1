/* Streamed bodies for core/http_server: a route that takes its request body
 * piece by piece as it arrives (uploads, never held whole in memory), and a
 * response whose body is read piece by piece while it is sent (downloads).
 *
 * A streamed route has its own body cap. A declared Content-Length over it
 * is answered 413 before any body byte (at once when the client waits on
 * "Expect: 100-continue"); a body that passes it while arriving (chunked, or
 * a lying length) stops reaching the route, the route's end step hears
 * BL_HTTP_STREAM_TOO_LARGE with resp already holding the server's 413, and
 * the rest of the body is read and dropped. Once a route has answered, the
 * rest of the body is dropped too; a client that keeps sending past the cap
 * by more than the cap (at least 8 MiB) is disconnected rather than drained
 * for ever. */
#ifndef BUSLINE_CORE_HTTP_STREAM_H
#define BUSLINE_CORE_HTTP_STREAM_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct bl_http_server bl_http_server;
typedef struct bl_http_request bl_http_request;
typedef struct bl_http_response bl_http_response;

/* A step's answer: resp holds the final answer, take no more body. */
#define BL_HTTP_ANSWERED 2

/* How a streamed body ended, for the end step. */
typedef enum bl_http_stream_outcome {
    BL_HTTP_STREAM_COMPLETE = 0, /* every byte arrived and reached chunk */
    BL_HTTP_STREAM_TOO_LARGE,    /* it passed the route's cap: resp holds the 413 */
    BL_HTTP_STREAM_ANSWERED,     /* chunk answered (or failed: resp holds a 500) */
} bl_http_stream_outcome;

/* The steps of a streamed route, run on the request's connection thread in
 * order: begin once, chunk for each piece, end once, release always. req
 * stays valid (and the same) from begin to release, so state may keep it. */
typedef struct bl_http_stream_fns {
    /* The headers are in and the route matched (params and query readable).
     * Returns 0 to take the body with *state set, BL_HTTP_ANSWERED when resp
     * holds the answer already (end is then not called, release is, with
     * *state as left), or -1 for a 500. */
    int (*begin)(const bl_http_request *req, bl_http_response *resp, void *ctx, void **state);
    /* The next len bytes of the body (borrowed for the call). Returns 0, or
     * BL_HTTP_ANSWERED with resp filled, or -1 for a 500. */
    int (*chunk)(void *state, const char *data, size_t len, bl_http_response *resp);
    /* The body ended (see outcome); fills or completes resp. Returns 0, or -1
     * for a 500. */
    int (*end)(void *state, bl_http_stream_outcome outcome, bl_http_response *resp);
    /* Frees state, whatever happened (also when the client went away
     * mid-body: then neither end nor an answer comes). Accepts NULL. */
    void (*release)(void *state);
} bl_http_stream_fns;

/* Adds a streamed-body route (patterns as for bl_http_server_route). fns is
 * borrowed (keep it static); body_cap: bytes accepted (0 = the server's
 * body_cap). Only before start. Returns 0 or -1 with err. */
int bl_http_server_stream_route(bl_http_server *s, const char *method, const char *pattern,
                                const bl_http_stream_fns *fns, size_t body_cap, void *ctx,
                                bl_err *err);

/* Reads the streamed response body at byte pos into buf (at most max
 * bytes). Returns how many (> 0), 0 at the end of the body, or -1 when it
 * cannot go on (the connection is then closed mid-body). */
typedef ssize_t (*bl_http_body_reader_fn)(void *state, uint64_t pos, char *buf, size_t max);

/* Makes resp's body streamed: size bytes (BL_HTTP_SIZE_UNKNOWN: chunked)
 * read by read(state, ...) while they are sent; release(state) runs once
 * when the response is done with (sent, failed, or never sent), and at once
 * when this returns -1. content_type may be NULL. Returns 0 or -1. */
#define BL_HTTP_SIZE_UNKNOWN UINT64_MAX
int bl_http_response_body_stream(bl_http_response *resp, uint64_t size, bl_http_body_reader_fn read,
                                 void (*release)(void *state), void *state, const char *content_type);

#endif
