/* The Slack weeklyReport (connectors/slack/weekly_report.h) against the real
 * attendance service in process (real Kafka, real PostgreSQL), the OAuth
 * store and the fake Slack (Web API and incoming webhooks):
 *   - weekly_timer_is_armed_for_next_monday_0800_utc
 *   - weekly_report_posts_the_week_counts_to_the_reports_channel
 *   - weekly_report_of_a_week_is_posted_once_across_restarts
 *   - weekly_timer_leased_by_another_replica_waits_for_its_lease_to_run_out
 *   - weekly_report_switched_off_is_not_posted_and_the_timer_moves_on
 *   - weekly_report_goes_to_the_incoming_webhook_without_a_bot_token */
#include "connectors/slack/weekly_report.h"
#include "tests/support/calsync_fixture.h"
#include "tests/support/fake_slack.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SETTINGS                                                                                              \
    "{\"channels\":{\"default\":\"#general\",\"alerts\":\"#attendance-alerts\",\"reports\":\"#reports\"},"    \
    "\"messageTemplates\":{\"weeklyReport\":\"\xF0\x9F\x93\x8A Rapport hebdomadaire de pr\xC3\xA9sence\"}}"

static bl_calsync_fx fx;
static fake_slack *slack;
static char slack_id[64];
static bl_ssrf_allowlist loopback;
static char base[96];

static int setup(void)
{
    static const char *const channels[] = {"#general", "#attendance-alerts", "#reports", NULL};
    bl_err err = {0};
    if (bl_calsync_fx_start(&fx, "google_calendar") != 0 ||
        !(slack = fake_slack_start("xoxb-1", channels, "/services/T0/B0/X")) ||
        bl_ssrf_allowlist_parse("127.0.0.0/8", &loopback, &err) != 0)
        return -1;
    snprintf(base, sizeof base, "%s/api", fake_slack_url(slack));
    if (bl_calsync_fx_add_connected(&fx, "slack", "communication", "chat:write", "ws", SETTINGS, "xoxb-1",
                                    slack_id) != 0)
        return -1;
    /* this week: two held (one poorly attended), one cancelled; one later, one of the week before */
    if (bl_calsync_fx_create_event(&fx, "w-a", "Fire drill", -3, "training", 0) != 0 ||
        bl_calsync_fx_create_event(&fx, "w-b", "Tools & safety", -5, "training", 0) != 0 ||
        bl_calsync_fx_create_event(&fx, "w-c", "Cancelled one", -4, "meeting", 0) != 0 ||
        bl_calsync_fx_cancel_event(&fx, "w-c") != 0 ||
        bl_calsync_fx_create_event(&fx, "w-d", "Not yet", 5, "meeting", 0) != 0 ||
        bl_calsync_fx_create_event(&fx, "w-old", "Last week", -8 * 24, "meeting", 0) != 0)
        return -1;
    const char *p[] = {fx.dom.org};
    PGresult *r = bl_calsync_fx_sql(&fx, "INSERT INTO attendance_records (organization_id, event_id, person_id, status)"
                                         " VALUES ($1, 'w-a', 'p1', 'PRESENT'), ($1, 'w-a', 'p2', 'LATE'),"
                                         " ($1, 'w-a', 'p3', 'ABSENT'), ($1, 'w-a', 'p4', 'EXCUSED'),"
                                         " ($1, 'w-b', 'p1', 'PRESENT'), ($1, 'w-b', 'p2', 'ABSENT'),"
                                         " ($1, 'w-b', 'p3', 'ABSENT'), ($1, 'w-old', 'p1', 'ABSENT')", 1, p);
    PQclear(r);
    return r ? 0 : -1;
}

static void teardown(void)
{
    fake_slack_stop(slack);
    bl_calsync_fx_stop(&fx);
}

/* A fresh replica: nothing but the database carries over between passes. */
static int pass(const char *owner, int *posted)
{
    bl_slack_notices sn = {.pool = fx.dom.reg.pool, .store = fx.store, .base_url = base, .max_wait_ms = 200,
                           .allow = &loopback};
    bl_err err = {0};
    int n = bl_slack_weekly_reports_due(&sn, owner, 10, posted, &err);
    if (n < 0)
        fprintf(stderr, "  weekly reports: %s\n", err.msg);
    return n;
}

/* Sets the timer of integration id due at at_sql; days (may be NULL) gets
 * its week's first and last day "YYYY-MM-DD au YYYY-MM-DD". */
