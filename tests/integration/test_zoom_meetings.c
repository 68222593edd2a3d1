/* Zoom meetings for Attendance-X events (connectors/zoom/auto_meetings.h,
 * attendance_pull.h) against the real attendance service in process (the
 * calendar sync fixture: real Kafka, real PostgreSQL), the OAuth store and
 * a stateful fake of Zoom API v2:
 *   - zoom_meeting_made_once_for_a_redelivered_event_and_join_url_read_back
 *   - recording_authentication_refused_is_sent_again_on_the_next_change
 *   - lost_create_answer_is_found_again_not_made_twice
 *   - cancelled_event_deletes_its_meeting
 *   - attendance_pulled_with_minimum_duration_and_paging
 *   - domain_event_through_kafka_makes_the_meeting */
#include "connectors/calendar_sync/push.h"
#include "connectors/zoom/attendance_pull.h"
#include "connectors/zoom/auto_meetings.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "tests/support/avro_event.h"
#include "tests/support/calsync_fixture.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SETTINGS                                                                                             \
    "{\"autoCreateMeetings\":true,\"filters\":{\"eventTypes\":[\"training\",\"meeting\"]},"                  \
    "\"meetingDefaults\":{\"type\":\"scheduled\",\"duration\":60,\"timezone\":\"Europe/Paris\",\"password\":true," \
    "\"waitingRoom\":true,\"joinBeforeHost\":false,\"muteUponEntry\":true,"                                  \
    "\"recordingSettings\":{\"autoRecording\":\"cloud\",\"recordingAuthentication\":true}},"                 \
    "\"attendanceTracking\":{\"enabled\":true,\"syncAttendance\":true,\"minimumDuration\":30}}"

static bl_calsync_fx fx;
static bl_fake_saas zoom;
static char zoom_id[64];
static bl_zoom_meetings zm;

static int setup(void)
{
    if (bl_calsync_fx_start(&fx, "google_calendar") != 0 || bl_fake_saas_start(&zoom, "zoom", "Bearer token-x") != 0)
        return -1;
    if (bl_calsync_fx_add_connected(&fx, "zoom", "meetings", "meeting:write", "acct", SETTINGS, "token-x",
                                    zoom_id) != 0)
        return -1;
    zm = (bl_zoom_meetings){.pool = fx.dom.reg.pool, .store = fx.store,
                            .sender = {.codec = fx.dom.codec, .producer = fx.dom.producer, .timeout_ms = 10000,
                                       .actor = "zoom-meetings"},
                            .base_url = zoom.base_url, .max_wait_ms = 200};
    return 0;
}

static void teardown(void)
{
    bl_fake_saas_stop(&zoom);
    bl_calsync_fx_stop(&fx);
}

/* An event of type starting minutes from now (negative: in the past),
 * 90 minutes long, with two attendees, through the domain's command. */
static int create_event(const char *id, const char *type, long minutes)
{
    int64_t starts = (bl_clock_wall_ms() / 60000 + minutes) * 60000;
    char fmt[2048];
    snprintf(fmt, sizeof fmt,
             "{\"type\":\"event.create\",\"organization_id\":\"%%1$s\",\"data\":{\"event_id\":\"%s\","
             "\"title\":\"Safety %s\",\"description\":\"Boots and helmets\",\"event_type\":\"%s\","
             "\"location\":\"Room 4\",\"starts_at\":%" PRId64 ",\"ends_at\":%" PRId64 ",\"timezone\":\"Europe/Paris\","
             "\"organizer\":{\"email\":\"o@example.com\",\"name\":null},\"attendees\":["
             "{\"person_id\":\"p-ann\",\"name\":\"Ann\",\"email\":\"Ann@Example.com\"},"
             "{\"person_id\":\"p-bob\",\"name\":\"Bob\",\"email\":\"bob@example.com\"},"
             "{\"person_id\":\"p-cy\",\"name\":\"Cy\",\"email\":\"cy@example.com\"}],"
             "\"is_private\":false,\"reminder_minutes\":null}}",
             id, id, type, starts, starts + 90 * 60000);
    return bl_test_domain_send(&fx.dom, fmt, NULL) == 0 && bl_calsync_fx_apply(&fx) == 1 ? 0 : -1;
}

