/* FIFO webhooks ("ordering": "fifo") against the real broker and database:
 * a sink failing the first attempts of the k-th event sees every later event
 * only after that one succeeded, each once (an ordinary endpoint beside it,
 * failing the same way, gets the later events first: the check can tell);
 * a head that never succeeds holds the rest until it is dead-lettered, then
 * they follow in order; and the delivery worker as production runs it
 * (`busline webhooks deliver`, a child process) killed with SIGKILL mid-run
 * and started again keeps the order and loses nothing (a delivery may come
 * twice, never before one enqueued ahead of it). */
#include "connectors/webhook/store/endpoint_ordering.h"
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EVENTS 30
#define FAILING_EVENT 7 /* the k-th (0-based) delivery to arrive fails its first FAILS attempts */
#define FAILS 3
#define KILL_EVENTS 600
#define MAX_HITS 4096

static const int64_t ones_s[4] = {1, 1, 1, 1};

/* Per path: the distinct webhook-ids in their arrival order (the sink calls
 * behave under its lock). */
typedef struct path_ids {
    char path[32];
    char ids[EVENTS][64];
    size_t n;
    int always; /* the failing one never succeeds */
} path_ids;

typedef struct flaky {
    path_ids paths[3];
} flaky;

static void fail_kth(size_t n, const char *path, const char *id, int *status, int *retry_after_s,
                     int *sleep_ms, void *user)
{
    (void)n, (void)retry_after_s, (void)sleep_ms;
    flaky *f = user;
    for (size_t p = 0; p < 3; p++) {
        path_ids *pi = &f->paths[p];
        if (strcmp(pi->path, path) != 0)
            continue;
        size_t i = 0;
        while (i < pi->n && strcmp(pi->ids[i], id) != 0)
            i++;
        if (i == pi->n && pi->n < EVENTS)
            snprintf(pi->ids[pi->n++], sizeof pi->ids[0], "%s", id);
        if (i != FAILING_EVENT)
            return;
        static int attempts[3];
        if (pi->always || attempts[p]++ < FAILS)
            *status = 500;
    }
}

/* The event's sequence number: its reason "seq<i>" in the body; -1 if none. */
static int seq_of(const sink_hit *h)
{
    char buf[4096];
    size_t len = h->body_len < sizeof buf - 1 ? h->body_len : sizeof buf - 1;
    memcpy(buf, h->body, len);
    buf[len] = '\0';
    const char *s = strstr(buf, "\"seq");
    return s ? atoi(s + 4) : -1;
}

static void fifo(bl_webhook_spec *spec, void *user)
{
    (void)user;
    CHECK(bl_webhook_ordering_parse("fifo", &spec->strict_order) == 0);
    spec->retry_schedule_s = ones_s;
    spec->retry_schedule_len = 4; /* 5 attempts */
}

static void fifo_two_attempts(bl_webhook_spec *spec, void *user)
{
    fifo(spec, user);
    spec->retry_schedule_len = 1; /* 2 attempts, then the dead letters */
}

static void parallel(bl_webhook_spec *spec, void *user)
{
    (void)user;
    spec->retry_schedule_s = ones_s;
    spec->retry_schedule_len = 4;
}

typedef struct want {
    const char *path;
    size_t n;
} want;

static int ok_on_path(webhook_sink *s, void *user)
{
    want *w = user;
    static sink_hit h[MAX_HITS];
    size_t n = webhook_sink_hits_to(s, w->path, h, MAX_HITS), ok = 0;
    for (size_t i = 0; i < n; i++)
        ok += h[i].status >= 200 && h[i].status < 300;
    return ok >= w->n;
}

/* The sink has 2xx answers for at least *user distinct webhook-ids. */
static int distinct_ok_at_least(webhook_sink *s, void *user)
{
    return webhook_sink_distinct_ok(s) >= *(size_t *)user;
}

/* Checks the FIFO promise over hits in arrival order: the first request of
 * event i comes after event i-1 was answered 2xx (or, dead is i-1's number,
 * after its last attempt) and first requests go 0, 1, 2, ...; returns how
 * many distinct events were answered 2xx. */
