/* The HTTP client's per-host cap against local servers: a host held at its
 * cap by hanging requests does not hold back another host's requests (with
 * libcurl's own cap it did: its one pending list wakes a single handle per
 * finished transfer, often one of the stuck host's); a waiting request's
 * timeout counts the wait; one host's requests start in submit order; a
 * waiting request can be withdrawn (a sent one cannot); and freeing the
 * client reports the waiting ones as cancelled. */
#include "core/http_client.h"
#include "core/clock.h"
#include "tests/support/test.h"
#include "tests/support/webhook_sink.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define HANG_MS 8000

static void hang_on_slow(size_t n, const char *path, const char *id, int *status, int *retry_after_s,
                         int *sleep_ms, void *user)
{
    (void)n, (void)id, (void)status, (void)retry_after_s, (void)user;
    if (strncmp(path, "/slow", 5) == 0)
        *sleep_ms = HANG_MS;
}

typedef struct tally {
    int fast_ok, slow_done, timeouts, cancelled;
    int order[16];
    int n_order;
} tally;

typedef struct req {
    tally *t;
    int fast; /* 1: to the fast host */
    int index;
} req;

static void on_done(const bl_http_result *r, void *opaque)
{
    req *q = opaque;
    if (r->transport == BL_HTTP_TRANSPORT_CANCELLED)
        q->t->cancelled++;
    else if (r->transport == BL_HTTP_TRANSPORT_TIMEOUT)
        q->t->timeouts++;
    else if (q->fast && r->status == 200)
        q->t->fast_ok++;
    else if (!q->fast)
        q->t->slow_done++;
    if (q->t->n_order < 16)
        q->t->order[q->t->n_order++] = q->index;
}

static int submit(bl_http_client *c, const webhook_sink *s, const char *path, req *q, long timeout_ms)
{
    char url[128];
    webhook_sink_url(s, path, url, sizeof url);
    bl_http_call call = {.method = "POST", .url = url, .body = "{}", .body_len = 2, .timeout_ms = timeout_ms,
                         .on_done = on_done, .opaque = q};
    bl_err err = {0};
    int rc = bl_http_client_submit(c, &call, &err);
    if (rc != 0)
        fprintf(stderr, "submit: %s\n", err.msg);
    return rc;
}

static bl_http_client *client_with_cap(long max_host_connections)
{
    bl_err err = {0};
    bl_http_client_config cfg = {.max_host_connections = max_host_connections};
    bl_http_client *c = bl_http_client_new(&cfg, &err);
    if (!c)
        fprintf(stderr, "client: %s\n", err.msg);
    return c;
}

static void stuck_host_does_not_hold_back_another(void)
{
    webhook_sink slow, fast;
    REQUIRE(webhook_sink_start(&slow, hang_on_slow, NULL) == 0);
    REQUIRE(webhook_sink_start(&fast, NULL, NULL) == 0);
    bl_err err = {0};
    bl_http_client *c = client_with_cap(2);
    REQUIRE(c != NULL);
    tally t = {0};
    req slow_reqs[6], fast_reqs[10];
    for (int i = 0; i < 6; i++) {
        slow_reqs[i] = (req){&t, 0, i};
        REQUIRE(submit(c, &slow, "/slow", &slow_reqs[i], 2 * HANG_MS) == 0);
    }
    for (int i = 0; i < 10; i++) {
        fast_reqs[i] = (req){&t, 1, 100 + i};
        REQUIRE(submit(c, &fast, "/fast", &fast_reqs[i], 2 * HANG_MS) == 0);
    }
    CHECK_EQ_INT((long)bl_http_client_in_flight(c), 16);
    /* Run until every fast request is answered or a slow one ends (the hang
     * is over): which comes first is the point, not how long it took. */
    int64_t give_up = bl_clock_mono_ms() + 3 * HANG_MS;
    while (t.fast_ok + t.timeouts < 10 && t.slow_done == 0 && bl_clock_mono_ms() < give_up)
        REQUIRE(bl_http_client_run(c, 100, &err) >= 0);
    CHECK_EQ_INT(t.fast_ok, 10);
    CHECK_EQ_INT(t.slow_done, 0);
    CHECK_EQ_INT(t.timeouts, 0);
    /* only the cap's worth reached the stuck host (the second may still be
     * on its way when the fast ones are done) */
    for (int i = 0; i < 200 && webhook_sink_count(&slow) < 2; i++)
        REQUIRE(bl_http_client_run(c, 10, &err) >= 0);
    CHECK_EQ_INT((long)webhook_sink_count(&slow), 2);
    webhook_sink_stop(&slow); /* cuts the hang short */
    bl_http_client_free(c);
    CHECK_EQ_INT(t.cancelled + t.slow_done, 6);
    webhook_sink_stop(&fast);
}

