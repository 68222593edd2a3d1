/* Custom endpoints' call metrics (document 002's APIMetric): every call is
 * recorded with its details off the request path, GET
 * /v1/custom-apis/:id/metrics gives the right totals, percentiles and
 * error rate for a known set of calls, and a full queue drops and counts
 * while PostgreSQL is stuck, never holding the caller. */
#include "api/custom/metrics_log.h"
#include "core/clock.h"
#include "core/uuid.h"
#include "tests/support/custom_api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bl_test_custom t;
static bl_test_fake ok_service, failing_service;

/* Waits until sql (one integer, param p) reads want (at most 20 s). Returns the last value read. */
static long await_count(const char *sql, const char *p, long want)
{
    const char *params[] = {p};
    long v = -1;
    for (int i = 0; i < 400; i++) {
        char out[32] = "";
        if (bl_test_sql_value(t.api.pool, sql, p ? 1 : 0, params, out, sizeof out) == 0)
            v = atol(out);
        if (v == want)
            break;
        usleep(50 * 1000);
    }
    return v;
}

static long create(const char *path, const char *url, char *id)
{
    char def[1024];
    snprintf(def, sizeof def,
             "{\"name\":\"measured\",\"path\":\"%s\",\"method\":\"GET\",\"authentication\":{\"type\":\"none\"},"
             "\"integrations\":[{\"id\":\"svc\",\"type\":\"http\",\"endpoint\":\"%s/data\"}]}",
             path, url);
    return bl_test_custom_create(&t, def, id);
}

static void every_call_is_recorded_with_its_details(void)
{
    char ok_id[40], bad_id[40];
    REQUIRE(create("/measured", ok_service.url, ok_id) == 201);
    REQUIRE(create("/failing", failing_service.url, bad_id) == 201);
    REQUIRE(bl_test_custom_await(&t, NULL, "/measured", 200));
    REQUIRE(bl_test_custom_await(&t, NULL, "/failing", 502));
    for (int i = 0; i < 2; i++) {
        bl_test_reply r;
        CHECK_EQ_INT(bl_test_custom_call(&t, NULL, "GET", "/measured", NULL, "User-Agent: metrics-test/1.0", &r), 200);
        bl_test_reply_clear(&r);
    }
    CHECK_EQ_INT(await_count("SELECT count(*) FROM custom_api_metrics WHERE custom_api_id = $1 AND"
                             " user_agent = 'metrics-test/1.0'", ok_id, 2), 2);
    const char *p[] = {ok_id};
    char row[1024] = "";
    CHECK(bl_test_sql_value(t.api.pool,
                            "SELECT concat_ws('|', status_code, response_size > 0, request_size, caller, ip_address,"
                            " organization_id, error_message IS NULL, request_id IS NOT NULL, response_time_ms > 0)"
                            " FROM custom_api_metrics WHERE custom_api_id = $1 AND user_agent = 'metrics-test/1.0'"
                            " LIMIT 1",
                            1, p, row, sizeof row) == 0);
    char want[512];
    snprintf(want, sizeof want, "200|t|0|ip:127.0.0.1|127.0.0.1|%s|t|t|t", t.api.org);
    CHECK_EQ_STR(row, want);
    /* the failing one: its status and the APIError's code and message */
    CHECK(await_count("SELECT count(*) FROM custom_api_metrics WHERE custom_api_id = $1", bad_id, 1) >= 1);
    const char *pb[] = {bad_id};
    CHECK(bl_test_sql_value(t.api.pool,
                            "SELECT concat_ws('|', status_code, error_message) FROM custom_api_metrics"
                            " WHERE custom_api_id = $1 LIMIT 1",
                            1, pb, row, sizeof row) == 0);
    CHECK_EQ_STR(row, "502|INTEGRATION_FAILED: an integration of this endpoint failed");
    /* and the figures on /metrics */
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&t.api, "GET", "/metrics", NULL, NULL, NULL, &r), 200);
    char line[200];
    snprintf(line, sizeof line, "busline_api_custom_calls_total{custom_api_id=\"%s\",code_class=\"5xx\"}", bad_id);
    CHECK(r.body && strstr(r.body, line));
    snprintf(line, sizeof line, "busline_api_custom_duration_seconds_count{custom_api_id=\"%s\"}", ok_id);
    CHECK(r.body && strstr(r.body, line));
    bl_test_reply_clear(&r);
}

