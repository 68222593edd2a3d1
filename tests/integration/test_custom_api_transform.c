/* What a custom endpoint answers: its map transformation over its http
 * integration's answer (a local fake service), checked against its output
 * schema (a mismatch is a 502, never the malformed body); a failing
 * transformation test case blocks the save; the test route runs them. */
#include "tests/support/custom_api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bl_test_custom t;
static bl_test_fake orders, broken;

/* A map over the request and the svc integration's answer. */
#define ORDER_MAP(expected_name)                                                                                \
    "{\"id\":\"t1\",\"name\":\"order view\",\"type\":\"map\",\"rules\":["                                         \
    "{\"operation\":\"set\",\"source\":\"$.params.id\",\"target\":\"$.id\"},"                                      \
    "{\"operation\":\"set\",\"source\":\"$.integrations.svc.customer.first\",\"target\":\"$.name\"},"              \
    "{\"operation\":\"set\",\"source\":\"$.integrations.svc.total\",\"target\":\"$.amount\"}],"                    \
    "\"testCases\":[{\"name\":\"ada's order\",\"input\":{\"params\":{\"id\":\"1\"},\"integrations\":{\"svc\":"      \
    "{\"customer\":{\"first\":\"Ada\"},\"total\":3}}},\"expectedOutput\":{\"id\":\"1\",\"name\":\"" expected_name \
    "\",\"amount\":3}}]}"

static long endpoint(const char *path, const char *service, const char *map, const char *schema, char *id)
{
    char def[4096];
    snprintf(def, sizeof def,
             "{\"name\":\"order\",\"path\":\"%s\",\"method\":\"GET\",\"authentication\":{\"type\":\"none\"},"
             "\"integrations\":[{\"id\":\"svc\",\"type\":\"http\",\"endpoint\":\"%s/orders/{params.id}\"}],"
             "\"transformations\":[%s]%s%s}",
             path, service, map, schema ? ",\"outputSchema\":" : "", schema ? schema : "");
    return bl_test_custom_create(&t, def, id);
}

static long rows(void)
{
    char n[16] = "";
    bl_test_sql_value(t.api.pool, "SELECT count(*) FROM custom_apis", 0, NULL, n, sizeof n);
    return strtol(n, NULL, 10);
}

static void failing_test_case_blocks_the_save(void)
{
    long before = rows();
    char def[4096];
    snprintf(def, sizeof def,
             "{\"name\":\"order\",\"path\":\"/wrong\",\"method\":\"GET\",\"authentication\":{\"type\":\"none\"},"
             "\"transformations\":[%s]}",
             ORDER_MAP("Grace"));
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&t.api, "POST", "/v1/custom-apis", t.api.admin_token, NULL, def, &r), 422);
    json_t *problem = json_object_get(json_object_get(json_object_get(r.json, "error"), "field_errors"),
                                      "transformations[0].testCases[0]");
    CHECK(json_is_array(problem));
    CHECK(strstr(json_string_value(json_array_get(problem, 0)), "ada's order") != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(rows(), before);
    /* and a schema that does not compile is named too */
    CHECK_EQ_INT(endpoint("/bad-schema", orders.url, ORDER_MAP("Ada"), "{\"type\":\"objekt\"}", NULL), 422);
    CHECK_EQ_INT(rows(), before);
}

static void map_of_an_http_integration_answers_end_to_end(void)
{
    REQUIRE(endpoint("/orders/:id", orders.url, ORDER_MAP("Ada"),
                     "{\"type\":\"object\",\"required\":[\"id\",\"name\",\"amount\"],\"properties\":{\"amount\":"
                     "{\"type\":\"number\"}}}",
                     NULL) == 201);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_custom_call(&t, NULL, "GET", "/orders/7", NULL, NULL, &r), 200);
    CHECK_EQ_STR(orders.last_path, "/orders/7");
    json_t *want = json_loads("{\"id\":\"7\",\"name\":\"Ada\",\"amount\":42}", 0, NULL);
    CHECK(json_equal(r.json, want));
    if (!json_equal(r.json, want))
        fprintf(stderr, "  answer: %s\n", r.body);
    json_decref(want);
    bl_test_reply_clear(&r);
}

static void answer_not_matching_the_output_schema_is_a_502(void)
{
    REQUIRE(endpoint("/strict/:id", orders.url, ORDER_MAP("Ada"),
                     "{\"type\":\"object\",\"required\":[\"amount\"],\"properties\":{\"amount\":{\"type\":\"string\"}}}",
                     NULL) == 201);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_custom_call(&t, NULL, "GET", "/strict/7", NULL, NULL, &r), 502);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "type")), "TRANSFORMATION_ERROR");
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "code")), "OUTPUT_SCHEMA_MISMATCH");
    CHECK(json_array_size(json_object_get(json_object_get(r.json, "details"), "problems")) > 0);
    CHECK(strstr(r.body, "Ada") == NULL); /* nothing of the malformed answer */
    bl_test_reply_clear(&r);
}

static void failing_integration_is_a_502(void)
{
    REQUIRE(endpoint("/down/:id", broken.url, ORDER_MAP("Ada"), NULL, NULL) == 201);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_custom_call(&t, NULL, "GET", "/down/7", NULL, NULL, &r), 502);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "type")), "INTEGRATION_ERROR");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r.json, "details"), "integration")), "svc");
    bl_test_reply_clear(&r);
}

static void test_route_runs_the_test_cases(void)
{
    char id[40], path[200];
    REQUIRE(endpoint("/tested/:id", orders.url, ORDER_MAP("Ada"), NULL, id) == 201);
    snprintf(path, sizeof path, "/v1/custom-apis/%s/transformations/t1/test", id);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&t.api, "POST", path, t.api.admin_token, NULL, NULL, &r), 200);
    CHECK(json_is_true(json_object_get(r.json, "ok")));
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "passed")), 1);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&t.api, "POST", path, t.api.admin_token, NULL,
                                  "{\"testCases\":[{\"name\":\"no customer\",\"input\":{\"params\":{\"id\":\"2\"},"
                                  "\"integrations\":{\"svc\":{\"total\":1}}},\"expectedOutput\":{\"id\":\"2\","
                                  "\"name\":\"?\",\"amount\":1}}]}",
                                  &r),
                 200);
    CHECK(json_is_false(json_object_get(r.json, "ok")));
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "failed")), 1);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/custom-apis/%s/transformations/nope/test", id);
    CHECK_EQ_INT(bl_test_api_call(&t.api, "POST", path, t.api.admin_token, NULL, NULL, &r), 404);
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    if (bl_test_fake_start(&orders, 200, "{\"customer\":{\"first\":\"Ada\",\"last\":\"Lovelace\"},\"total\":42}") == 0 &&
        bl_test_fake_start(&broken, 503, "{\"error\":\"down\"}") == 0 && bl_test_custom_start(&t, 0, 0, 0) == 0) {
        BL_RUN(failing_test_case_blocks_the_save);
        BL_RUN(map_of_an_http_integration_answers_end_to_end);
        BL_RUN(answer_not_matching_the_output_schema_is_a_502);
        BL_RUN(failing_integration_is_a_502);
        BL_RUN(test_route_runs_the_test_cases);
    } else {
        bl_test_failures++;
    }
    bl_test_custom_stop(&t);
    bl_test_fake_stop(&orders);
    bl_test_fake_stop(&broken);
    curl_global_cleanup();
    return bl_test_summary();
}
