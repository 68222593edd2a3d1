/* The one error shape of the API (see api/server.h), its code named by
 * core/http_status.h. */
#include "api/server.h"

#include "core/http_status.h"

#include <string.h>

json_t *bl_api_error_body(int status, const char *code, const char *message,
                          const char *request_id, json_t *field_errors)
{
    if (!code)
        code = bl_http_status_error_code(status, BL_HTTP_SURFACE_V1);
    json_t *e = json_pack("{s:s, s:s, s:s}", "code", code, "message", message ? message : "",
                          "request_id", request_id ? request_id : "");
    if (e && field_errors)
        json_object_set(e, "field_errors", field_errors);
    json_decref(field_errors);
    return e ? json_pack("{s:o}", "error", e) : NULL;
}

/* STAND-IN for the lead's surface contract: the field-service shape. */
static json_t *fs_error_body(int status, const char *code, const char *message, const char *request_id,
                             json_t *field_errors)
{
    json_t *lists = json_object();
    const char *field;
    json_t *m;
    json_object_foreach(field_errors, field, m)
        json_object_set_new(lists, field, json_is_array(m) ? json_incref(m) : json_pack("[O]", m));
    json_decref(field_errors);
    return json_pack("{s:s, s:s, s:o, s:s}", "detail", message ? message : "", "error_code",
                     code ? code : bl_http_status_error_code(status, BL_HTTP_SURFACE_FIELD_SERVICE),
                     "field_errors", lists, "request_id", request_id ? request_id : "");
}

int bl_api_fail(const bl_http_request *req, bl_http_response *resp, int status, const char *code,
                const char *message, json_t *field_errors)
{
    const char *path = bl_http_request_path(req);
    json_t *body = strncmp(path, "/api/", 5) == 0
                       ? fs_error_body(status, code, message, bl_http_request_id(req), field_errors)
                       : bl_api_error_body(status, code, message, bl_http_request_id(req), field_errors);
    if (!body)
        return -1;
    int rc = bl_http_response_json(resp, status, body);
    json_decref(body);
    return rc;
}
