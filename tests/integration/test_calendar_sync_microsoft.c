/* The calendar sync (connectors/calendar_sync) with Microsoft 365: the
 * Graph provider (graph_sync.c) against the stateful fake Graph
 * (tests/support/fake_graph.c, fake_graph_calendar.c: calendarView delta
 * with nextLink / deltaLink, @removed, 410 SyncStateNotFound, Teams
 * meetings), the real OAuth store, and the real attendance domain service
 * (producers/attendance) applying what the sync sends, so an Outlook change
 * ends as an attendance event in PostgreSQL and a copy is made from one.
 *
 *   - microsoft_first_sync_copies_both_ways: Outlook items become
 *     attendance events, attendance events Outlook copies, over several
 *     delta pages; the echo changes nothing;
 *   - copies_are_teams_meetings_with_the_outlook_settings;
 *   - incremental_sync_reads_only_the_delta_link;
 *   - deletions_go_both_ways (@removed -> event.cancel; a cancelled event
 *     -> DELETE);
 *   - microsoft_conflict_is_counted_and_the_later_side_wins;
 *   - expired_delta_token_resyncs_in_full_and_throttling_is_waited (410,
 *     429 with Retry-After);
 *   - domain_change_is_pushed_to_outlook;
 *   - microsoft_cleanup_removes_the_copies. */
#include "connectors/calendar_sync/push.h"
#include "core/clock.h"
#include "core/time_format.h"
#include "tests/support/calsync_fixture.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PREFIX "[AX] "

static bl_calsync_fx fx;
static char calendar[32];

static void reset(const char *cal)
{
    snprintf(calendar, sizeof calendar, "%s", cal);
    char settings[1024];
    snprintf(settings, sizeof settings,
             "{\"calendarId\":\"%s\",\"eventMapping\":{\"titlePrefix\":\"" PREFIX "\",\"includeDescription\":true,"
             "\"includeLocation\":true},\"teamsIntegration\":{\"enabled\":true,\"autoCreateMeetings\":true,"
             "\"defaultMeetingSettings\":{\"allowAnonymous\":false,\"recordAutomatically\":true,"
             "\"allowTranscription\":false}},\"outlookSettings\":{\"categoryColor\":\"blue\",\"importance\":\"high\","
             "\"showAs\":\"busy\"}}",
             cal);
    bl_calsync_fx_reset(&fx, settings);
}

/* A person's Outlook event, hours from now (UTC wall times, as Graph answers). */
static void put_item(const char *id, const char *subject, int hours)
{
    char s[40], e[40];
    int64_t base = (bl_clock_wall_ms() / 3600000 + hours) * 3600000;
    bl_rfc3339_format_millis(base, s, sizeof s);
    bl_rfc3339_format_millis(base + 3600000, e, sizeof e);
    s[strlen(s) - 1] = e[strlen(e) - 1] = '\0';
    json_t *ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:s}", "id", id, "subject", subject, "start",
                           "dateTime", s, "timeZone", "UTC", "end", "dateTime", e, "timeZone", "UTC",
                           "originalStartTimeZone", "W. Europe Standard Time", "sensitivity", "normal");
    bl_fake_graph_put(&fx.cal, calendar, ev);
    json_decref(ev);
}

static const char *status_of(const json_t *run)
{
    return json_string_value(json_object_get(run, "status"));
}

