/* Calendar arithmetic (H. Hinnant's days-from-civil algorithms) and RFC 3339. */
#include "core/time_format.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int64_t bl_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp + (mp < 10 ? 3 : -9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int expect_char(const char **p, const char *set)
{
    if (!**p || !strchr(set, **p))
        return -1;
    (*p)++;
    return 0;
}

int bl_rfc3339_parse_millis(const char *s, int64_t *millis)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec, ms = 0;
    const char *p = s;
    if (digits(&p, 4, &y) || expect_char(&p, "-") || digits(&p, 2, &mo) ||
        expect_char(&p, "-") || digits(&p, 2, &d) || expect_char(&p, "Tt ") ||
        digits(&p, 2, &h) || expect_char(&p, ":") || digits(&p, 2, &mi) ||
        expect_char(&p, ":") || digits(&p, 2, &sec))
        return -1;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n < 3)
                ms = ms * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            ms *= 10;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (digits(&p, 2, &oh) || expect_char(&p, ":") || digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset_min = sign * (oh * 60 + om);
    } else {
        return -1;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return -1;
    int64_t secs = bl_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    *millis = secs * 1000 + ms;
    return 0;
}

void bl_rfc3339_format_millis(int64_t millis, char *out, size_t len)
{
    int64_t days = millis / 86400000, rem = millis % 86400000;
    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    int64_t y, m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, len, "%04" PRId64 "-%02" PRId64 "-%02" PRId64 "T%02d:%02d:%02d.%03dZ", y, m, d,
             (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
}

int bl_rfc3339_from_ms(int64_t ms, char out[BL_RFC3339_MS_SIZE], bl_err *err)
{
    /* 0000-01-01 .. 9999-12-31T23:59:59.999Z in unix ms */
    if (ms < -62167219200000LL || ms > 253402300799999LL)
        return bl_err_set(err, BL_EINVAL, "time %lld ms is outside years 0000..9999", (long long)ms);
    char text[32];
    bl_rfc3339_format_millis(ms, text, sizeof text);
    memcpy(out, text, BL_RFC3339_MS_SIZE - 1);
    out[BL_RFC3339_MS_SIZE - 1] = '\0';
    return 0;
}
