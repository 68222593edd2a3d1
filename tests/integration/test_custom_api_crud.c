/* /v1/custom-apis: create, read, list, replace, delete; every save kept as
 * a version and a rollback restoring one; a definition with problems
 * refused whole; a change served by every API replica (LISTEN/NOTIFY). */
#include "tests/support/custom_api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static bl_test_custom t;

#define DEF(name, path, extra)                                                                                 \
    "{\"name\":\"" name "\",\"path\":\"" path "\",\"method\":\"GET\",\"authentication\":{\"type\":\"none\"}" extra "}"

static long v1(const char *method, const char *path, const char *token, const char *body, bl_test_reply *r)
{
    return bl_test_api_call(&t.api, method, path, token, NULL, body, r);
}

static long count_rows(void)
{
    char n[32] = "";
    const char *p[] = {t.api.org};
    bl_test_sql_value(t.api.pool, "SELECT count(*) FROM custom_apis WHERE organization_id = $1", 1, p, n, sizeof n);
    return strtol(n, NULL, 10);
}

static bool api_error_shaped(const bl_test_reply *r, const char *type, const char *code)
{
    return json_is_string(json_object_get(r->json, "message")) &&
           json_is_string(json_object_get(r->json, "timestamp")) &&
           strcmp(json_string_value(json_object_get(r->json, "type")), type) == 0 &&
           strcmp(json_string_value(json_object_get(r->json, "code")), code) == 0 && r->request_id[0] &&
           strcmp(json_string_value(json_object_get(r->json, "requestId")), r->request_id) == 0;
}

static void endpoint_is_created_read_listed_served_and_deleted(void)
{
    char id[40], path[128], url[160];
    REQUIRE(bl_test_custom_create(&t, DEF("orders", "/orders/:id", ",\"description\":\"one order\""), id) == 201);
    bl_test_reply r;
    snprintf(path, sizeof path, "/v1/custom-apis/%s", id);
    CHECK_EQ_INT(v1("GET", path, t.api.admin_token, NULL, &r), 200);
    snprintf(url, sizeof url, "/custom/%s/orders/:id", t.slug);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "url")), url);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "version")), "1.0.0");
    CHECK(json_is_true(json_object_get(r.json, "isActive")));
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "description")), "one order");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("GET", "/v1/custom-apis", t.api.admin_token, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "data"), 0), "id")), id);
    bl_test_reply_clear(&r);
    /* served at once by the replica that saved it, with its path parameter */
    CHECK_EQ_INT(bl_test_custom_call(&t, NULL, "GET", "/orders/42", NULL, NULL, &r), 200);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_custom_call(&t, NULL, "POST", "/orders/42", NULL, NULL, &r), 405);
    bl_test_reply_clear(&r);
    /* another organization sees nothing; a write key is not enough */
    CHECK_EQ_INT(v1("GET", path, t.api.other_token, NULL, &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("GET", path, t.api.write_token, NULL, &r), 403);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("DELETE", path, t.api.admin_token, NULL, &r), 204);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("GET", path, t.api.admin_token, NULL, &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_custom_call(&t, NULL, "GET", "/orders/42", NULL, NULL, &r), 404);
    CHECK(api_error_shaped(&r, "VALIDATION_ERROR", "ENDPOINT_NOT_FOUND"));
    bl_test_reply_clear(&r);
}

static void definition_with_problems_is_refused_whole_listing_each(void)
{
    long before = count_rows();
    bl_test_reply r;
    CHECK_EQ_INT(v1("POST", "/v1/custom-apis", t.api.admin_token,
                    "{\"name\":\"broken\",\"path\":\"no-slash\",\"method\":\"FETCH\",\"authentication\":{\"type\":\"jwt\","
                    "\"roles\":[\"king\"]},\"rateLimit\":{\"enabled\":true,\"requestsPerMinute\":0,\"strategy\":\"leaky\"},"
                    "\"caching\":{\"enabled\":true,\"ttl\":30,\"strategy\":\"redis\",\"invalidationRules\":[\"no.such_event\"]},"
                    "\"workflow\":{\"name\":\"no id\"},\"version\":\"one\",\"colour\":\"red\"}",
                    &r),
                 422);
    json_t *fields = json_object_get(json_object_get(r.json, "error"), "field_errors");
    static const char *const expected[] = {"path", "method", "authentication.roles", "rateLimit.requestsPerMinute",
                                           "rateLimit.strategy", "caching.strategy", "caching.invalidationRules[0]",
                                           "workflow", "version", "colour"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        if (!json_object_get(fields, expected[i]))
            fprintf(stderr, "  no problem named %s in %s\n", expected[i], r.body);
        CHECK(json_is_array(json_object_get(fields, expected[i])));
    }
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(count_rows(), before);
    char n[16] = "";
    bl_test_sql_value(t.api.pool, "SELECT count(*) FROM custom_api_versions", 0, NULL, n, sizeof n);
    CHECK_EQ_STR(n, "0");
}

