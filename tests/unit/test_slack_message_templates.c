/* Document 001's Slack message templates: checked against their event's
 * fields in the catalog when saved (a placeholder the event cannot fill is
 * refused, and a template without an event takes none), and rendered with
 * the derived {timeUntil}. */
#include "connectors/slack/message_templates.h"
#include "tests/support/test.h"

#include <stdlib.h>
#include <string.h>

static bl_catalog *cat;

static void document_templates_are_accepted(void)
{
    bl_err err = {0};
    CHECK_EQ_INT(bl_slack_template_check("eventReminder", "Rappel: {eventName} commence dans {timeUntil}", cat, &err), 0);
    CHECK_EQ_INT(bl_slack_template_check("attendanceAlert", "Faible taux pour {eventName}: {attendanceRate}%", cat,
                                         &err), 0);
    CHECK_EQ_INT(bl_slack_template_check("weeklyReport", "Rapport hebdomadaire de presence", cat, &err), 0);
}

static void a_placeholder_the_event_cannot_fill_is_refused(void)
{
    bl_err err = {0};
    CHECK_EQ_INT(bl_slack_template_check("eventReminder", "{eventName} in {roomNumber}", cat, &err), -1);
    CHECK(strstr(err.msg, "roomNumber") != NULL);
    /* timeUntil is derived only for the reminder */
    CHECK_EQ_INT(bl_slack_template_check("attendanceAlert", "{eventName} in {timeUntil}", cat, &err), -1);
    CHECK_EQ_INT(bl_slack_template_check("weeklyReport", "week of {eventName}", cat, &err), -1);
    CHECK_EQ_INT(bl_slack_template_check("eventReminder", "{eventName", cat, &err), -1);
    CHECK_EQ_INT(bl_slack_template_check("dailyDigest", "x", cat, &err), -1);
}

static void reminder_renders_with_time_until(void)
{
    json_t *event = json_pack("{s:s, s:{s:s, s:i}}", "type", "event.reminder_due", "data", "event_name",
                              "Formation <RGPD>", "remind_before_minutes", 90);
    bl_err err = {0};
    char *text = bl_slack_template_render("eventReminder", "Rappel: {eventName} commence dans {timeUntil}", event, &err);
    CHECK_EQ_STR(text, "Rappel: Formation &lt;RGPD&gt; commence dans 1 hour 30 minutes");
    free(text);
    json_decref(event);
}

int main(void)
{
    bl_err err = {0};
    cat = bl_catalog_load(bl_catalog_default_dir(), &err);
    if (!cat) {
        fprintf(stderr, "catalog: %s\n", err.msg);
        return 1;
    }
    BL_RUN(document_templates_are_accepted);
    BL_RUN(a_placeholder_the_event_cannot_fill_is_refused);
    BL_RUN(reminder_renders_with_time_until);
    bl_catalog_free(cat);
    return bl_test_summary();
}