/* The domain event of id as the consumer gets it (only what the handler reads). */
static int deliver(const char *type, const char *event_id)
{
    json_t *ev = json_pack("{s:s, s:s, s:{s:s}}", "type", type, "organization_id", fx.dom.org, "data", "event_id",
                           event_id);
    bl_err err = {0};
    int rc = bl_zoom_meetings_on_event(&zm, ev, &err);
    if (rc != 0)
        fprintf(stderr, "  on_event: %s\n", err.msg);
    json_decref(ev);
    return rc;
}

static char *event_column(const char *event_id, const char *column)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s FROM attendance_events WHERE event_id = $1", column);
    const char *p[] = {event_id};
    PGresult *r = bl_calsync_fx_sql(&fx, sql, 1, p);
    char *v = r && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) ? strdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    return v;
}

static json_t *meeting_of(const char *event_id)
{
    const char *p[] = {zoom_id, event_id};
    PGresult *r = bl_calsync_fx_sql(&fx, "SELECT meeting_id FROM attendance_zoom_meetings WHERE integration_id::text"
                                         " = $1 AND event_id = $2 AND status = 'created'", 2, p);
    json_t *m = r && PQntuples(r) == 1 ? bl_fake_saas_object(&zoom, PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    return m;
}

static void zoom_meeting_made_once_for_a_redelivered_event_and_join_url_read_back(void)
{
    REQUIRE(create_event("ev-1", "training", 24 * 60) == 0);
    int creates = zoom.creates;
    REQUIRE(deliver("event.created", "ev-1") == 0);
    CHECK_EQ_INT(zoom.creates, creates + 1);
    CHECK_EQ_STR(zoom.problem, "");
    json_t *m = meeting_of("ev-1");
    REQUIRE(m != NULL);
    /* recordingAuthentication: not in the create body, PATCHed onto the meeting's recording settings */
    char path[128];
    snprintf(path, sizeof path, "/meetings/%" JSON_INTEGER_FORMAT "/recordings/settings",
             json_integer_value(json_object_get(m, "id")));
    CHECK_EQ_STR(zoom.last_path, path);
    CHECK_EQ_STR(zoom.last_method, "PATCH");
    json_t *want = json_pack("{s:b}", "recording_authentication", 1);
    CHECK(json_equal(json_object_get(m, "recording_settings"), want));
    json_decref(want);
    CHECK(json_object_get(m, "recording_authentication") == NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "topic")), "Safety ev-1");
    CHECK_EQ_INT(json_integer_value(json_object_get(m, "type")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(m, "duration")), 90);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "timezone")), "Europe/Paris");
    CHECK_EQ_STR(json_string_value(json_object_get(m, "agenda")), "Boots and helmets");
    CHECK(json_is_true(json_object_get(m, "default_password")));
    const json_t *s = json_object_get(m, "settings");
    CHECK(json_is_true(json_object_get(s, "waiting_room")) && json_is_true(json_object_get(s, "mute_upon_entry")) &&
          json_is_false(json_object_get(s, "join_before_host")));
    CHECK_EQ_STR(json_string_value(json_object_get(s, "auto_recording")), "cloud");
    /* the join URL goes back through event.update and is read back on the event */
    CHECK_EQ_INT(bl_calsync_fx_apply(&fx), 1);
    char *url = event_column("ev-1", "meeting_url");
    CHECK_EQ_STR(url, json_string_value(json_object_get(m, "join_url")));
    free(url);
    /* redelivered (and the event.updated of the write-back): nothing new */
    int requests = zoom.requests;
    REQUIRE(deliver("event.created", "ev-1") == 0);
    REQUIRE(deliver("event.updated", "ev-1") == 0);
    CHECK_EQ_INT(zoom.creates, creates + 1);
    CHECK_EQ_INT(zoom.requests, requests);
    CHECK_EQ_INT(bl_calsync_fx_apply(&fx), 0);
    /* a retitle patches the meeting */
    REQUIRE(bl_calsync_fx_retitle_event(&fx, "ev-1", "Safety again") == 0);
    REQUIRE(deliver("event.updated", "ev-1") == 0);
    json_decref(m);
    m = meeting_of("ev-1");
    CHECK_EQ_STR(json_string_value(json_object_get(m, "topic")), "Safety again");
    CHECK_EQ_INT(zoom.creates, creates + 1);
    CHECK_EQ_STR(zoom.problem, "");
    json_decref(m);
    /* an event of a type not configured gets no meeting */
    REQUIRE(create_event("ev-conf", "conference", 24 * 60) == 0);
    REQUIRE(deliver("event.created", "ev-conf") == 0);
    CHECK_EQ_INT(zoom.creates, creates + 1);
}

