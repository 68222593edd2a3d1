/* Helpers shared by group_admin.c and group_reset.c; not a public API. */
#ifndef BUSLINE_CONSUMERS_GROUP_INTERNAL_H
#define BUSLINE_CONSUMERS_GROUP_INTERNAL_H

#include "core/err.h"
#include "core/kafka_admin.h"

#include "consumers/group_admin.h"

#include <stdint.h>

/* bl_group_report_new, reading the oldest unprocessed messages only when
 * peek_oldest is 1 (a reset needs offsets, not ages). */
bl_group_report *bl_group_report_build(bl_kafka_admin *a, const char *prefix, const char *one, int peek_oldest,
                                       int timeout_ms, bl_err *err);

/* Orders (topic, partition) pairs: <0, 0, >0 as strcmp. */
int bl_group_cmp_part(const char *ta, int32_t pa, const char *tb, int32_t pb);

/* Every committed offset of group (partitions never committed are absent or
 * carry a negative offset). *out is a new list (caller destroys it).
 * Returns 0, or -1 with err. */
int bl_group_committed_offsets(bl_kafka_admin *a, const char *group, int timeout_ms,
                               rd_kafka_topic_partition_list_t **out, bl_err *err);

/* A consumer handle without a group, on the admin client's brokers, for
 * assign + read and offset-for-time queries. Caller closes and destroys it.
 * Returns NULL with err. */
rd_kafka_t *bl_group_peek_consumer_new(bl_kafka_admin *a, bl_err *err);

#endif
