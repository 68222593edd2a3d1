/* /v1/webhooks/replays over HTTP: a bad window (until not after since,
 * since in the future, a webhook of another organization or none) is a 422
 * naming the field in the documented error object; a disabled webhook is a
 * 409; a good one is a queued job (202) that GET shows and lists, another
 * organization does not see, and a cancel ends (409 the second time). The
 * jobs' carrying out is test_webhook_replay_jobs.c's. */
#include "tests/support/test.h"
#include "tests/support/webhook_api_fixture.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static void expect_window_error(const char *body, const char *field)
{
    bl_test_reply r;
    long st = bl_test_wh_call("POST", "/v1/webhooks/replays", bl_test_wh.admin, body, &r);
    CHECK_EQ_INT((int)st, 422);
    const json_t *fe = bl_test_wh_field_errors(&r);
    CHECK(json_is_string(json_object_get(fe, field)));
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(r.json, "error"), "code"), "validation_failed");
    if (st != 422 || !json_object_get(fe, field))
        fprintf(stderr, "  %s: %ld %s\n", body, st, r.body);
    bl_test_reply_clear(&r);
}

static void bad_windows_are_refused_with_the_field_at_fault(void)
{
    char id[64], other[64], body[512];
    REQUIRE(bl_test_wh_create(bl_test_wh.admin, "replayed", id, NULL) == 201);
    REQUIRE(bl_test_wh_create(bl_test_wh.other_admin, "not yours", other, NULL) == 201);
    expect_window_error("{\"since\":\"2026-01-02T00:00:00Z\",\"until\":\"2026-01-01T00:00:00Z\"}", "until");
    expect_window_error("{\"since\":\"2026-01-02T00:00:00Z\",\"until\":\"2026-01-02T00:00:00Z\"}", "until");
    expect_window_error("{\"since\":\"2999-01-01T00:00:00Z\"}", "since");
    expect_window_error("{\"since\":\"yesterday\"}", "since");
    expect_window_error("{\"until\":\"2026-01-01T00:00:00Z\"}", "since");
    expect_window_error("{\"since\":\"2026-01-01T00:00:00Z\",\"extra\":1}", "extra");
    snprintf(body, sizeof body, "{\"since\":\"2026-01-01T00:00:00Z\",\"endpoint_id\":\"%s\"}", other);
    expect_window_error(body, "endpoint_id");
    expect_window_error("{\"since\":\"2026-01-01T00:00:00Z\",\"endpoint_id\":\"no-such-webhook\"}", "endpoint_id");
    /* a disabled webhook would drop what is replayed to it */
    bl_test_reply r;
    char path[160];
    snprintf(path, sizeof path, "/v1/webhooks/%s/disable", id);
    CHECK_EQ_INT((int)bl_test_wh_call("POST", path, bl_test_wh.admin, NULL, &r), 200);
    bl_test_reply_clear(&r);
    snprintf(body, sizeof body, "{\"since\":\"2026-01-01T00:00:00Z\",\"endpoint_id\":\"%s\"}", id);
    CHECK_EQ_INT((int)bl_test_wh_call("POST", "/v1/webhooks/replays", bl_test_wh.admin, body, &r), 409);
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(r.json, "error"), "code"), "conflict");
    bl_test_reply_clear(&r);
}

static void a_job_is_queued_shown_listed_and_cancelled(void)
{
    char id[64], body[512], path[200], job[32];
    REQUIRE(bl_test_wh_create(bl_test_wh.admin, "to replay", id, NULL) == 201);
    snprintf(body, sizeof body,
             "{\"since\":\"2026-01-01T00:00:00Z\",\"until\":\"2026-01-01T06:00:00Z\",\"endpoint_id\":\"%s\"}", id);
    bl_test_reply r;
    CHECK_EQ_INT((int)bl_test_wh_call("POST", "/v1/webhooks/replays", bl_test_wh.admin, body, &r), 202);
    json_t *data = json_object_get(r.json, "data");
    snprintf(job, sizeof job, "%s", bl_test_wh_str(data, "id"));
    CHECK_EQ_STR(bl_test_wh_str(data, "status"), "queued");
    CHECK_EQ_STR(bl_test_wh_str(data, "endpoint_id"), id);
    CHECK_EQ_STR(bl_test_wh_str(data, "since"), "2026-01-01T00:00:00.000Z");
    CHECK_EQ_STR(bl_test_wh_str(data, "until"), "2026-01-01T06:00:00.000Z");
    CHECK_EQ_INT((int)json_integer_value(json_object_get(json_object_get(data, "progress"), "deliveries_enqueued")), 0);
    bl_test_reply_clear(&r);
    /* to every webhook: endpoint_id null, until now */
    CHECK_EQ_INT((int)bl_test_wh_call("POST", "/v1/webhooks/replays", bl_test_wh.admin,
                                      "{\"since\":\"2026-01-01T00:00:00Z\",\"endpoint_id\":null}", &r), 202);
    CHECK(json_is_null(json_object_get(json_object_get(r.json, "data"), "endpoint_id")));
    CHECK(json_is_string(json_object_get(json_object_get(r.json, "data"), "until")));
    bl_test_reply_clear(&r);

    snprintf(path, sizeof path, "/v1/webhooks/replays/%s", job);
    CHECK_EQ_INT((int)bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200);
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(r.json, "data"), "id"), job);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT((int)bl_test_wh_call("GET", path, bl_test_wh.other_admin, NULL, &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT((int)bl_test_wh_call("GET", "/v1/webhooks/replays?limit=1", bl_test_wh.admin, NULL, &r), 200);
    CHECK_EQ_INT((int)json_array_size(json_object_get(r.json, "data")), 1);
    CHECK(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")) >= 2);
    CHECK(json_is_true(json_object_get(json_object_get(r.json, "pagination"), "has_more")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT((int)bl_test_wh_call("GET", "/v1/webhooks/replays", bl_test_wh.other_admin, NULL, &r), 200);
    CHECK_EQ_INT((int)json_array_size(json_object_get(r.json, "data")), 0);
    bl_test_reply_clear(&r);

    snprintf(path, sizeof path, "/v1/webhooks/replays/%s/cancel", job);
    CHECK_EQ_INT((int)bl_test_wh_call("POST", path, bl_test_wh.other_admin, NULL, &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT((int)bl_test_wh_call("POST", path, bl_test_wh.admin, NULL, &r), 200);
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(r.json, "data"), "status"), "cancelled");
    CHECK(json_is_string(json_object_get(json_object_get(r.json, "data"), "finished_at")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT((int)bl_test_wh_call("POST", path, bl_test_wh.admin, NULL, &r), 409);
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_wh_setup() == 0) {
        BL_RUN(bad_windows_are_refused_with_the_field_at_fault);
        BL_RUN(a_job_is_queued_shown_listed_and_cancelled);
    } else {
        bl_test_failures++;
    }
    bl_test_wh_teardown();
    curl_global_cleanup();
    return bl_test_summary();
}
