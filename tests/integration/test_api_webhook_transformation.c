/* A webhook's payload transformation over /v1 (tests/support/
 * webhook_api_fixture.h, real PostgreSQL): saved, shown and removed with the
 * endpoint; a bad one refused with a 422 naming each problem (its compile
 * error, each failing test case) and nothing saved; the test-run route on a
 * sample event, on an event type's catalog example and with an unsaved
 * transformation, its run-time failure shown as the error; and
 * `busline webhooks create --transformation FILE`. */
#include "connectors/webhook/cli/cmd_webhooks.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"
#include "tests/support/webhook_api_fixture.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* a map rule: type = the event, who = data.name in capitals ("NOBODY" without one) */
#define RULE                                                                                                  \
    "{\"id\":\"t1\",\"name\":\"short\",\"type\":\"map\",\"rules\":["                                          \
    "{\"operation\":\"set\",\"source\":\"$.event\",\"target\":\"$.type\"},"                                    \
    "{\"operation\":\"set\",\"source\":\"upper(coalesce($.data.name, 'nobody'))\",\"target\":\"$.who\"}],"                        \
    "\"testCases\":[{\"name\":\"named\",\"input\":{\"event\":\"e\",\"data\":{\"name\":\"ann\"}},"              \
    "\"expectedOutput\":{\"type\":\"e\",\"who\":\"ANN\"}}]}"

#define ENDPOINT(extra)                                                                                       \
    "{\"name\":\"xf\",\"url\":\"http://127.0.0.1:9/hook\",\"event_types\":[\"risk.*\"]" extra "}"

static void create(const char *body, char id[64])
{
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_wh_call("POST", "/v1/webhooks", bl_test_wh.admin, body, &r), 201);
    snprintf(id, 64, "%s", bl_test_wh_str(r.json, "id"));
    bl_test_reply_clear(&r);
}

static void transformation_is_saved_shown_and_removed(void)
{
    char id[64], path[160];
    create(ENDPOINT(",\"transformation\":" RULE), id);
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200);
    json_t *want = json_loads(RULE, 0, NULL);
    CHECK(json_equal(json_object_get(r.json, "transformation"), want));
    bl_test_reply_clear(&r);
    /* an update of another field keeps it; null removes it */
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, "{\"timeout_ms\":2000}", &r), 200);
    CHECK(json_equal(json_object_get(r.json, "transformation"), want));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, "{\"transformation\":null}", &r), 200);
    CHECK(json_is_null(json_object_get(r.json, "transformation")));
    bl_test_reply_clear(&r);
    json_decref(want);
}

