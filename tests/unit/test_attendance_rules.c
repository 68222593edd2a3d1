/* The field checks of Attendance-X events (producers/attendance/rules.h):
 * e-mail addresses well formed or not, time zones of the IANA database
 * installed here or not (and names that must not reach the file system),
 * event types. */
#include "producers/attendance/rules.h"
#include "tests/support/test.h"

#include <stdlib.h>

static void emails_are_well_formed_or_refused(void)
{
    static const char *const good[] = {"marie.dubois@example.fr", "a+tag@sub.example.co.uk", "x_y-z@ex-ample.org",
                                       "o'brien@example.ie"};
    static const char *const bad[] = {"",         "plain",           "@example.fr",   "a@",
                                      "a@b",      "a..b@example.fr", ".a@example.fr", "a.@example.fr",
                                      "a@-x.com", "a@x-.com",        "a@x..com",      "a@x.com.",
                                      "a b@x.com", "a@b@x.com",      "a@x_y.com"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!bl_attendance_email_ok(good[i])) {
            fprintf(stderr, "  refused %s\n", good[i]);
            CHECK(0);
        }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (bl_attendance_email_ok(bad[i])) {
            fprintf(stderr, "  accepted '%s'\n", bad[i]);
            CHECK(0);
        }
    CHECK(!bl_attendance_email_ok(NULL));
}

static void time_zones_are_those_installed(void)
{
    CHECK(bl_attendance_timezone_ok("Europe/Paris"));
    CHECK(bl_attendance_timezone_ok("UTC"));
    CHECK(bl_attendance_timezone_ok("America/Argentina/Buenos_Aires"));
    CHECK(!bl_attendance_timezone_ok("Europe/Atlantis"));
    CHECK(!bl_attendance_timezone_ok("Europe"));          /* a folder */
    CHECK(!bl_attendance_timezone_ok("zone.tab"));        /* a table, not a zone */
    CHECK(!bl_attendance_timezone_ok("../../etc/passwd"));
    CHECK(!bl_attendance_timezone_ok("/etc/localtime"));
    CHECK(!bl_attendance_timezone_ok("Europe/Paris;rm"));
    CHECK(!bl_attendance_timezone_ok(""));
    CHECK(!bl_attendance_timezone_ok(NULL));
    /* the database's folder is configurable: an empty one knows no zone */
    setenv("BUSLINE_ZONEINFO_DIR", "/nonexistent", 1);
    CHECK(!bl_attendance_timezone_ok("Europe/Paris"));
    unsetenv("BUSLINE_ZONEINFO_DIR");
}

static void event_types_are_the_enum(void)
{
    CHECK(bl_attendance_event_type_ok("training"));
    CHECK(bl_attendance_event_type_ok("webinar"));
    CHECK(!bl_attendance_event_type_ok("Training"));
    CHECK(!bl_attendance_event_type_ok("party"));
    CHECK(!bl_attendance_event_type_ok(NULL));
}

int main(void)
{
    BL_RUN(emails_are_well_formed_or_refused);
    BL_RUN(time_zones_are_those_installed);
    BL_RUN(event_types_are_the_enum);
    return bl_test_summary();
}
