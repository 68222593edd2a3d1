/* Cron schedules in a time zone: the five fields of crontab(5) (minute,
 * hour, day of month, month, day of week; "*", "n", "a-b", "*\/s", "a-b/s",
 * lists, JAN-DEC and SUN-SAT names, 7 for Sunday, @hourly @daily @weekly
 * @monthly @yearly), read against the wall clock of an IANA zone.
 *
 * As in Vixie cron, when both day fields are restricted a day matching
 * either one fires. Daylight saving time: a wall time the clocks skip
 * (02:30 on the night they go forward) fires once, at the instant the
 * clocks jump (the first minute after the gap); a wall time that happens
 * twice (01:30 on the night they go back) fires at its first occurrence
 * only. */
#ifndef BUSLINE_CORE_CRON_H
#define BUSLINE_CORE_CRON_H

#include "core/err.h"
#include "core/tz.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct bl_cron {
    uint64_t minutes;      /* bit m: minute m (0..59) */
    uint32_t hours;        /* bit h: 0..23 */
    uint32_t days;         /* bit d: 1..31 */
    uint16_t months;       /* bit m: 1..12 */
    uint8_t weekdays;      /* bit w: 0 (Sunday)..6 */
    bool days_any, weekdays_any;
    char tz[BL_TZ_NAME_MAX + 1];
} bl_cron;

/* Parses expression expr in zone tz (both borrowed) into out. Returns 0,
 * or -1 with err (BL_EINVAL, naming the field at fault). */
int bl_cron_parse(const char *expr, const char *tz, bl_cron *out, bl_err *err);

/* The first instant after t (Unix seconds) at which c fires, in Unix
 * seconds, or -1 when it fires at none in the five years after t
 * ("0 0 30 2 *"). */
int64_t bl_cron_next(const bl_cron *c, int64_t t);

#endif
