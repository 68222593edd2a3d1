#include "consumers/circuit_breaker.h"

#include <string.h>

#define DAY_MS (24LL * 3600 * 1000)

bl_breaker_config bl_breaker_config_default(void)
{
    return (bl_breaker_config){.failure_threshold = 5, .window_ms = 10000, .open_ms = 30000, .probes_to_close = 1};
}

int bl_breaker_config_check(const bl_breaker_config *cfg, bl_err *err)
{
    if (cfg->failure_threshold < 1 || cfg->failure_threshold > BL_BREAKER_MAX_THRESHOLD)
        return bl_err_set(err, BL_EINVAL, "circuit breaker: failure_threshold %d not in 1..%d",
                          cfg->failure_threshold, BL_BREAKER_MAX_THRESHOLD);
    if (cfg->window_ms < 1 || cfg->window_ms > DAY_MS)
        return bl_err_set(err, BL_EINVAL, "circuit breaker: window_ms %lld not in 1..%lld",
                          (long long)cfg->window_ms, DAY_MS);
    if (cfg->open_ms < 1 || cfg->open_ms > DAY_MS)
        return bl_err_set(err, BL_EINVAL, "circuit breaker: open_ms %lld not in 1..%lld", (long long)cfg->open_ms,
                          DAY_MS);
    if (cfg->probes_to_close < 1 || cfg->probes_to_close > BL_BREAKER_MAX_THRESHOLD)
        return bl_err_set(err, BL_EINVAL, "circuit breaker: probes_to_close %d not in 1..%d", cfg->probes_to_close,
                          BL_BREAKER_MAX_THRESHOLD);
    return 0;
}

int bl_breaker_init(bl_breaker *b, const bl_breaker_config *cfg, bl_err *err)
{
    bl_breaker_config c = cfg ? *cfg : bl_breaker_config_default();
    if (bl_breaker_config_check(&c, err) != 0)
        return -1;
    memset(b, 0, sizeof *b);
    b->cfg = c;
    b->state = BL_BREAKER_CLOSED;
    return 0;
}

/* Every state change starts a new generation, so outcomes of requests
 * permitted before it cannot steer the new state. */
static void enter(bl_breaker *b, bl_breaker_state s, int64_t now_ms)
{
    b->state = s;
    b->generation++;
    b->n_failures = 0;
    b->next_failure = 0;
    b->probe_in_flight = false;
    b->probe_successes = 0;
    if (s == BL_BREAKER_OPEN)
        b->open_until_ms = now_ms + b->cfg.open_ms;
}

bl_breaker_state bl_breaker_state_at(bl_breaker *b, int64_t now_ms)
{
    if (b->state == BL_BREAKER_OPEN && now_ms >= b->open_until_ms)
        enter(b, BL_BREAKER_HALF_OPEN, now_ms);
    return b->state;
}

bl_breaker_permit bl_breaker_allow(bl_breaker *b, int64_t now_ms)
{
    bl_breaker_state s = bl_breaker_state_at(b, now_ms);
    if (s == BL_BREAKER_HALF_OPEN && b->probe_in_flight && now_ms - b->probe_started_ms >= b->cfg.open_ms)
        enter(b, BL_BREAKER_OPEN, now_ms); /* the trial never reported: count it failed */
    bl_breaker_permit p = {.allowed = false, .generation = b->generation};
    switch (b->state) {
    case BL_BREAKER_CLOSED:
        p.allowed = true;
        break;
    case BL_BREAKER_OPEN:
        p.retry_at_ms = b->open_until_ms;
        break;
    case BL_BREAKER_HALF_OPEN:
        if (b->probe_in_flight) {
            p.retry_at_ms = b->probe_started_ms + b->cfg.open_ms;
        } else {
            b->probe_in_flight = true;
            b->probe_started_ms = now_ms;
            p.allowed = true;
            p.probe = true;
        }
        break;
    }
    return p;
}

/* Adds a failure at now_ms; true when threshold failures fall in the window. */
static bool failure_trips(bl_breaker *b, int64_t now_ms)
{
    int threshold = b->cfg.failure_threshold;
    b->failures_at[b->next_failure] = now_ms;
    b->next_failure = (b->next_failure + 1) % threshold;
    if (b->n_failures < threshold)
        b->n_failures++;
    if (b->n_failures < threshold)
        return false;
    int64_t oldest = b->failures_at[b->next_failure]; /* the ring is full: next to overwrite */
    return now_ms - oldest < b->cfg.window_ms;
}

void bl_breaker_record(bl_breaker *b, const bl_breaker_permit *permit, bool success, int64_t now_ms)
{
    if (!permit->allowed || permit->generation != b->generation)
        return;
    if (b->state == BL_BREAKER_CLOSED) {
        if (!success && failure_trips(b, now_ms))
            enter(b, BL_BREAKER_OPEN, now_ms);
        return;
    }
    if (b->state != BL_BREAKER_HALF_OPEN || !permit->probe)
        return;
    if (!success) {
        enter(b, BL_BREAKER_OPEN, now_ms);
        return;
    }
    b->probe_in_flight = false;
    if (++b->probe_successes >= b->cfg.probes_to_close)
        enter(b, BL_BREAKER_CLOSED, now_ms);
}

const char *bl_breaker_state_name(bl_breaker_state s)
{
    switch (s) {
    case BL_BREAKER_CLOSED:
        return "closed";
    case BL_BREAKER_OPEN:
        return "open";
    case BL_BREAKER_HALF_OPEN:
        return "half-open";
    }
    return "unknown";
}
