/* Slack notices of Attendance-X (connectors/slack/notices.h) against the
 * real attendance service in process (real Kafka, real PostgreSQL), the
 * OAuth store and the fake Slack Web API:
 *   - reminder_goes_to_the_default_channel_rendered_with_mentions_once
 *   - low_attendance_alert_goes_to_the_alerts_channel_once_after_the_end
 *   - notices_switched_off_are_not_posted
 *   - notices_go_to_the_incoming_webhook_without_a_bot_token
 *   - webhook_url_on_a_private_address_is_refused_by_the_ssrf_guard */
#include "connectors/slack/notices.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "tests/support/calsync_fixture.h"
#include "tests/support/fake_slack.h"
#include "tests/support/test.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SETTINGS                                                                                              \
    "{\"channels\":{\"default\":\"#general\",\"alerts\":\"#attendance-alerts\",\"reports\":\"#reports\"},"    \
    "\"messageTemplates\":{\"eventReminder\":\"\xF0\x9F\x93\x85 Rappel: {eventName} commence dans {timeUntil}\"," \
    "\"attendanceAlert\":\"\xE2\x9A\xA0\xEF\xB8\x8F Faible taux de pr\xC3\xA9sence pour {eventName}: {attendanceRate}%\"," \
    "\"weeklyReport\":\"Rapport\"},"                                                                          \
    "\"userMentions\":{\"enabled\":true,\"mentionManagers\":true,\"mentionOrganizers\":true}}"

static bl_calsync_fx fx;
static fake_slack *slack;
static char slack_id[64];
static bl_slack_notices sn;
static bl_ssrf_allowlist loopback;
static char hook_id[64];

static int setup(void)
{
    static const char *const channels[] = {"#general", "#attendance-alerts", "#reports", NULL};
    if (bl_calsync_fx_start(&fx, "google_calendar") != 0 ||
        !(slack = fake_slack_start("xoxb-1", channels, "/services/T0/B0/X")))
        return -1;
    fake_slack_add_user(slack, "o@example.com", "UORGANIZER");
    fake_slack_add_user(slack, "mgr@example.com", "UMANAGER");
    if (bl_calsync_fx_add_connected(&fx, "slack", "communication", "chat:write", "ws", SETTINGS, "xoxb-1",
                                    slack_id) != 0)
        return -1;
    /* a manager of the organization, and a reader who is not mentioned */
    const char *p[] = {fx.dom.org};
    PQclear(bl_calsync_fx_sql(&fx, "INSERT INTO api_users (organization_id, email, password_hash, role) VALUES"
                                   " ($1::uuid, 'mgr@example.com', 'x', 'manager'),"
                                   " ($1::uuid, 'tech@example.com', 'x', 'technicien')", 1, p));
    bl_err err = {0};
    if (bl_ssrf_allowlist_parse("127.0.0.0/8", &loopback, &err) != 0)
        return -1;
    sn = (bl_slack_notices){.pool = fx.dom.reg.pool, .store = fx.store, .base_url = NULL, .max_wait_ms = 200,
                            .allow = &loopback};
    static char base[96];
    snprintf(base, sizeof base, "%s/api", fake_slack_url(slack));
    sn.base_url = base;
    return 0;
}

static void teardown(void)
{
    fake_slack_stop(slack);
    bl_calsync_fx_stop(&fx);
}

static int deliver(const char *id, const char *type, json_t *data)
{
    json_t *ev = json_pack("{s:s, s:s, s:s, s:o}", "id", id, "type", type, "organization_id", fx.dom.org, "data",
                           data);
    bl_err err = {0};
    int rc = bl_slack_notices_on_event(&sn, ev, &err);
    if (rc != 0)
        fprintf(stderr, "  on_event: %s\n", err.msg);
    json_decref(ev);
    return rc;
}

static json_t *last_message(void)
{
    size_t n = fake_slack_message_count(slack);
    return n ? fake_slack_message(slack, n - 1) : NULL;
}

