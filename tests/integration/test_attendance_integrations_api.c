/* Design document 001's integrations API on the Attendance-X surface
 * (/attendance/api/integrations), in-process on a fresh database against
 * the local fake of Google's OAuth endpoints: one test per documented
 * request, sent with the document's example body as written, every
 * documented answer field checked for presence and type, and each status
 * and error code provoked. The sync worker (busline sync) is not part of
 * this API: where a run must end (DELETE's cleanup), the test does the
 * worker's part on the run row, as that worker does. */
#include "api/auth/keys.h"
#include "api/auth/orgs.h"
#include "api/server.h"
#include "core/crypto.h"
#include "core/migrations.h"
#include "tests/support/api_fixture.h"
#include "tests/support/fake_oauth.h"
#include "tests/support/pg_test.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REDIRECT "https://app.attendance-x.com/integrations/callback"
#define KEYS "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define BASE "/attendance/api/integrations"

static char pg_url[512];
static bl_pg_pool *pool;
static bl_api_server *srv;        /* waits for a cleanup run (30 s) */
static bl_api_server *srv_nowait; /* answers a DELETE at once */
static bl_api_server *srv_moved;  /* the surface under another prefix */
static fake_oauth fake;
static char org[BL_API_ID_MAX], other_org[BL_API_ID_MAX];
static char admin[BL_API_TOKEN_SIZE], manager[BL_API_TOKEN_SIZE], reader[BL_API_TOKEN_SIZE];
static char other_admin[BL_API_TOKEN_SIZE], slow[BL_API_TOKEN_SIZE];
static char manager_id[BL_API_ID_MAX];

/* ---- helpers ---- */

static long call_on(bl_api_server *s, const char *method, const char *path, const char *token, const char *body,
                    bl_test_reply *r)
{
    return bl_test_http_call(bl_api_server_port(s), method, path, token, NULL, body, r);
}

static long call(const char *method, const char *path, const char *token, const char *body, bl_test_reply *r)
{
    return call_on(srv, method, path, token, body, r);
}

static const json_t *data_of(const bl_test_reply *r)
{
    return json_object_get(r->json, "data");
}

/* The envelope of a success: {"success": true, "data": ...}. */
static bool enveloped(const bl_test_reply *r)
{
    return json_is_true(json_object_get(r->json, "success")) && json_object_get(r->json, "data");
}

/* The attendance error shape with code. */
static bool fails_with(const bl_test_reply *r, long status, const char *code)
{
    const json_t *e = json_object_get(r->json, "error");
    bool ok = r->status == status && json_is_false(json_object_get(r->json, "success")) &&
              json_is_string(json_object_get(e, "message")) && json_is_string(json_object_get(e, "request_id")) &&
              code && json_string_value(json_object_get(e, "code")) &&
              strcmp(json_string_value(json_object_get(e, "code")), code) == 0;
    if (!ok)
        fprintf(stderr, "  want %ld %s, got %ld %.400s\n", status, code, r->status, r->body);
    return ok;
}

static bool is_str(const json_t *o, const char *k)
{
    bool ok = json_is_string(json_object_get(o, k));
    if (!ok)
        fprintf(stderr, "  %s: not a string\n", k);
    return ok;
}
static bool is_int(const json_t *o, const char *k)
{
    bool ok = json_is_integer(json_object_get(o, k));
    if (!ok)
        fprintf(stderr, "  %s: not an integer\n", k);
    return ok;
}
static bool is_bool(const json_t *o, const char *k)
{
    bool ok = json_is_boolean(json_object_get(o, k));
    if (!ok)
        fprintf(stderr, "  %s: not a boolean\n", k);
    return ok;
}
static bool is_obj(const json_t *o, const char *k)
{
    bool ok = json_is_object(json_object_get(o, k));
    if (!ok)
        fprintf(stderr, "  %s: not an object\n", k);
    return ok;
}
static bool is_arr(const json_t *o, const char *k)
{
    bool ok = json_is_array(json_object_get(o, k));
    if (!ok)
        fprintf(stderr, "  %s: not an array\n", k);
    return ok;
}
/* present, a string or null */
static bool is_str_or_null(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    bool ok = v && (json_is_string(v) || json_is_null(v));
    if (!ok)
        fprintf(stderr, "  %s: absent, or neither a string nor null\n", k);
    return ok;
}

static long sql_long(const char *sql, const char *param)
{
    char out[64] = "";
    const char *p[] = {param};
    return bl_test_sql_value(pool, sql, param ? 1 : 0, p, out, sizeof out) == 0 ? atol(out) : -1;
}

static const char *detail(const bl_test_reply *r, const char *path)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(r->json, "error"), "details"), path));
}

/* Connects Google through connect and callback with the document's bodies;
 * id gets the integration id. Returns 0 or -1. */
static int connect_google(char id[64], bl_test_reply *callback_reply)
{
    bl_test_reply r;
    call("POST", BASE "/google/connect", manager,
         "{\"scopes\":[\"calendar.read\",\"calendar.write\",\"events.manage\"],"
         "\"settings\":{\"syncDirection\":\"bidirectional\",\"autoSync\":true,\"syncInterval\":300},"
         "\"redirectUri\":\"" REDIRECT "\"}",
         &r);
    const char *url = json_string_value(json_object_get(data_of(&r), "authUrl"));
    const char *state = json_string_value(json_object_get(data_of(&r), "state"));
    const char *ch = url ? strstr(url, "code_challenge=") : NULL;
    char st[96] = "";
    if (r.status == 200 && ch && state) {
        snprintf(fake.challenge, sizeof fake.challenge, "%.*s", (int)strcspn(ch + 15, "&"), ch + 15);
        snprintf(st, sizeof st, "%s", state);
    }
    bl_test_reply_clear(&r);
    if (!st[0])
        return -1;
    char body[256];
    snprintf(body, sizeof body, "{\"code\":\"4/good-code\",\"state\":\"%s\"}", st);
    bl_test_reply local, *cb = callback_reply ? callback_reply : &local;
    call("POST", BASE "/google/callback", manager, body, cb);
    const char *v = json_string_value(json_object_get(data_of(cb), "integrationId"));
    int rc = cb->status == 200 && v ? 0 : -1;
    if (rc == 0)
        snprintf(id, 64, "%s", v);
    else
        fprintf(stderr, "  callback %ld: %s (%s)\n", cb->status, cb->body, fake.last_error);
    if (!callback_reply)
        bl_test_reply_clear(cb);
    return rc;
}

/* An integration of provider made directly in the database (a connection
 * of that provider has no fake here), with a sealed token. */
static int make_integration(const char *provider, const char *type, const char *o, char id[64])
{
    const char *p[] = {o, provider, type};
    if (bl_test_sql_value(pool, "INSERT INTO integrations (id, organization_id, provider, type, status, scopes,"
                                " account_name) VALUES (gen_random_uuid(), $1, $2, $3, 'connected',"
                                " '{chat:write}', 'workspace') RETURNING id",
                          3, p, id, 64) != 0)
        return -1;
    bl_err err = {0};
    bl_keyring *kr = bl_keyring_from_env(&err);
    char *sealed = kr ? bl_keyring_seal(kr, "token-x", 7, id, strlen(id), &err) : NULL;
    bl_keyring_free(kr);
    const char *tp[] = {id, sealed};
    int rc = sealed ? bl_test_sql(pool, "UPDATE integrations SET access_token_ciphertext = $2,"
                                        " token_expires_at = now() + interval '1 day' WHERE id = $1", 2, tp)
                    : -1;
    free(sealed);
    return rc;
}

