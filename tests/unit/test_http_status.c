/* The one status table: the /v1 API uses the documented codes where the API
 * documentation names one, the field-service surface its six codes. */
#include "core/http_status.h"
#include "tests/support/test.h"

static void v1_uses_the_documented_codes(void)
{
    CHECK_EQ_STR(bl_http_status_error_code(403, BL_HTTP_SURFACE_V1), "forbidden");
    CHECK_EQ_STR(bl_http_status_error_code(429, BL_HTTP_SURFACE_V1), "rate_limit_exceeded");
    CHECK_EQ_STR(bl_http_status_error_code(422, BL_HTTP_SURFACE_V1), "validation_failed");
    CHECK_EQ_STR(bl_http_status_error_code(404, BL_HTTP_SURFACE_V1), "not_found");
}

static void field_service_answers_its_six_codes(void)
{
    CHECK_EQ_STR(bl_http_status_error_code(422, BL_HTTP_SURFACE_FIELD_SERVICE), "VALIDATION_ERROR");
    CHECK_EQ_STR(bl_http_status_error_code(401, BL_HTTP_SURFACE_FIELD_SERVICE), "AUTHENTICATION_ERROR");
    CHECK_EQ_STR(bl_http_status_error_code(403, BL_HTTP_SURFACE_FIELD_SERVICE), "AUTHORIZATION_ERROR");
    CHECK_EQ_STR(bl_http_status_error_code(404, BL_HTTP_SURFACE_FIELD_SERVICE), "NOT_FOUND");
    CHECK_EQ_STR(bl_http_status_error_code(429, BL_HTTP_SURFACE_FIELD_SERVICE), "RATE_LIMIT_EXCEEDED");
    CHECK_EQ_STR(bl_http_status_error_code(503, BL_HTTP_SURFACE_FIELD_SERVICE), "INTERNAL_ERROR");
}

static void statuses_without_a_row_fall_back_by_class(void)
{
    CHECK_EQ_STR(bl_http_status_error_code(418, BL_HTTP_SURFACE_V1), "error");
    CHECK_EQ_STR(bl_http_status_error_code(502, BL_HTTP_SURFACE_V1), "internal_error");
    CHECK_EQ_STR(bl_http_status_error_code(418, BL_HTTP_SURFACE_FIELD_SERVICE), "VALIDATION_ERROR");
    CHECK_EQ_STR(bl_http_status_error_code(502, BL_HTTP_SURFACE_FIELD_SERVICE), "INTERNAL_ERROR");
}

int main(void)
{
    BL_RUN(v1_uses_the_documented_codes);
    BL_RUN(field_service_answers_its_six_codes);
    BL_RUN(statuses_without_a_row_fall_back_by_class);
    return bl_test_summary();
}
