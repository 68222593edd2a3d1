/* Dates without the C library's time zone state: calendar days and RFC 3339. */
#ifndef BUSLINE_CORE_TIME_FORMAT_H
#define BUSLINE_CORE_TIME_FORMAT_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t bl_days_from_civil(int64_t y, int64_t m, int64_t d);

/* RFC 3339 <-> Unix epoch milliseconds. parse accepts "Z" or "+hh:mm" offsets
 * and any number of fraction digits (beyond milliseconds are dropped);
 * returns 0 or -1. format writes UTC "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (at
 * least 32 bytes). */
int bl_rfc3339_parse_millis(const char *s, int64_t *millis);
void bl_rfc3339_format_millis(int64_t millis, char *out, size_t len);

#define BL_RFC3339_MS_SIZE 25 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" + NUL */

/* The same text, fixed width, for years 0000..9999 only (webhook bodies,
 * the delivery log, endpoint rows). Returns 0, or -1 with BL_EINVAL. */
int bl_rfc3339_from_ms(int64_t ms, char out[BL_RFC3339_MS_SIZE], bl_err *err);

#endif
