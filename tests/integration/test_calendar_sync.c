/* The calendar sync (connectors/calendar_sync) against the stateful fake
 * Google Calendar (tests/support/fake_google_calendar.c), the real OAuth
 * store (tokens sealed, refreshed at a fake of Google's OAuth endpoints),
 * real Kafka (commands.attendance under a unique name) and PostgreSQL.
 *
 * The attendance domain is the real service (producers/attendance, in
 * process: tests/support/calsync_fixture.c): Attendance-X changes are its
 * commands, and the commands the sync sends are applied by it, so a
 * calendar change ends as an attendance event in PostgreSQL and every copy
 * is made from one.
 *
 *   - two_way_sync_of_500_events_converges: 250 events on each side with
 *     creations, updates and deletions on both; after the runs both sides
 *     hold the same 490;
 *   - second_run_does_nothing: no command, no calendar write, zero counts;
 *   - dry_run_changes_nothing: exact counts, nothing written anywhere;
 *   - conflict_is_counted_and_the_later_side_wins;
 *   - expired_sync_token_resyncs_in_full (410) and rate limits are waited;
 *   - domain_events_are_pushed_between_runs: events.attendance.event
 *     copied out at once, a repeat and an echo of the sync's own change
 *     writing nothing;
 *   - kill_9_mid_run_resumes_without_duplicates (a `busline sync` child);
 *   - autosync_fires_across_a_restart (two `busline sync` children);
 *   - cleanup_removes_the_copies_and_revokes: counts only what was removed;
 *   - revoked_token_mid_run_is_partial_with_item_errors. */
#include "connectors/calendar_sync/push.h"
#include "connectors/calendar_sync/worker.h"
#include "core/clock.h"
#include "core/time_format.h"
#include "tests/support/avro_event.h"
#include "tests/support/calsync_fixture.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 60000
#define PREFIX "[AX] "

static bl_calsync_fx fx;
static char name[96], events_topic[160], log_path[256], calendar[32];
#define gcal fx.cal
#define oauth fx.oauth
#define org fx.dom.org
#define integration_id fx.integration_id
#define commands_topic fx.dom.commands_topic

static PGresult *sql(const char *q, int n, const char *const *p)
{
    return bl_calsync_fx_sql(&fx, q, n, p);
}

static long count1(const char *q, const char *param)
{
    return bl_calsync_fx_count(&fx, q, param);
}

/* A fresh calendar and a clean slate for the next test. */
static void reset(const char *settings_extra)
{
    static int n;
    snprintf(calendar, sizeof calendar, "cal%d", ++n);
    char settings[1024];
    snprintf(settings, sizeof settings,
             "{\"calendarId\":\"%s\",\"eventMapping\":{\"titlePrefix\":\"" PREFIX "\",\"includeDescription\":true,"
             "\"includeLocation\":true,\"colorId\":\"2\"}%s%s}",
             calendar, settings_extra ? "," : "", settings_extra ? settings_extra : "");
    bl_calsync_fx_reset(&fx, settings);
}

/* Attendance-X changes: the domain's commands, applied. */
static void put_event(const char *id, const char *title, int hours, const char *type, int is_private)
{
    if (bl_calsync_fx_create_event(&fx, id, title, hours, type, is_private) != 0)
        fprintf(stderr, "  event.create %s failed\n", id);
}

static void change_event(const char *id, const char *title)
{
    if (bl_calsync_fx_retitle_event(&fx, id, title) != 0)
        fprintf(stderr, "  event.update %s failed\n", id);
}

static void cancel_event(const char *id)
{
    if (bl_calsync_fx_cancel_event(&fx, id) != 0)
        fprintf(stderr, "  event.cancel %s failed\n", id);
}

