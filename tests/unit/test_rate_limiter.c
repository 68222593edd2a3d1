#include "consumers/rate_limiter.h"
#include "tests/support/test.h"

#include <math.h>

static void burst_is_served_at_once_then_the_rate_applies(void)
{
    bl_rate_limiter l;
    bl_err err = {0};
    REQUIRE(bl_rate_limiter_init(&l, 10, 5, 1000, &err) == 0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(bl_rate_limiter_try_take(&l, 1000), 0);
    CHECK_EQ_INT(bl_rate_limiter_try_take(&l, 1000), 100);
    CHECK_EQ_INT(bl_rate_limiter_try_take(&l, 1060), 40);
    CHECK_EQ_INT(bl_rate_limiter_try_take(&l, 1100), 0);
    CHECK_EQ_INT(bl_rate_limiter_try_take(&l, 1100), 100);
}

static void idle_time_refills_only_up_to_burst(void)
{
    bl_rate_limiter l;
    bl_err err = {0};
    REQUIRE(bl_rate_limiter_init(&l, 100, 3, 0, &err) == 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(bl_rate_limiter_try_take(&l, 0), 0);
    int taken = 0;
    while (bl_rate_limiter_try_take(&l, 3600000) == 0 && taken < 100)
        taken++;
    CHECK_EQ_INT(taken, 3);
}

static void over_a_second_the_rate_is_kept_exactly(void)
{
    bl_rate_limiter l;
    bl_err err = {0};
    REQUIRE(bl_rate_limiter_init(&l, 3, 2, 0, &err) == 0);
    /* Asking every ms for 10 s gives the burst plus 3 per second (with a
     * burst of 2 no fraction of a token is cut off at the cap). */
    int taken = 0;
    for (int64_t t = 0; t <= 10000; t++)
        if (bl_rate_limiter_try_take(&l, t) == 0)
            taken++;
    CHECK_EQ_INT(taken, 32);
}

static void slow_rates_wait_whole_seconds(void)
{
    bl_rate_limiter l;
    bl_err err = {0};
    REQUIRE(bl_rate_limiter_init(&l, 0.5, 1, 0, &err) == 0);
    CHECK_EQ_INT(bl_rate_limiter_try_take(&l, 0), 0);
    CHECK_EQ_INT(bl_rate_limiter_try_take(&l, 0), 2000);
    CHECK_EQ_INT(bl_rate_limiter_try_take(&l, 1500), 500);
    CHECK_EQ_INT(bl_rate_limiter_try_take(&l, 2000), 0);
}

static void clock_stepping_back_adds_no_tokens(void)
{
    bl_rate_limiter l;
    bl_err err = {0};
    REQUIRE(bl_rate_limiter_init(&l, 10, 1, 5000, &err) == 0);
    CHECK_EQ_INT(bl_rate_limiter_try_take(&l, 5000), 0);
    CHECK(bl_rate_limiter_try_take(&l, 1000) > 0);
    CHECK(bl_rate_limiter_try_take(&l, 5050) > 0);
    CHECK_EQ_INT(bl_rate_limiter_try_take(&l, 5100), 0);
}

static void out_of_range_settings_are_refused(void)
{
    bl_rate_limiter l;
    bl_err err = {0};
    CHECK_EQ_INT(bl_rate_limiter_init(&l, 0, 1, 0, &err), -1);
    CHECK(strstr(err.msg, "rate") != NULL);
    CHECK_EQ_INT(bl_rate_limiter_init(&l, -1, 1, 0, &err), -1);
    CHECK_EQ_INT(bl_rate_limiter_init(&l, NAN, 1, 0, &err), -1);
    CHECK_EQ_INT(bl_rate_limiter_init(&l, 10, 0.5, 0, &err), -1);
    CHECK(strstr(err.msg, "burst") != NULL);
    CHECK_EQ_INT(bl_rate_limiter_init(&l, 2e6, 1, 0, &err), -1);
}

int main(void)
{
    BL_RUN(burst_is_served_at_once_then_the_rate_applies);
    BL_RUN(idle_time_refills_only_up_to_burst);
    BL_RUN(over_a_second_the_rate_is_kept_exactly);
    BL_RUN(slow_rates_wait_whole_seconds);
    BL_RUN(clock_stepping_back_adds_no_tokens);
    BL_RUN(out_of_range_settings_are_refused);
    return bl_test_summary();
}
