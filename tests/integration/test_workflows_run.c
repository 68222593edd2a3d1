/* `busline workflows` as its own processes on a real Kafka and PostgreSQL:
 * events start executions (once per workflow and event id); transformation,
 * condition, delay and integration steps run in order with their state at
 * every boundary; a failed step retried per its policy, then from the API;
 * a step past its timeout takes its onError path;
 * a cancel stops an execution; a delay outlives the process that began it;
 * and a process killed with SIGKILL mid-run is taken over by another, every
 * step applied once (the outside calls counted by idempotency key at a
 * local fake service). */
#include "core/clock.h"
#include "core/kafka_admin.h"
#include "core/pg_pool.h"
#include "tests/support/api_fixture.h"
#include "tests/support/avro_event.h"
#include "tests/support/fake_service.h"
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

static bl_test_api t;
static char topic[200], group[128], log_path[256];

static pid_t start_orchestrator(void)
{
    return bl_test_wf_start(&t, topic, group, log_path, 4);
}

static int produce_event(const char *event_id, const char *title, const char *severity)
{
    json_t *env = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:n, s:s}}", "id", event_id,
        "type", "risk.escalated", "time", "2026-11-25T08:00:00.000Z", "source", "pmo-cockpit", "organization_id",
        t.org, "subject", "risk-1", "data", "risk_id", "risk-1", "project_id", "p-1", "project_name", "Apollo",
        "title", title, "description", "Main supplier filed for bankruptcy.", "previous_severity", "HIGH",
        "severity", severity, "probability", 90, "impact", 95, "mitigation", "reason", "board review");
    int rc = env ? bl_test_produce_avro_event(t.registry.base_url, "events.pmo.risk", topic,
                                              "busline.events.pmo.RiskEscalated", env)
                 : -1;
    json_decref(env);
    return rc;
}

/* Creates a workflow whose trigger takes risk.escalated events titled title. */
static int create_workflow(const char *title, const char *steps, char id[64])
{
    char body[8192];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"trigger\":{\"type\":\"event\",\"config\":{\"eventType\":\"risk.*\",\"conditions\":"
             "[{\"field\":\"data.title\",\"operator\":\"equals\",\"value\":\"%s\"}]}},\"steps\":%s}",
             title, title, steps);
    bl_test_reply r;
    long st = bl_test_api_call(&t, "POST", "/v1/workflows", t.admin_token, NULL, body, &r);
    if (st != 201)
        fprintf(stderr, "  create workflow: %ld %s\n", st, r.body);
    snprintf(id, 64, "%s", st == 201 ? json_string_value(json_object_get(r.json, "id")) : "");
    bl_test_reply_clear(&r);
    return st == 201 ? 0 : -1;
}

static long sql_count(const char *sql, const char *param)
{
    char n[32] = "";
    const char *p[] = {param};
    if (bl_test_sql_value(t.pool, sql, 1, p, n, sizeof n) != 0)
        return -1;
    return strtol(n, NULL, 10);
}

/* Waits until workflow wid has n executions in status. Returns the count seen. */
static long await_executions(const char *wid, const char *status, long n)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM workflow_executions WHERE workflow_id = $1 AND status = '%s'",
             status);
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    long seen = 0;
    while ((seen = sql_count(sql, wid)) < n && bl_clock_mono_ms() < deadline)
        usleep(50000);
    return seen;
}

/* Waits until an execution of workflow wid has begun a delay. */
static void await_waiting(const char *wid)
{
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    while (sql_count("SELECT count(*) FROM workflow_executions WHERE workflow_id = $1 AND waiting_until IS NOT NULL",
                     wid) < 1 &&
           bl_clock_mono_ms() < deadline)
        usleep(50000);
}

/* The one execution of workflow wid as the API shows it (new reference). */
static json_t *only_execution(const char *wid)
{
    char eid[64] = "", path[256];
    const char *p[] = {wid};
    if (bl_test_sql_value(t.pool, "SELECT id FROM workflow_executions WHERE workflow_id = $1", 1, p, eid,
                          sizeof eid) != 0)
        return NULL;
    snprintf(path, sizeof path, "/v1/workflows/%s/executions/%s", wid, eid);
    bl_test_reply r;
    json_t *j = bl_test_api_call(&t, "GET", path, t.admin_token, NULL, NULL, &r) == 200 ? json_incref(r.json) : NULL;
    bl_test_reply_clear(&r);
    return j;
}

