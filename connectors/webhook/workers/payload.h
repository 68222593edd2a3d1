/* The JSON body a webhook endpoint receives:
 *   {"event":"risk.escalated","timestamp":"2026-11-25T08:16:00.123Z",
 *    "organization_id":"org_1","data":{...}}
 * built from a decoded event envelope. Compact and deterministic: the same
 * event always gives the same bytes (keys of data sorted), so a redelivery
 * carries the same body and signature inputs. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_PAYLOAD_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_PAYLOAD_H

#include "core/time_format.h"
#include "core/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define BL_WEBHOOK_PAYLOAD_MAX (1024 * 1024) /* largest body sent */

/* Builds the body from envelope (borrowed; the fields of the EventEnvelope
 * schema): "type" (non-empty string), "time" (integer, unix ms),
 * "organization_id" (non-empty string) and "data" (object, or null). Other
 * fields (id, source, subject) are not part of the body: the id travels as
 * webhook-id. Returns the NUL-terminated body (caller frees with free) and
 * sets *len; or NULL with err (BL_EINVAL naming the bad field, or the body
 * being over BL_WEBHOOK_PAYLOAD_MAX). */
char *bl_webhook_payload_build(const json_t *envelope, size_t *len, bl_err *err);

#endif