static void recording_authentication_refused_is_sent_again_on_the_next_change(void)
{
    REQUIRE(create_event("ev-rec", "meeting", 24 * 60) == 0);
    REQUIRE(deliver("event.created", "ev-rec") == 0);
    CHECK_EQ_INT(bl_calsync_fx_apply(&fx), 1);
    json_t *m = meeting_of("ev-rec");
    REQUIRE(m != NULL);
    CHECK(json_is_true(json_object_get(json_object_get(m, "recording_settings"), "recording_authentication")));
    json_decref(m);
    /* switched off in the settings; Zoom refuses the first PATCH */
    json_t *settings = json_loads(SETTINGS, 0, NULL);
    json_object_set_new(json_object_get(json_object_get(settings, "meetingDefaults"), "recordingSettings"),
                        "recordingAuthentication", json_false());
    char *text = json_dumps(settings, JSON_COMPACT);
    const char *p[] = {zoom_id, text};
    PQclear(bl_calsync_fx_sql(&fx, "UPDATE integrations SET settings = $2::jsonb WHERE id::text = $1", 2, p));
    bl_fake_saas_fail_next(&zoom, 400, "Validation Failed.", NULL);
    int requests = zoom.requests;
    REQUIRE(deliver("event.updated", "ev-rec") == 0);
    CHECK_EQ_INT(zoom.requests, requests + 1);
    m = meeting_of("ev-rec");
    CHECK(json_is_true(json_object_get(json_object_get(m, "recording_settings"), "recording_authentication")));
    json_decref(m);
    /* the next change sends it again, and then nothing more is sent */
    REQUIRE(deliver("event.updated", "ev-rec") == 0);
    CHECK_EQ_INT(zoom.requests, requests + 2);
    CHECK_EQ_STR(zoom.problem, "");
    m = meeting_of("ev-rec");
    CHECK(json_is_false(json_object_get(json_object_get(m, "recording_settings"), "recording_authentication")));
    json_decref(m);
    REQUIRE(deliver("event.updated", "ev-rec") == 0);
    CHECK_EQ_INT(zoom.requests, requests + 2);
    /* back to the document's settings for the tests after */
    const char *back[] = {zoom_id, SETTINGS};
    PQclear(bl_calsync_fx_sql(&fx, "UPDATE integrations SET settings = $2::jsonb WHERE id::text = $1", 2, back));
    free(text);
    json_decref(settings);
}

