/* Endpoint health off the delivery hot path: the delivery worker queues the
 * final result of each delivery (and 410 Gone answers) and a background
 * thread calls bl_webhook_store_record_outcome / _disable, and publishes the
 * message.attempt.* events (bl_webhook_store_attempt_event). Successes of one
 * endpoint queued together are recorded once (each would only reset the
 * same run of failures). */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_OUTCOME_REPORTER_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_OUTCOME_REPORTER_H

#include "connectors/webhook/store/endpoint_store.h"
#include "connectors/webhook/store/ops_events.h"
#include "core/err.h"

#include <stdint.h>

typedef enum bl_outcome_report {
    BL_REPORT_SUCCESS = 0,
    BL_REPORT_FAILURE,
    BL_REPORT_GONE, /* the endpoint answered 410: disable it */
    BL_REPORT_ATTEMPT_EVENT, /* a message.attempt.* event (bl_outcome_reporter_push_attempt) */
} bl_outcome_report;

typedef struct bl_outcome_reporter bl_outcome_reporter;

/* Starts the thread over store (borrowed, outlives the reporter); capacity
 * records queued at most (0: 65536). Returns NULL with err. */
bl_outcome_reporter *bl_outcome_reporter_new(bl_webhook_store *store, size_t capacity, bl_err *err);

/* Records what is queued, stops the thread and frees. Accepts NULL. */
void bl_outcome_reporter_free(bl_outcome_reporter *r);

/* Queues one result for endpoint_id (copied). Never blocks: when the queue
 * is full the result is dropped and counted. Thread-safe. */
void bl_outcome_reporter_push(bl_outcome_reporter *r, const char *endpoint_id, bl_outcome_report what);

/* Queues the message.attempt.failing or .exhausted event (type, a static
 * string) of a message of endpoint_id; a's strings are copied. Never blocks
 * (dropped and counted when full). Thread-safe. */
void bl_outcome_reporter_push_attempt(bl_outcome_reporter *r, const char *endpoint_id, const char *type,
                                      const bl_webhook_attempt_info *a);

/* Waits up to timeout_ms until everything queued before the call is
 * recorded. Returns 0, or -1 on timeout. */
int bl_outcome_reporter_flush(bl_outcome_reporter *r, int timeout_ms);

/* Endpoints this reporter disabled, and results dropped. */
int64_t bl_outcome_reporter_disabled(bl_outcome_reporter *r);
int64_t bl_outcome_reporter_dropped(bl_outcome_reporter *r);

#endif
