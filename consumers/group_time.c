/* RFC 3339 timestamps for busline groups reset --to-time. */
#include "consumers/group_admin.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Reads exactly n digits into *out; returns the position after, or NULL. */
static const char *digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return NULL;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return s + n;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

int bl_group_parse_rfc3339(const char *text, int64_t *ms)
{
    int y, mo, d, h, mi, sec, frac_ms = 0, off_h = 0, off_m = 0, sign = 0;
    const char *s = text;
    if (!s || !(s = digits(s, 4, &y)) || *s++ != '-' || !(s = digits(s, 2, &mo)) || *s++ != '-' ||
        !(s = digits(s, 2, &d)) || (*s != 'T' && *s != 't' && *s != ' '))
        return -1;
    s++;
    if (!(s = digits(s, 2, &h)) || *s++ != ':' || !(s = digits(s, 2, &mi)) || *s++ != ':' ||
        !(s = digits(s, 2, &sec)))
        return -1;
    if (*s == '.') {
        int n = 0;
        for (s++; isdigit((unsigned char)*s); s++, n++) {
            if (n < 3)
                frac_ms = frac_ms * 10 + (*s - '0');
        }
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            frac_ms *= 10;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        if (!(s = digits(s + 1, 2, &off_h)) || *s++ != ':' || !(s = digits(s, 2, &off_m)) || off_h > 23 ||
            off_m > 59)
            return -1;
    } else {
        return -1;
    }
    if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
                    .tm_sec = sec > 59 ? 59 : sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31))
        return -1;
    *ms = ((int64_t)t - (int64_t)sign * (off_h * 3600 + off_m * 60)) * 1000 + frac_ms;
    return 0;
}
