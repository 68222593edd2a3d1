#include "core/kafka_admin.h"
#include "core/kafka_producer.h"
#include "core/log.h"
#include "tests/support/test.h"

#include <time.h>

#define TIMEOUT_MS 15000

static int topic_listed(bl_kafka_admin *a, const char *name)
{
    char **names = NULL;
    size_t n = 0;
    bl_err err = {0};
    if (bl_kafka_admin_list_topics(a, TIMEOUT_MS, &names, &n, &err) != 0) {
        fprintf(stderr, "  list topics: %s\n", err.msg);
        return -1;
    }
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found |= strcmp(names[i], name) == 0;
    bl_kafka_topic_names_free(names, n);
    return found;
}

static void topic_created_twice_is_created_once_and_deleted(void)
{
    bl_err err = {0};
    bl_kafka_admin *a = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    REQUIRE(a != NULL);
    char name[96];
    bl_test_unique_name(name, sizeof name, "admin_twice");
    const char *const configs[] = {"retention.ms", "3600000", "cleanup.policy", "delete", NULL};
    bl_kafka_topic_spec spec = {name, 2, 1, configs};
    const char *names[] = {name};

    CHECK(bl_kafka_admin_create_topics(a, &spec, 1, TIMEOUT_MS, &err) == 0);
    CHECK(bl_kafka_admin_wait_visible(a, names, 1, TIMEOUT_MS, &err) == 0);
    CHECK_EQ_INT(topic_listed(a, name), 1);
    if (bl_kafka_admin_create_topics(a, &spec, 1, TIMEOUT_MS, &err) != 0) {
        fprintf(stderr, "  second create: %s\n", err.msg);
        CHECK(0);
    }

    bl_kafka_topic_spec other_shape = {name, 5, 1, NULL};
    CHECK(bl_kafka_admin_create_topics(a, &other_shape, 1, TIMEOUT_MS, &err) == -1);
    CHECK_EQ_INT(err.code, BL_ECONFLICT);
    CHECK(strstr(err.msg, name) != NULL);

    CHECK(bl_kafka_admin_delete_topics(a, names, 1, TIMEOUT_MS, &err) == 0);
    /* Deletion reaches metadata asynchronously; it must get there. */
    int listed = 1;
    for (int i = 0; i < 150 && listed == 1; i++) {
        listed = topic_listed(a, name);
        if (listed == 1)
            nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    }
    CHECK_EQ_INT(listed, 0);
    CHECK(bl_kafka_admin_delete_topics(a, names, 1, TIMEOUT_MS, &err) == 0);
    bl_kafka_admin_free(a);
}

static void bad_topic_name_gives_clear_error(void)
{
    bl_err err = {0};
    bl_kafka_admin *a = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    REQUIRE(a != NULL);
    bl_kafka_topic_spec spec = {"bad name/with spaces!", 1, 1, NULL};
    CHECK(bl_kafka_admin_create_topics(a, &spec, 1, TIMEOUT_MS, &err) == -1);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    fprintf(stderr, "  got: %s\n", err.msg);
    CHECK(strstr(err.msg, "bad name/with spaces!") != NULL);
    CHECK(strstr(err.msg, "illegal") != NULL || strstr(err.msg, "nvalid") != NULL);

    bl_kafka_topic_spec no_partitions = {"zero_partitions", 0, 1, NULL};
    CHECK(bl_kafka_admin_create_topics(a, &no_partitions, 1, TIMEOUT_MS, &err) == -1);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    bl_kafka_admin_free(a);
}

static void bad_producer_config_names_the_setting(void)
{
    bl_err err = {0};
    const char *const bad_value[] = {"linger.ms", "banana", NULL};
    CHECK(bl_kafka_producer_new(bl_test_kafka_brokers(), bad_value, NULL, NULL, &err) == NULL);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    fprintf(stderr, "  got: %s\n", err.msg);
    CHECK(strstr(err.msg, "linger.ms") != NULL);

    const char *const unknown[] = {"no.such.setting", "1", NULL};
    CHECK(bl_kafka_producer_new(bl_test_kafka_brokers(), unknown, NULL, NULL, &err) == NULL);
    fprintf(stderr, "  got: %s\n", err.msg);
    CHECK(strstr(err.msg, "no.such.setting") != NULL);

    /* Settings that conflict only show up when the handle is built. */
    const char *const conflict[] = {"acks", "0", NULL};
    CHECK(bl_kafka_producer_new(bl_test_kafka_brokers(), conflict, NULL, NULL, &err) == NULL);
    fprintf(stderr, "  got: %s\n", err.msg);
    CHECK(strstr(err.msg, "acks") != NULL);
}

static void sync_send_returns_where_the_message_landed(void)
{
    bl_err err = {0};
    bl_kafka_admin *a = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    REQUIRE(a != NULL);
    char name[96];
    bl_test_unique_name(name, sizeof name, "admin_sync");
    bl_kafka_topic_spec spec = {name, 1, 1, NULL};
    const char *names[] = {name};
    REQUIRE(bl_kafka_admin_create_topics(a, &spec, 1, TIMEOUT_MS, &err) == 0);
    REQUIRE(bl_kafka_admin_wait_visible(a, names, 1, TIMEOUT_MS, &err) == 0);
    bl_kafka_producer *p = bl_kafka_producer_new(bl_test_kafka_brokers(), NULL, NULL, NULL, &err);
    CHECK(p != NULL);
    for (int i = 0; p && i < 3; i++) {
        int32_t partition = -1;
        int64_t offset = -1;
        CHECK(bl_kafka_producer_send_sync(p, name, "k", 1, "v", 1, NULL, 0, TIMEOUT_MS, &partition, &offset,
                                          &err) == 0);
        CHECK_EQ_INT(partition, 0);
        CHECK_EQ_INT(offset, i);
    }
    CHECK(p == NULL || bl_kafka_producer_send_sync(p, "", "k", 1, "v", 1, NULL, 0, TIMEOUT_MS, NULL, NULL,
                                                   &err) == -1);
    CHECK_EQ_INT(bl_kafka_producer_free(p, TIMEOUT_MS), 0);
    CHECK(bl_kafka_admin_delete_topics(a, names, 1, TIMEOUT_MS, &err) == 0);
    bl_kafka_admin_free(a);
}

int main(void)
{
    bl_log_init("test_kafka_admin", BL_LOG_WARN);
    BL_RUN(topic_created_twice_is_created_once_and_deleted);
    BL_RUN(bad_topic_name_gives_clear_error);
    BL_RUN(bad_producer_config_names_the_setting);
    BL_RUN(sync_send_returns_where_the_message_landed);
    int rc = bl_test_summary();
    if (rd_kafka_wait_destroyed(10000) != 0) {
        fprintf(stderr, "librdkafka handles left undestroyed\n");
        rc = 1;
    }
    return rc;
}