/* Ends the queued run of integration id as the worker would (a status,
 * the statistics it counted). */
static int end_run(const char *id, const char *status, const char *statistics)
{
    const char *p[] = {id, status, statistics};
    return bl_test_sql(pool, "UPDATE integration_sync_runs SET status = $2, statistics = $3::jsonb,"
                             " finished_at = now(), duration_ms = 1500 WHERE integration_id::text = $1"
                             " AND status IN ('queued', 'running')", 3, p);
}

/* ---- GET /integrations ---- */

static void list_shows_the_documented_fields_and_filters(void)
{
    char google[64], slack[64];
    REQUIRE(connect_google(google, NULL) == 0);
    REQUIRE(make_integration("slack", "chat", org, slack) == 0);
    const char *sp[] = {slack};
    REQUIRE(bl_test_sql(pool, "UPDATE integrations SET settings = '{\"defaultChannel\":\"#general\","
                              "\"channels\":{\"default\":\"#general\",\"alerts\":\"#attendance-alerts\"}}'"
                              " WHERE id = $1", 1, sp) == 0);
    /* a link the worker made and a finished run, so the statistics count */
    const char *gp[] = {google};
    REQUIRE(end_run(google, "success", "{\"eventsProcessed\":1,\"eventsCreated\":1,\"eventsUpdated\":0,"
                                       "\"eventsDeleted\":0,\"errors\":0}") == 0);
    REQUIRE(bl_test_sql(pool, "INSERT INTO integration_event_links (integration_id, organization_id, event_id,"
                              " calendar_id, external_id) SELECT id, organization_id, 'ev-1', 'primary', 'g-1'"
                              " FROM integrations WHERE id = $1", 1, gp) == 0);
    bl_test_reply r;
    CHECK_EQ_INT(call("GET", BASE, manager, NULL, &r), 200);
    CHECK(enveloped(&r));
    const json_t *g = NULL, *s = NULL;
    size_t i;
    json_t *row;
    json_array_foreach (data_of(&r), i, row) {
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
    CHECK(is_str(g, "connectedAt") && is_str_or_null(g, "lastSync") && is_obj(g, "settings") &&
          is_arr(g, "permissions") && is_obj(g, "statistics") && is_obj(g, "connectedBy"));
    const json_t *settings = json_object_get(g, "settings");
    CHECK_EQ_STR(json_string_value(json_object_get(settings, "syncDirection")), "bidirectional");
    CHECK(json_is_true(json_object_get(settings, "autoSync")));
    CHECK_EQ_INT(json_integer_value(json_object_get(settings, "syncInterval")), 300);
    /* the fake granted calendar.events: read, write and manage */
    CHECK_EQ_INT(json_array_size(json_object_get(g, "permissions")), 3);
    const json_t *stats = json_object_get(g, "statistics");
    CHECK(is_int(stats, "eventsSynced") && is_str(stats, "lastSyncDuration") && is_int(stats, "errorCount") &&
          json_is_number(json_object_get(stats, "successRate")));
    CHECK_EQ_INT(json_integer_value(json_object_get(stats, "eventsSynced")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(stats, "lastSyncDuration")), "1.5s");
    CHECK(json_number_value(json_object_get(stats, "successRate")) > 0.99);
    const json_t *by = json_object_get(g, "connectedBy");
    CHECK_EQ_STR(json_string_value(json_object_get(by, "id")), manager_id);
    CHECK(is_str(by, "name") && json_object_get(by, "email"));
    CHECK_EQ_STR(json_string_value(json_object_get(s, "type")), "communication");
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(s, "statistics"), "channelsConnected")), 2);
    CHECK(is_str_or_null(s, "lastActivity"));
    bl_test_reply_clear(&r);

    CHECK_EQ_INT(call("GET", BASE "?provider=slack&status=connected&type=communication", manager, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(data_of(&r)), 1);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", BASE "?type=video", admin, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(data_of(&r)), 0);
    bl_test_reply_clear(&r);
    call("GET", BASE "?provider=dropbox", manager, NULL, &r);
    CHECK(fails_with(&r, 400, "PROVIDER_NOT_SUPPORTED"));
    bl_test_reply_clear(&r);
    call("GET", BASE "?status=sleeping", manager, NULL, &r);
    CHECK(fails_with(&r, 400, "VALIDATION_ERROR"));
    bl_test_reply_clear(&r);
    /* Manager or Admin: a read key is refused, no key is not recognised */
    call("GET", BASE, reader, NULL, &r);
    CHECK(fails_with(&r, 403, "PERMISSION_DENIED"));
    bl_test_reply_clear(&r);
    call("GET", BASE, NULL, NULL, &r);
    CHECK(fails_with(&r, 401, "INVALID_CREDENTIALS"));
    bl_test_reply_clear(&r);
    /* another organization sees none of these */
    CHECK_EQ_INT(call("GET", BASE, other_admin, NULL, &r), 200);
    CHECK(!strstr(r.body, google) && !strstr(r.body, slack));
    bl_test_reply_clear(&r);
}

/* ---- POST /integrations/:provider/connect ---- */