static int make_due(const char *id, const char *at_sql, char *days, size_t cap)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "UPDATE slack_report_timers SET due_at = %s WHERE integration_id::text = $1 RETURNING"
             " to_char((due_at - interval '7 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD') || ' au ' ||"
             " to_char((due_at - interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD')", at_sql);
    const char *p[] = {id};
    PGresult *r = bl_calsync_fx_sql(&fx, sql, 1, p);
    int ok = r && PQntuples(r) == 1;
    if (ok && days)
        snprintf(days, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return ok ? 0 : -1;
}

/* 1 when the timer of id is at the next Monday 08:00 UTC and free. */
static int at_next_monday(const char *id)
{
    const char *p[] = {id};
    PGresult *r = bl_calsync_fx_sql(&fx, "SELECT 1 FROM slack_report_timers WHERE integration_id::text = $1"
                                         " AND due_at > now() AND due_at <= now() + interval '7 days'"
                                         " AND extract(isodow FROM due_at AT TIME ZONE 'UTC') = 1"
                                         " AND to_char(due_at AT TIME ZONE 'UTC', 'HH24:MI:SS') = '08:00:00'"
                                         " AND lease_owner IS NULL", 1, p);
    int yes = r && PQntuples(r) == 1;
    PQclear(r);
    return yes;
}

static void weekly_timer_is_armed_for_next_monday_0800_utc(void)
{
    size_t before = fake_slack_message_count(slack);
    int posted = -1;
    CHECK_EQ_INT(pass("replica-1", &posted), 0);
    CHECK_EQ_INT(posted, 0);
    CHECK_EQ_INT(at_next_monday(slack_id), 1);
    CHECK_EQ_INT(fake_slack_message_count(slack), before);
}

static char expected_text[1024];

static void weekly_report_posts_the_week_counts_to_the_reports_channel(void)
{
    char days[64];
    REQUIRE(make_due(slack_id, "now() - interval '1 minute'", days, sizeof days) == 0);
    size_t before = fake_slack_message_count(slack);
    int posted = 0;
    CHECK_EQ_INT(pass("replica-1", &posted), 1);
    CHECK_EQ_INT(posted, 1);
    REQUIRE(fake_slack_message_count(slack) == before + 1);
    json_t *m = fake_slack_message(slack, before);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "channel")), "#reports");
    snprintf(expected_text, sizeof expected_text,
             "\xF0\x9F\x93\x8A Rapport hebdomadaire de pr\xC3\xA9sence\nSemaine du %s\n"
             "\xE2\x80\xA2 \xC3\x89v\xC3\xA9nements tenus : 2 (annul\xC3\xA9s : 1)\n"
             "\xE2\x80\xA2 Pr\xC3\xA9sents : 3 sur 7 attendus (43 %%), dont 1 en retard\n"
             "\xE2\x80\xA2 Absents : 3, excus\xC3\xA9s : 1\n"
             "\xE2\x80\xA2 Faible pr\xC3\xA9sence (< 50 %%) : Tools &amp; safety (33 %%)", days);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(m, "body"), "text")), expected_text);
    CHECK(json_array_size(json_object_get(json_object_get(m, "body"), "blocks")) == 1);
    json_decref(m);
    CHECK_EQ_INT(at_next_monday(slack_id), 1);
    /* nothing more is due */
    CHECK_EQ_INT(pass("replica-2", &posted), 0);
    CHECK_EQ_INT(fake_slack_message_count(slack), before + 1);
}

static void weekly_report_of_a_week_is_posted_once_across_restarts(void)
{
    /* a replica killed after posting, before moving the timer: the same week is due again */
    REQUIRE(make_due(slack_id, "now() - interval '1 hour'", NULL, 0) == 0);
    size_t before = fake_slack_message_count(slack);
    int posted = 0;
    CHECK_EQ_INT(pass("replica-1", &posted), 1);
    const char *p[] = {slack_id};
    PGresult *r = bl_calsync_fx_sql(&fx, "UPDATE slack_report_timers t SET due_at = split_part("
                                         "  (SELECT message_id FROM slack_notices WHERE integration_id = t.integration_id"
                                         "   AND template = 'weeklyReport' ORDER BY created_at DESC LIMIT 1), '/', 2)"
                                         "  ::timestamptz"
                                         " WHERE integration_id::text = $1 RETURNING 1", 1, p);
    CHECK(r && PQntuples(r) == 1);
    PQclear(r);
    CHECK_EQ_INT(pass("replica-3", &posted), 1);
    CHECK_EQ_INT(posted, 0);
    CHECK_EQ_INT(fake_slack_message_count(slack), before + 1);
    CHECK_EQ_INT(at_next_monday(slack_id), 1);
}

