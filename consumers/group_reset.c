/* busline groups reset: moving a stopped group's committed offsets. */
#include "consumers/group_admin.h"

#include "consumers/group_internal.h"
#include "core/kafka_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void launch_alter_offsets(rd_kafka_t *rk, void *objs, size_t n, const rd_kafka_AdminOptions_t *opts,
                                 rd_kafka_queue_t *q)
{
    rd_kafka_AlterConsumerGroupOffsets(rk, objs, n, opts, q);
}

void bl_group_reset_plan_free(bl_group_reset_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->moves[i].topic);
    free(p->moves);
    free(p->group_id);
    free(p);
}

/* "client@host, client@host" of the first members, for the refusal. */
static void describe_members(const bl_group_info *g, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < g->n_members && used + 1 < len; i++) {
        int w = snprintf(out + used, len - used, "%s%s@%s", i ? ", " : "", g->members[i].client_id,
                         g->members[i].host);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* Committed offset of (topic, partition) in g, or BL_GROUP_NONE. */
static int64_t committed_of(const bl_group_info *g, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < g->n_parts; i++) {
        if (g->parts[i].partition == partition && strcmp(g->parts[i].topic, topic) == 0)
            return g->parts[i].committed;
    }
    return BL_GROUP_NONE;
}

/* Adds every partition of topic to plan, from = committed now, to unset. */
static int add_topic_moves(bl_kafka_admin *a, bl_group_reset_plan *plan, size_t *cap, const bl_group_info *g,
                           const char *topic, int timeout_ms, bl_err *err)
{
    int count = bl_kafka_admin_partition_count(a, topic, timeout_ms, err);
    if (count < 0)
        return -1;
    if (count == 0)
        return bl_err_set(err, BL_ENOTFOUND, "groups: reset '%s': topic '%s' does not exist", g->group_id, topic);
    for (int32_t p = 0; p < count; p++) {
        if (plan->n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 16;
            bl_group_move *nm = realloc(plan->moves, ncap * sizeof *nm);
            if (!nm)
                return bl_err_set(err, BL_ENOMEM, "groups: reset: out of memory");
            plan->moves = nm;
            *cap = ncap;
        }
        bl_group_move *m = &plan->moves[plan->n];
        *m = (bl_group_move){.topic = strdup(topic), .partition = p, .from = committed_of(g, topic, p),
                             .to = BL_GROUP_NONE};
        if (!m->topic)
            return bl_err_set(err, BL_ENOMEM, "groups: reset: out of memory");
        plan->n++;
    }
    return 0;
}

/* Sets every move's target. Times go through ListOffsets by timestamp; a
 * partition with no message at or after the time resumes at its end. */
static int fill_targets(bl_kafka_admin *a, bl_group_reset_plan *plan, bl_group_reset_to to, int64_t time_ms,
                        int timeout_ms, bl_err *err)
{
    rd_kafka_t *rk = bl_kafka_admin_handle(a);
    rd_kafka_topic_partition_list_t *times = NULL;
    rd_kafka_t *peek = NULL;
    int rc = -1;
    for (size_t i = 0; i < plan->n; i++) {
        bl_group_move *m = &plan->moves[i];
        int64_t low = 0, high = 0;
        rd_kafka_resp_err_t code = rd_kafka_query_watermark_offsets(rk, m->topic, m->partition, &low, &high,
                                                                    timeout_ms);
        if (code) {
            bl_kafka_err(err, rk, code, "watermarks");
            bl_err_wrap(err, "groups: reset: %s[%d]", m->topic, (int)m->partition);
            goto done;
        }
        m->to = to == BL_GROUP_RESET_EARLIEST ? low : high;
    }
    if (to != BL_GROUP_RESET_TIME) {
        rc = 0;
        goto done;
    }
    times = rd_kafka_topic_partition_list_new((int)plan->n);
    for (size_t i = 0; i < plan->n; i++)
        rd_kafka_topic_partition_list_add(times, plan->moves[i].topic, plan->moves[i].partition)->offset = time_ms;
    if (!(peek = bl_group_peek_consumer_new(a, err)))
        goto done;
    rd_kafka_resp_err_t code = rd_kafka_offsets_for_times(peek, times, timeout_ms);
    if (code) {
        bl_kafka_err(err, peek, code, "offsets for time");
        bl_err_wrap(err, "groups: reset");
        goto done;
    }
    for (int i = 0; i < times->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &times->elems[i];
        if (tp->err) {
            bl_err_set(err, BL_EKAFKA, "groups: reset: offset for time of %s[%d]: %s", tp->topic,
                       (int)tp->partition, rd_kafka_err2str(tp->err));
            goto done;
        }
        if (tp->offset >= 0)
            plan->moves[i].to = tp->offset;
    }
    rc = 0;
done:
    if (times)
        rd_kafka_topic_partition_list_destroy(times);
    if (peek)
        rd_kafka_destroy(peek);
    return rc;
}

