#include "consumers/circuit_breaker.h"
#include "tests/support/test.h"

/* threshold 3 in 1 s, open 5 s, one trial closes. */
static bl_breaker new_breaker(int probes_to_close)
{
    bl_breaker b;
    bl_breaker_config cfg = {.failure_threshold = 3, .window_ms = 1000, .open_ms = 5000,
                             .probes_to_close = probes_to_close};
    bl_err err = {0};
    if (bl_breaker_init(&b, &cfg, &err) != 0)
        fprintf(stderr, "  setup: %s\n", err.msg);
    return b;
}

static void fail_at(bl_breaker *b, int64_t now)
{
    bl_breaker_permit p = bl_breaker_allow(b, now);
    bl_breaker_record(b, &p, false, now);
}

/* Three failures at 0, 1 and 2 ms: open until 5002. */
static void open_by_failures(bl_breaker *b)
{
    fail_at(b, 0);
    fail_at(b, 1);
    fail_at(b, 2);
}

static void failures_spread_wider_than_the_window_keep_it_closed(void)
{
    bl_breaker b = new_breaker(1);
    fail_at(&b, 0);
    fail_at(&b, 500);
    fail_at(&b, 1000); /* the one at 0 is a full window old */
    CHECK_EQ_INT(bl_breaker_state_at(&b, 1000), BL_BREAKER_CLOSED);
    fail_at(&b, 1600);
    CHECK_EQ_INT(bl_breaker_state_at(&b, 1600), BL_BREAKER_CLOSED);
    bl_breaker_permit p = bl_breaker_allow(&b, 1700);
    CHECK(p.allowed && !p.probe);
}

static void threshold_failures_within_the_window_open_it(void)
{
    bl_breaker b = new_breaker(1);
    fail_at(&b, 0);
    bl_breaker_permit ok = bl_breaker_allow(&b, 100);
    bl_breaker_record(&b, &ok, true, 100); /* a success between does not forgive */
    fail_at(&b, 400);
    fail_at(&b, 999);
    CHECK_EQ_INT(bl_breaker_state_at(&b, 999), BL_BREAKER_OPEN);
    bl_breaker_permit p = bl_breaker_allow(&b, 1000);
    CHECK(!p.allowed);
    CHECK_EQ_INT(p.retry_at_ms, 5999);
    CHECK_EQ_STR(bl_breaker_state_name(BL_BREAKER_OPEN), "open");
}

static void open_allows_one_trial_after_open_time_and_its_success_closes(void)
{
    bl_breaker b = new_breaker(1);
    open_by_failures(&b);
    CHECK(!bl_breaker_allow(&b, 5001).allowed);
    bl_breaker_permit trial = bl_breaker_allow(&b, 5002);
    CHECK(trial.allowed && trial.probe);
    CHECK_EQ_INT(bl_breaker_state_at(&b, 5002), BL_BREAKER_HALF_OPEN);
    bl_breaker_permit second = bl_breaker_allow(&b, 5003);
    CHECK(!second.allowed);
    CHECK_EQ_INT(second.retry_at_ms, 10002);
    bl_breaker_record(&b, &trial, true, 5100);
    CHECK_EQ_INT(bl_breaker_state_at(&b, 5100), BL_BREAKER_CLOSED);
    bl_breaker_permit after = bl_breaker_allow(&b, 5101);
    CHECK(after.allowed && !after.probe);
    /* Closing starts a clean count: two more failures do not re-open it. */
    fail_at(&b, 5200);
    fail_at(&b, 5201);
    CHECK_EQ_INT(bl_breaker_state_at(&b, 5201), BL_BREAKER_CLOSED);
}

static void failed_trial_reopens_for_another_open_time(void)
{
    bl_breaker b = new_breaker(1);
    open_by_failures(&b);
    bl_breaker_permit trial = bl_breaker_allow(&b, 6000);
    REQUIRE(trial.probe);
    bl_breaker_record(&b, &trial, false, 6100);
    CHECK_EQ_INT(bl_breaker_state_at(&b, 6100), BL_BREAKER_OPEN);
    bl_breaker_permit p = bl_breaker_allow(&b, 11099);
    CHECK(!p.allowed);
    CHECK_EQ_INT(p.retry_at_ms, 11100);
    CHECK(bl_breaker_allow(&b, 11100).probe);
}

