/* Rate limits per subject (an API key or a user) over fixed minute, hour,
 * day and calendar-month (UTC) windows, shared by every API replica through Postgres without a write
 * per request: a replica leases a block of tokens for a subject and window
 * (one UPSERT that never grants past the limit) and spends them locally.
 *
 * Error bound. The shared counter never grants more than the limit, so all
 * replicas together never allow more than the limit in a window. Tokens a
 * replica leased but did not spend before the window ends are lost, so the
 * total allowed is at least limit - R * (B - 1) for R replicas, where the
 * block B = clamp((limit - used seen at lease time) / 16, 1, 100) shrinks as
 * the window fills. When every replica keeps receiving requests until it is
 * refused, every leased token is spent and exactly the limit is allowed.
 * X-RateLimit-Remaining is what this replica can still promise: the tokens
 * not leased by anyone at its last lease plus its own unspent ones. */
#ifndef BUSLINE_API_RATE_LIMIT_H
#define BUSLINE_API_RATE_LIMIT_H

#include "core/err.h"
#include "core/pg_pool.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define BL_RATE_BLOCK_MAX 100
#define BL_RATE_BLOCK_DIVISOR 16

typedef enum bl_rate_window {
    BL_RATE_MINUTE = 0, BL_RATE_HOUR, BL_RATE_DAY, BL_RATE_MONTH, BL_RATE_WINDOWS
} bl_rate_window;

/* "minute", "hour", "day", "month" (static). */
const char *bl_rate_window_name(bl_rate_window w);

/* The window named text; returns 0, or -1 for another name. */
int bl_rate_window_parse(const char *text, bl_rate_window *out);

typedef struct bl_rate_verdict {
    bool allowed;
    int64_t limit;       /* of the tightest window */
    bl_rate_window window; /* which one that is (the refusing one when refused) */
    int64_t remaining;   /* after this request */
    time_t reset;        /* epoch seconds when that window ends */
    int64_t retry_after; /* seconds, when refused */
    /* each limited window (limit 0 = not limited): its limit, what remains
     * after this request (0 for the refusing one) and when it ends */
    int64_t window_limit[BL_RATE_WINDOWS];
    int64_t window_remaining[BL_RATE_WINDOWS];
    time_t window_reset[BL_RATE_WINDOWS];
} bl_rate_verdict;

typedef struct bl_rate_limiter bl_rate_limiter;

/* Returns a limiter over pool (borrowed), or NULL when out of memory. */
bl_rate_limiter *bl_rate_limiter_new(bl_pg_pool *pool);
void bl_rate_limiter_free(bl_rate_limiter *l);

/* Counts one request of subject at now against limits[BL_RATE_WINDOWS]
 * (per minute, hour, day, month; 0 = no limit for that window) and fills *v. A
 * refused request spends nothing. Returns 0, or -1 with err when Postgres
 * failed (the caller decides; the API answers 503). With no limit at all,
 * v->allowed is true and v->limit 0. */
int bl_rate_limiter_check(bl_rate_limiter *l, const char *subject, const int64_t limits[BL_RATE_WINDOWS],
                          time_t now, bl_rate_verdict *v, bl_err *err);

#endif
