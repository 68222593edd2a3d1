/* The stored side of webhook replay requests: rows of
 * webhook_replay_requests (migrations/058, 059) that `POST
 * /v1/webhooks/:id/enable {"replay_since": T}` leaves 'pending'. A worker
 * claims one (FOR UPDATE SKIP LOCKED, so two workers never take the same
 * row, and a row left 'running' too long is claimed again) and marks it
 * 'done' or 'failed' with its counts. Carrying a replay out is the
 * workers' job (workers/replay_requests.h). */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_STORE_REPLAY_REQUEST_ROWS_H
#define BUSLINE_CONNECTORS_WEBHOOK_STORE_REPLAY_REQUEST_ROWS_H

#include "connectors/webhook/store/endpoint_store.h"
#include "core/err.h"
#include "core/pg_pool.h"

#include <stdint.h>

#define BL_REPLAY_REQUEST_ID_MAX 24

/* One claimed request. */
typedef struct bl_replay_request_row {
    char id[BL_REPLAY_REQUEST_ID_MAX];
    char endpoint_id[BL_WEBHOOK_ID_MAX + 1];
    char organization_id[BL_WEBHOOK_ORG_MAX + 1];
    int64_t since_ms; /* replay events from this unix time in ms */
} bl_replay_request_row;

/* Claims the oldest pending request, or one 'running' for longer than
 * stale_after_s seconds, marking it 'running', into *out. pool is borrowed
 * for the call. Returns 1, 0 (none waiting) or -1 with err. */
int bl_replay_request_claim(bl_pg_pool *pool, int stale_after_s, bl_replay_request_row *out, bl_err *err);

/* Marks row 'done' (error NULL) or 'failed' with error, and the events
 * scanned and replayed. Returns 0, or -1 with err. */
int bl_replay_request_finish(bl_pg_pool *pool, const bl_replay_request_row *row, const char *error, long scanned,
                             long replayed, bl_err *err);

#endif
