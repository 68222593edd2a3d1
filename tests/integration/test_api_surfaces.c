/* The API's surfaces: routes of the field-service surface are mounted at a
 * configurable prefix, and every error on it -- the shared checks, a
 * handler's, the core server's 404 -- comes in the SmartLeakPro document's
 * shape, while /v1 keeps the Powalyze one. */
#include "api/server.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static bl_test_api api;
static bl_api_server *mounted; /* a second server, field-service surface at /fs/api */

static int echo(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    json_t *out = json_pack("{s:s, s:b}", "org", req->auth->org_id, "field_service",
                            bl_api_request_surface(req) == BL_API_SURFACE_FIELD_SERVICE);
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

static int refuse_two_fields(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    json_t *fields = json_pack("{s:s, s:[s,s]}", "email", "Email invalide", "nom", "requis", "trop court");
    return bl_api_fail(req->http, resp, 422, NULL, "2 champs invalides", fields);
}

static const bl_api_route attendance_routes[] = {
    {"GET", "/echo", BL_API_BY_METHOD, echo},
    {"POST", "/refuse", BL_API_BY_METHOD, refuse_two_fields},
};

static const bl_api_route field_service_routes[] = {
    {"GET", "/echo", BL_API_BY_METHOD, echo},
    {"POST", "/refuse", BL_API_BY_METHOD, refuse_two_fields},
};

static int mount(void)
{
    bl_err err = {0};
    bl_api_config cfg = {.jwt_secret = BL_TEST_API_JWT_SECRET, .field_service_prefix = "/fs/api",
                         .attendance_prefix = "/ax"};
    if (!(mounted = bl_api_server_create(&cfg, api.pool, &err)) ||
        bl_api_server_surface_routes(mounted, BL_API_SURFACE_FIELD_SERVICE, field_service_routes, 2, NULL, &err) !=
            0 ||
        bl_api_server_surface_routes(mounted, BL_API_SURFACE_ATTENDANCE, attendance_routes, 2, NULL, &err) != 0 ||
        bl_api_server_start(mounted, &err) != 0) {
        fprintf(stderr, "  mount: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static long call(const char *method, const char *path, const char *token, const char *body, bl_test_reply *r)
{
    return bl_test_http_call(bl_api_server_port(mounted), method, path, token, NULL, body, r);
}

/* {"detail","error_code","field_errors":{},"request_id"} with code. */
static void check_field_service_error(const bl_test_reply *r, long status, const char *code)
{
    CHECK_EQ_INT(r->status, status);
    REQUIRE(r->json != NULL);
    CHECK(json_is_string(json_object_get(r->json, "detail")));
    CHECK_EQ_STR(json_string_value(json_object_get(r->json, "error_code")), code);
    CHECK(json_is_object(json_object_get(r->json, "field_errors")));
    CHECK(json_is_string(json_object_get(r->json, "request_id")));
    CHECK(json_object_get(r->json, "error") == NULL);
}

static void shared_checks_answer_in_the_field_service_shape(void)
{
    bl_test_reply r;
    call("GET", "/fs/api/echo", NULL, NULL, &r);
    check_field_service_error(&r, 401, "AUTHENTICATION_ERROR");
    bl_test_reply_clear(&r);

    call("GET", "/fs/api/echo", "bl_not_a_key", NULL, &r);
    check_field_service_error(&r, 401, "AUTHENTICATION_ERROR");
    bl_test_reply_clear(&r);

    call("POST", "/fs/api/refuse", api.write_token, "{\"nom\":", &r);
    check_field_service_error(&r, 400, "VALIDATION_ERROR");
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "reason")), "malformed_json");
    bl_test_reply_clear(&r);

    call("GET", "/fs/api/echo", api.write_token, NULL, &r);
    CHECK_EQ_INT(r.status, 200);
    CHECK(json_is_true(json_object_get(r.json, "field_service")));
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "org")), api.org);
    bl_test_reply_clear(&r);
}