/* A person's event in the calendar (hours from now). */
static void put_item(const char *id, const char *summary, int hours)
{
    char s[40], e[40];
    int64_t base = (bl_clock_wall_ms() / 3600000 + hours) * 3600000;
    bl_rfc3339_format_millis(base, s, sizeof s);
    bl_rfc3339_format_millis(base + 3600000, e, sizeof e);
    json_t *ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s}}", "id", id, "summary", summary, "start",
                           "dateTime", s, "timeZone", "Europe/Paris", "end", "dateTime", e, "timeZone",
                           "Europe/Paris", "organizer", "email", "someone@example.com");
    bl_fake_google_put(&gcal, calendar, ev);
    json_decref(ev);
}

static bl_calsync_worker_opts worker_opts(void)
{
    return bl_calsync_fx_worker_opts(&fx);
}

static int queue_run(const char *direction, int dry, int force, char run_id[40])
{
    return bl_calsync_fx_queue(&fx, "manual", direction, dry, force, run_id);
}

static json_t *run_row(const char *run_id)
{
    return bl_calsync_fx_run_row(&fx, run_id);
}

static long stat_of(const json_t *run, const char *key)
{
    return bl_calsync_fx_stat(run, key);
}

static json_t *sync_now(const char *direction, int dry, int force)
{
    return bl_calsync_fx_sync(&fx, direction, dry, force);
}

/* The commands the sync sent and the service applies. */
static long apply_commands(void)
{
    return bl_calsync_fx_apply(&fx);
}

typedef struct commands_seen {
    long n;
    json_t *list;
} commands_seen;

static void collect(const bl_kafka_msg *m, void *user)
{
    commands_seen *s = user;
    size_t len = 0;
    const void *v = bl_kafka_msg_value(m, &len);
    bl_err err = {0};
    json_t *env = bl_domain_codec_decode_command(fx.dom.codec, v, len, &err);
    if (!env)
        fprintf(stderr, "  decode: %s\n", err.msg);
    else
        json_array_append_new(s->list, env);
    s->n++;
}

/* Every command on the topic (new array of envelopes). */
static json_t *all_commands(void)
{
    commands_seen s = {0, json_array()};
    int64_t total = fixture_end_total(commands_topic, 1);
    if (total > 0)
        fixture_read(commands_topic, (int)total, 30000, collect, &s);
    return s.list;
}

/* Both sides hold the same set: every scheduled event has exactly one live
 * copy with its title, and the calendar holds nothing else. */
