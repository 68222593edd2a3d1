/* One endpoint hanging for 30 s does not hold back deliveries to another
 * endpoint served by the same worker, even when both share one partition
 * whose window the hanging endpoint's backlog would fill: every delivery to
 * the fast endpoint arrives before the first hanging request has been
 * answered (by the sinks' own clocks), only the per-host connection cap's
 * worth of requests reach the hanging endpoint, and the rest of its
 * deliveries are parked. Prints the fast endpoint's receipt latency (sink
 * arrival minus the event's time) while the hang lasts. */
#include "core/time_format.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EVENTS 300
#define HANG_MS 30000
#define WINDOW 100        /* per partition: well under the hanging endpoint's backlog */
#define HOST_CONNECTIONS 8

static void hanging(size_t n, const char *path, const char *id, int *status, int *retry_after_s,
                    int *sleep_ms, void *user)
{
    (void)n, (void)path, (void)id, (void)status, (void)retry_after_s, (void)user;
    *sleep_ms = HANG_MS;
}

static void waits_out_the_hang(bl_webhook_spec *spec, void *user)
{
    (void)user;
    spec->timeout_ms = 2 * HANG_MS;
}

typedef struct want {
    size_t n;
} want;

static int ok_at_least(webhook_sink *s, void *user)
{
    return webhook_sink_distinct_ok(s) >= ((want *)user)->n;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The event's time from a webhook body ({"timestamp": RFC 3339}), or -1. */
static int64_t event_time_ms(const char *body)
{
    json_t *j = json_loads(body, 0, NULL);
    int64_t ms = -1;
    if (j && bl_rfc3339_parse_millis(json_string_value(json_object_get(j, "timestamp")), &ms) != 0)
        ms = -1;
    json_decref(j);
    return ms;
}

static void hanging_endpoint_does_not_delay_another(void)
{
    webhook_sink slow, fast;
    REQUIRE(webhook_sink_start(&slow, hanging, NULL) == 0);
    REQUIRE(webhook_sink_start(&fast, NULL, NULL) == 0);
    sink_hit *hits = NULL;
    wh_e2e e = {.deliveries_partitions = 1, .max_in_flight = WINDOW, .max_host_connections = HOST_CONNECTIONS};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char slow_url[128], fast_url[128];
    webhook_sink_url(&slow, "/slow", slow_url, sizeof slow_url);
    webhook_sink_url(&fast, "/fast", fast_url, sizeof fast_url);
    char *a = wh_e2e_endpoint(&e, "org-iso", slow_url, "webhook.*", waits_out_the_hang, NULL, NULL);
    char *b = wh_e2e_endpoint(&e, "org-iso", fast_url, "webhook.*", NULL, NULL, NULL);
    REQUIRE(a && b);
    free(a);
    free(b);
    REQUIRE(wh_e2e_wait_cache(&e, 2) == 0);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    /* the hang starts first, then the fast endpoint's events come */
    REQUIRE(wh_e2e_append(&e, "org-iso", "ep-iso", 1, "first-") == 0);
    for (int i = 0; i < 400 && webhook_sink_count(&slow) == 0; i++)
        usleep(50 * 1000);
    REQUIRE(webhook_sink_count(&slow) >= 1);
    REQUIRE(wh_e2e_append(&e, "org-iso", "ep-iso", EVENTS, "iso-") == 0);
    want all = {.n = EVENTS + 1};
    CHECK(webhook_sink_wait(&fast, ok_at_least, &all, HANG_MS));
    sink_hit first_slow;
    REQUIRE(webhook_sink_hits_to(&slow, NULL, &first_slow, 1) == 1);
    int64_t hang_ends = first_slow.at_ms + HANG_MS;
    size_t cap = webhook_sink_count(&fast) + 1, n = 0, after_hang = 0;
    hits = calloc(cap, sizeof *hits);
    int64_t *lat = calloc(cap, sizeof *lat);
    REQUIRE(hits && lat);
    n = webhook_sink_hits_to(&fast, NULL, hits, cap);
    size_t nl = 0;
    for (size_t i = 0; i < n; i++) {
        after_hang += hits[i].at_ms >= hang_ends;
        int64_t t = event_time_ms(hits[i].body);
        if (t >= 0 && strstr(hits[i].body, "\"iso-"))
            lat[nl++] = hits[i].at_ms - t;
    }
    qsort(lat, nl, sizeof *lat, cmp_i64);
    bl_webhook_deliver_stats st;
    bl_webhook_deliver_stats_get(e.deliver, &st);
    size_t slow_open = webhook_sink_count(&slow);
    printf("  during a %d s hang of the other endpoint (%zu of its requests open, %llu of its deliveries "
           "parked, window %d): fast endpoint got %zu deliveries, receipt latency p50 %lld ms, p99 %lld ms, "
           "max %lld ms\n",
           HANG_MS / 1000, slow_open, (unsigned long long)st.parked, WINDOW, n,
           nl ? (long long)lat[nl / 2] : -1LL, nl ? (long long)lat[nl * 99 / 100] : -1LL,
           nl ? (long long)lat[nl - 1] : -1LL);
    CHECK_EQ_INT((long)n, EVENTS + 1);
    CHECK_EQ_INT((long)nl, EVENTS);
    CHECK_EQ_INT((long)after_hang, 0);
    CHECK_EQ_INT((long)slow_open, HOST_CONNECTIONS);
    CHECK(st.parked > 0);
    free(lat);
done:
    wh_e2e_close(&e);
    webhook_sink_stop(&slow);
    webhook_sink_stop(&fast);
    free(hits);
}

int main(void)
{
    BL_RUN(hanging_endpoint_does_not_delay_another);
    return bl_test_summary();
}
