/* A signed test delivery to one webhook endpoint, sent now and waited for:
 * the body of a "webhook.test" event, signed like every delivery (Standard
 * Webhooks headers with both secrets during a rotation's overlap, the legacy
 * X-Signature when the endpoint asks for it, its custom headers), sent
 * through the SSRF guard to the one address it checked (pinned). */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_TEST_SEND_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_TEST_SEND_H

#include "connectors/webhook/store/endpoint_store.h"
#include "core/crypto.h"
#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

#define BL_WEBHOOK_TEST_EVENT "webhook.test"

/* What came of a test delivery. Free with bl_webhook_test_clear. */
typedef struct bl_webhook_test {
    char event_id[64];     /* the webhook-id sent */
    bool succeeded;        /* a 2xx came back */
    int status_code;       /* 0: no response (see error) */
    int64_t duration_ms;
    char *response;        /* the first BL_DELIVERY_EXCERPT_MAX bytes, NUL-terminated; may be NULL */
    size_t response_len;
    char error[256];       /* transport error, "" when a response came */
    char *sent;            /* the body sent (for the delivery log's payload); may be NULL */
    size_t sent_len;
} bl_webhook_test;

/* Sends the test event to e (borrowed) at now_ms, opening its secrets with
 * kr and checking its URL against allow (may be NULL). Returns 0 when the
 * request was made (whatever came back: see out), or -1 with err when it
 * was not: BL_EINVAL "url: ..." for an SSRF refusal, BL_ECRYPTO when the
 * secret does not open. */
int bl_webhook_test_send(const bl_webhook_endpoint *e, const bl_keyring *kr,
                             const bl_ssrf_allowlist *allow, int64_t now_ms, bl_webhook_test *out,
                             bl_err *err);

/* Frees what out owns. */
void bl_webhook_test_clear(bl_webhook_test *out);

#endif
