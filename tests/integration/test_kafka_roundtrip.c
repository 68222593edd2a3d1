#include "core/kafka_admin.h"
#include "core/clock.h"
#include "core/kafka_consumer.h"
#include "core/kafka_producer.h"
#include "core/log.h"
#include "tests/support/test.h"

#include <stdint.h>
#include <time.h>

#define TIMEOUT_MS 15000
#define N_MESSAGES 10000
#define N_KEYS 37
#define N_PARTITIONS 3
#define FIRST_RUN_STOP 4000
#define COMMIT_EVERY 300 /* not a divisor of FIRST_RUN_STOP: the revoke hook commits the tail */

/* What the producer side learned from delivery reports. */
typedef struct produced {
    int ok;
    int failed;
    int bad_opaque;
    unsigned char reported[N_MESSAGES];
    int64_t per_partition[N_PARTITIONS];
} produced;

/* What both consumer runs saw, and what each run still has to commit. */
typedef struct consumed {
    unsigned char seen[N_MESSAGES];
    int distinct;
    int duplicates;
    int bad_content;
    int out_of_order;
    int last_seq[N_KEYS];
    int commit_failures;
    struct {
        int64_t next;
        int dirty;
    } pending[N_PARTITIONS];
    const char *topic;
    bl_kafka_consumer *consumer;
} consumed;

static void on_delivery(const bl_kafka_delivery *d, void *user)
{
    produced *pr = user;
    intptr_t seq = (intptr_t)d->msg_opaque - 1;
    if (seq < 0 || seq >= N_MESSAGES || pr->reported[seq]++) {
        pr->bad_opaque++;
        return;
    }
    if (d->err_code != 0 || d->offset < 0 || d->partition < 0 || d->partition >= N_PARTITIONS) {
        fprintf(stderr, "  delivery %ld failed: %s\n", (long)seq, d->err_msg);
        pr->failed++;
        return;
    }
    pr->ok++;
    pr->per_partition[d->partition]++;
}

static void encode_be32(unsigned char out[4], uint32_t v)
{
    out[0] = (unsigned char)(v >> 24);
    out[1] = (unsigned char)(v >> 16);
    out[2] = (unsigned char)(v >> 8);
    out[3] = (unsigned char)v;
}

static int produce_all(const char *topic, produced *pr)
{
    bl_err err = {0};
    bl_kafka_producer *p = bl_kafka_producer_new(bl_test_kafka_brokers(), NULL, on_delivery, pr, &err);
    if (!p) {
        fprintf(stderr, "  producer: %s\n", err.msg);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < N_MESSAGES && rc == 0; i++) {
        char key[16], value[32], event_id[32];
        unsigned char bin[4];
        snprintf(key, sizeof key, "key-%02d", i % N_KEYS);
        int value_len = snprintf(value, sizeof value, "seq=%d", i);
        snprintf(event_id, sizeof event_id, "id-%d", i);
        encode_be32(bin, (uint32_t)i); /* high byte 0: lengths must be honoured */
        const bl_kafka_header headers[] = {{"ce_id", event_id, strlen(event_id)}, {"seq_be32", bin, 4}};
        rc = bl_kafka_producer_send(p, topic, key, strlen(key), value, (size_t)value_len, headers, 2,
                                    (void *)(intptr_t)(i + 1), TIMEOUT_MS, &err);
        if (rc)
            fprintf(stderr, "  send %d: %s\n", i, err.msg);
        bl_kafka_producer_poll(p, 0);
    }
    if (rc == 0 && bl_kafka_producer_flush(p, 30000, &err) != 0) {
        fprintf(stderr, "  flush: %s\n", err.msg);
        rc = -1;
    }
    if (bl_kafka_producer_free(p, TIMEOUT_MS) != 0)
        rc = -1;
    return rc;
}

