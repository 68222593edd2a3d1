/* /v1/webhooks deliveries in-process on a fresh database, with the local
 * sink of tests/support/webhook_api_fixture.h: rotation then a test
 * delivery whose two signatures verify, the Powalyze signature header keyed
 * with the secret as shown, a test delivery to an internal address refused,
 * exact logs and stats after known deliveries, and disable/enable with a
 * replay request. Management is in test_api_webhooks.c. */
#include "api/auth/keys.h"
#include "api/server.h"
#include "connectors/webhook/policy/signature.h"
#include "connectors/webhook/store/delivery_log.h"
#include "core/clock.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"
#include "tests/support/webhook_api_fixture.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdatomic.h>
#include <stdlib.h>

/* ---- tests ---- */

static void rotation_then_test_delivery_carries_two_signatures_that_verify(void)
{
    char id[64], old_secret[BL_WEBHOOK_SECRET_TEXT_MAX], new_secret[BL_WEBHOOK_SECRET_TEXT_MAX], path[160];
    REQUIRE(bl_test_wh_create(bl_test_wh.admin, "rotating", id, old_secret) == 201);
    bl_test_reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s/rotate-secret", id);
    REQUIRE(bl_test_wh_call("POST", path, bl_test_wh.admin, "{\"overlap\":\"1h\"}", &r) == 200);
    snprintf(new_secret, sizeof new_secret, "%s", bl_test_wh_str(r.json, "secret"));
    CHECK(strncmp(new_secret, "whsec_", 6) == 0 && strcmp(new_secret, old_secret) != 0);
    CHECK(json_is_string(json_object_get(r.json, "previous_secret_until")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.admin, "{\"overlap\":\"soon\"}", &r), 422);
    CHECK(json_object_get(bl_test_wh_field_errors(&r), "overlap") != NULL);
    bl_test_reply_clear(&r);

    atomic_store(&bl_test_wh.sink_status, 202);
    size_t before = webhook_sink_count(&bl_test_wh.sink);
    snprintf(path, sizeof path, "/v1/webhooks/%s/test", id);
    REQUIRE(bl_test_wh_call("POST", path, bl_test_wh.admin, NULL, &r) == 200);
    CHECK(json_is_true(json_object_get(r.json, "success")));
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "status_code")), 202);
    CHECK_EQ_STR(bl_test_wh_str(r.json, "response_excerpt"), WEBHOOK_SINK_BODY);
    CHECK(json_is_integer(json_object_get(r.json, "duration_ms")));
    char event_id[300];
    snprintf(event_id, sizeof event_id, "%s", bl_test_wh_str(r.json, "event_id"));
    bl_test_reply_clear(&r);

    sink_hit hits[8], got = {0};
    size_t n = webhook_sink_hits_to(&bl_test_wh.sink, "/hook", hits, 8);
    if (n > 0)
        got = hits[n - 1];
    CHECK_EQ_INT(webhook_sink_count(&bl_test_wh.sink), before + 1);
    CHECK_EQ_STR(got.id, event_id);
    CHECK_EQ_STR(got.custom, "acme");
    CHECK(strchr(got.signature, ' ') != NULL); /* two signatures during the overlap */
    CHECK(strstr(got.body, "\"event\":\"webhook.test\"") != NULL);
    bl_webhook_secret s_old, s_new;
    bl_err err = {0};
    REQUIRE(bl_webhook_secret_parse(old_secret, &s_old, &err) == 0 && bl_webhook_secret_parse(new_secret, &s_new, &err) == 0);
    int64_t now = bl_clock_wall_ms() / 1000;
    CHECK_EQ_INT(bl_webhook_verify_v1(&s_new, got.id, got.timestamp, got.signature, got.body, got.body_len, now, 300, &err),
                 BL_WEBHOOK_VERIFY_OK);
    CHECK_EQ_INT(bl_webhook_verify_v1(&s_old, got.id, got.timestamp, got.signature, got.body, got.body_len, now, 300, &err),
                 BL_WEBHOOK_VERIFY_OK);
    /* and each signature alone verifies with its own secret only */
    char first[BL_WEBHOOK_SIG_MAX + 1];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(got.signature, " "), got.signature);
    CHECK_EQ_INT(bl_webhook_verify_v1(&s_old, got.id, got.timestamp, first, got.body, got.body_len, now, 300, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);

    /* the sink's failure is reported as such, and both attempts are logged */
    atomic_store(&bl_test_wh.sink_status, 503);
    REQUIRE(bl_test_wh_call("POST", path, bl_test_wh.admin, NULL, &r) == 200);
    CHECK(json_is_false(json_object_get(r.json, "success")));
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "status_code")), 503);
    bl_test_reply_clear(&r);
    atomic_store(&bl_test_wh.sink_status, 202);
    snprintf(path, sizeof path, "/v1/webhooks/%s/logs", id);
    REQUIRE(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r) == 200);
    json_t *data = json_object_get(r.json, "data");
    CHECK_EQ_INT(json_array_size(data), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(data, 0), "status_code")), 503);
    CHECK_EQ_STR(bl_test_wh_str(json_array_get(data, 1), "event_id"), event_id);
    CHECK_EQ_STR(bl_test_wh_str(json_array_get(data, 1), "event_type"), "webhook.test");
    /* each attempt's payload is the body the sink received */
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(json_array_get(data, 1), "payload"), "event"), "webhook.test");
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(data, 1), "payload_bytes")), (long)got.body_len);
    bl_test_reply_clear(&r);
}

