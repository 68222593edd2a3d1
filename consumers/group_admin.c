/* busline groups: the group inspection half (list, describe, committed and
 * end offsets, age of the oldest unprocessed message). Resets live in
 * group_reset.c and share the helpers declared in group_internal.h. */
#include "consumers/group_admin.h"

#include "consumers/group_internal.h"
#include "core/clock.h"
#include "core/kafka_config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void launch_list_groups(rd_kafka_t *rk, void *objs, size_t n, const rd_kafka_AdminOptions_t *opts,
                               rd_kafka_queue_t *q)
{
    (void)objs;
    (void)n;
    rd_kafka_ListConsumerGroups(rk, opts, q);
}

static void launch_describe_groups(rd_kafka_t *rk, void *objs, size_t n, const rd_kafka_AdminOptions_t *opts,
                                   rd_kafka_queue_t *q)
{
    rd_kafka_DescribeConsumerGroups(rk, (const char **)objs, n, opts, q);
}

static void launch_list_offsets(rd_kafka_t *rk, void *objs, size_t n, const rd_kafka_AdminOptions_t *opts,
                                rd_kafka_queue_t *q)
{
    rd_kafka_ListConsumerGroupOffsets(rk, objs, n, opts, q);
}

int bl_group_cmp_part(const char *ta, int32_t pa, const char *tb, int32_t pb)
{
    int c = strcmp(ta, tb);
    return c ? c : (pa > pb) - (pa < pb);
}

static int part_sort(const void *a, const void *b)
{
    const bl_group_partition *x = a, *y = b;
    return bl_group_cmp_part(x->topic, x->partition, y->topic, y->partition);
}

static int group_sort(const void *a, const void *b)
{
    return strcmp(((const bl_group_info *)a)->group_id, ((const bl_group_info *)b)->group_id);
}

/* Ids of every group starting with prefix: a new array of new strings. */
static int list_group_ids(bl_kafka_admin *a, const char *prefix, int timeout_ms, char ***ids, size_t *n,
                          bl_err *err)
{
    *ids = NULL;
    *n = 0;
    rd_kafka_event_t *ev =
        bl_kafka_admin_call(a, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, launch_list_groups, NULL, 0, timeout_ms,
                            "list consumer groups", err);
    if (!ev)
        return -1;
    const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev);
    size_t cnt = 0, nerr = 0;
    const rd_kafka_ConsumerGroupListing_t **valid = rd_kafka_ListConsumerGroups_result_valid(res, &cnt);
    const rd_kafka_error_t **errors = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
    int rc = -1;
    size_t prefix_len = prefix ? strlen(prefix) : 0;
    char **out = calloc(cnt + 1, sizeof *out);
    size_t got = 0;
    if (nerr > 0 && cnt == 0) {
        bl_err_set(err, BL_EKAFKA, "kafka: list consumer groups: %s", rd_kafka_error_string(errors[0]));
        goto done;
    }
    if (!out) {
        bl_err_set(err, BL_ENOMEM, "kafka: list consumer groups: out of memory");
        goto done;
    }
    for (size_t i = 0; i < cnt; i++) {
        const char *id = rd_kafka_ConsumerGroupListing_group_id(valid[i]);
        if (prefix_len && strncmp(id, prefix, prefix_len) != 0)
            continue;
        if (!(out[got] = strdup(id))) {
            bl_err_set(err, BL_ENOMEM, "kafka: list consumer groups: out of memory");
            goto done;
        }
        got++;
    }
    *ids = out;
    *n = got;
    out = NULL;
    rc = 0;
done:
    bl_kafka_topic_names_free(out, got);
    rd_kafka_event_destroy(ev);
    return rc;
}

/* Adds (topic, partition) to g unless present; returns its entry or NULL. */
static bl_group_partition *part_add(bl_group_info *g, size_t *cap, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < g->n_parts; i++) {
        if (g->parts[i].partition == partition && strcmp(g->parts[i].topic, topic) == 0)
            return &g->parts[i];
    }
    if (g->n_parts == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        bl_group_partition *np = realloc(g->parts, ncap * sizeof *np);
        if (!np)
            return NULL;
        g->parts = np;
        *cap = ncap;
    }
    bl_group_partition *p = &g->parts[g->n_parts];
    *p = (bl_group_partition){.topic = strdup(topic), .partition = partition, .committed = BL_GROUP_NONE,
                              .end = BL_GROUP_NONE, .lag = BL_GROUP_NONE, .oldest_ts_ms = BL_GROUP_NONE};
    if (!p->topic)
        return NULL;
    g->n_parts++;
    return p;
}

