/* busline groups against the real broker: exact lag and oldest-message
 * timestamps, resets to earliest / latest / a time, refusal while a member
 * is active, and clear errors for a bad group or time. */
#include "consumers/group_admin.h"
#include "core/clock.h"
#include "core/kafka_admin.h"
#include "core/kafka_config.h"
#include "core/kafka_consumer.h"
#include "core/log.h"
#include "core/time_format.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TIMEOUT_MS 15000
#define P0_COUNT 10
#define P1_COUNT 4

static char topic[96], group[96];
static int64_t t0_ms; /* message i of a partition has timestamp t0_ms + i * 1000 */
static bl_kafka_admin *admin;

/* Produces count messages to partition with timestamps t0 + i s. */
static int produce_timed(rd_kafka_t *rk, int32_t partition, int count)
{
    for (int i = 0; i < count; i++) {
        char value[32];
        int len = snprintf(value, sizeof value, "m%d-%d", (int)partition, i);
        rd_kafka_resp_err_t code = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_VALUE(value, (size_t)len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(t0_ms + i * 1000), RD_KAFKA_V_END);
        if (code)
            return -1;
    }
    return 0;
}

static void setup(void)
{
    bl_err err = {0};
    bl_test_unique_name(topic, sizeof topic, "groups_topic");
    bl_test_unique_name(group, sizeof group, "busline-test-groups");
    admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    REQUIRE(admin != NULL);
    bl_kafka_topic_spec spec = {topic, 2, 1, NULL};
    const char *names[] = {topic};
    REQUIRE(bl_kafka_admin_create_topics(admin, &spec, 1, TIMEOUT_MS, &err) == 0);
    REQUIRE(bl_kafka_admin_wait_visible(admin, names, 1, TIMEOUT_MS, &err) == 0);

    t0_ms = (bl_clock_wall_ms() / 1000 - 3600) * 1000; /* an hour ago, whole seconds */
    rd_kafka_conf_t *conf = bl_kafka_conf_new(bl_test_kafka_brokers(), NULL, NULL, NULL, &err);
    REQUIRE(conf != NULL);
    rd_kafka_t *rk = bl_kafka_handle_new(RD_KAFKA_PRODUCER, conf, "test producer", &err);
    REQUIRE(rk != NULL);
    REQUIRE(produce_timed(rk, 0, P0_COUNT) == 0);
    REQUIRE(produce_timed(rk, 1, P1_COUNT) == 0);
    REQUIRE(rd_kafka_flush(rk, TIMEOUT_MS) == RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);

    /* The group processed 6 of partition 0 and 1 of partition 1. A commit
     * without joining: the group stays empty, like a stopped Deployment. */
    bl_kafka_consumer *c =
        bl_kafka_consumer_new(&(bl_kafka_consumer_opts){.brokers = bl_test_kafka_brokers(), .group_id = group}, &err);
    REQUIRE(c != NULL);
    bl_kafka_offset offs[] = {{topic, 0, 6}, {topic, 1, 1}};
    if (bl_kafka_consumer_commit_sync(c, offs, 2, &err) != 0)
        fprintf(stderr, "  commit: %s\n", err.msg);
    bl_kafka_consumer_free(c);
}

static void teardown(void)
{
    bl_err err = {0};
    const char *names[] = {topic};
    bl_kafka_admin_delete_topics(admin, names, 1, TIMEOUT_MS, &err);
    bl_kafka_admin_free(admin);
}

static const bl_group_partition *part_of(const bl_group_info *g, int32_t partition)
{
    for (size_t i = 0; i < g->n_parts; i++) {
        if (g->parts[i].partition == partition && strcmp(g->parts[i].topic, topic) == 0)
            return &g->parts[i];
    }
    return NULL;
}

/* Committed offset of partition in the group, or -100 on failure. */
static int64_t committed(int32_t partition)
{
    bl_err err = {0};
    bl_group_report *r = bl_group_report_new(admin, NULL, group, TIMEOUT_MS, &err);
    const bl_group_partition *p = r && r->n == 1 ? part_of(&r->groups[0], partition) : NULL;
    int64_t v = p ? p->committed : -100;
    bl_group_report_free(r);
    return v;
}

