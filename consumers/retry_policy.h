/* The one retry policy of busline. Its backoff (bl_retry_backoff_ms) is the
 * delay every retrying caller waits: webhook deliveries (with jitter), the
 * SaaS connector host (connectors/connect.c, no jitter) and the PMO command
 * service (producers, no jitter). Its decision (bl_retry_decide) says what to
 * do after one delivery attempt: done, retry after a delay, give up
 * (dead-letter) or disable the endpoint. Both are pure functions of the
 * attempt, the policy, the outcome and an injected clock and random source,
 * so every schedule can be tested exactly. */
#ifndef BUSLINE_CONSUMERS_RETRY_POLICY_H
#define BUSLINE_CONSUMERS_RETRY_POLICY_H

#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

/* An endpoint's retry settings. */
typedef struct bl_retry_policy {
    int max_attempts;           /* attempts in all, the first included; default 3 */
    int64_t base_delay_ms;      /* delay before the first retry; default 1000 */
    double factor;              /* growth per retry; default 2 */
    int64_t max_delay_ms;       /* cap on a backoff delay; default 300000 (5 min) */
    double jitter;              /* +- fraction of each backoff delay; default 0.2 */
    int64_t max_retry_after_ms; /* cap on an honoured Retry-After; default 3600000 (1 h) */
    /* An explicit schedule instead of the exponential backoff: the delay
     * before retry i (0-based) is schedule_ms[i], without jitter, and
     * max_attempts is schedule_len + 1. schedule_len 0: exponential. */
    int schedule_len;
    int64_t schedule_ms[20];
} bl_retry_policy;

#define BL_RETRY_MAX_ATTEMPTS_LIMIT 100
#define BL_RETRY_MAX_DELAY_LIMIT_MS (7LL * 24 * 3600 * 1000) /* a week */
#define BL_RETRY_SCHEDULE_MAX 20               /* delays in a schedule */
#define BL_RETRY_SCHEDULE_MIN_DELAY_MS 1000    /* each 1 s .. a week */

/* The defaults above. */
bl_retry_policy bl_retry_policy_default(void);

/* Checks bounds: max_attempts 1..100, 0 <= base <= cap <= a week, factor
 * 1..10, jitter 0..1, max_retry_after 0..a week; a schedule has 0..20
 * delays of 1 s..a week each. Returns 0, or -1 with BL_EINVAL naming the
 * field. */
int bl_retry_policy_check(const bl_retry_policy *p, bl_err *err);

/* Why no HTTP status came back. */
typedef enum bl_transport_error {
    BL_TRANSPORT_NONE = 0, /* a response arrived; status is meaningful */
    BL_TRANSPORT_TIMEOUT,
    BL_TRANSPORT_CONNECT,  /* refused, unreachable */
    BL_TRANSPORT_RESET,    /* connection reset or closed mid-response */
    BL_TRANSPORT_DNS,
    BL_TRANSPORT_TLS,      /* handshake or certificate failure */
    BL_TRANSPORT_BLOCKED,  /* the SSRF guard refused the address: never retried */
} bl_transport_error;

/* What one attempt ended with. */
typedef struct bl_delivery_outcome {
    bl_transport_error transport;
    int status;              /* HTTP status when transport is NONE */
    const char *retry_after; /* Retry-After header value or NULL; borrowed */
} bl_delivery_outcome;

typedef enum bl_retry_action {
    BL_RETRY_DELIVERED = 0,   /* 2xx */
    BL_RETRY_LATER,           /* try again after delay_ms */
    BL_RETRY_GIVE_UP,         /* dead-letter: not retryable, or attempts used up */
    BL_RETRY_DISABLE_ENDPOINT /* 410 Gone: the receiver asked to stop */
} bl_retry_action;

typedef struct bl_retry_decision {
    bl_retry_action action;
    int64_t delay_ms;   /* for BL_RETRY_LATER, else 0 */
    bool exhausted;     /* GIVE_UP only because max_attempts were used */
    const char *reason; /* static text for logs: the outcome's class, e.g. "server error (5xx)" */
} bl_retry_decision;

/* A uniform random 32-bit value from ctx. */
typedef uint32_t (*bl_random_u32_fn)(void *ctx);

/* A bl_random_u32_fn over the OpenSSL CSPRNG (ctx unused); returns 0 if it
 * fails, which only costs the jitter. */
uint32_t bl_random_u32_os(void *ctx);

/* The backoff before the retry that follows attempt number attempt (1 = the
 * first; below 1 counts as 1): with a schedule, schedule_ms[attempt-1] (the
 * last delay past its end), no jitter; otherwise base_delay_ms * factor^(attempt-1), capped at
 * max_delay_ms, then spread by +- jitter using rnd(ctx) (rnd NULL or jitter
 * 0: none) and capped again; never negative. Reads only the schedule,
 * base_delay_ms, factor, max_delay_ms and jitter of p (borrowed, not NULL). */
int64_t bl_retry_backoff_ms(const bl_retry_policy *p, int attempt, bl_random_u32_fn rnd, void *ctx);

/* Decides after attempt number attempt (1 = the first) ended with outcome.
 * 2xx: delivered. 410: disable the endpoint. 408, 429, 5xx, and transport
 * errors other than BLOCKED: retry while attempt < max_attempts (with a
 * schedule: schedule_len + 1), else give up. The delay is
 * bl_retry_backoff_ms: the schedule's, or base * factor^(attempt-1), capped at max_delay_ms, then
 * spread by +- jitter using rnd(rnd_ctx) (rnd NULL: no jitter) and capped
 * again; for 429 and 503 a valid Retry-After (delta-seconds, or an HTTP-date
 * compared with now_ms, the unix time in ms) replaces it, capped at
 * max_retry_after_ms. 3xx (redirects are not followed), other 4xx, 1xx and
 * unknown statuses: give up. p NULL means the defaults. */
bl_retry_decision bl_retry_decide(const bl_retry_policy *p, int attempt,
                                  const bl_delivery_outcome *outcome, int64_t now_ms,
                                  bl_random_u32_fn rnd, void *rnd_ctx);

/* Parses a Retry-After value: delta-seconds ("120") or an HTTP-date in any
 * of the three forms RFC 9110 requires ("Sun, 06 Nov 1994 08:49:37 GMT",
 * "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"). Sets
 * *delay_ms (a date in the past gives 0). Returns 0, or -1 when malformed. */
int bl_retry_after_parse(const char *value, int64_t now_ms, int64_t *delay_ms);

#endif
