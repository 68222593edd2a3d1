/* The calendar sync's runs by `busline sync` worker processes, its cleanup
 * and a token revoked mid-run, against the fake Google Calendar and the real
 * attendance service (the fixture: tests/support/calsync_google_fixture.h;
 * the syncs themselves: test_calendar_sync.c):
 *   - kill_9_mid_run_resumes_without_duplicates (a `busline sync` child);
 *   - autosync_fires_across_a_restart (two `busline sync` children);
 *   - cleanup_removes_the_copies_and_revokes: counts only what was removed;
 *   - revoked_token_mid_run_is_partial_with_item_errors. */
#include "connectors/calendar_sync/push.h"
#include "connectors/calendar_sync/worker.h"
#include "core/clock.h"
#include "core/time_format.h"
#include "tests/support/avro_event.h"
#include "tests/support/calsync_google_fixture.h"
#include "tests/support/outbox_test.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t start_worker(const char *worker, const char *stale)
{
    /* a port below the ephemeral range, checked free: one picked from the pid
     * collided with an outgoing connection and the child exited */
    char port[16];
    snprintf(port, sizeof port, "%u", bl_outbox_test_free_port());
    pid_t pid = fork();
    if (pid == 0) {
        FILE *out = freopen(gsync.log_path, "a", stdout);
        (void)out;
        const char *bin = getenv("BUSLINE_BIN");
        execl(bin, bin, "sync", "--google-base-url", gcal.base_url, "--registry-url", gsync.fx.dom.reg.base_url,
              "--pg-url", gsync.fx.dom.reg.pg_url, "--kafka-brokers", bl_test_kafka_brokers(), "--commands-topic",
              commands_topic, "--worker-id", worker, "--stale-after", stale, "--heartbeat", "200ms", "--idle",
              "100ms", "--page-size", "25", "--max-wait", "2s", "--metrics-port", port, "--events-topic",
              gsync.events_topic, "--group", gsync.name, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_run_finished(const char *run_id)
{
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    for (;;) {
        json_t *j = gsync_run_row(run_id);
        int done = j && json_is_true(json_object_get(j, "finished"));
        json_decref(j);
        if (done)
            return 1;
        if (bl_clock_mono_ms() > deadline)
            return 0;
        usleep(50000);
    }
}

static void stop_worker(pid_t pid)
{
    int status;
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
}

static void kill_9_mid_run_resumes_without_duplicates(void)
{
    gsync_reset(NULL);
    char id[64];
    for (int i = 0; i < 60; i++) {
        snprintf(id, sizeof id, "k-%02d", i);
        gsync_put_event(id, "Kill test", 10 + i, "meeting", 0);
    }
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "killitem%02d", i);
        gsync_put_item(id, "Outside", 100 + i);
    }
    char run_id[40];
    int64_t applied = fixture_end_total(commands_topic, 1);
    REQUIRE(gsync_queue_run(NULL, 0, 0, run_id) == 0);
    /* the worker is stopped for good in the middle of the inserts */
    bl_fake_google_hold(&gcal, gcal.requests + 30);
    pid_t a = start_worker("worker-a", "1s");
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    while (!bl_fake_google_holding(&gcal) && bl_clock_mono_ms() < deadline)
        usleep(20000);
    REQUIRE(bl_fake_google_holding(&gcal));
    kill(a, SIGKILL);
    int status;
    waitpid(a, &status, 0);
    bl_fake_google_release(&gcal);
    json_t *j = gsync_run_row(run_id);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "status")), "running");
    json_decref(j);
    long made = (long)bl_fake_google_live(&gcal, gsync.calendar);
    CHECK(made > 20 && made < 80);
    /* a link lost after an insert is the worst case: the copy exists, the link not */
    const char *p[] = {integration_id};
    PQclear(gsync_sql("DELETE FROM integration_event_links WHERE integration_id::text = $1 AND event_id = (SELECT"
                " max(event_id) FROM integration_event_links WHERE integration_id::text = $1 AND event_id LIKE 'k-%')",
                1, p));
    pid_t b = start_worker("worker-b", "1s");
    CHECK(wait_run_finished(run_id));
    stop_worker(b);
    j = gsync_run_row(run_id);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "status")), "success");
    json_decref(j);
    CHECK_EQ_INT(bl_fake_google_live(&gcal, gsync.calendar), 80);
    CHECK_EQ_INT(gsync_count1("SELECT count(*) FROM integration_event_links WHERE integration_id::text = $1"
                        " AND removed_at IS NULL", integration_id), 80);
    /* the commands of the killed run and of the takeover are the same commands */
    json_t *list = gsync_all_commands();
    json_t *ids = json_object();
    long mine = 0;
    for (size_t i = (size_t)applied; i < json_array_size(list); i++) {
        json_t *env = json_array_get(list, i);
        json_object_set_new(ids, json_string_value(json_object_get(env, "id")), json_true());
        mine++;
    }
    CHECK(mine >= 20);
    CHECK_EQ_INT(json_object_size(ids), 20);
    json_decref(ids);
    json_decref(list);
    CHECK_EQ_INT(gsync_apply_commands(), mine);
    CHECK_EQ_INT(gsync_count1("SELECT count(*) FROM attendance_events WHERE organization_id = $1", org), 80);
    json_t *run = gsync_sync_now(NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK(gsync_converged());
    CHECK_EQ_STR(gcal.problem, "");
}