static void lost_create_answer_is_found_again_not_made_twice(void)
{
    REQUIRE(create_event("ev-lost", "meeting", 48 * 60) == 0);
    int creates = zoom.creates;
    zoom.lose_create_answers = 1;
    REQUIRE(deliver("event.created", "ev-lost") == 0); /* made, answer lost: left pending */
    CHECK_EQ_INT(zoom.creates, creates + 1);
    CHECK(meeting_of("ev-lost") == NULL);
    REQUIRE(deliver("event.created", "ev-lost") == 0); /* redelivered: found among the upcoming ones */
    CHECK_EQ_INT(zoom.creates, creates + 1);
    json_t *m = meeting_of("ev-lost");
    CHECK(m != NULL);
    CHECK_EQ_INT(bl_calsync_fx_apply(&fx), 1);
    char *url = event_column("ev-lost", "meeting_url");
    CHECK(url && m && strcmp(url, json_string_value(json_object_get(m, "join_url"))) == 0);
    free(url);
    json_decref(m);
    CHECK_EQ_STR(zoom.problem, "");
}

static void cancelled_event_deletes_its_meeting(void)
{
    REQUIRE(create_event("ev-cancel", "training", 72 * 60) == 0);
    REQUIRE(deliver("event.created", "ev-cancel") == 0);
    json_t *m = meeting_of("ev-cancel");
    REQUIRE(m != NULL);
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(m, "id")));
    json_decref(m);
    CHECK_EQ_INT(bl_calsync_fx_apply(&fx), 1);
    REQUIRE(bl_calsync_fx_cancel_event(&fx, "ev-cancel") == 0);
    REQUIRE(deliver("event.cancelled", "ev-cancel") == 0);
    json_t *gone = bl_fake_saas_object(&zoom, id);
    CHECK(gone == NULL);
    json_decref(gone);
    CHECK_EQ_INT(bl_calsync_fx_count(&fx, "SELECT count(*) FROM attendance_zoom_meetings WHERE event_id ="
                                          " 'ev-cancel' AND status = 'deleted'", NULL), 1);
}

static json_t *participant(const char *name, const char *email, int seconds)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "id", "p", "name", name, "user_email", email, "join_time",
                     "2026-12-07T09:00:00Z", "leave_time", "2026-12-07T10:00:00Z", "duration", seconds);
}

static void attendance_pulled_with_minimum_duration_and_paging(void)
{
    REQUIRE(create_event("ev-past", "training", -180) == 0); /* ended 90 minutes ago */
    REQUIRE(deliver("event.created", "ev-past") == 0);
    CHECK_EQ_INT(bl_calsync_fx_apply(&fx), 1);
    json_t *m = meeting_of("ev-past");
    REQUIRE(m != NULL);
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(m, "id")));
    json_decref(m);
    /* 305 rows: two pages of 300. Ann joined twice (20 + 15 min), Bob 10 min,
     * Cy never; a walk-in 40 min; 301 guest rows of a second each */
    json_t *rows = json_array();
    json_array_append_new(rows, participant("Ann", "ann@example.com", 20 * 60));
    json_array_append_new(rows, participant("Bob", "bob@example.com", 10 * 60));
    for (int i = 0; i < 301; i++) {
        char name[32];
        snprintf(name, sizeof name, "Guest %d", i % 3);
        json_array_append_new(rows, participant(name, "", 1));
    }
    json_array_append_new(rows, participant("Dee", "dee@example.com", 40 * 60 + 59));
    json_array_append_new(rows, participant("Ann", "ANN@example.com", 15 * 60));
    bl_fake_zoom_set_participants(&zoom, id, rows);
    json_decref(rows);
    int pages = zoom.zoom_report_pages, recorded = 0;
    bl_err err = {0};
    CHECK_EQ_INT(bl_zoom_attendance_pull_due(&zm, 10, &recorded, &err), 1);
    CHECK_EQ_INT(zoom.zoom_report_pages, pages + 2);
    CHECK_EQ_STR(zoom.problem, "");
    CHECK_EQ_INT(recorded, 7); /* ann, bob, cy, dee, 3 guests */
    CHECK_EQ_INT(bl_calsync_fx_apply(&fx), 7);
    PGresult *r = bl_calsync_fx_sql(&fx, "SELECT string_agg(person_id || '=' || status || '/' ||"
                                         " COALESCE(duration_minutes::text, '-'), ',' ORDER BY person_id)"
                                         " FROM attendance_records WHERE event_id = 'ev-past'", 0, NULL);
    REQUIRE(r && PQntuples(r) == 1);
    CHECK_EQ_STR(PQgetvalue(r, 0, 0), "p-ann=PRESENT/35,p-bob=ABSENT/10,p-cy=ABSENT/0,zoom:Guest 0=ABSENT/1,"
                                      "zoom:Guest 1=ABSENT/1,zoom:Guest 2=ABSENT/1,zoom:dee@example.com=PRESENT/40");
    PQclear(r);
    /* pulled once: nothing is due any more */
    CHECK_EQ_INT(bl_zoom_attendance_pull_due(&zm, 10, &recorded, &err), 0);
    CHECK_EQ_INT(zoom.zoom_report_pages, pages + 2);
}

