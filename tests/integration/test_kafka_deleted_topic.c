/* A consumer that was assigned a partition of a topic deleted since (the
 * webhook fan-out's events.* pattern picks up every such topic) still
 * frees: Debian's librdkafka 2.0.2 never returns from rd_kafka_destroy
 * then, and a role hung on SIGTERM until Kubernetes killed it. The consumer
 * runs in a child process so that a hang fails this test instead of
 * stopping it. */
#include "core/clock.h"
#include "core/kafka_admin.h"
#include "core/kafka_consumer.h"
#include "core/kafka_producer.h"
#include "core/log.h"
#include "tests/support/test.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TIMEOUT_MS 15000
#define PARTITIONS 3
#define PER_TOPIC 6
/* the free waits 10 s for librdkafka, then gives up: a child alive after
 * this long is hung */
#define CHILD_DEADLINE_MS 60000

static char prefix[96], topic_a[128], topic_b[128];

typedef struct seen {
    int revoked_b;
} seen;

static void on_revoke(const rd_kafka_topic_partition_list_t *parts, int lost, void *user)
{
    (void)lost;
    seen *s = user;
    for (int i = 0; i < parts->cnt; i++)
        if (strcmp(parts->elems[i].topic, topic_b) == 0)
            s->revoked_b++;
}

static int produce_to_both(bl_err *err)
{
    bl_kafka_producer *p = bl_kafka_producer_new(bl_test_kafka_brokers(), NULL, NULL, NULL, err);
    if (!p)
        return -1;
    int rc = 0;
    for (int i = 0; i < PER_TOPIC && rc == 0; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        rc = bl_kafka_producer_send_sync(p, topic_a, key, strlen(key), "a", 1, NULL, 0, TIMEOUT_MS, NULL, NULL,
                                         err);
        if (rc == 0)
            rc = bl_kafka_producer_send_sync(p, topic_b, key, strlen(key), "b", 1, NULL, 0, TIMEOUT_MS, NULL,
                                             NULL, err);
    }
    bl_kafka_producer_free(p, 1000);
    return rc;
}

/* The child: reads both topics by pattern, sees topic b deleted and revoked,
 * then frees. Exits 0 once the free returned, 1 when a step failed. */
static int consume_then_free(void)
{
    bl_err err = {0};
    /* librdkafka's threads do not cross a fork: the child has its own clients */
    bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    seen s = {0};
    char pattern[160], group[128];
    snprintf(pattern, sizeof pattern, "^%s\\..*", prefix);
    snprintf(group, sizeof group, "%s-group", prefix);
    const char *extra[] = {"topic.metadata.refresh.interval.ms", "500", NULL};
    bl_kafka_consumer_opts o = {.brokers = bl_test_kafka_brokers(), .group_id = group, .extra = extra,
                                .on_revoke = on_revoke, .user = &s};
    bl_kafka_consumer *c = bl_kafka_consumer_new(&o, &err);
    const char *topics[] = {pattern};
    if (!admin || !c || bl_kafka_consumer_subscribe(c, topics, 1, &err) != 0) {
        fprintf(stderr, "  child: consumer: %s\n", err.msg);
        return 1;
    }
    int got = 0;
    int64_t deadline = bl_clock_mono_ms() + 45000;
    while (got < 2 * PER_TOPIC && bl_clock_mono_ms() < deadline) {
        bl_kafka_msg *m = NULL;
        if (bl_kafka_consumer_poll(c, 100, &m, &err) == 1) {
            got++;
            bl_kafka_msg_release(m);
        }
    }
    const char *gone[] = {topic_b};
    if (got < 2 * PER_TOPIC || bl_kafka_admin_delete_topics(admin, gone, 1, TIMEOUT_MS, &err) != 0) {
        fprintf(stderr, "  child: read %d of %d, or the delete failed: %s\n", got, 2 * PER_TOPIC, err.msg);
        return 1;
    }
    while (s.revoked_b == 0 && bl_clock_mono_ms() < deadline) {
        bl_kafka_msg *m = NULL;
        if (bl_kafka_consumer_poll(c, 100, &m, &err) == 1)
            bl_kafka_msg_release(m);
    }
    if (s.revoked_b == 0) {
        fprintf(stderr, "  child: the deleted topic's partitions were never revoked\n");
        return 1;
    }
    bl_kafka_admin_free(admin);
    int destroyed = bl_kafka_consumer_free_bounded(c);
    fprintf(stderr, "  child: consumer freed (%s)\n",
            destroyed ? "librdkafka destroyed it" : "librdkafka hung: left to the exit");
    return 0;
}

static void consumer_of_a_deleted_topic_still_frees(void)
{
    bl_err err = {0};
    bl_test_unique_name(prefix, sizeof prefix, "t_deleted");
    snprintf(topic_a, sizeof topic_a, "%s.a", prefix);
    snprintf(topic_b, sizeof topic_b, "%s.b", prefix);
    bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    REQUIRE(admin != NULL);
    bl_kafka_topic_spec specs[] = {{topic_a, PARTITIONS, 1, NULL}, {topic_b, PARTITIONS, 1, NULL}};
    const char *names[] = {topic_a, topic_b};
    REQUIRE(bl_kafka_admin_create_topics(admin, specs, 2, TIMEOUT_MS, &err) == 0);
    REQUIRE(bl_kafka_admin_wait_visible(admin, names, 2, TIMEOUT_MS, &err) == 0);
    REQUIRE(produce_to_both(&err) == 0);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
        _exit(consume_then_free());
    int status = 0;
    pid_t done = 0;
    int64_t deadline = bl_clock_mono_ms() + CHILD_DEADLINE_MS;
    while ((done = waitpid(pid, &status, WNOHANG)) == 0 && bl_clock_mono_ms() < deadline)
        usleep(100000);
    if (done == 0) {
        fprintf(stderr, "  the consumer did not free within %d ms: hung\n", CHILD_DEADLINE_MS);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    CHECK(done == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    const char *left[] = {topic_a};
    CHECK(bl_kafka_admin_delete_topics(admin, left, 1, TIMEOUT_MS, &err) == 0);
    bl_kafka_admin_free(admin);
}

int main(void)
{
    bl_log_init("test_kafka_deleted_topic", BL_LOG_WARN);
    BL_RUN(consumer_of_a_deleted_topic_still_frees);
    return bl_test_summary();
}
