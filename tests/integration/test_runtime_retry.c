/* Retries leave the main partition for a tier topic with busline-* headers
 * (original headers kept), the same runtime reading the tier hands them
 * back only once due, exhausted ones land on the DLQ, and parked ones come
 * back without having spent an attempt. */
#include "consumers/runtime.h"
#include "core/clock.h"
#include "core/log.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <stdatomic.h>

#define N_MESSAGES 20

typedef struct retry_state {
    bl_runtime *rt;
    char main_topic[96], tier[128], dlq[128];
    int always_fail;
    int park; /* park on the first pass instead of failing */
    /* written on the worker thread (decide) */
    int first_attempts, second_attempts, bad_headers, early, second_done;
    int64_t latest_due_gap_ms; /* most negative (redelivery - due_at) seen */
    atomic_int finished;        /* jobs that will not come back */
} retry_state;

static int header_is(const bl_kafka_msg *m, const char *key, const char *want)
{
    const void *v;
    size_t len;
    return bl_kafka_msg_header(m, key, &v, &len) == 0 && len == strlen(want) && memcmp(v, want, len) == 0;
}

static bl_outcome decide(bl_runtime_job *job, int *delay_ms, void *user)
{
    retry_state *s = user;
    *delay_ms = 0;
    const bl_kafka_msg *m = bl_runtime_job_msg(job);
    char ce_id[40];
    snprintf(ce_id, sizeof ce_id, "id-%ld", fixture_msg_id(m));
    if (!header_is(m, "ce_id", ce_id))
        s->bad_headers++;
    const bl_retry_headers *parked = bl_runtime_job_retry_headers(job);
    if (s->park && !parked) {
        s->first_attempts++;
        return bl_outcome_park(1000, "destination stuck");
    }
    if (s->park) {
        /* back from the tier as the same first attempt, once due */
        s->second_attempts++;
        if (bl_runtime_job_attempt(job) != 1 || parked->attempt != 0 ||
            strcmp(parked->error, "destination stuck") != 0 || strcmp(parked->original_topic, s->main_topic) != 0)
            s->bad_headers++;
        else if (parked->due_at_ms > bl_clock_wall_ms())
            s->early++;
        s->second_done++;
        return bl_outcome_done();
    }
    if (bl_runtime_job_attempt(job) == 1) {
        s->first_attempts++;
        return bl_outcome_retry(1000, "boom: 503");
    }
    s->second_attempts++;
    const bl_retry_headers *h = bl_runtime_job_retry_headers(job);
    int64_t now = bl_clock_wall_ms();
    if (!h || h->attempt != 1 || strcmp(h->error, "boom: 503") != 0 ||
        strcmp(h->original_topic, s->main_topic) != 0 || h->first_failure_at_ms > h->due_at_ms)
        s->bad_headers++;
    else if (h->due_at_ms > now)
        s->early++;
    if (s->always_fail)
        return bl_outcome_retry(50, "still failing");
    s->second_done++;
    return bl_outcome_done();
}

static void completed(bl_runtime_job *job, bl_outcome o, void *user)
{
    retry_state *s = user;
    if ((s->park ? bl_runtime_job_retry_headers(job) != NULL : bl_runtime_job_attempt(job) >= 2) &&
        atomic_fetch_add(&s->finished, 1) + 1 == N_MESSAGES)
        bl_runtime_stop(s->rt);
    (void)o;
}

typedef struct dlq_seen {
    int n, good;
    const char *main_topic;
} dlq_seen;

static void on_dlq(const bl_kafka_msg *m, void *user)
{
    dlq_seen *d = user;
    d->n++;
    char ce_id[40];
    snprintf(ce_id, sizeof ce_id, "id-%ld", fixture_msg_id(m));
    bl_retry_headers h;
    bl_err err = {0};
    if (bl_retry_headers_from_msg(m, &h, &err) == 0 && h.attempt == 2 && strcmp(h.error, "still failing") == 0 &&
        strcmp(h.original_topic, d->main_topic) == 0 && h.first_failure_at_ms > 0 &&
        header_is(m, "ce_id", ce_id))
        d->good++;
}

