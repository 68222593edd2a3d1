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
 *     writing nothing.
 *
 * Runs by worker processes, cleanup and a revoked token:
 * test_calendar_sync_runs.c. */
#include "connectors/calendar_sync/push.h"
#include "connectors/calendar_sync/worker.h"
#include "core/clock.h"
#include "core/time_format.h"
#include "tests/support/avro_event.h"
#include "tests/support/calsync_google_fixture.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void two_way_sync_of_500_events_converges(void)
{
    gsync_reset(NULL);
    char id[64], title[64];
    for (int i = 0; i < 250; i++) {
        snprintf(id, sizeof id, "ev-%03d", i);
        snprintf(title, sizeof title, "Training %d", i);
        gsync_put_event(id, title, 24 + i, "training", 0);
        snprintf(id, sizeof id, "person%03d", i);
        snprintf(title, sizeof title, "Dentist %d", i);
        gsync_put_item(id, title, 30 + i);
    }
    json_t *run = gsync_sync_now(NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(run, "status")), "success");
    CHECK_EQ_INT(gsync_stat_of(run, "eventsCreated"), 500);
    CHECK_EQ_INT(gsync_stat_of(run, "errors"), 0);
    json_decref(run);
    CHECK_EQ_INT(gsync_apply_commands(), 250);
    CHECK_EQ_STR(gcal.problem, "");
    /* the echoes of the 250 commands come back; nothing is written for them */
    int creates = gcal.creates;
    REQUIRE((run = gsync_sync_now(NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsProcessed"), 0);
    CHECK_EQ_INT(gcal.creates, creates);
    json_decref(run);
    CHECK(gsync_converged());
    /* changes on both sides: 20 updates and 10 deletions each, 5 new each */
    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "ev-%03d", i);
        snprintf(title, sizeof title, "Training %d (moved)", i);
        gsync_change_event(id, title);
        snprintf(id, sizeof id, "person%03d", i);
        snprintf(title, sizeof title, "Dentist %d (moved)", i);
        gsync_put_item(id, title, 30 + i);
    }
    for (int i = 20; i < 30; i++) {
        snprintf(id, sizeof id, "ev-%03d", i);
        gsync_cancel_event(id);
        snprintf(id, sizeof id, "person%03d", i);
        bl_fake_google_cancel(&gcal, id);
    }
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "ev-new-%d", i);
        gsync_put_event(id, "Workshop", 10 + i, "workshop", 0);
        snprintf(id, sizeof id, "newperson%d", i);
        gsync_put_item(id, "Lunch", 12 + i);
    }
    REQUIRE((run = gsync_sync_now(NULL, 0, 0)) != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(run, "status")), "success");
    CHECK_EQ_INT(gsync_stat_of(run, "eventsCreated"), 10);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsUpdated"), 40);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsDeleted"), 20);
    CHECK_EQ_INT(json_integer_value(json_object_get(run, "conflicts")), 0);
    json_decref(run);
    CHECK_EQ_INT(gsync_apply_commands(), 35);
    REQUIRE((run = gsync_sync_now(NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK(gsync_converged());
    CHECK_EQ_INT(gsync_count1("SELECT count(*) FROM attendance_events WHERE organization_id = $1 AND status = 'scheduled'",
                        org), 490);
    CHECK_EQ_STR(gcal.problem, "");
}

static void second_run_does_nothing(void)
{
    int requests = gcal.requests, lists = gcal.gcal_lists;
    int64_t commands = fixture_end_total(commands_topic, 1);
    json_t *run = gsync_sync_now(NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(run, "status")), "success");
    static const char *const keys[] = {"eventsProcessed", "eventsCreated", "eventsUpdated", "eventsDeleted", "errors"};
    for (size_t i = 0; i < 5; i++)
        CHECK_EQ_INT(gsync_stat_of(run, keys[i]), 0);
    json_decref(run);
    CHECK_EQ_INT(gcal.requests - requests, gcal.gcal_lists - lists); /* only the incremental list */
    CHECK_EQ_INT(fixture_end_total(commands_topic, 1), commands);
}

static void dry_run_changes_nothing(void)
{
    gsync_change_event("ev-100", "Training 100 (dry)");
    gsync_put_event("ev-dry", "Dry one", 5, "meeting", 0);
    gsync_put_item("person100", "Dentist 100 (dry)", 130);
    gsync_put_item("dryperson", "Dry lunch", 6);
    const char *p[] = {integration_id};
    PGresult *before = gsync_sql("SELECT cursor FROM integration_sync_cursors WHERE integration_id::text = $1", 1, p);
    long links =
        gsync_count1("SELECT count(*) FROM integration_event_links WHERE integration_id::text = $1", integration_id);
    int creates = gcal.creates;
    int64_t commands = fixture_end_total(commands_topic, 1);
    json_t *item = bl_fake_google_event(&gcal, "person100");
    json_t *run = gsync_sync_now(NULL, 1, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(run, "status")), "success");
    CHECK_EQ_INT(gsync_stat_of(run, "eventsCreated"), 2);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsUpdated"), 2);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsProcessed"), 4);
    json_decref(run);
    CHECK_EQ_INT(gcal.creates, creates);
    CHECK_EQ_INT(fixture_end_total(commands_topic, 1), commands);
    CHECK_EQ_INT(gsync_count1("SELECT count(*) FROM integration_event_links WHERE integration_id::text = $1",
                        integration_id), links);
    PGresult *after = gsync_sql("SELECT cursor FROM integration_sync_cursors WHERE integration_id::text = $1", 1, p);
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
    REQUIRE((run = gsync_sync_now(NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsCreated"), 2);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsUpdated"), 2);
    json_decref(run);
    CHECK_EQ_INT(gsync_apply_commands(), 2);
}

