/* A Slack incoming webhook (https://hooks.slack.com/services/T/B/X): POST
 * of a JSON message {text, blocks} to the hook URL, which answers "ok" or
 * an error word ("invalid_payload", "no_service", "channel_not_found",
 * ...), 429 with Retry-After when rate limited. The URL goes through the
 * webhook SSRF guard (connectors/webhook/policy/ssrf_guard.h: public
 * addresses, or the allowlist) and the checked address is pinned, so a
 * hook cannot be turned onto an internal service. Used by the notices
 * (notices.h) and by the API's connection test. */
#ifndef BUSLINE_CONNECTORS_SLACK_INCOMING_WEBHOOK_H
#define BUSLINE_CONNECTORS_SLACK_INCOMING_WEBHOOK_H

#include "connectors/webhook/policy/ssrf_guard.h"
#include "core/err.h"

#include <stddef.h>

/* POSTs body (JSON text, body_len bytes, borrowed) to url through the SSRF
 * guard with allow (borrowed; NULL: public addresses only). A 429 or a 5xx
 * is tried again after Retry-After (else 1 s), at most 3 times, no wait
 * longer than max_wait_ms (<= 0: 30 s). *took_ms (may be NULL) gets the time
 * taken. Returns 0 on a 2xx, or -1 with err (BL_OAUTH_E_WEBHOOK:
 * refused URL, no answer, or the hook's status and error word). */
int bl_slack_webhook_post(const char *url, const bl_ssrf_allowlist *allow, const char *body, size_t body_len,
                          int max_wait_ms, long *took_ms, bl_err *err);

#endif