/* The Outlook copy of an attendance event (its link), or "". */
static void copy_of(const char *event_id, char out[256])
{
    const char *p[] = {fx.integration_id, event_id};
    PGresult *r = bl_calsync_fx_sql(&fx, "SELECT external_id FROM integration_event_links WHERE integration_id::text"
                                         " = $1 AND event_id = $2 AND removed_at IS NULL", 2, p);
    snprintf(out, 256, "%s", r && PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
}

/* The attendance event an Outlook item became, or "". */
static void event_of(const char *external_id, char out[64])
{
    const char *p[] = {fx.integration_id, external_id};
    PGresult *r = bl_calsync_fx_sql(&fx, "SELECT event_id FROM integration_event_links WHERE integration_id::text"
                                         " = $1 AND external_id = $2", 2, p);
    snprintf(out, 64, "%s", r && PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
}

static void title_of_event(const char *event_id, char out[256])
{
    const char *p[] = {fx.dom.org, event_id};
    PGresult *r = bl_calsync_fx_sql(&fx, "SELECT title || '/' || status FROM attendance_events WHERE"
                                         " organization_id = $1 AND event_id = $2", 2, p);
    snprintf(out, 256, "%s", r && PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
}

/* Every scheduled attendance event has one live Outlook copy with its
 * title, and Outlook holds nothing else. */
static int converged(void)
{
    const char *p[] = {fx.dom.org, fx.integration_id};
    PGresult *r = bl_calsync_fx_sql(&fx, "SELECT e.event_id, e.title, l.external_id FROM attendance_events e LEFT"
                                         " JOIN integration_event_links l ON l.event_id = e.event_id AND"
                                         " l.integration_id::text = $2 AND l.removed_at IS NULL WHERE"
                                         " e.organization_id = $1 AND e.status = 'scheduled'", 2, p);
    if (!r)
        return 0;
    int ok = 1;
    for (int i = 0; i < PQntuples(r) && ok; i++) {
        json_t *item = PQgetisnull(r, i, 2) ? NULL : bl_fake_saas_object(&fx.cal, PQgetvalue(r, i, 2));
        char want[600];
        snprintf(want, sizeof want, PREFIX "%s", PQgetvalue(r, i, 1));
        const char *subject = json_string_value(json_object_get(item, "subject"));
        if (!subject || (strcmp(subject, want) && strcmp(subject, PQgetvalue(r, i, 1)))) {
            fprintf(stderr, "  not converged: %s \"%s\" -> \"%s\"\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                    subject ? subject : "(no copy)");
            ok = 0;
        }
        json_decref(item);
    }
    size_t live = bl_fake_graph_live(&fx.cal, calendar);
    if ((long)live != PQntuples(r)) {
        fprintf(stderr, "  not converged: %zu Outlook events, %d scheduled events\n", live, PQntuples(r));
        ok = 0;
    }
    PQclear(r);
    return ok;
}

static long scheduled(void)
{
    return bl_calsync_fx_count(&fx, "SELECT count(*) FROM attendance_events WHERE organization_id = $1"
                                    " AND status = 'scheduled'", fx.dom.org);
}

static void microsoft_first_sync_copies_both_ways(void)
{
    reset("primary");
    char id[64], title[64];
    for (int i = 0; i < 12; i++) {
        snprintf(id, sizeof id, "ms-%02d", i);
        snprintf(title, sizeof title, "Training %d", i);
        REQUIRE(bl_calsync_fx_create_event(&fx, id, title, 24 + i, "training", 0) == 0);
    }
    for (int i = 0; i < 9; i++) {
        snprintf(id, sizeof id, "AAMkPerson%02d", i);
        snprintf(title, sizeof title, "Dentist %d", i);
        put_item(id, title, 30 + i);
    }
    fx.cal.graph_page_size = 4; /* 9 items: three delta pages */
    int deltas = fx.cal.graph_deltas;
    json_t *run = bl_calsync_fx_sync(&fx, NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_STR(status_of(run), "success");
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsCreated"), 21);
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "errors"), 0);
    json_decref(run);
    CHECK_EQ_INT(fx.cal.graph_deltas - deltas, 3);
    CHECK_EQ_STR(fx.cal.problem, "");
    /* the real domain applies the nine event.create commands */
    CHECK_EQ_INT(bl_calsync_fx_apply(&fx), 9);
    CHECK_EQ_INT(scheduled(), 21);
    char ev[64], t[256];
    event_of("AAMkPerson03", ev);
    title_of_event(ev, t);
    CHECK_EQ_STR(t, "Dentist 3/scheduled");
    /* the copies read back through the delta link are our own: nothing is written */
    int creates = fx.cal.creates, requests = fx.cal.requests;
    REQUIRE((run = bl_calsync_fx_sync(&fx, NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK_EQ_INT(fx.cal.creates, creates);
    CHECK(fx.cal.requests - requests >= 1);
    REQUIRE((run = bl_calsync_fx_sync(&fx, NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK(converged());
    CHECK_EQ_STR(fx.cal.problem, "");
}

static void copies_are_teams_meetings_with_the_outlook_settings(void)
{
    char copy[256];
    copy_of("ms-05", copy);
    REQUIRE(copy[0] != '\0');
    json_t *ev = bl_fake_saas_object(&fx.cal, copy);
    REQUIRE(ev != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(ev, "subject")), PREFIX "Training 5");
    CHECK(json_is_true(json_object_get(ev, "isOnlineMeeting")));
    CHECK_EQ_STR(json_string_value(json_object_get(ev, "onlineMeetingProvider")), "teamsForBusiness");
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(ev, "categories"), 0)), "Blue category");
    CHECK_EQ_STR(json_string_value(json_object_get(ev, "importance")), "high");
    CHECK_EQ_STR(json_string_value(json_object_get(ev, "showAs")), "busy");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(ev, "location"), "displayName")), "Room 4");
    CHECK_EQ_INT(json_integer_value(json_object_get(ev, "reminderMinutesBeforeStart")), 15);
    char txn[160];
    snprintf(txn, sizeof txn, "busline/%s/ms-05", fx.integration_id);
    CHECK_EQ_STR(json_string_value(json_object_get(ev, "transactionId")), txn);
    json_decref(ev);
    /* the meeting's options are the integration's defaultMeetingSettings */
    json_t *m = bl_fake_graph_meeting_of(&fx.cal, copy);
    REQUIRE(m != NULL);
    CHECK(json_is_true(json_object_get(m, "recordAutomatically")));
    CHECK(json_is_false(json_object_get(m, "allowTranscription")));
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(m, "lobbyBypassSettings"), "scope")),
                 "organization");
    json_decref(m);
    /* Outlook items brought in are not made meetings: they are not our copies */
    json_t *person = bl_fake_saas_object(&fx.cal, "AAMkPerson01");
    CHECK(!json_object_get(person, "isOnlineMeeting"));
    json_decref(person);
}

