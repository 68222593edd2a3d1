/* The runtime under load with out-of-order completions: everything is
 * finished once and committed, and a slow message never blocks the rest of
 * its partition. */
#include "consumers/runtime.h"
#include "core/log.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <stdatomic.h>

#define N_MESSAGES 20000
#define N_PARTITIONS 4

typedef struct run_state {
    bl_runtime *rt;
    fake_connector *fc;
    long n;
    atomic_int *counts;
    atomic_long distinct;
    long slow_id;            /* held until every other message is done; -1 none */
    atomic_int slow_done;
    atomic_long others_done_while_slow_held;
} run_state;

static bl_outcome decide(bl_runtime_job *job, int *delay_ms, void *user)
{
    run_state *s = user;
    if (fixture_msg_id(bl_runtime_job_msg(job)) == s->slow_id)
        *delay_ms = -1;
    return bl_outcome_done();
}

static void completed(bl_runtime_job *job, bl_outcome o, void *user)
{
    (void)o;
    run_state *s = user;
    long id = fixture_msg_id(bl_runtime_job_msg(job));
    if (id < 0 || id >= s->n)
        return;
    if (id == s->slow_id)
        atomic_store(&s->slow_done, 1);
    else if (s->slow_id >= 0 && !atomic_load(&s->slow_done))
        atomic_fetch_add(&s->others_done_while_slow_held, 1);
    long distinct = atomic_fetch_add(&s->counts[id], 1) == 0 ? atomic_fetch_add(&s->distinct, 1) + 1
                                                              : atomic_load(&s->distinct);
    if (s->slow_id >= 0 && distinct == s->n - 1 && !atomic_load(&s->slow_done))
        fake_connector_release_locked(s->fc);
    if (distinct == s->n)
        bl_runtime_stop(s->rt);
}

/* Runs one runtime over a fresh topic until every id was completed. */
static void run_all(long n, int partitions, long slow_id, int max_delay_ms, run_state *s, int64_t *committed,
                    int64_t *end, bl_runtime_stats *stats, const bl_runtime_metrics *metrics, char *topic_out)
{
    char topic[96], group[96];
    bl_test_unique_name(topic, sizeof topic, "rt_load");
    bl_test_unique_name(group, sizeof group, "rt_load_group");
    const char *topics[] = {topic};
    if (topic_out)
        snprintf(topic_out, 96, "%s", topic);
    *committed = *end = -1;
    if (fixture_topics_create(topics, 1, partitions) != 0 || fixture_produce(topic, 0, n, 97) != 0) {
        CHECK(0);
        return;
    }
    s->n = n;
    s->slow_id = slow_id;
    s->counts = calloc((size_t)n, sizeof *s->counts);
    fake_connector fc;
    s->fc = &fc;
    fake_connector_init(&fc, max_delay_ms, decide, completed, s);
    bl_runtime_opts o = {
        .brokers = bl_test_kafka_brokers(), .group_id = group, .connector_name = "loadtest",
        .topics = topics, .n_topics = 1, .max_in_flight = 1000, .commit_interval_ms = 200,
        .lag_interval_ms = 100, .metrics = metrics, .connector = fake_connector_hooks(&fc),
    };
    CHECK(fixture_run(&o, &fc, &s->rt, stats) == 0);
    *committed = fixture_committed_total(group, topic, partitions);
    *end = fixture_end_total(topic, partitions);
    fixture_topics_delete(topics, 1);
}

static void every_message_completed_once_and_committed_to_the_end(void)
{
    run_state s = {.slow_id = -1};
    int64_t committed, end;
    bl_runtime_stats st = {0};
    bl_err err = {0};
    bl_metrics *reg = bl_metrics_new();
    bl_runtime_metrics m;
    REQUIRE(reg && bl_runtime_metrics_register(reg, &m, &err) == 0);
    char topic[96];
    run_all(N_MESSAGES, N_PARTITIONS, -1, 20, &s, &committed, &end, &st, &m, topic);
    const char *labels[] = {"loadtest", topic, NULL};
    bl_counter *processed = bl_metric_counter(m.processed, labels, &err);
    CHECK(processed && bl_counter_value(processed) == N_MESSAGES);
    char *text = bl_metrics_render(reg, &err);
    CHECK(text && strstr(text, "busline_consumer_lag_messages{connector=\"loadtest\""));
    CHECK(text && strstr(text, "busline_consumer_processing_duration_seconds_count{connector=\"loadtest\"} 20000"));
    CHECK(text && strstr(text, "busline_consumer_in_flight_messages{connector=\"loadtest\"} 0"));
    if (bl_test_current_failed && text)
        fprintf(stderr, "%s", text);
    free(text);
    bl_metrics_free(reg);
    CHECK_EQ_INT(atomic_load(&s.distinct), N_MESSAGES);
    long twice = 0;
    for (long i = 0; s.counts && i < N_MESSAGES; i++)
        twice += atomic_load(&s.counts[i]) > 1;
    CHECK_EQ_INT(twice, 0);
    CHECK_EQ_INT(end, N_MESSAGES);
    CHECK_EQ_INT(committed, end);
    CHECK_EQ_INT(st.processed, N_MESSAGES);
    CHECK_EQ_INT(st.abandoned, 0);
    CHECK_EQ_INT(st.in_flight, 0);
    free(s.counts);
}

static void slow_message_does_not_block_its_partition(void)
{
    run_state s = {0};
    int64_t committed, end;
    bl_runtime_stats st = {0};
    run_all(500, 1, 0, 5, &s, &committed, &end, &st, NULL, NULL);
    CHECK_EQ_INT(atomic_load(&s.distinct), 500);
    CHECK_EQ_INT(atomic_load(&s.others_done_while_slow_held), 499);
    CHECK_EQ_INT(committed, 500);
    free(s.counts);
}

int main(void)
{
    bl_log_init("test_runtime_throughput", BL_LOG_WARN);
    BL_RUN(every_message_completed_once_and_committed_to_the_end);
    BL_RUN(slow_message_does_not_block_its_partition);
    int rc = bl_test_summary();
    if (rd_kafka_wait_destroyed(10000) != 0) {
        fprintf(stderr, "librdkafka handles left undestroyed\n");
        rc = 1;
    }
    return rc;
}
