/* Deliveries to receivers that misbehave: a sink failing ~30 % of requests
 * (500s, answers slower than the endpoint's timeout, connections closed
 * without an answer) still gets every event, retries repeat the same
 * webhook-id and body; a receiver answering 4xx gets exactly one request
 * per event; a 429 with Retry-After: N is retried no earlier than N s after
 * it was answered (by the sink's own clock). */
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define EVENTS 200
#define RETRY_AFTER_S 2
#define FLAKY_TIMEOUT_MS 500

/* ~30 % failures, spread over the three kinds, decided by the request's
 * number so a run is reproducible. */
static void flaky(size_t n, const char *path, const char *id, int *status, int *retry_after_s,
                  int *sleep_ms, void *user)
{
    (void)path, (void)id, (void)retry_after_s, (void)user;
    unsigned roll = (unsigned)((n * 2654435761u) >> 7) % 100;
    if (roll < 10) {
        *status = 500;
    } else if (roll < 20) {
        *sleep_ms = FLAKY_TIMEOUT_MS * 3; /* the client has given up by then */
        *status = 504;                    /* recorded as not delivered */
    } else if (roll < 30) {
        *status = SINK_RESET;
    }
}

/* 400, 404 or 422 for events whose id hashes to 0 mod 3; 200 otherwise. */
static int rejected_id(const char *id)
{
    unsigned h = 5381;
    for (const char *p = id; *p; p++)
        h = h * 33 + (unsigned char)*p;
    return h % 3 == 0;
}

static void rejecting(size_t n, const char *path, const char *id, int *status, int *retry_after_s,
                      int *sleep_ms, void *user)
{
    (void)path, (void)retry_after_s, (void)sleep_ms, (void)user;
    static const int codes[] = {400, 404, 422};
    if (rejected_id(id))
        *status = codes[n % 3];
}

/* The first request of each id gets 429 with Retry-After, later ones 200. */
typedef struct seen_ids {
    char ids[EVENTS * 2][64];
    size_t n;
} seen_ids;

static void throttling(size_t n, const char *path, const char *id, int *status, int *retry_after_s,
                       int *sleep_ms, void *user)
{
    (void)n, (void)path, (void)sleep_ms;
    seen_ids *seen = user; /* called under the sink's lock */
    for (size_t i = 0; i < seen->n; i++)
        if (strcmp(seen->ids[i], id) == 0)
            return;
    if (seen->n < EVENTS * 2)
        snprintf(seen->ids[seen->n++], sizeof seen->ids[0], "%s", id);
    *status = 429;
    *retry_after_s = RETRY_AFTER_S;
}

/* user: NULL, or the endpoint's timeout in ms. The rejecting and throttling
 * endpoints get a long one: a 4xx or 429 the client timed out on (a loaded
 * machine answers late) is rightly retried as a timeout, yet the sink logged
 * the 4xx (counted as a retried reject) or the 429 (a short wait). */
static void patient(bl_webhook_spec *spec, void *user)
{
    spec->max_attempts = 40; /* an open breaker also uses attempts */
    spec->backoff_base_ms = 100;
    spec->timeout_ms = user ? *(const int *)user : FLAKY_TIMEOUT_MS;
}

typedef struct expect {
    webhook_sink *sink;
    size_t want;
} expect;

static int all_ok(webhook_sink *s, void *user)
{
    return webhook_sink_distinct_ok(s) >= ((expect *)user)->want;
}

static int cmp_hit_id(const void *a, const void *b)
{
    return strcmp(((const sink_hit *)a)->id, ((const sink_hit *)b)->id);
}

/* Copies s's hits sorted by id (stable order within an id is arrival: the
 * sort key ties are broken by at_ms below). */
static size_t hits_by_id(webhook_sink *s, sink_hit **out)
{
    size_t cap = webhook_sink_count(s) + 16;
    *out = calloc(cap, sizeof **out);
    if (!*out)
        return 0;
    size_t n = webhook_sink_hits_to(s, NULL, *out, cap);
    qsort(*out, n, sizeof **out, cmp_hit_id);
    return n;
}

static void flaky_sink_gets_every_event_with_stable_ids(webhook_sink *s)
{
    sink_hit *h = NULL;
    size_t n = hits_by_id(s, &h);
    size_t distinct = 0, duplicated = 0, failures = 0, resets = 0, bodies_differ = 0, unanswered_ids = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, ok = 0;
        for (; j < n && strcmp(h[j].id, h[i].id) == 0; j++) {
            ok += h[j].status / 100 == 2;
            failures += h[j].status / 100 != 2;
            resets += h[j].status == 0;
            if (h[j].body_len != h[i].body_len || memcmp(h[j].body, h[i].body, h[i].body_len) != 0)
                bodies_differ++;
        }
        distinct++;
        duplicated += j - i > 1;
        unanswered_ids += ok == 0;
        i = j;
    }
    printf("  flaky sink: %zu requests, %zu failed (%zu resets), %zu ids, %zu retried\n", n, failures, resets,
           distinct, duplicated);
    CHECK_EQ_INT((long)distinct, EVENTS);
    CHECK_EQ_INT((long)unanswered_ids, 0);
    CHECK(duplicated > 0);   /* the sink did fail some: retries happened */
    CHECK(resets > 0);
    CHECK_EQ_INT((long)bodies_differ, 0);
    free(h);
}

