#include "core/http_client.h"
#include "core/ops_server.h"
#include "tests/support/test.h"

static int ready_flag;

static int ready_when_flagged(void *ctx, char *reason, size_t len)
{
    (void)ctx;
    if (!ready_flag)
        snprintf(reason, len, "no partitions assigned");
    return ready_flag;
}

static long get(unsigned short port, const char *path, char *body, size_t len)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    bl_http_call call = {.url = url, .timeout_ms = 5000};
    bl_http_sync_result r = {0};
    bl_err err = {0};
    long status = bl_http_request_sync(&call, NULL, &r, &err) == 0 ? r.status : -1;
    snprintf(body, len, "%s", r.body ? r.body : err.msg);
    bl_http_sync_result_clear(&r);
    return status;
}

static void ops_endpoints_report_health_readiness_and_metrics(void)
{
    bl_err err = {0};
    bl_metrics *m = bl_metrics_new();
    REQUIRE(m);
    bl_metric *fam = bl_metrics_counter(m, "busline_test_events_total", "events seen", NULL, &err);
    bl_counter *c = fam ? bl_metric_counter(fam, NULL, &err) : NULL;
    REQUIRE(c);
    bl_counter_inc(c);
    bl_counter_inc(c);
    bl_ops_server *ops = bl_ops_server_start("127.0.0.1", 0, m, ready_when_flagged, NULL, &err);
    REQUIRE(ops);
    char body[4096];
    unsigned short port = bl_ops_server_port(ops);
    CHECK_EQ_INT(get(port, "/healthz", body, sizeof body), 200);
    ready_flag = 0;
    CHECK_EQ_INT(get(port, "/readyz", body, sizeof body), 503);
    CHECK(strstr(body, "no partitions assigned") != NULL);
    ready_flag = 1;
    CHECK_EQ_INT(get(port, "/readyz", body, sizeof body), 200);
    CHECK_EQ_INT(get(port, "/metrics", body, sizeof body), 200);
    CHECK(strstr(body, "busline_test_events_total 2\n") != NULL);
    CHECK_EQ_INT(get(port, "/nope", body, sizeof body), 404);
    bl_ops_server_free(ops);
    bl_metrics_free(m);
}

int main(void)
{
    BL_RUN(ops_endpoints_report_health_readiness_and_metrics);
    return bl_test_summary();
}
