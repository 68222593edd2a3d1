/* A second worker joins mid-run: the first finishes the in-flight work of
 * the partitions it gives up and commits them before letting go, so
 * nothing is lost and, in a clean handover, nothing is done twice. */
#include "consumers/runtime.h"
#include "core/clock.h"
#include "core/log.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <stdatomic.h>
#include <unistd.h>

#define N_MESSAGES 4000
#define N_PARTITIONS 4
#define JOIN_AFTER 1000

typedef struct shared {
    atomic_int *counts;
    atomic_long distinct;
} shared;

typedef struct worker {
    shared *sh;
    const char *topic, *group;
    bl_runtime *slot;
    bl_runtime_stats st;
    int rc;
    pthread_t thread;
} worker;

static void completed(bl_runtime_job *job, bl_outcome o, void *user)
{
    (void)o;
    shared *sh = user;
    long id = fixture_msg_id(bl_runtime_job_msg(job));
    if (id >= 0 && id < N_MESSAGES && atomic_fetch_add(&sh->counts[id], 1) == 0)
        atomic_fetch_add(&sh->distinct, 1);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    const char *topics[] = {w->topic};
    fake_connector fc;
    /* Slow work and a small window: the handover finds work in flight. */
    fake_connector_init(&fc, 300, NULL, completed, w->sh);
    bl_runtime_opts o = {
        .brokers = bl_test_kafka_brokers(), .group_id = w->group, .connector_name = "rebalance",
        .topics = topics, .n_topics = 1, .max_in_flight = 50,
        /* Only the revoke and stop commits count. */
        .commit_interval_ms = 600000, .commit_every = 1000000,
        .connector = fake_connector_hooks(&fc),
    };
    w->rc = fixture_run(&o, &fc, &w->slot, &w->st);
    return NULL;
}

static bl_runtime *wait_runtime(worker *w)
{
    for (int i = 0; i < 3000; i++) {
        bl_runtime *rt = __atomic_load_n(&w->slot, __ATOMIC_ACQUIRE);
        if (rt)
            return rt;
        usleep(10000);
    }
    return NULL;
}

static void wait_distinct(shared *sh, long want, int timeout_ms)
{
    int64_t deadline = bl_clock_mono_ms() + timeout_ms;
    while (atomic_load(&sh->distinct) < want && bl_clock_mono_ms() < deadline)
        usleep(10000);
}

static void joining_worker_takes_over_without_loss_or_repeats(void)
{
    char topic[96], group[96];
    bl_test_unique_name(topic, sizeof topic, "rt_rebal");
    bl_test_unique_name(group, sizeof group, "rt_rebal_group");
    const char *topics[] = {topic};
    REQUIRE(fixture_topics_create(topics, 1, N_PARTITIONS) == 0);
    REQUIRE(fixture_produce(topic, 0, N_MESSAGES, 31) == 0);

    shared sh = {.counts = calloc(N_MESSAGES, sizeof(atomic_int))};
    worker a = {.sh = &sh, .topic = topic, .group = group};
    worker b = a;
    pthread_create(&a.thread, NULL, worker_main, &a);
    bl_runtime *rta = wait_runtime(&a);
    wait_distinct(&sh, JOIN_AFTER, 30000);
    pthread_create(&b.thread, NULL, worker_main, &b);
    bl_runtime *rtb = wait_runtime(&b);
    wait_distinct(&sh, N_MESSAGES, 45000);
    bl_runtime_stop(rta);
    bl_runtime_stop(rtb);
    pthread_join(a.thread, NULL);
    pthread_join(b.thread, NULL);

    CHECK_EQ_INT(fixture_committed_total(group, topic, N_PARTITIONS), N_MESSAGES);
    CHECK_EQ_INT(a.rc, 0);
    CHECK_EQ_INT(b.rc, 0);
    CHECK_EQ_INT(atomic_load(&sh.distinct), N_MESSAGES);
    long twice = 0;
    for (long i = 0; i < N_MESSAGES; i++)
        twice += atomic_load(&sh.counts[i]) > 1;
    CHECK_EQ_INT(twice, 0);
    CHECK(b.st.processed > 0); /* the joiner got partitions */
    CHECK(a.st.processed > JOIN_AFTER);
    CHECK_EQ_INT(a.st.processed + b.st.processed, N_MESSAGES);
    if (bl_test_current_failed)
        fprintf(stderr, "  a: processed %llu abandoned %llu commits %llu; b: processed %llu abandoned %llu\n",
            (unsigned long long)a.st.processed, (unsigned long long)a.st.abandoned, (unsigned long long)a.st.commits,
            (unsigned long long)b.st.processed, (unsigned long long)b.st.abandoned);
    free(sh.counts);
    fixture_topics_delete(topics, 1);
}

int main(void)
{
    bl_log_init("test_runtime_rebalance", BL_LOG_WARN);
    BL_RUN(joining_worker_takes_over_without_loss_or_repeats);
    int rc = bl_test_summary();
    if (rd_kafka_wait_destroyed(10000) != 0) {
        fprintf(stderr, "librdkafka handles left undestroyed\n");
        rc = 1;
    }
    return rc;
}
