/* The calendar sync's settings and mapping (connectors/calendar_sync/mapping.h):
 * the document's nested and flat settings, the filters, the title prefix
 * that is added going out and taken off coming in, reminders, and settings
 * of the wrong kind refused with their path; the Outlook and Teams settings
 * of Microsoft 365. */
#include "connectors/calendar_sync/mapping.h"
#include "tests/support/test.h"

#include <string.h>

static json_t *row(const char *type, int is_private, long minutes)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:n, s:I, s:I, s:s, s:b, s:i, s:[{s:s, s:s, s:s}, {s:s, s:s, s:n}]}",
                     "event_id", "ev-1", "title", "Induction", "description", "Day one", "event_type", type,
                     "location", "starts_at", (json_int_t)1800000000000, "ends_at",
                     (json_int_t)(1800000000000 + minutes * 60000), "timezone", "Europe/Paris", "is_private",
                     is_private, "reminder_minutes", 10, "attendees", "person_id", "p1", "name", "Ana", "email",
                     "ana@example.com", "person_id", "p2", "name", "Bo", "email");
}

static void document_settings_are_read_nested_and_flat(void)
{
    json_t *s = json_loads("{\"calendarId\":\"work@example.com\",\"eventMapping\":{\"titlePrefix\":\"[AX] \","
                           "\"includeAttendees\":true,\"includeDescription\":false,\"includeLocation\":true,"
                           "\"colorId\":\"2\"},\"filters\":{\"eventTypes\":[\"training\",\"meeting\"],"
                           "\"excludePrivate\":true,\"minDuration\":30},\"notifications\":{\"reminders\":true,"
                           "\"reminderMinutes\":[15,60]}}", 0, NULL);
    bl_calsync_mapping m;
    bl_err err = {0};
    REQUIRE(bl_calsync_mapping_load(s, &m, &err) == 0);
    CHECK_EQ_STR(m.calendar_id, "work@example.com");
    CHECK_EQ_STR(m.title_prefix, "[AX] ");
    CHECK(m.include_attendees && !m.include_description && m.include_location && !m.sync_private);
    CHECK_EQ_INT(m.n_event_types, 2);
    CHECK_EQ_INT(m.min_duration_min, 30);
    CHECK_EQ_INT(m.n_reminders, 2);
    json_decref(s);
    s = json_loads("{\"eventPrefix\":\"[X] \",\"includeDescription\":true,\"syncPrivateEvents\":true}", 0, NULL);
    REQUIRE(bl_calsync_mapping_load(s, &m, &err) == 0);
    CHECK_EQ_STR(m.calendar_id, "primary");
    CHECK_EQ_STR(m.title_prefix, "[X] ");
    CHECK(m.include_description && m.sync_private && !m.include_attendees);
    json_decref(s);
}

static void wrong_kinds_are_refused_with_their_path(void)
{
    static const char *const bad[][2] = {
        {"{\"eventMapping\":{\"includeAttendees\":\"yes\"}}", "settings.eventMapping.includeAttendees"},
        {"{\"filters\":{\"minDuration\":-1}}", "settings.filters.minDuration"},
        {"{\"filters\":{\"eventTypes\":[1]}}", "settings.filters.eventTypes[0]"},
        {"{\"notifications\":{\"reminderMinutes\":[15,99999]}}", "settings.notifications.reminderMinutes[1]"},
        {"{\"syncPrivateEvents\":1}", "settings.syncPrivateEvents"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *s = json_loads(bad[i][0], 0, NULL);
        bl_calsync_mapping m;
        bl_err err = {0};
        CHECK_EQ_INT(bl_calsync_mapping_load(s, &m, &err), -1);
        CHECK(strstr(err.msg, bad[i][1]) != NULL);
        json_decref(s);
    }
}

static void filters_decide_what_goes_out(void)
{
    json_t *s = json_loads("{\"filters\":{\"eventTypes\":[\"training\"],\"minDuration\":30}}", 0, NULL);
    bl_calsync_mapping m;
    bl_err err = {0};
    REQUIRE(bl_calsync_mapping_load(s, &m, &err) == 0);
    json_t *ok = row("training", 0, 60), *type = row("meeting", 0, 60), *priv = row("training", 1, 60),
           *shorter = row("training", 0, 20);
    CHECK(bl_calsync_mapping_skips_event(&m, ok) == NULL);
    CHECK_EQ_STR(bl_calsync_mapping_skips_event(&m, type), "event type");
    CHECK_EQ_STR(bl_calsync_mapping_skips_event(&m, priv), "private");
    CHECK_EQ_STR(bl_calsync_mapping_skips_event(&m, shorter), "shorter than minDuration");
    json_decref(ok);
    json_decref(type);
    json_decref(priv);
    json_decref(shorter);
    json_decref(s);
}

static void prefix_goes_out_and_comes_off(void)
{
    json_t *s = json_loads("{\"eventMapping\":{\"titlePrefix\":\"[AX] \",\"includeAttendees\":true,"
                           "\"colorId\":\"5\"},\"notifications\":{\"reminders\":true,\"reminderMinutes\":[10,60]}}",
                           0, NULL);
    bl_calsync_mapping m;
    bl_err err = {0};
    REQUIRE(bl_calsync_mapping_load(s, &m, &err) == 0);
    json_t *r = row("training", 0, 60);
    json_t *item = bl_calsync_mapping_to_item(&m, r, "bl123", "int-1");
    REQUIRE(item != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(item, "title")), "[AX] Induction");
    CHECK_EQ_STR(json_string_value(json_object_get(item, "color_id")), "5");
    CHECK_EQ_STR(json_string_value(json_object_get(item, "busline_event_id")), "ev-1");
    CHECK(json_is_null(json_object_get(item, "location"))); /* cleared, not left */
    CHECK_EQ_INT(json_array_size(json_object_get(item, "attendees")), 1); /* Bo has no address */
    json_t *mins = json_object_get(item, "reminder_minutes");
    CHECK_EQ_INT(json_array_size(mins), 2); /* the event's 10, then 60; 10 not twice */
    CHECK_EQ_INT(json_integer_value(json_array_get(mins, 1)), 60);
    json_t *origin = json_pack("{s:s}", "integration_id", "int-1");
    json_t *data = bl_calsync_mapping_update_data(&m, item, "ev-1", 3, origin);
    CHECK_EQ_STR(json_string_value(json_object_get(data, "title")), "Induction");
    CHECK_EQ_INT(json_integer_value(json_object_get(data, "expected_version")), 3);
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(data, "clear"), 0)), "location");
    json_decref(data);
    json_decref(origin);
    json_decref(item);
    json_decref(r);
    json_decref(s);
}

