/* The Google Calendar connector against a local fake of Calendar API v3. */
#include "connectors/google_calendar/google_calendar.h"
#include "tests/support/fake_saas.h"
#include "tests/support/saas_harness.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <string.h>

static bl_fake_saas fake;
static bl_saas_harness h;

static int setup(void)
{
    if (bl_fake_saas_start(&fake, "google_calendar", "Bearer tok-1") != 0)
        return -1;
    char settings[512];
    snprintf(settings, sizeof settings,
             "{\"base_url\":\"%s\",\"calendar_id\":\"team@example.com\",\"title_prefix\":\"[Training] \","
             "\"color_id\":\"5\",\"reminders\":\"popup:10, email:1440\"}",
             fake.base_url);
    snprintf(h.token, sizeof h.token, "tok-1");
    snprintf(h.next_token, sizeof h.next_token, "tok-2");
    return bl_saas_harness_open(&h, bl_google_calendar_connector(), settings, NULL);
}

static void teardown(void)
{
    bl_saas_harness_close(&h);
    bl_fake_saas_stop(&fake);
}

static const char *const session[] = {"summary", "Safety training", "description", "Bring boots",
                                      "location", "Hall B", "start", "2026-05-04T09:00:00+02:00",
                                      "duration_minutes", "90", "time_zone", "Europe/Berlin",
                                      "attendees", "a@example.com, b@example.com", NULL};

static const json_t *only_event(void)
{
    const char *k;
    json_t *v;
    json_object_foreach(fake.objects, k, v)
        return v;
    return NULL;
}

static void planned_session_inserts_an_event_with_every_field(void)
{
    REQUIRE(setup() == 0);
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_OK);
    CHECK_EQ_STR(fake.problem, "");
    CHECK_EQ_STR(fake.last_method, "POST");
    CHECK_EQ_STR(fake.last_path, "/calendars/team%40example.com/events");
    const json_t *ev = only_event();
    REQUIRE(ev != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(ev, "summary")), "[Training] Safety training");
    CHECK_EQ_STR(json_string_value(json_object_get(ev, "location")), "Hall B");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(ev, "start"), "dateTime")), "2026-05-04T07:00:00Z");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(ev, "end"), "dateTime")), "2026-05-04T08:30:00Z");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(ev, "end"), "timeZone")), "Europe/Berlin");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(ev, "attendees"), 1), "email")),
                 "b@example.com");
    CHECK_EQ_STR(json_string_value(json_object_get(ev, "colorId")), "5");
    const json_t *rem = json_object_get(ev, "reminders");
    CHECK(json_is_false(json_object_get(rem, "useDefault")));
    const json_t *o1 = json_array_get(json_object_get(rem, "overrides"), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(o1, "method")), "email");
    CHECK_EQ_INT(json_integer_value(json_object_get(o1, "minutes")), 1440);
    CHECK_EQ_STR(r.external_id, json_string_value(json_object_get(ev, "id")));
    teardown();
}

static void expired_token_is_refreshed_and_the_call_retried_once(void)
{
    REQUIRE(setup() == 0);
    bl_fake_saas_accept(&fake, "Bearer tok-2");
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_OK);
    CHECK_EQ_INT(h.refreshes, 1);
    CHECK_EQ_INT(fake.requests, 2);
    CHECK_EQ_INT(fake.creates, 1);
    teardown();
}

static void rate_limit_429_is_retryable_with_retry_after(void)
{
    REQUIRE(setup() == 0);
    bl_fake_saas_fail_next(&fake, 429, "Rate Limit Exceeded", "30");
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_RETRYABLE);
    CHECK_EQ_INT(r.retry_after_ms, 30000);
    CHECK_EQ_INT(fake.creates, 0);
    teardown();
}

static void invalid_400_is_permanent_with_googles_message(void)
{
    REQUIRE(setup() == 0);
    bl_fake_saas_fail_next(&fake, 400, "The specified time range is empty.", NULL);
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_PERMANENT);
    CHECK(strstr(r.message, "The specified time range is empty. (invalid)") != NULL);
    teardown();
}

static void redelivery_and_a_lost_link_make_one_event(void)
{
    REQUIRE(setup() == 0);
    bl_connector_result r1 = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    bl_connector_result r2 = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    CHECK_EQ_INT(r2.status, BL_CONNECTOR_OK);
    CHECK_EQ_STR(fake.last_method, "PATCH");
    /* The link lost (a crash before it was stored): the same client id gets a 409. */
    bl_saas_harness_close(&h);
    char settings[256];
    snprintf(settings, sizeof settings, "{\"base_url\":\"%s\",\"calendar_id\":\"team@example.com\"}", fake.base_url);
    snprintf(h.token, sizeof h.token, "tok-1");
    REQUIRE(bl_saas_harness_open(&h, bl_google_calendar_connector(), settings, NULL) == 0);
    bl_connector_result r3 = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    CHECK_EQ_INT(r3.status, BL_CONNECTOR_OK);
    CHECK_EQ_STR(r3.external_id, r1.external_id);
    CHECK_EQ_INT(fake.creates, 1);
    CHECK_EQ_INT(bl_fake_saas_count(&fake), 1);
    CHECK_EQ_STR(fake.problem, "");
    teardown();
}

static void delete_cancels_and_a_second_delete_is_done(void)
{
    REQUIRE(setup() == 0);
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_event", session);
    r = bl_saas_harness_run(&h, "ev-2", "ses-1", "delete_event", NULL);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_OK);
    CHECK_EQ_STR(fake.last_method, "DELETE");
    CHECK_EQ_STR(json_string_value(json_object_get(only_event(), "status")), "cancelled");
    r = bl_saas_harness_run(&h, "ev-2", "ses-1", "delete_event", NULL);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_OK);
    teardown();
}

int main(void)
{
    BL_RUN(planned_session_inserts_an_event_with_every_field);
    BL_RUN(expired_token_is_refreshed_and_the_call_retried_once);
    BL_RUN(rate_limit_429_is_retryable_with_retry_after);
    BL_RUN(invalid_400_is_permanent_with_googles_message);
    BL_RUN(redelivery_and_a_lost_link_make_one_event);
    BL_RUN(delete_cancels_and_a_second_delete_is_done);
    return bl_test_summary();
}
