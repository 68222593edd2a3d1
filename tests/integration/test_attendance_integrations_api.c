/* Design document 001's integrations API on the Attendance-X surface
 * (/attendance/api/integrations), part one: list, connect, callback,
 * settings, the connection test, the metrics, the rate limit and the
 * OpenAPI document. One test per documented request, sent with the
 * document's example body as written, every documented answer field
 * checked for presence and type, and each status and error code provoked.
 * Part two (test_attendance_integrations_api_sync.c): history, sync, its
 * status and the disconnect. */
#include "tests/support/ax_integrations_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- GET /integrations ---- */

static void list_shows_the_documented_fields_and_filters(void)
{
    char google[64], slack[64];
    REQUIRE(ax_connect_google(google, NULL) == 0);
    REQUIRE(ax_make_integration("slack", "chat", ax_org, slack) == 0);
    const char *sp[] = {slack};
    REQUIRE(bl_test_sql(ax_pool, "UPDATE integrations SET settings = '{\"defaultChannel\":\"#general\","
                              "\"channels\":{\"default\":\"#general\",\"alerts\":\"#attendance-alerts\"}}'"
                              " WHERE id = $1", 1, sp) == 0);
    /* a link the worker made and a finished run, so the statistics count */
    const char *gp[] = {google};
    REQUIRE(ax_end_run(google, "success", "{\"eventsProcessed\":1,\"eventsCreated\":1,\"eventsUpdated\":0,"
                                       "\"eventsDeleted\":0,\"errors\":0}") == 0);
    REQUIRE(bl_test_sql(ax_pool, "INSERT INTO integration_event_links (integration_id, organization_id, event_id,"
                              " calendar_id, external_id) SELECT id, organization_id, 'ev-1', 'primary', 'g-1'"
                              " FROM integrations WHERE id = $1", 1, gp) == 0);
    bl_test_reply r;
    CHECK_EQ_INT(ax_call("GET", BASE, ax_manager, NULL, &r), 200);
    CHECK(ax_enveloped(&r));
    const json_t *g = NULL, *s = NULL;
    size_t i;
    json_t *row;
    json_array_foreach (ax_data(&r), i, row) {
        const char *id = json_string_value(json_object_get(row, "id"));
        if (id && strcmp(id, google) == 0)
            g = row;
        if (id && strcmp(id, slack) == 0)
            s = row;
    }
    REQUIRE(g && s);
    CHECK_EQ_STR(json_string_value(json_object_get(g, "provider")), "google");
    CHECK_EQ_STR(json_string_value(json_object_get(g, "type")), "calendar");
    CHECK_EQ_STR(json_string_value(json_object_get(g, "name")), "Google Calendar");
    CHECK_EQ_STR(json_string_value(json_object_get(g, "status")), "connected");
    CHECK(ax_is_str(g, "connectedAt") && ax_is_str_or_null(g, "lastSync") && ax_is_obj(g, "settings") &&
          ax_is_arr(g, "permissions") && ax_is_obj(g, "statistics") && ax_is_obj(g, "connectedBy"));
    const json_t *settings = json_object_get(g, "settings");
    CHECK_EQ_STR(json_string_value(json_object_get(settings, "syncDirection")), "bidirectional");
    CHECK(json_is_true(json_object_get(settings, "autoSync")));
    CHECK_EQ_INT(json_integer_value(json_object_get(settings, "syncInterval")), 300);
    /* the fake granted calendar.events: read, write and manage */
    CHECK_EQ_INT(json_array_size(json_object_get(g, "permissions")), 3);
    const json_t *stats = json_object_get(g, "statistics");
    CHECK(ax_is_int(stats, "eventsSynced") && ax_is_str(stats, "lastSyncDuration") && ax_is_int(stats, "errorCount") &&
          json_is_number(json_object_get(stats, "successRate")));
    CHECK_EQ_INT(json_integer_value(json_object_get(stats, "eventsSynced")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(stats, "lastSyncDuration")), "1.5s");
    CHECK(json_number_value(json_object_get(stats, "successRate")) > 0.99);
    const json_t *by = json_object_get(g, "connectedBy");
    CHECK_EQ_STR(json_string_value(json_object_get(by, "id")), ax_manager_id);
    CHECK(ax_is_str(by, "name") && json_object_get(by, "email"));
    CHECK_EQ_STR(json_string_value(json_object_get(s, "type")), "communication");
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(s, "statistics"), "channelsConnected")), 2);
    CHECK(ax_is_str_or_null(s, "lastActivity"));
    bl_test_reply_clear(&r);

    CHECK_EQ_INT(ax_call("GET", BASE "?provider=slack&status=connected&type=communication", ax_manager, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(ax_data(&r)), 1);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(ax_call("GET", BASE "?type=video", ax_admin, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(ax_data(&r)), 0);
    bl_test_reply_clear(&r);
    ax_call("GET", BASE "?provider=dropbox", ax_manager, NULL, &r);
    CHECK(ax_fails_with(&r, 400, "PROVIDER_NOT_SUPPORTED"));
    bl_test_reply_clear(&r);
    ax_call("GET", BASE "?status=sleeping", ax_manager, NULL, &r);
    CHECK(ax_fails_with(&r, 400, "VALIDATION_ERROR"));
    bl_test_reply_clear(&r);
    /* Manager or Admin: a read key is refused, no key is not recognised */
    ax_call("GET", BASE, ax_reader, NULL, &r);
    CHECK(ax_fails_with(&r, 403, "PERMISSION_DENIED"));
    bl_test_reply_clear(&r);
    ax_call("GET", BASE, NULL, NULL, &r);
    CHECK(ax_fails_with(&r, 401, "INVALID_CREDENTIALS"));
    bl_test_reply_clear(&r);
    /* another organization sees none of these */
    CHECK_EQ_INT(ax_call("GET", BASE, ax_other_admin, NULL, &r), 200);
    CHECK(!strstr(r.body, google) && !strstr(r.body, slack));
    bl_test_reply_clear(&r);
}

/* ---- POST /integrations/:provider/connect ---- */

static void connect_answers_the_authorization_url(void)
{
    bl_test_reply r;
    CHECK_EQ_INT(ax_call("POST", BASE "/google/connect", ax_manager,
                      "{\"scopes\":[\"calendar.read\",\"calendar.write\",\"events.manage\"],"
                      "\"settings\":{\"syncDirection\":\"bidirectional\",\"autoSync\":true,\"syncInterval\":300},"
                      "\"redirectUri\":\"https://app.attendance-x.com/integrations/callback\"}",
                      &r),
                 200);
    const json_t *d = ax_data(&r);
    CHECK(ax_enveloped(&r) && ax_is_str(d, "authUrl") && ax_is_str(d, "state") && ax_is_str(d, "expiresAt") &&
          ax_is_arr(d, "scopes"));
    CHECK_EQ_STR(json_string_value(json_object_get(d, "provider")), "google");
    CHECK_EQ_INT(json_array_size(json_object_get(d, "scopes")), 3);
    const char *url = json_string_value(json_object_get(d, "authUrl"));
    /* the document's words asked as Google's scopes */
    CHECK(url && strstr(url, "calendar.readonly") && strstr(url, "auth%2Fcalendar.events") &&
          strstr(url, "code_challenge_method=S256"));
    const char *expires = json_string_value(json_object_get(d, "expiresAt"));
    CHECK(expires && strlen(expires) == 20 && expires[10] == 'T' && expires[19] == 'Z');
    bl_test_reply_clear(&r);
    /* the example of "Connecter Google Calendar" (no redirectUri there: it is required) */
    ax_call("POST", BASE "/google/connect", ax_manager,
         "{\"scopes\":[\"calendar.read\",\"calendar.write\"],\"settings\":{\"syncDirection\":\"bidirectional\","
         "\"autoSync\":true}}",
         &r);
    CHECK(ax_fails_with(&r, 422, "VALIDATION_ERROR") && ax_detail(&r, "redirectUri"));
    bl_test_reply_clear(&r);
    /* Microsoft: the document's words as Graph scopes, each once, with offline_access */
    CHECK_EQ_INT(ax_call("POST", BASE "/microsoft/connect", ax_manager,
                      "{\"scopes\":[\"calendar.write\",\"events.manage\",\"meetings.manage\"],"
                      "\"settings\":{\"teamsIntegration\":{\"enabled\":true,\"autoCreateMeetings\":true}},"
                      "\"redirectUri\":\"" REDIRECT "\"}",
                      &r),
                 200);
    url = json_string_value(json_object_get(ax_data(&r), "authUrl"));
    const char *rw = url ? strstr(url, "Calendars.ReadWrite") : NULL;
    CHECK(rw && !strstr(rw + 1, "Calendars.ReadWrite") && strstr(url, "OnlineMeetings.ReadWrite") &&
          strstr(url, "offline_access"));
    CHECK_EQ_STR(json_string_value(json_object_get(ax_data(&r), "provider")), "microsoft");
    bl_test_reply_clear(&r);
    /* Zoom connects server-to-server at once: its token endpoint is unreachable here */
    ax_call("POST", BASE "/zoom/connect", ax_manager, "{\"settings\":{\"account_id\":\"acct-1\",\"autoCreateMeetings\":true}}",
         &r);
    CHECK(ax_fails_with(&r, 502, "CONNECTION_ERROR"));
    bl_test_reply_clear(&r);
    ax_call("POST", BASE "/dropbox/connect", ax_manager, "{\"redirectUri\":\"" REDIRECT "\"}", &r);
    CHECK(ax_fails_with(&r, 400, "PROVIDER_NOT_SUPPORTED"));
    bl_test_reply_clear(&r);
    /* every problem at once, by path */
    ax_call("POST", BASE "/google/connect", ax_manager,
         "{\"scopes\":[\"calendar.read\",\"mail.read\"],\"redirectUri\":\"" REDIRECT "\",\"colour\":1,"
         "\"settings\":{\"eventMapping\":{\"titlePrefix\":\"[A] \",\"colour\":\"red\"},\"syncInterval\":\"5m\"}}",
         &r);
    CHECK(ax_fails_with(&r, 422, "VALIDATION_ERROR"));
    CHECK(ax_detail(&r, "scopes[1]") && ax_detail(&r, "colour") && ax_detail(&r, "settings.eventMapping.colour") &&
          ax_detail(&r, "settings.syncInterval"));
    CHECK(!ax_detail(&r, "scopes[0]") && !ax_detail(&r, "settings.eventMapping.titlePrefix"));
    bl_test_reply_clear(&r);
    ax_call("POST", BASE "/google/connect", ax_reader, "{\"redirectUri\":\"" REDIRECT "\"}", &r);
    CHECK(ax_fails_with(&r, 403, "PERMISSION_DENIED"));
    bl_test_reply_clear(&r);
}

/* ---- POST /integrations/:provider/callback ---- */

static void callback_connects_and_schedules_the_first_sync(void)
{
    char id[64];
    bl_test_reply r;
    REQUIRE(ax_connect_google(id, &r) == 0);
    const json_t *d = ax_data(&r);
    CHECK(ax_enveloped(&r) && ax_is_str(d, "integrationId") && ax_is_str(d, "connectedAt") && ax_is_arr(d, "permissions") &&
          ax_is_obj(d, "userInfo") && ax_is_obj(d, "initialSync"));
    CHECK_EQ_STR(json_string_value(json_object_get(d, "provider")), "google");
    CHECK_EQ_STR(json_string_value(json_object_get(d, "status")), "connected");
    const json_t *user = json_object_get(d, "userInfo");
    CHECK(json_object_get(user, "email") && json_object_get(user, "name") && json_object_get(user, "avatar"));
    const json_t *initial = json_object_get(d, "initialSync");
    CHECK_EQ_STR(json_string_value(json_object_get(initial, "status")), "scheduled");
    CHECK(json_object_get(initial, "estimatedDuration"));
    /* the first sync is a queued run the worker will take, the timer armed */
    CHECK_EQ_INT(ax_sql_long("SELECT count(*) FROM integration_sync_runs WHERE integration_id::text = $1"
                          " AND status = 'queued' AND triggered_by = '\"initial_sync\"'", id), 1);
    CHECK_EQ_INT(ax_sql_long("SELECT count(*) FROM integrations WHERE id::text = $1 AND auto_sync"
                          " AND sync_interval_s = 300 AND next_sync_at > now() AND NOT settings ? 'autoSync'", id), 1);
    bl_test_reply_clear(&r);
    /* the document's example as written: a state this server never issued */
    ax_call("POST", BASE "/google/callback", ax_manager,
         "{\"code\":\"oauth_authorization_code\",\"state\":\"state-token-123\"}", &r);
    CHECK(ax_fails_with(&r, 400, "OAUTH_ERROR"));
    bl_test_reply_clear(&r);
    ax_call("POST", BASE "/google/callback", ax_manager, "{\"error\":\"access_denied\"}", &r);
    CHECK(ax_fails_with(&r, 400, "OAUTH_ERROR"));
    bl_test_reply_clear(&r);
    ax_call("POST", BASE "/google/callback", ax_manager, "{\"code\":\"oauth_authorization_code\"}", &r);
    CHECK(ax_fails_with(&r, 422, "VALIDATION_ERROR") && ax_detail(&r, "state"));
    bl_test_reply_clear(&r);
    ax_call("POST", BASE "/zoomish/callback", ax_manager, "{\"code\":\"c\",\"state\":\"s\"}", &r);
    CHECK(ax_fails_with(&r, 400, "PROVIDER_NOT_SUPPORTED"));
    bl_test_reply_clear(&r);
}

/* ---- PUT /integrations/:id/settings ---- */

static void settings_examples_of_every_provider_are_saved(void)
{
    char google[64], microsoft[64], slack[64], zoom[64];
    REQUIRE(ax_connect_google(google, NULL) == 0);
    REQUIRE(ax_make_integration("microsoft_365", "calendar", ax_org, microsoft) == 0);
    REQUIRE(ax_make_integration("slack", "chat", ax_org, slack) == 0);
    REQUIRE(ax_make_integration("zoom", "meetings", ax_org, zoom) == 0);
    bl_test_reply r;
    /* the example of PUT /integrations/:id/settings */
    CHECK_EQ_INT(ax_put_settings(google,
                              "{\"syncDirection\":\"attendance_to_external\",\"autoSync\":false,\"syncInterval\":600,"
                              "\"settings\":{\"calendarId\":\"work@techcorp.com\",\"eventPrefix\":\"[Attendance-X]\","
                              "\"includeDescription\":true,\"syncPrivateEvents\":false},"
                              "\"notifications\":{\"syncErrors\":true,\"syncSuccess\":false,\"weeklyReport\":true}}",
                              &r),
                 200);
    CHECK(ax_enveloped(&r));
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(ax_data(&r), "settings"), "calendarId")),
                 "work@techcorp.com");
    CHECK_EQ_INT(ax_sql_long("SELECT count(*) FROM integrations WHERE id::text = $1 AND sync_direction ="
                          " 'attendance_to_external' AND NOT auto_sync AND sync_interval_s = 600"
                          " AND next_sync_at IS NULL AND notifications->>'weeklyReport' = 'true'", google), 1);
    bl_test_reply_clear(&r);
    /* Google's advanced configuration */
    CHECK_EQ_INT(ax_put_settings(google,
                              "{\"settings\":{\"calendarId\":\"primary\",\"syncDirection\":\"bidirectional\","
                              "\"eventMapping\":{\"titlePrefix\":\"[Attendance-X] \",\"includeAttendees\":true,"
                              "\"includeDescription\":true,\"includeLocation\":true,\"colorId\":\"2\"},"
                              "\"filters\":{\"eventTypes\":[\"training\",\"meeting\",\"conference\"],"
                              "\"excludePrivate\":true,\"minDuration\":30},"
                              "\"notifications\":{\"reminders\":true,\"reminderMinutes\":[15,60]}}}",
                              &r),
                 200);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(ax_sql_long("SELECT count(*) FROM integrations WHERE id::text = $1 AND sync_direction = 'bidirectional'"
                          " AND settings->'eventMapping'->>'colorId' = '2' AND settings->>'eventPrefix' ="
                          " '[Attendance-X]'", google), 1);
    /* autoSync arms the durable timer */
    CHECK_EQ_INT(ax_put_settings(google, "{\"autoSync\":true,\"syncInterval\":900}", &r), 200);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(ax_sql_long("SELECT count(*) FROM integrations WHERE id::text = $1 AND auto_sync AND next_sync_at"
                          " BETWEEN now() + interval '14 minutes' AND now() + interval '16 minutes'", google), 1);
    /* Microsoft 365 with Teams */
    CHECK_EQ_INT(ax_put_settings(microsoft,
                              "{\"settings\":{\"calendarId\":\"primary\",\"teamsIntegration\":{\"enabled\":true,"
                              "\"autoCreateMeetings\":true,\"defaultMeetingSettings\":{\"allowAnonymous\":false,"
                              "\"recordAutomatically\":false,\"allowTranscription\":true}},"
                              "\"outlookSettings\":{\"categoryColor\":\"blue\",\"importance\":\"normal\","
                              "\"showAs\":\"busy\"}}}",
                              &r),
                 200);
    bl_test_reply_clear(&r);
    /* Slack, as the document's configuration and as its JavaScript example */
    CHECK_EQ_INT(ax_put_settings(slack,
                              "{\"settings\":{\"webhookUrl\":\"https://hooks.slack.com/services/...\","
                              "\"channels\":{\"default\":\"#general\",\"alerts\":\"#attendance-alerts\","
                              "\"reports\":\"#reports\"},\"messageTemplates\":{\"eventReminder\":"
                              "\"\xf0\x9f\x93\x85 Rappel: {eventName} commence dans {timeUntil}\",\"attendanceAlert\":"
                              "\"\xe2\x9a\xa0\xef\xb8\x8f Faible taux de pr\xc3\xa9sence pour {eventName}: {attendanceRate}%\","
                              "\"weeklyReport\":\"\xf0\x9f\x93\x8a Rapport hebdomadaire de pr\xc3\xa9sence\"},"
                              "\"userMentions\":{\"enabled\":true,\"mentionManagers\":true,\"mentionOrganizers\":true}}}",
                              &r),
                 200);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(ax_put_settings(slack,
                              "{\"settings\":{\"channels\":{\"default\":\"#general\",\"alerts\":\"#attendance-alerts\"},"
                              "\"messageTemplates\":{\"eventReminder\":\"Rappel: {eventName} commence dans {timeUntil}\","
                              "\"attendanceAlert\":\"Faible pr\xc3\xa9sence: {eventName} ({attendanceRate}%)\"},"
                              "\"notifications\":{\"eventReminders\":true,\"attendanceAlerts\":true,"
                              "\"weeklyReports\":true}}}",
                              &r),
                 200);
    bl_test_reply_clear(&r);
    /* Zoom's meetings */
    CHECK_EQ_INT(ax_put_settings(zoom,
                              "{\"settings\":{\"autoCreateMeetings\":true,\"meetingDefaults\":{\"type\":\"scheduled\","
                              "\"duration\":60,\"timezone\":\"Europe/Paris\",\"password\":true,\"waitingRoom\":true,"
                              "\"joinBeforeHost\":false,\"muteUponEntry\":true,\"recordingSettings\":"
                              "{\"autoRecording\":\"cloud\",\"recordingAuthentication\":true}},"
                              "\"attendanceTracking\":{\"enabled\":true,\"syncAttendance\":true,\"minimumDuration\":30}}}",
                              &r),
                 200);
    bl_test_reply_clear(&r);
    /* unknown keys and bad values, each with its path, in one answer */
    ax_put_settings(google,
                 "{\"settings\":{\"eventMapping\":{\"colour\":\"red\",\"colorId\":\"12\"},\"filters\":"
                 "{\"eventTypes\":[\"training\",\"party\"]},\"teamsIntegration\":{\"enabled\":true}},"
                 "\"notifications\":{\"daily\":true},\"syncDirection\":\"sideways\"}",
                 &r);
    CHECK(ax_fails_with(&r, 422, "VALIDATION_ERROR"));
    CHECK(ax_detail(&r, "settings.eventMapping.colour") && ax_detail(&r, "settings.eventMapping.colorId") &&
          ax_detail(&r, "settings.filters.eventTypes[1]") && ax_detail(&r, "settings.teamsIntegration") &&
          ax_detail(&r, "notifications.daily") && ax_detail(&r, "syncDirection"));
    bl_test_reply_clear(&r);
    /* a Slack placeholder the event cannot fill is refused when saved */
    ax_put_settings(slack, "{\"settings\":{\"messageTemplates\":{\"eventReminder\":\"{eventName} in {roomNumber}\","
                        "\"weeklyReport\":\"week of {eventName}\"},\"channels\":{\"default\":\"general\"}}}",
                 &r);
    CHECK(ax_fails_with(&r, 422, "VALIDATION_ERROR"));
    const char *why = ax_detail(&r, "settings.messageTemplates.eventReminder");
    CHECK(why && strstr(why, "roomNumber"));
    CHECK(ax_detail(&r, "settings.messageTemplates.weeklyReport") && ax_detail(&r, "settings.channels.default"));
    bl_test_reply_clear(&r);
    ax_put_settings("00000000-0000-0000-0000-000000000000", "{\"autoSync\":true}", &r);
    CHECK(ax_fails_with(&r, 404, "INTEGRATION_NOT_FOUND"));
    bl_test_reply_clear(&r);
    /* /v1 takes the same nested settings and keeps its own answer */
    char path[160];
    snprintf(path, sizeof path, "/v1/integrations/%s/settings", slack);
    CHECK_EQ_INT(ax_call("PUT", path, ax_admin,
                      "{\"settings\":{\"channels\":{\"default\":\"#general\"},\"messageTemplates\":"
                      "{\"eventReminder\":\"{eventName} dans {timeUntil}\"},\"channel\":\"C123\"}}",
                      &r),
                 200);
    CHECK(json_is_string(json_object_get(r.json, "id")) && !json_object_get(r.json, "success"));
    bl_test_reply_clear(&r);
    ax_call("PUT", path, ax_admin, "{\"settings\":{\"channels\":{\"default\":\"#general\",\"bogus\":\"#x\"}}}", &r);
    CHECK_EQ_INT(r.status, 422);
    CHECK(strstr(r.body, "settings.channels.bogus") != NULL);
    bl_test_reply_clear(&r);
}

