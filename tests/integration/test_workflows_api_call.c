/* `api-call` workflow triggers: a custom endpoint (api/custom) naming a
 * workflow hands each request to it, run by a real `busline workflows`
 * process: waiting, the answer is the workflow's result (200), its failure
 * a 502 WORKFLOW_ERROR, and past its wait a 202 with the execution id; not
 * waiting, a 202 at once and the execution runs. An endpoint naming a
 * workflow of another trigger answers 502 and starts nothing; one that
 * names a workflow and also has transformations of its own is refused. */
#include "core/clock.h"
#include "core/kafka_admin.h"
#include "tests/support/custom_api_fixture.h"
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"
#include "tests/support/wf_fixture.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 60000

static bl_test_custom t;
static char topic[200], group[128], log_path[256];

static pid_t start_orchestrator(void)
{
    return bl_test_wf_start(&t.api, topic, group, log_path, 2);
}

/* An api-call workflow (trigger given) with steps; its id into id. */
static long create_workflow(const char *trigger, const char *steps, char id[64])
{
    char body[4096];
    snprintf(body, sizeof body, "{\"name\":\"quote\",\"trigger\":%s,\"steps\":%s}", trigger, steps);
    bl_test_reply r;
    long st = bl_test_api_call(&t.api, "POST", "/v1/workflows", t.api.admin_token, NULL, body, &r);
    snprintf(id, 64, "%s", st == 201 ? json_string_value(json_object_get(r.json, "id")) : "");
    if (st != 201)
        fprintf(stderr, "  workflow: %ld %s\n", st, r.body);
    bl_test_reply_clear(&r);
    return st;
}

static long create_endpoint(const char *path, const char *wid, const char *wait, const char *extra)
{
    char def[2048];
    snprintf(def, sizeof def,
             "{\"name\":\"quote\",\"path\":\"%s\",\"method\":\"GET\",\"authentication\":{\"type\":\"none\"},"
             "\"workflow\":{\"id\":\"%s\",\"name\":\"quote\"%s}%s}",
             path, wid, wait, extra);
    return bl_test_custom_create(&t, def, NULL);
}

static long sql_count(const char *sql, const char *param)
{
    char n[32] = "";
    const char *p[] = {param};
    if (bl_test_sql_value(t.api.pool, sql, 1, p, n, sizeof n) != 0)
        return -1;
    return strtol(n, NULL, 10);
}

#define QUOTE_STEPS                                                                                             \
    "[{\"id\":\"price\",\"type\":\"transformation\",\"config\":{\"type\":\"map\",\"rules\":["                    \
    "{\"operation\":\"set\",\"source\":\"$.input.query.item\",\"target\":\"$.item\"},"                            \
    "{\"operation\":\"set\",\"source\":\"42\",\"target\":\"$.price\"}]}}]"
#define API_CALL "{\"type\":\"api-call\"}"

/* The code of document 002's APIError (flat: type, code, message, ...). */
static const char *error_code(const bl_test_reply *r)
{
    const char *c = json_string_value(json_object_get(r->json, "code"));
    return c ? c : "";
}

static void waiting_endpoint_answers_with_the_workflow_result(void)
{
    char wid[64];
    REQUIRE(create_workflow(API_CALL, QUOTE_STEPS, wid) == 201);
    REQUIRE(create_endpoint("/quote", wid, ",\"wait\":true,\"waitTimeout\":20000", "") == 201);
    pid_t pid = start_orchestrator();
    REQUIRE(bl_test_custom_await(&t, NULL, "/quote?item=warmup", 200));
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_custom_call(&t, NULL, "GET", "/quote?item=pump", NULL, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "status")), "completed");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r.json, "output"), "item")), "pump");
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "output"), "price")), 42);
    const char *eid = json_string_value(json_object_get(r.json, "executionId"));
    CHECK(eid && sql_count("SELECT count(*) FROM workflow_executions WHERE id::text = $1 AND trigger_id LIKE"
                           " 'api-call:%' AND input -> 'query' ->> 'item' = 'pump' AND status = 'completed'",
                           eid) == 1);
    bl_test_reply_clear(&r);
    bl_test_wf_stop(pid, SIGTERM);
    /* nothing runs it now: past its wait the answer is 202 with the running execution */
    char wid2[64];
    REQUIRE(create_workflow(API_CALL, QUOTE_STEPS, wid2) == 201);
    REQUIRE(create_endpoint("/slow-quote", wid2, ",\"wait\":true,\"waitTimeout\":300", "") == 201);
    REQUIRE(bl_test_custom_await(&t, NULL, "/slow-quote?item=valve", 202));
    CHECK_EQ_INT(bl_test_custom_call(&t, NULL, "GET", "/slow-quote?item=valve", NULL, NULL, &r), 202);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "status")), "running");
    eid = json_string_value(json_object_get(r.json, "executionId"));
    CHECK(eid && sql_count("SELECT count(*) FROM workflow_executions WHERE id::text = $1 AND status = 'running'",
                           eid) == 1);
    bl_test_reply_clear(&r);
}

