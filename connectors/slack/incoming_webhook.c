/* A Slack incoming webhook (incoming_webhook.h). */
#include "connectors/slack/incoming_webhook.h"

#include "connectors/oauth/oauth.h"
#include "core/clock.h"
#include "core/http_client.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOOK_TRIES 3
#define HOOK_TIMEOUT_MS 10000

static void ignore_done(const bl_http_result *result, void *opaque)
{
    (void)result, (void)opaque;
}

static void wait_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int bl_slack_webhook_post(const char *url, const bl_ssrf_allowlist *allow, const char *body, size_t body_len,
                          int max_wait_ms, long *took_ms, bl_err *err)
{
    bl_ssrf_allowlist none = {0};
    bl_ssrf_target t;
    bl_err why = {0};
    int64_t started = bl_clock_mono_ms();
    if (took_ms)
        *took_ms = 0;
    if (!url || bl_ssrf_check_url(url, allow ? allow : &none, &t, &why) != 0)
        return bl_err_set(err, BL_OAUTH_E_WEBHOOK, "the Slack webhook URL is refused: %s",
                          url ? why.msg : "none given");
    char resolve[BL_SSRF_HOST_MAX + INET6_ADDRSTRLEN + 16];
    if (bl_ssrf_resolve_entry(&t, resolve, sizeof resolve) != 0)
        return bl_err_set(err, BL_OAUTH_E_WEBHOOK, "the Slack webhook host is too long");
    const char *headers[] = {"Content-Type: application/json"};
    bl_http_call call = {.method = "POST", .url = url, .headers = headers, .header_count = 1, .body = body,
                         .body_len = body_len, .timeout_ms = HOOK_TIMEOUT_MS,
                         .resolve = resolve[0] ? resolve : NULL, .on_done = ignore_done};
    long cap = max_wait_ms > 0 ? max_wait_ms : 30000;
    int rc = -1;
    for (int attempt = 1; attempt <= HOOK_TRIES; attempt++) {
        bl_http_sync_result r = {0};
        int sent = bl_http_request_sync(&call, NULL, &r, &why);
        bool again = sent == 0 && (r.status == 429 || r.status >= 500) && attempt < HOOK_TRIES;
        if (sent != 0)
            bl_err_set(err, BL_OAUTH_E_WEBHOOK, "the Slack webhook did not answer: %s", why.msg);
        else if (r.status >= 200 && r.status <= 299)
            rc = 0;
        else
            bl_err_set(err, BL_OAUTH_E_WEBHOOK, "the Slack webhook answered %ld: %.120s", r.status,
                       r.body ? r.body : "");
        long ms = again && r.retry_after[0] && atol(r.retry_after) >= 0 ? atol(r.retry_after) * 1000L : 1000L;
        bl_http_sync_result_clear(&r);
        if (!again)
            break;
        wait_ms(ms < cap ? ms : cap);
    }
    if (took_ms)
        *took_ms = (long)(bl_clock_mono_ms() - started);
    return rc;
}
