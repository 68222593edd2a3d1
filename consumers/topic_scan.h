/* Reads topics once, from a point in time to their current end, without a
 * consumer group's commits: the engine of the operator tools that look back
 * (`busline dlq list|replay`, the webhook replay of missed events).
 *
 * Each partition starts at the first offset whose timestamp is >= since_ms
 * (offsetsForTimes) and stops at the high watermark read when the scan
 * began, so messages produced during the scan (a replay's own output) are
 * not read again. */
#ifndef BUSLINE_CONSUMERS_TOPIC_SCAN_H
#define BUSLINE_CONSUMERS_TOPIC_SCAN_H

#include "core/err.h"
#include "core/kafka_consumer.h"

#include <stddef.h>
#include <stdint.h>

/* Called for each message read (m borrowed for the call). Return 0 to go on,
 * or -1 with err filled to stop the scan with that error. */
typedef int (*bl_topic_scan_fn)(const bl_kafka_msg *m, void *user, bl_err *err);

typedef struct bl_topic_scan_opts {
    const char *brokers;          /* required */
    const char *const *topics;    /* required, n_topics >= 1; borrowed */
    size_t n_topics;
    int64_t since_ms;             /* unix ms; 0: from the beginning */
    int64_t until_ms;             /* messages with a later timestamp are skipped; 0: none */
    int timeout_ms;               /* longest the whole scan may take; 0: 60000 */
    /* NULL, or where to resume partition (topic, partition): an offset
     * later than since's start is started from instead; -1: from since.
     * start_user is passed to it. */
    int64_t (*start_at)(void *start_user, const char *topic, int32_t partition);
    void *start_user;
} bl_topic_scan_opts;

/* Scans o's topics, calling fn for every message in [since, until] in
 * partition order (partitions interleave). Returns the number of messages
 * passed to fn, or -1 with err (unknown topic, broker error, timeout, or
 * fn's error). */
long bl_topic_scan(const bl_topic_scan_opts *o, bl_topic_scan_fn fn, void *user, bl_err *err);

#endif
