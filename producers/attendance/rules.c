/* Field checks of Attendance-X events (rules.h). */
#include "producers/attendance/rules.h"

#include "core/tz.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const bl_attendance_event_types[] = {"training", "meeting", "conference", "workshop",
                                                 "webinar",  "other",   NULL};

const char *const bl_attendance_statuses[] = {"PRESENT", "LATE", "ABSENT", "EXCUSED", NULL};

bool bl_attendance_event_type_ok(const char *type)
{
    for (size_t i = 0; type && bl_attendance_event_types[i]; i++)
        if (strcmp(type, bl_attendance_event_types[i]) == 0)
            return true;
    return false;
}

bool bl_attendance_timezone_ok(const char *tz)
{
    return bl_tz_name_ok(tz);
}

static bool local_part_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' && s[i + 1] == '.')
            return false;
        if (!isalnum(c) && !strchr(".!#$%&'*+/=?^_`{|}~-", c))
            return false;
    }
    return true;
}

static bool domain_ok(const char *s)
{
    size_t labels = 0;
    while (*s) {
        size_t n = strcspn(s, ".");
        if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
            return false;
        for (size_t i = 0; i < n; i++)
            if (!isalnum((unsigned char)s[i]) && s[i] != '-')
                return false;
        labels++;
        s += n;
        if (*s == '.' && *++s == '\0')
            return false; /* a trailing dot */
    }
    return labels >= 2;
}

bool bl_attendance_email_ok(const char *s)
{
    if (!s || strlen(s) > 254)
        return false;
    const char *at = strchr(s, '@');
    if (!at || strchr(at + 1, '@'))
        return false;
    return local_part_ok(s, (size_t)(at - s)) && domain_ok(at + 1);
}
