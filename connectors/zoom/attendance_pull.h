/* attendanceTracking.syncAttendance of design document 001: after a Zoom
 * meeting made for an Attendance-X event (auto_meetings.h) has ended, its
 * participants report (GET /report/meetings/{id}/participants, every page
 * by next_page_token) becomes attendance, through the domain's own
 * event.record_attendance commands (source "zoom").
 *
 * Per person: the report's rows (one per join) are summed by e-mail (by
 * name for guests without one); someone in the meeting for at least
 * attendanceTracking.minimumDuration minutes is PRESENT, anyone shorter
 * ABSENT, with duration_minutes the whole minutes they were in. A
 * participant whose e-mail is an attendee's is recorded as that attendee
 * (person_id); others as "zoom:<e-mail or name>" (walk-ins). Planned
 * attendees who never joined are ABSENT with 0 minutes. Command ids derive
 * from meeting, person, status and minutes, so a repeated pull is a
 * duplicate for the domain.
 *
 * The timer is attendance_due_at (the event's end) in
 * attendance_zoom_meetings: a due row is claimed with FOR UPDATE SKIP
 * LOCKED and leased (due again in 10 minutes: a worker killed mid-pull is
 * taken over then); a report not there yet (404) is tried again 15 minutes
 * later, at most 12 times; then the row keeps attendance_error. */
#ifndef BUSLINE_CONNECTORS_ZOOM_ATTENDANCE_PULL_H
#define BUSLINE_CONNECTORS_ZOOM_ATTENDANCE_PULL_H

#include "connectors/zoom/auto_meetings.h"

/* Pulls the reports now due, at most limit of them. *recorded (may be NULL)
 * gets how many attendance commands were sent. Returns how many meetings
 * were pulled to the end, or -1 with err (database, command topic). */
int bl_zoom_attendance_pull_due(const bl_zoom_meetings *z, int limit, int *recorded, bl_err *err);

#endif
