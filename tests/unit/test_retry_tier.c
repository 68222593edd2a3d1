#include "consumers/retry_tier.h"
#include "tests/support/test.h"

static bl_retry_tiers webhook_tiers(void)
{
    bl_retry_tiers t;
    bl_err err = {0};
    if (bl_retry_tiers_parse(&t, "webhook", "10m,5s,1m", &err) != 0)
        fprintf(stderr, "  setup: %s\n", err.msg);
    return t;
}

static void tiers_are_sorted_and_named_by_delay(void)
{
    bl_retry_tiers t = webhook_tiers();
    REQUIRE(t.n == 3);
    CHECK_EQ_INT(t.delay_ms[0], 5000);
    CHECK_EQ_INT(t.delay_ms[2], 600000);
    char topic[BL_TOPIC_NAME_MAX];
    bl_err err = {0};
    CHECK_EQ_INT(bl_retry_tier_topic(&t, 0, topic, sizeof topic, &err), 0);
    CHECK_EQ_STR(topic, "webhook.retry.5s");
    CHECK_EQ_INT(bl_retry_tier_topic(&t, 1, topic, sizeof topic, &err), 0);
    CHECK_EQ_STR(topic, "webhook.retry.1m");
    CHECK_EQ_INT(bl_retry_tier_topic(&t, 2, topic, sizeof topic, &err), 0);
    CHECK_EQ_STR(topic, "webhook.retry.10m");
    CHECK_EQ_INT(bl_retry_dlq_topic(&t, topic, sizeof topic, &err), 0);
    CHECK_EQ_STR(topic, "webhook.dlq");
    CHECK_EQ_INT(bl_retry_tier_topic(&t, 3, topic, sizeof topic, &err), -1);
    char tiny[8];
    CHECK_EQ_INT(bl_retry_tier_topic(&t, 0, tiny, sizeof tiny, &err), -1);

    bl_retry_tiers odd;
    REQUIRE(bl_retry_tiers_parse(&odd, "jira", "250ms,90s,2h", &err) == 0);
    CHECK_EQ_INT(bl_retry_tier_topic(&odd, 0, topic, sizeof topic, &err), 0);
    CHECK_EQ_STR(topic, "jira.retry.250ms");
    CHECK_EQ_INT(bl_retry_tier_topic(&odd, 1, topic, sizeof topic, &err), 0);
    CHECK_EQ_STR(topic, "jira.retry.90s");
    CHECK_EQ_INT(bl_retry_tier_topic(&odd, 2, topic, sizeof topic, &err), 0);
    CHECK_EQ_STR(topic, "jira.retry.2h");
}

static void smallest_tier_at_least_the_delay_is_chosen_else_the_largest(void)
{
    bl_retry_tiers t = webhook_tiers();
    CHECK_EQ_INT(bl_retry_tier_choose(&t, 0), 0);
    CHECK_EQ_INT(bl_retry_tier_choose(&t, 5000), 0);
    CHECK_EQ_INT(bl_retry_tier_choose(&t, 5001), 1);
    CHECK_EQ_INT(bl_retry_tier_choose(&t, 60000), 1);
    CHECK_EQ_INT(bl_retry_tier_choose(&t, 300000), 2);
    CHECK_EQ_INT(bl_retry_tier_choose(&t, 86400000), 2);
}

static void bad_tier_specs_are_refused(void)
{
    bl_retry_tiers t = webhook_tiers();
    bl_err err = {0};
    const char *bad[] = {"", "5", "5x", "0s", "5s,", ",5s", "5s,5000ms", "8d", "9999999999999999999999h",
                         "1s,2s,3s,4s,5s,6s,7s,8s,9s", "-5s", "5 s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.code = 0;
        if (bl_retry_tiers_parse(&t, "webhook", bad[i], &err) != -1 || err.code != BL_EINVAL)
            fprintf(stderr, "  accepted bad spec \"%s\"\n", bad[i]), bl_test_current_failed = 1;
    }
    CHECK_EQ_INT(bl_retry_tiers_parse(&t, "web hook", "5s", &err), -1);
    CHECK_EQ_INT(bl_retry_tiers_parse(&t, "web.hook", "5s", &err), -1);
    CHECK_EQ_INT(bl_retry_tiers_parse(&t, "", "5s", &err), -1);
    CHECK_EQ_STR(t.connector, "webhook"); /* a refused spec leaves t as it was */
    CHECK_EQ_INT(t.n, 3);
}

