/* The delivery worker as production runs it (`busline webhooks deliver`, a
 * child process configured through the environment) killed with SIGKILL in
 * the middle of a 20,000-event run and started again: the sink ends up with
 * every event's webhook-id (duplicates allowed, nothing lost). */
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EVENTS 20000

typedef struct want {
    size_t n;
} want;

static int ok_at_least(webhook_sink *s, void *user)
{
    return webhook_sink_distinct_ok(s) >= ((want *)user)->n;
}

static void deliver_worker_killed_mid_run_loses_nothing(void)
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
    webhook_sink_url(&sink, "/kill", url, sizeof url);
    char *id = wh_e2e_endpoint(&e, "org-kill", url, "webhook.*", NULL, NULL, NULL);
    REQUIRE(id != NULL);
    free(id);
    REQUIRE(wh_e2e_wait_cache(&e, 1) == 0);
    REQUIRE(wh_e2e_start(&e, 0) == 0); /* relay and fan-out here; delivery in the child */
    wh_e2e_deliver_env(&e);
    REQUIRE(wh_e2e_append(&e, "org-kill", "ep-kill", EVENTS, "k-") == 0);
    REQUIRE((worker = wh_e2e_spawn_deliver("/tmp/busline-test-webhook-kill.log")) > 0);
    want some = {.n = EVENTS / 4}, all = {.n = EVENTS};
    CHECK(webhook_sink_wait(&sink, ok_at_least, &some, 60000));
    size_t before = webhook_sink_distinct_ok(&sink);
    CHECK_EQ_INT(bl_outbox_test_reap(worker, SIGKILL, NULL), 128 + SIGKILL);
    worker = -1;
    printf("  killed the worker after %zu of %d events had arrived\n", before, EVENTS);
    CHECK(before < EVENTS); /* killed mid-run, not after */
    REQUIRE((worker = wh_e2e_spawn_deliver("/tmp/busline-test-webhook-kill.log")) > 0);
    CHECK(webhook_sink_wait(&sink, ok_at_least, &all, 80000));
    size_t requests = webhook_sink_count(&sink), distinct = webhook_sink_distinct_ok(&sink);
    printf("  after the restart: %zu distinct webhook-ids, %zu requests (%zu duplicates)\n", distinct,
           requests, requests - distinct);
    CHECK_EQ_INT((long)distinct, EVENTS);
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
    BL_RUN(deliver_worker_killed_mid_run_loses_nothing);
    return bl_test_summary();
}
