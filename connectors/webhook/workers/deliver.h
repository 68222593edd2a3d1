/* The webhook delivery worker: a consumer runtime (consumers/runtime.h)
 * reading deliveries.webhook and its retry tiers, with every request in
 * flight through one curl multi (core/http_client.h, keep-alive) on the
 * worker thread.
 *
 * Per delivery: the endpoint from the cache (gone or disabled: logged as
 * skipped, done); the URL through the SSRF guard (refused: logged,
 * dead-lettered with the reason; the checked address is pinned); the
 * destination host's token bucket (empty: held in the worker until a token
 * is due, no attempt used) and circuit breaker (open: handed to a retry
 * tier until it may close, not logged nor counted against the endpoint's
 * health; it does use one of the runtime's attempt numbers) and whether it
 * is stuck (its oldest request unanswered for slow_host_ms while it holds
 * slow_host_keep: new deliveries, and those of its held ones not yet sent,
 * are parked in a retry tier for park_ms without spending an attempt, so a
 * hanging endpoint cannot fill the partition's window); then a POST
 * signed per Standard Webhooks (webhook-id = the event id, stable across
 * retries), the legacy X-Signature when the endpoint asks, its custom
 * headers and timeout, redirects never followed. The answer goes through
 * bl_retry_decide with the endpoint's policy: 2xx done; retry into the tier
 * topics (strict-order endpoints: in place, holding their lane); give up:
 * dead letter; 410: disable the endpoint and dead-letter. Every attempt is
 * appended to the delivery log; each final result goes once to the
 * endpoint's health (outcome_reporter.h). */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_DELIVER_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_DELIVER_H

#include "connectors/webhook/store/delivery_log.h"
#include "connectors/webhook/store/endpoint_cache.h"
#include "connectors/webhook/store/endpoint_store.h"
#include "connectors/webhook/policy/ssrf_guard.h"
#include "consumers/circuit_breaker.h"
#include "consumers/runtime.h"
#include "core/err.h"
#include "core/metrics.h"

#include <stdint.h>

typedef struct bl_webhook_deliver_opts {
    const char *brokers;                /* required */
    const char *group_id;               /* NULL: "busline-webhook-deliver" */
    const char *connector_name;         /* tier/DLQ prefix; NULL: "webhook" */
    const char *deliveries_topic;       /* NULL: deliveries.webhook */
    const char *retry_tiers;            /* NULL: BL_WEBHOOK_RETRY_TIERS */
    bl_webhook_cache *cache;            /* required; borrowed */
    bl_webhook_store *store;            /* required (health, 410); borrowed */
    bl_delivery_log *log;               /* may be NULL; borrowed */
    const bl_ssrf_allowlist *allow;     /* may be NULL; borrowed */
    const bl_breaker_config *breaker;   /* NULL: 64 failures in 10 s open it for 5 s */
    size_t max_in_flight;               /* per partition; 0: the runtime's default */
    long max_host_connections;          /* per host; 0: 64 */
    size_t slow_host_keep;              /* requests a stuck host keeps; 0: max_host_connections */
    int64_t slow_host_ms;               /* unanswered this long: the host is stuck; 0: 1000 */
    int64_t park_ms;                    /* how long a parked delivery waits; 0: 5000 */
    int64_t max_age_ms;                 /* a delivery set aside (parked, or bounced by an open
                                         * breaker: neither spends an attempt) this long after its
                                         * first failure is dead-lettered; 0: 72 h */
    int drain_timeout_ms;               /* 0: the runtime's default */
    bl_metrics *metrics;                /* may be NULL */
} bl_webhook_deliver_opts;

typedef struct bl_webhook_deliver bl_webhook_deliver;

/* Counts since creation. Thread-safe. */
typedef struct bl_webhook_deliver_stats {
    uint64_t attempts;      /* requests that got an answer or a transport error */
    uint64_t delivered;     /* 2xx */
    uint64_t retried;       /* handed to a retry */
    uint64_t dead_lettered; /* given up (not retryable, exhausted, refused, 410) */
    uint64_t skipped;       /* endpoint not active */
    uint64_t deferred;      /* held back by a rate limit */
    uint64_t parked;        /* set aside (no attempt spent): its host stuck or its breaker open */
} bl_webhook_deliver_stats;

/* Creates the worker; strings copied, pointers borrowed. Returns NULL with err. */
bl_webhook_deliver *bl_webhook_deliver_new(const bl_webhook_deliver_opts *opts, bl_err *err);

/* Runs on the calling thread until bl_webhook_deliver_stop or SIGTERM, then
 * drains and commits. Returns 0, or -1 with err. */
int bl_webhook_deliver_run(bl_webhook_deliver *d, bl_err *err);

/* Asks run to stop. Thread-safe. */
void bl_webhook_deliver_stop(bl_webhook_deliver *d);

/* The runtime, borrowed (readiness: bl_runtime_ready). */
bl_runtime *bl_webhook_deliver_runtime(bl_webhook_deliver *d);

void bl_webhook_deliver_stats_get(bl_webhook_deliver *d, bl_webhook_deliver_stats *out);

/* Frees d after run returned (or instead of it); accepts NULL. */
void bl_webhook_deliver_free(bl_webhook_deliver *d);

#endif