static void endpoint_without_wait_answers_202_and_the_execution_runs(void)
{
    char wid[64];
    REQUIRE(create_workflow(API_CALL, QUOTE_STEPS, wid) == 201);
    REQUIRE(create_endpoint("/async-quote", wid, "", "") == 201);
    REQUIRE(bl_test_custom_await(&t, NULL, "/async-quote?item=warmup", 202));
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_custom_call(&t, NULL, "GET", "/async-quote?item=hose", NULL, NULL, &r), 202);
    char eid[64] = "";
    const char *e = json_string_value(json_object_get(r.json, "executionId"));
    snprintf(eid, sizeof eid, "%s", e ? e : "");
    bl_test_reply_clear(&r);
    REQUIRE(eid[0]);
    pid_t pid = start_orchestrator();
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    while (sql_count("SELECT count(*) FROM workflow_executions WHERE id::text = $1 AND status = 'completed'", eid) !=
               1 &&
           bl_clock_mono_ms() < deadline)
        usleep(50000);
    bl_test_wf_stop(pid, SIGTERM);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_executions WHERE id::text = $1 AND status = 'completed'"
                           " AND context -> 'steps' -> 'price' ->> 'item' = 'hose'", eid),
                 1);
}

static void failed_workflow_is_a_502_workflow_error(void)
{
    char wid[64];
    /* a service that is not there (the discard port, closed), no retry */
    REQUIRE(create_workflow(API_CALL,
                            "[{\"id\":\"call\",\"type\":\"integration\",\"timeout\":2000,\"config\":{\"id\":\"svc\","
                            "\"type\":\"http\",\"method\":\"GET\",\"endpoint\":\"http://127.0.0.1:9/nothing\"}}]",
                            wid) == 201);
    REQUIRE(create_endpoint("/broken-quote", wid, ",\"wait\":true,\"waitTimeout\":20000", "") == 201);
    pid_t pid = start_orchestrator();
    REQUIRE(bl_test_custom_await(&t, NULL, "/broken-quote", 502));
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_custom_call(&t, NULL, "GET", "/broken-quote", NULL, NULL, &r), 502);
    CHECK_EQ_STR(error_code(&r), "WORKFLOW_FAILED");
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "type")), "WORKFLOW_ERROR");
    if (strcmp(error_code(&r), "WORKFLOW_FAILED") != 0)
        fprintf(stderr, "  answer: %s\n", r.body);
    bl_test_reply_clear(&r);
    bl_test_wf_stop(pid, SIGTERM);
}

static void workflow_of_another_trigger_or_with_own_work_is_refused(void)
{
    char wid[64];
    REQUIRE(create_workflow("{\"type\":\"event\",\"config\":{\"eventType\":\"risk.*\"}}", QUOTE_STEPS, wid) == 201);
    REQUIRE(create_endpoint("/event-quote", wid, ",\"wait\":true", "") == 201);
    REQUIRE(bl_test_custom_await(&t, NULL, "/event-quote", 502));
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_custom_call(&t, NULL, "GET", "/event-quote", NULL, NULL, &r), 502);
    CHECK_EQ_STR(error_code(&r), "WORKFLOW_UNAVAILABLE");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_executions WHERE workflow_id = $1", wid), 0);
    CHECK_EQ_INT(create_endpoint("/both", wid, "",
                                 ",\"transformations\":[{\"id\":\"t1\",\"name\":\"one\",\"type\":\"map\",\"rules\":"
                                 "[{\"operation\":\"set\",\"source\":\"1\",\"target\":\"$.one\"}]}]"),
                 422);
    CHECK_EQ_INT(create_endpoint("/bad-wait", wid, ",\"waitTimeout\":60000", ""), 422);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    if (bl_test_custom_start(&t, 1, 0, 0) == 0) {
        snprintf(topic, sizeof topic, "%sevents.pmo.quotes", t.api.prefix);
        bl_test_unique_name(group, sizeof group, "wf_apicall");
        snprintf(log_path, sizeof log_path, "/tmp/%s.log", group);
        if (bl_test_wf_topic_make(topic, 1) == 0) {
            BL_RUN(waiting_endpoint_answers_with_the_workflow_result);
            BL_RUN(endpoint_without_wait_answers_202_and_the_execution_runs);
            BL_RUN(failed_workflow_is_a_502_workflow_error);
            BL_RUN(workflow_of_another_trigger_or_with_own_work_is_refused);
        } else {
            bl_test_failures++;
        }
        bl_test_wf_topic_drop(topic);
    } else {
        bl_test_failures++;
    }
    fprintf(stderr, "  orchestrator logs: %s\n", log_path);
    bl_test_custom_stop(&t);
    curl_global_cleanup();
    return bl_test_summary();
}
