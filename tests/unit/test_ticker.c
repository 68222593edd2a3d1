/* core/ticker: the job runs again and again, never after stop returns, the
 * first run at once when asked, and stop does not wait out a long period. */
#include "core/ticker.h"
#include "tests/support/test.h"

#include <stdatomic.h>
#include <unistd.h>

static void count(void *ctx)
{
    atomic_fetch_add((atomic_int *)ctx, 1);
}

static void the_job_runs_every_period_and_not_after_stop(void)
{
    atomic_int runs = 0;
    bl_err err = {0};
    bl_ticker *t = bl_ticker_start(5, BL_TICKER_AFTER_A_PERIOD, count, &runs, "test ticker", &err);
    REQUIRE(t != NULL);
    for (int i = 0; i < 2000 && atomic_load(&runs) < 3; i++)
        usleep(5000);
    CHECK(atomic_load(&runs) >= 3);
    bl_ticker_stop(t);
    int at_stop = atomic_load(&runs);
    usleep(50 * 1000);
    CHECK_EQ_INT(atomic_load(&runs), at_stop);
}

static void stop_wakes_a_ticker_with_a_long_period(void)
{
    atomic_int runs = 0;
    bl_err err = {0};
    /* an hour: if stop waited the period out, the test would hang (ctest's timeout fails it) */
    bl_ticker *t = bl_ticker_start(3600 * 1000, BL_TICKER_AFTER_A_PERIOD, count, &runs, "test ticker", &err);
    REQUIRE(t != NULL);
    bl_ticker_stop(t);
    CHECK_EQ_INT(atomic_load(&runs), 0);
    bl_ticker_stop(NULL);
}

static void at_once_runs_before_the_first_period(void)
{
    atomic_int runs = 0;
    bl_err err = {0};
    /* an hour: a run can only come from the start */
    bl_ticker *t = bl_ticker_start(3600 * 1000, BL_TICKER_AT_ONCE, count, &runs, "test ticker", &err);
    REQUIRE(t != NULL);
    for (int i = 0; i < 2000 && atomic_load(&runs) < 1; i++)
        usleep(5000);
    bl_ticker_stop(t);
    CHECK_EQ_INT(atomic_load(&runs), 1);
}

int main(void)
{
    BL_RUN(the_job_runs_every_period_and_not_after_stop);
    BL_RUN(stop_wakes_a_ticker_with_a_long_period);
    BL_RUN(at_once_runs_before_the_first_period);
    return bl_test_summary();
}
