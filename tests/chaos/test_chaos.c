/* The whole path under chaos (tests/chaos/README.md): every role as its
 * own process (registry, PMO domain service, relay, API, fan-out, delivery
 * with its retry tiers) against a Kafka broker and a PostgreSQL server of
 * the run's own, a sink failing 30 % of requests (500s, timeouts,
 * connection resets, slow answers); events pushed in through the API
 * (POST /v1/risks -> commands.pmo -> the PMO service -> outbox) and straight
 * into the outbox, while a random role is SIGKILLed and started again every
 * few seconds, the broker is restarted once and PostgreSQL once. Then it
 * waits for the sink to drain and counts: 0 lost is the bar.
 *   test_chaos [--events N] [--kill-every-ms MS] [--drain-s S]
 * ctest runs 20,000 events; tests/chaos/run.sh --events 100000 the full run. */
#include "chaos_cluster.h"
#include "chaos_ledger.h"
#include "chaos_provision.h"

#include "core/clock.h"
#include "core/pg_pool.h"
#include "producers/outbox/domain_events.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define API_THREADS 8
#define API_SHARE 10 /* one event in API_SHARE comes through the API, the rest through the outbox */
#define OUTBOX_BATCH 200

typedef struct chaos_run {
    chaos_cluster cluster;
    chaos_ledger ledger;
    webhook_sink sink;
    char org[64], token[256];
    atomic_size_t api_done, outbox_done; /* accepted so far */
    atomic_int producing, failed;
    long kill_every_ms;
    atomic_int kafka_restarted, pg_restarted; /* set by the monkey as it starts each planned restart */
} chaos_run;

/* 30 % of requests fail, by a hash of the request's number: 12 % answer
 * 500, 6 % answer only after the endpoint's 2 s timeout (with 599, so a
 * late answer never counts), 6 % reset the connection, 6 % answer 200
 * slowly. */
static void behave(size_t n, const char *path, const char *id, int *status, int *retry_after_s, int *sleep_ms,
                   void *user)
{
    (void)path;
    (void)id;
    (void)user;
    uint64_t x = (uint64_t)n * 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 31;
    unsigned r = (unsigned)(x % 100);
    *retry_after_s = 0;
    *sleep_ms = 0;
    *status = 200;
    if (r < 12)
        *status = 500;
    else if (r < 18)
        *status = 599, *sleep_ms = 2500;
    else if (r < 24)
        *status = SINK_RESET;
    else if (r < 30)
        *sleep_ms = 300;
}

/* Posts risk i until the API accepts it (2xx, also the replay of an
 * earlier attempt's answer). A 409 says an earlier attempt with the same
 * key is still in flight, or was left by an API that died: the API takes
 * such a claim over after its ack bound, so the loop asks again. */
static void post_risk(chaos_run *run, size_t i)
{
    char body[512], idem[64];
    snprintf(body, sizeof body,
             "{\"risk_id\":\"R-api-%zu\",\"project_id\":\"P-chaos\",\"title\":\"chaos %zu\","
             "\"description\":\"pushed through the API\",\"severity\":\"HIGH\",\"probability\":50,\"impact\":50}",
             i, i);
    snprintf(idem, sizeof idem, "Idempotency-Key: chaos-risk-%zu", i);
    for (int64_t until = bl_clock_mono_ms() + 300000; bl_clock_mono_ms() < until;) {
        bl_test_reply r;
        long status = bl_test_http_call(run->cluster.api_port, "POST", "/v1/risks", run->token, idem, body, &r);
        long retry_after_s = status == 429 ? strtol(r.retry_after, NULL, 10) : 0;
        bl_test_reply_clear(&r);
        if (status >= 200 && status < 300) {
            atomic_store(&run->ledger.api[i].accepted, 1);
            atomic_fetch_add(&run->api_done, 1);
            return;
        }
        usleep(retry_after_s > 0 ? (useconds_t)(retry_after_s > 5 ? 5 : retry_after_s) * 1000000 : 100 * 1000);
    }
    fprintf(stderr, "  chaos: risk %zu was never accepted\n", i);
}