static void path_is_unique_per_organization(void)
{
    char id[40];
    REQUIRE(bl_test_custom_create(&t, DEF("things", "/things/:id", ""), id) == 201);
    bl_test_reply r;
    /* another parameter name matches the same requests: taken */
    CHECK_EQ_INT(v1("POST", "/v1/custom-apis", t.api.admin_token, DEF("again", "/things/:key", ""), &r), 409);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("POST", "/v1/custom-apis", t.api.other_token, DEF("theirs", "/things/:id", ""), &r), 201);
    bl_test_reply_clear(&r);
}

static const char *version_at(const json_t *list, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(list, "data"), i), "version"));
}

static void every_save_is_kept_and_rollback_restores_one(void)
{
    char id[40], path[128], versions[160], rollback[160];
    REQUIRE(bl_test_custom_create(&t, DEF("first", "/versioned", ""), id) == 201);
    snprintf(path, sizeof path, "/v1/custom-apis/%s", id);
    snprintf(versions, sizeof versions, "%s/versions", path);
    snprintf(rollback, sizeof rollback, "%s/rollback", path);
    bl_test_reply r;
    CHECK_EQ_INT(v1("PUT", path, t.api.admin_token, DEF("second", "/versioned", ""), &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "version")), "1.0.1");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("PUT", path, t.api.admin_token, DEF("third", "/versioned", ",\"version\":\"2.0.0\""), &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "version")), "2.0.0");
    bl_test_reply_clear(&r);
    /* a version not above the saved ones is refused, nothing changes */
    CHECK_EQ_INT(v1("PUT", path, t.api.admin_token, DEF("fourth", "/versioned", ",\"version\":\"1.5.0\""), &r), 422);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("GET", versions, t.api.admin_token, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 3);
    CHECK_EQ_STR(version_at(r.json, 0), "2.0.0");
    CHECK_EQ_STR(version_at(r.json, 1), "1.0.1");
    CHECK_EQ_STR(version_at(r.json, 2), "1.0.0");
    CHECK(json_is_true(json_object_get(json_array_get(json_object_get(r.json, "data"), 0), "current")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("POST", rollback, t.api.admin_token, "{\"version\":\"1.0.0\"}", &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "name")), "first");
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "version")), "1.0.0");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("GET", path, t.api.admin_token, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "name")), "first");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("POST", rollback, t.api.admin_token, "{\"version\":\"9.9.9\"}", &r), 404);
    bl_test_reply_clear(&r);
    /* the next save goes above every saved version */
    CHECK_EQ_INT(v1("PUT", path, t.api.admin_token, DEF("fifth", "/versioned", ""), &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "version")), "2.0.1");
    bl_test_reply_clear(&r);
}

static void change_is_served_by_every_replica(void)
{
    char id[40], path[128];
    REQUIRE(bl_test_custom_create(&t, DEF("shared", "/shared", ""), id) == 201);
    CHECK(bl_test_custom_await(&t, t.replicas[0], "/shared", 200));
    CHECK(bl_test_custom_await(&t, t.replicas[1], "/shared", 200));
    snprintf(path, sizeof path, "/v1/custom-apis/%s", id);
    bl_test_reply r;
    CHECK_EQ_INT(v1("PUT", path, t.api.admin_token, DEF("shared", "/moved", ""), &r), 200);
    bl_test_reply_clear(&r);
    CHECK(bl_test_custom_await(&t, t.replicas[0], "/moved", 200));
    CHECK(bl_test_custom_await(&t, t.replicas[1], "/moved", 200));
    CHECK(bl_test_custom_await(&t, t.replicas[1], "/shared", 404));
    CHECK_EQ_INT(v1("PUT", path, t.api.admin_token, DEF("shared", "/moved", ",\"isActive\":false"), &r), 200);
    bl_test_reply_clear(&r);
    CHECK(bl_test_custom_await(&t, t.replicas[0], "/moved", 404));
    CHECK(bl_test_custom_await(&t, t.replicas[1], "/moved", 404));
    CHECK_EQ_INT(v1("DELETE", path, t.api.admin_token, NULL, &r), 204);
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_custom_start(&t, 0, 2, 0) == 0) {
        BL_RUN(endpoint_is_created_read_listed_served_and_deleted);
        BL_RUN(definition_with_problems_is_refused_whole_listing_each);
        BL_RUN(path_is_unique_per_organization);
        BL_RUN(every_save_is_kept_and_rollback_restores_one);
        BL_RUN(change_is_served_by_every_replica);
    } else {
        bl_test_failures++;
    }
    bl_test_custom_stop(&t);
    curl_global_cleanup();
    return bl_test_summary();
}
