/* Field checks of Attendance-X events (rules.h). */
#include "producers/attendance/rules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const bl_attendance_event_types[] = {"training", "meeting", "conference", "workshop",
                                                 "webinar",  "other",   NULL};

const char *const bl_attendance_statuses[] = {"PRESENT", "LATE", "ABSENT", "EXCUSED", NULL};

#define ZONE_NAME_MAX 64

bool bl_attendance_event_type_ok(const char *type)
{
    for (size_t i = 0; type && bl_attendance_event_types[i]; i++)
        if (strcmp(type, bl_attendance_event_types[i]) == 0)
            return true;
    return false;
}

bool bl_attendance_timezone_ok(const char *tz)
{
    size_t n = tz ? strlen(tz) : 0;
    if (n == 0 || n > ZONE_NAME_MAX || tz[0] == '/' || strstr(tz, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)tz[i]) && !strchr("_-+/", tz[i]))
            return false;
    const char *dir = getenv("BUSLINE_ZONEINFO_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
    /* The folder also holds tables (zone.tab, leap-seconds.list) and folders
     * (Europe): only a compiled zone starts with the TZif magic. */
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char magic[4] = {0};
    size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    return got == sizeof magic && memcmp(magic, "TZif", 4) == 0;
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
