#include "consumers/retry_policy.h"
#include "tests/support/test.h"

#include <stdint.h>

/* 1994-11-06T08:49:37Z, the RFC 9110 example date, in ms. */
#define RFC_DATE_MS 784111777000LL

static uint32_t fixed_random(void *ctx)
{
    return *(const uint32_t *)ctx;
}

static bl_delivery_outcome status(int s)
{
    return (bl_delivery_outcome){.transport = BL_TRANSPORT_NONE, .status = s};
}

static bl_retry_decision decide(int attempt, bl_delivery_outcome o)
{
    return bl_retry_decide(NULL, attempt, &o, RFC_DATE_MS, NULL, NULL);
}

static void success_statuses_are_delivered(void)
{
    const int ok[] = {200, 201, 202, 204, 299};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        bl_retry_decision d = decide(1, status(ok[i]));
        CHECK_EQ_INT(d.action, BL_RETRY_DELIVERED);
        CHECK_EQ_INT(d.delay_ms, 0);
    }
}

static void gone_disables_the_endpoint(void)
{
    bl_retry_decision d = decide(1, status(410));
    CHECK_EQ_INT(d.action, BL_RETRY_DISABLE_ENDPOINT);
    CHECK(strstr(d.reason, "410") != NULL);
    CHECK_EQ_INT(decide(3, status(410)).action, BL_RETRY_DISABLE_ENDPOINT);
}

static void server_errors_timeouts_and_network_errors_are_retried(void)
{
    const int retry[] = {408, 429, 500, 502, 503, 504, 599};
    for (size_t i = 0; i < sizeof retry / sizeof retry[0]; i++) {
        bl_retry_decision d = decide(1, status(retry[i]));
        CHECK_EQ_INT(d.action, BL_RETRY_LATER);
        CHECK_EQ_INT(d.delay_ms, 1000);
    }
    const bl_transport_error net[] = {BL_TRANSPORT_TIMEOUT, BL_TRANSPORT_CONNECT, BL_TRANSPORT_RESET,
                                      BL_TRANSPORT_DNS, BL_TRANSPORT_TLS};
    for (size_t i = 0; i < sizeof net / sizeof net[0]; i++) {
        bl_retry_decision d = decide(2, (bl_delivery_outcome){.transport = net[i]});
        CHECK_EQ_INT(d.action, BL_RETRY_LATER);
        CHECK_EQ_INT(d.delay_ms, 2000);
    }
    CHECK_EQ_STR(decide(1, (bl_delivery_outcome){.transport = BL_TRANSPORT_DNS}).reason, "dns failure");
}

static void other_client_errors_redirects_and_odd_statuses_give_up_at_once(void)
{
    const int no_retry[] = {400, 401, 403, 404, 405, 409, 413, 422, 499, 301, 302, 307, 100, 0, 600, -1};
    for (size_t i = 0; i < sizeof no_retry / sizeof no_retry[0]; i++) {
        bl_retry_decision d = decide(1, status(no_retry[i]));
        CHECK_EQ_INT(d.action, BL_RETRY_GIVE_UP);
        CHECK(!d.exhausted);
    }
    CHECK_EQ_STR(decide(1, status(404)).reason, "client error (4xx)");
    CHECK_EQ_STR(decide(1, status(302)).reason, "redirect (3xx) not followed");
    bl_retry_decision blocked = decide(1, (bl_delivery_outcome){.transport = BL_TRANSPORT_BLOCKED});
    CHECK_EQ_INT(blocked.action, BL_RETRY_GIVE_UP);
}

static void attempts_are_bounded_by_max_attempts(void)
{
    CHECK_EQ_INT(decide(1, status(500)).action, BL_RETRY_LATER);
    CHECK_EQ_INT(decide(2, status(500)).action, BL_RETRY_LATER);
    bl_retry_decision last = decide(3, status(500));
    CHECK_EQ_INT(last.action, BL_RETRY_GIVE_UP);
    CHECK(last.exhausted);
    CHECK_EQ_STR(last.reason, "server error (5xx)");
    bl_retry_policy one = bl_retry_policy_default();
    one.max_attempts = 1;
    bl_delivery_outcome o = status(503);
    CHECK_EQ_INT(bl_retry_decide(&one, 1, &o, 0, NULL, NULL).action, BL_RETRY_GIVE_UP);
}

static void backoff_doubles_from_the_base_up_to_the_cap(void)
{
    bl_retry_policy p = bl_retry_policy_default();
    p.max_attempts = 20;
    p.max_delay_ms = 10000;
    bl_delivery_outcome o = status(500);
    const int64_t want[] = {1000, 2000, 4000, 8000, 10000, 10000};
    for (int a = 1; a <= 6; a++)
        CHECK_EQ_INT(bl_retry_decide(&p, a, &o, 0, NULL, NULL).delay_ms, want[a - 1]);
    p.factor = 3;
    p.base_delay_ms = 500;
    CHECK_EQ_INT(bl_retry_decide(&p, 3, &o, 0, NULL, NULL).delay_ms, 4500);
    /* Huge attempt numbers stay at the cap instead of overflowing. */
    p.max_attempts = 100;
    CHECK_EQ_INT(bl_retry_decide(&p, 99, &o, 0, NULL, NULL).delay_ms, 10000);
}

