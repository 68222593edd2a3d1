/* Bounded RFC 3339 text of unix ms (see rfc3339_ms.h). */
#include "connectors/webhook/store/rfc3339_ms.h"

#include "core/time_format.h"

#include <string.h>

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
