/* The error shapes of the API's surfaces (see api/server.h), their codes
 * named by core/http_status.h, and which surface a path belongs to. */
#include "api/server_private.h"

#include "core/clock.h"
#include "core/http_status.h"
#include "core/time_format.h"

#include <string.h>

static bl_http_surface status_column(bl_api_surface surface)
{
    return surface == BL_API_SURFACE_FIELD_SERVICE ? BL_HTTP_SURFACE_FIELD_SERVICE
           : surface == BL_API_SURFACE_ATTENDANCE  ? BL_HTTP_SURFACE_ATTENDANCE
                                                   : BL_HTTP_SURFACE_V1;
}

/* The documents of the upper-case surfaces name their own codes; a finer
 * /v1-style word the shared checks give ("malformed_json") is kept beside
 * the document's code as the reason. Returns that reason or NULL. */
static const char *document_code(bl_api_surface surface, int status, const char **code)
{
    if (!strpbrk(*code, "abcdefghijklmnopqrstuvwxyz"))
        return NULL;
    const char *reason = *code;
    *code = bl_http_status_error_code(status, status_column(surface));
    return reason;
}

/* The SmartLeakPro document lists every message of a field in an array. */
static json_t *field_errors_as_lists(json_t *field_errors)
{
    json_t *lists = json_object();
    const char *field;
    json_t *messages;
    json_object_foreach(field_errors, field, messages)
    {
        json_t *list = json_is_array(messages) ? json_incref(messages) : json_pack("[O]", messages);
        if (!lists || !list || json_object_set_new(lists, field, list) != 0) {
            json_decref(lists);
            return NULL;
        }
    }
    return lists;
}

/* The APIErrorType of document 002 closest to a status. */
static const char *custom_error_type(int status)
{
    switch (status) {
    case 401:
        return "AUTHENTICATION_ERROR";
    case 403:
        return "AUTHORIZATION_ERROR";
    case 429:
        return "RATE_LIMIT_ERROR";
    case 502:
    case 504:
        return "INTEGRATION_ERROR";
    default:
        return status >= 500 ? "SYSTEM_ERROR" : "VALIDATION_ERROR";
    }
}

json_t *bl_api_custom_error_body(int status, const char *type, const char *code, const char *message,
                                 const char *request_id, json_t *details)
{
    char ts[40];
    bl_rfc3339_format_millis(bl_clock_wall_ms(), ts, sizeof ts);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", type ? type : custom_error_type(status), "code",
                             code ? code : bl_http_status_error_code(status, BL_HTTP_SURFACE_ATTENDANCE), "message",
                             message ? message : "", "timestamp", ts, "requestId", request_id ? request_id : "");
    if (body && details)
        json_object_set(body, "details", details);
    json_decref(details);
    return body;
}

json_t *bl_api_error_body(bl_api_surface surface, int status, const char *code, const char *message,
                          const char *request_id, json_t *field_errors)
{
    if (!code)
        code = bl_http_status_error_code(status, status_column(surface));
    if (!message)
        message = "";
    if (!request_id)
        request_id = "";
    json_t *body = NULL;
    if (surface == BL_API_SURFACE_CUSTOM) {
        /* a finer /v1-style word of the shared checks becomes the code, upper-cased */
        char upper[64];
        size_t i = 0;
        for (; code[i] && i + 1 < sizeof upper; i++)
            upper[i] = (char)(code[i] >= 'a' && code[i] <= 'z' ? code[i] - 32 : code[i]);
        upper[i] = '\0';
        return bl_api_custom_error_body(status, NULL, upper, message, request_id, field_errors);
    }
    if (surface == BL_API_SURFACE_FIELD_SERVICE) {
        const char *reason = document_code(surface, status, &code);
        json_t *lists = field_errors ? field_errors_as_lists(field_errors) : json_object();
        if (lists)
            body = json_pack("{s:s, s:s, s:o, s:s}", "detail", message, "error_code", code, "field_errors", lists,
                             "request_id", request_id);
        if (body && reason)
            json_object_set_new(body, "reason", json_string(reason));
    } else if (surface == BL_API_SURFACE_ATTENDANCE) {
        const char *reason = document_code(surface, status, &code);
        json_t *e = json_pack("{s:s, s:s, s:s}", "code", code, "message", message, "request_id", request_id);
        if (e && field_errors)
            json_object_set(e, "details", field_errors);
        if (e && reason)
            json_object_set_new(e, "reason", json_string(reason));
        body = e ? json_pack("{s:b, s:o}", "success", 0, "error", e) : NULL;
    } else {
        json_t *e = json_pack("{s:s, s:s, s:s}", "code", code, "message", message, "request_id", request_id);
        if (e && field_errors)
            json_object_set(e, "field_errors", field_errors);
        body = e ? json_pack("{s:o}", "error", e) : NULL;
    }
    json_decref(field_errors);
    return body;
}

static bool path_under(const char *path, const char *prefix)
{
    size_t n = prefix ? strlen(prefix) : 0;
    return n && strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bl_api_surface bl_api_server_surface_of(const bl_api_server *s, const char *path)
{
    for (int surface = BL_API_SURFACE_V1 + 1; surface < BL_API_SURFACE_COUNT; surface++)
        if (path_under(path, s->surface_prefix[surface]))
            return (bl_api_surface)surface;
    return BL_API_SURFACE_V1;
}

int bl_api_surface_prefixes_apart(const char *a, const char *b, bl_err *err)
{
    if (path_under(a, b) || path_under(b, a))
        return bl_err_set(err, BL_EINVAL, "api: the surface prefixes \"%s\" and \"%s\" overlap: give each its own path",
                          a, b);
    return 0;
}

static bl_api_surface surface_of_request(const bl_http_request *req)
{
    const bl_api_server *s = bl_http_request_owner(req);
    return s ? bl_api_server_surface_of(s, bl_http_request_path(req)) : BL_API_SURFACE_V1;
}

bl_api_surface bl_api_request_surface(const bl_api_request *req)
{
    return bl_api_server_surface_of(req->server, bl_http_request_path(req->http));
}

json_t *bl_api_core_error_body(int status, const char *message, const bl_http_request *req, void *ctx)
{
    (void)ctx;
    return bl_api_error_body(surface_of_request(req), status, NULL, message, bl_http_request_id(req), NULL);
}

int bl_api_fail(const bl_http_request *req, bl_http_response *resp, int status, const char *code,
                const char *message, json_t *field_errors)
{
    json_t *body = bl_api_error_body(surface_of_request(req), status, code, message, bl_http_request_id(req),
                                     field_errors);
    if (!body)
        return -1;
    int rc = bl_http_response_json(resp, status, body);
    json_decref(body);
    return rc;
}

int bl_api_surface_prefix_check(const char *prefix, const char *setting, bl_err *err)
{
    size_t n = strlen(prefix);
    if (n < 2 || prefix[0] != '/' || prefix[n - 1] == '/' || strstr(prefix, "//"))
        return bl_err_set(err, BL_EINVAL,
                          "api: %s \"%s\" must be \"/\" then path segments, without a trailing \"/\"", setting,
                          prefix);
    if (strspn(prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") != n)
        return bl_err_set(err, BL_EINVAL, "api: %s \"%s\" may hold letters, digits, \"/\", \".\", \"_\" and \"-\" only",
                          setting, prefix);
    if (strcmp(prefix, "/v1") == 0 || strncmp(prefix, "/v1/", 4) == 0)
        return bl_err_set(err, BL_EINVAL, "api: %s \"%s\" would share /v1 with the Powalyze surface", setting,
                          prefix);
    return 0;
}