/* Runs main + tier consumption in one runtime; returns stats. */
static void run_case(retry_state *s, int max_attempts, const char *tier_spec, bl_runtime_stats *st,
                     int64_t *main_committed, int64_t *tier_committed)
{
    char conn[64], group[96];
    char *tier = s->tier, *dlq = s->dlq;
    bl_test_unique_name(conn, sizeof conn, "rtr");
    bl_test_unique_name(group, sizeof group, "rtr_group");
    snprintf(s->main_topic, sizeof s->main_topic, "%s.events", conn);
    snprintf(s->tier, sizeof s->tier, "%s.retry.%s", conn, tier_spec);
    snprintf(s->dlq, sizeof s->dlq, "%s.dlq", conn);
    const char *all[] = {s->main_topic, tier, dlq};
    *main_committed = *tier_committed = -1;
    if (fixture_topics_create(all, 3, 2) != 0 || fixture_produce(s->main_topic, 0, N_MESSAGES, 5) != 0) {
        CHECK(0);
        return;
    }
    fake_connector fc;
    fake_connector_init(&fc, 0, decide, completed, s);
    bl_runtime_opts o = {
        .brokers = bl_test_kafka_brokers(), .group_id = group, .connector_name = conn,
        .topics = all, .n_topics = 2, .retry_tiers = tier_spec, .max_attempts = max_attempts,
        .commit_interval_ms = 200, .connector = fake_connector_hooks(&fc),
    };
    CHECK(fixture_run(&o, &fc, &s->rt, st) == 0);
    *main_committed = fixture_committed_total(group, s->main_topic, 2);
    *tier_committed = fixture_committed_total(group, tier, 2);
}

static void delete_case(const retry_state *s)
{
    const char *names[] = {s->main_topic, s->tier, s->dlq};
    fixture_topics_delete(names, 3);
}

static void retried_message_goes_to_tier_and_comes_back_when_due(void)
{
    retry_state s = {0};
    bl_runtime_stats st = {0};
    int64_t main_committed, tier_committed;
    run_case(&s, 4, "1s", &st, &main_committed, &tier_committed);
    CHECK_EQ_INT(s.first_attempts, N_MESSAGES);
    CHECK_EQ_INT(s.second_attempts, N_MESSAGES);
    CHECK_EQ_INT(s.second_done, N_MESSAGES);
    CHECK_EQ_INT(s.bad_headers, 0);
    CHECK_EQ_INT(s.early, 0);
    CHECK_EQ_INT(st.retried, N_MESSAGES);
    CHECK_EQ_INT(st.processed, N_MESSAGES);
    CHECK_EQ_INT(st.dead_lettered, 0);
    CHECK_EQ_INT(main_committed, N_MESSAGES);
    CHECK_EQ_INT(tier_committed, N_MESSAGES);
    delete_case(&s);
}

static void exhausted_attempts_land_on_the_dlq_with_error_headers(void)
{
    retry_state s = {.always_fail = 1};
    bl_runtime_stats st = {0};
    int64_t main_committed, tier_committed;
    run_case(&s, 2, "100ms", &st, &main_committed, &tier_committed);
    CHECK_EQ_INT(st.retried, N_MESSAGES);
    CHECK_EQ_INT(st.dead_lettered, N_MESSAGES);
    CHECK_EQ_INT(st.processed, 0);
    CHECK_EQ_INT(main_committed, N_MESSAGES);
    CHECK_EQ_INT(tier_committed, N_MESSAGES);
    dlq_seen d = {.main_topic = s.main_topic};
    CHECK_EQ_INT(fixture_read(s.dlq, N_MESSAGES, 15000, on_dlq, &d), N_MESSAGES);
    CHECK_EQ_INT(d.good, N_MESSAGES);
    delete_case(&s);
}

static void parked_message_comes_back_without_spending_an_attempt(void)
{
    retry_state s = {.park = 1};
    bl_runtime_stats st = {0};
    int64_t main_committed, tier_committed;
    /* one attempt allowed: a park that spent it would dead-letter */
    run_case(&s, 1, "1s", &st, &main_committed, &tier_committed);
    CHECK_EQ_INT(s.first_attempts, N_MESSAGES);
    CHECK_EQ_INT(s.second_done, N_MESSAGES);
    CHECK_EQ_INT(s.bad_headers, 0);
    CHECK_EQ_INT(s.early, 0);
    CHECK_EQ_INT(st.processed, N_MESSAGES);
    CHECK_EQ_INT(st.dead_lettered, 0);
    CHECK_EQ_INT(main_committed, N_MESSAGES);
    CHECK_EQ_INT(tier_committed, N_MESSAGES);
    delete_case(&s);
}

int main(void)
{
    bl_log_init("test_runtime_retry", BL_LOG_WARN);
    BL_RUN(retried_message_goes_to_tier_and_comes_back_when_due);
    BL_RUN(exhausted_attempts_land_on_the_dlq_with_error_headers);
    BL_RUN(parked_message_comes_back_without_spending_an_attempt);
    int rc = bl_test_summary();
    if (rd_kafka_wait_destroyed(10000) != 0) {
        fprintf(stderr, "librdkafka handles left undestroyed\n");
        rc = 1;
    }
    return rc;
}
