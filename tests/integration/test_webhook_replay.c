/* Replay of what a disabled endpoint missed: events published while two
 * endpoints were disabled reach them after `busline webhooks enable ID
 * --replay-since T` and after an API replay request (a pending row carried
 * out by the replay poller); events before T, events the endpoint's
 * conditions refuse and events of another organization are not replayed;
 * the job row ends completed with its counts, and a job for an unknown
 * endpoint ends failed with the reason. */
#include "connectors/webhook/workers/delivery.h"
#include "connectors/webhook/workers/replay_jobs.h"
#include "core/clock.h"
#include "core/time_format.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ORG "org-r"
#define LATE_KEPT 4 /* events in the window the endpoints take */

static void keep_only(bl_webhook_spec *spec, void *user)
{
    (void)user;
    static json_t *conditions;
    if (!conditions)
        conditions = json_pack("[{s:s, s:s, s:s}]", "field", "data.reason", "operator", "contains", "value", "keep");
    spec->conditions = conditions;
}

static uint64_t fanout_events(wh_e2e *e)
{
    bl_webhook_fanout_stats st;
    bl_webhook_fanout_stats_get(e->fanout, &st);
    return st.events;
}

/* Waits until the fan-out has read want events in all. */
static int wait_fanned_out(wh_e2e *e, uint64_t want)
{
    for (int i = 0; i < 600 && fanout_events(e) < want; i++)
        usleep(50 * 1000);
    return fanout_events(e) == want ? 0 : -1;
}

typedef struct path_want {
    const char *path;
    size_t n;
} path_want;

static int got_path(webhook_sink *s, void *user)
{
    path_want *w = user;
    sink_hit hits[32];
    return webhook_sink_hits_to(s, w->path, hits, 32) >= w->n;
}

/* Checks the hits to path: exactly LATE_KEPT distinct ids, every body one
 * of the kept events in the window. */
static void check_replayed(webhook_sink *sink, const char *path)
{
    path_want w = {path, LATE_KEPT};
    CHECK(webhook_sink_wait(sink, got_path, &w, 30000));
    sink_hit hits[32];
    size_t n = webhook_sink_hits_to(sink, path, hits, 32);
    CHECK_EQ_INT((int)n, LATE_KEPT);
    for (size_t i = 0; i < n; i++) {
        CHECK(strstr(hits[i].body, "\"reason\":\"keep-late-") != NULL);
        CHECK(strstr(hits[i].body, "\"organization_id\":\"" ORG "\"") != NULL);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(hits[i].id, hits[j].id) != 0);
    }
}

/* Runs `busline webhooks args` on the test's database and topics. */
static int run_cli(wh_e2e *e, const char *args, char *out, size_t len)
{
    char env[1024], full[1024];
    snprintf(env, sizeof env, "BUSLINE_PG_URL='%s' BUSLINE_WEBHOOK_ALLOW=127.0.0.0/8", e->f.pg_url);
    snprintf(full, sizeof full, "webhooks %s --topics '%s' --deliveries-topic '%s'", args, e->events_topic,
             e->deliveries);
    return bl_test_run_busline(env, full, out, len);
}

static long count_sql(wh_e2e *e, const char *fmt, const char *arg)
{
    char sql[512];
    snprintf(sql, sizeof sql, fmt, arg);
    return bl_webhook_test_count(&e->f, sql);
}

static void insert_request(wh_e2e *e, const char *endpoint_id, int64_t since_ms)
{
    char since[24];
    snprintf(since, sizeof since, "%lld", (long long)since_ms);
    const char *params[] = {endpoint_id, ORG, since};
    PGresult *r = PQexecParams(e->f.conn,
                               "INSERT INTO webhook_replay_requests (endpoint_id, organization_id, replay_since,"
                               " requested_by) VALUES ($1, $2, to_timestamp($3::bigint / 1000.0), 'key:test')",
                               3, NULL, params, NULL, NULL, 0);
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
}

static int request_settled(wh_e2e *e, const char *endpoint_id)
{
    for (int i = 0; i < 600; i++) {
        if (count_sql(e, "SELECT count(*) FROM webhook_replay_requests WHERE endpoint_id = '%s'"
                         " AND status IN ('completed', 'failed')", endpoint_id) == 1)
            return 1;
        usleep(50 * 1000);
    }
    return 0;
}