static void connect_answers_the_authorization_url(void)
{
    bl_test_reply r;
    CHECK_EQ_INT(call("POST", BASE "/google/connect", manager,
                      "{\"scopes\":[\"calendar.read\",\"calendar.write\",\"events.manage\"],"
                      "\"settings\":{\"syncDirection\":\"bidirectional\",\"autoSync\":true,\"syncInterval\":300},"
                      "\"redirectUri\":\"https://app.attendance-x.com/integrations/callback\"}",
                      &r),
                 200);
    const json_t *d = data_of(&r);
    CHECK(enveloped(&r) && is_str(d, "authUrl") && is_str(d, "state") && is_str(d, "expiresAt") &&
          is_arr(d, "scopes"));
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
    call("POST", BASE "/google/connect", manager,
         "{\"scopes\":[\"calendar.read\",\"calendar.write\"],\"settings\":{\"syncDirection\":\"bidirectional\","
         "\"autoSync\":true}}",
         &r);
    CHECK(fails_with(&r, 422, "VALIDATION_ERROR") && detail(&r, "redirectUri"));
    bl_test_reply_clear(&r);
    /* Microsoft: the document's words as Graph scopes, each once, with offline_access */
    CHECK_EQ_INT(call("POST", BASE "/microsoft/connect", manager,
                      "{\"scopes\":[\"calendar.write\",\"events.manage\",\"meetings.manage\"],"
                      "\"settings\":{\"teamsIntegration\":{\"enabled\":true,\"autoCreateMeetings\":true}},"
                      "\"redirectUri\":\"" REDIRECT "\"}",
                      &r),
                 200);
    url = json_string_value(json_object_get(data_of(&r), "authUrl"));
    const char *rw = url ? strstr(url, "Calendars.ReadWrite") : NULL;
    CHECK(rw && !strstr(rw + 1, "Calendars.ReadWrite") && strstr(url, "OnlineMeetings.ReadWrite") &&
          strstr(url, "offline_access"));
    CHECK_EQ_STR(json_string_value(json_object_get(data_of(&r), "provider")), "microsoft");
    bl_test_reply_clear(&r);
    /* Zoom connects server-to-server at once: its token endpoint is unreachable here */
    call("POST", BASE "/zoom/connect", manager, "{\"settings\":{\"account_id\":\"acct-1\",\"autoCreateMeetings\":true}}",
         &r);
    CHECK(fails_with(&r, 502, "CONNECTION_ERROR"));
    bl_test_reply_clear(&r);
    call("POST", BASE "/dropbox/connect", manager, "{\"redirectUri\":\"" REDIRECT "\"}", &r);
    CHECK(fails_with(&r, 400, "PROVIDER_NOT_SUPPORTED"));
    bl_test_reply_clear(&r);
    /* every problem at once, by path */
    call("POST", BASE "/google/connect", manager,
         "{\"scopes\":[\"calendar.read\",\"mail.read\"],\"redirectUri\":\"" REDIRECT "\",\"colour\":1,"
         "\"settings\":{\"eventMapping\":{\"titlePrefix\":\"[A] \",\"colour\":\"red\"},\"syncInterval\":\"5m\"}}",
         &r);
    CHECK(fails_with(&r, 422, "VALIDATION_ERROR"));
    CHECK(detail(&r, "scopes[1]") && detail(&r, "colour") && detail(&r, "settings.eventMapping.colour") &&
          detail(&r, "settings.syncInterval"));
    CHECK(!detail(&r, "scopes[0]") && !detail(&r, "settings.eventMapping.titlePrefix"));
    bl_test_reply_clear(&r);
    call("POST", BASE "/google/connect", reader, "{\"redirectUri\":\"" REDIRECT "\"}", &r);
    CHECK(fails_with(&r, 403, "PERMISSION_DENIED"));
    bl_test_reply_clear(&r);
}

/* ---- POST /integrations/:provider/callback ---- */

static void callback_connects_and_schedules_the_first_sync(void)
{
    char id[64];
    bl_test_reply r;
    REQUIRE(connect_google(id, &r) == 0);
    const json_t *d = data_of(&r);
    CHECK(enveloped(&r) && is_str(d, "integrationId") && is_str(d, "connectedAt") && is_arr(d, "permissions") &&
          is_obj(d, "userInfo") && is_obj(d, "initialSync"));
    CHECK_EQ_STR(json_string_value(json_object_get(d, "provider")), "google");
    CHECK_EQ_STR(json_string_value(json_object_get(d, "status")), "connected");
    const json_t *user = json_object_get(d, "userInfo");
    CHECK(json_object_get(user, "email") && json_object_get(user, "name") && json_object_get(user, "avatar"));
    const json_t *initial = json_object_get(d, "initialSync");
    CHECK_EQ_STR(json_string_value(json_object_get(initial, "status")), "scheduled");
    CHECK(json_object_get(initial, "estimatedDuration"));
    /* the first sync is a queued run the worker will take, the timer armed */
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM integration_sync_runs WHERE integration_id::text = $1"
                          " AND status = 'queued' AND triggered_by = '\"initial_sync\"'", id), 1);
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM integrations WHERE id::text = $1 AND auto_sync"
                          " AND sync_interval_s = 300 AND next_sync_at > now() AND NOT settings ? 'autoSync'", id), 1);
    bl_test_reply_clear(&r);
    /* the document's example as written: a state this server never issued */
    call("POST", BASE "/google/callback", manager,
         "{\"code\":\"oauth_authorization_code\",\"state\":\"state-token-123\"}", &r);
    CHECK(fails_with(&r, 400, "OAUTH_ERROR"));
    bl_test_reply_clear(&r);
    call("POST", BASE "/google/callback", manager, "{\"error\":\"access_denied\"}", &r);
    CHECK(fails_with(&r, 400, "OAUTH_ERROR"));
    bl_test_reply_clear(&r);
    call("POST", BASE "/google/callback", manager, "{\"code\":\"oauth_authorization_code\"}", &r);
    CHECK(fails_with(&r, 422, "VALIDATION_ERROR") && detail(&r, "state"));
    bl_test_reply_clear(&r);
    call("POST", BASE "/zoomish/callback", manager, "{\"code\":\"c\",\"state\":\"s\"}", &r);
    CHECK(fails_with(&r, 400, "PROVIDER_NOT_SUPPORTED"));
    bl_test_reply_clear(&r);
}

/* ---- PUT /integrations/:id/settings ---- */

static long put_settings(const char *id, const char *body, bl_test_reply *r)
{
    char path[160];
    snprintf(path, sizeof path, BASE "/%s/settings", id);
    return call("PUT", path, manager, body, r);
}

