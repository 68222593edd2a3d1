/* The one error shape of the API (see api/server.h), its code named by
 * core/http_status.h. */
#include "api/server.h"

#include "core/http_status.h"

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

int bl_api_fail(const bl_http_request *req, bl_http_response *resp, int status, const char *code,
                const char *message, json_t *field_errors)
{
    json_t *body = bl_api_error_body(status, code, message, bl_http_request_id(req), field_errors);
    if (!body)
        return -1;
    int rc = bl_http_response_json(resp, status, body);
    json_decref(body);
    return rc;
}
