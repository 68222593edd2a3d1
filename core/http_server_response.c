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

void bl_http_response_clear(bl_http_response *resp)
{
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