static void microsoft_settings_make_teams_meetings_with_outlook_fields(void)
{
    json_t *s = json_loads("{\"calendarId\":\"primary\",\"teamsIntegration\":{\"enabled\":true,"
                           "\"autoCreateMeetings\":true,\"defaultMeetingSettings\":{\"allowAnonymous\":false,"
                           "\"recordAutomatically\":false,\"allowTranscription\":true}},\"outlookSettings\":{"
                           "\"categoryColor\":\"blue\",\"importance\":\"normal\",\"showAs\":\"busy\"}}", 0, NULL);
    bl_calsync_mapping m;
    bl_err err = {0};
    REQUIRE(bl_calsync_mapping_load(s, &m, &err) == 0);
    json_t *r = row("meeting", 0, 60);
    json_t *it = bl_calsync_mapping_to_item(&m, r, NULL, "int-1");
    CHECK_EQ_STR(json_string_value(json_object_get(it, "category_color")), "blue");
    CHECK_EQ_STR(json_string_value(json_object_get(it, "importance")), "normal");
    CHECK_EQ_STR(json_string_value(json_object_get(it, "show_as")), "busy");
    json_t *meeting = json_object_get(it, "online_meeting");
    CHECK(json_is_false(json_object_get(meeting, "allow_anonymous")));
    CHECK(json_is_false(json_object_get(meeting, "record_automatically")));
    CHECK(json_is_true(json_object_get(meeting, "allow_transcription")));
    json_decref(it);
    json_decref(s);
    /* enabled without autoCreateMeetings: no meeting */
    s = json_loads("{\"teamsIntegration\":{\"enabled\":true}}", 0, NULL);
    REQUIRE(bl_calsync_mapping_load(s, &m, &err) == 0);
    it = bl_calsync_mapping_to_item(&m, r, NULL, "int-1");
    CHECK(json_object_get(it, "online_meeting") == NULL && json_object_get(it, "importance") == NULL);
    json_decref(it);
    json_decref(s);
    s = json_loads("{\"teamsIntegration\":{\"defaultMeetingSettings\":{\"allowAnonymous\":\"no\"}}}", 0, NULL);
    CHECK_EQ_INT(bl_calsync_mapping_load(s, &m, &err), -1);
    CHECK(strstr(err.msg, "settings.teamsIntegration.defaultMeetingSettings.allowAnonymous") != NULL);
    json_decref(s);
    json_decref(r);
}

int main(void)
{
    BL_RUN(document_settings_are_read_nested_and_flat);
    BL_RUN(wrong_kinds_are_refused_with_their_path);
    BL_RUN(filters_decide_what_goes_out);
    BL_RUN(prefix_goes_out_and_comes_off);
    BL_RUN(microsoft_settings_make_teams_meetings_with_outlook_fields);
    return bl_test_summary();
}