static void weekly_timer_leased_by_another_replica_waits_for_its_lease_to_run_out(void)
{
    const char *p[] = {slack_id};
    PQclear(bl_calsync_fx_sql(&fx, "UPDATE slack_report_timers SET due_at = now() - interval '2 minutes',"
                                   " lease_owner = 'replica-9', lease_until = now() + interval '1 hour'"
                                   " WHERE integration_id::text = $1", 1, p));
    size_t before = fake_slack_message_count(slack);
    int posted = 0;
    CHECK_EQ_INT(pass("replica-1", &posted), 0);
    CHECK_EQ_INT(fake_slack_message_count(slack), before);
    /* replica-9 was killed: its lease runs out and the report is made */
    PQclear(bl_calsync_fx_sql(&fx, "UPDATE slack_report_timers SET lease_until = now() - interval '1 second'"
                                   " WHERE integration_id::text = $1", 1, p));
    CHECK_EQ_INT(pass("replica-1", &posted), 1);
    CHECK_EQ_INT(posted, 1);
    CHECK_EQ_INT(fake_slack_message_count(slack), before + 1);
}

static void weekly_report_switched_off_is_not_posted_and_the_timer_moves_on(void)
{
    const char *p[] = {slack_id};
    PQclear(bl_calsync_fx_sql(&fx, "UPDATE integrations SET settings = settings || '{\"notifications\":"
                                   "{\"weeklyReports\":false}}'::jsonb WHERE id::text = $1", 1, p));
    REQUIRE(make_due(slack_id, "now() - interval '3 minutes'", NULL, 0) == 0);
    size_t before = fake_slack_message_count(slack);
    int posted = 0;
    CHECK_EQ_INT(pass("replica-1", &posted), 1);
    CHECK_EQ_INT(posted, 0);
    CHECK_EQ_INT(fake_slack_message_count(slack), before);
    CHECK_EQ_INT(at_next_monday(slack_id), 1);
    PQclear(bl_calsync_fx_sql(&fx, "UPDATE integrations SET settings = settings - 'notifications',"
                                   " status = 'disconnected' WHERE id::text = $1", 1, p));
}

static void weekly_report_goes_to_the_incoming_webhook_without_a_bot_token(void)
{
    char hook_id[64], hook_settings[512];
    snprintf(hook_settings, sizeof hook_settings, "{\"webhookUrl\":\"%s/services/T0/B0/X\"}", fake_slack_url(slack));
    REQUIRE(bl_calsync_fx_add_connected(&fx, "slack", "communication", "incoming-webhook", "hook", hook_settings,
                                        "unused", hook_id) == 0);
    const char *p[] = {hook_id};
    PQclear(bl_calsync_fx_sql(&fx, "UPDATE integrations SET access_token_ciphertext = NULL WHERE id::text = $1", 1, p));
    int posted = 0;
    REQUIRE(pass("replica-1", &posted) == 0);
    char days[64];
    REQUIRE(make_due(hook_id, "now() - interval '1 minute'", days, sizeof days) == 0);
    size_t before = fake_slack_message_count(slack);
    CHECK_EQ_INT(pass("replica-1", &posted), 1);
    CHECK_EQ_INT(posted, 1);
    REQUIRE(fake_slack_message_count(slack) == before + 1);
    json_t *m = fake_slack_message(slack, before);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "channel")), "(webhook)");
    const char *text = json_string_value(json_object_get(json_object_get(m, "body"), "text"));
    CHECK(text && strstr(text, "\xF0\x9F\x93\x8A Rapport hebdomadaire de pr\xC3\xA9sence\nSemaine du ") == text);
    CHECK(text && strstr(text, "Pr\xC3\xA9sents : 3 sur 7 attendus (43 %)"));
    json_decref(m);
}

int main(void)
{
    if (setup() == 0) {
        BL_RUN(weekly_timer_is_armed_for_next_monday_0800_utc);
        BL_RUN(weekly_report_posts_the_week_counts_to_the_reports_channel);
        BL_RUN(weekly_report_of_a_week_is_posted_once_across_restarts);
        BL_RUN(weekly_timer_leased_by_another_replica_waits_for_its_lease_to_run_out);
        BL_RUN(weekly_report_switched_off_is_not_posted_and_the_timer_moves_on);
        BL_RUN(weekly_report_goes_to_the_incoming_webhook_without_a_bot_token);
    } else {
        bl_test_failures++;
    }
    teardown();
    return bl_test_summary();
}
