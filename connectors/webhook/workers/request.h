/* The headers of one webhook request: Content-Type, webhook-id,
 * webhook-timestamp, webhook-signature (both secrets during a rotation),
 * X-Signature and the endpoint's HMAC header (hmac_header) when it asks,
 * then the endpoint's custom headers.
 * Shared by the delivery worker and `busline webhooks test`. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_REQUEST_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_REQUEST_H

#include "connectors/webhook/store/endpoint_store.h"
#include "connectors/webhook/policy/signature.h"
#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

#define BL_WEBHOOK_REQ_HEADERS_MAX (6 + BL_WEBHOOK_HEADERS_MAX)
#define BL_WEBHOOK_REQ_LINE_MAX (BL_WEBHOOK_HEADER_NAME_MAX + BL_WEBHOOK_HEADER_VALUE_MAX + 4)

/* "Name: value" lines, in a caller-owned (reusable) buffer. */
typedef struct bl_webhook_req_headers {
    const char *lines[BL_WEBHOOK_REQ_HEADERS_MAX];
    size_t count;
    char buf[BL_WEBHOOK_REQ_HEADERS_MAX][BL_WEBHOOK_REQ_LINE_MAX];
} bl_webhook_req_headers;

/* Fills out for endpoint e (borrowed: its legacy flag, HMAC header and custom headers),
 * keys, message id and body, signed at now_s (the webhook-timestamp).
 * Returns 0, or -1 with err (bad id). */
int bl_webhook_req_headers_build(const bl_webhook_endpoint *e, const bl_webhook_rotation *keys,
                                 const char *msg_id, const char *body, size_t body_len, int64_t now_s,
                                 bl_webhook_req_headers *out, bl_err *err);

#endif