static void bad_transformation_is_refused_422_naming_each_problem(void)
{
    bl_test_reply r;
    /* a step that does not compile */
    CHECK_EQ_INT(bl_test_wh_call("POST", "/v1/webhooks", bl_test_wh.admin,
                                 ENDPOINT(",\"transformation\":{\"type\":\"map\",\"rules\":[{\"operation\":\"set\","
                                          "\"source\":\"upcase($.a)\",\"target\":\"$.b\"}]}"),
                                 &r),
                 422);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "validation_failed");
    const char *msg = json_string_value(json_object_get(bl_test_wh_field_errors(&r), "transformation"));
    CHECK(msg && strstr(msg, "rules[0]") && strstr(msg, "upcase"));
    bl_test_reply_clear(&r);
    /* two failing test cases: each is named */
    CHECK_EQ_INT(bl_test_wh_call("POST", "/v1/webhooks", bl_test_wh.admin,
                                 ENDPOINT(",\"transformation\":{\"type\":\"map\",\"rules\":[{\"operation\":\"set\","
                                          "\"source\":\"$.a\",\"target\":\"$.b\"}],\"testCases\":["
                                          "{\"name\":\"good\",\"input\":{\"a\":1},\"expectedOutput\":{\"b\":1}},"
                                          "{\"name\":\"wrong\",\"input\":{\"a\":1},\"expectedOutput\":{\"b\":2}},"
                                          "{\"name\":\"worse\",\"input\":{\"a\":3},\"expectedOutput\":{}}]}"),
                                 &r),
                 422);
    const json_t *fe = bl_test_wh_field_errors(&r);
    msg = json_string_value(json_object_get(fe, "transformation.testCases[1]"));
    CHECK(msg && strstr(msg, "\"wrong\"") && strstr(msg, "expected {\"b\":2}, got {\"b\":1}"));
    CHECK(json_string_value(json_object_get(fe, "transformation.testCases[2]")) != NULL);
    CHECK(json_object_get(fe, "transformation.testCases[0]") == NULL);
    bl_test_reply_clear(&r);
    /* not an object */
    bl_test_wh_expect_field_error(ENDPOINT(",\"transformation\":[1]"), "transformation", "TransformationRule");
    /* nothing saved: neither on create nor on update */
    char id[64], path[160], count[32];
    const char *org[] = {bl_test_wh.org_pro};
    REQUIRE(bl_test_sql_value(bl_test_wh.pool, "SELECT count(*) FROM webhook_endpoints WHERE organization_id = $1 "
                              "AND name = 'xf' AND transformation IS NULL", 1, org, count, sizeof count) == 0);
    long before = strtol(count, NULL, 10);
    create(ENDPOINT(""), id);
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin,
                                 "{\"name\":\"renamed\",\"transformation\":{\"type\":\"map\",\"rules\":[{\"operation\":"
                                 "\"set\",\"source\":\"1\",\"target\":\"$.y\"}],"
                                 "\"testCases\":[{\"name\":\"n\",\"input\":{},\"expectedOutput\":{\"x\":1}}]}}", &r),
                 422);
    CHECK(json_object_get(bl_test_wh_field_errors(&r), "transformation.testCases[0]") != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200);
    CHECK_EQ_STR(bl_test_wh_str(r.json, "name"), "xf");
    CHECK(json_is_null(json_object_get(r.json, "transformation")));
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_sql_value(bl_test_wh.pool, "SELECT count(*) FROM webhook_endpoints WHERE organization_id = $1 "
                              "AND name = 'xf' AND transformation IS NULL", 1, org, count, sizeof count) == 0);
    CHECK_EQ_INT(strtol(count, NULL, 10), before + 1);
}

static void test_route_shows_the_transformed_body_or_the_error(void)
{
    char saved[64], bare[64], path[200];
    create(ENDPOINT(",\"transformation\":" RULE), saved);
    create(ENDPOINT(""), bare);
    bl_test_reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s/transformation/test", saved);
    /* the saved transformation on a sample event */
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.admin,
                                 "{\"event\":{\"event\":\"risk.escalated\",\"data\":{\"name\":\"bob\"}}}", &r),
                 200);
    json_t *d = json_object_get(r.json, "data");
    CHECK(json_is_true(json_object_get(d, "ok")));
    CHECK_EQ_STR(bl_test_wh_str(d, "source"), "saved");
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(d, "output"), "who"), "BOB");
    CHECK_EQ_STR(bl_test_wh_str(d, "body"), "{\"type\":\"risk.escalated\",\"who\":\"BOB\"}");
    CHECK(json_is_null(json_object_get(d, "error")));
    bl_test_reply_clear(&r);
    /* an event type: its catalog example is the input */
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.admin, "{\"event_type\":\"risk.escalated\"}", &r), 200);
    d = json_object_get(r.json, "data");
    CHECK(json_is_true(json_object_get(d, "ok")));
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(d, "input"), "event"), "risk.escalated");
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(d, "output"), "type"), "risk.escalated");
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(d, "output"), "who"), "NOBODY");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.admin, "{\"event_type\":\"risk.nothing\"}", &r), 422);
    CHECK(json_object_get(bl_test_wh_field_errors(&r), "event_type") != NULL);
    bl_test_reply_clear(&r);
    /* an unsaved transformation on an endpoint without one; its run-time failure is the error */
    snprintf(path, sizeof path, "/v1/webhooks/%s/transformation/test", bare);
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.admin,
                                 "{\"event\":{\"n\":2},\"transformation\":{\"type\":\"map\",\"rules\":[{\"operation\":"
                                 "\"set\",\"source\":\"$.n * 10\",\"target\":\"$.tens\"}]}}", &r),
                 200);
    d = json_object_get(r.json, "data");
    CHECK_EQ_STR(bl_test_wh_str(d, "source"), "body");
    CHECK_EQ_STR(bl_test_wh_str(d, "body"), "{\"tens\":20}");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.admin,
                                 "{\"event\":{\"n\":\"two\"},\"transformation\":{\"type\":\"map\",\"rules\":[{"
                                 "\"operation\":\"set\",\"source\":\"$.n * 10\",\"target\":\"$.tens\"}]}}", &r),
                 200);
    d = json_object_get(r.json, "data");
    CHECK(json_is_false(json_object_get(d, "ok")));
    CHECK(json_is_null(json_object_get(d, "body")));
    const char *error = bl_test_wh_str(d, "error");
    CHECK(strstr(error, "transformation: rules[0]") && strstr(error, "needs numbers"));
    bl_test_reply_clear(&r);
    /* nothing to run, a bad unsaved one, no sample */
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.admin, "{\"event\":{}}", &r), 422);
    CHECK(json_object_get(bl_test_wh_field_errors(&r), "transformation") != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.admin,
                                 "{\"event\":{},\"transformation\":{\"type\":\"shuffle\",\"rules\":[]}}", &r),
                 422);
    CHECK(json_object_get(bl_test_wh_field_errors(&r), "transformation") != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.admin, "{\"transformation\":" RULE ",\"colour\":1}", &r),
                 422);
    CHECK(json_object_get(bl_test_wh_field_errors(&r), "event") && json_object_get(bl_test_wh_field_errors(&r), "colour"));
    bl_test_reply_clear(&r);
    /* another organization's webhook is not found */
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.other_admin, "{\"event\":{}}", &r), 404);
    bl_test_reply_clear(&r);
}