static int converged(void)
{
    const char *p[] = {org, integration_id};
    PGresult *r = sql("SELECT e.event_id, e.title, l.external_id FROM attendance_events e LEFT JOIN"
                      " integration_event_links l ON l.event_id = e.event_id AND l.integration_id::text = $2"
                      " AND l.removed_at IS NULL WHERE e.organization_id = $1 AND e.status = 'scheduled'", 2, p);
    if (!r)
        return 0;
    int ok = 1;
    for (int i = 0; i < PQntuples(r) && ok; i++) {
        json_t *item = PQgetisnull(r, i, 2) ? NULL : bl_fake_google_event(&gcal, PQgetvalue(r, i, 2));
        char want[600];
        snprintf(want, sizeof want, PREFIX "%s", PQgetvalue(r, i, 1));
        const char *summary = json_string_value(json_object_get(item, "summary"));
        const char *status = json_string_value(json_object_get(item, "status"));
        if (!item || !summary || (strcmp(summary, want) && strcmp(summary, PQgetvalue(r, i, 1))) ||
            !strcmp(status ? status : "", "cancelled")) {
            fprintf(stderr, "  not converged: %s \"%s\" -> %s \"%s\"\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                    PQgetisnull(r, i, 2) ? "(no copy)" : PQgetvalue(r, i, 2), summary ? summary : "(none)");
            ok = 0;
        }
        json_decref(item);
    }
    size_t live = bl_fake_google_live(&gcal, calendar);
    if ((long)live != PQntuples(r)) {
        fprintf(stderr, "  not converged: %zu live items, %d scheduled events\n", live, PQntuples(r));
        ok = 0;
    }
    PQclear(r);
    return ok;
}

static void two_way_sync_of_500_events_converges(void)
{
    reset(NULL);
    char id[64], title[64];
    for (int i = 0; i < 250; i++) {
        snprintf(id, sizeof id, "ev-%03d", i);
        snprintf(title, sizeof title, "Training %d", i);
        put_event(id, title, 24 + i, "training", 0);
        snprintf(id, sizeof id, "person%03d", i);
        snprintf(title, sizeof title, "Dentist %d", i);
        put_item(id, title, 30 + i);
    }
    json_t *run = sync_now(NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(run, "status")), "success");
    CHECK_EQ_INT(stat_of(run, "eventsCreated"), 500);
    CHECK_EQ_INT(stat_of(run, "errors"), 0);
    json_decref(run);
    CHECK_EQ_INT(apply_commands(), 250);
    CHECK_EQ_STR(gcal.problem, "");
    /* the echoes of the 250 commands come back; nothing is written for them */
    int creates = gcal.creates;
    REQUIRE((run = sync_now(NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(stat_of(run, "eventsProcessed"), 0);
    CHECK_EQ_INT(gcal.creates, creates);
    json_decref(run);
    CHECK(converged());
    /* changes on both sides: 20 updates and 10 deletions each, 5 new each */
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "ev-%03d", i);
        snprintf(title, sizeof title, "Training %d (moved)", i);
        change_event(id, title);
        snprintf(id, sizeof id, "person%03d", i);
        snprintf(title, sizeof title, "Dentist %d (moved)", i);
        put_item(id, title, 30 + i);
    }
    for (int i = 20; i < 30; i++) {
        snprintf(id, sizeof id, "ev-%03d", i);
        cancel_event(id);
        snprintf(id, sizeof id, "person%03d", i);
        bl_fake_google_cancel(&gcal, id);
    }
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "ev-new-%d", i);
        put_event(id, "Workshop", 10 + i, "workshop", 0);
        snprintf(id, sizeof id, "newperson%d", i);
        put_item(id, "Lunch", 12 + i);
    }
    REQUIRE((run = sync_now(NULL, 0, 0)) != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(run, "status")), "success");
    CHECK_EQ_INT(stat_of(run, "eventsCreated"), 10);
    CHECK_EQ_INT(stat_of(run, "eventsUpdated"), 40);
    CHECK_EQ_INT(stat_of(run, "eventsDeleted"), 20);
    CHECK_EQ_INT(json_integer_value(json_object_get(run, "conflicts")), 0);
    json_decref(run);
    CHECK_EQ_INT(apply_commands(), 35);
    REQUIRE((run = sync_now(NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(stat_of(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK(converged());
    CHECK_EQ_INT(count1("SELECT count(*) FROM attendance_events WHERE organization_id = $1 AND status = 'scheduled'",
                        org), 490);
    CHECK_EQ_STR(gcal.problem, "");
}

static void second_run_does_nothing(void)
{
    int requests = gcal.requests, lists = gcal.gcal_lists;
    int64_t commands = fixture_end_total(commands_topic, 1);
    json_t *run = sync_now(NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(run, "status")), "success");
    static const char *const keys[] = {"eventsProcessed", "eventsCreated", "eventsUpdated", "eventsDeleted", "errors"};
    for (size_t i = 0; i < 5; i++)
        CHECK_EQ_INT(stat_of(run, keys[i]), 0);
    json_decref(run);
    CHECK_EQ_INT(gcal.requests - requests, gcal.gcal_lists - lists); /* only the incremental list */
    CHECK_EQ_INT(fixture_end_total(commands_topic, 1), commands);
}

static void dry_run_changes_nothing(void)
{
    change_event("ev-100", "Training 100 (dry)");
    put_event("ev-dry", "Dry one", 5, "meeting", 0);
    put_item("person100", "Dentist 100 (dry)", 130);
    put_item("dryperson", "Dry lunch", 6);
    const char *p[] = {integration_id};
    PGresult *before = sql("SELECT cursor FROM integration_sync_cursors WHERE integration_id::text = $1", 1, p);
    long links = count1("SELECT count(*) FROM integration_event_links WHERE integration_id::text = $1", integration_id);
    int creates = gcal.creates;
    int64_t commands = fixture_end_total(commands_topic, 1);
    json_t *item = bl_fake_google_event(&gcal, "person100");
    json_t *run = sync_now(NULL, 1, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(run, "status")), "success");
    CHECK_EQ_INT(stat_of(run, "eventsCreated"), 2);
    CHECK_EQ_INT(stat_of(run, "eventsUpdated"), 2);
    CHECK_EQ_INT(stat_of(run, "eventsProcessed"), 4);
    json_decref(run);
    CHECK_EQ_INT(gcal.creates, creates);
    CHECK_EQ_INT(fixture_end_total(commands_topic, 1), commands);
    CHECK_EQ_INT(count1("SELECT count(*) FROM integration_event_links WHERE integration_id::text = $1",
                        integration_id), links);
    PGresult *after = sql("SELECT cursor FROM integration_sync_cursors WHERE integration_id::text = $1", 1, p);
    CHECK(before && after && PQntuples(before) == 1 && PQntuples(after) == 1);
    if (before && after && PQntuples(before) == 1 && PQntuples(after) == 1)
        CHECK_EQ_STR(PQgetvalue(after, 0, 0), PQgetvalue(before, 0, 0));
    PQclear(before);
    PQclear(after);
    json_t *again = bl_fake_google_event(&gcal, "person100");
    CHECK(json_equal(item, again));
    json_decref(item);
    json_decref(again);
    /* the real run then does what the dry one counted */
    REQUIRE((run = sync_now(NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(stat_of(run, "eventsCreated"), 2);
    CHECK_EQ_INT(stat_of(run, "eventsUpdated"), 2);
    json_decref(run);
    CHECK_EQ_INT(apply_commands(), 2);
}

static void conflict_is_counted_and_the_later_side_wins(void)
{
    /* ev-101: Attendance-X changed after the calendar -> Attendance-X wins */
    const char *p[] = {integration_id, "ev-101"};
    PGresult *r = sql("SELECT external_id FROM integration_event_links WHERE integration_id::text = $1"
                      " AND event_id = $2", 2, p);
    REQUIRE(r && PQntuples(r) == 1);
    char copy[64];
    snprintf(copy, sizeof copy, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    json_t *patch = json_pack("{s:s, s:s}", "id", copy, "summary", PREFIX "Changed in the calendar");
    bl_fake_google_put(&gcal, calendar, patch);
    json_decref(patch);
    usleep(20000);
    change_event("ev-101", "Changed in Attendance-X");
    /* person101: the calendar changed after Attendance-X -> the calendar wins */
    char ext_event[64];
    const char *q[] = {integration_id, "person101"};
    r = sql("SELECT event_id FROM integration_event_links WHERE integration_id::text = $1 AND external_id = $2", 2, q);
    REQUIRE(r && PQntuples(r) == 1);
    snprintf(ext_event, sizeof ext_event, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    change_event(ext_event, "Dentist changed in Attendance-X");
    usleep(20000);
    put_item("person101", "Dentist changed in the calendar", 131);
    json_t *run = sync_now(NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(run, "conflicts")), 2);
    json_decref(run);
    CHECK_EQ_INT(apply_commands(), 1);
    json_t *item = bl_fake_google_event(&gcal, copy);
    CHECK_EQ_STR(json_string_value(json_object_get(item, "summary")), PREFIX "Changed in Attendance-X");
    json_decref(item);
    const char *e[] = {org, ext_event};
    r = sql("SELECT title FROM attendance_events WHERE organization_id = $1 AND event_id = $2", 2, e);
    CHECK(r && PQntuples(r) == 1);
    if (r && PQntuples(r) == 1)
        CHECK_EQ_STR(PQgetvalue(r, 0, 0), "Dentist changed in the calendar");
    PQclear(r);
    REQUIRE((run = sync_now(NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(stat_of(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK(converged());
}

static void expired_sync_token_resyncs_in_full_and_rate_limits_are_waited(void)
{
    bl_fake_google_cancel(&gcal, "person102"); /* deleted while the token expires: found by the full list */
    bl_fake_google_expire_tokens(&gcal);
    bl_fake_saas_fail_next(&gcal, 429, NULL, "1");
    bl_fake_saas_fail_next(&gcal, 403, "Rate Limit Exceeded", NULL);
    json_t *run = sync_now(NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(run, "status")), "success");
    CHECK_EQ_INT(stat_of(run, "eventsDeleted"), 1);
    CHECK_EQ_INT(stat_of(run, "eventsCreated"), 0);
    json_decref(run);
    CHECK_EQ_INT(apply_commands(), 1);
    REQUIRE((run = sync_now(NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(stat_of(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK(converged());
    CHECK_EQ_STR(gcal.problem, "");
}

static pid_t start_worker(const char *worker, const char *stale)
{
    static int started;
    char port[16];
    snprintf(port, sizeof port, "%d", 20000 + (int)((getpid() * 7 + ++started) % 20000));
    pid_t pid = fork();
    if (pid == 0) {
        FILE *out = freopen(log_path, "a", stdout);
        (void)out;
        const char *bin = getenv("BUSLINE_BIN");
        execl(bin, bin, "sync", "--google-base-url", gcal.base_url, "--registry-url", fx.dom.reg.base_url, "--pg-url",
              fx.dom.reg.pg_url, "--kafka-brokers", bl_test_kafka_brokers(), "--commands-topic", commands_topic,
              "--worker-id", worker, "--stale-after", stale, "--heartbeat", "200ms", "--idle", "100ms",
              "--page-size", "25", "--max-wait", "2s", "--metrics-port", port, "--events-topic", events_topic, "--group", name, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_run_finished(const char *run_id)
{
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    for (;;) {
        json_t *j = run_row(run_id);
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
    reset(NULL);
    char id[64];
    for (int i = 0; i < 60; i++) {
        snprintf(id, sizeof id, "k-%02d", i);
        put_event(id, "Kill test", 10 + i, "meeting", 0);
    }
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "killitem%02d", i);
        put_item(id, "Outside", 100 + i);
    }
    char run_id[40];
    int64_t applied = fixture_end_total(commands_topic, 1);
    REQUIRE(queue_run(NULL, 0, 0, run_id) == 0);
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
    json_t *j = run_row(run_id);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "status")), "running");
    json_decref(j);
    long made = (long)bl_fake_google_live(&gcal, calendar);
    CHECK(made > 20 && made < 80);
    /* a link lost after an insert is the worst case: the copy exists, the link not */
    const char *p[] = {integration_id};
    PQclear(sql("DELETE FROM integration_event_links WHERE integration_id::text = $1 AND event_id = (SELECT"
                " max(event_id) FROM integration_event_links WHERE integration_id::text = $1 AND event_id LIKE 'k-%')",
                1, p));
    pid_t b = start_worker("worker-b", "1s");
    CHECK(wait_run_finished(run_id));
    stop_worker(b);
    j = run_row(run_id);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "status")), "success");
    json_decref(j);
    CHECK_EQ_INT(bl_fake_google_live(&gcal, calendar), 80);
    CHECK_EQ_INT(count1("SELECT count(*) FROM integration_event_links WHERE integration_id::text = $1"
                        " AND removed_at IS NULL", integration_id), 80);
    /* the commands of the killed run and of the takeover are the same commands */
    json_t *list = all_commands();
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
    CHECK_EQ_INT(apply_commands(), mine);
    CHECK_EQ_INT(count1("SELECT count(*) FROM attendance_events WHERE organization_id = $1", org), 80);
    json_t *run = sync_now(NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_INT(stat_of(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK(converged());
    CHECK_EQ_STR(gcal.problem, "");
}

static long automatic_runs(const char *status)
{
    const char *p[] = {integration_id, status};
    PGresult *r = sql("SELECT count(*) FROM integration_sync_runs WHERE integration_id::text = $1"
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
    reset(NULL);
    put_event("auto-1", "Automatic", 3, "meeting", 0);
    const char *p[] = {integration_id};
    PQclear(sql("UPDATE integrations SET auto_sync = true, sync_interval_s = 2, next_sync_at = now()"
                " WHERE id::text = $1", 1, p));
    pid_t a = start_worker("auto-a", "30s");
    CHECK(wait_automatic(1));
    stop_worker(a);
    CHECK_EQ_INT(bl_fake_google_live(&gcal, calendar), 1);
    CHECK_EQ_INT(count1("SELECT count(*) FROM integrations WHERE id::text = $1 AND next_sync_at > now() - interval"
                        " '1 hour'", integration_id), 1);
    long before = automatic_runs("success");
    /* while no worker runs the timer falls due; the next worker picks it up */
    put_event("auto-2", "After the restart", 4, "meeting", 0);
    pid_t b = start_worker("auto-b", "30s");
    CHECK(wait_automatic(before + 1));
    stop_worker(b);
    CHECK_EQ_INT(bl_fake_google_live(&gcal, calendar), 2);
    PQclear(sql("UPDATE integrations SET auto_sync = false WHERE id::text = $1", 1, p));
    /* one automatic run at a time: never two active for the integration */
    CHECK_EQ_INT(count1("SELECT count(*) FROM integration_sync_runs WHERE integration_id::text = $1"
                        " AND status IN ('queued', 'running')", integration_id), 0);
    CHECK_EQ_INT(count1("SELECT count(*) FROM busline_outbox WHERE event_type = 'integration.sync_completed'", NULL) >=
                     before + 1, 1);
}

/* The domain's event about event_id of org (created or cancelled). */
static int produce_event(const char *type, const char *event_id, const char *origin_integration)
{
    json_t *origin = origin_integration ? json_pack("{s:s, s:s, s:s, s:n}", "integration_id", origin_integration,
                                                    "provider", "google_calendar", "external_id", "x",
                                                    "external_version")
                                        : json_null();
    json_t *data = !strcmp(type, "event.created")
                       ? json_pack("{s:s, s:s, s:n, s:s, s:n, s:s, s:s, s:s, s:{s:s, s:n}, s:[], s:b, s:n, s:i, s:o}",
                                   "event_id", event_id, "title", "Pushed", "description", "event_type", "meeting",
                                   "location", "starts_at", "2027-01-10T09:00:00.000Z", "ends_at",
                                   "2027-01-10T10:00:00.000Z", "timezone", "Europe/Paris", "organizer", "email",
                                   "o@example.com", "name", "attendees", "is_private", 0, "reminder_minutes", "version",
                                   1, "origin", origin)
                       : json_pack("{s:s, s:s, s:s, s:s, s:n, s:i, s:o}", "event_id", event_id, "title", "Pushed",
                                   "starts_at", "2027-01-10T09:00:00.000Z", "ends_at", "2027-01-10T10:00:00.000Z",
                                   "reason", "version", 2, "origin", origin);
    char id[64];
    static int n;
    snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", ++n);
    json_t *env = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", id, "type", type, "time",
                            "2026-12-07T08:00:00.000Z", "source", "attendance", "organization_id", org, "subject",
                            event_id, "data", data);
    int rc = env ? bl_test_produce_avro_event(fx.dom.reg.base_url, "events.attendance.event", events_topic,
                                              !strcmp(type, "event.created")
                                                  ? "busline.events.attendance.EventCreated"
                                                  : "busline.events.attendance.EventCancelled",
                                              env)
                 : -1;
    json_decref(env);
    return rc;
}

static int poll_until(bl_calsync_pusher *p, long want)
{
    long handled = 0;
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    while (handled < want && bl_clock_mono_ms() < deadline) {
        bl_err err = {0};
        int n = bl_calsync_pusher_poll(p, 200, &err);
        if (n < 0)
            fprintf(stderr, "  poll: %s\n", err.msg);
        else
            handled += n;
    }
    return handled == want;
}

static void domain_events_are_pushed_between_runs(void)
{
    reset(NULL);
    bl_calsync_worker_opts o = worker_opts();
    char group[128];
    snprintf(group, sizeof group, "%s-push", name);
    bl_calsync_pusher_opts po = {.deps = o.deps, .brokers = bl_test_kafka_brokers(), .group = group,
                                 .topic = events_topic, .registry_url = fx.dom.reg.base_url};
    bl_err err = {0};
    bl_calsync_pusher *p = bl_calsync_pusher_new(&po, &err);
    REQUIRE(p != NULL);
    put_event("push-1", "Pushed", 30, "meeting", 0);
    REQUIRE(produce_event("event.created", "push-1", NULL) == 0);
    CHECK(poll_until(p, 1));
    CHECK_EQ_INT(bl_fake_google_live(&gcal, calendar), 1);
    CHECK_EQ_INT(count1("SELECT count(*) FROM integration_event_links WHERE integration_id::text = $1"
                        " AND event_id = 'push-1' AND event_version = 1", integration_id), 1);
    /* the same event again: the link is at its version, nothing is written */
    int creates = gcal.creates, requests = gcal.requests;
    REQUIRE(produce_event("event.created", "push-1", NULL) == 0);
    CHECK(poll_until(p, 1));
    CHECK_EQ_INT(gcal.requests, requests);
    /* a change the sync itself made is not written back */
    char echo[1024];
    int64_t at = (bl_clock_wall_ms() / 60000 + 31 * 60) * 60000;
    snprintf(echo, sizeof echo,
             "{\"type\":\"event.create\",\"organization_id\":\"%%1$s\",\"data\":{\"event_id\":\"push-echo\","
             "\"title\":\"From the calendar\",\"event_type\":\"meeting\",\"starts_at\":%lld,\"ends_at\":%lld,"
             "\"timezone\":\"UTC\",\"organizer\":{\"email\":\"o@example.com\",\"name\":null},\"attendees\":[],"
             "\"is_private\":false,\"origin\":{\"integration_id\":\"%s\",\"provider\":\"google_calendar\","
             "\"external_id\":\"x\",\"external_version\":\"1\"}}}",
             (long long)at, (long long)at + 3600000, integration_id);
    REQUIRE(bl_test_domain_send(&fx.dom, echo, NULL) == 0 && bl_test_domain_run(&fx.dom, 1) == 0);
    REQUIRE(produce_event("event.created", "push-echo", integration_id) == 0);
    CHECK(poll_until(p, 1));
    CHECK_EQ_INT(gcal.creates, creates);
    /* cancelled: the copy is deleted */
    cancel_event("push-1");
    REQUIRE(produce_event("event.cancelled", "push-1", NULL) == 0);
    CHECK(poll_until(p, 1));
    CHECK_EQ_INT(bl_fake_google_live(&gcal, calendar), 0);
    bl_calsync_pusher_free(p);
    /* the next run has nothing left to do for them */
    json_t *run = sync_now("attendance_to_external", 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_INT(stat_of(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK_EQ_STR(gcal.problem, "");
}

static void cleanup_removes_the_copies_and_revokes(void)
{
    reset(NULL);
    put_event("cl-1", "Cleanup 1", 5, "meeting", 0);
    put_event("cl-2", "Cleanup 2", 6, "meeting", 0);
    put_event("cl-3", "Cleanup 3", 7, "meeting", 0);
    json_t *run = sync_now("attendance_to_external", 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_INT(stat_of(run, "eventsCreated"), 3);
    json_decref(run);
    /* one copy is deleted by a person first: the cleanup cannot count it */
    const char *p[] = {integration_id};
    PGresult *r = sql("SELECT external_id FROM integration_event_links WHERE integration_id::text = $1"
                      " AND event_id = 'cl-2'", 1, p);
    REQUIRE(r && PQntuples(r) == 1);
    bl_fake_google_cancel(&gcal, PQgetvalue(r, 0, 0));
    PQclear(r);
    int revokes = oauth.revokes;
    char run_id[40];
    REQUIRE(bl_calsync_fx_queue(&fx, "cleanup", NULL, 0, 0, run_id) == 0);
    bl_calsync_worker_opts o = worker_opts();
    bl_err err = {0};
    CHECK_EQ_INT(bl_calsync_worker_step(&o, &err), 1);
    REQUIRE((run = run_row(run_id)) != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(run, "status")), "success");
    CHECK_EQ_INT(stat_of(run, "eventsDeleted"), 2);
    CHECK_EQ_INT(stat_of(run, "eventsProcessed"), 3);
    json_decref(run);
    CHECK_EQ_INT(bl_fake_google_live(&gcal, calendar), 0);
    CHECK_EQ_INT(oauth.revokes, revokes + 1);
    CHECK_EQ_INT(count1("SELECT count(*) FROM integrations WHERE id::text = $1 AND status = 'disconnected'"
                        " AND access_token_ciphertext IS NULL", integration_id), 1);
    CHECK_EQ_INT(count1("SELECT count(*) FROM integration_event_links WHERE integration_id::text = $1"
                        " AND removed_at IS NULL", integration_id), 0);
    /* the next tests get a new connection */
    REQUIRE(bl_calsync_fx_connect(&fx) == 0);
}

static void *worker_thread(void *arg)
{
    bl_calsync_worker_opts o = worker_opts();
    bl_err err = {0};
    *(int *)arg = bl_calsync_worker_step(&o, &err);
    return NULL;
}

static void revoked_token_mid_run_is_partial_with_item_errors(void)
{
    reset(NULL);
    char id[64];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "rv-%02d", i);
        put_event(id, "Revoked", 10 + i, "meeting", 0);
    }
    char run_id[40];
    REQUIRE(queue_run("attendance_to_external", 0, 0, run_id) == 0);
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
    json_t *run = run_row(run_id);
    REQUIRE(run != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(run, "status")), "partial");
    CHECK_EQ_INT(stat_of(run, "eventsCreated"), 4);
    CHECK_EQ_INT(stat_of(run, "errors"), 6);
    json_t *errors = json_object_get(run, "errors");
    CHECK_EQ_INT(json_array_size(errors), 6);
    json_t *first = json_array_get(errors, 0);
    CHECK_EQ_STR(json_string_value(json_object_get(first, "code")), "INVALID_CREDENTIALS");
    CHECK_EQ_STR(json_string_value(json_object_get(first, "eventId")), "rv-04");
    json_decref(run);
    CHECK_EQ_INT(count1("SELECT count(*) FROM integrations WHERE id::text = $1 AND status = 'error'",
                        integration_id), 1);
}

static int setup(void)
{
    setenv("BUSLINE_LOG_LEVEL", "warn", 1);
    if (bl_calsync_fx_start(&fx, "google_calendar") != 0)
        return -1;
    bl_test_unique_name(name, sizeof name, "calsync");
    snprintf(log_path, sizeof log_path, "/tmp/%s.log", name);
    snprintf(events_topic, sizeof events_topic, "events.attendance.event-%s", name);
    const char *topics[] = {events_topic};
    return fixture_topics_create(topics, 1, 1);
}

int main(void)
{
    if (setup() == 0) {
        BL_RUN(two_way_sync_of_500_events_converges);
        BL_RUN(second_run_does_nothing);
        BL_RUN(dry_run_changes_nothing);
        BL_RUN(conflict_is_counted_and_the_later_side_wins);
        BL_RUN(expired_sync_token_resyncs_in_full_and_rate_limits_are_waited);
        BL_RUN(domain_events_are_pushed_between_runs);
        BL_RUN(kill_9_mid_run_resumes_without_duplicates);
        BL_RUN(autosync_fires_across_a_restart);
        BL_RUN(cleanup_removes_the_copies_and_revokes);
        BL_RUN(revoked_token_mid_run_is_partial_with_item_errors);
        if (bl_test_failures) {
            char cmd[400];
            snprintf(cmd, sizeof cmd, "tail -n 30 %s >&2", log_path);
            if (system(cmd) != 0)
                fprintf(stderr, "  (no worker log)\n");
        }
        const char *topics[] = {events_topic};
        fixture_topics_delete(topics, 1);
    } else {
        bl_test_failures++;
    }
    unlink(log_path);
    bl_calsync_fx_stop(&fx);
    return bl_test_summary();
}
