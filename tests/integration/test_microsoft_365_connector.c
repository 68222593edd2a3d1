/* The Microsoft 365 connector against a local fake of Microsoft Graph. */
#include "connectors/microsoft_calendar/microsoft_calendar.h"
#include "tests/support/fake_saas.h"
#include "tests/support/saas_harness.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <string.h>

static bl_fake_saas fake;
static bl_saas_harness h;

static int setup(void)
{
    if (bl_fake_saas_start(&fake, "graph", "Bearer tok-1") != 0)
        return -1;
    char settings[512];
    snprintf(settings, sizeof settings,
             "{\"base_url\":\"%s\",\"mode\":\"client_credentials\",\"user_id\":\"trainer@contoso.example\","
             "\"online_meeting\":true,\"categories\":\"Training\",\"importance\":\"high\",\"show_as\":\"busy\"}",
             fake.base_url);
    snprintf(h.token, sizeof h.token, "tok-1");
    snprintf(h.next_token, sizeof h.next_token, "tok-2");
    return bl_saas_harness_open(&h, bl_microsoft_365_connector(), settings, NULL);
}

static void teardown(void)
{
    bl_saas_harness_close(&h);
    bl_fake_saas_stop(&fake);
}

static const char *const session[] = {"subject", "Safety training", "body", "Bring boots", "location", "Hall B",
                                      "start", "2026-05-04T09:00:00", "end", "2026-05-04T10:30:00",
                                      "time_zone", "W. Europe Standard Time",
                                      "attendees", "Ana Silva <ana@contoso.example>, bo@contoso.example", NULL};

static const json_t *only_event(void)
{
    const char *k;
    json_t *v;
    json_object_foreach(fake.objects, k, v)
        return v;
    return NULL;
}

static void planned_session_creates_a_teams_event(void)
{
    REQUIRE(setup() == 0);
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_OK);
    CHECK_EQ_STR(fake.problem, "");
    CHECK_EQ_STR(fake.last_path, "/users/trainer%40contoso.example/events");
    const json_t *ev = only_event();
    REQUIRE(ev != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(ev, "subject")), "Safety training");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(ev, "body"), "contentType")), "text");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(ev, "start"), "dateTime")), "2026-05-04T09:00:00");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(ev, "start"), "timeZone")),
                 "W. Europe Standard Time");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(ev, "location"), "displayName")), "Hall B");
    const json_t *a0 = json_array_get(json_object_get(ev, "attendees"), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(a0, "emailAddress"), "name")), "Ana Silva");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(a0, "emailAddress"), "address")),
                 "ana@contoso.example");
    CHECK_EQ_STR(json_string_value(json_object_get(a0, "type")), "required");
    CHECK(json_is_true(json_object_get(ev, "isOnlineMeeting")));
    CHECK_EQ_STR(json_string_value(json_object_get(ev, "onlineMeetingProvider")), "teamsForBusiness");
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(ev, "categories"), 0)), "Training");
    CHECK_EQ_STR(json_string_value(json_object_get(ev, "importance")), "high");
    CHECK_EQ_STR(json_string_value(json_object_get(ev, "showAs")), "busy");
    CHECK(json_string_length(json_object_get(ev, "transactionId")) == 36);
    teardown();
}

static void utc_instants_are_sent_as_utc_wall_times(void)
{
    REQUIRE(setup() == 0);
    const char *const fields[] = {"subject", "Review", "start", "2026-05-04T09:00:00+02:00", NULL};
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", fields);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_OK);
    const json_t *end = json_object_get(only_event(), "end");
    CHECK_EQ_STR(json_string_value(json_object_get(end, "dateTime")), "2026-05-04T08:00:00");
    CHECK_EQ_STR(json_string_value(json_object_get(end, "timeZone")), "UTC");
    CHECK_EQ_STR(fake.problem, "");
    teardown();
}

static void expired_token_is_refreshed_and_the_call_retried_once(void)
{
    REQUIRE(setup() == 0);
    bl_fake_saas_accept(&fake, "Bearer tok-2");
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_OK);
    CHECK_EQ_INT(h.refreshes, 1);
    CHECK_EQ_INT(fake.creates, 1);
    teardown();
}

static void throttled_429_is_retryable_with_retry_after(void)
{
    REQUIRE(setup() == 0);
    bl_fake_saas_fail_next(&fake, 429, "Application is over its MailboxConcurrency limit.", "12");
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_RETRYABLE);
    CHECK_EQ_INT(r.retry_after_ms, 12000);
    CHECK(strstr(r.message, "ApplicationThrottled") != NULL);
    teardown();
}

static void invalid_request_400_is_permanent_with_graphs_message(void)
{
    REQUIRE(setup() == 0);
    bl_fake_saas_fail_next(&fake, 400, "The value of the property 'showAs' is not valid.", NULL);
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_PERMANENT);
    CHECK(strstr(r.message, "ErrorInvalidRequest: The value of the property 'showAs' is not valid.") != NULL);
    teardown();
}

static void redelivery_and_a_lost_link_make_one_event(void)
{
    REQUIRE(setup() == 0);
    bl_connector_result r1 = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    bl_connector_result r2 = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    CHECK_EQ_INT(r2.status, BL_CONNECTOR_OK);
    CHECK_EQ_STR(fake.last_method, "PATCH");
    bl_saas_harness_close(&h);
    char settings[256];
    snprintf(settings, sizeof settings, "{\"base_url\":\"%s\",\"user_id\":\"trainer@contoso.example\"}",
             fake.base_url);
    snprintf(h.token, sizeof h.token, "tok-1");
    REQUIRE(bl_saas_harness_open(&h, bl_microsoft_365_connector(), settings, NULL) == 0);
    bl_connector_result r3 = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    CHECK_EQ_INT(r3.status, BL_CONNECTOR_OK);
    CHECK_EQ_STR(r3.external_id, r1.external_id);
    CHECK_EQ_INT(fake.creates, 1);
    r3 = bl_saas_harness_run(&h, "ev-9", "ses-1", "delete_event", NULL);
    CHECK_EQ_INT(r3.status, BL_CONNECTOR_OK);
    CHECK_EQ_INT(bl_fake_saas_count(&fake), 0);
    CHECK_EQ_STR(fake.problem, "");
    teardown();
}

int main(void)
{
    BL_RUN(planned_session_creates_a_teams_event);
    BL_RUN(utc_instants_are_sent_as_utc_wall_times);
    BL_RUN(expired_token_is_refreshed_and_the_call_retried_once);
    BL_RUN(throttled_429_is_retryable_with_retry_after);
    BL_RUN(invalid_request_400_is_permanent_with_graphs_message);
    BL_RUN(redelivery_and_a_lost_link_make_one_event);
    return bl_test_summary();
}