static const char *step_field(const json_t *e, size_t i, const char *field)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(e, "steps"), i), field));
}

static void steps_of_each_type_run_in_order_once_per_event(void)
{
    fake_service f;
    REQUIRE(fake_service_start(&f, "{\"ok\":true}") == 0);
    char url[160], steps[4096], wid[64];
    fake_service_url(&f, "/notify", url, sizeof url);
    snprintf(steps, sizeof steps,
             "[{\"id\":\"summary\",\"type\":\"transformation\",\"onSuccess\":\"critical\",\"config\":{\"type\":\"map\","
             "\"rules\":[{\"operation\":\"set\",\"source\":\"$.input.data.title\",\"target\":\"$.title\"},"
             "{\"operation\":\"set\",\"source\":\"$.input.data.severity\",\"target\":\"$.severity\"}]}},"
             "{\"id\":\"critical\",\"type\":\"condition\",\"config\":{\"expression\":"
             "\"$.steps.summary.severity == 'CRITICAL'\",\"onTrue\":\"pause\",\"onFalse\":\"skip\"}},"
             "{\"id\":\"pause\",\"type\":\"delay\",\"onSuccess\":\"notify\",\"config\":{\"duration\":200}},"
             "{\"id\":\"notify\",\"type\":\"integration\",\"timeout\":5000,\"config\":{\"id\":\"notify\",\"type\":\"http\","
             "\"method\":\"POST\",\"endpoint\":\"%s\",\"body\":{\"title\":\"{steps.summary.title}\"}}},"
             "{\"id\":\"skip\",\"type\":\"transformation\",\"config\":{\"type\":\"map\",\"rules\":[{\"operation\":"
             "\"set\",\"source\":\"1\",\"target\":\"$.skipped\"}]}}]",
             url);
    REQUIRE(create_workflow("each step", steps, wid) == 0);
    pid_t pid = start_orchestrator();
    /* the same event twice (one execution); a low one takes the other branch */
    REQUIRE(produce_event("0b7c0c1e-0000-4000-8000-000000000001", "each step", "CRITICAL") == 0);
    REQUIRE(produce_event("0b7c0c1e-0000-4000-8000-000000000001", "each step", "CRITICAL") == 0);
    CHECK_EQ_INT(await_executions(wid, "completed", 1), 1);
    REQUIRE(produce_event("0b7c0c1e-0000-4000-8000-000000000002", "each step", "LOW") == 0);
    CHECK_EQ_INT(await_executions(wid, "completed", 2), 2);
    /* the duplicate is behind the low one on their partition (one key): read, and started nothing */
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_executions WHERE workflow_id = $1", wid), 2);
    CHECK_EQ_INT(fake_service_count(&f), 1);
    fake_hit h;
    char key[200] = "";
    char eid[64] = "";
    const char *p[] = {wid};
    bl_test_sql_value(t.pool, "SELECT id FROM workflow_executions WHERE workflow_id = $1 AND"
                      " input -> 'data' ->> 'severity' = 'CRITICAL'", 1, p, eid, sizeof eid);
    snprintf(key, sizeof key, "%s:notify:4", eid);
    if (fake_service_hit(&f, 0, &h) == 0) {
        CHECK_EQ_STR(h.idempotency_key, key);
        CHECK(h.body && strstr(h.body, "\"title\":\"each step\"") != NULL);
    }
    char path[256];
    snprintf(path, sizeof path, "/v1/workflows/%s/executions/%s", wid, eid);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&t, "GET", path, t.admin_token, NULL, NULL, &r), 200);
    static const char *const order[] = {"summary", "critical", "pause", "notify"};
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "steps")), 4);
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ_STR(step_field(r.json, i, "stepId"), order[i]);
        CHECK_EQ_STR(step_field(r.json, i, "status"), "completed");
    }
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "status")), "completed");
    CHECK(json_is_true(json_object_get(
        json_object_get(json_array_get(json_object_get(r.json, "steps"), 1), "output"), "result")));
    CHECK_EQ_INT(json_integer_value(json_object_get(
                     json_object_get(json_array_get(json_object_get(r.json, "steps"), 3), "output"), "status")),
                 200);
    bl_test_reply_clear(&r);
    bl_test_wf_stop(pid, SIGTERM);
    fake_service_stop(&f);
}

