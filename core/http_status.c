#include "core/http_status.h"

#include <stddef.h>

typedef struct status_row {
    int status;
    const char *v1;            /* the /v1 API */
    const char *field_service; /* the field-service /api surface */
    const char *attendance;    /* the Attendance-X surface */
} status_row;

static const status_row rows[] = {
    {400, "bad_request", "VALIDATION_ERROR", "VALIDATION_ERROR"},
    {401, "unauthorized", "AUTHENTICATION_ERROR", "INVALID_CREDENTIALS"},
    {403, "forbidden", "AUTHORIZATION_ERROR", "PERMISSION_DENIED"},
    {404, "not_found", "NOT_FOUND", "NOT_FOUND"},
    {405, "method_not_allowed", "NOT_FOUND", "METHOD_NOT_ALLOWED"},
    {409, "conflict", "VALIDATION_ERROR", "CONFLICT"},
    {413, "payload_too_large", "VALIDATION_ERROR", "PAYLOAD_TOO_LARGE"},
    {415, "unsupported_media_type", "VALIDATION_ERROR", "UNSUPPORTED_MEDIA_TYPE"},
    {422, "validation_failed", "VALIDATION_ERROR", "VALIDATION_ERROR"},
    {429, "rate_limit_exceeded", "RATE_LIMIT_EXCEEDED", "RATE_LIMIT_EXCEEDED"},
    {431, "headers_too_large", "VALIDATION_ERROR", "HEADERS_TOO_LARGE"},
    {500, "internal_error", "INTERNAL_ERROR", "INTERNAL_ERROR"},
    {503, "unavailable", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE"},
};

const char *bl_http_status_error_code(int status, bl_http_surface surface)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].status == status)
            return surface == BL_HTTP_SURFACE_FIELD_SERVICE ? rows[i].field_service
                   : surface == BL_HTTP_SURFACE_ATTENDANCE  ? rows[i].attendance
                                                            : rows[i].v1;
    if (surface != BL_HTTP_SURFACE_V1)
        return status >= 500 ? "INTERNAL_ERROR" : "VALIDATION_ERROR";
    return status >= 500 ? "internal_error" : "error";
}
