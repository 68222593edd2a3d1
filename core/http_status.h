/* The one table of HTTP statuses and the error code word each API surface
 * answers with them, so every server names an error the same way:
 *   - BL_HTTP_SURFACE_V1: the /v1 API (and the core servers' default error
 *     body), snake_case words; where the documented API names a code
 *     (403 "forbidden", 429 "rate_limit_exceeded") that word is used.
 *   - BL_HTTP_SURFACE_FIELD_SERVICE: the field-service /api surface, whose
 *     documentation names six codes only (VALIDATION_ERROR,
 *     AUTHENTICATION_ERROR, AUTHORIZATION_ERROR, NOT_FOUND,
 *     RATE_LIMIT_EXCEEDED, INTERNAL_ERROR): each status maps to the closest.
 *   - BL_HTTP_SURFACE_ATTENDANCE: the Attendance-X surface, whose integrations
 *     document names its codes in upper case (PERMISSION_DENIED,
 *     RATE_LIMIT_EXCEEDED, ...); the statuses it does not cover get the
 *     closest word in the same style (VALIDATION_ERROR, NOT_FOUND, ...). */
#ifndef BUSLINE_CORE_HTTP_STATUS_H
#define BUSLINE_CORE_HTTP_STATUS_H

typedef enum bl_http_surface {
    BL_HTTP_SURFACE_V1 = 0,
    BL_HTTP_SURFACE_FIELD_SERVICE,
    BL_HTTP_SURFACE_ATTENDANCE,
} bl_http_surface;

/* The error code word of status on surface: a static string, never NULL.
 * A status without a row: "internal_error"/INTERNAL_ERROR from 500 up, else
 * "error"/VALIDATION_ERROR. (upper-case surfaces) */
const char *bl_http_status_error_code(int status, bl_http_surface surface);

#endif