/* Fills g's state and members (and their partitions) from a description. */
static int fill_description(bl_group_info *g, size_t *cap, const rd_kafka_ConsumerGroupDescription_t *d,
                            bl_err *err)
{
    const rd_kafka_error_t *e = rd_kafka_ConsumerGroupDescription_error(d);
    if (e)
        return bl_err_set(err, BL_EKAFKA, "kafka: describe group '%s': %s", g->group_id,
                          rd_kafka_error_string(e));
    g->state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(d));
    size_t n = rd_kafka_ConsumerGroupDescription_member_count(d);
    if (n && !(g->members = calloc(n, sizeof *g->members)))
        return bl_err_set(err, BL_ENOMEM, "kafka: describe group: out of memory");
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_MemberDescription_t *m = rd_kafka_ConsumerGroupDescription_member(d, i);
        const char *cid = rd_kafka_MemberDescription_client_id(m), *host = rd_kafka_MemberDescription_host(m);
        bl_group_member *gm = &g->members[g->n_members++];
        gm->client_id = strdup(cid ? cid : "");
        gm->host = strdup(host ? host : "");
        if (!gm->client_id || !gm->host)
            return bl_err_set(err, BL_ENOMEM, "kafka: describe group: out of memory");
        const rd_kafka_MemberAssignment_t *as = rd_kafka_MemberDescription_assignment(m);
        const rd_kafka_topic_partition_list_t *parts = as ? rd_kafka_MemberAssignment_partitions(as) : NULL;
        for (int k = 0; parts && k < parts->cnt; k++) {
            if (!part_add(g, cap, parts->elems[k].topic, parts->elems[k].partition))
                return bl_err_set(err, BL_ENOMEM, "kafka: describe group: out of memory");
            gm->assigned++;
        }
    }
    return 0;
}

/* Describes n groups into gs (group_id already set). */
static int describe_groups(bl_kafka_admin *a, bl_group_info *gs, size_t n, size_t *caps, int timeout_ms,
                           bl_err *err)
{
    const char **ids = calloc(n, sizeof *ids);
    if (!ids)
        return bl_err_set(err, BL_ENOMEM, "kafka: describe groups: out of memory");
    for (size_t i = 0; i < n; i++)
        ids[i] = gs[i].group_id;
    rd_kafka_event_t *ev = bl_kafka_admin_call(a, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, launch_describe_groups,
                                               ids, n, timeout_ms, "describe consumer groups", err);
    free(ids);
    if (!ev)
        return -1;
    size_t cnt = 0;
    const rd_kafka_ConsumerGroupDescription_t **ds =
        rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev), &cnt);
    int rc = 0;
    for (size_t i = 0; i < cnt && rc == 0; i++) {
        const char *id = rd_kafka_ConsumerGroupDescription_group_id(ds[i]);
        for (size_t k = 0; k < n && rc == 0; k++) {
            if (strcmp(gs[k].group_id, id) == 0)
                rc = fill_description(&gs[k], &caps[k], ds[i], err);
        }
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

int bl_group_committed_offsets(bl_kafka_admin *a, const char *group, int timeout_ms,
                               rd_kafka_topic_partition_list_t **out, bl_err *err)
{
    *out = NULL;
    /* NULL partitions: every partition the group has committed on. */
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(group, NULL);
    rd_kafka_event_t *ev = bl_kafka_admin_call(a, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, launch_list_offsets,
                                               &req, 1, timeout_ms, "list committed offsets", err);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    if (!ev)
        return bl_err_wrap(err, "group '%s'", group);
    int rc = -1;
    size_t cnt = 0;
    const rd_kafka_group_result_t **gr =
        rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev), &cnt);
    if (cnt != 1) {
        bl_err_set(err, BL_EKAFKA, "kafka: list committed offsets of group '%s': no result", group);
        goto done;
    }
    const rd_kafka_error_t *e = rd_kafka_group_result_error(gr[0]);
    if (e) {
        bl_err_set(err, BL_EKAFKA, "kafka: list committed offsets of group '%s': %s", group,
                   rd_kafka_error_string(e));
        goto done;
    }
    const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(gr[0]);
    *out = parts ? rd_kafka_topic_partition_list_copy(parts) : rd_kafka_topic_partition_list_new(0);
    rc = 0;