static void first_failure_starts_attempt_one_and_later_ones_keep_the_origin(void)
{
    bl_err err = {0};
    bl_retry_headers first, second;
    REQUIRE(bl_retry_headers_for_failure(NULL, "deliveries.webhook", 4, 1234, 1000000, 5000,
                                         "server error (5xx)", &first, &err) == 0);
    CHECK_EQ_INT(first.attempt, 1);
    CHECK_EQ_INT(first.due_at_ms, 1005000);
    CHECK_EQ_INT(first.first_failure_at_ms, 1000000);
    CHECK_EQ_STR(first.original_topic, "deliveries.webhook");
    CHECK_EQ_INT(first.original_partition, 4);
    CHECK_EQ_INT(first.original_offset, 1234);
    REQUIRE(bl_retry_headers_for_failure(&first, "webhook.retry.5s", 0, 7, 1006000, 60000, NULL, &second,
                                         &err) == 0);
    CHECK_EQ_INT(second.attempt, 2);
    CHECK_EQ_INT(second.due_at_ms, 1066000);
    CHECK_EQ_INT(second.first_failure_at_ms, 1000000);
    CHECK_EQ_STR(second.original_topic, "deliveries.webhook");
    CHECK_EQ_INT(second.original_offset, 1234);
    CHECK_EQ_STR(second.error, "");
    CHECK_EQ_INT(bl_retry_headers_for_failure(NULL, "bad topic", 0, 0, 0, 0, NULL, &second, &err), -1);
    CHECK_EQ_INT(err.code, BL_EINVAL);
}

static void built_headers_parse_back_to_the_same_values(void)
{
    bl_err err = {0};
    bl_retry_headers h, back;
    static char long_error[1000];
    memset(long_error, 'e', sizeof long_error - 1);
    REQUIRE(bl_retry_headers_for_failure(NULL, "events.pmo.risk", 2147483647, 9007199254740993LL,
                                         1764000000000LL, 600000, long_error, &h, &err) == 0);
    CHECK_EQ_INT(strlen(h.error), BL_RETRY_ERROR_MAX - 1);
    bl_retry_header_set set;
    bl_retry_headers_build(&h, &set);
    CHECK_EQ_STR(set.headers[0].key, BL_HDR_ATTEMPT);
    CHECK(set.headers[1].len == 13 && memcmp(set.headers[1].value, "1764000600000", 13) == 0);
    REQUIRE(bl_retry_headers_parse(set.headers, BL_RETRY_HEADER_COUNT, &back, &err) == 0);
    CHECK_EQ_INT(back.attempt, 1);
    CHECK_EQ_INT(back.due_at_ms, 1764000600000LL);
    CHECK_EQ_INT(back.first_failure_at_ms, 1764000000000LL);
    CHECK_EQ_STR(back.error, h.error);
    CHECK_EQ_STR(back.original_topic, "events.pmo.risk");
    CHECK_EQ_INT(back.original_partition, 2147483647);
    CHECK_EQ_INT(back.original_offset, 9007199254740993LL);
}

/* Parses the built headers of a valid message with header key replaced by
 * value (NULL value: the header is dropped); returns parse's result. */
static int parse_with(const char *key, const char *value, bl_err *err)
{
    bl_retry_headers h, out;
    bl_retry_headers_for_failure(NULL, "deliveries.webhook", 1, 2, 3, 4, "x", &h, err);
    bl_retry_header_set set;
    bl_retry_headers_build(&h, &set);
    bl_kafka_header hs[BL_RETRY_HEADER_COUNT + 1];
    size_t n = 0;
    for (size_t i = 0; i < BL_RETRY_HEADER_COUNT; i++) {
        if (strcmp(set.headers[i].key, key) != 0)
            hs[n++] = set.headers[i];
        else if (value)
            hs[n++] = (bl_kafka_header){key, value, strlen(value)};
    }
    return bl_retry_headers_parse(hs, n, &out, err);
}