static void group_shows_exact_lag_and_oldest_unprocessed_timestamp(void)
{
    bl_err err = {0};
    bl_group_report *r = bl_group_report_new(admin, "busline-test-groups", NULL, TIMEOUT_MS, &err);
    REQUIRE(r != NULL);
    const bl_group_info *g = NULL;
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->groups[i].group_id, group) == 0)
            g = &r->groups[i];
    }
    REQUIRE(g != NULL);
    CHECK_EQ_STR(g->state, "Empty");
    CHECK_EQ_INT(g->n_members, 0);
    CHECK_EQ_INT(g->n_parts, 2);
    const bl_group_partition *p0 = part_of(g, 0), *p1 = part_of(g, 1);
    REQUIRE(p0 && p1);
    CHECK_EQ_INT(p0->committed, 6);
    CHECK_EQ_INT(p0->end, P0_COUNT);
    CHECK_EQ_INT(p0->lag, 4);
    CHECK_EQ_INT(p0->oldest_ts_ms, t0_ms + 6000);
    CHECK_EQ_INT(p1->committed, 1);
    CHECK_EQ_INT(p1->end, P1_COUNT);
    CHECK_EQ_INT(p1->lag, 3);
    CHECK_EQ_INT(p1->oldest_ts_ms, t0_ms + 1000);
    bl_group_report_free(r);
}

static int run_cli(const char *args, char *out, size_t len)
{
    return bl_test_run_busline(NULL, args, out, len);
}

static void prometheus_output_carries_lag_per_partition(void)
{
    static char out[65536];
    char args[256], line[256];
    snprintf(args, sizeof args, "groups --prometheus --prefix %s", group);
    CHECK_EQ_INT(run_cli(args, out, sizeof out), 0);
    snprintf(line, sizeof line, "busline_consumer_group_lag{group=\"%s\",topic=\"%s\",partition=\"0\"} 4\n", group,
             topic);
    CHECK(strstr(out, line) != NULL);
    snprintf(line, sizeof line, "busline_consumer_group_lag{group=\"%s\",topic=\"%s\",partition=\"1\"} 3\n", group,
             topic);
    CHECK(strstr(out, line) != NULL);

    snprintf(args, sizeof args, "groups show %s --json", group);
    CHECK_EQ_INT(run_cli(args, out, sizeof out), 0);
    CHECK(strstr(out, "\"lag\": 4") != NULL);
    CHECK(strstr(out, "\"committed\": 6") != NULL);
}

static void reset_refused_while_a_member_is_active(void)
{
    bl_err err = {0};
    bl_kafka_consumer *c =
        bl_kafka_consumer_new(&(bl_kafka_consumer_opts){.brokers = bl_test_kafka_brokers(), .group_id = group}, &err);
    REQUIRE(c != NULL);
    const char *topics[] = {topic};
    REQUIRE(bl_kafka_consumer_subscribe(c, topics, 1, &err) == 0);
    /* Joined once the first message arrives (the group resumes at 6 / 1). */
    int got = 0;
    for (int i = 0; i < 300 && !got; i++) {
        bl_kafka_msg *m = NULL;
        if (bl_kafka_consumer_poll(c, 100, &m, &err) == 1) {
            got = 1;
            bl_kafka_msg_release(m);
        }
    }
    REQUIRE(got);
    bl_group_reset_plan *plan =
        bl_group_reset_plan_new(admin, group, NULL, BL_GROUP_RESET_EARLIEST, 0, TIMEOUT_MS, &err);
    CHECK(plan == NULL);
    CHECK_EQ_INT(err.code, BL_ECONFLICT);
    CHECK(strstr(err.msg, "active member") != NULL);
    bl_group_reset_plan_free(plan);

    char args[256], out[4096];
    snprintf(args, sizeof args, "groups reset %s --to-earliest", group);
    CHECK_EQ_INT(run_cli(args, out, sizeof out), 1);
    CHECK(strstr(out, "refused") != NULL);
    bl_kafka_consumer_free(c);
    CHECK_EQ_INT(committed(0), 6); /* nothing moved */
}

static void apply_reset(bl_group_reset_to to, int64_t time_ms)
{
    bl_err err = {0};
    bl_group_reset_plan *plan = bl_group_reset_plan_new(admin, group, NULL, to, time_ms, TIMEOUT_MS, &err);
    if (!plan)
        fprintf(stderr, "  plan: %s\n", err.msg);
    REQUIRE(plan != NULL);
    CHECK_EQ_INT(plan->n, 2);
    if (bl_group_reset_apply(admin, plan, TIMEOUT_MS, &err) != 0) {
        fprintf(stderr, "  apply: %s\n", err.msg);
        CHECK(0);
    }
    bl_group_reset_plan_free(plan);
}