static void domain_event_through_kafka_makes_the_meeting(void)
{
    char name[64], topic[160], group[160];
    bl_test_unique_name(name, sizeof name, "zoomev");
    snprintf(topic, sizeof topic, "events.attendance.event-%s", name);
    snprintf(group, sizeof group, "%s-zoom", name);
    const char *topics[] = {topic};
    REQUIRE(fixture_topics_create(topics, 1, 1) == 0);
    REQUIRE(create_event("ev-kafka", "training", 96 * 60) == 0);
    bl_calsync_pusher_opts po = {.brokers = bl_test_kafka_brokers(), .group = group, .topic = topic,
                                 .registry_url = fx.dom.reg.base_url, .on_event = bl_zoom_meetings_on_event,
                                 .on_event_arg = &zm};
    bl_err err = {0};
    bl_calsync_pusher *p = bl_calsync_pusher_new(&po, &err);
    REQUIRE(p != NULL);
    json_t *env = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:n, s:s, s:n, s:s, s:s, s:s, s:{s:s, s:n},"
                            " s:[], s:b, s:n, s:n, s:i, s:n}}",
                            "id", "00000000-0000-4000-8000-00000000aa01", "type", "event.created", "time",
                            "2026-12-07T08:00:00.000Z", "source", "attendance", "organization_id", fx.dom.org,
                            "subject", "ev-kafka", "data", "event_id", "ev-kafka", "title", "Safety ev-kafka",
                            "description", "event_type", "training", "location", "starts_at",
                            "2027-01-10T09:00:00.000Z", "ends_at", "2027-01-10T10:00:00.000Z", "timezone",
                            "Europe/Paris", "organizer", "email", "o@example.com", "name", "attendees", "is_private",
                            0, "reminder_minutes", "meeting_url", "version", 1, "origin");
    REQUIRE(bl_test_produce_avro_event(fx.dom.reg.base_url, "events.attendance.event", topic,
                                       "busline.events.attendance.EventCreated", env) == 0);
    json_decref(env);
    int handled = 0;
    int64_t deadline = bl_clock_mono_ms() + 30000;
    while (handled < 1 && bl_clock_mono_ms() < deadline) {
        int n = bl_calsync_pusher_poll(p, 200, &err);
        handled += n > 0 ? n : 0;
    }
    CHECK_EQ_INT(handled, 1);
    json_t *m = meeting_of("ev-kafka");
    CHECK(m != NULL);
    json_decref(m);
    bl_calsync_pusher_free(p);
    fixture_topics_delete(topics, 1);
}

int main(void)
{
    if (setup() == 0) {
        BL_RUN(zoom_meeting_made_once_for_a_redelivered_event_and_join_url_read_back);
        BL_RUN(recording_authentication_refused_is_sent_again_on_the_next_change);
        BL_RUN(lost_create_answer_is_found_again_not_made_twice);
        BL_RUN(cancelled_event_deletes_its_meeting);
        BL_RUN(attendance_pulled_with_minimum_duration_and_paging);
        BL_RUN(domain_event_through_kafka_makes_the_meeting);
    } else {
        bl_test_failures++;
    }
    teardown();
    return bl_test_summary();
}
