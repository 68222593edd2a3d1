#include "core/cron.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Unix seconds of a UTC time "YYYY-MM-DD HH:MM". */
static int64_t utc(const char *s)
{
    struct tm tm = {0};
    sscanf(s, "%d-%d-%d %d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static int64_t next_of(const char *expr, const char *tz, const char *after_utc)
{
    bl_cron c;
    bl_err err = {0};
    if (bl_cron_parse(expr, tz, &c, &err) != 0) {
        fprintf(stderr, "  parse %s: %s\n", expr, err.msg);
        return -2;
    }
    return bl_cron_next(&c, utc(after_utc));
}

static void every_minute_fires_on_the_next_minute(void)
{
    CHECK_EQ_INT(next_of("* * * * *", "UTC", "2026-03-01 10:00"), utc("2026-03-01 10:01"));
    CHECK_EQ_INT(next_of("*/15 * * * *", "UTC", "2026-03-01 10:07"), utc("2026-03-01 10:15"));
}

static void local_time_of_the_zone_is_what_fires(void)
{
    /* 09:00 in Paris is 08:00 UTC in winter, 07:00 UTC in summer */
    CHECK_EQ_INT(next_of("0 9 * * *", "Europe/Paris", "2026-01-10 12:00"), utc("2026-01-11 08:00"));
    CHECK_EQ_INT(next_of("0 9 * * *", "Europe/Paris", "2026-07-10 12:00"), utc("2026-07-11 07:00"));
    CHECK_EQ_INT(next_of("30 8 * * MON-FRI", "America/New_York", "2026-01-09 20:00"), utc("2026-01-12 13:30"));
}

static void skipped_wall_time_fires_once_when_the_clocks_jump(void)
{
    /* Paris, 29 March 2026: 02:00 local jumps to 03:00 (01:00 UTC) */
    CHECK_EQ_INT(next_of("30 2 * * *", "Europe/Paris", "2026-03-28 12:00"), utc("2026-03-29 01:00"));
    /* every minute of the gap is one fire at the jump; the next is 03:01 */
    int64_t jump = next_of("* 2,3 * * *", "Europe/Paris", "2026-03-29 00:58");
    CHECK_EQ_INT(jump, utc("2026-03-29 01:00"));
    bl_cron c;
    bl_err err = {0};
    REQUIRE(bl_cron_parse("* 2,3 * * *", "Europe/Paris", &c, &err) == 0);
    CHECK_EQ_INT(bl_cron_next(&c, jump), utc("2026-03-29 01:01"));
}

static void repeated_wall_time_fires_at_its_first_showing_only(void)
{
    /* Paris, 25 October 2026: 03:00 local goes back to 02:00 (01:00 UTC) */
    CHECK_EQ_INT(next_of("30 2 * * *", "Europe/Paris", "2026-10-24 12:00"), utc("2026-10-25 00:30"));
    /* from just after the first showing: the next is the next day's */
    CHECK_EQ_INT(next_of("30 2 * * *", "Europe/Paris", "2026-10-25 00:31"), utc("2026-10-26 01:30"));
}

static void both_day_fields_restricted_fire_on_either(void)
{
    /* the 13th (a Tuesday in January 2026) or any Friday */
    CHECK_EQ_INT(next_of("0 0 13 * FRI", "UTC", "2026-01-10 00:00"), utc("2026-01-13 00:00"));
    CHECK_EQ_INT(next_of("0 0 13 * FRI", "UTC", "2026-01-13 00:00"), utc("2026-01-16 00:00"));
    CHECK_EQ_INT(next_of("0 0 * * 7", "UTC", "2026-01-10 00:00"), utc("2026-01-11 00:00")); /* 7 is Sunday */
}

static void names_ranges_steps_and_macros_parse(void)
{
    CHECK_EQ_INT(next_of("0 12 1 JAN,jul *", "UTC", "2026-02-01 00:00"), utc("2026-07-01 12:00"));
    CHECK_EQ_INT(next_of("5-50/15 * * * *", "UTC", "2026-02-01 00:21"), utc("2026-02-01 00:35"));
    CHECK_EQ_INT(next_of("@daily", "UTC", "2026-02-01 00:21"), utc("2026-02-02 00:00"));
    CHECK_EQ_INT(next_of("0 0 29 2 *", "UTC", "2026-03-01 00:00"), utc("2028-02-29 00:00"));
}

static void bad_expressions_and_zones_are_refused(void)
{
    bl_cron c;
    bl_err err = {0};
    static const char *const bad[] = {"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
                                      "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *",
                                      "1,,2 * * * *", "@sometimes"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(bl_cron_parse(bad[i], "UTC", &c, &err) == -1);
        CHECK_EQ_INT(err.code, BL_EINVAL);
    }
    CHECK(bl_cron_parse("* * * * *", "Europe/Atlantis", &c, &err) == -1);
    CHECK(strstr(err.msg, "time zone") != NULL);
    REQUIRE(bl_cron_parse("0 0 30 2 *", "UTC", &c, &err) == 0);
    CHECK_EQ_INT(bl_cron_next(&c, utc("2026-01-01 00:00")), -1);
}

int main(void)
{
    BL_RUN(every_minute_fires_on_the_next_minute);
    BL_RUN(local_time_of_the_zone_is_what_fires);
    BL_RUN(skipped_wall_time_fires_once_when_the_clocks_jump);
    BL_RUN(repeated_wall_time_fires_at_its_first_showing_only);
    BL_RUN(both_day_fields_restricted_fire_on_either);
    BL_RUN(names_ranges_steps_and_macros_parse);
    BL_RUN(bad_expressions_and_zones_are_refused);
    return bl_test_summary();
}
