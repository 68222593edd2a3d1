/* Retry schedules per endpoint against the real broker: a sink failing its
 * first three requests sees the attempts in order, each after at least its
 * scheduled delay (one longer than the largest retry tier, so it hops), and
 * the delays the endpoint's policy plans are the schedule; a delivery past
 * the endpoint's max_age_seconds goes to the dead letters with a reason
 * naming the max age, long before its schedule is used up. */
#include "consumers/retry_policy.h"
#include "core/kafka_consumer.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILS 3
static const int64_t schedule_s[FAILS] = {1, 7, 2}; /* 7 s: past the 5 s tier */

static void fail_first(size_t n, const char *path, const char *id, int *status, int *retry_after_s,
                       int *sleep_ms, void *user)
{
    (void)path, (void)id, (void)retry_after_s, (void)sleep_ms, (void)user;
    if (n < FAILS)
        *status = 500;
}

static void fail_always(size_t n, const char *path, const char *id, int *status, int *retry_after_s,
                        int *sleep_ms, void *user)
{
    (void)n, (void)path, (void)id, (void)retry_after_s, (void)sleep_ms, (void)user;
    *status = 500;
}

static void scheduled(bl_webhook_spec *spec, void *user)
{
    (void)user;
    spec->retry_schedule_s = schedule_s;
    spec->retry_schedule_len = FAILS;
}

static const int64_t ones_s[20] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

static void short_lived(bl_webhook_spec *spec, void *user)
{
    (void)user;
    spec->retry_schedule_s = ones_s;
    spec->retry_schedule_len = 20;
    spec->max_age_s = 2;
}

static int delivered(webhook_sink *s, void *user)
{
    (void)user;
    return webhook_sink_distinct_ok(s) >= 1;
}

/* Reads the first message of the dead-letter topic; its busline-error into out. */
static int read_dead_letter(const char *topic, char *out, size_t len)
{
    char g[96];
    bl_test_unique_name(g, sizeof g, "dlq_reader");
    bl_kafka_consumer_opts opts = {.brokers = bl_test_kafka_brokers(), .group_id = g};
    bl_err err = {0};
    bl_kafka_consumer *c = bl_kafka_consumer_new(&opts, &err);
    const char *topics[] = {topic};
    int got = 0;
    if (!c || bl_kafka_consumer_subscribe(c, topics, 1, &err) != 0) {
        fprintf(stderr, "  dlq consumer: %s\n", err.msg);
        bl_kafka_consumer_free(c);
        return 0;
    }
    for (int i = 0; i < 60 && !got; i++) {
        bl_kafka_msg *m = NULL;
        if (bl_kafka_consumer_poll(c, 1000, &m, &err) != 1)
            continue;
        const void *v;
        size_t vlen;
        if (bl_kafka_msg_header(m, BL_HDR_ERROR, &v, &vlen) == 0) {
            snprintf(out, len, "%.*s", (int)vlen, (const char *)v);
            got = 1;
        }
        bl_kafka_msg_release(m);
    }
    bl_kafka_consumer_free(c);
    return got;
}

static void attempts_follow_the_schedule_and_max_age_dead_letters(void)
{
    webhook_sink flaky, down;
    REQUIRE(webhook_sink_start(&flaky, fail_first, NULL) == 0);
    REQUIRE(webhook_sink_start(&down, fail_always, NULL) == 0);
    wh_e2e e = {0};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url[2][128];
    webhook_sink_url(&flaky, "/scheduled", url[0], sizeof url[0]);
    webhook_sink_url(&down, "/aged", url[1], sizeof url[1]);
    char *id = wh_e2e_endpoint(&e, "org-sched", url[0], "webhook.*", scheduled, NULL, NULL);
    char *aged_id = wh_e2e_endpoint(&e, "org-aged", url[1], "webhook.*", short_lived, NULL, NULL);
    REQUIRE(id && aged_id);
    REQUIRE(wh_e2e_wait_cache(&e, 2) == 0);

    /* the delays the endpoint's policy plans after each failure */
    bl_webhook_snapshot *snap = bl_webhook_cache_get(e.cache, id);
    REQUIRE(snap != NULL);
    bl_delivery_outcome err500 = {.status = 500};
    for (int a = 1; a <= FAILS; a++) {
        bl_retry_decision d = bl_retry_decide(&snap->retry, a, &err500, 0, bl_random_u32_os, NULL);
        CHECK_EQ_INT(d.action, BL_RETRY_LATER);
        CHECK_EQ_INT((long)d.delay_ms, (long)schedule_s[a - 1] * 1000);
    }
    bl_retry_decision last = bl_retry_decide(&snap->retry, FAILS + 1, &err500, 0, NULL, NULL);
    CHECK_EQ_INT(last.action, BL_RETRY_GIVE_UP);
    CHECK(last.exhausted);
    bl_webhook_snapshot_release(snap);

    REQUIRE(wh_e2e_start(&e, 1) == 0);
    REQUIRE(wh_e2e_append(&e, "org-sched", "ep-sched", 1, "sched-") == 0);
    REQUIRE(wh_e2e_append(&e, "org-aged", "ep-aged", 1, "aged-") == 0);
    CHECK(webhook_sink_wait(&flaky, delivered, NULL, 60000));

    sink_hit h[8];
    size_t n = webhook_sink_hits_to(&flaky, NULL, h, 8);
    CHECK_EQ_INT((long)n, FAILS + 1);
    for (size_t i = 0; i + 1 < n && i < FAILS; i++) {
        int64_t gap = h[i + 1].at_ms - h[i].at_ms;
        printf("  attempt %zu -> %zu: %lld ms (scheduled %lld s)\n", i + 1, i + 2, (long long)gap,
               (long long)schedule_s[i]);
        CHECK_EQ_INT(h[i].status, 500);
        CHECK(strcmp(h[i].id, h[0].id) == 0);
        CHECK(gap >= schedule_s[i] * 1000); /* never before its planned delay */
    }
    if (n == FAILS + 1)
        CHECK_EQ_INT(h[FAILS].status, 200);

    char reason[BL_RETRY_ERROR_MAX] = "";
    CHECK(read_dead_letter(e.dlq, reason, sizeof reason));
    printf("  dead letter: %s\n", reason);
    CHECK(strstr(reason, "max_age_seconds (2 s)") != NULL);
    CHECK(webhook_sink_count(&down) < 21); /* its 20 retries were not used up */
    free(id);
    free(aged_id);
done:
    wh_e2e_close(&e);
    webhook_sink_stop(&flaky);
    webhook_sink_stop(&down);
}

int main(void)
{
    BL_RUN(attempts_follow_the_schedule_and_max_age_dead_letters);
    return bl_test_summary();
}