/* Checks one message against what was produced; returns its seq or -1. */
static int check_message(const bl_kafka_msg *m)
{
    size_t value_len = 0, key_len = 0, id_len = 0, bin_len = 0;
    const char *value = bl_kafka_msg_value(m, &value_len);
    const char *key = bl_kafka_msg_key(m, &key_len);
    const void *id = NULL, *bin = NULL;
    char text[32];
    if (!value || value_len >= sizeof text || !key)
        return -1;
    memcpy(text, value, value_len);
    text[value_len] = '\0';
    int seq = -1;
    if (sscanf(text, "seq=%d", &seq) != 1 || seq < 0 || seq >= N_MESSAGES)
        return -1;
    char want_key[16], want_id[32];
    unsigned char want_bin[4];
    snprintf(want_key, sizeof want_key, "key-%02d", seq % N_KEYS);
    snprintf(want_id, sizeof want_id, "id-%d", seq);
    encode_be32(want_bin, (uint32_t)seq);
    if (key_len != strlen(want_key) || memcmp(key, want_key, key_len) != 0)
        return -1;
    if (bl_kafka_msg_header_count(m) != 2 || bl_kafka_msg_header(m, "ce_id", &id, &id_len) != 0 ||
        id_len != strlen(want_id) || memcmp(id, want_id, id_len) != 0 ||
        bl_kafka_msg_header(m, "seq_be32", &bin, &bin_len) != 0 || bin_len != 4 ||
        memcmp(bin, want_bin, 4) != 0)
        return -1;
    return seq;
}

static void commit_pending(consumed *st, int partition_filter, int sync)
{
    bl_kafka_offset offs[N_PARTITIONS];
    size_t n = 0;
    for (int p = 0; p < N_PARTITIONS; p++) {
        if (!st->pending[p].dirty || (partition_filter >= 0 && p != partition_filter))
            continue;
        offs[n++] = (bl_kafka_offset){st->topic, p, st->pending[p].next};
        st->pending[p].dirty = 0;
    }
    bl_err err = {0};
    int rc = sync ? bl_kafka_consumer_commit_sync(st->consumer, offs, n, &err)
                  : bl_kafka_consumer_commit_async(st->consumer, offs, n, &err);
    if (rc != 0) {
        fprintf(stderr, "  commit: %s\n", err.msg);
        st->commit_failures++;
    }
}

/* Finished work on a partition is committed before it is taken away. */
static void on_revoke(const rd_kafka_topic_partition_list_t *parts, int lost, void *user)
{
    consumed *st = user;
    for (int i = 0; !lost && i < parts->cnt; i++) {
        if (parts->elems[i].partition >= 0 && parts->elems[i].partition < N_PARTITIONS)
            commit_pending(st, parts->elems[i].partition, 1);
    }
}

/* Consumes in group until `limit` messages are processed in this run, all
 * messages were seen, or nothing new arrives for a long while. The last
 * commit of run one is left to the revoke hook that close triggers. */
static void consume_run(const char *group, consumed *st, int limit, int final_commit)
{
    bl_err err = {0};
    bl_kafka_consumer_opts opts = {
        .brokers = bl_test_kafka_brokers(), .group_id = group, .on_revoke = on_revoke, .user = st};
    st->consumer = bl_kafka_consumer_new(&opts, &err);
    REQUIRE(st->consumer != NULL);
    const char *topics[] = {st->topic};
    REQUIRE(bl_kafka_consumer_subscribe(st->consumer, topics, 1, &err) == 0);
    int processed = 0;
    int64_t idle_deadline = bl_clock_mono_ms() + 60000;
    while (processed < limit && st->distinct < N_MESSAGES && bl_clock_mono_ms() < idle_deadline) {
        bl_kafka_msg *m = NULL;
        int got = bl_kafka_consumer_poll(st->consumer, 500, &m, &err);
        if (got < 0)
            fprintf(stderr, "  poll: %s\n", err.msg);
        if (got != 1)
            continue;
        idle_deadline = bl_clock_mono_ms() + 30000;
        int seq = check_message(m);
        if (seq < 0) {
            st->bad_content++;
        } else if (st->seen[seq]++) {
            st->duplicates++;
        } else {
            st->distinct++;
            if (st->last_seq[seq % N_KEYS] > seq)
                st->out_of_order++;
            st->last_seq[seq % N_KEYS] = seq;
        }
        int32_t partition = bl_kafka_msg_partition(m);
        if (partition >= 0 && partition < N_PARTITIONS) {
            st->pending[partition].next = bl_kafka_msg_next_offset(m).next_offset;
            st->pending[partition].dirty = 1;
        }
        bl_kafka_msg_release(m);
        if (++processed % COMMIT_EVERY == 0)
            commit_pending(st, -1, 0);
    }
    if (final_commit)
        commit_pending(st, -1, 1);
    CHECK(bl_kafka_consumer_close(st->consumer, &err) == 0);
    bl_kafka_consumer_free(st->consumer);
    st->consumer = NULL;
}

