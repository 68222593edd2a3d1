/* Retry topics and dead letters of a connector.
 *
 * A failed message leaves its main partition for a retry topic
 * `<connector>.retry.<delay>` (webhook.retry.5s, .retry.1m, .retry.10m) or,
 * when it gives up, for `<connector>.dlq`. It carries `busline-*` headers
 * saying which attempt failed, when it is due again, when it first failed, why,
 * and where it came from. A retry worker reads the head of each partition and
 * either delivers it or pauses the partition until it is due. */
#ifndef BUSLINE_CONSUMERS_RETRY_TIER_H
#define BUSLINE_CONSUMERS_RETRY_TIER_H

#include "core/err.h"
#include "core/kafka_consumer.h"
#include "core/kafka_producer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_RETRY_TIERS_MAX 8
#define BL_RETRY_CONNECTOR_MAX 64 /* connector name, NUL included */
#define BL_TOPIC_NAME_MAX 250     /* Kafka allows 249 characters */
#define BL_RETRY_ERROR_MAX 256    /* longer error texts are cut */
#define BL_RETRY_ATTEMPT_MAX 1000

#define BL_HDR_ATTEMPT "busline-attempt"
#define BL_HDR_DUE_AT "busline-due-at"
#define BL_HDR_FIRST_FAILURE_AT "busline-first-failure-at"
#define BL_HDR_ERROR "busline-error"
#define BL_HDR_ORIGINAL_TOPIC "busline-original-topic"
#define BL_HDR_ORIGINAL_PARTITION "busline-original-partition"
#define BL_HDR_ORIGINAL_OFFSET "busline-original-offset"
#define BL_RETRY_HEADER_COUNT 7

/* A connector's tiers, delays ascending. */
typedef struct bl_retry_tiers {
    char connector[BL_RETRY_CONNECTOR_MAX];
    size_t n;
    int64_t delay_ms[BL_RETRY_TIERS_MAX];
} bl_retry_tiers;

/* Sets up tiers for connector (letters, digits, '_', '-'; 1..63 chars) from
 * a spec of comma-separated delays: "5s,1m,10m" (units ms, s, m, h; each a
 * positive whole number, at most a week; any order, no repeats, 1..8 of
 * them). Returns 0, or -1 with BL_EINVAL naming the bad part. */
int bl_retry_tiers_parse(bl_retry_tiers *t, const char *connector, const char *spec, bl_err *err);

/* The tier for a wanted delay: the smallest whose delay is >= delay_ms, else
 * the largest. Returns its index. */
size_t bl_retry_tier_choose(const bl_retry_tiers *t, int64_t delay_ms);

/* Writes the topic of tier idx ("webhook.retry.5s") into out (len bytes).
 * Returns 0, or -1 with err when idx is out of range or out is too small. */
int bl_retry_tier_topic(const bl_retry_tiers *t, size_t idx, char *out, size_t len, bl_err *err);

/* Writes the dead-letter topic ("webhook.dlq") into out. Returns 0, or -1. */
int bl_retry_dlq_topic(const bl_retry_tiers *t, char *out, size_t len, bl_err *err);

/* What a retried or dead-lettered message carries. */
typedef struct bl_retry_headers {
    int attempt;                 /* attempts made so far, all failed (1 after the first;
                                  * 0 when set aside before any, see BL_OUTCOME_PARK) */
    int64_t due_at_ms;           /* unix ms when the next attempt may run */
    int64_t first_failure_at_ms; /* unix ms of the first failed attempt */
    char error[BL_RETRY_ERROR_MAX];                /* why the last attempt failed; may be "" */
    char original_topic[BL_TOPIC_NAME_MAX];        /* where the message was first read */
    int32_t original_partition;
    int64_t original_offset;
} bl_retry_headers;

/* Fills out for a failure at now_ms that should be retried after delay_ms
 * (0 for a dead letter; capped at a week). prev is the headers the failed message carried,
 * or NULL when it came from its original topic, in which case this is
 * attempt 1 and (topic, partition, offset) is its origin; with prev those
 * three are ignored and its origin and first failure carry over. error may be
 * NULL; longer texts are cut. Returns 0, or -1 with BL_EINVAL when there is
 * no origin or the attempt count would pass BL_RETRY_ATTEMPT_MAX. */
int bl_retry_headers_for_failure(const bl_retry_headers *prev, const char *topic, int32_t partition,
                                 int64_t offset, int64_t now_ms, int64_t delay_ms, const char *error,
                                 bl_retry_headers *out, bl_err *err);

/* The Kafka headers of one message; keys are static, values point into this
 * struct and into the bl_retry_headers it was built from (both borrowed). */
typedef struct bl_retry_header_set {
    bl_kafka_header headers[BL_RETRY_HEADER_COUNT];
    char attempt[16], due_at[24], first_failure_at[24], partition[16], offset[24];
} bl_retry_header_set;

/* Renders h as decimal-text headers into set, ready for
 * bl_kafka_producer_send (set->headers, BL_RETRY_HEADER_COUNT). h must
 * outlive the send call. */
void bl_retry_headers_build(const bl_retry_headers *h, bl_retry_header_set *set);

/* Reads the busline-* headers from hs[0..n) (the last of a repeated name
 * wins). Every header but busline-error is required and must be a decimal
 * in range (attempt 0..1000, times and offset >= 0, partition >= 0) or a
 * valid topic name. Returns 0, or -1 with BL_EINVAL naming the header. */
int bl_retry_headers_parse(const bl_kafka_header *hs, size_t n, bl_retry_headers *out, bl_err *err);

/* bl_retry_headers_parse over a polled message's headers. */
int bl_retry_headers_from_msg(const bl_kafka_msg *m, bl_retry_headers *out, bl_err *err);

/* What a retry worker does with the head of a partition. */
typedef struct bl_retry_due {
    bool deliver_now;     /* due: deliver it */
    int64_t resume_at_ms; /* otherwise pause the partition and resume it then */
} bl_retry_due;

/* Decides for a message due at due_at_ms, at now_ms, on a tier whose delay
 * is tier_delay_ms: due when due_at_ms <= now_ms. A due time further off
 * than the tier's delay (a bad clock or header) is cut to now + the tier's
 * delay so it cannot stall the partition for long. */
bl_retry_due bl_retry_due_decide(int64_t due_at_ms, int64_t now_ms, int64_t tier_delay_ms);

#endif
