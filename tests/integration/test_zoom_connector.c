/* The Zoom connector against a local fake of Zoom API v2, including a create
 * whose answer is lost: the retry links the meeting it made, no second one. */
#include "connectors/zoom/zoom.h"
#include "tests/support/fake_saas.h"
#include "tests/support/saas_harness.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <string.h>

static bl_fake_saas fake;
static bl_saas_harness h;

static int setup(void)
{
    if (bl_fake_saas_start(&fake, "zoom", "Bearer tok-1") != 0)
        return -1;
    char settings[512];
    snprintf(settings, sizeof settings,
             "{\"base_url\":\"%s\",\"user_id\":\"trainer@contoso.example\",\"timezone\":\"Europe/Berlin\","
             "\"waiting_room\":true,\"mute_upon_entry\":true,\"join_before_host\":false,\"auto_recording\":\"cloud\"}",
             fake.base_url);
    snprintf(h.token, sizeof h.token, "tok-1");
    snprintf(h.next_token, sizeof h.next_token, "tok-2");
    return bl_saas_harness_open(&h, bl_zoom_connector(), settings, NULL);
}

static void teardown(void)
{
    bl_saas_harness_close(&h);
    bl_fake_saas_stop(&fake);
}

static const char *const session[] = {"topic", "Safety training", "agenda", "Boots and helmets",
                                      "start", "2026-05-04T07:00:00Z", "end", "2026-05-04T08:30:00Z", NULL};

static const json_t *only_meeting(void)
{
    const char *k;
    json_t *v;
    json_object_foreach(fake.objects, k, v)
        return v;
    return NULL;
}

static void planned_session_creates_a_meeting_with_the_org_defaults(void)
{
    REQUIRE(setup() == 0);
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_meeting", session);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_OK);
    CHECK_EQ_STR(fake.problem, "");
    CHECK_EQ_STR(fake.last_path, "/users/trainer%40contoso.example/meetings");
    const json_t *m = only_meeting();
    REQUIRE(m != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "topic")), "Safety training");
    CHECK_EQ_INT(json_integer_value(json_object_get(m, "type")), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "start_time")), "2026-05-04T07:00:00Z");
    CHECK_EQ_INT(json_integer_value(json_object_get(m, "duration")), 90);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "timezone")), "Europe/Berlin");
    CHECK_EQ_STR(json_string_value(json_object_get(m, "agenda")), "Boots and helmets");
    const json_t *s = json_object_get(m, "settings");
    CHECK(json_is_true(json_object_get(s, "waiting_room")));
    CHECK(json_is_true(json_object_get(s, "mute_upon_entry")));
    CHECK(json_is_false(json_object_get(s, "join_before_host")));
    CHECK_EQ_STR(json_string_value(json_object_get(s, "auto_recording")), "cloud");
    CHECK_EQ_INT(strtoll(r.external_id, NULL, 10), json_integer_value(json_object_get(m, "id")));
    teardown();
}

static void expired_token_is_refreshed_and_the_call_retried_once(void)
{
    REQUIRE(setup() == 0);
    bl_fake_saas_accept(&fake, "Bearer tok-2");
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_meeting", session);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_OK);
    CHECK_EQ_INT(h.refreshes, 1);
    CHECK_EQ_INT(fake.creates, 1);
    teardown();
}

static void rate_limit_429_is_retryable_with_retry_after(void)
{
    REQUIRE(setup() == 0);
    bl_fake_saas_fail_next(&fake, 429, NULL, "5");
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_meeting", session);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_RETRYABLE);
    CHECK_EQ_INT(r.retry_after_ms, 5000);
    CHECK(strstr(r.message, "maximum per-second rate limit") != NULL);
    teardown();
}

static void validation_400_is_permanent_with_zooms_message(void)
{
    REQUIRE(setup() == 0);
    bl_fake_saas_fail_next(&fake, 400, "Invalid field.", NULL);
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_meeting", session);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_PERMANENT);
    CHECK(strstr(r.message, "Invalid field. (code 300)") != NULL);
    teardown();
}

static void redelivery_makes_one_meeting_and_delete_removes_it(void)
{
    REQUIRE(setup() == 0);
    bl_connector_result r1 = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_meeting", session);
    bl_connector_result r2 = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_meeting", session);
    CHECK_EQ_INT(r2.status, BL_CONNECTOR_OK);
    CHECK_EQ_STR(r2.external_id, r1.external_id);
    CHECK_EQ_STR(fake.last_method, "PATCH");
    CHECK_EQ_INT(fake.creates, 1);
    bl_connector_result r3 = bl_saas_harness_run(&h, "ev-2", "ses-1", "delete_meeting", NULL);
    CHECK_EQ_INT(r3.status, BL_CONNECTOR_OK);
    CHECK_EQ_INT(bl_fake_saas_count(&fake), 0);
    CHECK_EQ_STR(fake.problem, "");
    teardown();
}

static void lost_create_answer_makes_no_second_meeting(void)
{
    REQUIRE(setup() == 0);
    static const char *const other[] = {"topic", "Safety training", "start", "2026-05-05T07:00:00Z", NULL};
    /* another aggregate's meeting with the same topic but another start is not taken */
    bl_connector_result r0 = bl_saas_harness_run(&h, "ev-0", "ses-0", "create_meeting", other);
    CHECK_EQ_INT(r0.status, BL_CONNECTOR_OK);
    fake.lose_create_answers = 1;
    bl_connector_result r1 = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_meeting", session);
    CHECK_EQ_INT(r1.status, BL_CONNECTOR_RETRYABLE);
    CHECK_EQ_INT(fake.creates, 2); /* Zoom made it all the same */
    bl_connector_result r2 = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_meeting", session);
    CHECK_EQ_INT(r2.status, BL_CONNECTOR_OK);
    CHECK_EQ_INT(fake.creates, 2);
    CHECK_EQ_STR(fake.last_method, "PATCH");
    CHECK(strcmp(r2.external_id, r0.external_id) != 0);
    json_t *made = json_object_get(fake.objects, r2.external_id);
    CHECK(made != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(made, "start_time")), "2026-05-04T07:00:00Z");
    /* linked now: a redelivery patches it, and delete removes it */
    bl_connector_result r3 = bl_saas_harness_run(&h, "ev-1", "ses-1", "create_meeting", session);
    CHECK_EQ_STR(r3.external_id, r2.external_id);
    CHECK_EQ_INT(fake.creates, 2);
    bl_connector_result r4 = bl_saas_harness_run(&h, "ev-2", "ses-1", "delete_meeting", NULL);
    CHECK_EQ_INT(r4.status, BL_CONNECTOR_OK);
    CHECK_EQ_INT(bl_fake_saas_count(&fake), 1);
    CHECK_EQ_STR(fake.problem, "");
    teardown();
}

int main(void)
{
    BL_RUN(planned_session_creates_a_meeting_with_the_org_defaults);
    BL_RUN(expired_token_is_refreshed_and_the_call_retried_once);
    BL_RUN(rate_limit_429_is_retryable_with_retry_after);
    BL_RUN(validation_400_is_permanent_with_zooms_message);
    BL_RUN(redelivery_makes_one_meeting_and_delete_removes_it);
    BL_RUN(lost_create_answer_makes_no_second_meeting);
    return bl_test_summary();
}
