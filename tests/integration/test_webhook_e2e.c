/* An event appended to the outbox reaches a local endpoint through relay,
 * fan-out and delivery worker, with headers an independent Standard
 * Webhooks implementation verifies. */
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int got_one(webhook_sink *s, void *user)
{
    (void)user;
    return webhook_sink_count(s) >= 1;
}

static void legacy_and_headers(bl_webhook_spec *spec, void *user)
{
    (void)user;
    static json_t *headers;
    if (!headers)
        headers = json_pack("{s:s}", "X-Tenant", "t-42");
    spec->headers = headers;
    spec->legacy_signature = true;
    spec->hmac_header = "X-Powalyze-Signature";
}

static void outbox_event_arrives_signed_at_the_endpoint(void)
{
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, NULL, NULL) == 0);
    wh_e2e e = {0};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url[128], secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    webhook_sink_url(&sink, "/hooks/a", url, sizeof url);
    char *id = wh_e2e_endpoint(&e, "org-e2e", url, "webhook.*", legacy_and_headers, NULL, secret);
    REQUIRE(id != NULL);
    CHECK(wh_e2e_wait_cache(&e, 1) == 0);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    REQUIRE(wh_e2e_append(&e, "org-e2e", "ep-9", 1, "reason-") == 0);
    REQUIRE(webhook_sink_wait(&sink, got_one, NULL, 30000));
    sink_hit h = sink.hits[0];
    CHECK(strcmp(h.path, "/hooks/a") == 0);
    CHECK(h.id[0] != '\0');
    CHECK(strcmp(h.custom, "t-42") == 0);
    CHECK(strstr(h.body, "\"event\":\"webhook.disabled\"") != NULL);
    CHECK(strstr(h.body, "\"organization_id\":\"org-e2e\"") != NULL);
    CHECK(strstr(h.body, "\"reason\":\"reason-0\"") != NULL);
    char args[1024], out[256];
    snprintf(args, sizeof args, "v1 %s %s %s '%s'", secret, h.id, h.timestamp, h.signature);
    wh_python_verify(args, h.body, out, sizeof out);
    CHECK_EQ_STR(out, "ok");
    /* a tampered body does not verify: the check can fail */
    wh_python_verify(args, "{\"event\":\"forged\"}", out, sizeof out);
    CHECK_EQ_STR(out, "mismatch");
    snprintf(args, sizeof args, "legacy %s", secret);
    wh_python_verify(args, h.body, out, sizeof out);
    CHECK_EQ_STR(out, h.legacy);
    /* the HMAC header is keyed with the secret's text, not its decoded bytes */
    snprintf(args, sizeof args, "text-keyed %s", secret);
    wh_python_verify(args, h.body, out, sizeof out);
    CHECK(strncmp(h.powalyze, "sha256=", 7) == 0 && strlen(h.powalyze) == 7 + 64);
    CHECK_EQ_STR(out, h.powalyze);
    CHECK(strcmp(h.powalyze, h.legacy) != 0);
    /* the attempt is in the delivery log */
    bl_err err = {0};
    CHECK(bl_delivery_log_flush(e.log, 5000, &err) == 0);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '%s' "
             "AND succeeded AND status_code = 200 AND attempt = 1", id);
    CHECK(bl_webhook_test_count(&e.f, sql) == 1);
    free(id);
done:
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

int main(void)
{
    BL_RUN(outbox_event_arrives_signed_at_the_endpoint);
    return bl_test_summary();
}
