/* The webhook fan-out: a consumer runtime (consumers/runtime.h) reading the
 * event topics that produces one delivery (delivery.h) per matching active
 * endpoint to deliveries.webhook, keyed by endpoint id.
 *
 * An event's offset counts as done only once the broker acknowledged every
 * one of its deliveries; a failed produce retries the whole event in place
 * (endpoints already served get a duplicate with the same webhook-id, which
 * receivers drop). An event that can never be read (bad bytes, unknown
 * schema, envelope without id/type/organization) is logged, counted and
 * skipped; a registry that does not answer is retried. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_FANOUT_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_FANOUT_H

#include "connectors/webhook/store/endpoint_cache.h"
#include "consumers/runtime.h"
#include "core/err.h"
#include "core/metrics.h"
#include "schemas/codec.h"

#include <stdint.h>

typedef struct bl_webhook_fanout_opts {
    const char *brokers;              /* required */
    const char *group_id;             /* NULL: "busline-webhook-fanout" */
    const char *const *topics;        /* event topics; NULL: every events.* topic (regex) */
    size_t n_topics;
    const char *deliveries_topic;     /* NULL: deliveries.webhook */
    bl_webhook_cache *cache;          /* required; borrowed */
    bl_schema_cache *schemas;         /* required; borrowed (fetching from the registry) */
    size_t max_in_flight;             /* per partition; 0: the runtime's default */
    int drain_timeout_ms;             /* 0: the runtime's default */
    bl_metrics *metrics;              /* may be NULL; registers busline_fanout_* and the
                                       * runtime's busline_consumer_* families */
} bl_webhook_fanout_opts;

typedef struct bl_webhook_fanout bl_webhook_fanout;

/* Counts since creation. Thread-safe. */
typedef struct bl_webhook_fanout_stats {
    uint64_t events;      /* events read and matched (zero matches included) */
    uint64_t deliveries;  /* deliveries acknowledged by the broker */
    uint64_t skipped;     /* unreadable events */
} bl_webhook_fanout_stats;

/* Creates the fan-out (runtime, producer); strings copied, pointers
 * borrowed. Returns NULL with err. Free with bl_webhook_fanout_free. */
bl_webhook_fanout *bl_webhook_fanout_new(const bl_webhook_fanout_opts *opts, bl_err *err);

/* Runs on the calling thread until bl_webhook_fanout_stop or SIGTERM, then
 * drains and commits. Returns 0, or -1 with err on a fatal Kafka error. */
int bl_webhook_fanout_run(bl_webhook_fanout *f, bl_err *err);

/* Asks run to stop. Thread-safe. */
void bl_webhook_fanout_stop(bl_webhook_fanout *f);

/* The runtime, borrowed (readiness: bl_runtime_ready). */
bl_runtime *bl_webhook_fanout_runtime(bl_webhook_fanout *f);

void bl_webhook_fanout_stats_get(bl_webhook_fanout *f, bl_webhook_fanout_stats *out);

/* Frees f (after run returned, or instead of it). Accepts NULL. */
void bl_webhook_fanout_free(bl_webhook_fanout *f);

#endif