static void incremental_sync_reads_only_the_delta_link(void)
{
    put_item("AAMkPerson01", "Dentist 1 (moved)", 50);
    put_item("AAMkPerson02", "Dentist 2 (moved)", 51);
    put_item("AAMkPersonNew", "Lunch", 52);
    REQUIRE(bl_calsync_fx_retitle_event(&fx, "ms-07", "Training 7 (renamed)") == 0);
    int deltas = fx.cal.graph_deltas, requests = fx.cal.requests;
    json_t *run = bl_calsync_fx_sync(&fx, NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_STR(status_of(run), "success");
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsCreated"), 1);
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsUpdated"), 3);
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsProcessed"), 4);
    json_decref(run);
    /* one delta call from the stored deltaLink, one PATCH of the renamed copy */
    CHECK_EQ_INT(fx.cal.graph_deltas - deltas, 1);
    CHECK_EQ_INT(fx.cal.requests - requests, 2);
    CHECK_EQ_INT(bl_calsync_fx_apply(&fx), 3);
    char ev[64], t[256];
    event_of("AAMkPerson02", ev);
    title_of_event(ev, t);
    CHECK_EQ_STR(t, "Dentist 2 (moved)/scheduled");
    const char *p[] = {fx.integration_id};
    PGresult *r = bl_calsync_fx_sql(&fx, "SELECT cursor FROM integration_sync_cursors WHERE integration_id::text = $1",
                                    1, p);
    CHECK(r && PQntuples(r) == 1 && strstr(PQgetvalue(r, 0, 0), "$deltatoken="));
    PQclear(r);
    REQUIRE((run = bl_calsync_fx_sync(&fx, NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK(converged());
}

static void deletions_go_both_ways(void)
{
    char ev[64], copy[256], t[256];
    event_of("AAMkPerson04", ev);
    REQUIRE(bl_fake_graph_remove(&fx.cal, "AAMkPerson04") == 0);
    copy_of("ms-08", copy);
    REQUIRE(bl_calsync_fx_cancel_event(&fx, "ms-08") == 0);
    json_t *run = bl_calsync_fx_sync(&fx, NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_STR(status_of(run), "success");
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsDeleted"), 2);
    json_decref(run);
    CHECK_EQ_INT(bl_calsync_fx_apply(&fx), 1);
    title_of_event(ev, t);
    CHECK_EQ_STR(t, "Dentist 4/cancelled");
    json_t *gone = bl_fake_saas_object(&fx.cal, copy);
    CHECK(gone == NULL);
    json_decref(gone);
    REQUIRE((run = bl_calsync_fx_sync(&fx, NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK(converged());
}

static void microsoft_conflict_is_counted_and_the_later_side_wins(void)
{
    /* ms-09: Outlook changed first, Attendance-X after it -> Attendance-X wins */
    char copy[256];
    copy_of("ms-09", copy);
    REQUIRE(copy[0] != '\0');
    json_t *patch = json_pack("{s:s, s:s}", "id", copy, "subject", PREFIX "Changed in Outlook");
    bl_fake_graph_put(&fx.cal, calendar, patch);
    json_decref(patch);
    usleep(20000);
    REQUIRE(bl_calsync_fx_retitle_event(&fx, "ms-09", "Changed in Attendance-X") == 0);
    /* AAMkPerson05: Attendance-X changed first, Outlook after it -> Outlook wins */
    char ev[64], t[256];
    event_of("AAMkPerson05", ev);
    REQUIRE(bl_calsync_fx_retitle_event(&fx, ev, "Dentist changed in Attendance-X") == 0);
    usleep(20000);
    put_item("AAMkPerson05", "Dentist changed in Outlook", 35);
    json_t *run = bl_calsync_fx_sync(&fx, NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(run, "conflicts")), 2);
    json_decref(run);
    CHECK_EQ_INT(bl_calsync_fx_apply(&fx), 1);
    json_t *item = bl_fake_saas_object(&fx.cal, copy);
    CHECK_EQ_STR(json_string_value(json_object_get(item, "subject")), PREFIX "Changed in Attendance-X");
    json_decref(item);
    title_of_event(ev, t);
    CHECK_EQ_STR(t, "Dentist changed in Outlook/scheduled");
    REQUIRE((run = bl_calsync_fx_sync(&fx, NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK(converged());
}

static void expired_delta_token_resyncs_in_full_and_throttling_is_waited(void)
{
    char ev[64], t[256];
    event_of("AAMkPerson06", ev);
    REQUIRE(bl_fake_graph_remove(&fx.cal, "AAMkPerson06") == 0); /* found by the full listing */
    bl_fake_saas_expire_tokens(&fx.cal);
    bl_fake_saas_fail_next(&fx.cal, 429, "Application is over its MailboxConcurrency limit.", "1");
    int deltas = fx.cal.graph_deltas;
    json_t *run = bl_calsync_fx_sync(&fx, NULL, 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_STR(status_of(run), "success");
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsDeleted"), 1);
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsCreated"), 0);
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "errors"), 0);
    json_decref(run);
    /* the 410, then the full round from a new window: more than one delta call */
    CHECK(fx.cal.graph_deltas - deltas >= 3);
    CHECK_EQ_INT(bl_calsync_fx_apply(&fx), 1);
    title_of_event(ev, t);
    CHECK_EQ_STR(t, "Dentist 6/cancelled");
    REQUIRE((run = bl_calsync_fx_sync(&fx, NULL, 0, 0)) != NULL);
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsProcessed"), 0);
    json_decref(run);
    CHECK(converged());
    CHECK_EQ_STR(fx.cal.problem, "");
}

static void domain_change_is_pushed_to_outlook(void)
{
    reset("calpush");
    REQUIRE(bl_calsync_fx_create_event(&fx, "push-1", "Pushed", 30, "meeting", 0) == 0);
    bl_calsync_worker_opts o = bl_calsync_fx_worker_opts(&fx);
    bl_err err = {0};
    int writes = -1;
    /* what the pusher does for the domain's event.created of push-1 */
    CHECK_EQ_INT(bl_calsync_push_event(&o.deps, fx.dom.org, "push-1", &writes, &err), 0);
    CHECK_EQ_INT(writes, 1);
    CHECK_EQ_INT(bl_fake_graph_live(&fx.cal, calendar), 1);
    CHECK_EQ_INT(bl_calsync_push_event(&o.deps, fx.dom.org, "push-1", &writes, &err), 0);
    CHECK_EQ_INT(writes, 0);
    REQUIRE(bl_calsync_fx_cancel_event(&fx, "push-1") == 0);
    CHECK_EQ_INT(bl_calsync_push_event(&o.deps, fx.dom.org, "push-1", &writes, &err), 0);
    CHECK_EQ_INT(writes, 1);
    CHECK_EQ_INT(bl_fake_graph_live(&fx.cal, calendar), 0);
    CHECK_EQ_STR(fx.cal.problem, "");
}

static void microsoft_cleanup_removes_the_copies(void)
{
    reset("calclean");
    REQUIRE(bl_calsync_fx_create_event(&fx, "cl-1", "Cleanup 1", 5, "meeting", 0) == 0);
    REQUIRE(bl_calsync_fx_create_event(&fx, "cl-2", "Cleanup 2", 6, "meeting", 0) == 0);
    REQUIRE(bl_calsync_fx_create_event(&fx, "cl-3", "Cleanup 3", 7, "meeting", 0) == 0);
    json_t *run = bl_calsync_fx_sync(&fx, "attendance_to_external", 0, 0);
    REQUIRE(run != NULL);
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsCreated"), 3);
    json_decref(run);
    CHECK_EQ_INT(bl_fake_graph_live(&fx.cal, calendar), 3);
    char copy[256];
    copy_of("cl-2", copy);
    REQUIRE(bl_fake_graph_remove(&fx.cal, copy) == 0); /* a person deleted it first: not counted */
    char run_id[40];
    REQUIRE(bl_calsync_fx_queue(&fx, "cleanup", NULL, 0, 0, run_id) == 0);
    bl_calsync_worker_opts o = bl_calsync_fx_worker_opts(&fx);
    bl_err err = {0};
    CHECK_EQ_INT(bl_calsync_worker_step(&o, &err), 1);
    REQUIRE((run = bl_calsync_fx_run_row(&fx, run_id)) != NULL);
    CHECK_EQ_STR(status_of(run), "success");
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsDeleted"), 2);
    CHECK_EQ_INT(bl_calsync_fx_stat(run, "eventsProcessed"), 3);
    json_decref(run);
    CHECK_EQ_INT(bl_fake_graph_live(&fx.cal, calendar), 0);
    CHECK_EQ_INT(bl_calsync_fx_count(&fx, "SELECT count(*) FROM integrations WHERE id::text = $1 AND status ="
                                          " 'disconnected' AND access_token_ciphertext IS NULL", fx.integration_id),
                 1);
    CHECK_EQ_STR(fx.cal.problem, "");
}

int main(void)
{
    setenv("BUSLINE_LOG_LEVEL", "warn", 1);
    if (bl_calsync_fx_start(&fx, "microsoft_365") == 0) {
        BL_RUN(microsoft_first_sync_copies_both_ways);
        BL_RUN(copies_are_teams_meetings_with_the_outlook_settings);
        BL_RUN(incremental_sync_reads_only_the_delta_link);
        BL_RUN(deletions_go_both_ways);
        BL_RUN(microsoft_conflict_is_counted_and_the_later_side_wins);
        BL_RUN(expired_delta_token_resyncs_in_full_and_throttling_is_waited);
        BL_RUN(domain_change_is_pushed_to_outlook);
        BL_RUN(microsoft_cleanup_removes_the_copies);
    } else {
        bl_test_failures++;
    }
    bl_calsync_fx_stop(&fx);
    return bl_test_summary();
}
