/* The rate limits of custom endpoints (document 002's RateLimitConfig), per
 * endpoint per caller, in this replica's memory:
 *   fixed-window    at most requestsPerMinute in each clock minute;
 *   sliding-window  at most requestsPerMinute in any 60 seconds (the times
 *                   of the last requestsPerMinute admitted requests are kept);
 *   token-bucket    a bucket of burstLimit tokens, refilled at
 *                   requestsPerMinute per minute, one token per request.
 * Time is the API server's clock (tests pin it), in milliseconds. */
#ifndef BUSLINE_API_CUSTOM_LIMITER_H
#define BUSLINE_API_CUSTOM_LIMITER_H

#include "api/custom/custom.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct bl_custom_limiter bl_custom_limiter;

typedef struct bl_custom_rate_verdict {
    bool allowed;
    int64_t limit;       /* requestsPerMinute, or burstLimit for the token bucket */
    int64_t remaining;   /* requests left now */
    int64_t retry_after; /* seconds before one more is admitted (when refused) */
} bl_custom_rate_verdict;

/* A limiter keeping at most max_callers (0 = 100000) callers' state; the
 * idlest are forgotten first. Returns NULL when out of memory. */
bl_custom_limiter *bl_custom_limiter_new(size_t max_callers);

void bl_custom_limiter_free(bl_custom_limiter *l);

/* Counts one request of caller (borrowed) on d at now_ms, d's rateLimit
 * enabled. Fills v. Thread-safe. */
void bl_custom_limiter_check(bl_custom_limiter *l, const bl_custom_def *d, const char *caller, int64_t now_ms,
                             bl_custom_rate_verdict *v);

/* Forgets every caller's state of endpoint id (its limits changed). */
void bl_custom_limiter_forget(bl_custom_limiter *l, const char *id);

#endif