/* ---- POST /integrations/:id/test ---- */

static void test_checks_the_provider_and_names_its_errors(void)
{
    char id[64], path[256];
    REQUIRE(ax_connect_google(id, NULL) == 0);
    snprintf(path, sizeof path, BASE "/%s/test", id);
    bl_test_reply r;
    CHECK_EQ_INT(ax_call("POST", path, ax_manager, NULL, &r), 200);
    const json_t *d = ax_data(&r);
    CHECK(ax_enveloped(&r) && ax_is_str(d, "responseTime") && ax_is_obj(d, "permissions") && json_object_get(d, "apiLimits") &&
          json_object_get(d, "lastError") && ax_is_arr(d, "recommendations"));
    CHECK_EQ_STR(json_string_value(json_object_get(d, "connectionStatus")), "healthy");
    CHECK(json_is_null(json_object_get(d, "lastError")));
    CHECK(ax_is_bool(json_object_get(d, "permissions"), "read_calendar") &&
          json_is_true(json_object_get(json_object_get(d, "permissions"), "write_calendar")));
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(d, "recommendations"), 0)), "Connection is healthy");
    bl_test_reply_clear(&r);
    static const struct {
        int status;
        const char *body, *code;
    } failures[] = {
        {429, "{\"error\":{\"code\":429,\"message\":\"Rate Limit Exceeded\"}}", "RATE_LIMIT_EXCEEDED"},
        {403, "{\"error\":{\"code\":403,\"message\":\"Daily Limit Exceeded\",\"errors\":[{\"reason\":"
              "\"dailyLimitExceeded\",\"message\":\"quota\"}]}}", "API_QUOTA_EXCEEDED"},
        {403, "{\"error\":{\"code\":403,\"message\":\"Forbidden\"}}", "PERMISSION_DENIED"},
        {503, "{\"error\":\"backend\"}", "CONNECTION_ERROR"},
    };
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++) {
        pthread_mutex_lock(&ax_fake.lock);
        ax_fake.fail_next_status = failures[i].status;
        snprintf(ax_fake.fail_next_body, sizeof ax_fake.fail_next_body, "%s", failures[i].body);
        pthread_mutex_unlock(&ax_fake.lock);
        CHECK_EQ_INT(ax_call("POST", path, ax_manager, NULL, &r), 200);
        d = ax_data(&r);
        CHECK_EQ_STR(json_string_value(json_object_get(d, "connectionStatus")), "unhealthy");
        CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(d, "lastError"), "code")), failures[i].code);
        bl_test_reply_clear(&r);
    }
    /* a refused refresh after a 401: the credentials are gone */
    pthread_mutex_lock(&ax_fake.lock);
    ax_fake.reject_next_401 = 2;
    ax_fake.refuse_refresh = true;
    pthread_mutex_unlock(&ax_fake.lock);
    CHECK_EQ_INT(ax_call("POST", path, ax_manager, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(ax_data(&r), "lastError"), "code")),
                 "INVALID_CREDENTIALS");
    bl_test_reply_clear(&r);
    pthread_mutex_lock(&ax_fake.lock);
    ax_fake.reject_next_401 = 0;
    ax_fake.refuse_refresh = false;
    pthread_mutex_unlock(&ax_fake.lock);
    snprintf(path, sizeof path, BASE "/%s/test", "00000000-0000-0000-0000-000000000000");
    ax_call("POST", path, ax_manager, NULL, &r);
    CHECK(ax_fails_with(&r, 404, "INTEGRATION_NOT_FOUND"));
    bl_test_reply_clear(&r);
    /* Slack's incoming webhook gets a test message: one on a loopback
     * address is refused by the SSRF guard, a failed webhook */
    char slack[64];
    REQUIRE(ax_make_integration("slack", "chat", ax_org, slack) == 0);
    CHECK_EQ_INT(ax_put_settings(slack, "{\"settings\":{\"webhookUrl\":\"https://127.0.0.1:9/services/T0/B0/x\"}}", &r),
                 200);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/test", slack);
    CHECK_EQ_INT(ax_call("POST", path, ax_manager, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(ax_data(&r), "connectionStatus")), "unhealthy");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(ax_data(&r), "lastError"), "code")),
                 "WEBHOOK_FAILED");
    bl_test_reply_clear(&r);
}

