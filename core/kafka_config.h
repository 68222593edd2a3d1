/* Shared librdkafka configuration for every busline Kafka handle: applying
 * key/value settings with librdkafka's own error text, and routing
 * librdkafka's logs and errors into core/log.h JSON lines. */
#ifndef BUSLINE_CORE_KAFKA_CONFIG_H
#define BUSLINE_CORE_KAFKA_CONFIG_H

#include "core/err.h"

#include <librdkafka/rdkafka.h>

/* Sets one setting on conf. Returns 0, or -1 with err (BL_EINVAL) naming the
 * setting and carrying librdkafka's message. */
int bl_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, bl_err *err);

/* Applies a NULL-terminated array of key, value pairs ({"k1","v1",...,NULL});
 * kv may be NULL. Returns 0, or -1 with err for the first bad pair. */
int bl_kafka_conf_apply(rd_kafka_conf_t *conf, const char *const *kv, bl_err *err);

/* Returns a new conf with bootstrap.servers=brokers, then defaults, then extra
 * (so callers override defaults), log and error callbacks installed, and
 * opaque as the handle opaque. Caller owns the conf (rd_kafka_conf_destroy,
 * or hand it to rd_kafka_new). Returns NULL with err on a bad setting. */
rd_kafka_conf_t *bl_kafka_conf_new(const char *brokers, const char *const *defaults,
                                   const char *const *extra, void *opaque, bl_err *err);

/* Creates a handle of type from conf, taking ownership of conf in every case.
 * what names the handle in error messages ("producer"). Returns NULL with err. */
rd_kafka_t *bl_kafka_handle_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *what,
                                bl_err *err);

/* Returns 1 when rk has hit a fatal error (the handle must be recreated),
 * filling err with librdkafka's reason; 0 otherwise. */
int bl_kafka_fatal(rd_kafka_t *rk, bl_err *err);

/* Fills err (BL_EKAFKA) with "kafka: <what>: <librdkafka message>" for code,
 * using the fatal reason when code is RD_KAFKA_RESP_ERR__FATAL. Returns -1. */
int bl_kafka_err(bl_err *err, rd_kafka_t *rk, rd_kafka_resp_err_t code, const char *what);

#endif
