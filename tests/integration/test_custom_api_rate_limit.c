/* The three rate-limit strategies of a custom endpoint at their
 * boundaries, on a replica whose clock the test moves: fixed-window,
 * sliding-window and token-bucket, per endpoint per caller. */
#include "tests/support/custom_api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bl_test_custom t;
static time_t start; /* a minute's first second */

#define LIMITED(path, auth, limit)                                                                          \
    "{\"name\":\"limited\",\"path\":\"" path "\",\"method\":\"GET\",\"authentication\":{\"type\":\"" auth "\"},"   \
    "\"rateLimit\":" limit "}"

static void at(long seconds)
{
    __atomic_store_n(&t.clock, start + seconds, __ATOMIC_SEQ_CST);
}

/* Calls path with token (may be NULL) on the pinned replica; the status. */
static long hit(const char *path, const char *token, bl_test_reply *keep)
{
    bl_test_reply r;
    long st = bl_test_custom_call(&t, t.replicas[0], "GET", path, token, NULL, &r);
    if (keep)
        *keep = r;
    else
        bl_test_reply_clear(&r);
    return st;
}

/* The first answer of path that is not 404 (the replica learns of a new
 * endpoint a moment after its save; a 404 spends no limit). */
static long first_served(const char *path, const char *token)
{
    long st = 404;
    for (int i = 0; i < 400 && st == 404; i++)
        if ((st = hit(path, token, NULL)) == 404)
            usleep(25 * 1000);
    return st;
}

static void fixed_window_admits_the_limit_per_clock_minute(void)
{
    REQUIRE(bl_test_custom_create(&t, LIMITED("/fixed", "api-key",
                                              "{\"enabled\":true,\"requestsPerMinute\":3,\"strategy\":\"fixed-window\"}"),
                                  NULL) == 201);
    at(10);
    REQUIRE(first_served("/fixed", t.api.write_token) == 200);
    /* that first answer counted: two more in this minute */
    CHECK_EQ_INT(hit("/fixed", t.api.write_token, NULL), 200);
    CHECK_EQ_INT(hit("/fixed", t.api.write_token, NULL), 200);
    bl_test_reply r;
    CHECK_EQ_INT(hit("/fixed", t.api.write_token, &r), 429);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "type")), "RATE_LIMIT_ERROR");
    CHECK_EQ_STR(r.retry_after, "50");
    CHECK_EQ_STR(r.rl_limit, "3");
    bl_test_reply_clear(&r);
    /* another caller has a window of its own */
    CHECK_EQ_INT(hit("/fixed", t.api.admin_token, NULL), 200);
    at(59);
    CHECK_EQ_INT(hit("/fixed", t.api.write_token, NULL), 429);
    at(60); /* the next minute */
    CHECK_EQ_INT(hit("/fixed", t.api.write_token, NULL), 200);
    CHECK_EQ_INT(hit("/fixed", t.api.write_token, NULL), 200);
    CHECK_EQ_INT(hit("/fixed", t.api.write_token, NULL), 200);
    CHECK_EQ_INT(hit("/fixed", t.api.write_token, NULL), 429);
}

static void sliding_window_admits_the_limit_in_any_sixty_seconds(void)
{
    REQUIRE(bl_test_custom_create(&t, LIMITED("/sliding", "none",
                                              "{\"enabled\":true,\"requestsPerMinute\":3,\"strategy\":\"sliding-window\"}"),
                                  NULL) == 201);
    at(120 + 30);
    REQUIRE(first_served("/sliding", NULL) == 200);
    CHECK_EQ_INT(hit("/sliding", NULL, NULL), 200);
    CHECK_EQ_INT(hit("/sliding", NULL, NULL), 200); /* three at :30 */
    CHECK_EQ_INT(hit("/sliding", NULL, NULL), 429);
    at(180); /* a new clock minute: a fixed window would admit again */
    bl_test_reply r;
    CHECK_EQ_INT(hit("/sliding", NULL, &r), 429);
    CHECK_EQ_STR(r.retry_after, "30");
    bl_test_reply_clear(&r);
    at(180 + 29);
    CHECK_EQ_INT(hit("/sliding", NULL, NULL), 429);
    at(180 + 30); /* sixty seconds after the first three */
    CHECK_EQ_INT(hit("/sliding", NULL, NULL), 200);
    CHECK_EQ_INT(hit("/sliding", NULL, NULL), 200);
    CHECK_EQ_INT(hit("/sliding", NULL, NULL), 200);
    CHECK_EQ_INT(hit("/sliding", NULL, NULL), 429);
}

static void token_bucket_admits_the_burst_then_the_refill_rate(void)
{
    REQUIRE(bl_test_custom_create(&t, LIMITED("/bucket", "none",
                                              "{\"enabled\":true,\"requestsPerMinute\":60,\"burstLimit\":3,"
                                              "\"strategy\":\"token-bucket\"}"),
                                  NULL) == 201);
    at(300);
    REQUIRE(first_served("/bucket", NULL) == 200);
    CHECK_EQ_INT(hit("/bucket", NULL, NULL), 200);
    CHECK_EQ_INT(hit("/bucket", NULL, NULL), 200); /* the burst of three */
    bl_test_reply r;
    CHECK_EQ_INT(hit("/bucket", NULL, &r), 429);
    CHECK_EQ_STR(r.retry_after, "1");
    bl_test_reply_clear(&r);
    at(301); /* one token a second */
    CHECK_EQ_INT(hit("/bucket", NULL, NULL), 200);
    CHECK_EQ_INT(hit("/bucket", NULL, NULL), 429);
    at(400); /* refilled, but never above the burst */
    CHECK_EQ_INT(hit("/bucket", NULL, NULL), 200);
    CHECK_EQ_INT(hit("/bucket", NULL, NULL), 200);
    CHECK_EQ_INT(hit("/bucket", NULL, NULL), 200);
    CHECK_EQ_INT(hit("/bucket", NULL, NULL), 429);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_custom_start(&t, 0, 1, 1) == 0) {
        start = t.clock;
        BL_RUN(fixed_window_admits_the_limit_per_clock_minute);
        BL_RUN(sliding_window_admits_the_limit_in_any_sixty_seconds);
        BL_RUN(token_bucket_admits_the_burst_then_the_refill_rate);
    } else {
        bl_test_failures++;
    }
    bl_test_custom_stop(&t);
    curl_global_cleanup();
    return bl_test_summary();
}