/* Holds a producer at the third and two-thirds marks until the monkey has
 * begun that planned restart: on a fast machine production could
 * otherwise end before the monkey's next turn, and the planned fault would
 * never happen under load. The producers go on while the part is down. */
static void wait_at_fault_marks(chaos_run *run)
{
    size_t total = run->ledger.n_api + run->ledger.n_outbox;
    for (;;) {
        size_t done = atomic_load(&run->api_done) + atomic_load(&run->outbox_done);
        int held = (done * 3 >= total && !atomic_load(&run->kafka_restarted)) ||
                   (done * 3 >= 2 * total && !atomic_load(&run->pg_restarted));
        if (!held || atomic_load(&run->failed))
            return;
        usleep(50 * 1000);
    }
}

typedef struct api_worker {
    chaos_run *run;
    size_t first;
} api_worker;

static void *api_producer(void *arg)
{
    api_worker *w = arg;
    for (size_t i = w->first; i < w->run->ledger.n_api; i += API_THREADS) {
        wait_at_fault_marks(w->run);
        post_risk(w->run, i);
    }
    return NULL;
}

/* Appends outbox events [first, first+n) in one transaction. Returns 0
 * once committed, -1 when any step failed (nothing is counted then; a
 * commit whose answer was lost may still have gone in: the events then
 * arrive twice, under new ids, and are counted as sent twice). */
static int append_batch(chaos_run *run, const bl_domain_events *ev, size_t first, size_t n)
{
    PGconn *conn = PQconnectdb(run->cluster.pg_url);
    bl_err err = {0};
    int rc = -1;
    if (PQstatus(conn) == CONNECTION_OK && bl_pg_begin(conn, &err) == 0) {
        rc = 0;
        for (size_t i = first; i < first + n && rc == 0; i++) {
            char agg[32], reason[32];
            snprintf(agg, sizeof agg, "R-ob-%zu", i / 2);
            snprintf(reason, sizeof reason, "ob-%zu", i);
            json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:n, s:s}", "risk_id", agg,
                                     "project_id", "P-chaos", "project_name", "chaos", "title", "chaos",
                                     "description", "appended to the outbox", "previous_severity", "MEDIUM",
                                     "severity", "HIGH", "probability", 50, "impact", 50, "mitigation", "reason",
                                     reason);
            rc = data ? bl_domain_events_append(ev, conn, "risk.escalated", run->org, "risk", agg, data, &err) : -1;
            json_decref(data);
        }
        if (rc == 0)
            rc = bl_pg_commit(conn, &err);
    }
    PQfinish(conn);
    return rc;
}

static void *outbox_producer(void *arg)
{
    chaos_run *run = arg;
    chaos_ledger *l = &run->ledger;
    bl_err err = {0};
    bl_pg_pool *pool = bl_pg_pool_new(run->cluster.pg_url, 1, &err);
    bl_domain_events *ev = pool ? bl_domain_events_new_entity(pool, NULL, "pmo", "risk", "chaos", NULL, &err) : NULL;
    if (!ev) {
        fprintf(stderr, "  chaos: outbox encoder: %s\n", err.msg);
        atomic_store(&run->failed, 1);
        bl_pg_pool_free(pool);
        return NULL;
    }
    for (size_t first = 0; first < l->n_outbox;) {
        /* keep pace with the API, so the outbox's events span the chaos too */
        size_t want = l->n_api ? atomic_load(&run->api_done) * l->n_outbox / l->n_api + OUTBOX_BATCH : l->n_outbox;
        if (first >= want) {
            usleep(20 * 1000);
            continue;
        }
        wait_at_fault_marks(run);
        size_t n = l->n_outbox - first < OUTBOX_BATCH ? l->n_outbox - first : OUTBOX_BATCH;
        if (append_batch(run, ev, first, n) != 0) {
            usleep(200 * 1000);
            continue;
        }
        for (size_t i = first; i < first + n; i++)
            atomic_store(&l->outbox[i].accepted, 1);
        atomic_fetch_add(&run->outbox_done, n);
        first += n;
    }
    bl_domain_events_free(ev);
    bl_pg_pool_free(pool);
    return NULL;
}

/* Kills a random role every kill_every_ms while the producers run; the
 * broker restarts once a third of the events are in, PostgreSQL at two
 * thirds. */