static void settings_examples_of_every_provider_are_saved(void)
{
    char google[64], microsoft[64], slack[64], zoom[64];
    REQUIRE(connect_google(google, NULL) == 0);
    REQUIRE(make_integration("microsoft_365", "calendar", org, microsoft) == 0);
    REQUIRE(make_integration("slack", "chat", org, slack) == 0);
    REQUIRE(make_integration("zoom", "meetings", org, zoom) == 0);
    bl_test_reply r;
    /* the example of PUT /integrations/:id/settings */
    CHECK_EQ_INT(put_settings(google,
                              "{\"syncDirection\":\"attendance_to_external\",\"autoSync\":false,\"syncInterval\":600,"
                              "\"settings\":{\"calendarId\":\"work@techcorp.com\",\"eventPrefix\":\"[Attendance-X]\","
                              "\"includeDescription\":true,\"syncPrivateEvents\":false},"
                              "\"notifications\":{\"syncErrors\":true,\"syncSuccess\":false,\"weeklyReport\":true}}",
                              &r),
                 200);
    CHECK(enveloped(&r));
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(data_of(&r), "settings"), "calendarId")),
                 "work@techcorp.com");
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM integrations WHERE id::text = $1 AND sync_direction ="
                          " 'attendance_to_external' AND NOT auto_sync AND sync_interval_s = 600"
                          " AND next_sync_at IS NULL AND notifications->>'weeklyReport' = 'true'", google), 1);
    bl_test_reply_clear(&r);
    /* Google's advanced configuration */
    CHECK_EQ_INT(put_settings(google,
                              "{\"settings\":{\"calendarId\":\"primary\",\"syncDirection\":\"bidirectional\","
                              "\"eventMapping\":{\"titlePrefix\":\"[Attendance-X] \",\"includeAttendees\":true,"
                              "\"includeDescription\":true,\"includeLocation\":true,\"colorId\":\"2\"},"
                              "\"filters\":{\"eventTypes\":[\"training\",\"meeting\",\"conference\"],"
                              "\"excludePrivate\":true,\"minDuration\":30},"
                              "\"notifications\":{\"reminders\":true,\"reminderMinutes\":[15,60]}}}",
                              &r),
                 200);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM integrations WHERE id::text = $1 AND sync_direction = 'bidirectional'"
                          " AND settings->'eventMapping'->>'colorId' = '2' AND settings->>'eventPrefix' ="
                          " '[Attendance-X]'", google), 1);
    /* autoSync arms the durable timer */
    CHECK_EQ_INT(put_settings(google, "{\"autoSync\":true,\"syncInterval\":900}", &r), 200);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM integrations WHERE id::text = $1 AND auto_sync AND next_sync_at"
                          " BETWEEN now() + interval '14 minutes' AND now() + interval '16 minutes'", google), 1);
    /* Microsoft 365 with Teams */
    CHECK_EQ_INT(put_settings(microsoft,
                              "{\"settings\":{\"calendarId\":\"primary\",\"teamsIntegration\":{\"enabled\":true,"
                              "\"autoCreateMeetings\":true,\"defaultMeetingSettings\":{\"allowAnonymous\":false,"
                              "\"recordAutomatically\":false,\"allowTranscription\":true}},"
                              "\"outlookSettings\":{\"categoryColor\":\"blue\",\"importance\":\"normal\","
                              "\"showAs\":\"busy\"}}}",
                              &r),
                 200);
    bl_test_reply_clear(&r);
    /* Slack, as the document's configuration and as its JavaScript example */
    CHECK_EQ_INT(put_settings(slack,
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
    CHECK_EQ_INT(put_settings(slack,
                              "{\"settings\":{\"channels\":{\"default\":\"#general\",\"alerts\":\"#attendance-alerts\"},"
                              "\"messageTemplates\":{\"eventReminder\":\"Rappel: {eventName} commence dans {timeUntil}\","
                              "\"attendanceAlert\":\"Faible pr\xc3\xa9sence: {eventName} ({attendanceRate}%)\"},"
                              "\"notifications\":{\"eventReminders\":true,\"attendanceAlerts\":true,"
                              "\"weeklyReports\":true}}}",
                              &r),
                 200);
    bl_test_reply_clear(&r);
    /* Zoom's meetings */
    CHECK_EQ_INT(put_settings(zoom,
                              "{\"settings\":{\"autoCreateMeetings\":true,\"meetingDefaults\":{\"type\":\"scheduled\","
                              "\"duration\":60,\"timezone\":\"Europe/Paris\",\"password\":true,\"waitingRoom\":true,"
                              "\"joinBeforeHost\":false,\"muteUponEntry\":true,\"recordingSettings\":"
                              "{\"autoRecording\":\"cloud\",\"recordingAuthentication\":true}},"
                              "\"attendanceTracking\":{\"enabled\":true,\"syncAttendance\":true,\"minimumDuration\":30}}}",
                              &r),
                 200);
    bl_test_reply_clear(&r);
    /* unknown keys and bad values, each with its path, in one answer */
    put_settings(google,
                 "{\"settings\":{\"eventMapping\":{\"colour\":\"red\",\"colorId\":\"12\"},\"filters\":"
                 "{\"eventTypes\":[\"training\",\"party\"]},\"teamsIntegration\":{\"enabled\":true}},"
                 "\"notifications\":{\"daily\":true},\"syncDirection\":\"sideways\"}",
                 &r);
    CHECK(fails_with(&r, 422, "VALIDATION_ERROR"));
    CHECK(detail(&r, "settings.eventMapping.colour") && detail(&r, "settings.eventMapping.colorId") &&
          detail(&r, "settings.filters.eventTypes[1]") && detail(&r, "settings.teamsIntegration") &&
          detail(&r, "notifications.daily") && detail(&r, "syncDirection"));
    bl_test_reply_clear(&r);
    /* a Slack placeholder the event cannot fill is refused when saved */
    put_settings(slack, "{\"settings\":{\"messageTemplates\":{\"eventReminder\":\"{eventName} in {roomNumber}\","
                        "\"weeklyReport\":\"week of {eventName}\"},\"channels\":{\"default\":\"general\"}}}",
                 &r);
    CHECK(fails_with(&r, 422, "VALIDATION_ERROR"));
    const char *why = detail(&r, "settings.messageTemplates.eventReminder");
    CHECK(why && strstr(why, "roomNumber"));
    CHECK(detail(&r, "settings.messageTemplates.weeklyReport") && detail(&r, "settings.channels.default"));
    bl_test_reply_clear(&r);
    put_settings("00000000-0000-0000-0000-000000000000", "{\"autoSync\":true}", &r);
    CHECK(fails_with(&r, 404, "INTEGRATION_NOT_FOUND"));
    bl_test_reply_clear(&r);
    /* /v1 takes the same nested settings and keeps its own answer */
    char path[160];
    snprintf(path, sizeof path, "/v1/integrations/%s/settings", slack);
    CHECK_EQ_INT(call("PUT", path, admin,
                      "{\"settings\":{\"channels\":{\"default\":\"#general\"},\"messageTemplates\":"
                      "{\"eventReminder\":\"{eventName} dans {timeUntil}\"},\"channel\":\"C123\"}}",
                      &r),
                 200);
    CHECK(json_is_string(json_object_get(r.json, "id")) && !json_object_get(r.json, "success"));
    bl_test_reply_clear(&r);
    call("PUT", path, admin, "{\"settings\":{\"channels\":{\"default\":\"#general\",\"bogus\":\"#x\"}}}", &r);
    CHECK_EQ_INT(r.status, 422);
    CHECK(strstr(r.body, "settings.channels.bogus") != NULL);
    bl_test_reply_clear(&r);
}

/* ---- GET /integrations/:id/history ---- */

static void history_lists_runs_with_filters_and_meta(void)
{
    char id[64];
    REQUIRE(make_integration("google_calendar", "calendar", org, id) == 0);
    const char *p[] = {id};
    REQUIRE(bl_test_sql(pool,
                        "INSERT INTO integration_sync_runs (integration_id, status, type, direction, statistics, errors,"
                        " triggered_by, started_at, finished_at, duration_ms) VALUES"
                        " ($1, 'success', 'automatic', 'bidirectional', '{\"eventsProcessed\":23,\"eventsCreated\":5,"
                        "\"eventsUpdated\":12,\"eventsDeleted\":2,\"errors\":0}', '[]', '\"scheduled_sync\"',"
                        " '2024-03-15T14:30:00Z', '2024-03-15T14:32:15Z', 135000),"
                        " ($1, 'partial', 'manual', 'bidirectional', '{\"eventsProcessed\":15,\"eventsCreated\":3,"
                        "\"eventsUpdated\":8,\"eventsDeleted\":0,\"errors\":4}', '[{\"eventId\":\"event-123\","
                        "\"error\":\"Calendar permission denied\",\"code\":\"PERMISSION_DENIED\"}]',"
                        " '{\"userId\":\"user-456\",\"name\":\"Marie Dubois\"}', '2024-03-15T10:00:00Z',"
                        " '2024-03-15T10:01:45Z', 105000)",
                        1, p) == 0);
    char path[256];
    bl_test_reply r;
    snprintf(path, sizeof path, BASE "/%s/history", id);
    CHECK_EQ_INT(call("GET", path, manager, NULL, &r), 200);
    CHECK(enveloped(&r) && is_obj(r.json, "meta"));
    const json_t *meta = json_object_get(r.json, "meta");
    CHECK(is_int(meta, "page") && is_int(meta, "limit") && is_int(meta, "total") && is_int(meta, "totalPages"));
    CHECK_EQ_INT(json_integer_value(json_object_get(meta, "limit")), 50);
    CHECK_EQ_INT(json_integer_value(json_object_get(meta, "total")), 2);
    const json_t *first = json_array_get(data_of(&r), 0), *second = json_array_get(data_of(&r), 1);
    CHECK(is_str(first, "id") && is_str(first, "startedAt") && is_str(first, "completedAt") &&
          is_str(first, "status") && is_str(first, "type") && is_str(first, "direction") &&
          is_obj(first, "statistics") && is_str(first, "duration") && json_object_get(first, "triggeredBy"));
    CHECK_EQ_STR(json_string_value(json_object_get(first, "duration")), "2m 15s");
    CHECK_EQ_STR(json_string_value(json_object_get(first, "triggeredBy")), "scheduled_sync");
    const json_t *st = json_object_get(first, "statistics");
    CHECK(is_int(st, "eventsProcessed") && is_int(st, "eventsCreated") && is_int(st, "eventsUpdated") &&
          is_int(st, "eventsDeleted") && is_int(st, "errors"));
    CHECK_EQ_STR(json_string_value(json_object_get(second, "status")), "partial");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(second, "errors"), 0), "code")),
                 "PERMISSION_DENIED");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(second, "triggeredBy"), "name")), "Marie Dubois");
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/history?status=partial&limit=1", id);
    CHECK_EQ_INT(call("GET", path, manager, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(data_of(&r)), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "meta"), "totalPages")), 1);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/history?limit=1&page=2", id);
    CHECK_EQ_INT(call("GET", path, manager, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "meta"), "totalPages")), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(data_of(&r), 0), "status")), "partial");
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/history?startDate=2024-03-15T12:00:00Z&endDate=2024-03-16", id);
    CHECK_EQ_INT(call("GET", path, manager, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(data_of(&r)), 1);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/history?limit=0", id);
    call("GET", path, manager, NULL, &r);
    CHECK(fails_with(&r, 400, "VALIDATION_ERROR"));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/history?startDate=yesterday-ish", id);
    call("GET", path, manager, NULL, &r);
    CHECK(fails_with(&r, 400, "VALIDATION_ERROR"));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/history", id);
    call("GET", path, other_admin, NULL, &r);
    CHECK(fails_with(&r, 404, "INTEGRATION_NOT_FOUND"));
    bl_test_reply_clear(&r);
}

