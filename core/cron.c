/* Cron schedules in a time zone (cron.h). The search walks the wall clock
 * (local time written as if it were UTC, so calendar arithmetic is
 * timegm's and knows no DST) field by field, and only then asks the zone
 * which instants show that wall time: none (a gap), one, or two (an
 * overlap). */
#include "core/cron.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SEARCH_YEARS 5

typedef struct field {
    const char *name;
    int lo, hi;
    const char *const *names; /* names[i] is value lo + i (NULL: none) */
} field;

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

static const field fields[5] = {
    {"minute", 0, 59, NULL}, {"hour", 0, 23, NULL}, {"day of month", 1, 31, NULL},
    {"month", 1, 12, month_names}, {"day of week", 0, 7, day_names},
};

/* One value of f at *s (a number or a name), advancing *s. -1 when none. */
static int value_at(const field *f, const char **s)
{
    if (**s >= '0' && **s <= '9') {
        char *end = NULL;
        long v = strtol(*s, &end, 10);
        *s = end;
        return v >= f->lo && v <= f->hi ? (int)v : -1;
    }
    for (int i = 0; f->names && f->names[i]; i++)
        if (strncasecmp(*s, f->names[i], 3) == 0) {
            *s += 3;
            return f->lo + i;
        }
    return -1;
}

/* Parses one field (text of length n) into bits; *any when it is "*". */
static int parse_field(const field *f, const char *text, size_t n, uint64_t *bits, bool *any, bl_err *err)
{
    char buf[128];
    if (n == 0 || n >= sizeof buf)
        return bl_err_set(err, BL_EINVAL, "cron: the %s field is empty or too long", f->name);
    memcpy(buf, text, n);
    buf[n] = '\0';
    *bits = 0;
    *any = strcmp(buf, "*") == 0;
    if (buf[0] == ',' || buf[n - 1] == ',' || strstr(buf, ",,"))
        goto bad;
    for (char *save = NULL, *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        const char *s = item;
        int a, b, step = 1;
        if (*s == '*') {
            a = f->lo;
            b = f == &fields[4] ? 6 : f->hi;
            s++;
        } else {
            if ((a = value_at(f, &s)) < 0)
                goto bad;
            b = a;
            if (*s == '-') {
                s++;
                if ((b = value_at(f, &s)) < 0 || b < a)
                    goto bad;
            }
        }
        if (*s == '/') {
            s++;
            char *end = NULL;
            long v = strtol(s, &end, 10);
            if (end == s || v < 1 || v > f->hi)
                goto bad;
            step = (int)v;
            s = end;
            if (b == a && item[0] != '*')
                b = f == &fields[4] ? 6 : f->hi; /* "5/15": from 5 to the end */
        }
        if (*s != '\0')
            goto bad;
        for (int v = a; v <= b; v += step)
            *bits |= 1ULL << (f == &fields[4] && v == 7 ? 0 : v);
    }
    return 0;
bad:
    return bl_err_set(err, BL_EINVAL, "cron: \"%.*s\" is not a %s (%d-%d, lists, ranges and steps)", (int)n, text,
                      f->name, f->lo, f->hi);
}

static const struct {
    const char *name, *expr;
} macros[] = {{"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
              {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
              {"@hourly", "0 * * * *"}};

int bl_cron_parse(const char *expr, const char *tz, bl_cron *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    if (!bl_tz_name_ok(tz))
        return bl_err_set(err, BL_EINVAL, "cron: \"%s\" is not an IANA time zone", tz ? tz : "");
    snprintf(out->tz, sizeof out->tz, "%s", tz);
    if (!expr)
        return bl_err_set(err, BL_EINVAL, "cron: an expression is required");
    for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
        if (strcasecmp(expr, macros[i].name) == 0)
            expr = macros[i].expr;
    const char *s = expr;
    uint64_t bits[5];
    bool any[5];
    int n = 0;
    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        size_t len = strcspn(s, " \t");
        if (n == 5 || parse_field(&fields[n], s, len, &bits[n], &any[n], err) != 0)
            return n == 5 ? bl_err_set(err, BL_EINVAL, "cron: \"%s\" has more than five fields", expr) : -1;
        n++;
        s += len;
    }
    if (n != 5)
        return bl_err_set(err, BL_EINVAL,
                          "cron: \"%s\" needs five fields (minute hour day-of-month month day-of-week)", expr);
    out->minutes = bits[0];
    out->hours = (uint32_t)bits[1];
    out->days = (uint32_t)bits[2];
    out->months = (uint16_t)bits[3];
    out->weekdays = (uint8_t)bits[4];
    out->days_any = any[2];
    out->weekdays_any = any[4];
    return 0;
}

static bool day_matches(const bl_cron *c, const struct tm *tm)
{
    bool dom = (c->days >> tm->tm_mday) & 1, dow = (c->weekdays >> tm->tm_wday) & 1;
    if (c->days_any || c->weekdays_any)
        return dom && dow; /* "*" matches every day, so this is the restricted one */
    return dom || dow;
}

/* The wall clock of c's zone at instant t. */
static int64_t wall_of(const bl_cron *c, int64_t t)
{
    return t + bl_tz_offset(c->tz, t);
}

/* The first instant showing wall clock w, or in a gap the instant the
 * clocks jump past it; -1 when that instant is not after t or only a
 * second showing of w is (an overlap's first showing came first). */
static int64_t instant_of(const bl_cron *c, int64_t w, int64_t t)
{
    int64_t before = bl_tz_offset(c->tz, w - 86400), after = bl_tz_offset(c->tz, w + 86400);
    int64_t a = w - before, b = w - after, first = -1;
    if (wall_of(c, a) == w)
        first = a;
    if (wall_of(c, b) == w && (first < 0 || b < first))
        first = b;
    if (first < 0 && after > before) { /* the gap: the first instant whose wall clock is past w */
        int64_t lo = w - after, hi = w - before;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (wall_of(c, mid) > w)
                hi = mid;
            else
                lo = mid + 1;
        }
        first = lo;
    }
    return first > t ? first : -1;
}

int64_t bl_cron_next(const bl_cron *c, int64_t t)
{
    int64_t w = (wall_of(c, t) / 60) * 60 + 60, end = w + (int64_t)SEARCH_YEARS * 366 * 86400;
    while (w < end) {
        time_t tw = (time_t)w;
        struct tm tm;
        if (!gmtime_r(&tw, &tm))
            return -1;
        if (!((c->months >> (tm.tm_mon + 1)) & 1)) {
            tm.tm_mon++;
            tm.tm_mday = 1;
            tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
            w = (int64_t)timegm(&tm);
        } else if (!day_matches(c, &tm)) {
            w = w - w % 86400 + 86400;
        } else if (!((c->hours >> tm.tm_hour) & 1)) {
            w = w - w % 3600 + 3600;
        } else if (!((c->minutes >> tm.tm_min) & 1)) {
            w += 60;
        } else {
            int64_t at = instant_of(c, w, t);
            if (at >= 0)
                return at;
            w += 60;
        }
    }
    return -1;
}
