/* A worker killed with SIGKILL mid-run (no drain, no final commit) loses
 * nothing: after a restart every message has been completed at least once. */
#include "consumers/runtime.h"
#include "core/clock.h"
#include "core/log.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_MESSAGES 8000
#define N_PARTITIONS 4
#define KILL_AFTER_BYTES 12000 /* about 2,500 completions written by the child */

typedef struct kill_state {
    bl_runtime *rt;
    int log_fd;             /* child: completed ids, one per line */
    unsigned char *seen;    /* parent: ids completed by either run */
    atomic_long distinct;
    atomic_long completed;
    atomic_int run_over;
} kill_state;

static void child_completed(bl_runtime_job *job, bl_outcome o, void *user)
{
    (void)o;
    kill_state *s = user;
    char line[32];
    int n = snprintf(line, sizeof line, "%ld\n", fixture_msg_id(bl_runtime_job_msg(job)));
    /* Written before the runtime hears of it: what the log holds was done. */
    ssize_t w = write(s->log_fd, line, (size_t)n);
    (void)w;
}

static void mark(kill_state *s, long id)
{
    if (id >= 0 && id < N_MESSAGES && !s->seen[id]) {
        s->seen[id] = 1;
        atomic_fetch_add(&s->distinct, 1);
    }
}

static void parent_completed(bl_runtime_job *job, bl_outcome o, void *user)
{
    (void)o;
    kill_state *s = user;
    atomic_fetch_add(&s->completed, 1);
    mark(s, fixture_msg_id(bl_runtime_job_msg(job)));
    if (atomic_load(&s->distinct) == N_MESSAGES)
        bl_runtime_stop(s->rt);
}

/* A guard so a lost message fails the test instead of hanging it. */
static void *watchdog(void *arg)
{
    kill_state *s = arg;
    for (int i = 0; i < 400 && atomic_load(&s->distinct) < N_MESSAGES && !atomic_load(&s->run_over); i++)
        usleep(100000);
    bl_runtime_stop(s->rt); /* rt is freed only after this thread is joined */
    return NULL;
}

static int run_worker(const char *topic, const char *group, kill_state *s, fake_completed_fn completed,
                      bl_runtime_stats *st, int guarded)
{
    const char *topics[] = {topic};
    fake_connector fc;
    fake_connector_init(&fc, 5, NULL, completed, s);
    bl_err err = {0};
    /* A killed member stays in the group until its session times out. */
    static const char *const fast_session[] = {"session.timeout.ms", "6000", "heartbeat.interval.ms", "1000", NULL};
    bl_runtime_opts o = {
        .consumer_extra = fast_session,
        .brokers = bl_test_kafka_brokers(), .group_id = group, .connector_name = "killtest",
        .topics = topics, .n_topics = 1, .max_in_flight = 300, .commit_interval_ms = 100,
        .connector = fake_connector_hooks(&fc),
    };
    s->rt = bl_runtime_new(&o, &err);
    fc.rt = s->rt;
    pthread_t dog;
    if (guarded && s->rt)
        pthread_create(&dog, NULL, watchdog, s);
    int rc = s->rt ? bl_runtime_run(s->rt, &err) : -1;
    if (guarded && s->rt) {
        atomic_store(&s->run_over, 1);
        pthread_join(dog, NULL);
    }
    if (rc != 0)
        fprintf(stderr, "  runtime: %s\n", err.msg);
    if (s->rt && st)
        bl_runtime_get_stats(s->rt, st);
    fake_connector_stop(&fc);
    bl_runtime_free(s->rt);
    return rc;
}


static void killed_worker_loses_nothing_after_restart(void)
{
    char topic[96], group[96], log_path[128];
    bl_test_unique_name(topic, sizeof topic, "rt_kill");
    bl_test_unique_name(group, sizeof group, "rt_kill_group");
    snprintf(log_path, sizeof log_path, "/tmp/%s.log", topic);
    const char *topics[] = {topic};
    REQUIRE(fixture_topics_create(topics, 1, N_PARTITIONS) == 0);
    REQUIRE(fixture_produce(topic, 0, N_MESSAGES, 101) == 0);

    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        /* A fresh process image: no librdkafka threads inherited. */
        execl("/proc/self/exe", "test_runtime_kill", "child", topic, group, log_path, (char *)NULL);
        _exit(127);
    }
    struct stat sb;
    int64_t deadline = bl_clock_mono_ms() + 30000;
    while (bl_clock_mono_ms() < deadline && (stat(log_path, &sb) != 0 || sb.st_size < KILL_AFTER_BYTES))
        usleep(2000);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    kill_state s = {.seen = calloc(N_MESSAGES, 1)};
    REQUIRE(s.seen != NULL);
    FILE *f = fopen(log_path, "r");
    long id, child_lines = 0;
    while (f && fscanf(f, "%ld", &id) == 1) {
        mark(&s, id);
        child_lines++;
    }
    if (f)
        fclose(f);
    unlink(log_path);
    CHECK(child_lines > 0);
    CHECK(atomic_load(&s.distinct) < N_MESSAGES); /* killed mid-run */

    bl_runtime_stats st = {0};
    CHECK(run_worker(topic, group, &s, parent_completed, &st, 1) == 0);

    CHECK_EQ_INT(atomic_load(&s.distinct), N_MESSAGES);
    /* The child's commits counted: the restart did not read everything again. */
    CHECK(st.processed < N_MESSAGES);
    CHECK_EQ_INT(fixture_committed_total(group, topic, N_PARTITIONS), N_MESSAGES);
    free(s.seen);
    fixture_topics_delete(topics, 1);
}

int main(int argc, char **argv)
{
    bl_log_init("test_runtime_kill", BL_LOG_WARN);
    if (argc == 5 && strcmp(argv[1], "child") == 0) {
        kill_state s = {0};
        s.log_fd = open(argv[4], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (s.log_fd < 0)
            return 2;
        run_worker(argv[2], argv[3], &s, child_completed, NULL, 0);
        return 3; /* never reached: the parent kills it */
    }
    BL_RUN(killed_worker_loses_nothing_after_restart);
    int rc = bl_test_summary();
    if (rd_kafka_wait_destroyed(10000) != 0) {
        fprintf(stderr, "librdkafka handles left undestroyed\n");
        rc = 1;
    }
    return rc;
}
