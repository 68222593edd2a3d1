/* Consumer-group inspection and offset resets for operators (busline groups):
 * which groups exist, who is in them, how far behind each partition is, how
 * old the oldest unprocessed message is, and moving a stopped group's
 * committed offsets to the start, the end or a point in time. */
#ifndef BUSLINE_CONSUMERS_GROUP_ADMIN_H
#define BUSLINE_CONSUMERS_GROUP_ADMIN_H

#include "core/err.h"
#include "core/kafka_admin.h"

#include <stddef.h>
#include <stdint.h>

/* Offset / timestamp fields hold this when there is nothing to show. */
#define BL_GROUP_NONE (-1)

typedef struct bl_group_member {
    char *client_id;
    char *host;
    size_t assigned; /* partitions assigned to this member */
} bl_group_member;

typedef struct bl_group_partition {
    char *topic;
    int32_t partition;
    int64_t committed;    /* next offset the group reads; BL_GROUP_NONE when never committed */
    int64_t end;          /* high watermark (offset of the next message produced) */
    int64_t lag;          /* end - committed, or end - low watermark when never committed */
    int64_t oldest_ts_ms; /* timestamp of the first unprocessed message; BL_GROUP_NONE when lag is 0 */
} bl_group_partition;

typedef struct bl_group_info {
    char *group_id;
    const char *state; /* "Stable", "Empty", "Dead", "PreparingRebalance", ... (static) */
    bl_group_member *members;
    size_t n_members;
    bl_group_partition *parts; /* sorted by topic, partition */
    size_t n_parts;
} bl_group_info;

typedef struct bl_group_report {
    bl_group_info *groups; /* sorted by group id */
    size_t n;
} bl_group_report;

/* Describes every consumer group whose id starts with prefix ("" or NULL:
 * every group) — or only the group named exactly by one (prefix ignored) —
 * with members, committed and end offsets, lag and the timestamp of the
 * oldest unprocessed message per partition. Partitions are those with a
 * committed offset plus those assigned to a member. Asking for one group
 * that has neither members nor committed offsets is BL_ENOTFOUND. Returns a
 * report the caller frees with bl_group_report_free, or NULL with err. */
bl_group_report *bl_group_report_new(bl_kafka_admin *a, const char *prefix, const char *one,
                                     int timeout_ms, bl_err *err);

/* Frees r and everything in it. r may be NULL. */
void bl_group_report_free(bl_group_report *r);

typedef enum bl_group_reset_to {
    BL_GROUP_RESET_EARLIEST,
    BL_GROUP_RESET_LATEST,
    BL_GROUP_RESET_TIME, /* first message at or after a timestamp; the end when none */
} bl_group_reset_to;

typedef struct bl_group_move {
    char *topic;
    int32_t partition;
    int64_t from; /* committed now; BL_GROUP_NONE when never committed */
    int64_t to;
} bl_group_move;

typedef struct bl_group_reset_plan {
    char *group_id;
    bl_group_move *moves; /* sorted by topic, partition */
    size_t n;
} bl_group_reset_plan;

/* Plans a reset of group: every partition of every topic the group has
 * committed offsets on, or of topic only when topic is not NULL. time_ms is
 * used for BL_GROUP_RESET_TIME (milliseconds since the epoch). Refused with
 * BL_ECONFLICT while the group has members; BL_ENOTFOUND when the group has
 * no committed offsets and no topic is named, or the topic does not exist.
 * Returns a plan the caller frees with bl_group_reset_plan_free, or NULL
 * with err. */
bl_group_reset_plan *bl_group_reset_plan_new(bl_kafka_admin *a, const char *group, const char *topic,
                                             bl_group_reset_to to, int64_t time_ms, int timeout_ms,
                                             bl_err *err);

/* Commits the plan's offsets for its group (AlterConsumerGroupOffsets; the
 * broker refuses it too if a member joined meanwhile). Returns 0, or -1 with
 * err naming the first partition that failed. */
int bl_group_reset_apply(bl_kafka_admin *a, const bl_group_reset_plan *plan, int timeout_ms, bl_err *err);

/* Frees p. p may be NULL. */
void bl_group_reset_plan_free(bl_group_reset_plan *p);

#endif