static void rejected_events_get_exactly_one_request(webhook_sink *s)
{
    sink_hit *h = NULL;
    size_t n = hits_by_id(s, &h);
    size_t rejected = 0, retried_rejects = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(h[j].id, h[i].id) == 0)
            j++;
        if (rejected_id(h[i].id)) {
            rejected++;
            retried_rejects += j - i != 1;
        }
        i = j;
    }
    printf("  rejecting sink: %zu requests, %zu events rejected\n", n, rejected);
    CHECK(rejected > 0);
    CHECK_EQ_INT((long)retried_rejects, 0);
    free(h);
}

static void throttled_events_wait_for_retry_after(webhook_sink *s)
{
    sink_hit *h = NULL;
    size_t n = hits_by_id(s, &h);
    size_t ids = 0, early = 0;
    int64_t min_gap = INT64_MAX;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        const sink_hit *throttled = NULL, *next = NULL;
        for (; j < n && strcmp(h[j].id, h[i].id) == 0; j++)
            if (h[j].status == 429)
                throttled = &h[j];
        for (size_t k = i; k < j; k++)
            if (h[k].status != 429 && (!next || h[k].at_ms < next->at_ms))
                next = &h[k];
        if (throttled && next) {
            int64_t gap = next->at_ms - throttled->at_ms;
            early += gap < RETRY_AFTER_S * 1000;
            if (gap < min_gap)
                min_gap = gap;
        }
        ids++;
        i = j;
    }
    printf("  throttling sink: %zu ids, shortest wait after a 429 %lld ms (Retry-After: %d)\n", ids,
           (long long)min_gap, RETRY_AFTER_S);
    CHECK_EQ_INT((long)ids, EVENTS);
    CHECK_EQ_INT((long)early, 0);
    free(h);
}

static void misbehaving_receivers(void)
{
    static seen_ids seen;
    webhook_sink flaky_sink, reject_sink, throttle_sink;
    REQUIRE(webhook_sink_start(&flaky_sink, flaky, NULL) == 0);
    REQUIRE(webhook_sink_start(&reject_sink, rejecting, NULL) == 0);
    REQUIRE(webhook_sink_start(&throttle_sink, throttling, &seen) == 0);
    wh_e2e e = {0};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url[3][128];
    webhook_sink_url(&flaky_sink, "/flaky", url[0], sizeof url[0]);
    webhook_sink_url(&reject_sink, "/reject", url[1], sizeof url[1]);
    webhook_sink_url(&throttle_sink, "/throttle", url[2], sizeof url[2]);
    static const int patient_timeout_ms = 30000;
    for (int i = 0; i < 3; i++) {
        const void *timeout = i > 0 ? &patient_timeout_ms : NULL;
        char *id = wh_e2e_endpoint(&e, "org-flaky", url[i], "webhook.*", patient, (void *)timeout, NULL);
        REQUIRE(id != NULL);
        free(id);
    }
    REQUIRE(wh_e2e_wait_cache(&e, 3) == 0);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    REQUIRE(wh_e2e_append(&e, "org-flaky", "ep-flaky", EVENTS, "flaky-") == 0);
    expect ok_all = {.want = EVENTS};
    expect ok_accepted = {.want = 1};
    CHECK(webhook_sink_wait(&flaky_sink, all_ok, &ok_all, 60000));
    CHECK(webhook_sink_wait(&throttle_sink, all_ok, &ok_all, 30000));
    CHECK(webhook_sink_wait(&reject_sink, all_ok, &ok_accepted, 10000));
    /* every event reached the rejecting sink once; wait for the last of them */
    for (int i = 0; i < 200 && webhook_sink_count(&reject_sink) < EVENTS; i++)
        usleep(50 * 1000);
    usleep(1500 * 1000); /* a (wrong) retry of a 4xx would come from the 1 s tier */
    flaky_sink_gets_every_event_with_stable_ids(&flaky_sink);
    rejected_events_get_exactly_one_request(&reject_sink);
    CHECK_EQ_INT((long)webhook_sink_count(&reject_sink), EVENTS);
    throttled_events_wait_for_retry_after(&throttle_sink);
done:
    wh_e2e_close(&e);
    webhook_sink_stop(&flaky_sink);
    webhook_sink_stop(&reject_sink);
    webhook_sink_stop(&throttle_sink);
}

int main(void)
{
    BL_RUN(misbehaving_receivers);
    return bl_test_summary();
}
