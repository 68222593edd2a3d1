/* One pass over topics from a time to their end (see topic_scan.h). */
#include "consumers/topic_scan.h"
#include "core/clock.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define META_TIMEOUT_MS 10000

/* One partition being read: where it ends. */
typedef struct scan_part {
    const char *topic; /* borrowed from the options */
    int32_t partition;
    int64_t start, end;
    int done;
} scan_part;

/* Appends every partition of topic to *parts. Returns 0, or -1 with err. */
static int add_partitions(rd_kafka_t *rk, const char *topic, scan_part **parts, size_t *n, bl_err *err)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (!rkt)
        return bl_err_set(err, BL_EKAFKA, "scan: topic %s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, META_TIMEOUT_MS);
    int rc = -1;
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        bl_err_set(err, BL_EKAFKA, "scan: metadata of %s: %s", topic, rd_kafka_err2str(e));
    } else if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        bl_err_set(err, BL_ENOTFOUND, "scan: topic %s: %s", topic,
                   md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "not found");
    } else {
        int cnt = md->topics[0].partition_cnt;
        scan_part *bigger = realloc(*parts, (*n + (size_t)cnt + 1) * sizeof *bigger);
        if (!bigger) {
            bl_err_set(err, BL_ENOMEM, "scan: out of memory");
        } else {
            *parts = bigger;
            for (int i = 0; i < cnt; i++)
                (*parts)[(*n)++] = (scan_part){.topic = topic, .partition = md->topics[0].partitions[i].id};
            rc = 0;
        }
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rc;
}

/* Sets each part's start (first offset at or after since_ms) and end (high
 * watermark); parts with nothing to read are marked done. */
static int find_bounds(rd_kafka_t *rk, scan_part *parts, size_t n, const bl_topic_scan_opts *o, bl_err *err)
{
    int64_t since_ms = o->since_ms;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(list, parts[i].topic, parts[i].partition)->offset =
            since_ms > 0 ? since_ms : RD_KAFKA_OFFSET_BEGINNING;
    int rc = -1;
    rd_kafka_resp_err_t e = since_ms > 0 ? rd_kafka_offsets_for_times(rk, list, META_TIMEOUT_MS)
                                         : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        bl_err_set(err, BL_EKAFKA, "scan: offsets for times: %s", rd_kafka_err2str(e));
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t lo = 0, hi = 0;
        e = rd_kafka_query_watermark_offsets(rk, parts[i].topic, parts[i].partition, &lo, &hi, META_TIMEOUT_MS);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            bl_err_set(err, BL_EKAFKA, "scan: watermarks of %s[%d]: %s", parts[i].topic, (int)parts[i].partition,
                       rd_kafka_err2str(e));
            goto done;
        }
        int64_t start = list->elems[i].offset;
        if (start == RD_KAFKA_OFFSET_BEGINNING || start < lo)
            start = lo;
        int64_t resume = o->start_at ? o->start_at(o->start_user, parts[i].topic, parts[i].partition) : -1;
        if (resume >= 0 && start >= 0 && resume > start)
            start = resume;
        parts[i].start = start;
        parts[i].end = hi;
        parts[i].done = start < 0 || start >= hi; /* OFFSET_END: nothing at or after since */
    }
    rc = 0;
done:
    rd_kafka_topic_partition_list_destroy(list);
    return rc;
}

static scan_part *find_part(scan_part *parts, size_t n, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < n; i++)
        if (parts[i].partition == partition && strcmp(parts[i].topic, topic) == 0)
            return &parts[i];
    return NULL;
}

long bl_topic_scan(const bl_topic_scan_opts *o, bl_topic_scan_fn fn, void *user, bl_err *err)
{
    if (!o->brokers || !o->topics || o->n_topics == 0 || !fn) {
        bl_err_set(err, BL_EINVAL, "scan: brokers, topics and a callback are required");
        return -1;
    }
    bl_kafka_consumer_opts co = {.brokers = o->brokers, .group_id = "busline-topic-scan"};
    bl_kafka_consumer *c = bl_kafka_consumer_new(&co, err);
    if (!c)
        return -1;
    rd_kafka_t *rk = bl_kafka_consumer_handle(c);
    scan_part *parts = NULL;
    size_t n = 0, left = 0;
    long seen = -1, passed = 0;
    rd_kafka_topic_partition_list_t *assign = NULL;
    for (size_t t = 0; t < o->n_topics; t++)
        if (add_partitions(rk, o->topics[t], &parts, &n, err) != 0)
            goto done;
    if (n && find_bounds(rk, parts, n, o, err) != 0)
        goto done;
    assign = rd_kafka_topic_partition_list_new((int)n + 1);
    for (size_t i = 0; i < n; i++) {
        if (parts[i].done)
            continue;
        rd_kafka_topic_partition_list_add(assign, parts[i].topic, parts[i].partition)->offset = parts[i].start;
        left++;
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, assign);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        bl_err_set(err, BL_EKAFKA, "scan: assign: %s", rd_kafka_err2str(e));
        goto done;
    }
    int64_t deadline = bl_clock_mono_ms() + (o->timeout_ms > 0 ? o->timeout_ms : 60000);
    while (left > 0) {
        if (bl_clock_mono_ms() > deadline) {
            bl_err_set(err, BL_ETIMEOUT, "scan: %zu partitions not read to their end in time", left);
            goto done;
        }
        bl_kafka_msg *m = NULL;
        bl_err perr = {0};
        int got = bl_kafka_consumer_poll(c, 200, &m, &perr);
        if (got < 0) {
            if (bl_kafka_consumer_fatal(c, err))
                goto done;
            continue;
        }
        if (got == 0)
            continue;
        scan_part *p = find_part(parts, n, bl_kafka_msg_topic(m), bl_kafka_msg_partition(m));
        int64_t off = bl_kafka_msg_offset(m);
        int rc = 0;
        if (p && !p->done && off < p->end) {
            int64_t ts = bl_kafka_msg_timestamp(m);
            if ((o->until_ms <= 0 || ts <= o->until_ms) && (o->since_ms <= 0 || ts >= o->since_ms)) {
                rc = fn(m, user, err);
                passed++;
            }
            if (off + 1 >= p->end) {
                p->done = 1;
                left--;
            }
        }
        bl_kafka_msg_release(m);
        if (rc != 0)
            goto done;
    }
    seen = passed;
done:
    if (assign)
        rd_kafka_topic_partition_list_destroy(assign);
    free(parts);
    bl_kafka_consumer_free(c);
    return seen;
}