static double num(const json_t *o, const char *name)
{
    return json_number_value(json_object_get(o, name));
}

static void percentiles_and_error_rate_of_a_known_set(void)
{
    char id[40];
    REQUIRE(create("/known", ok_service.url, id) == 201);
    bl_err err = {0};
    bl_custom_metrics_opts o = {.pool = t.api.pool, .batch_rows = 7}; /* several INSERTs */
    bl_custom_metrics_log *log = bl_custom_metrics_new(&o, &err);
    REQUIRE(log);
    int64_t now = bl_clock_wall_ms();
    /* 100 calls of 1..100 ms: 95 answered 200, 3 answered 500, 2 answered 429 */
    for (int i = 1; i <= 100; i++) {
        int status = i % 20 == 0 && i <= 60 ? 500 : i == 7 || i == 77 ? 429 : 200;
        bl_custom_metric m = {.custom_api_id = id, .organization_id = t.api.org, .at_ms = now - i * 1000,
                              .response_time_ms = i, .status_code = status, .request_size = 10,
                              .response_size = 100, .caller = i % 2 ? "key:a" : "key:b"};
        CHECK_EQ_INT(bl_custom_metrics_record(log, &m), 1);
    }
    /* and five slow ones two hours ago, outside a window of 1h */
    for (int i = 0; i < 5; i++) {
        bl_custom_metric m = {.custom_api_id = id, .organization_id = t.api.org, .at_ms = now - 2 * 3600 * 1000,
                              .response_time_ms = 10000, .status_code = 500, .request_size = -1,
                              .response_size = -1};
        CHECK_EQ_INT(bl_custom_metrics_record(log, &m), 1);
    }
    CHECK_EQ_INT(bl_custom_metrics_flush(log, &err), 0);
    CHECK_EQ_INT(bl_custom_metrics_queued(log), 0);
    bl_custom_metrics_free(log);

    char path[160];
    snprintf(path, sizeof path, "/v1/custom-apis/%s/metrics?window=1h", id);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&t.api, "GET", path, t.api.admin_token, NULL, NULL, &r), 200);
    const json_t *rt = json_object_get(r.json, "responseTimeMs");
    CHECK_EQ_INT(num(r.json, "totalCalls"), 100);
    CHECK_EQ_INT(num(r.json, "successfulCalls"), 95);
    CHECK_EQ_INT(num(r.json, "serverErrors"), 3);
    CHECK_EQ_INT(num(r.json, "clientErrors"), 2);
    CHECK_EQ_INT(num(r.json, "rateLimited"), 2);
    CHECK(fabs(num(r.json, "errorRate") - 3.0) < 1e-9);
    CHECK(fabs(num(rt, "p50") - 50.5) < 1e-9);  /* percentile_cont: 1 + 0.50 * 99 */
    CHECK(fabs(num(rt, "p95") - 95.05) < 1e-9); /* 1 + 0.95 * 99 */
    CHECK(fabs(num(rt, "p99") - 99.01) < 1e-9); /* 1 + 0.99 * 99 */
    CHECK(fabs(num(rt, "avg") - 50.5) < 1e-9);
    CHECK_EQ_INT(num(rt, "max"), 100);
    CHECK_EQ_INT(num(r.json, "requestBytes"), 1000);
    CHECK_EQ_INT(num(r.json, "responseBytes"), 10000);
    CHECK_EQ_INT(num(r.json, "distinctCallers"), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "customApiId")), id);
    CHECK_EQ_INT(num(r.json, "windowSeconds"), 3600);
    bl_test_reply_clear(&r);
    /* a window of 3h holds the slow ones too */
    snprintf(path, sizeof path, "/v1/custom-apis/%s/metrics?window=3h", id);
    CHECK_EQ_INT(bl_test_api_call(&t.api, "GET", path, t.api.admin_token, NULL, NULL, &r), 200);
    CHECK_EQ_INT(num(r.json, "totalCalls"), 105);
    CHECK_EQ_INT(num(r.json, "serverErrors"), 8);
    CHECK_EQ_INT(num(json_object_get(r.json, "responseTimeMs"), "max"), 10000);
    bl_test_reply_clear(&r);
    /* a bad window, another organization's endpoint */
    snprintf(path, sizeof path, "/v1/custom-apis/%s/metrics?window=forever", id);
    CHECK_EQ_INT(bl_test_api_call(&t.api, "GET", path, t.api.admin_token, NULL, NULL, &r), 400);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "invalid_window");
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/custom-apis/%s/metrics", id);
    CHECK_EQ_INT(bl_test_api_call(&t.api, "GET", path, t.api.other_token, NULL, NULL, &r), 404);
    bl_test_reply_clear(&r);
}

