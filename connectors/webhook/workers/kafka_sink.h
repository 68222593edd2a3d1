/* Producers to the Kafka destinations of webhook endpoints (type "kafka",
 * store/kafka_destination.h), used by the delivery worker instead of HTTP.
 * One idempotent producer per destination, made on first use with the
 * destination's security settings (SASL, CA), cached while in use, replaced
 * when the endpoint's settings change, closed once unused for idle_ms, and
 * at most max_producers at a time (the least recently used idle one is
 * closed to make room). Before a producer is made, the destination's
 * brokers go through the SSRF guard again (names may resolve elsewhere
 * than when they were saved). Every report comes back through report on
 * the thread calling bl_kafka_sink_poll. Not thread-safe: one worker thread. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_KAFKA_SINK_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_KAFKA_SINK_H

#include "connectors/webhook/store/endpoint_cache.h"
#include "connectors/webhook/policy/ssrf_guard.h"
#include "core/err.h"
#include "core/kafka_producer.h"

#include <stddef.h>
#include <stdint.h>

/* A message's report: err_code 0 when the destination's brokers acked it
 * (then partition/offset say where), else librdkafka's code and message
 * (borrowed for the call). opaque is bl_kafka_sink_send's. */
typedef void (*bl_kafka_sink_report_fn)(void *opaque, int err_code, const char *err_msg, int32_t partition,
                                        int64_t offset, void *ctx);

typedef struct bl_kafka_sink_opts {
    size_t max_producers;            /* 0: 32 */
    int64_t idle_ms;                 /* close a producer unused this long; 0: 60000 */
    const bl_ssrf_allowlist *allow;  /* borrowed, may be NULL */
    bl_kafka_sink_report_fn report;  /* required */
    void *ctx;                       /* handed to report */
} bl_kafka_sink_opts;

typedef struct bl_kafka_sink bl_kafka_sink;

/* Makes an empty sink (opts copied, pointers borrowed). NULL with err. */
bl_kafka_sink *bl_kafka_sink_new(const bl_kafka_sink_opts *opts, bl_err *err);

/* Queues one message to the destination of snap's endpoint (borrowed; its
 * kafka settings, password and timeout_ms as the message timeout): key,
 * value and headers are copied. Returns 0 (report comes later), or -1 with
 * err and no report: BL_EINVAL when the settings or a broker address are
 * refused (will not change by retrying), BL_ECONFLICT when max_producers are all
 * busy, BL_EKAFKA / BL_ETIMEOUT otherwise. */
int bl_kafka_sink_send(bl_kafka_sink *s, const bl_webhook_snapshot *snap, const void *key, size_t key_len,
                       const void *value, size_t value_len, const bl_kafka_header *headers, size_t n_headers,
                       void *opaque, bl_err *err);

/* Serves the reports that arrived and closes idle or replaced producers.
 * Never blocks. */
void bl_kafka_sink_poll(bl_kafka_sink *s);

/* Messages queued and not yet reported. */
size_t bl_kafka_sink_in_flight(const bl_kafka_sink *s);

/* Producers open now. */
size_t bl_kafka_sink_producers(const bl_kafka_sink *s);

/* Purges every producer (each message still queued is reported with an
 * error) and frees s. Accepts NULL. */
void bl_kafka_sink_free(bl_kafka_sink *s);

#endif
