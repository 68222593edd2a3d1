/* The route table of the HTTP server, kept apart so matching is a pure
 * function over a table built once at start-up: method + pattern with
 * ":name" segments (e.g. "/subjects/:subject/versions/:version"). */
#ifndef BUSLINE_CORE_HTTP_ROUTE_H
#define BUSLINE_CORE_HTTP_ROUTE_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

#define BL_HTTP_ROUTE_MAX_SEGMENTS 16
#define BL_HTTP_ROUTE_MAX_PARAMS 8
#define BL_HTTP_PATH_MAX 2048
#define BL_HTTP_ALLOW_MAX 128

typedef struct bl_http_router bl_http_router;

typedef enum bl_http_route_outcome {
    BL_ROUTE_MATCHED = 0,
    BL_ROUTE_NOT_FOUND,          /* no pattern fits the path: 404 */
    BL_ROUTE_METHOD_NOT_ALLOWED, /* a pattern fits, not with this method: 405 + allow */
    BL_ROUTE_BAD_PATH,           /* malformed percent-encoding or too long: 400 */
} bl_http_route_outcome;

/* What a match yields. Caller-owned (it is large: keep one per request, not
 * on a small stack); names are borrowed from the router, values point into buf. */
typedef struct bl_http_route_match {
    void *target;        /* the value given to bl_http_router_add */
    size_t param_count;
    const char *param_names[BL_HTTP_ROUTE_MAX_PARAMS];
    const char *param_values[BL_HTTP_ROUTE_MAX_PARAMS];
    char allow[BL_HTTP_ALLOW_MAX]; /* "GET, PUT" for a 405 */
    const char *problem;           /* why a path is bad, for a 400 */
    char buf[BL_HTTP_PATH_MAX + BL_HTTP_ROUTE_MAX_SEGMENTS];
} bl_http_route_match;

/* Returns an empty router (NULL only when out of memory). */
bl_http_router *bl_http_router_new(void);

/* Frees the router; accepts NULL. Targets are not freed. */
void bl_http_router_free(bl_http_router *r);

/* Adds a route. method: "GET", "POST"...; pattern: starts with '/', segments
 * are literals or ":name" (non-empty, at most BL_HTTP_ROUTE_MAX_PARAMS); a
 * last segment "*" matches one or more non-empty-first segments, which the
 * handler reads from the request's path (a subtree served by one handler).
 * Both strings are copied; target is borrowed and handed back by a match.
 * When several routes fit a request, the one added first wins, so add
 * specific patterns before general ones. Not thread-safe; add before
 * serving. Returns 0, or -1 with err filled (bad pattern, no memory). */
int bl_http_router_add(bl_http_router *r, const char *method, const char *pattern,
                       void *target, bl_err *err);

/* Matches a request. raw_path: the path as sent, still percent-encoded,
 * without the query. Segments are decoded before comparison, so "%2F" inside
 * a parameter stays in its value. Read-only on r: safe from many threads. */
bl_http_route_outcome bl_http_router_match(const bl_http_router *r, const char *method,
                                           const char *raw_path, bl_http_route_match *out);

/* The decoded value of parameter name, or NULL. Borrowed from m. */
const char *bl_http_route_param(const bl_http_route_match *m, const char *name);

/* Whether method is a plausible HTTP method token (1-16 letters A-Z). */
bool bl_http_method_valid(const char *method);

/* Percent-decodes in[0..in_len) into out (capacity out_cap, NUL-terminated).
 * plus_is_space: decode '+' as ' ' (query strings). Rejects a '%' not
 * followed by two hex digits, an encoded NUL, and output that does not fit.
 * Returns the decoded length, or -1. */
long bl_http_percent_decode(const char *in, size_t in_len, bool plus_is_space,
                            char *out, size_t out_cap);

#endif