static void reminder_goes_to_the_default_channel_rendered_with_mentions_once(void)
{
    REQUIRE(bl_calsync_fx_create_event(&fx, "ev-r", "Safety walk", 2, "training", 0) == 0);
    size_t before = fake_slack_message_count(slack);
    json_t *data = json_pack("{s:s, s:s, s:I, s:n, s:s, s:i, s:[]}", "event_id", "ev-r", "event_name",
                             "Safety walk", "starts_at", (json_int_t)bl_clock_wall_ms(), "ends_at", "location", "Room 4",
                             "remind_before_minutes", 90, "attendees");
    REQUIRE(deliver("11111111-0000-4000-8000-000000000001", "event.reminder_due", json_incref(data)) == 0);
    CHECK_EQ_INT(fake_slack_message_count(slack), before + 1);
    json_t *m = last_message();
    REQUIRE(m != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "channel")), "#general");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(m, "body"), "text")),
                 "\xF0\x9F\x93\x85 Rappel: Safety walk commence dans 1 hour 30 minutes <@UORGANIZER> <@UMANAGER>");
    json_decref(m);
    /* redelivered: not posted again */
    REQUIRE(deliver("11111111-0000-4000-8000-000000000001", "event.reminder_due", data) == 0);
    CHECK_EQ_INT(fake_slack_message_count(slack), before + 1);
}

static void low_attendance_alert_goes_to_the_alerts_channel_once_after_the_end(void)
{
    REQUIRE(bl_calsync_fx_create_event(&fx, "ev-a", "First aid", -3, "training", 0) == 0); /* over */
    REQUIRE(bl_calsync_fx_create_event(&fx, "ev-b", "Later", 5, "training", 0) == 0);       /* not yet */
    size_t before = fake_slack_message_count(slack);
    /* not over yet: no alert */
    REQUIRE(deliver("22222222-0000-4000-8000-000000000001", "attendance.updated",
                    json_pack("{s:s, s:s, s:f, s:i, s:i}", "event_id", "ev-b", "event_name", "Later",
                              "attendance_rate", 10.0, "present_count", 1, "expected_count", 10)) == 0);
    /* over but well attended: no alert */
    REQUIRE(deliver("22222222-0000-4000-8000-000000000002", "attendance.updated",
                    json_pack("{s:s, s:s, s:f, s:i, s:i}", "event_id", "ev-a", "event_name", "First aid",
                              "attendance_rate", 75.0, "present_count", 3, "expected_count", 4)) == 0);
    CHECK_EQ_INT(fake_slack_message_count(slack), before);
    REQUIRE(deliver("22222222-0000-4000-8000-000000000003", "attendance.updated",
                    json_pack("{s:s, s:s, s:f, s:i, s:i}", "event_id", "ev-a", "event_name", "First aid",
                              "attendance_rate", 100.0 / 3.0, "present_count", 1, "expected_count", 3)) == 0);
    CHECK_EQ_INT(fake_slack_message_count(slack), before + 1);
    json_t *m = last_message();
    REQUIRE(m != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "channel")), "#attendance-alerts");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(m, "body"), "text")),
                 "\xE2\x9A\xA0\xEF\xB8\x8F Faible taux de pr\xC3\xA9sence pour First aid: 33% <@UORGANIZER> <@UMANAGER>");
    json_decref(m);
    /* a later count of the same event: one alert per event */
    REQUIRE(deliver("22222222-0000-4000-8000-000000000004", "attendance.updated",
                    json_pack("{s:s, s:s, s:f, s:i, s:i}", "event_id", "ev-a", "event_name", "First aid",
                              "attendance_rate", 25.0, "present_count", 1, "expected_count", 4)) == 0);
    CHECK_EQ_INT(fake_slack_message_count(slack), before + 1);
}

static void notices_switched_off_are_not_posted(void)
{
    const char *p[] = {slack_id};
    PQclear(bl_calsync_fx_sql(&fx, "UPDATE integrations SET settings = settings || '{\"notifications\":"
                                   "{\"eventReminders\":false}}'::jsonb WHERE id::text = $1", 1, p));
    size_t before = fake_slack_message_count(slack);
    REQUIRE(deliver("33333333-0000-4000-8000-000000000001", "event.reminder_due",
                    json_pack("{s:s, s:s, s:I, s:n, s:n, s:i, s:[]}", "event_id", "ev-r", "event_name", "Safety walk",
                              "starts_at", (json_int_t)bl_clock_wall_ms(), "ends_at", "location",
                              "remind_before_minutes", 15, "attendees")) == 0);
    CHECK_EQ_INT(fake_slack_message_count(slack), before);
}