static void *chaos_monkey(void *arg)
{
    chaos_run *run = arg;
    size_t total = run->ledger.n_api + run->ledger.n_outbox;
    unsigned seed = 20261207;
    while (atomic_load(&run->producing)) {
        usleep((useconds_t)run->kill_every_ms * 1000);
        if (!atomic_load(&run->producing))
            break;
        size_t done = atomic_load(&run->api_done) + atomic_load(&run->outbox_done);
        if (!atomic_load(&run->kafka_restarted) && done * 3 >= total) {
            atomic_store(&run->kafka_restarted, 1);
            printf("  chaos: restarting Kafka at %zu events\n", done);
            if (chaos_restart_kafka(&run->cluster) != 0)
                atomic_store(&run->failed, 1);
            continue;
        }
        if (!atomic_load(&run->pg_restarted) && done * 3 >= 2 * total) {
            atomic_store(&run->pg_restarted, 1);
            printf("  chaos: restarting PostgreSQL at %zu events\n", done);
            if (chaos_restart_postgres(&run->cluster) != 0)
                atomic_store(&run->failed, 1);
            continue;
        }
        chaos_role_kind k = (chaos_role_kind)(rand_r(&seed) % CHAOS_ROLE_COUNT);
        if (chaos_role_kill_restart(&run->cluster, k) != 0)
            atomic_store(&run->failed, 1);
    }
    return NULL;
}

/* The tenant, its endpoint with the run's retry policy (15 attempts from
 * 200 ms, 2 s timeout: the sink fails 30 % of requests). */
static int provision(chaos_run *run)
{
    char url[128];
    webhook_sink_url(&run->sink, "/chaos", url, sizeof url);
    const char *options[] = {"--max-attempts", "15", "--backoff", "200ms", "--timeout", "2s", NULL};
    chaos_tenant t;
    if (chaos_provision(&run->cluster, url, options, &t) != 0)
        return -1;
    snprintf(run->org, sizeof run->org, "%s", t.org);
    snprintf(run->token, sizeof run->token, "%s", t.token);
    run->ledger.secret = t.secret;
    return 0;
}

/* Messages in topic (a dead-letter topic). */
static size_t dead_letters(const chaos_cluster *c, const char *topic)
{
    char cmd[512], out[64] = "";
    snprintf(cmd, sizeof cmd, "kcat -b %s -C -t %s -o beginning -e -q -f '.\\n' 2>/dev/null | wc -l",
             c->brokers, topic);
    FILE *p = popen(cmd, "r");
    if (p) {
        if (!fgets(out, sizeof out, p))
            out[0] = '\0';
        pclose(p);
    }
    return (size_t)strtoul(out, NULL, 10);
}

static size_t events = 20000;
static long kill_every_ms = 3000, drain_s = 300;

