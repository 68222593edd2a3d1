/* Payload transformations per endpoint against the real broker (relay,
 * fan-out, delivery worker): the sink receives the transformed body, and
 * its v1 and v1a signatures verify (in Python) over the transformed bytes,
 * not over the body busline built; the delivery log holds the body sent.
 * A transformation that fails at run time for one event (its inputSchema
 * refuses it) sends nothing for that event: the attempt is logged with the
 * transformation's error and dead-lettered at once, without a retry, while
 * the other events of the endpoint are delivered. */
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLIM_RULE                                                                                              \
    "{\"id\":\"slim\",\"name\":\"slim\",\"type\":\"map\",\"rules\":["                                         \
    "{\"operation\":\"set\",\"source\":\"$.event\",\"target\":\"$.kind\"},"                                    \
    "{\"operation\":\"set\",\"source\":\"upper($.data.reason)\",\"target\":\"$.why\"},"                        \
    "{\"operation\":\"set\",\"source\":\"$.organization_id\",\"target\":\"$.org\"}],"                          \
    "\"testCases\":[{\"name\":\"one\",\"input\":{\"event\":\"e\",\"organization_id\":\"o\",\"data\":{\"reason\":" \
    "\"x\"}},\"expectedOutput\":{\"kind\":\"e\",\"why\":\"X\",\"org\":\"o\"}}]}"

/* refuses an event whose data.consecutive_failures is above 0 */
#define STRICT_RULE                                                                                            \
    "{\"id\":\"strict\",\"name\":\"strict\",\"type\":\"custom\",\"inputSchema\":{\"type\":\"object\","         \
    "\"properties\":{\"data\":{\"type\":\"object\",\"properties\":{\"consecutive_failures\":{\"maximum\":0}}}}}," \
    "\"rules\":[{\"operation\":\"delete\",\"target\":\"$.data.url\"}],\"testCases\":[]}"

static void with_rule(bl_webhook_spec *spec, void *user)
{
    spec->transformation = user;
    spec->signature_scheme = BL_WEBHOOK_SCHEME_BOTH;
}

static int got_n(webhook_sink *s, void *user)
{
    return webhook_sink_count(s) >= *(size_t *)user;
}

static void verify(const char *mode, const char *key, const sink_hit *h, const char *body, char *out, size_t len)
{
    char args[1024];
    snprintf(args, sizeof args, "%s %s %s %s '%s'", mode, key, h->id, h->timestamp, h->signature);
    wh_python_verify(args, body, out, len);
}

static void sink_gets_the_transformed_body_signed_over_its_bytes(void)
{
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, NULL, NULL) == 0);
    wh_e2e e = {0};
    json_t *rule = json_loads(SLIM_RULE, 0, NULL);
    REQUIRE(rule != NULL);
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url[128], secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    webhook_sink_url(&sink, "/hooks/slim", url, sizeof url);
    char *id = wh_e2e_endpoint(&e, "org-xf", url, "webhook.*", with_rule, rule, secret);
    REQUIRE(id != NULL);
    bl_err err = {0};
    bl_webhook_endpoint *ep = bl_webhook_store_get(e.store, id, &err);
    REQUIRE(ep && ep->transformation && ep->ed25519_public_key);
    CHECK(json_equal(ep->transformation, rule));
    CHECK(wh_e2e_wait_cache(&e, 1) == 0);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    REQUIRE(wh_e2e_append(&e, "org-xf", "ep-1", 1, "gone-") == 0);
    size_t one = 1;
    REQUIRE(webhook_sink_wait(&sink, got_n, &one, 30000));
    sink_hit h = sink.hits[0];
    json_t *got = json_loads(h.body, 0, NULL);
    json_t *want = json_pack("{s:s, s:s, s:s}", "kind", "webhook.disabled", "why", "GONE-0", "org", "org-xf");
    CHECK(got && json_equal(got, want));
    CHECK(!strstr(h.body, "\"data\"")); /* not the body busline built */
    char out[256];
    verify("v1", secret, &h, h.body, out, sizeof out);
    CHECK_EQ_STR(out, "ok");
    verify("v1a", ep->ed25519_public_key, &h, h.body, out, sizeof out);
    CHECK_EQ_STR(out, "ok");
    /* the body busline built does not verify: the signatures cover the transformed bytes */
    char built[512];
    snprintf(built, sizeof built,
             "{\"event\":\"webhook.disabled\",\"organization_id\":\"org-xf\",\"data\":{\"reason\":\"gone-0\"}}");
    verify("v1", secret, &h, built, out, sizeof out);
    CHECK_EQ_STR(out, "mismatch");
    /* the delivery log keeps the body sent */
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '%s' AND succeeded AND "
             "payload_excerpt::jsonb = '%s'::jsonb",
             id, h.body);
    long logged = 0;
    for (int i = 0; i < 200 && (logged = bl_webhook_test_count(&e.f, sql)) < 1; i++)
        usleep(50 * 1000);
    CHECK_EQ_INT(logged, 1);
    json_decref(got);
    json_decref(want);
    bl_webhook_endpoint_free(ep);
    free(id);
