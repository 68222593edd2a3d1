/* What the two makers of Zoom meetings share: which of a user's listed
 * meetings an earlier create made (Zoom has no idempotency key, so a create
 * whose answer was lost is found again by what it sent), and the capped
 * text of a meeting. Shared by the Zoom connector (zoom.c) and the Attendance-X
 * meetings (auto_meetings.c). */
#ifndef BUSLINE_CONNECTORS_ZOOM_MEETING_MATCH_H
#define BUSLINE_CONNECTORS_ZOOM_MEETING_MATCH_H

#include <jansson.h>
#include <stdint.h>

/* The first meeting of list (an answer of GET /users/{userId}/meetings,
 * borrowed) that a create of sent (its topic and start_time) made since
 * since_ms, with its id into id (cap bytes). Returns it (borrowed from
 * list), or NULL when there is none. */
const json_t *bl_zoom_find_created(const json_t *list, const json_t *sent, int64_t since_ms, char *id, size_t cap);

/* The listed meeting's id as text into out (cap bytes). Returns 0, or -1
 * when it has no integer id. */
int bl_zoom_meeting_id(const json_t *meeting, char *out, size_t cap);

/* A JSON string of at most max bytes of s (Zoom's topic and agenda
 * limits), not cutting a UTF-8 sequence: new, or NULL. */
json_t *bl_zoom_capped_string(const char *s, size_t max);

#endif