static void waiting_counts_toward_the_timeout(void)
{
    webhook_sink slow;
    REQUIRE(webhook_sink_start(&slow, hang_on_slow, NULL) == 0);
    bl_err err = {0};
    bl_http_client *c = client_with_cap(1);
    REQUIRE(c != NULL);
    tally t = {0};
    req a = {&t, 0, 1}, b = {&t, 0, 2};
    REQUIRE(submit(c, &slow, "/slow", &a, 4 * HANG_MS) == 0);
    REQUIRE(submit(c, &slow, "/slow", &b, 300) == 0);
    int64_t give_up = bl_clock_mono_ms() + 3 * HANG_MS;
    while (t.timeouts == 0 && t.slow_done == 0 && bl_clock_mono_ms() < give_up)
        REQUIRE(bl_http_client_run(c, 1000, &err) >= 0);
    CHECK_EQ_INT(t.timeouts, 1);
    CHECK_EQ_INT(t.n_order, 1);
    CHECK_EQ_INT(t.order[0], 2); /* b, which never got its turn */
    CHECK_EQ_INT((long)webhook_sink_count(&slow), 1);
    CHECK_EQ_INT((long)bl_http_client_in_flight(c), 1);
    webhook_sink_stop(&slow);
    bl_http_client_free(c);
    CHECK_EQ_INT(t.cancelled + t.slow_done, 1);
}

static void one_hosts_requests_start_in_order(void)
{
    webhook_sink fast;
    REQUIRE(webhook_sink_start(&fast, NULL, NULL) == 0);
    bl_err err = {0};
    bl_http_client *c = client_with_cap(1);
    REQUIRE(c != NULL);
    tally t = {0};
    req r[5];
    char path[32];
    for (int i = 0; i < 5; i++) {
        r[i] = (req){&t, 1, i};
        snprintf(path, sizeof path, "/r%d", i);
        REQUIRE(submit(c, &fast, path, &r[i], 10000) == 0);
    }
    int64_t give_up = bl_clock_mono_ms() + 20000;
    while (t.fast_ok < 5 && bl_clock_mono_ms() < give_up)
        REQUIRE(bl_http_client_run(c, 100, &err) >= 0);
    CHECK_EQ_INT(t.fast_ok, 5);
    sink_hit hits[5];
    size_t n = webhook_sink_hits_to(&fast, NULL, hits, 5);
    CHECK_EQ_INT((long)n, 5);
    for (int i = 0; i < (int)n; i++) {
        snprintf(path, sizeof path, "/r%d", i);
        CHECK_EQ_STR(hits[i].path, path);
        CHECK_EQ_INT(t.order[i], i);
    }
    bl_http_client_free(c);
    webhook_sink_stop(&fast);
}

static void free_cancels_waiting_requests(void)
{
    webhook_sink slow;
    REQUIRE(webhook_sink_start(&slow, hang_on_slow, NULL) == 0);
    bl_err err = {0};
    bl_http_client *c = client_with_cap(1);
    REQUIRE(c != NULL);
    tally t = {0};
    req r[3] = {{&t, 0, 0}, {&t, 0, 1}, {&t, 0, 2}};
    for (int i = 0; i < 3; i++)
        REQUIRE(submit(c, &slow, "/slow", &r[i], 0) == 0);
    for (int i = 0; i < 400 && webhook_sink_count(&slow) == 0; i++)
        REQUIRE(bl_http_client_run(c, 10, &err) >= 0);
    CHECK_EQ_INT((long)webhook_sink_count(&slow), 1);
    bl_http_client_free(c);
    CHECK_EQ_INT(t.cancelled, 3);
    webhook_sink_stop(&slow);
}

static void only_a_waiting_request_can_be_withdrawn(void)
{
    webhook_sink slow;
    REQUIRE(webhook_sink_start(&slow, hang_on_slow, NULL) == 0);
    bl_err err = {0};
    bl_http_client *c = client_with_cap(1);
    REQUIRE(c != NULL);
    tally t = {0};
    req a = {&t, 0, 1}, b = {&t, 0, 2}, other = {&t, 0, 3};
    REQUIRE(submit(c, &slow, "/slow", &a, 0) == 0);
    REQUIRE(submit(c, &slow, "/slow", &b, 0) == 0);
    for (int i = 0; i < 400 && webhook_sink_count(&slow) == 0; i++)
        REQUIRE(bl_http_client_run(c, 10, &err) >= 0);
    char url[128];
    webhook_sink_url(&slow, "/slow", url, sizeof url);
    CHECK_EQ_INT(bl_http_client_withdraw(c, url, &other), 0); /* never submitted */
    CHECK_EQ_INT(bl_http_client_withdraw(c, url, &a), 0);     /* on the wire */
    CHECK_EQ_INT(bl_http_client_withdraw(c, url, &b), 1);
    CHECK_EQ_INT(bl_http_client_withdraw(c, url, &b), 0);
    CHECK_EQ_INT((long)bl_http_client_in_flight(c), 1);
    webhook_sink_stop(&slow);
    bl_http_client_free(c);
    CHECK_EQ_INT(t.n_order, 1); /* a only: b's on_done never ran */
    CHECK_EQ_INT(t.order[0], 1);
}

int main(void)
{
    BL_RUN(stuck_host_does_not_hold_back_another);
    BL_RUN(waiting_counts_toward_the_timeout);
    BL_RUN(one_hosts_requests_start_in_order);
    BL_RUN(only_a_waiting_request_can_be_withdrawn);
    BL_RUN(free_cancels_waiting_requests);
    return bl_test_summary();
}