/* ---- POST /integrations/:id/sync and GET .../sync/:syncId/status ---- */

static void sync_queues_a_run_for_the_worker(void)
{
    char id[64], slack[64];
    REQUIRE(make_integration("google_calendar", "calendar", org, id) == 0);
    REQUIRE(make_integration("slack", "chat", org, slack) == 0);
    char path[256];
    bl_test_reply r;
    snprintf(path, sizeof path, BASE "/%s/sync", id);
    CHECK_EQ_INT(call("POST", path, manager,
                      "{\"direction\":\"bidirectional\",\"scope\":\"all\",\"options\":{\"forceUpdate\":false,"
                      "\"dryRun\":false,\"dateRange\":{\"start\":\"2024-03-01T00:00:00Z\","
                      "\"end\":\"2024-03-31T23:59:59Z\"}}}",
                      &r),
                 202);
    const json_t *d = data_of(&r);
    CHECK(enveloped(&r) && is_str(d, "syncId") && is_str(d, "startedAt") && json_object_get(d, "estimatedDuration") &&
          is_str(d, "statusUrl"));
    CHECK_EQ_STR(json_string_value(json_object_get(d, "status")), "started");
    char run[64], url[512];
    snprintf(run, sizeof run, "%s", json_string_value(json_object_get(d, "syncId")));
    snprintf(url, sizeof url, "%s", json_string_value(json_object_get(d, "statusUrl")));
    char want[512];
    snprintf(want, sizeof want, BASE "/%s/sync/%s/status", id, run);
    CHECK_EQ_STR(url, want);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM integration_sync_runs WHERE id::text = $1 AND status = 'queued'"
                          " AND type = 'manual' AND scope = 'all' AND NOT force_update AND NOT dry_run"
                          " AND range_from = '2024-03-01T00:00:00Z' AND triggered_by->>'userId' IS NOT NULL", run), 1);
    /* one run at a time */
    call("POST", path, manager, "{\"direction\":\"bidirectional\",\"scope\":\"all\",\"options\":{\"forceUpdate\":true}}",
         &r);
    CHECK(fails_with(&r, 409, "CONFLICT"));
    bl_test_reply_clear(&r);
    /* its status, as queued and once the worker ended it */
    CHECK_EQ_INT(call("GET", url, manager, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(data_of(&r), "status")), "queued");
    CHECK(json_is_false(json_object_get(data_of(&r), "completed")));
    bl_test_reply_clear(&r);
    REQUIRE(end_run(id, "success", "{\"eventsProcessed\":3,\"eventsCreated\":3,\"eventsUpdated\":0,"
                                   "\"eventsDeleted\":0,\"errors\":0}") == 0);
    CHECK_EQ_INT(call("GET", url, manager, NULL, &r), 200);
    d = data_of(&r);
    CHECK(is_str(d, "syncId") && is_str(d, "startedAt") && is_str(d, "completedAt") && is_obj(d, "statistics") &&
          is_str(d, "duration") && is_arr(d, "errors"));
    CHECK_EQ_STR(json_string_value(json_object_get(d, "status")), "success");
    CHECK(json_is_true(json_object_get(d, "completed")));
    bl_test_reply_clear(&r);
    /* the next estimate comes from that run */
    CHECK_EQ_INT(call("POST", path, manager, "{\"direction\":\"bidirectional\",\"scope\":\"all\","
                                             "\"options\":{\"forceUpdate\":true}}", &r), 202);
    CHECK_EQ_STR(json_string_value(json_object_get(data_of(&r), "estimatedDuration")), "2 seconds");
    bl_test_reply_clear(&r);
    /* the statusUrl follows the configured prefix */
    REQUIRE(end_run(id, "success", "{\"eventsProcessed\":0,\"eventsCreated\":0,\"eventsUpdated\":0,"
                                   "\"eventsDeleted\":0,\"errors\":0}") == 0);
    snprintf(path, sizeof path, "/ax/v2/integrations/%s/sync", id);
    CHECK_EQ_INT(call_on(srv_moved, "POST", path, manager, "{}", &r), 202);
    const char *moved = json_string_value(json_object_get(data_of(&r), "statusUrl"));
    CHECK(moved && strncmp(moved, "/ax/v2/integrations/", 20) == 0);
    bl_test_reply clone;
    CHECK_EQ_INT(moved ? call_on(srv_moved, "GET", moved, manager, NULL, &clone) : 0, 200);
    bl_test_reply_clear(&clone);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/sync", id);
    /* bad bodies, a provider with nothing to sync, a disconnected one, an unknown one */
    call("POST", path, manager, "{\"direction\":\"sideways\",\"options\":{\"dryRun\":\"yes\",\"dateRange\":"
                                "{\"start\":\"2024-03-01T00:00:00Z\"}},\"extra\":1}", &r);
    CHECK(fails_with(&r, 422, "VALIDATION_ERROR"));
    CHECK(detail(&r, "direction") && detail(&r, "options.dryRun") && detail(&r, "options.dateRange.end") &&
          detail(&r, "extra"));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/sync", slack);
    call("POST", path, manager, "{}", &r);
    CHECK(fails_with(&r, 400, "PROVIDER_NOT_SUPPORTED"));
    bl_test_reply_clear(&r);
    char off[64];
    REQUIRE(make_integration("google_calendar", "calendar", org, off) == 0);
    const char *op[] = {off};
    REQUIRE(bl_test_sql(pool, "UPDATE integrations SET status = 'error' WHERE id = $1", 1, op) == 0);
    snprintf(path, sizeof path, BASE "/%s/sync", off);
    call("POST", path, manager, "{\"direction\":\"bidirectional\"}", &r);
    CHECK(fails_with(&r, 409, "SYNC_FAILED"));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/sync", "00000000-0000-0000-0000-000000000000");
    call("POST", path, manager, "{}", &r);
    CHECK(fails_with(&r, 404, "INTEGRATION_NOT_FOUND"));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/sync/%s/status", id, "00000000-0000-0000-0000-000000000000");
    call("GET", path, manager, NULL, &r);
    CHECK(fails_with(&r, 404, "INTEGRATION_NOT_FOUND"));
    bl_test_reply_clear(&r);
    call("GET", url, other_admin, NULL, &r);
    CHECK(fails_with(&r, 404, "INTEGRATION_NOT_FOUND"));
    bl_test_reply_clear(&r);
}

