/* Zoom meetings for Attendance-X events (design document 001, Zoom
 * settings): each connected Zoom integration whose settings say
 * "autoCreateMeetings": true gets a meeting for every scheduled event of
 * its organization whose type is in filters.eventTypes (every type when
 * none is given), made with meetingDefaults; the meeting's join_url is
 * written back onto the event by the domain's own command (event.update
 * with meeting_url), so it is there when the event is read back.
 *
 * Driven by the domain's events (event.created|updated|cancelled on
 * events.attendance.event), decided by the current row: a redelivered or
 * late event changes nothing. The event -> meeting link is a row of
 * attendance_zoom_meetings (migration 140), written 'pending' before the
 * create call: a create that finds a pending row (the earlier answer was
 * lost) first looks among the user's upcoming meetings for the one it made
 * (same topic, same start, created since the mark) and links it, so a
 * redelivered event never makes a second meeting. A change of title,
 * description, start, end or time zone PATCHes the meeting; a cancelled
 * event, or one no longer of a configured type, has its meeting deleted.
 *
 * meetingDefaults: type is always 2 (scheduled: an event has a start);
 * duration is the event's length (meetingDefaults.duration only when the
 * event has none to give, i.e. never); timezone the event's own zone,
 * meetingDefaults.timezone when the event has none; password ->
 * default_password (Zoom makes the passcode by the user's settings);
 * waitingRoom, joinBeforeHost, muteUponEntry -> settings.waiting_room,
 * join_before_host, mute_upon_entry; recordingSettings.autoRecording ->
 * settings.auto_recording. recordingSettings.recordingAuthentication has no
 * field in the create body: once the meeting exists it is PATCHed to
 * /meetings/{meetingId}/recordings/settings as recording_authentication,
 * and the value Zoom accepted is kept on the link (migration 178): a refused
 * PATCH is sent again on the event's next change, a repeat sends nothing,
 * a changed setting is sent once. attendanceTracking (enabled, syncAttendance) arms the
 * participants report pull at the event's end (attendance_pull.h). */
#ifndef BUSLINE_CONNECTORS_ZOOM_AUTO_MEETINGS_H
#define BUSLINE_CONNECTORS_ZOOM_AUTO_MEETINGS_H

#include "connectors/calendar_sync/commands.h"
#include "connectors/oauth/oauth.h"
#include "core/pg_pool.h"

#include <jansson.h>

typedef struct bl_zoom_meetings {
    bl_pg_pool *pool;          /* borrowed */
    bl_oauth_store *store;     /* borrowed: the integrations' Zoom tokens */
    bl_calsync_sender sender;  /* the attendance commands (meeting_url, attendance) */
    const char *base_url;      /* NULL or "": https://api.zoom.us/v2 */
    int max_wait_ms;           /* longest rate-limit wait; 0 = 30 s */
} bl_zoom_meetings;

/* A bl_attendance_event_fn (connectors/calendar_sync/push.h), arg = a
 * bl_zoom_meetings: brings the meetings of event's event in line with it
 * for every eligible integration. A refusal by Zoom is logged and left to
 * the event's next change. Returns 0, or -1 with err when the database or
 * the command topic failed. */
int bl_zoom_meetings_on_event(void *arg, const json_t *event, bl_err *err);

/* Brings the meeting of event_id of org in line with the current row for
 * integration_id (settings: its settings, borrowed). *changed (may be
 * NULL) counts Zoom writes. Returns 0, or -1 with err. */
int bl_zoom_meetings_sync_event(const bl_zoom_meetings *z, const char *integration_id, const json_t *settings,
                                const char *org, const char *event_id, int *changed, bl_err *err);

#endif