done:
    rd_kafka_event_destroy(ev);
    return rc;
}

static int fill_committed(bl_kafka_admin *a, bl_group_info *g, size_t *cap, int timeout_ms, bl_err *err)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (bl_group_committed_offsets(a, g->group_id, timeout_ms, &parts, err) != 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < parts->cnt && rc == 0; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        if (tp->err || tp->offset < 0)
            continue;
        bl_group_partition *p = part_add(g, cap, tp->topic, tp->partition);
        if (!p)
            rc = bl_err_set(err, BL_ENOMEM, "kafka: committed offsets: out of memory");
        else
            p->committed = tp->offset;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return rc;
}

/* End offsets and lag. A partition whose topic is gone keeps "none". */
static void fill_lag(bl_kafka_admin *a, bl_group_info *g, int timeout_ms)
{
    rd_kafka_t *rk = bl_kafka_admin_handle(a);
    for (size_t i = 0; i < g->n_parts; i++) {
        bl_group_partition *p = &g->parts[i];
        int64_t low = 0, high = 0;
        if (rd_kafka_query_watermark_offsets(rk, p->topic, p->partition, &low, &high, timeout_ms))
            continue;
        p->end = high;
        int64_t from = p->committed >= 0 ? p->committed : low;
        p->lag = high > from ? high - from : 0;
    }
}

rd_kafka_t *bl_group_peek_consumer_new(bl_kafka_admin *a, bl_err *err)
{
    char brokers[1024];
    size_t len = sizeof brokers;
    if (rd_kafka_conf_get(rd_kafka_conf(bl_kafka_admin_handle(a)), "bootstrap.servers", brokers, &len) !=
        RD_KAFKA_CONF_OK) {
        bl_err_set(err, BL_EINVAL, "kafka: peek consumer: no bootstrap.servers");
        return NULL;
    }
    /* librdkafka wants a group.id for assign(); this one never joins (no
     * subscribe) and never commits, so the broker never sees it. */
    const char *const defaults[] = {"group.id", "busline.peek (never joined)", "enable.auto.commit", "false", "enable.auto.offset.store", "false",
                                    "fetch.max.bytes", "1048576", "queued.max.messages.kbytes", "1024",
                                    NULL};
    rd_kafka_conf_t *conf = bl_kafka_conf_new(brokers, defaults, NULL, NULL, err);
    return conf ? bl_kafka_handle_new(RD_KAFKA_CONSUMER, conf, "peek consumer", err) : NULL;
}

/* The age of the oldest unprocessed message: Kafka maps times to offsets
 * (ListOffsets) but not offsets to times, so the only exact answer is to read
 * the message at the committed offset. One short-lived consumer assigns each
 * lagging partition at its committed offset and keeps the timestamp of the
 * first message it gets (control records and compacted gaps are skipped by
 * the fetch, which is what "oldest unprocessed" means). Partitions not read
 * within the timeout keep "none". */