static void whole_path_under_chaos_loses_nothing(void)
{
    static chaos_run run;
    run.kill_every_ms = kill_every_ms;
    REQUIRE(chaos_ledger_init(&run.ledger, events / API_SHARE, events - events / API_SHARE) == 0);
    REQUIRE(webhook_sink_start(&run.sink, behave, NULL) == 0);
    if (chaos_cluster_start(&run.cluster) != 0) {
        CHECK(0);
        goto done;
    }
    for (int k = 0; k < CHAOS_ROLE_COUNT; k++)
        if (chaos_role_start(&run.cluster, (chaos_role_kind)k) != 0) {
            CHECK(0);
            goto done;
        }
    if (provision(&run) != 0) {
        CHECK(0);
        goto done;
    }

    int64_t started = bl_clock_mono_ms();
    atomic_store(&run.producing, 1);
    pthread_t api_t[API_THREADS], outbox_t, monkey_t;
    api_worker workers[API_THREADS];
    for (size_t t = 0; t < API_THREADS; t++) {
        workers[t] = (api_worker){.run = &run, .first = t};
        if (pthread_create(&api_t[t], NULL, api_producer, &workers[t]) != 0)
            abort(); /* no thread for the test itself: nothing to measure */
    }
    if (pthread_create(&outbox_t, NULL, outbox_producer, &run) != 0 ||
        pthread_create(&monkey_t, NULL, chaos_monkey, &run) != 0)
        abort();
    for (size_t t = 0; t < API_THREADS; t++)
        pthread_join(api_t[t], NULL);
    pthread_join(outbox_t, NULL);
    atomic_store(&run.producing, 0);
    pthread_join(monkey_t, NULL);
    int64_t produced = bl_clock_mono_ms();

    /* drained: every accepted event delivered (or, if any, dead-lettered) */
    size_t missing = 0;
    for (int64_t until = produced + drain_s * 1000; bl_clock_mono_ms() < until;) {
        chaos_ledger_read(&run.ledger, &run.sink);
        if ((missing = chaos_ledger_missing(&run.ledger)) == 0)
            break;
        sleep(1);
    }
    int64_t drained = bl_clock_mono_ms();
    sleep(2); /* late duplicates */
    chaos_ledger_read(&run.ledger, &run.sink);
    missing = chaos_ledger_missing(&run.ledger);
    size_t other = 0, dups = chaos_ledger_duplicates(&run.ledger, &other), dlq = dead_letters(&run.cluster, "webhook.dlq"),
           refused = dead_letters(&run.cluster, "commands.pmo.dlq");
    size_t api = chaos_ledger_accepted(&run.ledger, 0), outbox = chaos_ledger_accepted(&run.ledger, 1);
    printf("chaos: events accepted %zu (API %zu, outbox %zu) of %zu\n", api + outbox, api, outbox, events);
    printf("chaos: delivered with a valid signature %zu, missing %zu, dead letters %zu\n",
           api + outbox - missing, missing, dlq);
    if (missing)
        chaos_ledger_print_missing(&run.ledger, 20);
    printf("chaos: commands the PMO service dead-lettered %zu\n", refused);
    printf("chaos: duplicates with the same webhook-id %zu, events sent twice under a new id %zu\n", dups, other);
    printf("chaos: bad signatures %zu, unknown bodies %zu, failed requests %zu of %zu\n",
           run.ledger.bad_signatures, run.ledger.unknown, run.ledger.failed_requests, run.ledger.seen);
    printf("chaos: order violations (second event of an outbox aggregate first) %zu of %zu aggregates\n",
           chaos_ledger_order_violations(&run.ledger), run.ledger.n_outbox / 2);
    printf("chaos: kills:");
    for (int k = 0; k < CHAOS_ROLE_COUNT; k++)
        printf(" %s %d", chaos_role_name((chaos_role_kind)k), run.cluster.kills[k]);
    printf("; Kafka restarted %d, PostgreSQL restarted %d\n", atomic_load(&run.kafka_restarted),
           atomic_load(&run.pg_restarted));
    printf("chaos: produced in %.1f s, drained %.1f s after\n", (double)(produced - started) / 1000.0,
           (double)(drained - produced) / 1000.0);
    CHECK(!atomic_load(&run.failed));
    CHECK_EQ_INT(api + outbox, events);
    CHECK(missing <= dlq); /* the bar: what did not arrive is in the dead letters */
    CHECK_EQ_INT(missing, 0);
    CHECK_EQ_INT(run.ledger.bad_signatures, 0);
    CHECK_EQ_INT(refused, 0); /* every command the driver sends is valid */
    CHECK(atomic_load(&run.kafka_restarted) && atomic_load(&run.pg_restarted));
done:
    chaos_cluster_stop(&run.cluster);
    webhook_sink_stop(&run.sink);
    chaos_ledger_free(&run.ledger);
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--events") == 0)
            events = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--kill-every-ms") == 0)
            kill_every_ms = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--drain-s") == 0)
            drain_s = strtol(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "usage: test_chaos [--events N] [--kill-every-ms MS] [--drain-s S]\n");
            return 2;
        }
    }
    if (events < 4 || kill_every_ms < 100 || drain_s < 1) {
        fprintf(stderr, "test_chaos: --events >= 4, --kill-every-ms >= 100, --drain-s >= 1\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_ALL);
    printf("chaos: %zu events, a role killed every %ld ms\n", events, kill_every_ms);
    BL_RUN(whole_path_under_chaos_loses_nothing);
    curl_global_cleanup();
    return bl_test_summary();
}