static void notices_go_to_the_incoming_webhook_without_a_bot_token(void)
{
    /* the bot integration's reminders are off (above): only the hook posts */
    char settings[512];
    snprintf(settings, sizeof settings,
             "{\"webhookUrl\":\"%s/services/T0/B0/X\",\"userMentions\":{\"enabled\":true,\"mentionOrganizers\":true}}",
             fake_slack_url(slack));
    REQUIRE(bl_calsync_fx_add_connected(&fx, "slack", "communication", "incoming-webhook", "hook", settings, "unused",
                                        hook_id) == 0);
    const char *p[] = {hook_id};
    PQclear(bl_calsync_fx_sql(&fx, "UPDATE integrations SET access_token_ciphertext = NULL WHERE id::text = $1", 1, p));
    size_t before = fake_slack_message_count(slack);
    json_t *data = json_pack("{s:s, s:s, s:I, s:n, s:n, s:i, s:[]}", "event_id", "ev-r", "event_name", "Safety walk",
                             "starts_at", (json_int_t)bl_clock_wall_ms(), "ends_at", "location",
                             "remind_before_minutes", 15, "attendees");
    REQUIRE(deliver("44444444-0000-4000-8000-000000000001", "event.reminder_due", json_incref(data)) == 0);
    REQUIRE(fake_slack_message_count(slack) == before + 1);
    json_t *m = last_message();
    CHECK_EQ_STR(json_string_value(json_object_get(m, "channel")), "(webhook)");
    const json_t *body = json_object_get(m, "body");
    /* no mention: looking a user up needs a bot token */
    CHECK_EQ_STR(json_string_value(json_object_get(body, "text")),
                 "\xF0\x9F\x93\x85 Rappel: Safety walk commence dans 15 minutes");
    const json_t *block = json_array_get(json_object_get(body, "blocks"), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(block, "type")), "section");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(block, "text"), "text")),
                 "\xF0\x9F\x93\x85 Rappel: Safety walk commence dans 15 minutes");
    CHECK(fake_slack_blocks_problem(json_object_get(body, "blocks")) == NULL);
    json_decref(m);
    /* redelivered: not posted again */
    REQUIRE(deliver("44444444-0000-4000-8000-000000000001", "event.reminder_due", data) == 0);
    CHECK_EQ_INT(fake_slack_message_count(slack), before + 1);
}

static void webhook_url_on_a_private_address_is_refused_by_the_ssrf_guard(void)
{
    bl_slack_notices strict = sn;
    strict.allow = NULL; /* public addresses only: the fake's 127.0.0.1 is refused */
    size_t before = fake_slack_message_count(slack);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:I, s:n, s:n, s:i, s:[]}}", "id",
                           "55555555-0000-4000-8000-000000000001", "type", "event.reminder_due", "organization_id",
                           fx.dom.org, "data", "event_id", "ev-r", "event_name", "Safety walk", "starts_at",
                           (json_int_t)bl_clock_wall_ms(), "ends_at", "location", "remind_before_minutes", 15,
                           "attendees");
    bl_err err = {0};
    CHECK_EQ_INT(bl_slack_notices_on_event(&strict, ev, &err), 0);
    json_decref(ev);
    CHECK_EQ_INT(fake_slack_message_count(slack), before);
    const char *p[] = {hook_id};
    PGresult *r = bl_calsync_fx_sql(&fx, "SELECT 1 FROM slack_notices WHERE integration_id::text = $1"
                                         " AND message_id = '55555555-0000-4000-8000-000000000001'", 1, p);
    CHECK(r && PQntuples(r) == 0);
    PQclear(r);
}

int main(void)
{
    if (setup() == 0) {
        BL_RUN(reminder_goes_to_the_default_channel_rendered_with_mentions_once);
        BL_RUN(low_attendance_alert_goes_to_the_alerts_channel_once_after_the_end);
        BL_RUN(notices_switched_off_are_not_posted);
        BL_RUN(notices_go_to_the_incoming_webhook_without_a_bot_token);
        BL_RUN(webhook_url_on_a_private_address_is_refused_by_the_ssrf_guard);
    } else {
        bl_test_failures++;
    }
    teardown();
    return bl_test_summary();
}
