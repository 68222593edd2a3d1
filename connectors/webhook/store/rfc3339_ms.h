/* Unix milliseconds as the fixed-width RFC 3339 text webhook bodies, the
 * delivery log and endpoint rows show ("2026-11-25T08:16:00.123Z"). Kept in
 * the store room because the store writes it and the workers' body builder
 * (workers/payload.h) uses it too. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_STORE_RFC3339_MS_H
#define BUSLINE_CONNECTORS_WEBHOOK_STORE_RFC3339_MS_H

#include "core/err.h"

#include <stdint.h>

#define BL_RFC3339_MS_SIZE 25                /* "YYYY-MM-DDTHH:MM:SS.mmmZ" + NUL */

/* Writes unix time ms as RFC 3339 UTC with milliseconds ("...T08:16:00.123Z")
 * into out. Years 0000..9999 only. Returns 0, or -1 with BL_EINVAL. */
int bl_rfc3339_from_ms(int64_t ms, char out[BL_RFC3339_MS_SIZE], bl_err *err);

#endif
