/* /v1/workflows: create, read, list, replace (every save kept as a
 * version), delete; a definition with problems refused whole with 422
 * naming each (a reference to no step, an unreachable step, a cycle without
 * a delay, a failing transformation test case, what is not built); admin
 * only; executions of another workflow or organization not found. */
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static bl_test_api t;

/* A transformation step "t" whose one test case passes, then "d", a delay. */
#define STEPS_OK                                                                                                \
    "[{\"id\":\"t\",\"type\":\"transformation\",\"onSuccess\":\"d\",\"config\":{\"id\":\"t\",\"type\":\"map\","   \
    "\"rules\":[{\"operation\":\"set\",\"source\":\"$.input.data.severity\",\"target\":\"$.severity\"}],"        \
    "\"testCases\":[{\"name\":\"copies\",\"input\":{\"input\":{\"data\":{\"severity\":\"HIGH\"}}},"              \
    "\"expectedOutput\":{\"severity\":\"HIGH\"}}]}},"                                                            \
    "{\"id\":\"d\",\"type\":\"delay\",\"config\":{\"duration\":1000}}]"

#define WF(name, steps) \
    "{\"name\":\"" name "\",\"trigger\":{\"type\":\"event\",\"config\":{\"eventType\":\"risk.*\"}},\"steps\":" steps "}"

static long v1(const char *method, const char *path, const char *token, const char *body, bl_test_reply *r)
{
    return bl_test_api_call(&t, method, path, token, NULL, body, r);
}

/* The messages of field in a 422's field_errors, joined ("" when none). */
static void problems_of(const bl_test_reply *r, const char *field, char *out, size_t len)
{
    out[0] = '\0';
    const json_t *fe = json_object_get(json_object_get(r->json, "error"), "field_errors");
    if (!fe)
        fe = json_object_get(r->json, "field_errors");
    const json_t *list = json_object_get(fe, field);
    size_t i, o = 0;
    const json_t *m;
    json_array_foreach(list, i, m) o += (size_t)snprintf(out + o, o < len ? len - o : 0, "%s;",
                                                        json_string_value(m) ? json_string_value(m) : "");
}

