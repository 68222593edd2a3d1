#include "core/http_route.h"

#include "core/crypto.h"

#include <stdlib.h>
#include <string.h>

typedef struct route_segment {
    char *text;    /* literal text, or the parameter name without ':' */
    bool is_param;
    bool is_rest;  /* "*": the last segment, matching one or more segments */
} route_segment;

typedef struct route {
    char *method;
    void *target;
    size_t segment_count;
    route_segment segments[BL_HTTP_ROUTE_MAX_SEGMENTS];
} route;

struct bl_http_router {
    route *routes;
    size_t count;
    size_t cap;
};

bl_http_router *bl_http_router_new(void)
{
    return calloc(1, sizeof(bl_http_router));
}

static void route_clear(route *rt)
{
    free(rt->method);
    for (size_t i = 0; i < rt->segment_count; i++)
        free(rt->segments[i].text);
}

void bl_http_router_free(bl_http_router *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++)
        route_clear(&r->routes[i]);
    free(r->routes);
    free(r);
}

bool bl_http_method_valid(const char *m)
{
    if (!m || !*m || strlen(m) > 16)
        return false;
    for (; *m; m++)
        if (*m < 'A' || *m > 'Z')
            return false;
    return true;
}

/* Splits pattern into rt's segments; strings are copied. */
static int route_parse(route *rt, const char *pattern, bl_err *err)
{
    if (pattern[0] != '/')
        return bl_err_set(err, BL_EINVAL, "http route: pattern \"%s\" must start with '/'", pattern);
    size_t params = 0;
    const char *p = pattern + 1;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (rt->segment_count == BL_HTTP_ROUTE_MAX_SEGMENTS)
            return bl_err_set(err, BL_EINVAL, "http route: pattern \"%s\" has more than %d segments",
                              pattern, BL_HTTP_ROUTE_MAX_SEGMENTS);
        route_segment *seg = &rt->segments[rt->segment_count];
        seg->is_param = len > 0 && p[0] == ':';
        seg->is_rest = len == 1 && p[0] == '*';
        if (seg->is_rest && end)
            return bl_err_set(err, BL_EINVAL, "http route: pattern \"%s\" has \"*\" before its last segment", pattern);
        if (seg->is_param) {
            if (len == 1)
                return bl_err_set(err, BL_EINVAL, "http route: pattern \"%s\" has an unnamed parameter", pattern);
            if (++params > BL_HTTP_ROUTE_MAX_PARAMS)
                return bl_err_set(err, BL_EINVAL, "http route: pattern \"%s\" has more than %d parameters",
                                  pattern, BL_HTTP_ROUTE_MAX_PARAMS);
            p++;
            len--;
        }
        seg->text = strndup(p, len);
        if (!seg->text)
            return bl_err_set(err, BL_ENOMEM, "http route: out of memory");
        rt->segment_count++;
        if (!end)
            return 0;
        p = end + 1;
    }
}

int bl_http_router_add(bl_http_router *r, const char *method, const char *pattern,
                       void *target, bl_err *err)
{
    if (!r || !method || !pattern)
        return bl_err_set(err, BL_EINVAL, "http route: router, method and pattern are required");
    if (!bl_http_method_valid(method))
        return bl_err_set(err, BL_EINVAL, "http route: bad method \"%s\"", method);
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        route *grown = realloc(r->routes, cap * sizeof *grown);
        if (!grown)
            return bl_err_set(err, BL_ENOMEM, "http route: out of memory");
        r->routes = grown;
        r->cap = cap;
    }
    route *rt = &r->routes[r->count];
    memset(rt, 0, sizeof *rt);
    rt->target = target;
    rt->method = strdup(method);
    if (!rt->method) {
        bl_err_set(err, BL_ENOMEM, "http route: out of memory");
        goto fail;
    }
    if (route_parse(rt, pattern, err) != 0)
        goto fail;
    r->count++;
    return 0;
fail:
    route_clear(rt);
    return -1;
}

