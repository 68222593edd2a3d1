/* The commit watermark of a worker that finishes messages out of order.
 *
 * Per (topic, partition) it keeps the offsets taken but not yet committable
 * in a ring (ascending, as Kafka delivers them) and commits only up to the
 * oldest unfinished one, never "the last one seen". Offsets need not be
 * contiguous (compacted topics, transaction markers): the offsets between two
 * tracked ones were never delivered, so the watermark passes over them.
 *
 * The first offset tracked counts as already committed (the group resumed
 * there), so a partition is listed as committable only once work finishes.
 *
 * Two bounds per partition: at most max_in_flight unfinished entries, and
 * at most max_held entries in all (finished ones waiting behind an
 * unfinished one count too), so one slow message does not stop the
 * partition after max_in_flight more, only after max_held more. When
 * either is reached, track refuses and the caller pauses that partition
 * until done frees room.
 *
 * Not thread-safe: one worker thread owns a tracker. */
#ifndef BUSLINE_CONSUMERS_OFFSET_TRACKER_H
#define BUSLINE_CONSUMERS_OFFSET_TRACKER_H

#include "core/err.h"
#include "core/kafka_consumer.h"

#include <stddef.h>
#include <stdint.h>

/* Largest max_in_flight accepted per partition. */
#define BL_OFFSET_TRACKER_MAX_WINDOW (1u << 20)

typedef struct bl_offset_tracker bl_offset_tracker;

/* What bl_offset_tracker_track did with an offset. */
typedef enum bl_offset_track_result {
    BL_OFFSET_TRACKED = 0,     /* taken; call done when its work is durable */
    BL_OFFSET_WINDOW_FULL = 1, /* not taken: pause the partition, retry after a done */
} bl_offset_track_result;

/* Creates a tracker allowing max_in_flight unfinished and max_held entries
 * in all per partition (both 1..BL_OFFSET_TRACKER_MAX_WINDOW; max_held 0 =
 * max_in_flight, else at least max_in_flight). Returns NULL with err on a
 * bad size or no memory. Free with bl_offset_tracker_free. */
bl_offset_tracker *bl_offset_tracker_new(size_t max_in_flight, size_t max_held, bl_err *err);

/* Frees t and every partition in it. t may be NULL. */
void bl_offset_tracker_free(bl_offset_tracker *t);

/* Takes offset of (topic, partition) when the message is taken for work
 * (topic copied). Offsets must rise per partition. Returns BL_OFFSET_TRACKED,
 * BL_OFFSET_WINDOW_FULL, or -1 with err: BL_EINVAL for a bad argument,
 * BL_ECONFLICT for an offset not above the last one tracked, BL_ENOMEM. */
int bl_offset_tracker_track(bl_offset_tracker *t, const char *topic, int32_t partition,
                            int64_t offset, bl_err *err);

/* Marks a tracked offset finished (its work is durable). Returns 0, or -1
 * with err: BL_ENOTFOUND when the partition or offset is not in flight,
 * BL_ECONFLICT when it was already marked done. */
int bl_offset_tracker_done(bl_offset_tracker *t, const char *topic, int32_t partition,
                           int64_t offset, bl_err *err);

/* Entries held for (topic, partition): in flight plus finished ones waiting
 * behind an unfinished one; 0 for an unknown partition. */
size_t bl_offset_tracker_held(const bl_offset_tracker *t, const char *topic, int32_t partition);

/* Fills out (capacity cap) with the next offset to commit for each partition
 * whose watermark advanced past its last committed one; topic pointers are
 * borrowed from t until that partition is forgotten or t freed. Does not
 * change t: call bl_offset_tracker_committed once the commit succeeded.
 * Returns the number filled (more may remain when it equals cap). */
size_t bl_offset_tracker_committable(const bl_offset_tracker *t, bl_kafka_offset *out, size_t cap);

/* Records that offs[0..n) were committed. Entries for unknown partitions
 * (revoked meanwhile) and ones behind the last committed are ignored. */
void bl_offset_tracker_committed(bl_offset_tracker *t, const bl_kafka_offset *offs, size_t n);

/* Drops (topic, partition) on revoke. When its watermark advanced past the
 * last commit, sets *final_next to the offset the revoke hook should commit
 * and returns 1; returns 0 when there is nothing to commit (also for an
 * unknown partition). Unfinished entries are dropped: the next owner of the
 * partition reads them again. */
int bl_offset_tracker_forget(bl_offset_tracker *t, const char *topic, int32_t partition,
                             int64_t *final_next);

#endif