static void workflow_is_created_read_listed_versioned_and_deleted(void)
{
    bl_test_reply r;
    REQUIRE(v1("POST", "/v1/workflows", t.admin_token, WF("escalations", STEPS_OK), &r) == 201);
    char id[64], path[160];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(r.json, "id")));
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "version")), "1.0.0");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r.json, "trigger"), "type")), "event");
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/workflows/%s", id);
    CHECK_EQ_INT(v1("GET", path, t.admin_token, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "steps")), 2);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("GET", "/v1/workflows", t.admin_token, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")), 1);
    bl_test_reply_clear(&r);
    /* a replace is the next patch; an explicit version must be above */
    CHECK_EQ_INT(v1("PUT", path, t.admin_token, WF("escalations v2", STEPS_OK), &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "version")), "1.0.1");
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "name")), "escalations v2");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("PUT", path, t.admin_token,
                    "{\"name\":\"old\",\"version\":\"0.9.0\",\"trigger\":{\"type\":\"event\",\"config\":"
                    "{\"eventType\":\"risk.*\"}},\"steps\":" STEPS_OK "}",
                    &r),
                 422);
    bl_test_reply_clear(&r);
    char vpath[200];
    snprintf(vpath, sizeof vpath, "%s/versions", path);
    CHECK_EQ_INT(v1("GET", vpath, t.admin_token, NULL, &r), 200);
    json_t *data = json_object_get(r.json, "data");
    CHECK_EQ_INT(json_array_size(data), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(data, 0), "version")), "1.0.1");
    CHECK(json_is_true(json_object_get(json_array_get(data, 0), "current")));
    bl_test_reply_clear(&r);
    /* the other organization and a write key see nothing */
    CHECK_EQ_INT(v1("GET", path, t.other_token, NULL, &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("GET", path, t.write_token, NULL, &r), 403);
    bl_test_reply_clear(&r);
    char epath[240];
    snprintf(epath, sizeof epath, "%s/executions", path);
    CHECK_EQ_INT(v1("GET", epath, t.admin_token, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 0);
    bl_test_reply_clear(&r);
    snprintf(epath, sizeof epath, "%s/executions/00000000-0000-4000-8000-000000000000/cancel", path);
    CHECK_EQ_INT(v1("POST", epath, t.admin_token, NULL, &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("DELETE", path, t.admin_token, NULL, &r), 204);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("GET", path, t.admin_token, NULL, &r), 404);
    bl_test_reply_clear(&r);
}

static void definition_with_problems_is_refused_whole_naming_each(void)
{
    bl_test_reply r;
    /* a: onSuccess to a missing step; b: unreachable; c <-> e: a cycle without a delay;
     * t: a failing test case; p: parallel; the trigger a schedule without its cron */
    const char *body =
        "{\"name\":\"broken\",\"trigger\":{\"type\":\"schedule\",\"config\":{}},\"steps\":["
        "{\"id\":\"a\",\"type\":\"condition\",\"onSuccess\":\"nowhere\",\"config\":{\"expression\":\"true\","
        "\"onTrue\":\"c\",\"onFalse\":\"t\"}},"
        "{\"id\":\"b\",\"type\":\"delay\",\"config\":{\"duration\":10}},"
        "{\"id\":\"c\",\"type\":\"condition\",\"config\":{\"expression\":\"true\",\"onTrue\":\"e\"}},"
        "{\"id\":\"e\",\"type\":\"condition\",\"config\":{\"expression\":\"true\",\"onTrue\":\"c\"}},"
        "{\"id\":\"t\",\"type\":\"transformation\",\"config\":{\"type\":\"map\",\"rules\":[{\"operation\":\"set\","
        "\"source\":\"1\",\"target\":\"$.one\"}],\"testCases\":[{\"name\":\"wrong\",\"input\":{},"
        "\"expectedOutput\":{\"one\":2}}]}},"
        "{\"id\":\"p\",\"type\":\"parallel\",\"config\":{}}]}";
    CHECK_EQ_INT(v1("POST", "/v1/workflows", t.admin_token, body, &r), 422);
    char m[1024];
    problems_of(&r, "trigger.config.cron", m, sizeof m);
    CHECK(strstr(m, "required") != NULL);
    problems_of(&r, "steps[5].type", m, sizeof m);
    CHECK(strstr(m, "parallel") != NULL);
    bl_test_reply_clear(&r);
    /* the same without what is not built: the graph and the test case are named */
    body = "{\"name\":\"broken\",\"trigger\":{\"type\":\"event\",\"config\":{\"eventType\":\"risk.*\"}},\"steps\":["
           "{\"id\":\"a\",\"type\":\"condition\",\"onSuccess\":\"nowhere\",\"config\":{\"expression\":\"true\","
           "\"onTrue\":\"c\",\"onFalse\":\"t\"}},"
           "{\"id\":\"b\",\"type\":\"delay\",\"config\":{\"duration\":10}},"
           "{\"id\":\"c\",\"type\":\"condition\",\"config\":{\"expression\":\"true\",\"onTrue\":\"e\"}},"
           "{\"id\":\"e\",\"type\":\"condition\",\"config\":{\"expression\":\"true\",\"onTrue\":\"c\"}},"
           "{\"id\":\"t\",\"type\":\"transformation\",\"config\":{\"type\":\"map\",\"rules\":[{\"operation\":"
           "\"set\",\"source\":\"1\",\"target\":\"$.one\"}],\"testCases\":[{\"name\":\"wrong\",\"input\":{},"
           "\"expectedOutput\":{\"one\":2}}]}}]}";
    CHECK_EQ_INT(v1("POST", "/v1/workflows", t.admin_token, body, &r), 422);
    problems_of(&r, "steps[0].onSuccess", m, sizeof m);
    CHECK(strstr(m, "no step has the id \"nowhere\"") != NULL);
    problems_of(&r, "steps[4].config.testCases", m, sizeof m);
    CHECK(strstr(m, "test case \"wrong\" failed") != NULL);
    bl_test_reply_clear(&r);
    /* the references fixed: unreachable b and the c/e cycle remain */
    body = "{\"name\":\"broken\",\"trigger\":{\"type\":\"event\",\"config\":{\"eventType\":\"risk.*\"}},\"steps\":["
           "{\"id\":\"a\",\"type\":\"condition\",\"config\":{\"expression\":\"true\",\"onTrue\":\"c\"}},"
           "{\"id\":\"b\",\"type\":\"delay\",\"config\":{\"duration\":10}},"
           "{\"id\":\"c\",\"type\":\"condition\",\"config\":{\"expression\":\"true\",\"onTrue\":\"e\"}},"
           "{\"id\":\"e\",\"type\":\"condition\",\"config\":{\"expression\":\"true\",\"onTrue\":\"c\"}}]}";
    CHECK_EQ_INT(v1("POST", "/v1/workflows", t.admin_token, body, &r), 422);
    problems_of(&r, "steps[1].id", m, sizeof m);
    CHECK(strstr(m, "unreachable") != NULL);
    CHECK(strstr(r.body, "cycle without a delay") != NULL);
    bl_test_reply_clear(&r);
    /* nothing was saved */
    CHECK_EQ_INT(v1("GET", "/v1/workflows", t.admin_token, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")), 0);
    bl_test_reply_clear(&r);
}

static void cycle_through_a_delay_is_accepted(void)
{
    bl_test_reply r;
    const char *body =
        "{\"name\":\"poll\",\"trigger\":{\"type\":\"event\",\"config\":{\"eventType\":\"risk.escalated\","
        "\"conditions\":[{\"field\":\"data.severity\",\"operator\":\"equals\",\"value\":\"CRITICAL\"}]}},"
        "\"steps\":[{\"id\":\"check\",\"type\":\"condition\",\"config\":{\"expression\":\"$.input.data.impact > 50\","
        "\"onFalse\":\"wait\"}},{\"id\":\"wait\",\"type\":\"delay\",\"onSuccess\":\"check\",\"config\":"
        "{\"duration\":60000}}]}";
    CHECK_EQ_INT(v1("POST", "/v1/workflows", t.admin_token, body, &r), 201);
    char path[160];
    snprintf(path, sizeof path, "/v1/workflows/%s", json_string_value(json_object_get(r.json, "id")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(v1("DELETE", path, t.admin_token, NULL, &r), 204);
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    if (bl_test_api_start(&t, 0) == 0) {
        BL_RUN(workflow_is_created_read_listed_versioned_and_deleted);
        BL_RUN(definition_with_problems_is_refused_whole_naming_each);
        BL_RUN(cycle_through_a_delay_is_accepted);
    } else {
        bl_test_failures++;
    }
    bl_test_api_stop(&t);
    curl_global_cleanup();
    return bl_test_summary();
}
