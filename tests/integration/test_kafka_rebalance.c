/* Cooperative rebalancing: when a second consumer joins, the first gives up
 * only some partitions (its revoke hook sees a subset) and keeps the rest. */
#include "core/kafka_admin.h"
#include "core/clock.h"
#include "core/kafka_consumer.h"
#include "core/log.h"
#include "tests/support/test.h"

#include <time.h>

#define TIMEOUT_MS 15000
#define N_PARTITIONS 4

typedef struct member {
    int assigned_calls;
    int revoked_calls;
    int revoked_all_at_once; /* an eager-style full revoke */
    int max_revoked;
    int held;
} member;

static void on_assign(const rd_kafka_topic_partition_list_t *parts, int lost, void *user)
{
    (void)lost;
    member *m = user;
    m->assigned_calls++;
    m->held += parts->cnt;
}

static void on_revoke(const rd_kafka_topic_partition_list_t *parts, int lost, void *user)
{
    (void)lost;
    member *m = user;
    m->revoked_calls++;
    if (parts->cnt == m->held)
        m->revoked_all_at_once++;
    if (parts->cnt > m->max_revoked)
        m->max_revoked = parts->cnt;
    m->held -= parts->cnt;
}

static int assignment_size(bl_kafka_consumer *c)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(bl_kafka_consumer_handle(c), &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    int n = parts->cnt;
    rd_kafka_topic_partition_list_destroy(parts);
    return n;
}

/* Polls both consumers until a and b hold want_a and want_b partitions. */
static int poll_until(bl_kafka_consumer *a, bl_kafka_consumer *b, int want_a, int want_b)
{
    int64_t deadline = bl_clock_mono_ms() + 45000;
    while (bl_clock_mono_ms() < deadline) {
        bl_kafka_msg *m = NULL;
        bl_err err = {0};
        if (bl_kafka_consumer_poll(a, 100, &m, &err) == 1)
            bl_kafka_msg_release(m);
        if (b && bl_kafka_consumer_poll(b, 100, &m, &err) == 1)
            bl_kafka_msg_release(m);
        if (assignment_size(a) == want_a && (!b || assignment_size(b) == want_b))
            return 0;
    }
    return -1;
}

static void joining_consumer_takes_partitions_incrementally(void)
{
    bl_err err = {0};
    char topic[96], group[96];
    bl_test_unique_name(topic, sizeof topic, "rebalance");
    bl_test_unique_name(group, sizeof group, "rebalance_group");
    bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    REQUIRE(admin != NULL);
    bl_kafka_topic_spec spec = {topic, N_PARTITIONS, 1, NULL};
    const char *names[] = {topic};
    CHECK(bl_kafka_admin_create_topics(admin, &spec, 1, TIMEOUT_MS, &err) == 0);
    CHECK(bl_kafka_admin_wait_visible(admin, names, 1, TIMEOUT_MS, &err) == 0);

    member ma = {0}, mb = {0};
    bl_kafka_consumer_opts oa = {.brokers = bl_test_kafka_brokers(), .group_id = group,
                                 .on_assign = on_assign, .on_revoke = on_revoke, .user = &ma};
    bl_kafka_consumer_opts ob = oa;
    ob.user = &mb;
    bl_kafka_consumer *a = bl_kafka_consumer_new(&oa, &err);
    bl_kafka_consumer *b = bl_kafka_consumer_new(&ob, &err);
    if (a && b && bl_kafka_consumer_subscribe(a, names, 1, &err) == 0) {
        CHECK(poll_until(a, NULL, N_PARTITIONS, 0) == 0);
        CHECK_EQ_INT(ma.held, N_PARTITIONS);
        CHECK(bl_kafka_consumer_subscribe(b, names, 1, &err) == 0);
        CHECK(poll_until(a, b, N_PARTITIONS / 2, N_PARTITIONS / 2) == 0);
        CHECK_EQ_INT(ma.held, N_PARTITIONS / 2);
        CHECK_EQ_INT(mb.held, N_PARTITIONS / 2);
        CHECK(ma.revoked_calls >= 1);
        CHECK_EQ_INT(ma.revoked_all_at_once, 0);
        CHECK_EQ_INT(ma.max_revoked, N_PARTITIONS / 2);

        /* b leaves cleanly: its partitions go back to a, a loses none. */
        int a_revokes = ma.revoked_calls;
        CHECK(bl_kafka_consumer_close(b, &err) == 0);
        CHECK_EQ_INT(mb.held, 0);
        CHECK(poll_until(a, NULL, N_PARTITIONS, 0) == 0);
        CHECK_EQ_INT(ma.revoked_calls, a_revokes);
        CHECK_EQ_INT(ma.held, N_PARTITIONS);
    } else {
        fprintf(stderr, "  setup: %s\n", err.msg);
        CHECK(0);
    }
    bl_kafka_consumer_free(b);
    bl_kafka_consumer_free(a);
    CHECK(bl_kafka_admin_delete_topics(admin, names, 1, TIMEOUT_MS, &err) == 0);
    bl_kafka_admin_free(admin);
}

int main(void)
{
    bl_log_init("test_kafka_rebalance", BL_LOG_WARN);
    BL_RUN(joining_consumer_takes_partitions_incrementally);
    int rc = bl_test_summary();
    if (rd_kafka_wait_destroyed(10000) != 0) {
        fprintf(stderr, "librdkafka handles left undestroyed\n");
        rc = 1;
    }
    return rc;
}