static void failed_step_is_retried_by_policy_then_from_the_api(void)
{
    fake_service f;
    REQUIRE(fake_service_start(&f, "{\"ok\":true}") == 0);
    fake_service_default(&f, 500, "{\"error\":\"down\"}");
    char url[160], steps[2048], wid[64];
    fake_service_url(&f, "/flaky", url, sizeof url);
    snprintf(steps, sizeof steps,
             "[{\"id\":\"call\",\"type\":\"integration\",\"retryPolicy\":{\"maxAttempts\":2,\"baseDelay\":100,"
             "\"backoffStrategy\":\"fixed\"},\"config\":{\"id\":\"flaky\",\"type\":\"http\",\"method\":\"POST\","
             "\"endpoint\":\"%s\"}}]",
             url);
    REQUIRE(create_workflow("flaky", steps, wid) == 0);
    pid_t pid = start_orchestrator();
    REQUIRE(produce_event("0b7c0c1e-0000-4000-8000-000000000010", "flaky", "HIGH") == 0);
    CHECK_EQ_INT(await_executions(wid, "failed", 1), 1);
    json_t *e = only_execution(wid);
    REQUIRE(e);
    CHECK_EQ_INT(json_array_size(json_object_get(e, "steps")), 1);
    CHECK_EQ_STR(step_field(e, 0, "status"), "failed");
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(json_object_get(e, "steps"), 0), "attempts")), 2);
    CHECK_EQ_INT(fake_service_count(&f), 2);
    char path[256];
    snprintf(path, sizeof path, "/v1/workflows/%s/executions/%s/retry", wid,
             json_string_value(json_object_get(e, "id")));
    /* a completed execution cannot be cancelled; a failed one is retried */
    fake_service_default(&f, 200, "{\"ok\":true}");
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&t, "POST", path, t.admin_token, NULL, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "status")), "running");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(await_executions(wid, "completed", 1), 1);
    CHECK_EQ_INT(bl_test_api_call(&t, "POST", path, t.admin_token, NULL, NULL, &r), 409);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(fake_service_count(&f), 3);
    fake_hit h0, h1, h2;
    if (fake_service_hit(&f, 0, &h0) == 0 && fake_service_hit(&f, 1, &h1) == 0 && fake_service_hit(&f, 2, &h2) == 0) {
        CHECK_EQ_STR(h0.idempotency_key, h1.idempotency_key); /* one step run, two attempts */
        CHECK(strcmp(h1.idempotency_key, h2.idempotency_key) != 0); /* the retry is a new step run */
    }
    json_decref(e);
    bl_test_wf_stop(pid, SIGTERM);
    fake_service_stop(&f);
}

static void step_timeout_takes_the_error_path(void)
{
    fake_service f;
    REQUIRE(fake_service_start(&f, "{\"ok\":true}") == 0);
    f.dflt.sleep_ms = 3000; /* far beyond the step's timeout */
    char url[160], steps[2048], wid[64];
    fake_service_url(&f, "/slow", url, sizeof url);
    snprintf(steps, sizeof steps,
             "[{\"id\":\"slow\",\"type\":\"integration\",\"timeout\":200,\"onError\":\"fallback\",\"config\":"
             "{\"id\":\"slow\",\"type\":\"http\",\"method\":\"POST\",\"endpoint\":\"%s\"}},"
             "{\"id\":\"fallback\",\"type\":\"transformation\",\"config\":{\"type\":\"map\",\"rules\":"
             "[{\"operation\":\"set\",\"source\":\"$.steps.slow.error\",\"target\":\"$.why\"}]}}]",
             url);
    REQUIRE(create_workflow("too slow", steps, wid) == 0);
    pid_t pid = start_orchestrator();
    REQUIRE(produce_event("0b7c0c1e-0000-4000-8000-000000000040", "too slow", "HIGH") == 0);
    CHECK_EQ_INT(await_executions(wid, "completed", 1), 1);
    json_t *e = only_execution(wid);
    REQUIRE(e);
    CHECK_EQ_INT(json_array_size(json_object_get(e, "steps")), 2);
    CHECK_EQ_STR(step_field(e, 0, "stepId"), "slow");
    CHECK_EQ_STR(step_field(e, 0, "status"), "failed");
    CHECK_EQ_STR(step_field(e, 1, "stepId"), "fallback");
    CHECK_EQ_STR(step_field(e, 1, "status"), "completed");
    const char *why = json_string_value(
        json_object_get(json_object_get(json_array_get(json_object_get(e, "steps"), 1), "output"), "why"));
    CHECK(why && strstr(why, "integration") != NULL);
    json_decref(e);
    bl_test_wf_stop(pid, SIGTERM);
    fake_service_stop(&f);
}