static void reset_moves_offsets_to_earliest_latest_and_time(void)
{
    char args[256], out[4096];
    /* A dry run commits nothing but shows the plan. */
    snprintf(args, sizeof args, "groups reset %s --to-latest --dry-run", group);
    CHECK_EQ_INT(run_cli(args, out, sizeof out), 0);
    CHECK(strstr(out, "dry run") != NULL);
    CHECK_EQ_INT(committed(0), 6);

    apply_reset(BL_GROUP_RESET_EARLIEST, 0);
    CHECK_EQ_INT(committed(0), 0);
    CHECK_EQ_INT(committed(1), 0);

    apply_reset(BL_GROUP_RESET_LATEST, 0);
    CHECK_EQ_INT(committed(0), P0_COUNT);
    CHECK_EQ_INT(committed(1), P1_COUNT);

    apply_reset(BL_GROUP_RESET_TIME, t0_ms + 2500); /* first message at or after: index 3 */
    CHECK_EQ_INT(committed(0), 3);
    CHECK_EQ_INT(committed(1), 3);

    apply_reset(BL_GROUP_RESET_TIME, t0_ms + 3600 * 1000); /* after every message: the end */
    CHECK_EQ_INT(committed(0), P0_COUNT);
    CHECK_EQ_INT(committed(1), P1_COUNT);

    /* Through the CLI, with an RFC 3339 time and one topic. */
    time_t secs = (time_t)(t0_ms / 1000) + 5;
    struct tm tm;
    gmtime_r(&secs, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(args, sizeof args, "groups reset %s --to-time %s --topic %s", group, when, topic);
    CHECK_EQ_INT(run_cli(args, out, sizeof out), 0);
    CHECK_EQ_INT(committed(0), 5);
    CHECK_EQ_INT(committed(1), P1_COUNT); /* nothing at or after t0+5s there: the end */
}

static void bad_group_topic_or_time_is_a_clear_error(void)
{
    bl_err err = {0};
    char missing[96], args[256], out[4096];
    bl_test_unique_name(missing, sizeof missing, "busline-no-such-group");
    bl_group_report *r = bl_group_report_new(admin, NULL, missing, TIMEOUT_MS, &err);
    CHECK(r == NULL);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    CHECK(strstr(err.msg, missing) != NULL);

    bl_group_reset_plan *plan =
        bl_group_reset_plan_new(admin, missing, NULL, BL_GROUP_RESET_EARLIEST, 0, TIMEOUT_MS, &err);
    CHECK(plan == NULL);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    plan = bl_group_reset_plan_new(admin, group, "no-such-topic", BL_GROUP_RESET_EARLIEST, 0, TIMEOUT_MS, &err);
    CHECK(plan == NULL);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    CHECK(strstr(err.msg, "no-such-topic") != NULL);

    snprintf(args, sizeof args, "groups show %s", missing);
    CHECK_EQ_INT(run_cli(args, out, sizeof out), 1);
    CHECK(strstr(out, "not found") != NULL);
    snprintf(args, sizeof args, "groups reset %s --to-time yesterday", group);
    CHECK_EQ_INT(run_cli(args, out, sizeof out), 2);
    CHECK(strstr(out, "RFC 3339") != NULL);
    snprintf(args, sizeof args, "groups reset %s", group);
    CHECK_EQ_INT(run_cli(args, out, sizeof out), 2);
    CHECK(strstr(out, "exactly one") != NULL);
}

static void rfc3339_times_parse_exactly(void)
{
    int64_t ms = 0;
    CHECK_EQ_INT(bl_rfc3339_parse_millis("1970-01-01T00:00:00Z", &ms), 0);
    CHECK_EQ_INT(ms, 0);
    CHECK_EQ_INT(bl_rfc3339_parse_millis("2024-05-01T12:00:00.25+02:00", &ms), 0);
    CHECK_EQ_INT(ms, 1714557600250LL);
    CHECK_EQ_INT(bl_rfc3339_parse_millis("2024-02-29T00:00:00Z", &ms), 0);
    CHECK_EQ_INT(bl_rfc3339_parse_millis("2023-02-29T00:00:00Z", &ms), -1);
    CHECK_EQ_INT(bl_rfc3339_parse_millis("2024-13-01T00:00:00Z", &ms), -1);
    CHECK_EQ_INT(bl_rfc3339_parse_millis("2024-05-01T12:00:00", &ms), -1);
    CHECK_EQ_INT(bl_rfc3339_parse_millis("2024-05-01T12:00:00Zjunk", &ms), -1);
    CHECK_EQ_INT(bl_rfc3339_parse_millis("yesterday", &ms), -1);
}

int main(void)
{
    bl_log_init("test", BL_LOG_ERROR);
    BL_RUN(rfc3339_times_parse_exactly);
    setup();
    BL_RUN(group_shows_exact_lag_and_oldest_unprocessed_timestamp);
    BL_RUN(prometheus_output_carries_lag_per_partition);
    BL_RUN(reset_refused_while_a_member_is_active);
    BL_RUN(reset_moves_offsets_to_earliest_latest_and_time);
    BL_RUN(bad_group_topic_or_time_is_a_clear_error);
    teardown();
    return bl_test_summary();
}
