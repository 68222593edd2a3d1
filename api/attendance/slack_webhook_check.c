/* The Slack half of POST /integrations/:id/test: an integration with a
 * settings.webhookUrl (document 001's Slack configuration) gets a test
 * message posted to that incoming webhook (connectors/slack/
 * incoming_webhook.h: the SSRF guard with public addresses, or
 * $BUSLINE_WEBHOOK_ALLOW). A refusal or a non-2xx answer is WEBHOOK_FAILED. */
#include "api/attendance/ax_integrations.h"

#include "connectors/slack/incoming_webhook.h"

#include <stdlib.h>
#include <string.h>

#define TEST_MESSAGE "{\"text\":\"Attendance-X: connection test from busline\"}"

int bl_ax_slack_webhook_check(const char *url, long *took_ms, bl_err *err)
{
    bl_ssrf_allowlist allow;
    const char *spec = getenv("BUSLINE_WEBHOOK_ALLOW");
    if (bl_ssrf_allowlist_parse(spec ? spec : "", &allow, err) != 0)
        return -1;
    return bl_slack_webhook_post(url, &allow, TEST_MESSAGE, strlen(TEST_MESSAGE), 10000, took_ms, err);
}
