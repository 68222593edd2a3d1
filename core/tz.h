/* IANA time zones: the names this process can compute local times in
 * (the compiled zones under /usr/share/zoneinfo, or BUSLINE_ZONEINFO_DIR),
 * and the offset of a zone at an instant. */
#ifndef BUSLINE_CORE_TZ_H
#define BUSLINE_CORE_TZ_H

#include <stdbool.h>
#include <stdint.h>

#define BL_TZ_NAME_MAX 64

/* True when tz (borrowed; may be NULL) names a compiled IANA zone here
 * ("Europe/Paris", "UTC"); a folder, a table, a path or odd characters are not. */
bool bl_tz_name_ok(const char *tz);

/* The UTC offset in seconds of zone tz (checked with bl_tz_name_ok) at
 * instant t (Unix seconds): local wall clock = t + offset. Thread-safe (TZ
 * is switched to the zone under a lock and left so: busline reads local
 * time nowhere else). */
int64_t bl_tz_offset(const char *tz, int64_t t);

#endif
