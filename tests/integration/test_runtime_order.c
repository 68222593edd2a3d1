/* Strict lanes: one message of a lane in flight at a time, in offset order,
 * and a failing one (retried in place) holds the rest of its lane back. */
#include "consumers/runtime.h"
#include "core/log.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <stdatomic.h>

#define N_MESSAGES 400
#define N_KEYS 4

typedef struct order_state {
    bl_runtime *rt;
    atomic_int active[N_KEYS];  /* started and not yet completed, per lane */
    atomic_int max_active;
    long last_done[N_KEYS];     /* completer thread only */
    int out_of_order;
    int failures_injected;      /* worker thread only */
    atomic_int done;
} order_state;

static int lane_of(const bl_runtime_job *job)
{
    return (int)(fixture_msg_id(bl_runtime_job_msg(job)) % N_KEYS);
}

static int strict_lane(const bl_runtime_job *job, char *lane, size_t cap, void *ctx)
{
    (void)ctx;
    size_t len;
    const char *key = bl_kafka_msg_key(bl_runtime_job_msg(job), &len);
    snprintf(lane, cap, "%.*s", (int)len, key);
    return 1;
}

static bl_outcome decide(bl_runtime_job *job, int *delay_ms, void *user)
{
    order_state *s = user;
    int lane = lane_of(job);
    int now_active = atomic_fetch_add(&s->active[lane], 1) + 1;
    if (now_active > atomic_load(&s->max_active))
        atomic_store(&s->max_active, now_active);
    long id = fixture_msg_id(bl_runtime_job_msg(job));
    /* Every third message fails twice before it goes through. */
    if (id % 3 == 0 && bl_runtime_job_attempt(job) <= 2) {
        s->failures_injected++;
        *delay_ms = 2;
        return bl_outcome_retry(15, "flaky");
    }
    return bl_outcome_done();
}

static void completed(bl_runtime_job *job, bl_outcome o, void *user)
{
    order_state *s = user;
    int lane = lane_of(job);
    atomic_fetch_sub(&s->active[lane], 1);
    if (o.kind != BL_OUTCOME_DONE)
        return;
    long id = fixture_msg_id(bl_runtime_job_msg(job));
    if (id <= s->last_done[lane])
        s->out_of_order++;
    s->last_done[lane] = id;
    if (atomic_fetch_add(&s->done, 1) + 1 == N_MESSAGES)
        bl_runtime_stop(s->rt);
}

static void strict_lane_keeps_order_under_failures(void)
{
    char conn[64], topic[96], tier[128], group[96];
    bl_test_unique_name(conn, sizeof conn, "rto");
    bl_test_unique_name(group, sizeof group, "rto_group");
    snprintf(topic, sizeof topic, "%s.events", conn);
    snprintf(tier, sizeof tier, "%s.retry.1s", conn);
    const char *topics[] = {topic, tier};
    REQUIRE(fixture_topics_create(topics, 2, 2) == 0);
    REQUIRE(fixture_produce(topic, 0, N_MESSAGES, N_KEYS) == 0);

    order_state s = {0};
    for (int i = 0; i < N_KEYS; i++)
        s.last_done[i] = -1;
    fake_connector fc;
    fake_connector_init(&fc, 3, decide, completed, &s);
    bl_runtime_connector hooks = fake_connector_hooks(&fc);
    hooks.strict_lane = strict_lane;
    bl_runtime_opts o = {
        .brokers = bl_test_kafka_brokers(), .group_id = group, .connector_name = conn,
        .topics = topics, .n_topics = 2, .retry_tiers = "1s", .max_attempts = 5,
        .connector = hooks,
    };
    bl_runtime_stats st = {0};
    CHECK(fixture_run(&o, &fc, &s.rt, &st) == 0);

    CHECK_EQ_INT(atomic_load(&s.done), N_MESSAGES);
    CHECK_EQ_INT(s.out_of_order, 0);
    CHECK_EQ_INT(atomic_load(&s.max_active), 1);
    CHECK(s.failures_injected > 0);
    CHECK_EQ_INT(st.retried_in_place, s.failures_injected);
    CHECK_EQ_INT(st.retried, 0); /* strict lanes never use the tier */
    CHECK_EQ_INT(fixture_committed_total(group, topic, 2), N_MESSAGES);
    fixture_topics_delete(topics, 2);
}

int main(void)
{
    bl_log_init("test_runtime_order", BL_LOG_WARN);
    BL_RUN(strict_lane_keeps_order_under_failures);
    int rc = bl_test_summary();
    if (rd_kafka_wait_destroyed(10000) != 0) {
        fprintf(stderr, "librdkafka handles left undestroyed\n");
        rc = 1;
    }
    return rc;
}
