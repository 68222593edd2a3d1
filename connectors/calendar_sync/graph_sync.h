/* Microsoft Graph v1.0 (Outlook calendar of the signed-in user) behind the
 * calendar sync's provider interface (provider.h):
 *
 *   list   GET /me/calendarView/delta?startDateTime&endDateTime (or
 *          /me/calendars/{id}/calendarView/delta), then the
 *          @odata.nextLink of each page; the last page's @odata.deltaLink
 *          is the cursor, and a later read starts from it. Items with
 *          @removed are deletions. A 410 (syncStateNotFound, the delta
 *          token expired) is BL_CALSYNC_E_CURSOR_GONE: list everything
 *          again. Links the server hands out are followed only when they
 *          start with the configured base (no request leaves for another
 *          host; a stored deltaLink of another base is a full resync).
 *          The window of a delta round is fixed when it starts: 31 days
 *          back to 400 days ahead.
 *   insert POST /me/events with transactionId "busline/<integration>/<event>"
 *          (Graph drops a repeated POST of the same transactionId and
 *          answers the event it made, so a run that stopped before keeping
 *          the link finds the same copy; delta items carry the
 *          transactionId back, which marks the copy as this sync's).
 *          With online_meeting: isOnlineMeeting, onlineMeetingProvider
 *          teamsForBusiness, then the meeting's options (recordAutomatically,
 *          allowTranscription, lobbyBypassSettings.scope everyone when
 *          anonymous joiners are allowed, organization when not) with
 *          PATCH /me/onlineMeetings/{id}, found by its JoinWebUrl.
 *          category_color: categories ["Blue category"] (Outlook's preset
 *          names; another value is taken as the category's name),
 *          importance, showAs.
 *   get, patch, delete  /me/events/{id}.
 *
 * Times go out as UTC wall times with timeZone "UTC" and come back in UTC
 * (Graph's default without Prefer: outlook.timezone); an item's time zone
 * is its originalStartTimeZone as an IANA name (graph_zones.h); its version is
 * its changeKey, its updated_at its lastModifiedDateTime. 429 and 503/504
 * wait their Retry-After (Graph throttling), else 1 s doubling; 401
 * refreshes the token once (bl_oauth_call). Errors: 401
 * INVALID_CREDENTIALS, 403 PERMISSION_DENIED (ErrorQuotaExceeded:
 * API_QUOTA_EXCEEDED), 404 not found, 409 exists, 429 RATE_LIMIT_EXCEEDED. */
#ifndef BUSLINE_CONNECTORS_CALENDAR_SYNC_GRAPH_SYNC_H
#define BUSLINE_CONNECTORS_CALENDAR_SYNC_GRAPH_SYNC_H

#include "connectors/calendar_sync/provider.h"
#include "connectors/oauth/oauth.h"

typedef struct bl_calsync_graph_opts {
    bl_oauth_store *store;      /* borrowed; outlives the provider */
    const char *integration_id; /* copied */
    const char *base_url;       /* NULL: https://graph.microsoft.com/v1.0 (copied) */
    int max_wait_ms;            /* longest single wait on throttling; 0 = 30000 */
} bl_calsync_graph_opts;

/* A provider over Microsoft Graph; free it with bl_calsync_provider_free.
 * Returns NULL with err. */
bl_calsync_provider *bl_calsync_graph_new(const bl_calsync_graph_opts *opts, bl_err *err);

#endif