static long automatic_runs(const char *status)
{
    const char *p[] = {integration_id, status};
    PGresult *r = gsync_sql("SELECT count(*) FROM integration_sync_runs WHERE integration_id::text = $1"
                      " AND type = 'automatic' AND ($2::text IS NULL OR status = $2)", 2, p);
    long n = r ? atol(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

static int wait_automatic(long n)
{
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    while (automatic_runs("success") < n && bl_clock_mono_ms() < deadline)
        usleep(50000);
    return automatic_runs("success") >= n;
}

static void autosync_fires_across_a_restart(void)
{
    gsync_reset(NULL);
    gsync_put_event("auto-1", "Automatic", 3, "meeting", 0);
    const char *p[] = {integration_id};
    PQclear(gsync_sql("UPDATE integrations SET auto_sync = true, sync_interval_s = 2, next_sync_at = now()"
                " WHERE id::text = $1", 1, p));
    pid_t a = start_worker("auto-a", "30s");
    CHECK(wait_automatic(1));
    stop_worker(a);
    CHECK_EQ_INT(bl_fake_google_live(&gcal, gsync.calendar), 1);
    CHECK_EQ_INT(gsync_count1("SELECT count(*) FROM integrations WHERE id::text = $1 AND next_sync_at > now() - interval"
                        " '1 hour'", integration_id), 1);
    long before = automatic_runs("success");
    /* while no worker runs the timer falls due; the next worker picks it up */
    gsync_put_event("auto-2", "After the restart", 4, "meeting", 0);
    pid_t b = start_worker("auto-b", "30s");
    CHECK(wait_automatic(before + 1));
    stop_worker(b);
    CHECK_EQ_INT(bl_fake_google_live(&gcal, gsync.calendar), 2);
    PQclear(gsync_sql("UPDATE integrations SET auto_sync = false WHERE id::text = $1", 1, p));
    /* one automatic run at a time: never two active for the integration */
    CHECK_EQ_INT(gsync_count1("SELECT count(*) FROM integration_sync_runs WHERE integration_id::text = $1"
                        " AND status IN ('queued', 'running')", integration_id), 0);
    CHECK_EQ_INT(gsync_count1("SELECT count(*) FROM busline_outbox WHERE event_type = 'integration.sync_completed'", NULL) >=
                     before + 1, 1);
}

/* The domain's event about event_id of org (created or cancelled). */

static void cleanup_removes_the_copies_and_revokes(void)
{
    gsync_reset(NULL);
    gsync_put_event("cl-1", "Cleanup 1", 5, "meeting", 0);
    gsync_put_event("cl-2", "Cleanup 2", 6, "meeting", 0);
    gsync_put_event("cl-3", "Cleanup 3", 7, "meeting", 0);
    json_t *run = gsync_sync_now("attendance_to_external", 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsCreated"), 3);
    json_decref(run);
    /* one copy is deleted by a person first: the cleanup cannot count it */
    const char *p[] = {integration_id};
    PGresult *r = gsync_sql("SELECT external_id FROM integration_event_links WHERE integration_id::text = $1"
                      " AND event_id = 'cl-2'", 1, p);
    REQUIRE(r && PQntuples(r) == 1);
    bl_fake_google_cancel(&gcal, PQgetvalue(r, 0, 0));
    PQclear(r);
    int revokes = oauth.revokes;
    char run_id[40];
    REQUIRE(bl_calsync_fx_queue(&gsync.fx, "cleanup", NULL, 0, 0, run_id) == 0);
    bl_calsync_worker_opts o = gsync_worker_opts();
    bl_err err = {0};
    CHECK_EQ_INT(bl_calsync_worker_step(&o, &err), 1);
    REQUIRE((run = gsync_run_row(run_id)) != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(run, "status")), "success");
    CHECK_EQ_INT(gsync_stat_of(run, "eventsDeleted"), 2);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsProcessed"), 3);
    json_decref(run);
    CHECK_EQ_INT(bl_fake_google_live(&gcal, gsync.calendar), 0);
    CHECK_EQ_INT(oauth.revokes, revokes + 1);
    CHECK_EQ_INT(gsync_count1("SELECT count(*) FROM integrations WHERE id::text = $1 AND status = 'disconnected'"
                        " AND access_token_ciphertext IS NULL", integration_id), 1);
    CHECK_EQ_INT(gsync_count1("SELECT count(*) FROM integration_event_links WHERE integration_id::text = $1"
                        " AND removed_at IS NULL", integration_id), 0);
    /* the next tests get a new connection */
    REQUIRE(bl_calsync_fx_connect(&gsync.fx) == 0);
}

static void *worker_thread(void *arg)
{
    bl_calsync_worker_opts o = gsync_worker_opts();
    bl_err err = {0};
    *(int *)arg = bl_calsync_worker_step(&o, &err);
    return NULL;
}

static void revoked_token_mid_run_is_partial_with_item_errors(void)
{
    gsync_reset(NULL);
    char id[64];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "rv-%02d", i);
        gsync_put_event(id, "Revoked", 10 + i, "meeting", 0);
    }
    char run_id[40];
    REQUIRE(gsync_queue_run("attendance_to_external", 0, 0, run_id) == 0);
    bl_fake_google_hold(&gcal, gcal.requests + 5);
    pthread_t t;
    int executed = -1;
    REQUIRE(pthread_create(&t, NULL, worker_thread, &executed) == 0);
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    while (!bl_fake_google_holding(&gcal) && bl_clock_mono_ms() < deadline)
        usleep(20000);
    /* the user revokes busline's access at Google: the token and its refresh stop working */
    bl_fake_saas_accept(&gcal, "Bearer revoked");
    pthread_mutex_lock(&oauth.lock);
    oauth.refuse_refresh = true;
    pthread_mutex_unlock(&oauth.lock);
    bl_fake_google_release(&gcal);
    pthread_join(t, NULL);
    CHECK_EQ_INT(executed, 1);
    json_t *run = gsync_run_row(run_id);
    REQUIRE(run != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(run, "status")), "partial");
    CHECK_EQ_INT(gsync_stat_of(run, "eventsCreated"), 4);
    CHECK_EQ_INT(gsync_stat_of(run, "errors"), 6);
    json_t *errors = json_object_get(run, "errors");
    CHECK_EQ_INT(json_array_size(errors), 6);
    json_t *first = json_array_get(errors, 0);
    CHECK_EQ_STR(json_string_value(json_object_get(first, "code")), "INVALID_CREDENTIALS");
    CHECK_EQ_STR(json_string_value(json_object_get(first, "eventId")), "rv-04");
    json_decref(run);
    CHECK_EQ_INT(gsync_count1("SELECT count(*) FROM integrations WHERE id::text = $1 AND status = 'error'",
                        integration_id), 1);
}

int main(void)
{
    if (gsync_setup() == 0) {
        BL_RUN(kill_9_mid_run_resumes_without_duplicates);
        BL_RUN(autosync_fires_across_a_restart);
        BL_RUN(cleanup_removes_the_copies_and_revokes);
        BL_RUN(revoked_token_mid_run_is_partial_with_item_errors);
    } else {
        bl_test_failures++;
    }
    gsync_teardown();
    return bl_test_summary();
}
