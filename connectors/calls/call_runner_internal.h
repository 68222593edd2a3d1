/* What the run files use of the runner: blocking HTTP exchanges over the
 * shared client, the breakers, the caches and the bus. */
#ifndef BUSLINE_CONNECTORS_CALLS_CALL_RUNNER_INTERNAL_H
#define BUSLINE_CONNECTORS_CALLS_CALL_RUNNER_INTERNAL_H

#include "connectors/calls/call_cache.h"
#include "connectors/calls/call_internal.h"
#include "core/http_client.h"
#include "core/kafka_producer.h"
#include "producers/domain_service/codec.h"

#include <pthread.h>

/* One finished exchange, owned copies. */
typedef struct bl_call_exchange {
    bl_http_transport transport;
    long status;
    char *body;              /* malloc'd, NUL-terminated, or NULL */
    size_t body_len;
    bool truncated;
    bool connection_reused;
    char retry_after[BL_HTTP_HEADER_VALUE_MAX];
    char content_type[BL_HTTP_HEADER_VALUE_MAX];
    char error[BL_ERR_MSG_MAX];
} bl_call_exchange;

/* Hands call (its buffers borrowed until this returns) to the runner's
 * thread and waits for it to finish. Returns 0 with *out filled (any
 * transport outcome), or -1 with err when it could not be submitted. */
int bl_call_runner_http(bl_call_runner *r, const bl_http_call *call, bl_call_exchange *out, bl_err *err);

/* Frees what x owns. */
void bl_call_exchange_clear(bl_call_exchange *x);

const bl_ssrf_allowlist *bl_call_runner_allow(const bl_call_runner *r);

/* The call's breaker (created on first use) asked and told, under the lock. */
bl_breaker_permit bl_call_runner_breaker_allow(bl_call_runner *r, const bl_call *c, int64_t now_ms);
void bl_call_runner_breaker_record(bl_call_runner *r, const bl_call *c, const bl_breaker_permit *p,
                                   bool success, int64_t now_ms);

bl_call_cache *bl_call_runner_last_good(bl_call_runner *r);
bl_call_cache *bl_call_runner_produced(bl_call_runner *r);

/* A bus message waiting for its delivery report: held by the caller and by
 * the report, freed by the last of the two. */
typedef struct bl_call_bus_wait bl_call_bus_wait;

/* The codec of domain (made and registered on first use), borrowed for the
 * runner's life; NULL with err (BL_EINVAL without brokers or registry). */
bl_domain_codec *bl_call_runner_codec(bl_call_runner *r, const char *domain, bl_err *err);

/* Queues one message; returns the wait for its report (release it with
 * bl_call_bus_wait_release), or NULL with err when nothing was queued. */
bl_call_bus_wait *bl_call_runner_produce(bl_call_runner *r, const char *topic, const char *key,
                                         const uint8_t *bytes, size_t len, const bl_kafka_header *headers,
                                         size_t n_headers, bl_err *err);

/* Waits for w's report, at most timeout_ms. Returns 0 when the broker
 * acknowledged it (*partition, *offset set), -1 with err (BL_EKAFKA with
 * librdkafka's reason, BL_ETIMEOUT: it may still land). */
int bl_call_bus_wait_for(bl_call_bus_wait *w, int timeout_ms, int32_t *partition, int64_t *offset,
                         bl_err *err);

/* Drops the caller's hold on w. */
void bl_call_bus_wait_release(bl_call_bus_wait *w);

#endif