/* HMAC-SHA256 of body keyed with text, as "sha256=<hex>", by OpenSSL directly. */
static void openssl_text_keyed(const char *text, const char *body, size_t len, char out[80])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), text, (int)strlen(text), (const unsigned char *)body, len, mac, &n);
    int w = snprintf(out, 80, "sha256=");
    for (unsigned int i = 0; i < n; i++)
        w += snprintf(out + w, 80 - (size_t)w, "%02x", mac[i]);
}

static void signature_header_defaults_to_powalyze_and_is_keyed_with_the_shown_secret(void)
{
    char id[64], secret[BL_WEBHOOK_SECRET_TEXT_MAX], path[160];
    REQUIRE(bl_test_wh_create(bl_test_wh.admin, "signed", id, secret) == 201);
    bl_test_reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200);
    CHECK_EQ_STR(bl_test_wh_str(r.json, "signature_header"), "X-Powalyze-Signature");
    bl_test_reply_clear(&r);
    atomic_store(&bl_test_wh.sink_status, 202);
    snprintf(path, sizeof path, "/v1/webhooks/%s/test", id);
    REQUIRE(bl_test_wh_call("POST", path, bl_test_wh.admin, NULL, &r) == 200);
    bl_test_reply_clear(&r);
    sink_hit hits[16], got = {0};
    size_t n = webhook_sink_hits_to(&bl_test_wh.sink, "/hook", hits, 16);
    if (n > 0)
        got = hits[n - 1];
    char want[80];
    openssl_text_keyed(secret, got.body ? got.body : "", got.body_len, want);
    CHECK_EQ_STR(got.powalyze, want);
    /* null turns it off; a name busline sets itself is refused */
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, "{\"signature_header\":null}", &r), 200);
    CHECK(json_is_null(json_object_get(r.json, "signature_header")));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/test", id);
    REQUIRE(bl_test_wh_call("POST", path, bl_test_wh.admin, NULL, &r) == 200);
    bl_test_reply_clear(&r);
    n = webhook_sink_hits_to(&bl_test_wh.sink, "/hook", hits, 16);
    CHECK(n > 0 && hits[n - 1].powalyze[0] == '\0');
    bl_test_wh_expect_field_error("{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"risk.*\"],"
                       "\"signature_header\":\"webhook-signature\"}",
                       "signature_header", "busline");
    bl_test_wh_expect_field_error("{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"risk.*\"],"
                       "\"signature_header\":\"X Sig\"}",
                       "signature_header", NULL);
}

static void test_delivery_to_an_internal_address_is_refused(void)
{
    char id[64], path[160];
    REQUIRE(bl_test_wh_create(bl_test_wh.admin, "soon internal", id, NULL) == 201);
    /* the address was allowed when saved and is not any more (DNS or allow-list change) */
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(bl_test_wh.pool, 5000, &err);
    REQUIRE(conn);
    const char *p[] = {id};
    CHECK_EQ_INT(bl_pg_exec_cmd(conn, "UPDATE webhook_endpoints SET url = 'http://10.0.0.7/hook' WHERE id = $1", 1, p, &err), 0);
    bl_pg_pool_release(bl_test_wh.pool, conn);
    bl_test_reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s/test", id);
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.admin, NULL, &r), 422);
    CHECK(strstr(json_string_value(json_object_get(bl_test_wh_field_errors(&r), "url")) ?: "", "private") != NULL);
    bl_test_reply_clear(&r);
}

