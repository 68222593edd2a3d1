/* Producer behaviour when no broker answers (a closed loopback port): the
 * local queue fills, sends give up at their deadline, and free reports
 * exactly what it could not deliver. */
#include "core/kafka_producer.h"
#include "core/log.h"
#include "tests/support/test.h"

#define DEAD_BROKER "127.0.0.1:1"

typedef struct reports {
    int ok;
    int failed;
    int opaque_sum;
} reports;

static void count_report(const bl_kafka_delivery *d, void *user)
{
    reports *r = user;
    if (d->err_code == 0) {
        r->ok++;
    } else {
        r->failed++;
        r->opaque_sum += (int)(intptr_t)d->msg_opaque;
    }
}

static void full_queue_send_times_out_and_free_reports_undelivered(void)
{
    reports r = {0};
    bl_err err = {0};
    const char *const small_queue[] = {"queue.buffering.max.messages", "3", NULL};
    bl_kafka_producer *p = bl_kafka_producer_new(DEAD_BROKER, small_queue, count_report, &r, &err);
    REQUIRE(p != NULL);
    for (int i = 1; i <= 3; i++)
        CHECK(bl_kafka_producer_send(p, "t", "k", 1, "v", 1, NULL, 0, (void *)(intptr_t)i, 100, &err) == 0);
    CHECK(bl_kafka_producer_send(p, "t", "k", 1, "v", 1, NULL, 0, (void *)(intptr_t)4, 200, &err) == -1);
    CHECK_EQ_INT(err.code, BL_ETIMEOUT);
    CHECK(strstr(err.msg, "queue full") != NULL);
    CHECK(bl_kafka_producer_flush(p, 100, &err) == -1);
    CHECK_EQ_INT(err.code, BL_ETIMEOUT);
    CHECK_EQ_INT(r.failed, 0);
    CHECK_EQ_INT(bl_kafka_producer_free(p, 100), 3);
    CHECK_EQ_INT(r.failed, 3);
    CHECK_EQ_INT(r.opaque_sum, 1 + 2 + 3);
    CHECK_EQ_INT(r.ok, 0);
}

static void sync_send_without_ack_times_out_and_stays_out_of_callback(void)
{
    reports r = {0};
    bl_err err = {0};
    bl_kafka_producer *p = bl_kafka_producer_new(DEAD_BROKER, NULL, count_report, &r, &err);
    REQUIRE(p != NULL);
    CHECK(bl_kafka_producer_send_sync(p, "t", NULL, 0, "v", 1, NULL, 0, 200, NULL, NULL, &err) == -1);
    CHECK_EQ_INT(err.code, BL_ETIMEOUT);
    CHECK(bl_kafka_producer_handle(p) != NULL);
    /* The abandoned sync message is purged here; its report must not reach
     * the async callback, but it is counted as undelivered. */
    CHECK_EQ_INT(bl_kafka_producer_free(p, 100), 1);
    CHECK_EQ_INT(r.failed, 0);
}

static void bad_send_arguments_are_rejected(void)
{
    bl_err err = {0};
    bl_kafka_producer *p = bl_kafka_producer_new(DEAD_BROKER, NULL, NULL, NULL, &err);
    REQUIRE(p != NULL);
    CHECK(bl_kafka_producer_send(p, NULL, NULL, 0, "v", 1, NULL, 0, NULL, 100, &err) == -1);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    bl_kafka_header many[BL_KAFKA_MAX_HEADERS + 1];
    for (size_t i = 0; i < BL_KAFKA_MAX_HEADERS + 1; i++)
        many[i] = (bl_kafka_header){"h", "v", 1};
    CHECK(bl_kafka_producer_send(p, "t", NULL, 0, "v", 1, many, BL_KAFKA_MAX_HEADERS + 1, NULL, 100, &err) == -1);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK(bl_kafka_producer_new("", NULL, NULL, NULL, &err) == NULL);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK_EQ_INT(bl_kafka_producer_free(p, 100), 0);
    CHECK_EQ_INT(bl_kafka_producer_free(NULL, 100), 0);
}

int main(void)
{
    bl_log_init("test_kafka_producer_queue", BL_LOG_ERROR);
    BL_RUN(full_queue_send_times_out_and_free_reports_undelivered);
    BL_RUN(sync_send_without_ack_times_out_and_stays_out_of_callback);
    BL_RUN(bad_send_arguments_are_rejected);
    int rc = bl_test_summary();
    if (rd_kafka_wait_destroyed(5000) != 0) {
        fprintf(stderr, "librdkafka handles left undestroyed\n");
        rc = 1;
    }
    return rc;
}
