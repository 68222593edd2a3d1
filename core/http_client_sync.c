/* One blocking request on a client of its own, for callers without a loop. */
#include "core/http_client.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sync_state {
    bl_http_sync_result *out;
    size_t body_cap;
    bool done;
    bool oom;
    char error[CURL_ERROR_SIZE];
} sync_state;

static void sync_done(const bl_http_result *r, void *opaque)
{
    sync_state *st = opaque;
    bl_http_sync_result *out = st->out;
    st->done = true;
    out->transport = r->transport;
    out->status = r->status;
    out->duration_us = r->duration_us;
    snprintf(st->error, sizeof st->error, "%s", r->error ? r->error : "");
    snprintf(out->content_type, sizeof out->content_type, "%s", r->content_type ? r->content_type : "");
    snprintf(out->retry_after, sizeof out->retry_after, "%s", r->retry_after ? r->retry_after : "");
    out->body = malloc(r->body_len + 1);
    if (!out->body) {
        st->oom = true;
        return;
    }
    if (r->body_len)
        memcpy(out->body, r->body, r->body_len);
    out->body[r->body_len] = '\0';
    out->body_len = r->body_len;
    out->body_truncated = r->body_truncated;
}

int bl_http_request_sync(const bl_http_call *call, const bl_http_client_config *cfg,
                         bl_http_sync_result *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    out->transport = BL_HTTP_TRANSPORT_OTHER;
    bl_http_client_config one = cfg ? *cfg : (bl_http_client_config){0};
    one.max_host_connections = 1;
    one.connection_cache = 1;
    bl_http_client *c = bl_http_client_new(&one, err);
    if (!c)
        return -1;
    sync_state st = {.out = out};
    bl_http_call sync_call = *call;
    sync_call.on_done = sync_done;
    sync_call.opaque = &st;
    if (sync_call.timeout_ms <= 0)
        sync_call.timeout_ms = 30000; /* a CLI must not hang forever */
    int rc = -1;
    if (bl_http_client_submit(c, &sync_call, err) != 0)
        goto done;
    while (!st.done)
        if (bl_http_client_run(c, 1000, err) < 0)
            goto done;
    if (st.oom) {
        bl_err_set(err, BL_ENOMEM, "http: out of memory copying the response of %s", call->url);
        goto done;
    }
    if (out->transport != BL_HTTP_TRANSPORT_OK) {
        bl_err_set(err, out->transport == BL_HTTP_TRANSPORT_TIMEOUT ? BL_ETIMEOUT : BL_EHTTP,
                   "http: %s %s: %s (%s)", call->method ? call->method : "GET", call->url,
                   st.error, bl_http_transport_name(out->transport));
        goto done;
    }
    rc = 0;
done:
    bl_http_client_free(c);
    return rc;
}

void bl_http_sync_result_clear(bl_http_sync_result *r)
{
    if (!r)
        return;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}