static void append(bl_delivery_log *log, const char *endpoint, const char *event_id, int status, bool ok,
                   int64_t duration, int64_t at_ms, const char *error)
{
    bl_err err = {0};
    /* what was sent: ev2 a small JSON body, ev3 one larger than the log keeps */
    static char big[BL_DELIVERY_PAYLOAD_MAX + 904];
    memset(big, 'x', sizeof big);
    const char *small = "{\"event\":\"risk.escalated\",\"data\":{\"id\":\"r1\"}}";
    bool is_ev2 = strcmp(event_id, "ev2") == 0, is_ev3 = strcmp(event_id, "ev3") == 0;
    bl_delivery_record rec = {.endpoint_id = endpoint, .organization_id = bl_test_wh.org_stats, .event_type = "risk.escalated",
                              .event_id = event_id, .status_code = status, .succeeded = ok,
                              .response = ok ? "fine" : "broken", .response_len = ok ? 4 : 6, .error = error,
                              .payload = is_ev2 ? small : is_ev3 ? big : NULL,
                              .payload_len = is_ev2 ? strlen(small) : is_ev3 ? sizeof big : 0,
                              .duration_ms = duration, .attempt = ok ? 1 : 2, .delivered_at_ms = at_ms};
    CHECK_EQ_INT(bl_delivery_log_append(log, &rec, &err), 0);
}

static void logs_and_stats_are_exact_after_known_deliveries(void)
{
    char token[BL_API_TOKEN_SIZE], a[64], b[64], path[200];
    bl_test_wh_key_of(bl_test_wh.org_stats, BL_API_PERM_ADMIN, token);
    REQUIRE(bl_test_wh_create(token, "a", a, NULL) == 201 && bl_test_wh_create(token, "b", b, NULL) == 201);
    bl_err err = {0};
    bl_delivery_log_opts o = {.pool = bl_test_wh.pool};
    bl_delivery_log *log = bl_delivery_log_new(&o, &err);
    REQUIRE(log);
    int64_t now = bl_clock_wall_ms();
    append(log, a, "ev1", 200, true, 10, now - 5000, NULL);
    append(log, a, "ev2", 200, true, 20, now - 4000, NULL);
    append(log, a, "ev3", 500, false, 40, now - 3000, "server error");
    append(log, b, "ev4", 204, true, 30, now - 2000, NULL);
    append(log, a, "old", 200, true, 99, now - 30LL * 86400 * 1000, NULL);
    CHECK_EQ_INT(bl_delivery_log_flush(log, 10000, &err), 0);
    bl_delivery_log_free(log);

    bl_test_reply r;
    CHECK_EQ_INT(bl_test_wh_call("GET", "/v1/webhooks/stats?period_days=7", token, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total_triggers")), 4);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "successful_triggers")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "failed_triggers")), 1);
    CHECK(json_real_value(json_object_get(r.json, "success_rate")) == 75.0);
    CHECK(json_real_value(json_object_get(r.json, "avg_duration_ms")) == 25.0);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "period_days")), 7);
    json_t *recent = json_object_get(r.json, "recent_logs");
    CHECK_EQ_INT(json_array_size(recent), 4);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(recent, 0), "status_code")), 204); /* newest */
    json_t *per = json_object_get(r.json, "endpoints");
    CHECK_EQ_INT(json_array_size(per), 2);
    for (size_t i = 0; i < json_array_size(per); i++) {
        json_t *e = json_array_get(per, i);
        bool is_a = strcmp(bl_test_wh_str(e, "endpoint_id"), a) == 0;
        CHECK_EQ_INT(json_integer_value(json_object_get(e, "total_triggers")), is_a ? 3 : 1);
        CHECK_EQ_INT(json_integer_value(json_object_get(e, "failed_triggers")), is_a ? 1 : 0);
        CHECK(json_real_value(json_object_get(e, "avg_duration_ms")) == (is_a ? 23.3 : 30.0));
    }
    bl_test_reply_clear(&r);
    /* the default period is the document's 30 days; the "old" one is 30 days old */
    CHECK_EQ_INT(bl_test_wh_call("GET", "/v1/webhooks/stats?days=60", token, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total_triggers")), 5);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", "/v1/webhooks/stats?days=0", token, NULL, &r), 400);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/stats?period_days=7", a);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, token, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total_triggers")), 3);
    CHECK(json_real_value(json_object_get(r.json, "success_rate")) == 66.7);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "recent_logs")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "period_days")), 7);
    bl_test_reply_clear(&r);

    snprintf(path, sizeof path, "/v1/webhooks/%s/logs?limit=2", a);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, token, NULL, &r), 200);
    json_t *data = json_object_get(r.json, "data");
    CHECK_EQ_INT(json_array_size(data), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")), 4);
    CHECK_EQ_STR(bl_test_wh_str(json_array_get(data, 0), "event_id"), "ev3"); /* newest first */
    CHECK_EQ_STR(bl_test_wh_str(json_array_get(data, 1), "event_id"), "ev2");
    /* the document's payload: what was sent, as JSON */
    const json_t *sent = json_object_get(json_array_get(data, 1), "payload");
    CHECK_EQ_STR(bl_test_wh_str(sent, "event"), "risk.escalated");
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(sent, "data"), "id"), "r1");
    CHECK(json_is_false(json_object_get(json_array_get(data, 1), "payload_truncated")));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/logs?status=failed", a);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, token, NULL, &r), 200);
    data = json_object_get(r.json, "data");
    REQUIRE(json_array_size(data) == 1);
    json_t *row = json_array_get(data, 0);
    CHECK_EQ_STR(bl_test_wh_str(row, "event_id"), "ev3");
    CHECK_EQ_STR(bl_test_wh_str(row, "event_type"), "risk.escalated");
    CHECK_EQ_STR(bl_test_wh_str(row, "error"), "server error");
    CHECK_EQ_STR(bl_test_wh_str(row, "response_excerpt"), "broken");
    /* a body larger than the log keeps: its first bytes as text, cut and sized */
    CHECK_EQ_INT(json_string_length(json_object_get(row, "payload")), BL_DELIVERY_PAYLOAD_MAX);
    CHECK(json_is_true(json_object_get(row, "payload_truncated")));
    CHECK_EQ_INT(json_integer_value(json_object_get(row, "payload_bytes")), BL_DELIVERY_PAYLOAD_MAX + 904);
    CHECK_EQ_INT(json_integer_value(json_object_get(row, "status_code")), 500);
    CHECK_EQ_INT(json_integer_value(json_object_get(row, "duration_ms")), 40);
    CHECK_EQ_INT(json_integer_value(json_object_get(row, "attempt")), 2);
    CHECK(json_is_false(json_object_get(row, "success")));
    CHECK(strlen(bl_test_wh_str(row, "delivered_at")) == 24);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/logs?status=success", a);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, token, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")), 3);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/logs?status=maybe", a);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, token, NULL, &r), 400);
    CHECK(json_object_get(bl_test_wh_field_errors(&r), "status") != NULL);
    bl_test_reply_clear(&r);
}

