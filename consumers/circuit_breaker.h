/* A circuit breaker for one destination host: closed (requests flow), open
 * (requests are refused until open_ms pass), half-open (one trial request at
 * a time; enough successes close it, a failure opens it again).
 *
 * Time is passed in (unix or monotonic ms, the caller's choice, used
 * consistently), so every transition can be tested exactly. The caller keeps
 * one bl_breaker per host, e.g. beside its connection state.
 *
 * Not thread-safe: a breaker belongs to the one worker thread that sends to
 * its host. */
#ifndef BUSLINE_CONSUMERS_CIRCUIT_BREAKER_H
#define BUSLINE_CONSUMERS_CIRCUIT_BREAKER_H

#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

#define BL_BREAKER_MAX_THRESHOLD 64

typedef struct bl_breaker_config {
    int failure_threshold; /* failures within window_ms that open it: 1..64; default 5 */
    int64_t window_ms;     /* sliding window for those failures; default 10000 */
    int64_t open_ms;       /* how long it stays open before a trial; default 30000 */
    int probes_to_close;   /* successful trials in a row that close it: 1..64; default 1 */
} bl_breaker_config;

typedef enum bl_breaker_state {
    BL_BREAKER_CLOSED = 0,
    BL_BREAKER_OPEN,
    BL_BREAKER_HALF_OPEN,
} bl_breaker_state;

/* What bl_breaker_allow answers for one request. Pass it back to
 * bl_breaker_record with the request's outcome. */
typedef struct bl_breaker_permit {
    bool allowed;
    bool probe;          /* the half-open trial request */
    int64_t retry_at_ms; /* when refused: the earliest time worth asking again */
    uint64_t generation; /* the state it was issued in; stale outcomes are ignored */
} bl_breaker_permit;

typedef struct bl_breaker {
    bl_breaker_config cfg;
    bl_breaker_state state;
    uint64_t generation;                           /* bumped on every state change */
    int64_t failures_at[BL_BREAKER_MAX_THRESHOLD]; /* ring of the latest failure times */
    int n_failures, next_failure;
    int64_t open_until_ms;
    bool probe_in_flight;
    int64_t probe_started_ms;
    int probe_successes;
} bl_breaker;

/* The defaults above. */
bl_breaker_config bl_breaker_config_default(void);

/* Checks cfg's bounds (window and open 1 ms..1 day). Returns 0, or -1 with
 * BL_EINVAL naming the field. */
int bl_breaker_config_check(const bl_breaker_config *cfg, bl_err *err);

/* Starts b closed with cfg (NULL: defaults). Returns 0, or -1 with err when
 * cfg is out of bounds. */
int bl_breaker_init(bl_breaker *b, const bl_breaker_config *cfg, bl_err *err);

/* Asks whether a request may go to the host at now_ms. Closed: yes. Open:
 * no until open_ms passed, then it turns half-open and this request is the
 * trial. Half-open: only when no trial is in flight (a trial that never
 * reported back counts as failed after open_ms). */
bl_breaker_permit bl_breaker_allow(bl_breaker *b, int64_t now_ms);

/* Records how a permitted request ended (success: the host answered in a way
 * that says it is healthy). Closed: failures within the window past the
 * threshold open it. Half-open: the trial's success counts toward closing,
 * its failure re-opens. Outcomes of permits from an earlier state are
 * ignored, as are refused permits. */
void bl_breaker_record(bl_breaker *b, const bl_breaker_permit *permit, bool success, int64_t now_ms);

/* The state at now_ms (open turns half-open here once open_ms passed). */
bl_breaker_state bl_breaker_state_at(bl_breaker *b, int64_t now_ms);

/* "closed", "open" or "half-open", for logs and metrics. */
const char *bl_breaker_state_name(bl_breaker_state s);

#endif