static void cancelled_execution_runs_no_further_step(void)
{
    char wid[64];
    REQUIRE(create_workflow("cancel me",
                            "[{\"id\":\"long\",\"type\":\"delay\",\"onSuccess\":\"after\",\"config\":{\"duration\":"
                            "3600000}},{\"id\":\"after\",\"type\":\"transformation\",\"config\":{\"type\":\"map\","
                            "\"rules\":[{\"operation\":\"set\",\"source\":\"1\",\"target\":\"$.x\"}]}}]",
                            wid) == 0);
    pid_t pid = start_orchestrator();
    REQUIRE(produce_event("0b7c0c1e-0000-4000-8000-000000000020", "cancel me", "HIGH") == 0);
    await_waiting(wid);
    json_t *e = only_execution(wid);
    REQUIRE(e);
    CHECK_EQ_STR(step_field(e, 0, "status"), "running");
    char path[256];
    snprintf(path, sizeof path, "/v1/workflows/%s/executions/%s/cancel", wid,
             json_string_value(json_object_get(e, "id")));
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&t, "POST", path, t.admin_token, NULL, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "status")), "cancelled");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&t, "POST", path, t.admin_token, NULL, NULL, &r), 409);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_timers WHERE execution_id::text = $1",
                           json_string_value(json_object_get(e, "id"))),
                 0);
    json_decref(e);
    bl_test_wf_stop(pid, SIGTERM);
}

static void delay_outlives_the_process_that_began_it(void)
{
    fake_service f;
    REQUIRE(fake_service_start(&f, "{\"ok\":true}") == 0);
    char url[160], steps[2048], wid[64];
    fake_service_url(&f, "/after", url, sizeof url);
    snprintf(steps, sizeof steps,
             "[{\"id\":\"wait\",\"type\":\"delay\",\"onSuccess\":\"call\",\"config\":{\"duration\":8000}},"
             "{\"id\":\"call\",\"type\":\"integration\",\"config\":{\"id\":\"after\",\"type\":\"http\","
             "\"method\":\"POST\",\"endpoint\":\"%s\"}}]",
             url);
    REQUIRE(create_workflow("outlives", steps, wid) == 0);
    pid_t pid = start_orchestrator();
    REQUIRE(produce_event("0b7c0c1e-0000-4000-8000-000000000030", "outlives", "HIGH") == 0);
    await_waiting(wid);
    bl_test_wf_stop(pid, SIGKILL);
    /* killed while the delay was still running: nothing called yet */
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_executions WHERE workflow_id = $1 AND status = 'running'"
                           " AND waiting_until > now()",
                           wid),
                 1);
    CHECK_EQ_INT(fake_service_count(&f), 0);
    pid = start_orchestrator();
    CHECK_EQ_INT(await_executions(wid, "completed", 1), 1);
    CHECK_EQ_INT(fake_service_count(&f), 1);
    /* fired by the new process, not before its time */
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_execution_steps s JOIN workflow_executions e ON"
                           " e.id = s.execution_id WHERE e.workflow_id = $1 AND s.step_id = 'wait' AND"
                           " s.status = 'completed' AND s.finished_at >= s.started_at + interval '8 seconds'",
                           wid),
                 1);
    bl_test_wf_stop(pid, SIGTERM);
    fake_service_stop(&f);
}

#define KILL_EXECUTIONS 30
#define WORKERS 4

