/* The Slack half of POST /integrations/:id/test: an integration with a
 * settings.webhookUrl (document 001's Slack configuration) gets a test
 * message posted to that incoming webhook, through the webhook SSRF guard
 * (public addresses, or $BUSLINE_WEBHOOK_ALLOW) with the checked address
 * pinned. A refusal or a non-2xx answer is WEBHOOK_FAILED. */
#include "api/attendance/ax_integrations.h"

#include "connectors/webhook/policy/ssrf_guard.h"
#include "core/clock.h"
#include "core/http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_MESSAGE "{\"text\":\"Attendance-X: connection test from busline\"}"

static void ignore_done(const bl_http_result *result, void *opaque)
{
    (void)result, (void)opaque;
}

int bl_ax_slack_webhook_check(const char *url, long *took_ms, bl_err *err)
{
    bl_ssrf_allowlist allow;
    const char *spec = getenv("BUSLINE_WEBHOOK_ALLOW");
    if (bl_ssrf_allowlist_parse(spec ? spec : "", &allow, err) != 0)
        return -1;
    bl_ssrf_target t;
    bl_err why = {0};
    if (bl_ssrf_check_url(url, &allow, &t, &why) != 0)
        return bl_err_set(err, BL_OAUTH_E_WEBHOOK, "the Slack webhook URL is refused: %s", why.msg);
    char resolve[BL_SSRF_HOST_MAX + INET6_ADDRSTRLEN + 16];
    if (bl_ssrf_resolve_entry(&t, resolve, sizeof resolve) != 0)
        return bl_err_set(err, BL_OAUTH_E_WEBHOOK, "the Slack webhook host is too long");
    const char *headers[] = {"Content-Type: application/json"};
    bl_http_call call = {.method = "POST", .url = url, .headers = headers, .header_count = 1,
                         .body = TEST_MESSAGE, .body_len = strlen(TEST_MESSAGE), .timeout_ms = 10000,
                         .resolve = resolve[0] ? resolve : NULL, .on_done = ignore_done};
    bl_http_sync_result r = {0};
    int64_t started = bl_clock_mono_ms();
    int rc = bl_http_request_sync(&call, NULL, &r, &why);
    *took_ms = (long)(bl_clock_mono_ms() - started);
    bool ok = rc == 0 && r.status >= 200 && r.status <= 299;
    if (rc != 0)
        bl_err_set(err, BL_OAUTH_E_WEBHOOK, "the Slack webhook did not answer: %s", why.msg);
    else if (!ok)
        bl_err_set(err, BL_OAUTH_E_WEBHOOK, "the Slack webhook answered %ld: %.120s", r.status,
                   r.body ? r.body : "");
    bl_http_sync_result_clear(&r);
    return ok ? 0 : -1;
}