static size_t check_fifo_order(const sink_hit *h, size_t n, int events, int dead)
{
    bool *seen = calloc((size_t)events, sizeof *seen), *ok = calloc((size_t)events, sizeof *ok);
    size_t distinct_ok = 0;
    int next_new = 0, violations = 0;
    for (size_t i = 0; seen && ok && i < n; i++) {
        int s = seq_of(&h[i]);
        if (s < 0 || s >= events) {
            violations++;
            continue;
        }
        if (!seen[s]) {
            if (s != next_new || (s > 0 && !ok[s - 1] && s - 1 != dead))
                violations++;
            seen[s] = true;
            next_new = s + 1;
        }
        if (h[i].status >= 200 && h[i].status < 300 && !ok[s]) {
            ok[s] = true;
            distinct_ok++;
        }
    }
    if (violations)
        printf("  %d requests out of FIFO order\n", violations);
    CHECK_EQ_INT(violations, 0);
    free(seen);
    free(ok);
    return distinct_ok;
}

static size_t ok_count(const sink_hit *h, size_t n)
{
    size_t ok = 0;
    for (size_t i = 0; i < n; i++)
        ok += h[i].status >= 200 && h[i].status < 300;
    return ok;
}

static void fifo_endpoint_holds_order_while_its_head_fails(void)
{
    static flaky f = {.paths = {{.path = "/fifo"}, {.path = "/parallel"}, {.path = "/dead", .always = 1}}};
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, fail_kth, &f) == 0);
    wh_e2e e = {0};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url[3][128];
    for (int i = 0; i < 3; i++)
        webhook_sink_url(&sink, f.paths[i].path, url[i], sizeof url[i]);
    char *ids[3] = {wh_e2e_endpoint(&e, "org-fifo", url[0], "webhook.*", fifo, NULL, NULL),
                    wh_e2e_endpoint(&e, "org-par", url[1], "webhook.*", parallel, NULL, NULL),
                    wh_e2e_endpoint(&e, "org-dead", url[2], "webhook.*", fifo_two_attempts, NULL, NULL)};
    REQUIRE(ids[0] && ids[1] && ids[2]);
    REQUIRE(wh_e2e_wait_cache(&e, 3) == 0);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    REQUIRE(wh_e2e_append(&e, "org-fifo", "ep-fifo", EVENTS, "seq") == 0);
    REQUIRE(wh_e2e_append(&e, "org-par", "ep-par", EVENTS, "seq") == 0);
    REQUIRE(wh_e2e_append(&e, "org-dead", "ep-dead", EVENTS, "seq") == 0);
    want all_fifo = {"/fifo", EVENTS}, all_par = {"/parallel", EVENTS}, all_but_dead = {"/dead", EVENTS - 1};
    CHECK(webhook_sink_wait(&sink, ok_on_path, &all_fifo, 60000));
    CHECK(webhook_sink_wait(&sink, ok_on_path, &all_par, 60000));
    CHECK(webhook_sink_wait(&sink, ok_on_path, &all_but_dead, 60000));

    static sink_hit h[MAX_HITS];
    /* fifo: the k-th tried FAILS + 1 times, nothing later before it succeeded, each once */
    size_t n = webhook_sink_hits_to(&sink, "/fifo", h, MAX_HITS);
    CHECK_EQ_INT((long)n, EVENTS + FAILS);
    CHECK_EQ_INT((long)check_fifo_order(h, n, EVENTS, -1), EVENTS);
    CHECK_EQ_INT((long)ok_count(h, n), EVENTS);
    for (size_t i = 0; i < n && i < FAILING_EVENT + FAILS + 1; i++)
        CHECK_EQ_INT(seq_of(&h[i]), i < FAILING_EVENT ? (int)i : FAILING_EVENT);

    /* parallel, failing the same way: later events overtake the retried one */
    n = webhook_sink_hits_to(&sink, "/parallel", h, MAX_HITS);
    int failed_seq = -1, overtaken = 0;
    for (size_t i = 0; i < n; i++)
        if (h[i].status == 500)
            failed_seq = seq_of(&h[i]);
    for (size_t i = 0; i < n && failed_seq >= 0; i++) {
        if (seq_of(&h[i]) == failed_seq && h[i].status == 200)
            break;
        overtaken += seq_of(&h[i]) > failed_seq;
    }
    printf("  parallel endpoint: %d later deliveries overtook the failing one\n", overtaken);
    CHECK(failed_seq >= 0 && overtaken > 0);

    /* a head that never succeeds: dead-lettered after its 2 attempts, then the rest in order */
    n = webhook_sink_hits_to(&sink, "/dead", h, MAX_HITS);
    CHECK_EQ_INT((long)n, EVENTS + 1);
    CHECK_EQ_INT((long)check_fifo_order(h, n, EVENTS, FAILING_EVENT), EVENTS - 1);
    for (size_t i = 0; i < n && i < FAILING_EVENT + 3; i++)
        CHECK_EQ_INT(seq_of(&h[i]), i <= FAILING_EVENT ? (int)i : i == FAILING_EVENT + 1 ? FAILING_EVENT
                                                                                         : FAILING_EVENT + 1);
    for (int i = 0; i < 3; i++)
        free(ids[i]);