/* ---- GET /integrations/analytics/metrics ---- */

static void metrics_are_computed_from_runs_and_calls(void)
{
    bl_test_reply r;
    CHECK_EQ_INT(ax_call("GET", BASE "/analytics/metrics?period=week", ax_admin, NULL, &r), 200);
    const json_t *d = ax_data(&r);
    CHECK(ax_enveloped(&r) && ax_is_obj(d, "overview") && ax_is_obj(d, "byProvider") && ax_is_obj(d, "trends") &&
          ax_is_obj(d, "errors"));
    const json_t *o = json_object_get(d, "overview");
    CHECK(ax_is_int(o, "totalIntegrations") && ax_is_int(o, "activeIntegrations") && ax_is_int(o, "totalSyncs") &&
          json_object_get(o, "successRate") && json_object_get(o, "averageResponseTime"));
    CHECK_EQ_INT(json_integer_value(json_object_get(o, "totalIntegrations")),
                 ax_sql_long("SELECT count(*) FROM integrations WHERE organization_id::text = $1", ax_org));
    CHECK_EQ_INT(json_integer_value(json_object_get(o, "totalSyncs")),
                 ax_sql_long("SELECT count(*) FROM integration_sync_runs s JOIN integrations i ON i.id = s.integration_id"
                          " WHERE i.organization_id::text = $1 AND s.type <> 'cleanup'"
                          " AND s.started_at > now() - interval '7 days'", ax_org));
    const json_t *google = json_object_get(json_object_get(d, "byProvider"), "google");
    CHECK(ax_is_int(google, "integrations") && ax_is_int(google, "syncs") && json_object_get(google, "successRate") &&
          ax_is_str(google, "averageResponseTime"));
    const json_t *trends = json_object_get(d, "trends");
    CHECK(ax_is_arr(trends, "syncVolume") && ax_is_arr(trends, "responseTime"));
    const json_t *day = json_array_get(json_object_get(trends, "syncVolume"), 0);
    CHECK(ax_is_str(day, "date") && ax_is_int(day, "syncs") && ax_is_int(day, "errors"));
    const json_t *e = json_object_get(d, "errors");
    CHECK(ax_is_int(e, "totalErrors") && json_is_number(json_object_get(e, "errorRate")) && ax_is_arr(e, "commonErrors"));
    /* the test's provider failures were counted (RATE_LIMIT_EXCEEDED, ...) */
    CHECK(json_integer_value(json_object_get(e, "totalErrors")) >= 4);
    const json_t *common = json_array_get(json_object_get(e, "commonErrors"), 0);
    CHECK(ax_is_str(common, "error") && ax_is_int(common, "count") && json_is_number(json_object_get(common, "percentage")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(ax_call("GET", BASE "/analytics/metrics?providers=slack", ax_admin, NULL, &r), 200);
    CHECK(!json_object_get(json_object_get(ax_data(&r), "byProvider"), "google"));
    bl_test_reply_clear(&r);
    ax_call("GET", BASE "/analytics/metrics?providers=google,dropbox", ax_admin, NULL, &r);
    CHECK(ax_fails_with(&r, 400, "PROVIDER_NOT_SUPPORTED"));
    bl_test_reply_clear(&r);
    ax_call("GET", BASE "/analytics/metrics?period=year", ax_admin, NULL, &r);
    CHECK(ax_fails_with(&r, 400, "VALIDATION_ERROR"));
    bl_test_reply_clear(&r);
    /* Admin only */
    ax_call("GET", BASE "/analytics/metrics", ax_manager, NULL, &r);
    CHECK(ax_fails_with(&r, 403, "PERMISSION_DENIED"));
    bl_test_reply_clear(&r);
}

/* ---- the caller's rate limit, the document ---- */

static void rate_limit_is_answered_with_the_document_code(void)
{
    bl_test_reply r;
    long st = 0;
    for (int i = 0; i < 3 && st != 429; i++) {
        st = ax_call("GET", BASE, ax_slow, NULL, &r);
        if (st != 429)
            bl_test_reply_clear(&r);
    }
    CHECK(ax_fails_with(&r, 429, "RATE_LIMIT_EXCEEDED"));
    bl_test_reply_clear(&r);
}

static void openapi_documents_every_path(void)
{
    bl_test_reply r;
    CHECK_EQ_INT(ax_call("GET", "/attendance/api/openapi.json", NULL, NULL, &r), 200);
    const json_t *paths = json_object_get(r.json, "paths");
    static const char *const want[][2] = {
        {"/attendance/api/integrations", "get"},
        {"/attendance/api/integrations/{provider}/connect", "post"},
        {"/attendance/api/integrations/{provider}/callback", "post"},
        {"/attendance/api/integrations/{id}/settings", "put"},
        {"/attendance/api/integrations/{id}", "delete"},
        {"/attendance/api/integrations/{id}/history", "get"},
        {"/attendance/api/integrations/{id}/sync", "post"},
        {"/attendance/api/integrations/{id}/sync/{syncId}/status", "get"},
        {"/attendance/api/integrations/{id}/test", "post"},
        {"/attendance/api/integrations/analytics/metrics", "get"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const json_t *op = json_object_get(json_object_get(paths, want[i][0]), want[i][1]);
        if (!json_object_get(op, "responses"))
            fprintf(stderr, "  %s %s: undocumented\n", want[i][1], want[i][0]);
        CHECK(json_object_get(op, "responses") != NULL);
    }
    const json_t *put = json_object_get(json_object_get(paths, "/attendance/api/integrations/{id}/settings"), "put");
    char *text = json_dumps(put, JSON_COMPACT);
    CHECK(text && strstr(text, "teamsIntegration") && strstr(text, "meetingDefaults") && strstr(text, "messageTemplates"));
    free(text);
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (ax_setup() == 0) {
        BL_RUN(list_shows_the_documented_fields_and_filters);
        BL_RUN(connect_answers_the_authorization_url);
        BL_RUN(callback_connects_and_schedules_the_first_sync);
        BL_RUN(settings_examples_of_every_provider_are_saved);
        BL_RUN(test_checks_the_provider_and_names_its_errors);
        BL_RUN(metrics_are_computed_from_runs_and_calls);
        BL_RUN(rate_limit_is_answered_with_the_document_code);
        BL_RUN(openapi_documents_every_path);
    } else {
        bl_test_failures++;
    }
    ax_teardown();
    curl_global_cleanup();
    return bl_test_summary();
}
