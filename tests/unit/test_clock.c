#include "core/clock.h"
#include "tests/support/test.h"

#include <stdint.h>

static int64_t ts_ms(struct timespec t)
{
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void wall_clock_is_unix_epoch_millis(void)
{
    int64_t before = (int64_t)time(NULL) * 1000, now = bl_clock_wall_ms();
    int64_t after = ((int64_t)time(NULL) + 2) * 1000; /* time() may read a coarse clock */
    CHECK(now >= before && now < after);
}

static void monotonic_clock_never_goes_back(void)
{
    int64_t a = bl_clock_mono_ms(), b = bl_clock_mono_ms();
    CHECK(b >= a);
}

static void deadline_is_normalised_and_ms_ahead(void)
{
    for (int64_t ms = 0; ms < 3000; ms += 137) {
        int64_t before = bl_clock_mono_ms();
        struct timespec t = bl_clock_deadline_after_ms(CLOCK_MONOTONIC, ms);
        int64_t after = bl_clock_mono_ms();
        CHECK(t.tv_nsec >= 0 && t.tv_nsec < 1000000000L);
        CHECK(ts_ms(t) >= before + ms && ts_ms(t) <= after + ms);
    }
}

static void negative_deadline_counts_as_now(void)
{
    int64_t before = bl_clock_wall_ms();
    struct timespec t = bl_clock_deadline_after_ms(CLOCK_REALTIME, -1500);
    int64_t after = bl_clock_wall_ms();
    CHECK(t.tv_nsec >= 0 && t.tv_nsec < 1000000000L);
    CHECK(ts_ms(t) >= before && ts_ms(t) <= after);
}

int main(void)
{
    BL_RUN(wall_clock_is_unix_epoch_millis);
    BL_RUN(monotonic_clock_never_goes_back);
    BL_RUN(deadline_is_normalised_and_ms_ahead);
    BL_RUN(negative_deadline_counts_as_now);
    return bl_test_summary();
}
