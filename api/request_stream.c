/* The core server's steps of a streamed API route (see bl_api_stream_fns in
 * api/server.h): the caller's checks when the headers are in, then the
 * route's own steps, then the request counter and log once it is answered. */
#include "api/server_private.h"

#include "core/clock.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct api_stream {
    route_target *target;
    const bl_http_request *http;
    bl_api_checked checked;
    int64_t start_us;
    void *route_state; /* the route's, released by its release step */
    bool route_begun;  /* the route's begin ran: its release is owed, whatever it answered */
    bool logged;
} api_stream;

static void log_answer(api_stream *st, bl_http_response *resp)
{
    if (st->logged)
        return;
    st->logged = true;
    bl_api_rate_headers(resp, &st->checked);
    bl_api_answered(st->target, st->http, &st->checked, bl_http_response_status_code(resp), st->start_us);
}

static int stream_begin(const bl_http_request *req, bl_http_response *resp, void *ctx, void **state)
{
    route_target *t = ctx;
    api_stream *st = calloc(1, sizeof *st);
    if (!st)
        return -1;
    *state = st;
    *st = (api_stream){.target = t, .http = req, .start_us = bl_clock_mono_us()};
    if (bl_api_check_caller(t, req, resp, &st->checked) != 0) {
        log_answer(st, resp);
        return BL_HTTP_ANSWERED;
    }
    bl_api_request areq = {.http = req, .auth = st->checked.authed ? &st->checked.auth : NULL,
                           .server = t->server};
    st->route_begun = true;
    int rc = t->stream->begin(&areq, resp, t->ctx, &st->route_state);
    if (rc == 0)
        return 0;
    if (rc == BL_HTTP_ANSWERED)
        log_answer(st, resp);
    return rc;
}

static int stream_chunk(void *state, const char *data, size_t len, bl_http_response *resp)
{
    api_stream *st = state;
    return st->target->stream->chunk(st->route_state, data, len, resp);
}

static int stream_end(void *state, bl_http_stream_outcome outcome, bl_http_response *resp)
{
    api_stream *st = state;
    int rc = 0;
    if (outcome == BL_HTTP_STREAM_COMPLETE) {
        rc = st->target->stream->end(st->route_state, resp);
    } else if (outcome == BL_HTTP_STREAM_TOO_LARGE) {
        char msg[96];
        snprintf(msg, sizeof msg, "the upload is larger than the %zu bytes accepted",
                 st->target->server->cfg.upload_cap);
        rc = bl_api_fail(st->http, resp, 413, NULL, msg, NULL);
    }
    if (rc == 0)
        log_answer(st, resp);
    return rc;
}

static void stream_release(void *state)
{
    api_stream *st = state;
    if (!st)
        return;
    if (st->route_begun)
        st->target->stream->release(st->route_state);
    if (!st->logged) /* the client went away, or a step failed: the server answered 500 or nothing */
        bl_api_answered(st->target, st->http, &st->checked, 500, st->start_us);
    free(st);
}

const bl_http_stream_fns bl_api_stream_steps = {
    .begin = stream_begin,
    .chunk = stream_chunk,
    .end = stream_end,
    .release = stream_release,
};