/* The group's committed offsets, read through the raw handle. */
static int64_t committed_total(const char *group, const char *topic)
{
    bl_err err = {0};
    bl_kafka_consumer_opts opts = {.brokers = bl_test_kafka_brokers(), .group_id = group};
    bl_kafka_consumer *c = bl_kafka_consumer_new(&opts, &err);
    if (!c)
        return -1;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(N_PARTITIONS);
    for (int p = 0; p < N_PARTITIONS; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p);
    int64_t total = -1;
    if (rd_kafka_committed(bl_kafka_consumer_handle(c), parts, TIMEOUT_MS) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        total = 0;
        for (int p = 0; p < N_PARTITIONS; p++)
            total += parts->elems[p].offset > 0 ? parts->elems[p].offset : 0;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    bl_kafka_consumer_free(c);
    return total;
}

static void every_message_consumed_once_across_two_consumers(void)
{
    bl_err err = {0};
    char topic[96], group[96];
    bl_test_unique_name(topic, sizeof topic, "roundtrip");
    bl_test_unique_name(group, sizeof group, "roundtrip_group");
    bl_kafka_admin *a = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    REQUIRE(a != NULL);
    bl_kafka_topic_spec spec = {topic, N_PARTITIONS, 1, NULL};
    const char *names[] = {topic};
    CHECK(bl_kafka_admin_create_topics(a, &spec, 1, TIMEOUT_MS, &err) == 0);
    CHECK(bl_kafka_admin_wait_visible(a, names, 1, TIMEOUT_MS, &err) == 0);

    static produced pr;
    static consumed st;
    memset(&pr, 0, sizeof pr);
    memset(&st, 0, sizeof st);
    for (int k = 0; k < N_KEYS; k++)
        st.last_seq[k] = -1;
    st.topic = topic;

    if (produce_all(topic, &pr) == 0) {
        CHECK_EQ_INT(pr.ok, N_MESSAGES);
        CHECK_EQ_INT(pr.failed, 0);
        CHECK_EQ_INT(pr.bad_opaque, 0);

        consume_run(group, &st, FIRST_RUN_STOP, 0);
        CHECK_EQ_INT(st.distinct, FIRST_RUN_STOP);
        CHECK_EQ_INT(committed_total(group, topic), FIRST_RUN_STOP);
        consume_run(group, &st, N_MESSAGES, 1);

        CHECK_EQ_INT(st.distinct, N_MESSAGES);
        CHECK_EQ_INT(st.duplicates, 0);
        CHECK_EQ_INT(st.bad_content, 0);
        CHECK_EQ_INT(st.out_of_order, 0);
        CHECK_EQ_INT(st.commit_failures, 0);
        CHECK_EQ_INT(committed_total(group, topic), N_MESSAGES);
    } else {
        CHECK(0);
    }
    CHECK(bl_kafka_admin_delete_topics(a, names, 1, TIMEOUT_MS, &err) == 0);
    bl_kafka_admin_free(a);
}

int main(void)
{
    bl_log_init("test_kafka_roundtrip", BL_LOG_WARN);
    BL_RUN(every_message_consumed_once_across_two_consumers);
    int rc = bl_test_summary();
    if (rd_kafka_wait_destroyed(10000) != 0) {
        fprintf(stderr, "librdkafka handles left undestroyed\n");
        rc = 1;
    }
    return rc;
}