static void trial_that_never_reports_counts_as_failed(void)
{
    bl_breaker b = new_breaker(1);
    open_by_failures(&b);
    bl_breaker_permit lost = bl_breaker_allow(&b, 6000);
    REQUIRE(lost.probe);
    CHECK(!bl_breaker_allow(&b, 10999).allowed);
    bl_breaker_permit p = bl_breaker_allow(&b, 11000); /* re-opened, not a new trial */
    CHECK(!p.allowed);
    CHECK_EQ_INT(p.retry_at_ms, 16000);
    bl_breaker_record(&b, &lost, true, 11001); /* too late to count */
    CHECK_EQ_INT(bl_breaker_state_at(&b, 11001), BL_BREAKER_OPEN);
    bl_breaker_permit next = bl_breaker_allow(&b, 16000);
    REQUIRE(next.probe);
    bl_breaker_record(&b, &lost, true, 16001); /* nor in a later half-open */
    CHECK_EQ_INT(bl_breaker_state_at(&b, 16001), BL_BREAKER_HALF_OPEN);
}

static void outcomes_of_requests_sent_before_opening_are_ignored(void)
{
    bl_breaker b = new_breaker(1);
    bl_breaker_permit early[6];
    for (int i = 0; i < 6; i++)
        early[i] = bl_breaker_allow(&b, 0);
    for (int i = 0; i < 3; i++)
        bl_breaker_record(&b, &early[i], false, 10);
    REQUIRE(bl_breaker_state_at(&b, 10) == BL_BREAKER_OPEN);
    bl_breaker_permit trial = bl_breaker_allow(&b, 5010);
    REQUIRE(trial.probe);
    bl_breaker_record(&b, &early[3], true, 5011); /* not the trial: does not close */
    CHECK_EQ_INT(bl_breaker_state_at(&b, 5011), BL_BREAKER_HALF_OPEN);
    bl_breaker_permit refused = bl_breaker_allow(&b, 5012);
    bl_breaker_record(&b, &refused, false, 5012); /* refused permits change nothing */
    CHECK_EQ_INT(bl_breaker_state_at(&b, 5012), BL_BREAKER_HALF_OPEN);
    bl_breaker_record(&b, &trial, true, 5013);
    REQUIRE(bl_breaker_state_at(&b, 5013) == BL_BREAKER_CLOSED);
    /* Slow failures of requests sent before it opened do not count again. */
    for (int i = 3; i < 6; i++)
        bl_breaker_record(&b, &early[i], false, 5020);
    CHECK_EQ_INT(bl_breaker_state_at(&b, 5020), BL_BREAKER_CLOSED);
}

static void several_successful_trials_needed_when_configured(void)
{
    bl_breaker b = new_breaker(2);
    open_by_failures(&b);
    bl_breaker_permit t1 = bl_breaker_allow(&b, 5002);
    bl_breaker_record(&b, &t1, true, 5003);
    CHECK_EQ_INT(bl_breaker_state_at(&b, 5003), BL_BREAKER_HALF_OPEN);
    bl_breaker_permit t2 = bl_breaker_allow(&b, 5004);
    CHECK(t2.probe);
    bl_breaker_record(&b, &t2, true, 5005);
    CHECK_EQ_INT(bl_breaker_state_at(&b, 5005), BL_BREAKER_CLOSED);
}

static void out_of_range_config_is_refused(void)
{
    bl_breaker b;
    bl_err err = {0};
    bl_breaker_config cfg = bl_breaker_config_default();
    CHECK_EQ_INT(bl_breaker_init(&b, NULL, &err), 0);
    CHECK_EQ_INT(b.cfg.failure_threshold, 5);
    cfg.failure_threshold = 0;
    CHECK_EQ_INT(bl_breaker_init(&b, &cfg, &err), -1);
    CHECK(strstr(err.msg, "failure_threshold") != NULL);
    cfg = bl_breaker_config_default();
    cfg.failure_threshold = BL_BREAKER_MAX_THRESHOLD + 1;
    CHECK_EQ_INT(bl_breaker_config_check(&cfg, &err), -1);
    cfg = bl_breaker_config_default();
    cfg.open_ms = 0;
    CHECK_EQ_INT(bl_breaker_config_check(&cfg, &err), -1);
    CHECK(strstr(err.msg, "open_ms") != NULL);
    cfg = bl_breaker_config_default();
    cfg.window_ms = -1;
    CHECK_EQ_INT(bl_breaker_config_check(&cfg, &err), -1);
    cfg = bl_breaker_config_default();
    cfg.probes_to_close = 0;
    CHECK_EQ_INT(bl_breaker_config_check(&cfg, &err), -1);
}

int main(void)
{
    BL_RUN(failures_spread_wider_than_the_window_keep_it_closed);
    BL_RUN(threshold_failures_within_the_window_open_it);
    BL_RUN(open_allows_one_trial_after_open_time_and_its_success_closes);
    BL_RUN(failed_trial_reopens_for_another_open_time);
    BL_RUN(trial_that_never_reports_counts_as_failed);
    BL_RUN(outcomes_of_requests_sent_before_opening_are_ignored);
    BL_RUN(several_successful_trials_needed_when_configured);
    BL_RUN(out_of_range_config_is_refused);
    return bl_test_summary();
}
