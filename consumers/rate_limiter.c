#include "consumers/rate_limiter.h"

#include <math.h>

int bl_rate_limiter_init(bl_rate_limiter *l, double rate_per_s, double burst, int64_t now_ms, bl_err *err)
{
    /* Written so NaN fails too. */
    if (!(rate_per_s > 0 && rate_per_s <= BL_RATE_LIMIT_MAX_RATE))
        return bl_err_set(err, BL_EINVAL, "rate limiter: rate %g per second not in (0, %g]", rate_per_s,
                          BL_RATE_LIMIT_MAX_RATE);
    if (!(burst >= 1 && burst <= BL_RATE_LIMIT_MAX_BURST))
        return bl_err_set(err, BL_EINVAL, "rate limiter: burst %g not in [1, %g]", burst, BL_RATE_LIMIT_MAX_BURST);
    *l = (bl_rate_limiter){.rate_per_s = rate_per_s, .burst = burst, .tokens = burst, .last_ms = now_ms};
    return 0;
}

int64_t bl_rate_limiter_try_take(bl_rate_limiter *l, int64_t now_ms)
{
    if (now_ms > l->last_ms) {
        l->tokens += (double)(now_ms - l->last_ms) * l->rate_per_s / 1000.0;
        if (l->tokens > l->burst)
            l->tokens = l->burst;
        l->last_ms = now_ms;
    }
    /* A hair of slack so 1/3-per-ms refills add up to a whole token. */
    if (l->tokens >= 1.0 - 1e-9) {
        l->tokens -= 1.0;
        if (l->tokens < 0)
            l->tokens = 0;
        return 0;
    }
    int64_t wait = (int64_t)ceil((1.0 - l->tokens) * 1000.0 / l->rate_per_s - 1e-9);
    return wait < 1 ? 1 : wait;
}
