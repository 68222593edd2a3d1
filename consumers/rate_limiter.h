/* A token bucket for one destination: rate tokens per second, holding at
 * most burst. Time is passed in (ms, any consistent clock), so tests are
 * exact. The caller keeps one per destination.
 *
 * Not thread-safe: a limiter belongs to the one worker thread that sends to
 * its destination. */
#ifndef BUSLINE_CONSUMERS_RATE_LIMITER_H
#define BUSLINE_CONSUMERS_RATE_LIMITER_H

#include "core/err.h"

#include <stdint.h>

#define BL_RATE_LIMIT_MAX_RATE 1000000.0 /* tokens per second */
#define BL_RATE_LIMIT_MAX_BURST 1000000.0

typedef struct bl_rate_limiter {
    double rate_per_s;
    double burst;
    double tokens;
    int64_t last_ms; /* when tokens was last brought up to date */
} bl_rate_limiter;

/* Starts l full (burst tokens) at now_ms. rate_per_s: (0, 1e6]; burst:
 * [1, 1e6]. Returns 0, or -1 with BL_EINVAL naming the bad one. */
int bl_rate_limiter_init(bl_rate_limiter *l, double rate_per_s, double burst, int64_t now_ms, bl_err *err);

/* Takes one token at now_ms. Returns 0 when taken, else the ms to wait
 * (>= 1) until one is available; nothing is taken then. A clock that steps
 * back adds no tokens. */
int64_t bl_rate_limiter_try_take(bl_rate_limiter *l, int64_t now_ms);

#endif