static void jitter_stays_within_plus_minus_twenty_percent(void)
{
    bl_retry_policy p = bl_retry_policy_default();
    p.max_attempts = 10;
    bl_delivery_outcome o = status(502);
    uint32_t r = 0;
    CHECK_EQ_INT(bl_retry_decide(&p, 2, &o, 0, fixed_random, &r).delay_ms, 1600);
    r = 0x80000000u;
    CHECK_EQ_INT(bl_retry_decide(&p, 2, &o, 0, fixed_random, &r).delay_ms, 2000);
    r = UINT32_MAX;
    CHECK_EQ_INT(bl_retry_decide(&p, 2, &o, 0, fixed_random, &r).delay_ms, 2400);
    /* Same random value, same delay: deterministic. */
    r = 12345678;
    int64_t a = bl_retry_decide(&p, 3, &o, 0, fixed_random, &r).delay_ms;
    CHECK_EQ_INT(bl_retry_decide(&p, 3, &o, 0, fixed_random, &r).delay_ms, a);
    /* The OS source stays in bounds too. */
    for (int i = 0; i < 200; i++) {
        int64_t d = bl_retry_decide(&p, 3, &o, 0, bl_random_u32_os, NULL).delay_ms;
        CHECK(d >= 3200 && d <= 4800);
    }
    /* Jitter never pushes a delay above the cap. */
    p.max_delay_ms = 3000;
    r = UINT32_MAX;
    CHECK_EQ_INT(bl_retry_decide(&p, 5, &o, 0, fixed_random, &r).delay_ms, 3000);
    r = 0;
    CHECK_EQ_INT(bl_retry_decide(&p, 5, &o, 0, fixed_random, &r).delay_ms, 2400);
}

static void retry_after_is_honoured_on_429_and_503_in_both_forms(void)
{
    bl_delivery_outcome o = {.status = 429, .retry_after = "120"};
    bl_retry_decision d = bl_retry_decide(NULL, 1, &o, RFC_DATE_MS, NULL, NULL);
    CHECK_EQ_INT(d.action, BL_RETRY_LATER);
    CHECK_EQ_INT(d.delay_ms, 120000);
    o = (bl_delivery_outcome){.status = 503, .retry_after = "Sun, 06 Nov 1994 08:50:07 GMT"};
    CHECK_EQ_INT(bl_retry_decide(NULL, 1, &o, RFC_DATE_MS, NULL, NULL).delay_ms, 30000);
    o.retry_after = "Sunday, 06-Nov-94 08:50:07 GMT";
    CHECK_EQ_INT(bl_retry_decide(NULL, 1, &o, RFC_DATE_MS, NULL, NULL).delay_ms, 30000);
    o.retry_after = "Sun Nov  6 08:50:07 1994";
    CHECK_EQ_INT(bl_retry_decide(NULL, 1, &o, RFC_DATE_MS, NULL, NULL).delay_ms, 30000);
    /* A date already past means "now". */
    o.retry_after = "Sun, 06 Nov 1994 08:00:00 GMT";
    CHECK_EQ_INT(bl_retry_decide(NULL, 1, &o, RFC_DATE_MS, NULL, NULL).delay_ms, 0);
    /* Other statuses ignore it; a malformed value falls back to backoff. */
    o = (bl_delivery_outcome){.status = 500, .retry_after = "120"};
    CHECK_EQ_INT(bl_retry_decide(NULL, 1, &o, RFC_DATE_MS, NULL, NULL).delay_ms, 1000);
    o = (bl_delivery_outcome){.status = 429, .retry_after = "soon"};
    CHECK_EQ_INT(bl_retry_decide(NULL, 1, &o, RFC_DATE_MS, NULL, NULL).delay_ms, 1000);
    /* Attempts still run out. */
    o = (bl_delivery_outcome){.status = 429, .retry_after = "1"};
    CHECK_EQ_INT(bl_retry_decide(NULL, 3, &o, RFC_DATE_MS, NULL, NULL).action, BL_RETRY_GIVE_UP);
}

