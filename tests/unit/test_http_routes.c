#include "core/http_route.h"
#include "tests/support/test.h"

static int target_a, target_b, target_c, target_d;

static bl_http_router *registry_like_router(void)
{
    bl_http_router *r = bl_http_router_new();
    bl_err err = {0};
    int rc = 0;
    rc |= bl_http_router_add(r, "GET", "/subjects", &target_a, &err);
    rc |= bl_http_router_add(r, "GET", "/subjects/:subject/versions/:version", &target_b, &err);
    rc |= bl_http_router_add(r, "DELETE", "/subjects/:subject/versions/:version", &target_c, &err);
    rc |= bl_http_router_add(r, "POST", "/subjects/:subject/versions", &target_d, &err);
    CHECK_EQ_INT(rc, 0);
    return r;
}

static bl_http_route_match match; /* large: kept off the stack */

static void literal_path_matches_its_route(void)
{
    bl_http_router *r = registry_like_router();
    CHECK_EQ_INT(bl_http_router_match(r, "GET", "/subjects", &match), BL_ROUTE_MATCHED);
    CHECK(match.target == &target_a);
    CHECK_EQ_INT(match.param_count, 0);
    bl_http_router_free(r);
}

static void params_are_captured_by_name(void)
{
    bl_http_router *r = registry_like_router();
    CHECK_EQ_INT(bl_http_router_match(r, "DELETE", "/subjects/orders-value/versions/3", &match), BL_ROUTE_MATCHED);
    CHECK(match.target == &target_c);
    CHECK_EQ_STR(bl_http_route_param(&match, "subject"), "orders-value");
    CHECK_EQ_STR(bl_http_route_param(&match, "version"), "3");
    CHECK(bl_http_route_param(&match, "missing") == NULL);
    bl_http_router_free(r);
}

static void params_are_percent_decoded_and_keep_encoded_slashes(void)
{
    bl_http_router *r = registry_like_router();
    CHECK_EQ_INT(bl_http_router_match(r, "GET", "/subjects/a%2Fb%20c/versions/latest", &match), BL_ROUTE_MATCHED);
    CHECK_EQ_STR(bl_http_route_param(&match, "subject"), "a/b c");
    CHECK_EQ_STR(bl_http_route_param(&match, "version"), "latest");
    bl_http_router_free(r);
}

static void malformed_percent_encoding_is_a_bad_path(void)
{
    bl_http_router *r = registry_like_router();
    const char *bad[] = {"/subjects/a%2/versions/1", "/subjects/a%zz/versions/1", "/subjects/%",
                         "/subjects/a%00b/versions/1", "no-leading-slash"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(bl_http_router_match(r, "GET", bad[i], &match), BL_ROUTE_BAD_PATH);
        CHECK(match.problem != NULL);
    }
    bl_http_router_free(r);
}

static void unknown_path_is_not_found(void)
{
    bl_http_router *r = registry_like_router();
    CHECK_EQ_INT(bl_http_router_match(r, "GET", "/schemas", &match), BL_ROUTE_NOT_FOUND);
    CHECK_EQ_INT(bl_http_router_match(r, "GET", "/subjects/x/versions", &match), BL_ROUTE_METHOD_NOT_ALLOWED);
    CHECK_EQ_INT(bl_http_router_match(r, "GET", "/subjects/", &match), BL_ROUTE_NOT_FOUND);
    CHECK_EQ_INT(bl_http_router_match(r, "GET", "/subjects//versions/1", &match), BL_ROUTE_NOT_FOUND);
    CHECK_EQ_INT(bl_http_router_match(r, "GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r", &match), BL_ROUTE_NOT_FOUND);
    bl_http_router_free(r);
}

static void wrong_method_lists_allowed_methods_once(void)
{
    bl_http_router *r = registry_like_router();
    bl_err err = {0};
    CHECK_EQ_INT(bl_http_router_add(r, "GET", "/subjects/:s/versions/:v", &target_a, &err), 0);
    CHECK_EQ_INT(bl_http_router_match(r, "PUT", "/subjects/x/versions/2", &match), BL_ROUTE_METHOD_NOT_ALLOWED);
    CHECK_EQ_STR(match.allow, "GET, DELETE");
    CHECK(match.target == NULL);
    bl_http_router_free(r);
}

