/* An open circuit breaker holds deliveries back without spending their
 * attempts: against a sink that fails one request in five (which keeps the
 * breaker opening), every event's attempts at the endpoint are exactly the
 * requests the sink saw for it, numbered 1, 2, ... without gaps, so none
 * is dead-lettered for bounces it never sent. And what only waits (host
 * down, circuit open) ends at the worker's max age, in the dead letters. */
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EVENTS 300

/* Every fifth request answers 500. */
static void one_in_five_fails(size_t n, const char *path, const char *id, int *status, int *retry_after_s,
                              int *sleep_ms, void *user)
{
    (void)path, (void)id, (void)retry_after_s, (void)sleep_ms, (void)user;
    if (n % 5 == 4)
        *status = 500;
}

static void always_fails(size_t n, const char *path, const char *id, int *status, int *retry_after_s,
                         int *sleep_ms, void *user)
{
    (void)n, (void)path, (void)id, (void)retry_after_s, (void)sleep_ms, (void)user;
    *status = 503;
}

static void few_quick_attempts(bl_webhook_spec *spec, void *user)
{
    (void)user;
    spec->max_attempts = 4;
    spec->backoff_base_ms = 100;
}

/* Two failures in 10 s open it for 200 ms: it opens over and over. */
static const bl_breaker_config touchy = {.failure_threshold = 2, .window_ms = 10000, .open_ms = 200,
                                         .probes_to_close = 1};

static long count(wh_e2e *e, const char *sql)
{
    bl_err err = {0};
    PGresult *r = bl_pg_exec(e->f.conn, sql, 0, NULL, &err);
    long n = r && PQntuples(r) == 1 ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    if (!r)
        fprintf(stderr, "  %s\n", err.msg);
    PQclear(r);
    return n;
}

static int everything_concluded(wh_e2e *e, webhook_sink *s)
{
    bl_webhook_deliver_stats st;
    bl_webhook_deliver_stats_get(e->deliver, &st);
    return webhook_sink_distinct_ok(s) + st.dead_lettered >= EVENTS;
}

static void breaker_bounces_spend_no_attempt(void)
{
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, one_in_five_fails, NULL) == 0);
    wh_e2e e = {.breaker = &touchy};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url[128];
    webhook_sink_url(&sink, "/touchy", url, sizeof url);
    char *id = wh_e2e_endpoint(&e, "org-breaker", url, "webhook.*", few_quick_attempts, NULL, NULL);
    REQUIRE(id != NULL);
    free(id);
    REQUIRE(wh_e2e_wait_cache(&e, 1) == 0);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    REQUIRE(wh_e2e_append(&e, "org-breaker", "ep-breaker", EVENTS, "b-") == 0);
    for (int i = 0; i < 1200 && !everything_concluded(&e, &sink); i++)
        usleep(100 * 1000);
    CHECK(everything_concluded(&e, &sink));
    bl_err err = {0};
    CHECK_EQ_INT(bl_delivery_log_flush(e.log, 10000, &err), 0);

    bl_webhook_deliver_stats st;
    bl_webhook_deliver_stats_get(e.deliver, &st);
    long requests = (long)webhook_sink_count(&sink);
    long logged = count(&e, "SELECT count(*) FROM webhook_deliveries");
    long gaps = count(&e, "SELECT count(*) FROM (SELECT event_id FROM webhook_deliveries GROUP BY event_id"
                          " HAVING max(attempt) <> count(*) OR min(attempt) <> 1) g");
    printf("  sink: %ld requests for %d events; breaker bounces %llu; dead letters %llu; logged attempts %ld\n",
           requests, EVENTS, (unsigned long long)st.parked, (unsigned long long)st.dead_lettered, logged);
    CHECK(st.parked > 0);          /* the breaker did open and hold deliveries back */
    CHECK_EQ_INT(logged, requests); /* each request is one attempt, nothing more */
    CHECK_EQ_INT(gaps, 0);          /* and attempts count only requests */
done:
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

static void what_only_waits_ends_at_the_max_age(void)
{
    enum { WAITING = 20 };
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, always_fails, NULL) == 0);
    static const bl_breaker_config stays_open = {.failure_threshold = 1, .window_ms = 10000, .open_ms = 3000,
                                                 .probes_to_close = 1};
    wh_e2e e = {.breaker = &stays_open, .max_age_ms = 1500};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url[128];
    webhook_sink_url(&sink, "/down", url, sizeof url);
    char *id = wh_e2e_endpoint(&e, "org-down", url, "webhook.*", few_quick_attempts, NULL, NULL);
    REQUIRE(id != NULL);
    free(id);
    REQUIRE(wh_e2e_wait_cache(&e, 1) == 0);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    REQUIRE(wh_e2e_append(&e, "org-down", "ep-down", WAITING, "d-") == 0);
    bl_webhook_deliver_stats st = {0};
    for (int i = 0; i < 600 && st.dead_lettered < WAITING; i++) {
        usleep(100 * 1000);
        bl_webhook_deliver_stats_get(e.deliver, &st);
    }
    printf("  down host: %zu requests, %llu dead letters, %llu set aside\n", webhook_sink_count(&sink),
           (unsigned long long)st.dead_lettered, (unsigned long long)st.parked);
    CHECK_EQ_INT((long)st.dead_lettered, WAITING);
    /* they ended by age, held back by the open breaker, long before their
     * 4 attempts each: the first burst went out together, then trials only */
    CHECK(webhook_sink_count(&sink) < 2 * WAITING);
done:
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

int main(void)
{
    BL_RUN(breaker_bounces_spend_no_attempt);
    BL_RUN(what_only_waits_ends_at_the_max_age);
    return bl_test_summary();
}
