/* Idempotent Kafka producer over librdkafka: async sends with delivery
 * reports to one callback, a synchronous send for low-rate callers, and a
 * free that flushes and reports what it could not deliver. */
#ifndef BUSLINE_CORE_KAFKA_PRODUCER_H
#define BUSLINE_CORE_KAFKA_PRODUCER_H

#include "core/err.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

/* Most headers one message may carry (CloudEvents needs about six). */
#define BL_KAFKA_MAX_HEADERS 32

/* One message header; value may hold any bytes (len of them). Borrowed. */
typedef struct bl_kafka_header {
    const char *key;
    const void *value;
    size_t len;
} bl_kafka_header;

/* What a delivery report says about one message. All pointers are borrowed
 * for the duration of the callback. err_code is 0 (RD_KAFKA_RESP_ERR_NO_ERROR)
 * when the broker acknowledged it; offset is -1 when unknown. */
typedef struct bl_kafka_delivery {
    void *msg_opaque;
    const char *topic;
    int32_t partition;
    int64_t offset;
    int err_code;
    const char *err_msg;
} bl_kafka_delivery;

/* Called from the thread that polls or flushes the producer. */
typedef void (*bl_kafka_delivery_fn)(const bl_kafka_delivery *d, void *user);

typedef struct bl_kafka_producer bl_kafka_producer;

/* Creates a producer for brokers with enable.idempotence=true, acks=all and
 * small-linger batching; extra is a NULL-terminated key/value array that
 * overrides them (may be NULL). on_delivery (may be NULL) gets every async
 * send's report with user. Returns NULL with err carrying librdkafka's
 * message on a bad setting. Free with bl_kafka_producer_free. */
bl_kafka_producer *bl_kafka_producer_new(const char *brokers, const char *const *extra,
                                         bl_kafka_delivery_fn on_delivery, void *user, bl_err *err);

/* Queues one message (key, value and headers are copied; key/value may be
 * NULL). msg_opaque comes back in the delivery report. When the local queue is
 * full it serves delivery reports and retries for up to queue_timeout_ms.
 * Returns 0 when queued, -1 with err (BL_ETIMEOUT when the queue stayed full,
 * BL_EINVAL for bad arguments, BL_EKAFKA otherwise). */
int bl_kafka_producer_send(bl_kafka_producer *p, const char *topic, const void *key, size_t key_len,
                           const void *value, size_t value_len, const bl_kafka_header *headers,
                           size_t n_headers, void *msg_opaque, int queue_timeout_ms, bl_err *err);

/* Sends one message and waits up to timeout_ms for the broker's ack; the
 * delivery callback is not called for it. partition/offset (may be NULL) get
 * where it landed. Returns 0 when acknowledged, -1 with err otherwise
 * (BL_ETIMEOUT if no report came in time: the message may still land). */
int bl_kafka_producer_send_sync(bl_kafka_producer *p, const char *topic, const void *key,
                                size_t key_len, const void *value, size_t value_len,
                                const bl_kafka_header *headers, size_t n_headers, int timeout_ms,
                                int32_t *partition, int64_t *offset, bl_err *err);

/* Learns the partitions and leaders of topics[0..n) now, so the first send
 * to each (a retry tier, say) does not wait for a metadata round trip.
 * Returns 0, or -1 with err (BL_ENOTFOUND naming a topic the broker does
 * not have, BL_EKAFKA or BL_ETIMEOUT otherwise); the topics before it are
 * prepared either way. */
int bl_kafka_producer_prepare_topics(bl_kafka_producer *p, const char *const *topics, size_t n,
                                     int timeout_ms, bl_err *err);

/* Serves queued delivery reports, waiting up to timeout_ms for the first.
 * Returns how many events were served. */
int bl_kafka_producer_poll(bl_kafka_producer *p, int timeout_ms);

/* Waits up to timeout_ms until every queued message has a delivery report.
 * Returns 0, or -1 with err (BL_ETIMEOUT) giving how many remain. */
int bl_kafka_producer_flush(bl_kafka_producer *p, int timeout_ms, bl_err *err);

/* Returns 1 when the producer hit a fatal error and must be recreated (err
 * gets the reason), 0 otherwise. */
int bl_kafka_producer_fatal(bl_kafka_producer *p, bl_err *err);

/* Kafka transactions, for a producer made with a "transactional.id" in
 * extra. Each returns 0, or -1 with err carrying librdkafka's message;
 * after a failure the caller aborts the transaction (abort failing too,
 * or bl_kafka_producer_fatal saying so: a fenced or broken producer, to be
 * recreated). */

/* Registers the transactional id with the coordinator, fencing any older
 * producer of the same id and completing its open transaction, within
 * timeout_ms. */
int bl_kafka_producer_txn_init(bl_kafka_producer *p, int timeout_ms, bl_err *err);

/* Opens a transaction: the sends that follow belong to it. */
int bl_kafka_producer_txn_begin(bl_kafka_producer *p, bl_err *err);

/* Flushes the transaction's messages and commits it within timeout_ms. On
 * -1 the outcome may be unknown (a timeout): only a reader after the next
 * bl_kafka_producer_txn_init knows. */
int bl_kafka_producer_txn_commit(bl_kafka_producer *p, int timeout_ms, bl_err *err);

/* Aborts the open transaction within timeout_ms. */
int bl_kafka_producer_txn_abort(bl_kafka_producer *p, int timeout_ms, bl_err *err);

/* The underlying handle, borrowed, for advanced callers; do not destroy it. */
rd_kafka_t *bl_kafka_producer_handle(bl_kafka_producer *p);

/* Flushes for up to flush_timeout_ms, then purges what is left (each purged
 * message gets a failed delivery report) and destroys the producer. Returns
 * how many messages were not delivered (0 when all were). p may be NULL. */
int bl_kafka_producer_free(bl_kafka_producer *p, int flush_timeout_ms);

#endif