done:
    json_decref(rule);
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

static int dead_lettered(wh_e2e *e, uint64_t n)
{
    for (int i = 0; i < 600; i++) {
        bl_webhook_deliver_stats st;
        bl_webhook_deliver_stats_get(e->deliver, &st);
        if (st.dead_lettered >= n)
            return 1;
        usleep(50 * 1000);
    }
    return 0;
}

static void run_time_failure_is_logged_and_dead_lettered_without_a_retry(void)
{
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, NULL, NULL) == 0);
    wh_e2e e = {0};
    json_t *rule = json_loads(STRICT_RULE, 0, NULL);
    REQUIRE(rule != NULL);
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url[128];
    webhook_sink_url(&sink, "/hooks/strict", url, sizeof url);
    char *id = wh_e2e_endpoint(&e, "org-xs", url, "webhook.*", with_rule, rule, NULL);
    REQUIRE(id != NULL);
    CHECK(wh_e2e_wait_cache(&e, 1) == 0);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    /* event 0 has consecutive_failures 0 (passes), event 1 has 1 (refused) */
    REQUIRE(wh_e2e_append(&e, "org-xs", "ep-1", 2, "r") == 0);
    size_t one = 1;
    REQUIRE(webhook_sink_wait(&sink, got_n, &one, 30000));
    REQUIRE(dead_lettered(&e, 1));
    CHECK_EQ_INT(webhook_sink_count(&sink), 1);
    CHECK(strstr(sink.hits[0].body, "\"r0\"") && !strstr(sink.hits[0].body, "\"url\""));
    char sql[640];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '%s' AND NOT succeeded "
             "AND status_code IS NULL AND attempt = 1 AND error LIKE 'transformation: inputSchema: "
             "/data/consecutive_failures: 1 is greater than the maximum 0%%'", id);
    long failed = 0;
    for (int i = 0; i < 200 && (failed = bl_webhook_test_count(&e.f, sql)) < 1; i++)
        usleep(50 * 1000);
    CHECK_EQ_INT(failed, 1);
    /* one row per event: no second attempt of the refused one, and nothing sent for it */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '%s'", id);
    long rows = 0;
    for (int i = 0; i < 200 && (rows = bl_webhook_test_count(&e.f, sql)) < 2; i++)
        usleep(50 * 1000); /* the log is written in batches */
    CHECK_EQ_INT(rows, 2);
    bl_webhook_deliver_stats st;
    bl_webhook_deliver_stats_get(e.deliver, &st);
    CHECK_EQ_INT((long)st.retried, 0);
    free(id);
done:
    json_decref(rule);
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

int main(void)
{
    BL_RUN(sink_gets_the_transformed_body_signed_over_its_bytes);
    BL_RUN(run_time_failure_is_logged_and_dead_lettered_without_a_retry);
    return bl_test_summary();
}