static void killed_orchestrator_is_taken_over_and_each_step_applied_once(void)
{
    fake_service f;
    REQUIRE(fake_service_start(&f, "{\"ok\":true}") == 0);
    f.dflt.sleep_ms = 50; /* calls in flight when the kill comes */
    char a[160], b[160], steps[4096], wid[64];
    fake_service_url(&f, "/a", a, sizeof a);
    fake_service_url(&f, "/b", b, sizeof b);
    snprintf(steps, sizeof steps,
             "[{\"id\":\"first\",\"type\":\"integration\",\"onSuccess\":\"second\",\"config\":{\"id\":\"a\","
             "\"type\":\"http\",\"method\":\"POST\",\"endpoint\":\"%s\"}},"
             "{\"id\":\"second\",\"type\":\"integration\",\"config\":{\"id\":\"b\",\"type\":\"http\","
             "\"method\":\"POST\",\"endpoint\":\"%s\"}}]",
             a, b);
    REQUIRE(create_workflow("kill", steps, wid) == 0);
    for (int i = 0; i < KILL_EXECUTIONS; i++) {
        char id[64];
        snprintf(id, sizeof id, "0b7c0c1e-0000-4000-8000-0000000001%02d", i);
        REQUIRE(produce_event(id, "kill", "HIGH") == 0);
    }
    pid_t pid = start_orchestrator();
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    while (fake_service_count(&f) < KILL_EXECUTIONS / 2 && bl_clock_mono_ms() < deadline)
        usleep(5000);
    bl_test_wf_stop(pid, SIGKILL);
    size_t at_kill = fake_service_count(&f);
    CHECK(at_kill < 2 * KILL_EXECUTIONS); /* killed mid-run */
    pid = start_orchestrator();
    CHECK_EQ_INT(await_executions(wid, "completed", KILL_EXECUTIONS), KILL_EXECUTIONS);
    bl_test_wf_stop(pid, SIGTERM);
    /* every execution's two step runs reached the service, by their keys */
    size_t n = fake_service_count(&f), distinct = 0;
    char (*keys)[256] = calloc(n ? n : 1, sizeof *keys);
    REQUIRE(keys);
    for (size_t i = 0; i < n; i++) {
        fake_hit h;
        if (fake_service_hit(&f, i, &h) != 0)
            continue;
        bool seen = false;
        for (size_t k = 0; k < distinct && !seen; k++)
            seen = strcmp(keys[k], h.idempotency_key) == 0;
        if (!seen)
            snprintf(keys[distinct++], sizeof keys[0], "%s", h.idempotency_key);
    }
    CHECK_EQ_INT(distinct, 2 * KILL_EXECUTIONS);
    /* repeats only of the calls in flight at the kill, one per worker at most, same key */
    CHECK(n - distinct <= WORKERS);
    free(keys);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_execution_steps s JOIN workflow_executions e ON"
                           " e.id = s.execution_id WHERE e.workflow_id = $1 AND s.status = 'completed'"
                           " AND s.attempts = 1",
                           wid),
                 2 * KILL_EXECUTIONS);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_execution_steps s JOIN workflow_executions e ON"
                           " e.id = s.execution_id WHERE e.workflow_id = $1",
                           wid),
                 2 * KILL_EXECUTIONS);
    fake_service_stop(&f);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    if (bl_test_api_start(&t, 1) == 0) {
        snprintf(topic, sizeof topic, "%sevents.pmo.risk", t.prefix);
        bl_test_unique_name(group, sizeof group, "wf_run");
        snprintf(log_path, sizeof log_path, "/tmp/%s.log", group);
        if (bl_test_wf_topic_make(topic, 3) == 0) {
            BL_RUN(steps_of_each_type_run_in_order_once_per_event);
            BL_RUN(failed_step_is_retried_by_policy_then_from_the_api);
            BL_RUN(step_timeout_takes_the_error_path);
            BL_RUN(cancelled_execution_runs_no_further_step);
            BL_RUN(delay_outlives_the_process_that_began_it);
            BL_RUN(killed_orchestrator_is_taken_over_and_each_step_applied_once);
        } else {
            bl_test_failures++;
        }
        bl_test_wf_topic_drop(topic);
    } else {
        bl_test_failures++;
    }
    fprintf(stderr, "  orchestrator logs: %s\n", log_path);
    bl_test_api_stop(&t);
    curl_global_cleanup();
    return bl_test_summary();
}