static void every_invalid_field_is_listed_as_an_array(void)
{
    bl_test_reply r;
    call("POST", "/fs/api/refuse", api.write_token, "{}", &r);
    check_field_service_error(&r, 422, "VALIDATION_ERROR");
    json_t *fields = json_object_get(r.json, "field_errors");
    CHECK_EQ_INT(json_object_size(fields), 2);
    CHECK_EQ_INT(json_array_size(json_object_get(fields, "email")), 1);
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(fields, "email"), 0)), "Email invalide");
    CHECK_EQ_INT(json_array_size(json_object_get(fields, "nom")), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "detail")), "2 champs invalides");
    bl_test_reply_clear(&r);
}

static void unrouted_paths_take_the_shape_of_their_prefix(void)
{
    bl_test_reply r;
    call("GET", "/fs/api/nothing-here", api.write_token, NULL, &r);
    check_field_service_error(&r, 404, "NOT_FOUND");
    bl_test_reply_clear(&r);

    call("DELETE", "/fs/api/echo", api.admin_token, NULL, &r);
    CHECK(r.status == 404 || r.status == 405);
    CHECK(json_is_string(json_object_get(r.json, "error_code")));
    bl_test_reply_clear(&r);

    /* a path that merely starts with the prefix's letters is not under it */
    call("GET", "/fs/apix", api.write_token, NULL, &r);
    CHECK_EQ_INT(r.status, 404);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "not_found");
    CHECK(json_object_get(r.json, "error_code") == NULL);
    bl_test_reply_clear(&r);

    call("GET", "/v1/nothing-here", api.write_token, NULL, &r);
    CHECK_EQ_INT(r.status, 404);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "not_found");
    bl_test_reply_clear(&r);
}

static void v1_errors_keep_the_powalyze_shape(void)
{
    bl_test_reply r;
    bl_test_api_call(&api, "GET", "/v1/api-keys", NULL, NULL, NULL, &r);
    CHECK_EQ_INT(r.status, 401);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "unauthorized");
    CHECK(json_object_get(r.json, "detail") == NULL);
    bl_test_reply_clear(&r);
}

/* {"success":false,"error":{"code","message","request_id","details"?}}. */
static void attendance_errors_take_the_integrations_document_shape(void)
{
    bl_test_reply r;
    call("GET", "/ax/echo", NULL, NULL, &r);
    CHECK_EQ_INT(r.status, 401);
    CHECK(json_is_false(json_object_get(r.json, "success")));
    json_t *e = json_object_get(r.json, "error");
    CHECK_EQ_STR(json_string_value(json_object_get(e, "code")), "INVALID_CREDENTIALS");
    CHECK(json_is_string(json_object_get(e, "message")));
    CHECK(json_is_string(json_object_get(e, "request_id")));
    bl_test_reply_clear(&r);

    call("GET", "/ax/echo", api.write_token, NULL, &r);
    CHECK_EQ_INT(r.status, 200);
    bl_test_reply_clear(&r);

    call("POST", "/ax/refuse", api.write_token, "{\"nom\":1}", &r);
    CHECK_EQ_INT(r.status, 422);
    e = json_object_get(r.json, "error");
    CHECK_EQ_STR(json_string_value(json_object_get(e, "code")), "VALIDATION_ERROR");
    CHECK(json_is_object(json_object_get(e, "details")));
    CHECK(json_object_get(json_object_get(e, "details"), "email") != NULL);
    bl_test_reply_clear(&r);

    /* the shared body check's finer word stays beside the document's code */
    call("POST", "/ax/refuse", api.write_token, "{not json", &r);
    CHECK_EQ_INT(r.status, 400);
    e = json_object_get(r.json, "error");
    CHECK_EQ_STR(json_string_value(json_object_get(e, "code")), "VALIDATION_ERROR");
    CHECK(json_is_string(json_object_get(e, "reason")));
    bl_test_reply_clear(&r);

    call("GET", "/ax/nothing-here", api.write_token, NULL, &r);
    CHECK_EQ_INT(r.status, 404);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")), "NOT_FOUND");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_api_server_surface_of(mounted, "/ax/integrations"), BL_API_SURFACE_ATTENDANCE);
    CHECK_EQ_INT(bl_api_server_surface_of(mounted, "/fs/api/clients/"), BL_API_SURFACE_FIELD_SERVICE);
}