static void disable_then_enable_with_a_replay_request(void)
{
    char id[64], path[200];
    REQUIRE(bl_test_wh_create(bl_test_wh.admin, "flaky", id, NULL) == 201);
    bl_test_reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s/disable", id);
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.admin, "{\"reason\":\"maintenance\"}", &r), 200);
    CHECK(json_is_false(json_object_get(r.json, "active")));
    CHECK_EQ_STR(bl_test_wh_str(r.json, "disabled_reason"), "maintenance");
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/enable", id);
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.admin, "{\"replay_since\":\"tomorrow\"}", &r), 422);
    CHECK(json_object_get(bl_test_wh_field_errors(&r), "replay_since") != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.admin, "{\"replay_since\":\"2024-01-02T03:04:05Z\"}", &r), 200);
    CHECK(json_is_true(json_object_get(r.json, "active")));
    json_t *replay = json_object_get(r.json, "replay");
    CHECK_EQ_STR(bl_test_wh_str(replay, "status"), "queued");
    CHECK_EQ_STR(bl_test_wh_str(replay, "since"), "2024-01-02T03:04:05.000Z");
    bl_test_reply_clear(&r);
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(bl_test_wh.pool, 5000, &err);
    REQUIRE(conn);
    const char *p[] = {id};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT count(*) FROM webhook_replay_requests WHERE endpoint_id = $1 AND status = 'queued'"
                               " AND replay_since = '2024-01-02T03:04:05Z'",
                               1, p, &err);
    CHECK(res && strcmp(PQgetvalue(res, 0, 0), "1") == 0);
    PQclear(res);
    /* the state changes went to the outbox as webhook.disabled / webhook.enabled */
    res = bl_pg_exec(conn, "SELECT count(*) FROM busline_outbox WHERE aggregate_id = $1 AND event_type LIKE 'webhook.%'",
                     1, p, &err);
    CHECK(res && strcmp(PQgetvalue(res, 0, 0), "2") == 0);
    PQclear(res);
    bl_pg_pool_release(bl_test_wh.pool, conn);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_wh_setup() == 0) {
        BL_RUN(rotation_then_test_delivery_carries_two_signatures_that_verify);
        BL_RUN(signature_header_defaults_to_powalyze_and_is_keyed_with_the_shown_secret);
        BL_RUN(test_delivery_to_an_internal_address_is_refused);
        BL_RUN(logs_and_stats_are_exact_after_known_deliveries);
        BL_RUN(disable_then_enable_with_a_replay_request);
    } else {
        bl_test_failures++;
    }
    bl_test_wh_teardown();
    curl_global_cleanup();
    return bl_test_summary();
}