static void first_added_route_wins(void)
{
    bl_http_router *r = bl_http_router_new();
    bl_err err = {0};
    CHECK_EQ_INT(bl_http_router_add(r, "GET", "/schemas/ids/latest", &target_a, &err), 0);
    CHECK_EQ_INT(bl_http_router_add(r, "GET", "/schemas/ids/:id", &target_b, &err), 0);
    CHECK_EQ_INT(bl_http_router_match(r, "GET", "/schemas/ids/latest", &match), BL_ROUTE_MATCHED);
    CHECK(match.target == &target_a);
    CHECK_EQ_INT(bl_http_router_match(r, "GET", "/schemas/ids/7", &match), BL_ROUTE_MATCHED);
    CHECK(match.target == &target_b);
    bl_http_router_free(r);
}

static void bad_patterns_are_rejected(void)
{
    bl_http_router *r = bl_http_router_new();
    bl_err err = {0};
    CHECK_EQ_INT(bl_http_router_add(r, "GET", "subjects", &target_a, &err), -1);
    CHECK(strstr(err.msg, "must start with '/'") != NULL);
    CHECK_EQ_INT(bl_http_router_add(r, "GET", "/a/:", &target_a, &err), -1);
    CHECK_EQ_INT(bl_http_router_add(r, "get", "/a", &target_a, &err), -1);
    CHECK_EQ_INT(bl_http_router_add(r, "GET", "/:a/:b/:c/:d/:e/:f/:g/:h/:i", &target_a, &err), -1);
    CHECK_EQ_INT(bl_http_router_match(r, "GET", "/a", &match), BL_ROUTE_NOT_FOUND);
    bl_http_router_free(r);
}

static void percent_decode_handles_plus_and_bounds(void)
{
    char out[8];
    CHECK_EQ_INT(bl_http_percent_decode("a+b%41", 6, true, out, sizeof out), 4);
    CHECK_EQ_STR(out, "a bA");
    CHECK_EQ_INT(bl_http_percent_decode("a+b", 3, false, out, sizeof out), 3);
    CHECK_EQ_STR(out, "a+b");
    CHECK_EQ_INT(bl_http_percent_decode("12345678", 8, false, out, sizeof out), -1);
    CHECK_EQ_INT(bl_http_percent_decode("%4", 2, false, out, sizeof out), -1);
}

static void star_matches_one_or_more_last_segments(void)
{
    bl_http_router *r = bl_http_router_new();
    bl_err err = {0};
    CHECK_EQ_INT(bl_http_router_add(r, "GET", "/custom/:org/*", &target_a, &err), 0);
    CHECK_EQ_INT(bl_http_router_match(r, "GET", "/custom/acme/items/7", &match), BL_ROUTE_MATCHED);
    CHECK_EQ_STR(bl_http_route_param(&match, "org"), "acme");
    CHECK_EQ_INT(bl_http_router_match(r, "GET", "/custom/acme/x", &match), BL_ROUTE_MATCHED);
    CHECK_EQ_INT(bl_http_router_match(r, "GET", "/custom/acme", &match), BL_ROUTE_NOT_FOUND);
    CHECK_EQ_INT(bl_http_router_match(r, "GET", "/custom/acme/", &match), BL_ROUTE_NOT_FOUND);
    CHECK_EQ_INT(bl_http_router_match(r, "POST", "/custom/acme/x", &match), BL_ROUTE_METHOD_NOT_ALLOWED);
    CHECK_EQ_INT(bl_http_router_add(r, "GET", "/a/*/b", &target_b, &err), -1);
    bl_http_router_free(r);
}

int main(void)
{
    BL_RUN(literal_path_matches_its_route);
    BL_RUN(params_are_captured_by_name);
    BL_RUN(params_are_percent_decoded_and_keep_encoded_slashes);
    BL_RUN(malformed_percent_encoding_is_a_bad_path);
    BL_RUN(unknown_path_is_not_found);
    BL_RUN(wrong_method_lists_allowed_methods_once);
    BL_RUN(first_added_route_wins);
    BL_RUN(bad_patterns_are_rejected);
    BL_RUN(percent_decode_handles_plus_and_bounds);
    BL_RUN(star_matches_one_or_more_last_segments);
    return bl_test_summary();
}