static void full_queue_drops_and_counts_while_postgres_is_stuck(void)
{
    char id[BL_UUID_SIZE];
    bl_err err = {0};
    REQUIRE(bl_uuid_random(id, &err) == 0);
    /* a lock nothing can write past: the writer's INSERT waits on it */
    PGconn *locker = bl_pg_pool_acquire(t.api.pool, 5000, &err);
    REQUIRE(locker);
    CHECK(bl_pg_exec_cmd(locker, "BEGIN", 0, NULL, &err) == 0);
    CHECK(bl_pg_exec_cmd(locker, "LOCK TABLE custom_api_metrics IN ACCESS EXCLUSIVE MODE", 0, NULL, &err) == 0);
    bl_custom_metrics_opts o = {.pool = t.api.pool, .capacity = 4, .flush_ms = 20, .start_writer = 1};
    bl_custom_metrics_log *log = bl_custom_metrics_new(&o, &err);
    if (!log) {
        bl_pg_exec_cmd(locker, "ROLLBACK", 0, NULL, &err);
        bl_pg_pool_release(t.api.pool, locker);
        REQUIRE(log);
    }
    bl_custom_metric m = {.custom_api_id = id, .organization_id = t.api.org, .at_ms = bl_clock_wall_ms(),
                          .response_time_ms = 1, .status_code = 200, .request_size = 0, .response_size = 0};
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(bl_custom_metrics_record(log, &m), 1);
    /* the writer takes them and is stuck in PostgreSQL */
    for (int i = 0; i < 400 && bl_custom_metrics_queued(log) > 0; i++)
        usleep(10 * 1000);
    CHECK_EQ_INT(bl_custom_metrics_queued(log), 0);
    /* four more fill the queue; the next three are dropped at once, counted */
    int queued = 0;
    for (int i = 0; i < 7; i++)
        queued += bl_custom_metrics_record(log, &m);
    CHECK_EQ_INT(queued, 4);
    CHECK_EQ_INT(bl_custom_metrics_dropped(log), 3);
    CHECK_EQ_INT(bl_custom_metrics_queued(log), 4);
    CHECK(bl_pg_exec_cmd(locker, "COMMIT", 0, NULL, &err) == 0);
    bl_pg_pool_release(t.api.pool, locker);
    /* once unstuck, everything queued is written; free flushes the rest */
    bl_custom_metrics_free(log);
    CHECK_EQ_INT(await_count("SELECT count(*) FROM custom_api_metrics WHERE custom_api_id = $1", id, 8), 8);
}

static int setup(void)
{
    if (bl_test_fake_start(&ok_service, 200, "{\"items\":[1,2,3]}") != 0 ||
        bl_test_fake_start(&failing_service, 500, "{\"error\":\"down\"}") != 0)
        return -1;
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    return bl_test_custom_start(&t, 0, 0, 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (setup() == 0) {
        BL_RUN(every_call_is_recorded_with_its_details);
        BL_RUN(percentiles_and_error_rate_of_a_known_set);
        BL_RUN(full_queue_drops_and_counts_while_postgres_is_stuck);
    } else {
        bl_test_failures++;
    }
    bl_test_custom_stop(&t);
    bl_test_fake_stop(&ok_service);
    bl_test_fake_stop(&failing_service);
    curl_global_cleanup();
    return bl_test_summary();
}