/* ---- POST /integrations/:id/test ---- */

static void test_checks_the_provider_and_names_its_errors(void)
{
    char id[64], path[256];
    REQUIRE(connect_google(id, NULL) == 0);
    snprintf(path, sizeof path, BASE "/%s/test", id);
    bl_test_reply r;
    CHECK_EQ_INT(call("POST", path, manager, NULL, &r), 200);
    const json_t *d = data_of(&r);
    CHECK(enveloped(&r) && is_str(d, "responseTime") && is_obj(d, "permissions") && json_object_get(d, "apiLimits") &&
          json_object_get(d, "lastError") && is_arr(d, "recommendations"));
    CHECK_EQ_STR(json_string_value(json_object_get(d, "connectionStatus")), "healthy");
    CHECK(json_is_null(json_object_get(d, "lastError")));
    CHECK(is_bool(json_object_get(d, "permissions"), "read_calendar") &&
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
        pthread_mutex_lock(&fake.lock);
        fake.fail_next_status = failures[i].status;
        snprintf(fake.fail_next_body, sizeof fake.fail_next_body, "%s", failures[i].body);
        pthread_mutex_unlock(&fake.lock);
        CHECK_EQ_INT(call("POST", path, manager, NULL, &r), 200);
        d = data_of(&r);
        CHECK_EQ_STR(json_string_value(json_object_get(d, "connectionStatus")), "unhealthy");
        CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(d, "lastError"), "code")), failures[i].code);
        bl_test_reply_clear(&r);
    }
    /* a refused refresh after a 401: the credentials are gone */
    pthread_mutex_lock(&fake.lock);
    fake.reject_next_401 = 2;
    fake.refuse_refresh = true;
    pthread_mutex_unlock(&fake.lock);
    CHECK_EQ_INT(call("POST", path, manager, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(data_of(&r), "lastError"), "code")),
                 "INVALID_CREDENTIALS");
    bl_test_reply_clear(&r);
    pthread_mutex_lock(&fake.lock);
    fake.reject_next_401 = 0;
    fake.refuse_refresh = false;
    pthread_mutex_unlock(&fake.lock);
    snprintf(path, sizeof path, BASE "/%s/test", "00000000-0000-0000-0000-000000000000");
    call("POST", path, manager, NULL, &r);
    CHECK(fails_with(&r, 404, "INTEGRATION_NOT_FOUND"));
    bl_test_reply_clear(&r);
    /* Slack's incoming webhook gets a test message: one on a loopback
     * address is refused by the SSRF guard, a failed webhook */
    char slack[64];
    REQUIRE(make_integration("slack", "chat", org, slack) == 0);
    CHECK_EQ_INT(put_settings(slack, "{\"settings\":{\"webhookUrl\":\"https://127.0.0.1:9/services/T0/B0/x\"}}", &r),
                 200);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/test", slack);
    CHECK_EQ_INT(call("POST", path, manager, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(data_of(&r), "connectionStatus")), "unhealthy");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(data_of(&r), "lastError"), "code")),
                 "WEBHOOK_FAILED");
    bl_test_reply_clear(&r);
}

/* ---- DELETE /integrations/:id ---- */

typedef struct worker_play {
    char id[64];
    int removed;
} worker_play;

/* The worker's part: the queued cleanup run is claimed, the integration's
 * calendar copies are marked removed, and the run ends with that count. */
