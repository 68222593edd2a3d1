/* Google Calendar API v3 behind the calendar sync's provider interface
 * (provider.h): events.list with syncToken / pageToken (a 410 Gone is the
 * documented "sync token expired, list everything again"), events.insert
 * with a client-chosen id, get, patch and delete. Calls go through the
 * OAuth store (bl_oauth_call: bearer token, one refresh and retry on a
 * 401). 429 and 403 rateLimitExceeded / userRateLimitExceeded wait the
 * Retry-After (else 1 s doubling, each wait capped at max_wait_ms) and try
 * again, at most 5 times; 5xx answers are tried again the same way. */
#ifndef BUSLINE_CONNECTORS_CALENDAR_SYNC_GOOGLE_SYNC_H
#define BUSLINE_CONNECTORS_CALENDAR_SYNC_GOOGLE_SYNC_H

#include "connectors/calendar_sync/provider.h"
#include "connectors/oauth/oauth.h"

typedef struct bl_calsync_google_opts {
    bl_oauth_store *store;      /* borrowed; outlives the provider */
    const char *integration_id; /* copied */
    const char *base_url;       /* NULL: https://www.googleapis.com/calendar/v3 (copied) */
    int page_size;              /* maxResults; 0 = 40 (an answer must fit the store's 64 KiB) */
    int max_wait_ms;            /* longest single wait on a rate limit; 0 = 30000 */
} bl_calsync_google_opts;

/* A provider over Google Calendar; free it with bl_calsync_provider_free.
 * Returns NULL with err. */
bl_calsync_provider *bl_calsync_google_new(const bl_calsync_google_opts *opts, bl_err *err);

#endif
