/* What a handler reads of its request: method, path, parameters, query,
 * headers and body. */
#include "core/http_server_internal.h"

#include <string.h>

const char *bl_http_request_method(const bl_http_request *req) { return req->method; }
const char *bl_http_request_path(const bl_http_request *req) { return req->uri; }
const char *bl_http_request_client_addr(const bl_http_request *req) { return req->client_addr; }
const char *bl_http_request_id(const bl_http_request *req) { return req->request_id; }
void *bl_http_request_owner(const bl_http_request *req) { return req->server->cfg.owner; }

const char *bl_http_request_param(const bl_http_request *req, const char *name)
{
    return bl_http_route_param(&req->match, name);
}

const char *bl_http_request_query(const bl_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->query_count; i++)
        if (strcmp(req->query_names[i], name) == 0)
            return req->query_values[i];
    return NULL;
}

size_t bl_http_request_query_count(const bl_http_request *req)
{
    return req->query_count;
}

int bl_http_request_query_at(const bl_http_request *req, size_t i, const char **name, const char **value)
{
    if (i >= req->query_count)
        return -1;
    *name = req->query_names[i];
    *value = req->query_values[i];
    return 0;
}

const char *bl_http_request_header(const bl_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

typedef struct header_totals {
    size_t count, bytes;
} header_totals;

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    header_totals *t = cls;
    t->count++;
    t->bytes += (key ? strlen(key) : 0) + (value ? strlen(value) : 0);
    return MHD_YES;
}

size_t bl_http_request_header_count(const bl_http_request *req, size_t *bytes)
{
    header_totals t = {0};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_header, &t);
    if (bytes)
        *bytes = t.bytes;
    return t.count;
}

const char *bl_http_request_body(const bl_http_request *req, size_t *len)
{
    if (len)
        *len = req->body_len;
    return req->body ? req->body : "";
}

json_t *bl_http_request_json(const bl_http_request *req, bl_err *err)
{
    json_error_t jerr;
    json_t *j = json_loadb(req->body ? req->body : "", req->body_len, 0, &jerr);
    if (!j)
        bl_err_set(err, BL_EINVAL, "request body is not JSON: %s (line %d, column %d)",
                   jerr.text, jerr.line, jerr.column);
    return j;
}