static void the_default_prefix_is_api_and_bad_prefixes_are_refused(void)
{
    CHECK_EQ_STR(bl_api_server_surface_prefix(api.server, BL_API_SURFACE_FIELD_SERVICE), "/api");
    CHECK_EQ_STR(bl_api_server_surface_prefix(api.server, BL_API_SURFACE_V1), "/v1");
    CHECK_EQ_INT(bl_api_server_surface_of(api.server, "/api/clients/"), BL_API_SURFACE_FIELD_SERVICE);
    CHECK_EQ_INT(bl_api_server_surface_of(api.server, "/api"), BL_API_SURFACE_FIELD_SERVICE);
    CHECK_EQ_INT(bl_api_server_surface_of(api.server, "/apis"), BL_API_SURFACE_V1);
    CHECK_EQ_INT(bl_api_server_surface_of(mounted, "/api/clients/"), BL_API_SURFACE_V1);
    CHECK_EQ_STR(bl_api_server_surface_prefix(api.server, BL_API_SURFACE_ATTENDANCE), "/attendance/api");
    CHECK_EQ_INT(bl_api_server_surface_of(api.server, "/attendance/api/integrations"), BL_API_SURFACE_ATTENDANCE);

    const char *bad[] = {"api", "/", "/api/", "/v1", "/v1/api", "/a b", "//api", "/api?x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bl_err err = {0};
        bl_api_config cfg = {.field_service_prefix = bad[i]};
        bl_api_server *s = bl_api_server_create(&cfg, api.pool, &err);
        CHECK(s == NULL);
        CHECK(strstr(err.msg, "field-service prefix") != NULL);
        bl_api_server_free(s);
    }
    /* each path belongs to one surface: a prefix may not hold the other */
    const char *pairs[][2] = {{"/api", "/api"}, {"/api", "/api/attendance"}, {"/x/api", "/x"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        bl_err err = {0};
        bl_api_config cfg = {.field_service_prefix = pairs[i][0], .attendance_prefix = pairs[i][1]};
        bl_api_server *s = bl_api_server_create(&cfg, api.pool, &err);
        CHECK(s == NULL);
        CHECK(strstr(err.msg, "overlap") != NULL);
        bl_api_server_free(s);
    }
    bl_err err = {0};
    bl_api_config swapped = {.field_service_prefix = "/fieldservice/api", .attendance_prefix = "/api"};
    bl_api_server *s = bl_api_server_create(&swapped, api.pool, &err);
    CHECK(s != NULL);
    if (s)
        CHECK_EQ_INT(bl_api_server_surface_of(s, "/api/integrations"), BL_API_SURFACE_ATTENDANCE);
    bl_api_server_free(s);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_api_start(&api, 0) == 0 && mount() == 0) {
        BL_RUN(shared_checks_answer_in_the_field_service_shape);
        BL_RUN(every_invalid_field_is_listed_as_an_array);
        BL_RUN(unrouted_paths_take_the_shape_of_their_prefix);
        BL_RUN(v1_errors_keep_the_powalyze_shape);
        BL_RUN(attendance_errors_take_the_integrations_document_shape);
        BL_RUN(the_default_prefix_is_api_and_bad_prefixes_are_refused);
    } else {
        bl_test_failures++;
    }
    bl_api_server_free(mounted);
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return bl_test_summary();
}