done:
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

static void fifo_kept_across_a_deliver_worker_killed_mid_run(void)
{
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, NULL, NULL) == 0);
    pid_t worker = -1;
    wh_e2e e = {0};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url[128];
    webhook_sink_url(&sink, "/fifo-kill", url, sizeof url);
    char *id = wh_e2e_endpoint(&e, "org-fifo-kill", url, "webhook.*", fifo, NULL, NULL);
    REQUIRE(id != NULL);
    free(id);
    REQUIRE(wh_e2e_wait_cache(&e, 1) == 0);
    REQUIRE(wh_e2e_start(&e, 0) == 0); /* relay and fan-out here; delivery in the child */
    wh_e2e_deliver_env(&e);
    REQUIRE(wh_e2e_append(&e, "org-fifo-kill", "ep-fifo-kill", KILL_EVENTS, "seq") == 0);
    REQUIRE((worker = wh_e2e_spawn_deliver("/tmp/busline-test-webhook-fifo-kill.log")) > 0);
    size_t some = KILL_EVENTS / 4, all = KILL_EVENTS;
    CHECK(webhook_sink_wait(&sink, distinct_ok_at_least, &some, 60000));
    CHECK_EQ_INT(bl_outbox_test_reap(worker, SIGKILL, NULL), 128 + SIGKILL);
    worker = -1;
    size_t before = webhook_sink_distinct_ok(&sink);
    printf("  killed the worker after %zu of %d events had arrived\n", before, KILL_EVENTS);
    CHECK(before < KILL_EVENTS); /* killed mid-run, not after */
    REQUIRE((worker = wh_e2e_spawn_deliver("/tmp/busline-test-webhook-fifo-kill.log")) > 0);
    CHECK(webhook_sink_wait(&sink, distinct_ok_at_least, &all, 120000));
    static sink_hit h[MAX_HITS];
    size_t n = webhook_sink_hits_to(&sink, "/fifo-kill", h, MAX_HITS);
    printf("  after the restart: %zu requests for %d events\n", n, KILL_EVENTS);
    CHECK_EQ_INT((long)check_fifo_order(h, n, KILL_EVENTS, -1), KILL_EVENTS);
    CHECK_EQ_INT((long)webhook_sink_distinct_ok(&sink), KILL_EVENTS);
    CHECK_EQ_INT(bl_outbox_test_reap(worker, SIGTERM, NULL), 0);
    worker = -1;
done:
    if (worker > 0)
        bl_outbox_test_reap(worker, SIGKILL, NULL);
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

int main(void)
{
    BL_RUN(fifo_endpoint_holds_order_while_its_head_fails);
    BL_RUN(fifo_kept_across_a_deliver_worker_killed_mid_run);
    return bl_test_summary();
}
