/* Many threads sharing one producer through send_sync each get their own
 * acknowledgement: a distinct partition/offset per message, none lost. */
#include "core/kafka_admin.h"
#include "core/kafka_producer.h"
#include "core/log.h"
#include "tests/support/test.h"

#include <pthread.h>

#define THREADS 8
#define PER_THREAD 100

typedef struct sender {
    bl_kafka_producer *p;
    const char *topic;
    int index;
    int failures;
    int32_t partition[PER_THREAD];
    int64_t offset[PER_THREAD];
} sender;

static void *send_many(void *arg)
{
    sender *s = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char key[32];
        int n = snprintf(key, sizeof key, "k%d-%d", s->index, i);
        bl_err err = {0};
        if (bl_kafka_producer_send_sync(s->p, s->topic, key, (size_t)n, key, (size_t)n, NULL, 0,
                                        10000, &s->partition[i], &s->offset[i], &err) != 0) {
            fprintf(stderr, "  send: %s\n", err.msg);
            s->failures++;
        }
    }
    return NULL;
}

static int cmp_pair(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

static void concurrent_sync_sends_each_get_their_own_ack(void)
{
    bl_err err = {0};
    char topic[96];
    bl_test_unique_name(topic, sizeof topic, "sendsync");
    bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    REQUIRE(admin);
    bl_kafka_topic_spec spec = {topic, 3, 1, NULL};
    const char *names[] = {topic};
    REQUIRE(bl_kafka_admin_create_topics(admin, &spec, 1, 30000, &err) == 0);
    REQUIRE(bl_kafka_admin_wait_visible(admin, names, 1, 30000, &err) == 0);
    bl_kafka_producer *p = bl_kafka_producer_new(bl_test_kafka_brokers(), NULL, NULL, NULL, &err);
    REQUIRE(p);

    static sender senders[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        senders[t] = (sender){.p = p, .topic = topic, .index = t};
        pthread_create(&threads[t], NULL, send_many, &senders[t]);
    }
    static int64_t pairs[THREADS * PER_THREAD][2];
    int failures = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        failures += senders[t].failures;
        for (int i = 0; i < PER_THREAD; i++) {
            pairs[t * PER_THREAD + i][0] = senders[t].partition[i];
            pairs[t * PER_THREAD + i][1] = senders[t].offset[i];
        }
    }
    CHECK_EQ_INT(failures, 0);
    qsort(pairs, THREADS * PER_THREAD, sizeof pairs[0], cmp_pair);
    int repeats = 0, unknown = 0;
    for (int i = 0; i < THREADS * PER_THREAD; i++) {
        unknown += pairs[i][1] < 0;
        repeats += i > 0 && cmp_pair(pairs[i], pairs[i - 1]) == 0;
    }
    CHECK_EQ_INT(unknown, 0);
    CHECK_EQ_INT(repeats, 0);

    CHECK_EQ_INT(bl_kafka_producer_free(p, 10000), 0);
    bl_kafka_admin_delete_topics(admin, names, 1, 30000, &err);
    bl_kafka_admin_free(admin);
}

int main(void)
{
    bl_log_init("test", BL_LOG_WARN);
    BL_RUN(concurrent_sync_sends_each_get_their_own_ack);
    return bl_test_summary();
}