static void retry_after_is_capped(void)
{
    bl_retry_policy p = bl_retry_policy_default();
    p.max_retry_after_ms = 60000;
    bl_delivery_outcome o = {.status = 503, .retry_after = "86400"};
    CHECK_EQ_INT(bl_retry_decide(&p, 1, &o, RFC_DATE_MS, NULL, NULL).delay_ms, 60000);
    o.retry_after = "99999999999999999999999";
    CHECK_EQ_INT(bl_retry_decide(&p, 1, &o, RFC_DATE_MS, NULL, NULL).delay_ms, 60000);
    o.retry_after = "Fri, 31 Dec 9999 23:59:59 GMT";
    CHECK_EQ_INT(bl_retry_decide(&p, 1, &o, RFC_DATE_MS, NULL, NULL).delay_ms, 60000);
}

static void retry_after_parser_refuses_malformed_values(void)
{
    int64_t ms = -1;
    const char *bad[] = {NULL, "", " ", "-5", "1.5", "12s", "Sun, 06 Nov 1994 08:49:37 UTC",
                         "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 32 Nov 1994 08:49:37 GMT",
                         "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT trailing",
                         "2026-11-25T08:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(bl_retry_after_parse(bad[i], RFC_DATE_MS, &ms) == -1);
    CHECK(bl_retry_after_parse(" 7 ", 0, &ms) == 0);
    CHECK_EQ_INT(ms, 7000);
    CHECK(bl_retry_after_parse("Thu, 01 Jan 1970 00:00:10 GMT", 0, &ms) == 0);
    CHECK_EQ_INT(ms, 10000);
    CHECK(bl_retry_after_parse("Wed, 25 Nov 2026 08:00:00 GMT", 1795593600000LL - 5000, &ms) == 0);
    CHECK_EQ_INT(ms, 5000);
}

static void policy_bounds_are_checked(void)
{
    bl_err err = {0};
    bl_retry_policy p = bl_retry_policy_default();
    CHECK(bl_retry_policy_check(&p, &err) == 0);
    p.max_attempts = 0;
    CHECK(bl_retry_policy_check(&p, &err) == -1);
    CHECK(strstr(err.msg, "max_attempts") != NULL);
    p = bl_retry_policy_default();
    p.base_delay_ms = p.max_delay_ms + 1;
    CHECK(bl_retry_policy_check(&p, &err) == -1);
    CHECK(strstr(err.msg, "base_delay_ms") != NULL);
    p = bl_retry_policy_default();
    p.jitter = 1.5;
    CHECK(bl_retry_policy_check(&p, &err) == -1);
    p = bl_retry_policy_default();
    p.factor = 0.5;
    CHECK(bl_retry_policy_check(&p, &err) == -1);
    CHECK(strstr(err.msg, "factor") != NULL);
}

static void shared_backoff_without_jitter_matches_the_connector_and_pmo_schedules(void)
{
    /* connectors/connect.c: 1 s doubling up to max_backoff_ms */
    bl_retry_policy connect = {.base_delay_ms = 1000, .factor = 2.0, .max_delay_ms = 300000};
    CHECK_EQ_INT(bl_retry_backoff_ms(&connect, 0, NULL, NULL), 1000);
    CHECK_EQ_INT(bl_retry_backoff_ms(&connect, 1, NULL, NULL), 1000);
    CHECK_EQ_INT(bl_retry_backoff_ms(&connect, 4, NULL, NULL), 8000);
    CHECK_EQ_INT(bl_retry_backoff_ms(&connect, 9, NULL, NULL), 256000);
    CHECK_EQ_INT(bl_retry_backoff_ms(&connect, 10, NULL, NULL), 300000);
    CHECK_EQ_INT(bl_retry_backoff_ms(&connect, 5000, NULL, NULL), 300000);
    /* producers/domain_service/service.c: 100 ms doubling up to 5 s */
    bl_retry_policy pmo = {.base_delay_ms = 100, .factor = 2.0, .max_delay_ms = 5000};
    CHECK_EQ_INT(bl_retry_backoff_ms(&pmo, 1, NULL, NULL), 100);
    CHECK_EQ_INT(bl_retry_backoff_ms(&pmo, 6, NULL, NULL), 3200);
    CHECK_EQ_INT(bl_retry_backoff_ms(&pmo, 7, NULL, NULL), 5000);
}

int main(void)
{
    BL_RUN(success_statuses_are_delivered);
    BL_RUN(gone_disables_the_endpoint);
    BL_RUN(server_errors_timeouts_and_network_errors_are_retried);
    BL_RUN(other_client_errors_redirects_and_odd_statuses_give_up_at_once);
    BL_RUN(attempts_are_bounded_by_max_attempts);
    BL_RUN(backoff_doubles_from_the_base_up_to_the_cap);
    BL_RUN(jitter_stays_within_plus_minus_twenty_percent);
    BL_RUN(retry_after_is_honoured_on_429_and_503_in_both_forms);
    BL_RUN(retry_after_is_capped);
    BL_RUN(retry_after_parser_refuses_malformed_values);
    BL_RUN(policy_bounds_are_checked);
    BL_RUN(shared_backoff_without_jitter_matches_the_connector_and_pmo_schedules);
    return bl_test_summary();
}
