/* How an Attendance-X event and a calendar item map onto each other, per
 * the integration's settings (design document 001): calendarId,
 * eventMapping {titlePrefix, includeAttendees, includeDescription,
 * includeLocation, colorId} (or the flat eventPrefix, includeDescription
 * of PUT /integrations/:id/settings), filters {eventTypes, excludePrivate,
 * minDuration} (or the flat syncPrivateEvents), notifications {reminders,
 * reminderMinutes}; for Microsoft 365, outlookSettings {categoryColor,
 * importance, showAs} and teamsIntegration {enabled, autoCreateMeetings,
 * defaultMeetingSettings {allowAnonymous, recordAutomatically,
 * allowTranscription}} (a Teams meeting on each copy made while enabled
 * and autoCreateMeetings are both true).
 *
 * Defaults: calendar "primary", no prefix, description and location
 * copied, attendees not (a copy with attendees sends them invitations),
 * private events not synced, every event type, no minimum duration, the
 * event's own reminder only.
 *
 * Events travel as JSON objects: an Attendance-X row as run.c reads it
 * ({"event_id","title","description","event_type","location","starts_at",
 * "ends_at" (ms),"timezone","organizer","attendees","is_private",
 * "reminder_minutes","status","version","origin","updated_at" (ms)}) and
 * a calendar item as provider.h normalizes it. */
#ifndef BUSLINE_CONNECTORS_CALENDAR_SYNC_MAPPING_H
#define BUSLINE_CONNECTORS_CALENDAR_SYNC_MAPPING_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>

#define BL_CALSYNC_REMINDERS_MAX 5

typedef struct bl_calsync_mapping {
    char calendar_id[256];
    char title_prefix[128];
    bool include_attendees, include_description, include_location;
    char color_id[16];
    char event_types[8][16]; /* empty list: every type */
    int n_event_types;
    bool sync_private;
    long min_duration_min;
    bool reminders;
    int reminder_minutes[BL_CALSYNC_REMINDERS_MAX];
    int n_reminders;
    char category_color[64], importance[16], show_as[24]; /* "" = the calendar's default */
    bool teams_meetings;
    int meeting_anonymous, meeting_record, meeting_transcription; /* -1 unset, else 0 / 1 */
} bl_calsync_mapping;

/* Reads settings (an integration's settings object, borrowed) into m.
 * Returns 0, or -1 with err (BL_EINVAL naming the setting) for a value of
 * the wrong kind. */
int bl_calsync_mapping_load(const json_t *settings, bl_calsync_mapping *m, bl_err *err);

/* Why the Attendance-X event row is not copied to the calendar ("private",
 * "event type", "shorter than minDuration"), or NULL when it is. */
const char *bl_calsync_mapping_skips_event(const bl_calsync_mapping *m, const json_t *row);

/* Why the calendar item is not brought into Attendance-X, or NULL. */
const char *bl_calsync_mapping_skips_item(const bl_calsync_mapping *m, const json_t *item);

/* The calendar item for row (new): external_id (may be NULL) the id to
 * give it, integration_id marks it as this sync's copy. */
json_t *bl_calsync_mapping_to_item(const bl_calsync_mapping *m, const json_t *row, const char *external_id,
                                   const char *integration_id);

/* The data of an event.create command (event_id given) for item (new). */
json_t *bl_calsync_mapping_create_data(const bl_calsync_mapping *m, const json_t *item, const char *event_id,
                                       const json_t *origin);

/* The data of an event.update command for item over the row at version
 * (new): every mapped attribute set, absent optional ones cleared. */
json_t *bl_calsync_mapping_update_data(const bl_calsync_mapping *m, const json_t *item, const char *event_id,
                                       long version, const json_t *origin);

#endif