static void conflict_is_counted_and_the_later_side_wins(void)
{
    /* ev-101: Attendance-X changed after the calendar -> Attendance-X wins */
    const char *p[] = {integration_id, "ev-101"};
    PGresult *r = gsync_sql("SELECT external_id FROM integration_event_links WHERE integration_id::text = $1"
                      " AND event_id = $2", 2, p);
    REQUIRE(r && PQntuples(r) == 1);
    char copy[64];
    snprintf(copy, sizeof copy, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    json_t *patch = json_pack("{s:s, s:s}", "id", copy, "summary", PREFIX "Changed in the calendar");
    bl_fake_google_put(&gcal, gsync.calendar, patch);
    json_decref(patch);
    usleep(20000);
    gsync_change_event("ev-101", "Changed in Attendance-X");
    /* person101: the calendar changed after Attendance-X -> the calendar wins */
    char ext_event[64];
    const char *q[] = {integration_id, "person101"};
    r = gsync_sql("SELECT event_id FROM integration_event_links WHERE integration_id::text = $1 AND external_id = $2",
                  2, q);
    REQUIRE(r && PQntuples(r) == 1);
    snprintf(ext_event, sizeof ext_event, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    gsync_change_event(ext_event, "Dentist changed in Attendance-X");
    usleep(20000);
    gsync_put_item("person101", "Dentist changed in the calendar", 131);
    json_t *run = gsync_sync_now(NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(run, "conflicts")), 2);
    json_decref(run);
    CHECK_EQ_INT(gsync_apply_commands(), 1);
    json_t *item = bl_fake_google_event(&gcal, copy);
    CHECK_EQ_STR(json_string_value(json_object_get(item, "summary")), PREFIX "Changed in Attendance-X");
    json_decref(item);
    const char *e[] = {org, ext_event};
    r = gsync_sql("SELECT title FROM attendance_events WHERE organization_id = $1 AND event_id = $2", 2, e);
    CHECK(r && PQntuples(r) == 1);
    if (r && PQntuples(r) == 1)
        CHECK_EQ_STR(PQgetvalue(r, 0, 0), "Dentist changed in the calendar");
    PQclear(r);
    REQUIRE((run = gsync_sync_now(NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK(gsync_converged());
}

static void expired_sync_token_resyncs_in_full_and_rate_limits_are_waited(void)
{
    bl_fake_google_cancel(&gcal, "person102"); /* deleted while the token expires: found by the full list */
    bl_fake_google_expire_tokens(&gcal);
    bl_fake_saas_fail_next(&gcal, 429, NULL, "1");
    bl_fake_saas_fail_next(&gcal, 403, "Rate Limit Exceeded", NULL);
    json_t *run = gsync_sync_now(NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(run, "status")), "success");
    CHECK_EQ_INT(gsync_stat_of(run, "eventsDeleted"), 1);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsCreated"), 0);
    json_decref(run);
    CHECK_EQ_INT(gsync_apply_commands(), 1);
    REQUIRE((run = gsync_sync_now(NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK(gsync_converged());
    CHECK_EQ_STR(gcal.problem, "");
}


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
    int rc = env ? bl_test_produce_avro_event(gsync.fx.dom.reg.base_url, "events.attendance.event", gsync.events_topic,
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
    gsync_reset(NULL);
    bl_calsync_worker_opts o = gsync_worker_opts();
    char group[128];
    snprintf(group, sizeof group, "%s-push", gsync.name);
    bl_calsync_pusher_opts po = {.deps = o.deps, .brokers = bl_test_kafka_brokers(), .group = group,
                                 .topic = gsync.events_topic, .registry_url = gsync.fx.dom.reg.base_url};
    bl_err err = {0};
    bl_calsync_pusher *p = bl_calsync_pusher_new(&po, &err);
    REQUIRE(p != NULL);
    gsync_put_event("push-1", "Pushed", 30, "meeting", 0);
    REQUIRE(produce_event("event.created", "push-1", NULL) == 0);
    CHECK(poll_until(p, 1));
    CHECK_EQ_INT(bl_fake_google_live(&gcal, gsync.calendar), 1);
    CHECK_EQ_INT(gsync_count1("SELECT count(*) FROM integration_event_links WHERE integration_id::text = $1"
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
    REQUIRE(bl_test_domain_send(&gsync.fx.dom, echo, NULL) == 0 && bl_test_domain_run(&gsync.fx.dom, 1) == 0);
    REQUIRE(produce_event("event.created", "push-echo", integration_id) == 0);
    CHECK(poll_until(p, 1));
    CHECK_EQ_INT(gcal.creates, creates);
    /* cancelled: the copy is deleted */
    gsync_cancel_event("push-1");
    REQUIRE(produce_event("event.cancelled", "push-1", NULL) == 0);
    CHECK(poll_until(p, 1));
    CHECK_EQ_INT(bl_fake_google_live(&gcal, gsync.calendar), 0);
    bl_calsync_pusher_free(p);
    /* the next run has nothing left to do for them */
    json_t *run = gsync_sync_now("attendance_to_external", 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_INT(gsync_stat_of(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK_EQ_STR(gcal.problem, "");
}

int main(void)
{
    if (gsync_setup() == 0) {
        BL_RUN(two_way_sync_of_500_events_converges);
        BL_RUN(second_run_does_nothing);
        BL_RUN(dry_run_changes_nothing);
        BL_RUN(conflict_is_counted_and_the_later_side_wins);
        BL_RUN(expired_sync_token_resyncs_in_full_and_rate_limits_are_waited);
        BL_RUN(domain_events_are_pushed_between_runs);
    } else {
        bl_test_failures++;
    }
    gsync_teardown();
    return bl_test_summary();
}
