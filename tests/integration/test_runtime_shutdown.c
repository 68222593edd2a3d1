/* SIGTERM mid-run: no new message starts, in-flight ones finish within the
 * drain deadline, and exactly what finished is committed. */
#include "consumers/runtime.h"
#include "core/log.h"
#include "core/signals.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#define N_MESSAGES 6000
#define N_PARTITIONS 2
#define STOP_AFTER 300

typedef struct stop_state {
    atomic_int done;
    atomic_int started;
} stop_state;

static bl_outcome decide(bl_runtime_job *job, int *delay_ms, void *user)
{
    (void)job;
    (void)delay_ms;
    stop_state *s = user;
    atomic_fetch_add(&s->started, 1);
    return bl_outcome_done();
}

static void completed(bl_runtime_job *job, bl_outcome o, void *user)
{
    (void)job;
    (void)o;
    stop_state *s = user;
    if (atomic_fetch_add(&s->done, 1) + 1 == STOP_AFTER)
        kill(getpid(), SIGTERM);
}

static void sigterm_drains_in_flight_and_commits_what_finished(void)
{
    bl_err err = {0};
    REQUIRE(bl_signals_install(&err) == 0);
    char topic[96], group[96];
    bl_test_unique_name(topic, sizeof topic, "rt_stop");
    bl_test_unique_name(group, sizeof group, "rt_stop_group");
    const char *topics[] = {topic};
    REQUIRE(fixture_topics_create(topics, 1, N_PARTITIONS) == 0);
    REQUIRE(fixture_produce(topic, 0, N_MESSAGES, 13) == 0);

    stop_state s = {0};
    fake_connector fc;
    /* Long delays: many messages are in flight when the signal comes. */
    fake_connector_init(&fc, 400, decide, completed, &s);
    bl_runtime_opts o = {
        .brokers = bl_test_kafka_brokers(), .group_id = group, .connector_name = "stoptest",
        .topics = topics, .n_topics = 1, .max_in_flight = 500, .commit_interval_ms = 60000,
        .commit_every = 1000000, .drain_timeout_ms = 20000, .connector = fake_connector_hooks(&fc),
    };
    bl_runtime *rt = NULL;
    bl_runtime_stats st = {0};
    CHECK(fixture_run(&o, &fc, &rt, &st) == 0);

    CHECK(bl_signals_stop_requested());
    CHECK(st.processed > STOP_AFTER);       /* in-flight work finished after the signal */
    CHECK(st.processed < N_MESSAGES);       /* and nothing new was taken */
    CHECK_EQ_INT(st.processed, atomic_load(&s.started));
    CHECK_EQ_INT(st.abandoned, 0);
    CHECK_EQ_INT(atomic_load(&s.done), (int)st.processed);
    /* Only the shutdown commit ran (interval and count are out of reach). */
    CHECK_EQ_INT(fixture_committed_total(group, topic, N_PARTITIONS), (int64_t)st.processed);
    fixture_topics_delete(topics, 1);
}

int main(void)
{
    bl_log_init("test_runtime_shutdown", BL_LOG_WARN);
    BL_RUN(sigterm_drains_in_flight_and_commits_what_finished);
    int rc = bl_test_summary();
    if (rd_kafka_wait_destroyed(10000) != 0) {
        fprintf(stderr, "librdkafka handles left undestroyed\n");
        rc = 1;
    }
    return rc;
}
