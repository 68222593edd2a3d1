/* What a handler sets on its response: status, headers, body, and the
 * JSON and error shortcuts. */
#include "core/http_server_internal.h"

#include <stdlib.h>
#include <string.h>

void bl_http_response_status(bl_http_response *resp, int status)
{
    resp->status = status;
}

int bl_http_response_status_code(const bl_http_response *resp)
{
    return resp->status;
}

const char *bl_http_response_body_view(const bl_http_response *resp, size_t *len)
{
    *len = resp->body ? resp->body_len : 0;
    return resp->body;
}

static void stream_drop(bl_http_response *resp);

static bool text_is_clean(const char *s)
{
    return s && strpbrk(s, "\r\n") == NULL;
}

int bl_http_response_header(bl_http_response *resp, const char *name, const char *value)
{
    if (!text_is_clean(name) || !text_is_clean(value) || !*name || strchr(name, ':'))
        return -1;
    if (resp->header_count == MAX_RESPONSE_HEADERS)
        return -1;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return -1;
    }
    resp->header_names[resp->header_count] = n;
    resp->header_values[resp->header_count] = v;
    resp->header_count++;
    return 0;
}

int bl_http_response_body_owned(bl_http_response *resp, char *buf, size_t len,
                                const char *content_type)
{
    char *ct = NULL;
    if (content_type && (!text_is_clean(content_type) || !(ct = strdup(content_type)))) {
        free(buf);
        return -1;
    }
    stream_drop(resp);
    free(resp->body);
    free(resp->content_type);
    resp->body = buf;
    resp->body_len = buf ? len : 0;
    resp->content_type = ct;
    return 0;
}

int bl_http_response_body_copy(bl_http_response *resp, const void *data, size_t len,
                               const char *content_type)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    if (len)
        memcpy(copy, data, len);
    copy[len] = '\0';
    return bl_http_response_body_owned(resp, copy, len, content_type);
}

int bl_http_response_json(bl_http_response *resp, int status, const json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT);
    if (!text)
        return -1;
    resp->status = status;
    return bl_http_response_body_owned(resp, text, strlen(text), "application/json");
}

int bl_http_response_error(bl_http_response *resp, int status, const char *message)
{
    const bl_http_server *s = resp->req->server;
    json_t *body = s->cfg.error_body(status, message, resp->req, s->cfg.error_body_ctx);
    resp->status = status;
    if (!body)
        return bl_http_response_body_owned(resp, NULL, 0, NULL);
    int rc = bl_http_response_json(resp, status, body);
    json_decref(body);
    return rc;
}

typedef struct stream_body {
    bl_http_body_reader_fn read;
    void (*release)(void *state);
    void *state;
} stream_body;

static void stream_drop(bl_http_response *resp)
{
    if (resp->stream_release)
        resp->stream_release(resp->stream_state);
    resp->stream_read = NULL;
    resp->stream_release = NULL;
    resp->stream_state = NULL;
}

int bl_http_response_body_stream(bl_http_response *resp, uint64_t size, bl_http_body_reader_fn read,
                                 void (*release)(void *state), void *state, const char *content_type)
{
    char *ct = NULL;
    if (!read || (content_type && (!text_is_clean(content_type) || !(ct = strdup(content_type))))) {
        if (release)
            release(state);
        return -1;
    }
    stream_drop(resp);
    free(resp->body);
    free(resp->content_type);
    resp->body = NULL;
    resp->body_len = 0;
    resp->content_type = ct;
    resp->stream_read = read;
    resp->stream_release = release;
    resp->stream_state = state;
    resp->stream_size = size;
    return 0;
}

static ssize_t stream_body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream_body *b = cls;
    ssize_t n = b->read(b->state, pos, buf, max);
    if (n > 0)
        return n;
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_body_free(void *cls)
{
    stream_body *b = cls;
    if (b->release)
        b->release(b->state);
    free(b);
}

/* Reads of 32 KiB keep a download's memory to one buffer per connection. */
#define STREAM_BLOCK (32 * 1024)

struct MHD_Response *bl_http_response_from_stream(bl_http_response *resp)
{
    stream_body *b = malloc(sizeof *b);
    if (!b) {
        stream_drop(resp);
        return NULL;
    }
    *b = (stream_body){.read = resp->stream_read, .release = resp->stream_release, .state = resp->stream_state};
    resp->stream_read = NULL; /* MHD owns the stream from here */
    resp->stream_release = NULL;
    resp->stream_state = NULL;
    uint64_t size = resp->stream_size == BL_HTTP_SIZE_UNKNOWN ? MHD_SIZE_UNKNOWN : resp->stream_size;
    struct MHD_Response *r = MHD_create_response_from_callback(size, STREAM_BLOCK, stream_body_read, b,
                                                               stream_body_free);
    if (!r)
        stream_body_free(b);
    return r;
}

void bl_http_response_clear(bl_http_response *resp)
{
    stream_drop(resp);
    for (size_t i = 0; i < resp->header_count; i++) {
        free(resp->header_names[i]);
        free(resp->header_values[i]);
    }
    free(resp->content_type);
    free(resp->body);
    const bl_http_request *req = resp->req;
    memset(resp, 0, sizeof *resp);
    resp->req = req;
    resp->status = 200;
}