/* Runs `busline webhooks create` of an endpoint name with --transformation file. */
static int cli_create(const char *name, const char *file)
{
    char *argv[] = {"webhooks", "create", "--pg-url", bl_test_wh.pg_url, "--allow", "127.0.0.0/8", "--org",
                    bl_test_wh.org_pro, "--name", (char *)name, "--url", "http://127.0.0.1:9/cli", "--events",
                    "risk.*", "--transformation", (char *)file, NULL};
    return bl_cmd_webhooks(16, argv);
}

static long saved_with_transformation(const char *name)
{
    char count[32];
    const char *params[] = {name};
    if (bl_test_sql_value(bl_test_wh.pool, "SELECT count(*) FROM webhook_endpoints WHERE name = $1 AND "
                          "transformation->>'id' = 't1'", 1, params, count, sizeof count) != 0)
        return -1;
    return strtol(count, NULL, 10);
}

static void cli_create_reads_the_transformation_file_and_refuses_a_bad_one(void)
{
    char good[] = "/tmp/busline-xf-good-XXXXXX", bad[] = "/tmp/busline-xf-bad-XXXXXX";
    int fg = mkstemp(good), fb = mkstemp(bad);
    REQUIRE(fg >= 0 && fb >= 0);
    const char *bad_rule = "{\"id\":\"t1\",\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"1\","
                           "\"target\":\"$.a\"}],\"testCases\":[{\"name\":\"n\",\"input\":{},\"expectedOutput\":{}}]}";
    CHECK(write(fg, RULE, strlen(RULE)) == (ssize_t)strlen(RULE));
    CHECK(write(fb, bad_rule, strlen(bad_rule)) == (ssize_t)strlen(bad_rule));
    close(fg);
    close(fb);
    CHECK_EQ_INT(cli_create("cli-good", good), 0);
    CHECK_EQ_INT(saved_with_transformation("cli-good"), 1);
    CHECK(cli_create("cli-bad", bad) != 0);
    CHECK(cli_create("cli-missing", "/tmp/busline-xf-no-such-file") != 0);
    char count[32];
    REQUIRE(bl_test_sql_value(bl_test_wh.pool, "SELECT count(*) FROM webhook_endpoints WHERE name IN "
                              "('cli-bad', 'cli-missing')", 0, NULL, count, sizeof count) == 0);
    CHECK_EQ_STR(count, "0");
    unlink(good);
    unlink(bad);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_wh_setup() == 0) {
        BL_RUN(transformation_is_saved_shown_and_removed);
        BL_RUN(bad_transformation_is_refused_422_naming_each_problem);
        BL_RUN(test_route_shows_the_transformed_body_or_the_error);
        BL_RUN(cli_create_reads_the_transformation_file_and_refuses_a_bad_one);
    } else {
        bl_test_failures++;
    }
    bl_test_wh_teardown();
    curl_global_cleanup();
    return bl_test_summary();
}
