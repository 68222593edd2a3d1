-- meetingDefaults.recordingSettings.recordingAuthentication of design
-- document 001 (connectors/zoom/auto_meetings.c): Zoom's create-meeting body
-- has no such field, so after a meeting is made its cloud recording settings
-- are PATCHed (PATCH /meetings/{meetingId}/recordings/settings
-- {"recording_authentication": ...}). The value Zoom last accepted is kept
-- here (NULL: never sent for this meeting), so a refused or lost PATCH is
-- sent again on the event's next change, and a repeat sends nothing.
ALTER TABLE attendance_zoom_meetings ADD COLUMN recording_authentication boolean;