bl_group_reset_plan *bl_group_reset_plan_new(bl_kafka_admin *a, const char *group, const char *topic,
                                             bl_group_reset_to to, int64_t time_ms, int timeout_ms, bl_err *err)
{
    bl_group_reset_plan *plan = NULL;
    bl_group_report *r = bl_group_report_build(a, NULL, group, 0, timeout_ms, err);
    if (!r)
        return NULL;
    const bl_group_info *g = &r->groups[0];
    if (g->n_members > 0) {
        char who[160];
        describe_members(g, who, sizeof who);
        bl_err_set(err, BL_ECONFLICT,
                   "groups: reset '%s' refused: the group has %zu active member(s) (%s); stop its consumers "
                   "(scale the Deployment to 0) and try again",
                   group, g->n_members, who);
        goto fail;
    }
    if (!(plan = calloc(1, sizeof *plan)) || !(plan->group_id = strdup(group))) {
        bl_err_set(err, BL_ENOMEM, "groups: reset: out of memory");
        goto fail;
    }
    size_t cap = 0;
    const char *last = NULL;
    for (size_t i = 0; i < g->n_parts; i++) { /* parts are sorted: one pass per topic */
        const char *t = g->parts[i].topic;
        if (g->parts[i].committed < 0 || (topic && strcmp(t, topic) != 0) || (last && strcmp(t, last) == 0))
            continue;
        last = t;
        if (add_topic_moves(a, plan, &cap, g, t, timeout_ms, err) != 0)
            goto fail;
    }
    if (plan->n == 0) {
        if (topic)
            bl_err_set(err, BL_ENOTFOUND, "groups: reset '%s': the group has no committed offsets on topic '%s'",
                       group, topic);
        else
            bl_err_set(err, BL_ENOTFOUND, "groups: reset '%s': the group has no committed offsets", group);
        goto fail;
    }
    if (fill_targets(a, plan, to, time_ms, timeout_ms, err) != 0)
        goto fail;
    bl_group_report_free(r);
    return plan;
fail:
    bl_group_report_free(r);
    bl_group_reset_plan_free(plan);
    return NULL;
}

int bl_group_reset_apply(bl_kafka_admin *a, const bl_group_reset_plan *plan, int timeout_ms, bl_err *err)
{
    if (!plan || plan->n == 0)
        return bl_err_set(err, BL_EINVAL, "groups: reset: empty plan");
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new((int)plan->n);
    for (size_t i = 0; i < plan->n; i++)
        rd_kafka_topic_partition_list_add(parts, plan->moves[i].topic, plan->moves[i].partition)->offset =
            plan->moves[i].to;
    rd_kafka_AlterConsumerGroupOffsets_t *req = rd_kafka_AlterConsumerGroupOffsets_new(plan->group_id, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_event_t *ev = bl_kafka_admin_call(a, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, launch_alter_offsets,
                                               &req, 1, timeout_ms, "alter committed offsets", err);
    rd_kafka_AlterConsumerGroupOffsets_destroy(req);
    if (!ev)
        return bl_err_wrap(err, "groups: reset '%s'", plan->group_id);
    int rc = -1;
    size_t cnt = 0;
    const rd_kafka_group_result_t **gr =
        rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &cnt);
    if (cnt != 1) {
        bl_err_set(err, BL_EKAFKA, "groups: reset '%s': no result from the broker", plan->group_id);
        goto done;
    }
    const rd_kafka_error_t *e = rd_kafka_group_result_error(gr[0]);
    if (e) {
        bl_err_set(err, BL_EKAFKA, "groups: reset '%s': %s", plan->group_id, rd_kafka_error_string(e));
        goto done;
    }
    const rd_kafka_topic_partition_list_t *res = rd_kafka_group_result_partitions(gr[0]);
    for (int i = 0; res && i < res->cnt; i++) {
        if (res->elems[i].err) {
            bl_err_set(err, BL_EKAFKA, "groups: reset '%s': %s[%d]: %s", plan->group_id, res->elems[i].topic,
                       (int)res->elems[i].partition, rd_kafka_err2str(res->elems[i].err));
            goto done;
        }
    }
    rc = 0;
done:
    rd_kafka_event_destroy(ev);
    return rc;
}