static void *play_cleanup_worker(void *arg)
{
    worker_play *w = arg;
    for (int i = 0; i < 600; i++) {
        if (sql_long("SELECT count(*) FROM integration_sync_runs WHERE integration_id::text = $1"
                     " AND type = 'cleanup' AND status = 'queued'", w->id) == 1)
            break;
        struct timespec t = {0, 20 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    const char *p[] = {w->id};
    char n[16] = "";
    bl_test_sql_value(pool, "WITH gone AS (UPDATE integration_event_links SET removed_at = now()"
                            " WHERE integration_id::text = $1 AND removed_at IS NULL RETURNING 1)"
                            " SELECT count(*) FROM gone", 1, p, n, sizeof n);
    w->removed = atoi(n);
    const char *q[] = {w->id, n};
    bl_test_sql(pool, "UPDATE integration_sync_runs SET status = 'success', finished_at = now(), duration_ms = 10,"
                      " statistics = jsonb_build_object('eventsProcessed', $2::int, 'eventsCreated', 0,"
                      " 'eventsUpdated', 0, 'eventsDeleted', $2::int, 'errors', 0)"
                      " WHERE integration_id::text = $1 AND type = 'cleanup' AND status = 'queued'", 2, q);
    return NULL;
}

static void delete_removes_copies_then_revokes(void)
{
    char id[64], path[256];
    REQUIRE(connect_google(id, NULL) == 0);
    const char *p[] = {id};
    /* the initial sync waits for a worker: the disconnect cancels it */
    REQUIRE(bl_test_sql(pool, "INSERT INTO integration_event_links (integration_id, organization_id, event_id,"
                              " calendar_id, external_id) SELECT id, organization_id, e, 'primary', 'g-' || e"
                              " FROM integrations, (VALUES ('ev-1'), ('ev-2')) v(e) WHERE id = $1", 1, p) == 0);
    int revokes = fake.revokes;
    worker_play w = {0};
    snprintf(w.id, sizeof w.id, "%s", id);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, play_cleanup_worker, &w) == 0);
    snprintf(path, sizeof path, BASE "/%s", id);
    bl_test_reply r;
    long st = call("DELETE", path, manager, NULL, &r);
    pthread_join(t, NULL);
    CHECK_EQ_INT(st, 200);
    const json_t *d = data_of(&r);
    CHECK(enveloped(&r) && is_str(d, "disconnectedAt") && is_obj(d, "cleanupStatus"));
    CHECK_EQ_STR(json_string_value(json_object_get(d, "integrationId")), id);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "status")), "disconnected");
    const json_t *c = json_object_get(d, "cleanupStatus");
    CHECK(is_int(c, "eventsRemoved") && json_object_get(c, "webhooksDisabled") && is_bool(c, "tokensRevoked"));
    CHECK_EQ_INT(json_integer_value(json_object_get(c, "eventsRemoved")), 2);
    CHECK_EQ_INT(w.removed, 2);
    CHECK(json_is_true(json_object_get(c, "tokensRevoked")));
    CHECK(json_is_null(json_object_get(c, "webhooksDisabled"))); /* nobody counted any */
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(fake.revokes, revokes + 1);
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM integrations WHERE id::text = $1 AND status = 'disconnected'"
                          " AND access_token_ciphertext IS NULL AND refresh_token_ciphertext IS NULL"
                          " AND NOT auto_sync AND disconnected_at IS NOT NULL", id), 1);
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM integration_sync_runs WHERE integration_id::text = $1"
                          " AND triggered_by = '\"initial_sync\"' AND status = 'error'", id), 1);
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM busline_outbox WHERE event_type = 'integration.disconnected'"
                          " AND aggregate_id = $1", id), 1);
    /* listed as disconnected; a repeated DELETE answers the same */
    CHECK_EQ_INT(call("GET", BASE "?status=disconnected", manager, NULL, &r), 200);
    CHECK(strstr(r.body, id) != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("DELETE", path, manager, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(data_of(&r), "cleanupStatus"), "eventsRemoved")),
                 2);
    bl_test_reply_clear(&r);
    call("DELETE", BASE "/00000000-0000-0000-0000-000000000000", manager, NULL, &r);
    CHECK(fails_with(&r, 404, "INTEGRATION_NOT_FOUND"));
    bl_test_reply_clear(&r);
}

