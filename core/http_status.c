#include "core/http_status.h"

#include <stddef.h>

typedef struct status_row {
    int status;
    const char *v1;            /* the /v1 API */
    const char *field_service; /* the field-service /api surface */
} status_row;

static const status_row rows[] = {
    {400, "bad_request", "VALIDATION_ERROR"},
    {401, "unauthorized", "AUTHENTICATION_ERROR"},
    {403, "forbidden", "AUTHORIZATION_ERROR"},
    {404, "not_found", "NOT_FOUND"},
    {405, "method_not_allowed", "NOT_FOUND"},
    {409, "conflict", "VALIDATION_ERROR"},
    {413, "payload_too_large", "VALIDATION_ERROR"},
    {415, "unsupported_media_type", "VALIDATION_ERROR"},
    {422, "validation_failed", "VALIDATION_ERROR"},
    {429, "rate_limit_exceeded", "RATE_LIMIT_EXCEEDED"},
    {431, "headers_too_large", "VALIDATION_ERROR"},
    {500, "internal_error", "INTERNAL_ERROR"},
    {503, "unavailable", "INTERNAL_ERROR"},
};

const char *bl_http_status_error_code(int status, bl_http_surface surface)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].status == status)
            return surface == BL_HTTP_SURFACE_FIELD_SERVICE ? rows[i].field_service : rows[i].v1;
    if (surface == BL_HTTP_SURFACE_FIELD_SERVICE)
        return status >= 500 ? "INTERNAL_ERROR" : "VALIDATION_ERROR";
    return status >= 500 ? "internal_error" : "error";
}
