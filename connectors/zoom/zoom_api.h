/* Zoom API v2 as the Attendance-X meetings call it (auto_meetings.c,
 * attendance_pull.c): through the OAuth store (the integration's
 * server-to-server token, refreshed once on a 401) with the rate-limit
 * waits of the calendar sync (connectors/calendar_sync/provider_http.h:
 * 429 waits Retry-After, 5xx 1 s doubling, 5 tries).
 *
 *   POST   /users/{userId}/meetings            create (201 with the meeting)
 *   GET    /users/{userId}/meetings?type=upcoming&page_size=300
 *   PATCH  /meetings/{meetingId}                update (204)
 *   DELETE /meetings/{meetingId}                delete (204; 404 = gone)
 *   PATCH  /meetings/{meetingId}/recordings/settings
 *          the meeting's cloud recording settings (204)
 *   GET    /report/meetings/{meetingId}/participants?page_size=300
 *          [&next_page_token=...]              the participants report
 *
 * Errors are Zoom's {"code","message"}: 401 -> BL_OAUTH_E_CREDENTIALS,
 * 404 (code 3001 "Meeting does not exist", also a report not ready yet) ->
 * BL_CALSYNC_E_NOT_FOUND, 429 -> BL_OAUTH_E_RATE, 400 -> BL_CALSYNC_E_INVALID,
 * 5xx -> BL_OAUTH_E_CONNECTION. A create is not repeated after a 5xx (the
 * meeting may exist: auto_meetings.c looks for it before creating again). */
#ifndef BUSLINE_CONNECTORS_ZOOM_ZOOM_API_H
#define BUSLINE_CONNECTORS_ZOOM_ZOOM_API_H

#include "connectors/calendar_sync/provider_http.h"

#define BL_ZOOM_API_BASE "https://api.zoom.us/v2"
#define BL_ZOOM_REPORT_PAGE 300 /* Zoom's largest page */

typedef struct bl_zoom_api {
    bl_calsync_http http;   /* every call but a create */
    bl_calsync_http create; /* a create: retried on 429 only (a 5xx may have made it) */
} bl_zoom_api;

/* Fills z for integration_id: base_url NULL or "" = Zoom's. */
void bl_zoom_api_init(bl_zoom_api *z, bl_oauth_store *store, const char *integration_id, const char *base_url,
                      int max_wait_ms);

/* POST /users/me/meetings with body (borrowed). Returns the meeting (new),
 * or NULL with err. */
json_t *bl_zoom_api_create(const bl_zoom_api *z, const json_t *body, bl_err *err);

/* GET the user's upcoming meetings (first page of 300). Returns the answer
 * (new) with its "meetings", or NULL with err. */
json_t *bl_zoom_api_upcoming(const bl_zoom_api *z, bl_err *err);

/* PATCH /meetings/{id} with body (borrowed). Returns 0, or -1 with err. */
int bl_zoom_api_update(const bl_zoom_api *z, const char *meeting_id, const json_t *body, bl_err *err);

/* PATCH /meetings/{id}/recordings/settings with body (borrowed:
 * {"recording_authentication": true, ...}). Returns 0, or -1 with err. */
int bl_zoom_api_recording_settings(const bl_zoom_api *z, const char *meeting_id, const json_t *body, bl_err *err);

/* DELETE /meetings/{id}: 1 deleted now, 0 already gone, -1 with err. */
int bl_zoom_api_delete(const bl_zoom_api *z, const char *meeting_id, bl_err *err);

/* One page of the participants report (page_token NULL or "" = the first).
 * Returns the page (new) {"participants", "next_page_token", ...}, or NULL
 * with err (BL_CALSYNC_E_NOT_FOUND: no report, or not yet). */
json_t *bl_zoom_api_report_page(const bl_zoom_api *z, const char *meeting_id, const char *page_token, bl_err *err);

#endif
