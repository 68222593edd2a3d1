/* The streamed-body routes of the http server (see core/http_stream.h): a
 * request on one is matched as soon as its headers are in, and its body goes
 * to the route's chunk step as MHD hands it over, never gathered. */
#include "core/http_server_internal.h"

#include "core/log.h"

#include <stdlib.h>
#include <string.h>

static bl_http_response *new_response(bl_http_request *req)
{
    bl_http_response *resp = calloc(1, sizeof *resp);
    if (!resp)
        return NULL;
    resp->req = req;
    bl_http_response_clear(resp);
    return resp;
}

static void answer_error(bl_http_response *resp, int status, const char *message)
{
    bl_http_response_clear(resp);
    if (bl_http_response_error(resp, status, message) != 0)
        bl_http_response_clear(resp);
    resp->status = status;
}

static void answer_internal_error(bl_http_request *req, const char *step)
{
    bl_log_warn("http server: streamed route failed", BL_FS("request_id", req->request_id),
                BL_FS("step", step), BL_FS("method", req->method), BL_FS("path", req->uri));
    answer_error(req->stream_resp, 500, "internal error");
}

static bool declared_over(const bl_http_request *req, size_t cap)
{
    const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return false;
    char *end = NULL;
    unsigned long long n = strtoull(cl, &end, 10);
    return end != cl && n > cap;
}

static void too_large(bl_http_request *req)
{
    const route_target *t = req->stream_target;
    char msg[96];
    snprintf(msg, sizeof msg, "request body too large: at most %zu bytes are accepted", t->stream_cap);
    answer_error(req->stream_resp, 413, msg);
    if (t->stream->end(req->stream_state, BL_HTTP_STREAM_TOO_LARGE, req->stream_resp) != 0)
        answer_internal_error(req, "end");
    req->stream_settled = true;
}

/* Sends the answer now; later calls only drop what still arrives. */
static enum MHD_Result send_now(bl_http_request *req)
{
    enum MHD_Result rc = bl_http_send_response(req, req->stream_resp);
    bl_http_response_clear(req->stream_resp);
    free(req->stream_resp);
    req->stream_resp = NULL;
    return rc;
}

/* After the first call: a client waiting on "Expect: 100-continue" hears
 * the answer before sending a body; others get it once theirs is read. */
static enum MHD_Result settled_at_start(bl_http_request *req)
{
    if (MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT))
        return send_now(req);
    return MHD_YES;
}

int bl_http_stream_start(bl_http_request *req, enum MHD_Result *rc)
{
    bl_http_server *s = req->server;
    if (bl_http_router_match(s->router, req->method, req->uri, &req->match) != BL_ROUTE_MATCHED)
        return 0;
    const route_target *t = req->match.target;
    if (!t->stream)
        return 0;
    req->stream_target = t;
    if (!(req->stream_resp = new_response(req))) {
        *rc = MHD_NO;
        return 1;
    }
    if (bl_http_request_parse_query(req) != 0) {
        answer_error(req->stream_resp, 400, "malformed query string");
        req->stream_settled = true;
        *rc = settled_at_start(req);
        return 1;
    }
    int begun = t->stream->begin(req, req->stream_resp, t->ctx, &req->stream_state);
    if (begun != 0) {
        if (begun != BL_HTTP_ANSWERED)
            answer_internal_error(req, "begin");
        req->stream_settled = true; /* end is not owed after a refused begin */
        *rc = settled_at_start(req);
        return 1;
    }
    if (declared_over(req, t->stream_cap)) {
        too_large(req);
        *rc = settled_at_start(req);
        return 1;
    }
    *rc = MHD_YES;
    return 1;
}

/* How many bytes past the cap a settled request still reads and drops, so
 * the client (which may not read before it has sent) gets its answer. */
static uint64_t drain_past_cap(const route_target *t)
{
    const uint64_t floor = 8u * 1024 * 1024;
    return t->stream_cap > floor ? t->stream_cap : floor;
}

enum MHD_Result bl_http_stream_step(bl_http_request *req, const char *data, size_t *len)
{
    const route_target *t = req->stream_target;
    if (*len > 0) {
        size_t n = *len;
        *len = 0;
        req->stream_bytes += n;
        if (req->stream_settled) {
            /* dropping costs no memory, but not for ever */
            if (req->stream_bytes > t->stream_cap && req->stream_bytes - t->stream_cap > drain_past_cap(t)) {
                bl_log_warn("http server: client kept sending past its answer, disconnected",
                            BL_FS("request_id", req->request_id), BL_FS("path", req->uri));
                return MHD_NO;
            }
            return MHD_YES;
        }
        if (req->stream_bytes > t->stream_cap) {
            too_large(req);
            return MHD_YES;
        }
        int rc = t->stream->chunk(req->stream_state, data, n, req->stream_resp);
        if (rc != 0) {
            if (rc != BL_HTTP_ANSWERED)
                answer_internal_error(req, "chunk");
            if (t->stream->end(req->stream_state, BL_HTTP_STREAM_ANSWERED, req->stream_resp) != 0)
                answer_internal_error(req, "end");
            req->stream_settled = true;
        }
        return MHD_YES;
    }
    if (!req->stream_resp)
        return MHD_YES; /* answered already (before the body) */
    if (!req->stream_settled) {
        req->stream_settled = true;
        if (t->stream->end(req->stream_state, BL_HTTP_STREAM_COMPLETE, req->stream_resp) != 0)
            answer_internal_error(req, "end");
    }
    return send_now(req);
}

void bl_http_stream_free(bl_http_request *req)
{
    if (req->stream_target)
        req->stream_target->stream->release(req->stream_state);
    req->stream_state = NULL;
    if (req->stream_resp) {
        bl_http_response_clear(req->stream_resp);
        free(req->stream_resp);
        req->stream_resp = NULL;
    }
}
