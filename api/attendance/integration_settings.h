/* The nested settings of design document 001's integrations, one schema per
 * provider (Google Calendar, Microsoft 365 with Teams and Outlook, Slack,
 * Zoom: eventMapping, filters, notifications, teamsIntegration,
 * outlookSettings, channels, messageTemplates, userMentions,
 * meetingDefaults, attendanceTracking, ...), checked when an integration is
 * connected or its settings are saved, on the Attendance-X surface and on
 * /v1 alike. Every problem is noted with the path of the value
 * ("settings.eventMapping.colour": "unknown field"), so one answer lists
 * them all. The schema's keys are the document's; the sync worker and the
 * connectors read the same names from integrations.settings. */
#ifndef BUSLINE_API_ATTENDANCE_INTEGRATION_SETTINGS_H
#define BUSLINE_API_ATTENDANCE_INTEGRATION_SETTINGS_H

#include "schemas/catalog.h"

#include <jansson.h>
#include <stdbool.h>

/* Whether provider (busline's name: "google_calendar", "microsoft_365",
 * "slack", "zoom") has a settings schema. */
bool bl_integration_settings_has_schema(const char *provider);

/* Whether the schema of provider knows key at the top of settings. */
bool bl_integration_settings_known(const char *provider, const char *key);

/* Checks settings (borrowed) of provider against its schema; each problem
 * goes into problems (an object, borrowed) as "<base>.<path>" -> message.
 * strict: a key the schema does not know is a problem ("unknown field");
 * else such keys are left to the caller (/v1's own scalar settings).
 * Slack's messageTemplates are checked with
 * connectors/slack/message_templates.h against cat (borrowed, may be NULL:
 * any field). A provider without a schema accepts nothing in strict mode.
 * Returns 0, or -1 when a problem was noted. */
int bl_integration_settings_check(const char *provider, const json_t *settings, const char *base, bool strict,
                                  const bl_catalog *cat, json_t *problems);

/* The JSON Schema (draft 2020-12) of provider's settings, for the OpenAPI
 * document: a new reference, or NULL for a provider without one. */
json_t *bl_integration_settings_json_schema(const char *provider);

#endif