static int fill_oldest(bl_kafka_admin *a, bl_group_info *g, int timeout_ms, bl_err *err)
{
    rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new((int)g->n_parts);
    for (size_t i = 0; i < g->n_parts; i++) {
        const bl_group_partition *p = &g->parts[i];
        if (p->lag > 0)
            rd_kafka_topic_partition_list_add(assign, p->topic, p->partition)->offset =
                p->committed >= 0 ? p->committed : RD_KAFKA_OFFSET_BEGINNING;
    }
    if (assign->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(assign);
        return 0;
    }
    int rc = -1;
    rd_kafka_t *rk = bl_group_peek_consumer_new(a, err);
    if (!rk)
        goto done;
    rd_kafka_resp_err_t code = rd_kafka_assign(rk, assign);
    if (code) {
        bl_kafka_err(err, rk, code, "peek consumer: assign");
        goto done;
    }
    int missing = assign->cnt;
    int64_t deadline = bl_clock_mono_ms() + timeout_ms;
    while (missing > 0 && bl_clock_mono_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err && m->rkt) {
            const char *topic = rd_kafka_topic_name(m->rkt);
            for (size_t i = 0; i < g->n_parts; i++) {
                bl_group_partition *p = &g->parts[i];
                if (p->partition == m->partition && p->oldest_ts_ms == BL_GROUP_NONE && strcmp(p->topic, topic) == 0) {
                    p->oldest_ts_ms = rd_kafka_message_timestamp(m, NULL);
                    missing--;
                }
            }
        }
        rd_kafka_message_destroy(m);
    }
    rc = 0;
done:
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    rd_kafka_topic_partition_list_destroy(assign);
    return rc;
}

static void group_info_clear(bl_group_info *g)
{
    free(g->group_id);
    for (size_t i = 0; i < g->n_members; i++) {
        free(g->members[i].client_id);
        free(g->members[i].host);
    }
    free(g->members);
    for (size_t i = 0; i < g->n_parts; i++)
        free(g->parts[i].topic);
    free(g->parts);
}

void bl_group_report_free(bl_group_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        group_info_clear(&r->groups[i]);
    free(r->groups);
    free(r);
}

bl_group_report *bl_group_report_new(bl_kafka_admin *a, const char *prefix, const char *one, int timeout_ms,
                                     bl_err *err)
{
    return bl_group_report_build(a, prefix, one, 1, timeout_ms, err);
}

bl_group_report *bl_group_report_build(bl_kafka_admin *a, const char *prefix, const char *one, int peek_oldest,
                                       int timeout_ms, bl_err *err)
{
    char **ids = NULL;
    size_t n = 0;
    size_t *caps = NULL;
    bl_group_report *r = calloc(1, sizeof *r);
    if (!r) {
        bl_err_set(err, BL_ENOMEM, "groups: out of memory");
        return NULL;
    }
    if (one) {
        if (!*one) {
            bl_err_set(err, BL_EINVAL, "groups: empty group name");
            goto fail;
        }
        ids = calloc(1, sizeof *ids);
        if (ids && (ids[0] = strdup(one)))
            n = 1;
        else {
            bl_err_set(err, BL_ENOMEM, "groups: out of memory");
            goto fail;
        }
    } else if (list_group_ids(a, prefix, timeout_ms, &ids, &n, err) != 0) {
        goto fail;
    }
    if (n == 0)
        goto ok;
    r->groups = calloc(n, sizeof *r->groups);
    caps = calloc(n, sizeof *caps);
    if (!r->groups || !caps) {
        bl_err_set(err, BL_ENOMEM, "groups: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        r->groups[i].group_id = ids[i];
        ids[i] = NULL;
        r->n++;
    }
    if (describe_groups(a, r->groups, r->n, caps, timeout_ms, err) != 0)
        goto fail;
    for (size_t i = 0; i < r->n; i++) {
        bl_group_info *g = &r->groups[i];
        if (fill_committed(a, g, &caps[i], timeout_ms, err) != 0)
            goto fail;
        if (one && g->n_members == 0 && g->n_parts == 0) {
            bl_err_set(err, BL_ENOTFOUND, "groups: group '%s' not found (no members, no committed offsets)", one);
            goto fail;
        }
        if (g->n_parts > 1)
            qsort(g->parts, g->n_parts, sizeof *g->parts, part_sort);
        fill_lag(a, g, timeout_ms);
        if (peek_oldest && fill_oldest(a, g, timeout_ms, err) != 0)
            goto fail;
    }
    if (r->n > 1)
        qsort(r->groups, r->n, sizeof *r->groups, group_sort);
ok:
    bl_kafka_topic_names_free(ids, n);
    free(caps);
    return r;
fail:
    bl_kafka_topic_names_free(ids, n);
    free(caps);
    bl_group_report_free(r);
    return NULL;
}
