/* The Slack messageTemplates of design document 001 (eventReminder,
 * attendanceAlert, weeklyReport): which Attendance-X event fills each, the
 * placeholders derived from an event's fields ({timeUntil} from
 * remind_before_minutes), the check made when the settings are saved (a
 * placeholder the event cannot fill is an error then, not a broken
 * message later) and the rendering with the same rules. Placeholders are
 * connectors/mapping.h's: {eventName} = data.event_name. */
#ifndef BUSLINE_CONNECTORS_SLACK_MESSAGE_TEMPLATES_H
#define BUSLINE_CONNECTORS_SLACK_MESSAGE_TEMPLATES_H

#include "core/err.h"
#include "schemas/catalog.h"

#include <jansson.h>
#include <stddef.h>

/* The event type that fills template name ("eventReminder" ->
 * "event.reminder_due"); "" for a template filled without an event
 * (weeklyReport: no placeholders); NULL for a name the document has not. */
const char *bl_slack_template_event(const char *name);

/* The template names, NULL-ended (static). */
extern const char *const bl_slack_template_names[];

/* Checks text of template name against the fields of its event in cat
 * (borrowed; NULL accepts any field) and the derived placeholders.
 * Returns 0, or -1 with err (BL_EINVAL) naming the placeholder. */
int bl_slack_template_check(const char *name, const char *text, const bl_catalog *cat, bl_err *err);

/* Renders text of template name for event (a CloudEvent JSON with "data",
 * borrowed), derived placeholders included, values escaped as Slack
 * mrkdwn. Returns a malloc'd string, or NULL with err. */
char *bl_slack_template_render(const char *name, const char *text, const json_t *event, bl_err *err);

#endif