long bl_http_percent_decode(const char *in, size_t in_len, bool plus_is_space,
                            char *out, size_t out_cap)
{
    size_t o = 0;
    for (size_t i = 0; i < in_len; i++) {
        char c = in[i];
        if (c == '%') {
            int hi = i + 1 < in_len ? bl_hex_value(in[i + 1]) : -1;
            int lo = i + 2 < in_len ? bl_hex_value(in[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '\0') {
            return -1;
        }
        if (o + 1 >= out_cap)
            return -1;
        out[o++] = c;
    }
    if (out_cap == 0)
        return -1;
    out[o] = '\0';
    return (long)o;
}

/* Decoded request segments, each NUL-terminated inside m->buf. */
typedef struct path_segments {
    size_t count;
    const char *text[BL_HTTP_ROUTE_MAX_SEGMENTS];
} path_segments;

/* Returns 0, 1 when the path has more segments than any route can, or -1
 * (with m->problem set) when the path is malformed. */
static int split_path(const char *raw_path, bl_http_route_match *m, path_segments *segs)
{
    if (raw_path[0] != '/') {
        m->problem = "path must start with '/'";
        return -1;
    }
    if (strlen(raw_path) > BL_HTTP_PATH_MAX) {
        m->problem = "path too long";
        return -1;
    }
    size_t used = 0;
    const char *p = raw_path + 1;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (segs->count == BL_HTTP_ROUTE_MAX_SEGMENTS)
            return 1;
        long n = bl_http_percent_decode(p, len, false, m->buf + used, sizeof m->buf - used);
        if (n < 0) {
            m->problem = "malformed percent-encoding in path";
            return -1;
        }
        segs->text[segs->count++] = m->buf + used;
        used += (size_t)n + 1;
        if (!end)
            return 0;
        p = end + 1;
    }
}

/* Fills m's params when rt's pattern fits segs; returns whether it does. */
static bool route_fits(const route *rt, const path_segments *segs, bl_http_route_match *m)
{
    bool rest = rt->segment_count > 0 && rt->segments[rt->segment_count - 1].is_rest;
    if (rest ? segs->count < rt->segment_count : rt->segment_count != segs->count)
        return false;
    size_t params = 0;
    for (size_t i = 0; i < rt->segment_count; i++) {
        const route_segment *seg = &rt->segments[i];
        if (seg->is_rest) {
            if (segs->text[i][0] == '\0')
                return false;
        } else if (seg->is_param) {
            if (segs->text[i][0] == '\0')
                return false;
            m->param_names[params] = seg->text;
            m->param_values[params] = segs->text[i];
            params++;
        } else if (strcmp(seg->text, segs->text[i]) != 0) {
            return false;
        }
    }
    m->param_count = params;
    return true;
}

static void allow_add(char *allow, const char *method)
{
    size_t mlen = strlen(method);
    for (const char *p = allow; (p = strstr(p, method)) != NULL; p += mlen)
        if ((p == allow || p[-1] == ' ') && (p[mlen] == ',' || p[mlen] == '\0'))
            return;
    size_t used = strlen(allow);
    size_t sep = used ? 2 : 0;
    if (used + sep + mlen + 1 > BL_HTTP_ALLOW_MAX)
        return;
    if (sep)
        memcpy(allow + used, ", ", 2);
    memcpy(allow + used + sep, method, mlen + 1);
}

bl_http_route_outcome bl_http_router_match(const bl_http_router *r, const char *method,
                                           const char *raw_path, bl_http_route_match *out)
{
    out->target = NULL;
    out->param_count = 0;
    out->allow[0] = '\0';
    out->problem = NULL;
    path_segments segs = {0};
    int split = split_path(raw_path, out, &segs);
    if (split < 0)
        return BL_ROUTE_BAD_PATH;
    if (split > 0)
        return BL_ROUTE_NOT_FOUND;
    bool path_known = false;
    for (size_t i = 0; i < r->count; i++) {
        const route *rt = &r->routes[i];
        if (!route_fits(rt, &segs, out))
            continue;
        if (strcmp(rt->method, method) == 0) {
            out->target = rt->target;
            return BL_ROUTE_MATCHED;
        }
        path_known = true;
        allow_add(out->allow, rt->method);
    }
    out->param_count = 0;
    return path_known ? BL_ROUTE_METHOD_NOT_ALLOWED : BL_ROUTE_NOT_FOUND;
}

const char *bl_http_route_param(const bl_http_route_match *m, const char *name)
{
    for (size_t i = 0; i < m->param_count; i++)
        if (strcmp(m->param_names[i], name) == 0)
            return m->param_values[i];
    return NULL;
}
