/* IANA time zones (tz.h). The C library computes local times for the zone
 * named by TZ only, so an offset is read with TZ switched for the call
 * under one lock; nothing else in busline reads local time (logs and
 * timestamps are UTC), so the switch changes nothing any other code sees. */
#include "core/tz.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t tz_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *zone_dir(void)
{
    const char *dir = getenv("BUSLINE_ZONEINFO_DIR");
    return dir && *dir ? dir : "/usr/share/zoneinfo";
}

bool bl_tz_name_ok(const char *tz)
{
    size_t n = tz ? strlen(tz) : 0;
    if (n == 0 || n > BL_TZ_NAME_MAX || tz[0] == '/' || strstr(tz, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)tz[i]) && !strchr("_-+/", tz[i]))
            return false;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", zone_dir(), tz);
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

int64_t bl_tz_offset(const char *tz, int64_t t)
{
    char spec[600];
    snprintf(spec, sizeof spec, ":%s/%s", zone_dir(), tz);
    time_t tt = (time_t)t;
    struct tm local = {0};
    pthread_mutex_lock(&tz_mu);
    /* TZ stays set to the last zone asked for: setting an existing variable
     * swaps one pointer (unsetting it would move the others under a
     * concurrent getenv), and the C library reloads a zone only when the
     * name changes. */
    const char *now = getenv("TZ");
    if (!now || strcmp(now, spec) != 0) {
        setenv("TZ", spec, 1);
        tzset();
    }
    bool ok = localtime_r(&tt, &local) != NULL;
    pthread_mutex_unlock(&tz_mu);
    return ok ? (int64_t)local.tm_gmtoff : 0;
}