static void delete_past_the_bound_answers_202_and_finishes_on_status(void)
{
    char id[64], path[256];
    REQUIRE(connect_google(id, NULL) == 0);
    int revokes = fake.revokes;
    snprintf(path, sizeof path, BASE "/%s", id);
    bl_test_reply r;
    CHECK_EQ_INT(call_on(srv_nowait, "DELETE", path, manager, NULL, &r), 202);
    const json_t *d = data_of(&r);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "status")), "disconnecting");
    CHECK(is_str(d, "statusUrl") && is_obj(d, "cleanupRun"));
    char url[512];
    snprintf(url, sizeof url, "%s", json_string_value(json_object_get(d, "statusUrl")));
    CHECK(json_is_null(json_object_get(json_object_get(d, "cleanupStatus"), "eventsRemoved")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(fake.revokes, revokes); /* the copies are not removed yet: the tokens still work */
    /* a sync is refused while the cleanup waits */
    snprintf(path, sizeof path, BASE "/%s/sync", id);
    call_on(srv_nowait, "POST", path, manager, "{}", &r);
    CHECK(fails_with(&r, 409, "CONFLICT"));
    bl_test_reply_clear(&r);
    REQUIRE(end_run(id, "success", "{\"eventsProcessed\":0,\"eventsCreated\":0,\"eventsUpdated\":0,"
                                   "\"eventsDeleted\":0,\"errors\":0}") == 0);
    CHECK_EQ_INT(call_on(srv_nowait, "GET", url, manager, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(data_of(&r), "type")), "cleanup");
    CHECK(json_is_true(json_object_get(json_object_get(data_of(&r), "statistics"), "tokensRevoked")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(fake.revokes, revokes + 1);
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM integrations WHERE id::text = $1 AND status = 'disconnected'", id), 1);
    /* a running sync holds a disconnect back */
    char busy[64];
    REQUIRE(make_integration("google_calendar", "calendar", org, busy) == 0);
    const char *bp[] = {busy};
    REQUIRE(bl_test_sql(pool, "INSERT INTO integration_sync_runs (integration_id, status, type, direction)"
                              " VALUES ($1, 'running', 'manual', 'bidirectional')", 1, bp) == 0);
    snprintf(path, sizeof path, BASE "/%s", busy);
    call_on(srv_nowait, "DELETE", path, manager, NULL, &r);
    CHECK(fails_with(&r, 409, "SYNC_FAILED"));
    bl_test_reply_clear(&r);
}

/* ---- GET /integrations/analytics/metrics ---- */

static void metrics_are_computed_from_runs_and_calls(void)
{
    bl_test_reply r;
    CHECK_EQ_INT(call("GET", BASE "/analytics/metrics?period=week", admin, NULL, &r), 200);
    const json_t *d = data_of(&r);
    CHECK(enveloped(&r) && is_obj(d, "overview") && is_obj(d, "byProvider") && is_obj(d, "trends") &&
          is_obj(d, "errors"));
    const json_t *o = json_object_get(d, "overview");
    CHECK(is_int(o, "totalIntegrations") && is_int(o, "activeIntegrations") && is_int(o, "totalSyncs") &&
          json_object_get(o, "successRate") && json_object_get(o, "averageResponseTime"));
    CHECK_EQ_INT(json_integer_value(json_object_get(o, "totalIntegrations")),
                 sql_long("SELECT count(*) FROM integrations WHERE organization_id::text = $1", org));
    CHECK_EQ_INT(json_integer_value(json_object_get(o, "totalSyncs")),
                 sql_long("SELECT count(*) FROM integration_sync_runs s JOIN integrations i ON i.id = s.integration_id"
                          " WHERE i.organization_id::text = $1 AND s.type <> 'cleanup'"
                          " AND s.started_at > now() - interval '7 days'", org));
    const json_t *google = json_object_get(json_object_get(d, "byProvider"), "google");
    CHECK(is_int(google, "integrations") && is_int(google, "syncs") && json_object_get(google, "successRate") &&
          is_str(google, "averageResponseTime"));
    const json_t *trends = json_object_get(d, "trends");
    CHECK(is_arr(trends, "syncVolume") && is_arr(trends, "responseTime"));
    const json_t *day = json_array_get(json_object_get(trends, "syncVolume"), 0);
    CHECK(is_str(day, "date") && is_int(day, "syncs") && is_int(day, "errors"));
    const json_t *e = json_object_get(d, "errors");
    CHECK(is_int(e, "totalErrors") && json_is_number(json_object_get(e, "errorRate")) && is_arr(e, "commonErrors"));
    /* the test's provider failures were counted (RATE_LIMIT_EXCEEDED, ...) */
    CHECK(json_integer_value(json_object_get(e, "totalErrors")) >= 4);
    const json_t *common = json_array_get(json_object_get(e, "commonErrors"), 0);
    CHECK(is_str(common, "error") && is_int(common, "count") && json_is_number(json_object_get(common, "percentage")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", BASE "/analytics/metrics?providers=slack", admin, NULL, &r), 200);
    CHECK(!json_object_get(json_object_get(data_of(&r), "byProvider"), "google"));
    bl_test_reply_clear(&r);
    call("GET", BASE "/analytics/metrics?providers=google,dropbox", admin, NULL, &r);
    CHECK(fails_with(&r, 400, "PROVIDER_NOT_SUPPORTED"));
    bl_test_reply_clear(&r);
    call("GET", BASE "/analytics/metrics?period=year", admin, NULL, &r);
    CHECK(fails_with(&r, 400, "VALIDATION_ERROR"));
    bl_test_reply_clear(&r);
    /* Admin only */
    call("GET", BASE "/analytics/metrics", manager, NULL, &r);
    CHECK(fails_with(&r, 403, "PERMISSION_DENIED"));
    bl_test_reply_clear(&r);
}

/* ---- the caller's rate limit, the document ---- */

static void rate_limit_is_answered_with_the_document_code(void)
{
    bl_test_reply r;
    long st = 0;
    for (int i = 0; i < 3 && st != 429; i++) {
        st = call("GET", BASE, slow, NULL, &r);
        if (st != 429)
            bl_test_reply_clear(&r);
    }
    CHECK(fails_with(&r, 429, "RATE_LIMIT_EXCEEDED"));
    bl_test_reply_clear(&r);
}

static void openapi_documents_every_path(void)
{
    bl_test_reply r;
    CHECK_EQ_INT(call("GET", "/attendance/api/openapi.json", NULL, NULL, &r), 200);
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

/* ---- setup ---- */

static int make_key(const char *o, bl_api_perm perm, int64_t rate, char token[BL_API_TOKEN_SIZE], char *id,
                    PGconn *conn, bl_err *err)
{
    char local[BL_API_ID_MAX];
    bl_api_key_spec spec = {.org_id = o, .name = "attendance manager", .perm = perm, .rate_per_hour = rate};
    return bl_api_key_create(conn, &spec, token, id ? id : local, err);
}

static int setup(void)
{
    bl_err err = {0};
    if (fake_oauth_start(&fake, "google-client", "google-secret") != 0)
        return -1;
    snprintf(fake.redirect_uri, sizeof fake.redirect_uri, "%s", REDIRECT);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", fake_oauth_port(&fake));
    setenv("BUSLINE_ENCRYPTION_KEYS", KEYS, 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_CLIENT_ID", "google-client", 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_CLIENT_SECRET", "google-secret", 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_BASE_URL", base, 1);
    /* Slack has no fake here: its calls go to a closed loopback port, never out */
    setenv("BUSLINE_OAUTH_SLACK_BASE_URL", "http://127.0.0.1:9", 1);
    setenv("BUSLINE_OAUTH_MICROSOFT_365_CLIENT_ID", "ms-client", 1);
    setenv("BUSLINE_OAUTH_MICROSOFT_365_CLIENT_SECRET", "ms-secret", 1);
    setenv("BUSLINE_OAUTH_MICROSOFT_365_BASE_URL", "http://127.0.0.1:9", 1);
    setenv("BUSLINE_OAUTH_ZOOM_CLIENT_ID", "zoom-client", 1);
    setenv("BUSLINE_OAUTH_ZOOM_CLIENT_SECRET", "zoom-secret", 1);
    setenv("BUSLINE_OAUTH_ZOOM_BASE_URL", "http://127.0.0.1:9", 1);
    unsetenv("BUSLINE_WEBHOOK_ALLOW");
    if (bl_test_pg_fresh_db(pg_url, sizeof pg_url, &err) != 0)
        goto fail;
    PGconn *conn = bl_pg_connect(pg_url, &err);
    int ok = conn && bl_migrations_apply(conn, BUSLINE_SOURCE_DIR "/migrations", &err) >= 0 &&
             bl_api_org_create(conn, "techcorp", BL_API_PLAN_PRO, org, &err) == 0 &&
             bl_api_org_create(conn, "other", BL_API_PLAN_PRO, other_org, &err) == 0 &&
             make_key(org, BL_API_PERM_ADMIN, 100000, admin, NULL, conn, &err) == 0 &&
             make_key(org, BL_API_PERM_WRITE, 100000, manager, manager_id, conn, &err) == 0 &&
             make_key(org, BL_API_PERM_READ, 100000, reader, NULL, conn, &err) == 0 &&
             make_key(org, BL_API_PERM_WRITE, 1, slow, NULL, conn, &err) == 0 &&
             make_key(other_org, BL_API_PERM_ADMIN, 100000, other_admin, NULL, conn, &err) == 0;
    PQfinish(conn);
    if (!ok || !(pool = bl_pg_pool_new(pg_url, 8, &err)))
        goto fail;
    bl_api_config cfg = {.command_wait_ms = 30000};
    if (!(srv = bl_api_server_new(&cfg, pool, &err)) || bl_api_server_start(srv, &err) != 0)
        goto fail;
    bl_api_config moved = {.attendance_prefix = "/ax/v2"};
    if (!(srv_moved = bl_api_server_new(&moved, pool, &err)) || bl_api_server_start(srv_moved, &err) != 0)
        goto fail;
    bl_api_config nowait = {.command_wait_ms = -1};
    if (!(srv_nowait = bl_api_server_new(&nowait, pool, &err)) || bl_api_server_start(srv_nowait, &err) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "setup: %s\n", err.msg);
    return -1;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (setup() == 0) {
        BL_RUN(list_shows_the_documented_fields_and_filters);
        BL_RUN(connect_answers_the_authorization_url);
        BL_RUN(callback_connects_and_schedules_the_first_sync);
        BL_RUN(settings_examples_of_every_provider_are_saved);
        BL_RUN(history_lists_runs_with_filters_and_meta);
        BL_RUN(sync_queues_a_run_for_the_worker);
        BL_RUN(test_checks_the_provider_and_names_its_errors);
        BL_RUN(delete_removes_copies_then_revokes);
        BL_RUN(delete_past_the_bound_answers_202_and_finishes_on_status);
        BL_RUN(metrics_are_computed_from_runs_and_calls);
        BL_RUN(rate_limit_is_answered_with_the_document_code);
        BL_RUN(openapi_documents_every_path);
    } else {
        bl_test_failures++;
    }
    bl_api_server_free(srv);
    bl_api_server_free(srv_nowait);
    bl_api_server_free(srv_moved);
    bl_pg_pool_free(pool);
    if (pg_url[0])
        bl_test_pg_drop_db(pg_url);
    fake_oauth_stop(&fake);
    curl_global_cleanup();
    return bl_test_summary();
}