static void missing_or_bad_headers_give_a_clear_error(void)
{
    bl_err err = {0};
    CHECK_EQ_INT(parse_with(BL_HDR_ERROR, NULL, &err), 0); /* the error text is optional */
    struct { const char *key, *value; } bad[] = {
        {BL_HDR_ATTEMPT, NULL},           {BL_HDR_ATTEMPT, "-1"},
        {BL_HDR_ATTEMPT, "1001"},         {BL_HDR_ATTEMPT, "two"},
        {BL_HDR_DUE_AT, NULL},            {BL_HDR_DUE_AT, "-5"},
        {BL_HDR_DUE_AT, ""},              {BL_HDR_DUE_AT, "99999999999999999999"},
        {BL_HDR_DUE_AT, "9223372036854775808"},
        {BL_HDR_FIRST_FAILURE_AT, "1e9"}, {BL_HDR_ORIGINAL_TOPIC, NULL},
        {BL_HDR_ORIGINAL_TOPIC, ""},      {BL_HDR_ORIGINAL_TOPIC, "a/b"},
        {BL_HDR_ORIGINAL_TOPIC, ".."},    {BL_HDR_ORIGINAL_PARTITION, "2147483648"},
        {BL_HDR_ORIGINAL_OFFSET, " 7"},   {BL_HDR_ORIGINAL_OFFSET, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err = (bl_err){0};
        if (parse_with(bad[i].key, bad[i].value, &err) != -1 || err.code != BL_EINVAL ||
            !strstr(err.msg, bad[i].key)) {
            fprintf(stderr, "  %s=\"%s\" gave \"%s\"\n", bad[i].key, bad[i].value ? bad[i].value : "(none)",
                    err.msg);
            bl_test_current_failed = 1;
        }
    }
    /* 0: set aside (parked) before any attempt */
    CHECK_EQ_INT(parse_with(BL_HDR_ATTEMPT, "0", &err), 0);
    bl_retry_headers out;
    CHECK_EQ_INT(bl_retry_headers_parse(NULL, 0, &out, &err), -1);
    CHECK(strstr(err.msg, "missing") != NULL);
    /* A null header value counts as missing rather than being read. */
    bl_kafka_header null_attempt[] = {{BL_HDR_ATTEMPT, NULL, 4}};
    CHECK_EQ_INT(bl_retry_headers_parse(null_attempt, 1, &out, &err), -1);
}

static void head_not_yet_due_pauses_until_due_time(void)
{
    bl_retry_due d = bl_retry_due_decide(1005000, 1000000, 5000);
    CHECK(!d.deliver_now);
    CHECK_EQ_INT(d.resume_at_ms, 1005000);
    d = bl_retry_due_decide(1005000, 1005000, 5000);
    CHECK(d.deliver_now);
    d = bl_retry_due_decide(0, 1005000, 5000);
    CHECK(d.deliver_now);
    /* A due time beyond the tier's own delay is not trusted for longer. */
    d = bl_retry_due_decide(INT64_MAX, 1000000, 60000);
    CHECK(!d.deliver_now);
    CHECK_EQ_INT(d.resume_at_ms, 1060000);
}

int main(void)
{
    BL_RUN(tiers_are_sorted_and_named_by_delay);
    BL_RUN(smallest_tier_at_least_the_delay_is_chosen_else_the_largest);
    BL_RUN(bad_tier_specs_are_refused);
    BL_RUN(first_failure_starts_attempt_one_and_later_ones_keep_the_origin);
    BL_RUN(built_headers_parse_back_to_the_same_values);
    BL_RUN(missing_or_bad_headers_give_a_clear_error);
    BL_RUN(head_not_yet_due_pauses_until_due_time);
    return bl_test_summary();
}
