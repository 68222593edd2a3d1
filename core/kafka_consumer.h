/* Kafka group consumer over librdkafka: cooperative-sticky assignment,
 * nothing committed unless the caller commits explicit offsets, and a hook
 * that runs before partitions are taken away. */
#ifndef BUSLINE_CORE_KAFKA_CONSUMER_H
#define BUSLINE_CORE_KAFKA_CONSUMER_H

#include "core/err.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

/* Told about partitions given to or taken from this consumer. parts is
 * borrowed for the call (parts->elems[i].topic / .partition). lost is 1 when
 * they were lost (session timeout): commits for them will fail. The hook runs
 * inside bl_kafka_consumer_poll/close and may commit. */
typedef void (*bl_kafka_partitions_fn)(const rd_kafka_topic_partition_list_t *parts, int lost,
                                       void *user);

typedef struct bl_kafka_consumer_opts {
    const char *brokers;           /* required */
    const char *group_id;          /* required */
    const char *auto_offset_reset; /* "earliest" (default when NULL) or "latest" */
    const char *const *extra;      /* NULL-terminated key/value overrides, may be NULL */
    bl_kafka_partitions_fn on_assign; /* may be NULL */
    bl_kafka_partitions_fn on_revoke; /* may be NULL; finish work and commit here */
    void *user;                    /* passed to the hooks */
} bl_kafka_consumer_opts;

/* Where the group resumes a partition: next_offset is the offset of the next
 * message to read (last processed + 1). Borrowed. */
typedef struct bl_kafka_offset {
    const char *topic;
    int32_t partition;
    int64_t next_offset;
} bl_kafka_offset;

typedef struct bl_kafka_consumer bl_kafka_consumer;

/* An opaque polled message, borrowed until bl_kafka_msg_release. */
typedef struct bl_kafka_msg bl_kafka_msg;

/* Creates a consumer (not yet subscribed). Returns NULL with err carrying
 * librdkafka's message on a bad setting. Free with bl_kafka_consumer_free. */
bl_kafka_consumer *bl_kafka_consumer_new(const bl_kafka_consumer_opts *opts, bl_err *err);

/* Subscribes to n topics (names borrowed). Returns 0, or -1 with err. */
int bl_kafka_consumer_subscribe(bl_kafka_consumer *c, const char *const *topics, size_t n, bl_err *err);

/* Waits up to timeout_ms for a message; rebalance hooks run in here.
 * Returns 1 with *out set (release it with bl_kafka_msg_release), 0 on
 * timeout, -1 with err on a consumer error (*out NULL; most are transient,
 * check bl_kafka_consumer_fatal to decide whether to stop). */
int bl_kafka_consumer_poll(bl_kafka_consumer *c, int timeout_ms, bl_kafka_msg **out, bl_err *err);

/* Commits n explicit offsets and waits for the broker. Returns 0, or -1 with
 * err naming the first failed partition. */
int bl_kafka_consumer_commit_sync(bl_kafka_consumer *c, const bl_kafka_offset *offs, size_t n,
                                  bl_err *err);

/* Sends a commit of n offsets without waiting; failures are logged when the
 * result is served by a later poll. Returns 0, or -1 with err if not sent. */
int bl_kafka_consumer_commit_async(bl_kafka_consumer *c, const bl_kafka_offset *offs, size_t n,
                                   bl_err *err);

/* Returns 1 when the consumer hit a fatal error (err gets the reason), else 0. */
int bl_kafka_consumer_fatal(bl_kafka_consumer *c, bl_err *err);

/* The underlying handle, borrowed (pause/resume, positions); do not destroy. */
rd_kafka_t *bl_kafka_consumer_handle(bl_kafka_consumer *c);

/* Leaves the group cleanly (the revoke hook runs; nothing is committed
 * implicitly). Safe to call twice. Returns 0, or -1 with err. */
int bl_kafka_consumer_close(bl_kafka_consumer *c, bl_err *err);

/* Closes if still open and destroys. c may be NULL. Release every message
 * first. Waits at most 10 s for librdkafka (see bl_kafka_consumer_free_bounded). */
void bl_kafka_consumer_free(bl_kafka_consumer *c);

/* As bl_kafka_consumer_free. Returns 1 when librdkafka destroyed the handle
 * within 10 s, 0 when it did not (a known librdkafka 2.0 hang after a topic
 * of the assignment was deleted): the handle is then left to the process's
 * exit, with a warning logged. */
int bl_kafka_consumer_free_bounded(bl_kafka_consumer *c);

/* Message accessors; m is borrowed from poll. Pointers stay valid until
 * release. key/value may be NULL (len 0). */
const char *bl_kafka_msg_topic(const bl_kafka_msg *m);
int32_t bl_kafka_msg_partition(const bl_kafka_msg *m);
int64_t bl_kafka_msg_offset(const bl_kafka_msg *m);
/* The message's timestamp (unix ms, create or log-append time), or -1. */
int64_t bl_kafka_msg_timestamp(const bl_kafka_msg *m);
const void *bl_kafka_msg_key(const bl_kafka_msg *m, size_t *len);
const void *bl_kafka_msg_value(const bl_kafka_msg *m, size_t *len);

/* Number of headers on m. */
size_t bl_kafka_msg_header_count(const bl_kafka_msg *m);

/* Header at idx (insertion order). Returns 0 with key/value/len set, or -1
 * when out of range. value may be NULL for a null header. */
int bl_kafka_msg_header_at(const bl_kafka_msg *m, size_t idx, const char **key, const void **value,
                           size_t *len);

/* The last header named key. Returns 0 with value/len set, or -1 if absent. */
int bl_kafka_msg_header(const bl_kafka_msg *m, const char *key, const void **value, size_t *len);

/* The commit position after m: its topic, partition and offset + 1. */
bl_kafka_offset bl_kafka_msg_next_offset(const bl_kafka_msg *m);

/* Gives m back to librdkafka. m may be NULL. */
void bl_kafka_msg_release(bl_kafka_msg *m);

#endif