static void missed_events_are_replayed_by_cli_and_by_request(void)
{
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, NULL, NULL) == 0);
    wh_e2e e = {0};
    char *a = NULL, *b = NULL;
    bl_err err = {0};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url_a[128], url_b[128];
    webhook_sink_url(&sink, "/a", url_a, sizeof url_a);
    webhook_sink_url(&sink, "/b", url_b, sizeof url_b);
    a = wh_e2e_endpoint(&e, ORG, url_a, "webhook.*", keep_only, NULL, NULL);
    b = wh_e2e_endpoint(&e, ORG, url_b, "webhook.*", keep_only, NULL, NULL);
    REQUIRE(a && b);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    REQUIRE(bl_webhook_store_disable(e.store, a, "down for the test", &err) == 0);
    REQUIRE(bl_webhook_store_disable(e.store, b, "down for the test", &err) == 0);
    CHECK(wh_e2e_wait_cache(&e, 0) == 0);
    /* before the window: missed too, but not asked for */
    REQUIRE(wh_e2e_append(&e, ORG, "s", 3, "keep-early-") == 0);
    REQUIRE(wait_fanned_out(&e, 2 + 2 + 3) == 0); /* endpoint.created x2, webhook.disabled x2, 3 early */
    usleep(20 * 1000);
    int64_t since_ms = bl_clock_wall_ms();
    usleep(20 * 1000);
    REQUIRE(wh_e2e_append(&e, ORG, "s", LATE_KEPT, "keep-late-") == 0);
    REQUIRE(wh_e2e_append(&e, ORG, "s", 2, "drop-late-") == 0);  /* the condition refuses */
    REQUIRE(wh_e2e_append(&e, "org-x", "s", 1, "keep-other-") == 0); /* another organization */
    REQUIRE(wait_fanned_out(&e, 2 + 2 + 3 + LATE_KEPT + 2 + 1) == 0);
    CHECK_EQ_INT((int)webhook_sink_count(&sink), 0); /* nothing reached the disabled endpoints */
    /* Stop the relay: the CLI's webhook.enabled event goes to the real
     * events.webhook topic, which this test does not own. */
    bl_relay_stop(e.relay);
    pthread_join(e.relay_t, NULL);
    e.relay_on = 0;

    /* CLI: enable A and replay since T */
    char since[32], args[512], out[4096];
    bl_rfc3339_format_millis(since_ms, since, sizeof since);
    snprintf(args, sizeof args, "enable %s --replay-since %s", a, since);
    CHECK_EQ_INT(run_cli(&e, args, out, sizeof out), 0);
    char want[256];
    snprintf(want, sizeof want, "replayed %d deliveries to %s (%d events read", LATE_KEPT, a, LATE_KEPT + 3);
    CHECK(strstr(out, want) != NULL);
    if (!strstr(out, want))
        fprintf(stderr, "cli said: %s\n", out);
    check_replayed(&sink, "/a");

    /* API request: enable B as the API does, record the request, let the
     * fan-out role's poller carry it out */
    REQUIRE(bl_webhook_store_enable(e.store, b, &err) == 0);
    insert_request(&e, b, since_ms);
    const char *topics[] = {e.events_topic};
    bl_webhook_replay_jobs_opts ro = {
        .pool = e.f.pool,
        .replay = {.brokers = bl_test_kafka_brokers(), .store = e.store, .schemas = e.schemas, .topics = topics,
                   .n_topics = 1, .deliveries_topic = e.deliveries},
    };
    bl_webhook_replay_poller *p = bl_webhook_replay_poller_start(&ro, 100, &err);
    REQUIRE(p != NULL);
    CHECK(request_settled(&e, b));
    bl_webhook_replay_poller_stop(p);
    CHECK_EQ_INT(count_sql(&e, "SELECT count(*) FROM webhook_replay_requests WHERE endpoint_id = '%s' AND status = "
                               "'completed' AND events_enqueued = 4 AND events_scanned = 7 AND finished_at IS NOT NULL"
                               " AND error IS NULL", b), 1);
    check_replayed(&sink, "/b");
    /* A got nothing more from B's replay */
    sink_hit hits[32];
    CHECK_EQ_INT((int)webhook_sink_hits_to(&sink, "/a", hits, 32), LATE_KEPT);

    /* a request for an endpoint that does not exist ends failed, by the one-shot CLI */
    insert_request(&e, "no-such-endpoint", since_ms);
    CHECK_EQ_INT(run_cli(&e, "replay-requests", out, sizeof out), 0);
    CHECK(strstr(out, "handled 1 replay jobs") != NULL);
    CHECK_EQ_INT(count_sql(&e, "SELECT count(*) FROM webhook_replay_requests WHERE endpoint_id = '%s'"
                               " AND status = 'failed' AND error LIKE '%%not found%%'", "no-such-endpoint"), 1);
    CHECK_EQ_INT(run_cli(&e, "replay-requests", out, sizeof out), 0);
    CHECK(strstr(out, "handled 0 replay jobs") != NULL);
done:
    free(a);
    free(b);
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

/* Replaying to a disabled endpoint would only see the deliveries dropped. */
static void replay_to_a_disabled_endpoint_is_refused(void)
{
    wh_e2e e = {0};
    char *a = NULL;
    bl_err err = {0};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    a = wh_e2e_endpoint(&e, ORG, "http://127.0.0.1:9/x", "webhook.*", NULL, NULL, NULL);
    REQUIRE(a != NULL);
    REQUIRE(bl_webhook_store_disable(e.store, a, "off", &err) == 0);
    const char *topics[] = {e.events_topic};
    bl_webhook_replay_opts o = {.brokers = bl_test_kafka_brokers(), .store = e.store, .schemas = e.schemas,
                                .topics = topics, .n_topics = 1, .deliveries_topic = e.deliveries};
    bl_replay_job_counts n;
    CHECK_EQ_INT(bl_webhook_replay(&o, a, bl_clock_wall_ms() - 1000, &n, &err), -1);
    CHECK_EQ_INT(err.code, BL_ECONFLICT);
    CHECK_EQ_INT((int)n.enqueued, 0);
    CHECK_EQ_INT(bl_webhook_replay(&o, "missing", bl_clock_wall_ms() - 1000, &n, &err), -1);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
done:
    free(a);
    wh_e2e_close(&e);
}

int main(void)
{
    BL_RUN(missed_events_are_replayed_by_cli_and_by_request);
    BL_RUN(replay_to_a_disabled_endpoint_is_refused);
    return bl_test_summary();
}
