/* /v1/webhooks in-process on a fresh database, with a local sink on
 * 127.0.0.1 (core/http_server): CRUD with the secret shown once, another
 * organization's endpoint never found, validation and SSRF refusals as 422
 * field errors, rotation then a test delivery whose two signatures verify,
 * exact logs and stats after known deliveries, enable/disable with a replay
 * request, the event types, the permission matrix and the demo plan. */
#include "api/auth/keys.h"
#include "api/auth/orgs.h"
#include "api/server.h"
#include "connectors/webhook/policy/signature.h"
#include "connectors/webhook/store/delivery_log.h"
#include "core/clock.h"
#include "core/http_server.h"
#include "core/migrations.h"
#include "tests/support/pg_test.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"
#include "tests/support/webhook_sink.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdatomic.h>
#include <stdlib.h>

#define TEST_KEYS "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static char pg_url[512];
static bl_pg_pool *pool;
static bl_api_server *srv;
static char org_pro[BL_API_ID_MAX], org_other[BL_API_ID_MAX], org_demo[BL_API_ID_MAX],
    org_stats[BL_API_ID_MAX], org_list[BL_API_ID_MAX];
static char admin[BL_API_TOKEN_SIZE], other_admin[BL_API_TOKEN_SIZE];

/* ---- the sink: answers sink_status ---- */

static webhook_sink sink;
static atomic_int sink_status = 202;

static void answer_sink_status(size_t n, const char *path, const char *id, int *status, int *retry_after_s,
                               int *sleep_ms, void *user)
{
    (void)n, (void)path, (void)id, (void)retry_after_s, (void)sleep_ms, (void)user;
    *status = atomic_load(&sink_status);
}

/* ---- calling the API ---- */

typedef bl_test_reply reply;

/* Calls the API with token (may be NULL) and an optional JSON body; fills r
 * (cleared with bl_test_reply_clear) and returns the status. */
static long call(const char *method, const char *path, const char *token, const char *body, reply *r)
{
    return bl_test_http_call(bl_api_server_port(srv), method, path, token, NULL, body, r);
}

static const json_t *field_errors(const reply *r)
{
    return json_object_get(json_object_get(r->json, "error"), "field_errors");
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void sink_url(char *out, size_t len)
{
    webhook_sink_url(&sink, "/hook", out, len);
}

/* Creates an endpoint through the API as token; writes its id and secret. */
static long create(const char *token, const char *name, char id[64], char secret[BL_WEBHOOK_SECRET_TEXT_MAX])
{
    char url[128], body[512];
    sink_url(url, sizeof url);
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"url\":\"%s\",\"event_types\":[\"risk.*\",\"project.created\"],"
             "\"headers\":{\"X-Tenant\":\"acme\"},\"conditions\":[{\"field\":\"data.severity\","
             "\"operator\":\"in\",\"value\":[\"high\",\"critical\"]}]}",
             name, url);
    reply r;
    long st = call("POST", "/v1/webhooks", token, body, &r);
    snprintf(id, 64, "%s", str(r.json, "id"));
    if (secret)
        snprintf(secret, BL_WEBHOOK_SECRET_TEXT_MAX, "%s", str(r.json, "secret"));
    bl_test_reply_clear(&r);
    return st;
}

static void key_of(const char *org, bl_api_perm perm, char token[BL_API_TOKEN_SIZE])
{
    bl_api_key_spec spec = {.org_id = org, .name = "k", .perm = perm, .rate_per_hour = 100000};
    bl_test_make_key(pool, &spec, token, NULL);
}

/* ---- tests ---- */

static void crud_shows_the_secret_once_and_updates_partially(void)
{
    char id[64], secret[BL_WEBHOOK_SECRET_TEXT_MAX], path[160];
    REQUIRE(create(admin, "crm", id, secret) == 201);
    CHECK(strncmp(secret, "whsec_", 6) == 0);
    reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(call("GET", path, admin, NULL, &r), 200);
    char *text = json_dumps(r.json, 0);
    CHECK(text && !strstr(text, "whsec_") && !json_object_get(r.json, "secret"));
    free(text);
    CHECK_EQ_STR(str(r.json, "name"), "crm");
    /* the document's defaults: three retries after the first attempt, 10 s */
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "max_attempts")), 4);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "retry_count")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "timeout_seconds")), 10);
    CHECK(json_is_true(json_object_get(r.json, "is_active")));
    CHECK(json_is_array(json_object_get(r.json, "events")));
    CHECK(json_is_null(json_object_get(r.json, "last_triggered_at")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", "/v1/webhooks", admin, NULL, &r), 200);
    text = json_dumps(r.json, 0);
    CHECK(text && strstr(text, id) && !strstr(text, "whsec_"));
    free(text);
    bl_test_reply_clear(&r);
    /* partial: only the name and the timeout change */
    CHECK_EQ_INT(call("PUT", path, admin, "{\"name\":\"crm v2\",\"timeout_ms\":2500,\"strict_order\":true}", &r), 200);
    CHECK_EQ_STR(str(r.json, "name"), "crm v2");
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "timeout_ms")), 2500);
    CHECK(json_is_true(json_object_get(r.json, "strict_order")));
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "event_types")), 2);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "conditions")), 1);
    CHECK_EQ_STR(str(json_object_get(r.json, "headers"), "X-Tenant"), "acme");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("DELETE", path, admin, NULL, &r), 204);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", path, admin, NULL, &r), 404);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "not_found");
    bl_test_reply_clear(&r);
}

static void list_is_paginated(void)
{
    char token[BL_API_TOKEN_SIZE], id[64];
    key_of(org_list, BL_API_PERM_ADMIN, token);
    for (int i = 0; i < 3; i++)
        REQUIRE(create(token, "e", id, NULL) == 201);
    reply r;
    CHECK_EQ_INT(call("GET", "/v1/webhooks?limit=2", token, NULL, &r), 200);
    json_t *p = json_object_get(r.json, "pagination");
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(p, "total")), 3);
    CHECK(json_is_true(json_object_get(p, "has_more")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", "/v1/webhooks?limit=2&offset=2", token, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 1);
    CHECK(json_is_false(json_object_get(json_object_get(r.json, "pagination"), "has_more")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", "/v1/webhooks?limit=500", token, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "limit")), 100);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", "/v1/webhooks?limit=0", token, NULL, &r), 400);
    CHECK(json_object_get(field_errors(&r), "limit") != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", "/v1/webhooks?sort=secret.asc", token, NULL, &r), 400);
    CHECK(strstr(json_string_value(json_object_get(field_errors(&r), "sort")) ?: "", "created_at") != NULL);
    bl_test_reply_clear(&r);
}

static void another_organizations_endpoint_is_not_found(void)
{
    char id[64], path[200];
    REQUIRE(create(admin, "private", id, NULL) == 201);
    static const char *const suffix[] = {"", "/logs", "/enable", "/disable", "/rotate-secret", "/test"};
    static const char *const method[] = {"GET", "GET", "POST", "POST", "POST", "POST"};
    reply r;
    for (size_t i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "/v1/webhooks/%s%s", id, suffix[i]);
        CHECK_EQ_INT(call(method[i], path, other_admin, NULL, &r), 404);
        bl_test_reply_clear(&r);
    }
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(call("PUT", path, other_admin, "{\"name\":\"mine\"}", &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("DELETE", path, other_admin, NULL, &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", "/v1/webhooks", other_admin, NULL, &r), 200);
    char *text = json_dumps(r.json, 0);
    CHECK(text && !strstr(text, id));
    free(text);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", path, admin, NULL, &r), 200); /* untouched */
    CHECK_EQ_STR(str(r.json, "name"), "private");
    bl_test_reply_clear(&r);
}

/* POSTs body and checks a 422 naming field. */
static void expect_field_error(const char *body, const char *field, const char *needle)
{
    reply r;
    CHECK_EQ_INT(call("POST", "/v1/webhooks", admin, body, &r), 422);
    const char *msg = json_string_value(json_object_get(field_errors(&r), field));
    CHECK(msg != NULL);
    if (msg && needle && !strstr(msg, needle)) {
        fprintf(stderr, "  %s: %s lacks %s\n", field, msg, needle);
        bl_test_failures++;
    }
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "validation_failed");
    bl_test_reply_clear(&r);
}

static void validation_errors_are_422_with_fields(void)
{
    reply r;
    CHECK_EQ_INT(call("POST", "/v1/webhooks", admin, "{\"url\":7,\"colour\":\"red\"}", &r), 422);
    const json_t *fe = field_errors(&r);
    CHECK(json_object_get(fe, "url") && json_object_get(fe, "name") && json_object_get(fe, "events") &&
          json_object_get(fe, "colour"));
    bl_test_reply_clear(&r);
    expect_field_error("{\"name\":\"n\",\"url\":\"ftp://127.0.0.1/x\",\"event_types\":[\"risk.*\"]}", "url", NULL);
    expect_field_error("{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"risk..x\"]}",
                       "events", NULL);
    expect_field_error("{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"risk.*\"],"
                       "\"conditions\":[{\"field\":\"data.a\",\"operator\":\"resembles\",\"value\":1}]}",
                       "conditions", NULL);
    expect_field_error("{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"risk.*\"],"
                       "\"headers\":{\"Host\":\"evil\"}}",
                       "headers", "Host");
    expect_field_error("{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"risk.*\"],"
                       "\"max_attempts\":0}",
                       "max_attempts", NULL);
}

static void ssrf_refusal_is_422_on_url_with_the_reason(void)
{
    expect_field_error("{\"name\":\"n\",\"url\":\"http://10.1.2.3/hook\",\"event_types\":[\"risk.*\"]}", "url",
                       "private");
    expect_field_error("{\"name\":\"n\",\"url\":\"http://169.254.169.254/latest\",\"event_types\":[\"risk.*\"]}",
                       "url", "link-local");
    /* an update to an internal address is refused the same way */
    char id[64], path[160];
    REQUIRE(create(admin, "moving", id, NULL) == 201);
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    reply r;
    CHECK_EQ_INT(call("PUT", path, admin, "{\"url\":\"http://192.168.1.1/\"}", &r), 422);
    CHECK(strstr(json_string_value(json_object_get(field_errors(&r), "url")) ?: "", "private") != NULL);
    bl_test_reply_clear(&r);
}

static void rotation_then_test_delivery_carries_two_signatures_that_verify(void)
{
    char id[64], old_secret[BL_WEBHOOK_SECRET_TEXT_MAX], new_secret[BL_WEBHOOK_SECRET_TEXT_MAX], path[160];
    REQUIRE(create(admin, "rotating", id, old_secret) == 201);
    reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s/rotate-secret", id);
    REQUIRE(call("POST", path, admin, "{\"overlap\":\"1h\"}", &r) == 200);
    snprintf(new_secret, sizeof new_secret, "%s", str(r.json, "secret"));
    CHECK(strncmp(new_secret, "whsec_", 6) == 0 && strcmp(new_secret, old_secret) != 0);
    CHECK(json_is_string(json_object_get(r.json, "previous_secret_until")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("POST", path, admin, "{\"overlap\":\"soon\"}", &r), 422);
    CHECK(json_object_get(field_errors(&r), "overlap") != NULL);
    bl_test_reply_clear(&r);

    atomic_store(&sink_status, 202);
    size_t before = webhook_sink_count(&sink);
    snprintf(path, sizeof path, "/v1/webhooks/%s/test", id);
    REQUIRE(call("POST", path, admin, NULL, &r) == 200);
    CHECK(json_is_true(json_object_get(r.json, "success")));
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "status_code")), 202);
    CHECK_EQ_STR(str(r.json, "response_excerpt"), WEBHOOK_SINK_BODY);
    CHECK(json_is_integer(json_object_get(r.json, "duration_ms")));
    char event_id[300];
    snprintf(event_id, sizeof event_id, "%s", str(r.json, "event_id"));
    bl_test_reply_clear(&r);

    sink_hit hits[8], got = {0};
    size_t n = webhook_sink_hits_to(&sink, "/hook", hits, 8);
    if (n > 0)
        got = hits[n - 1];
    CHECK_EQ_INT(webhook_sink_count(&sink), before + 1);
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
    atomic_store(&sink_status, 503);
    REQUIRE(call("POST", path, admin, NULL, &r) == 200);
    CHECK(json_is_false(json_object_get(r.json, "success")));
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "status_code")), 503);
    bl_test_reply_clear(&r);
    atomic_store(&sink_status, 202);
    snprintf(path, sizeof path, "/v1/webhooks/%s/logs", id);
    REQUIRE(call("GET", path, admin, NULL, &r) == 200);
    json_t *data = json_object_get(r.json, "data");
    CHECK_EQ_INT(json_array_size(data), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(data, 0), "status_code")), 503);
    CHECK_EQ_STR(str(json_array_get(data, 1), "event_id"), event_id);
    CHECK_EQ_STR(str(json_array_get(data, 1), "event_type"), "webhook.test");
    /* each attempt's payload is the body the sink received */
    CHECK_EQ_STR(str(json_object_get(json_array_get(data, 1), "payload"), "event"), "webhook.test");
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
    REQUIRE(create(admin, "signed", id, secret) == 201);
    reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(call("GET", path, admin, NULL, &r), 200);
    CHECK_EQ_STR(str(r.json, "signature_header"), "X-Powalyze-Signature");
    bl_test_reply_clear(&r);
    atomic_store(&sink_status, 202);
    snprintf(path, sizeof path, "/v1/webhooks/%s/test", id);
    REQUIRE(call("POST", path, admin, NULL, &r) == 200);
    bl_test_reply_clear(&r);
    sink_hit hits[16], got = {0};
    size_t n = webhook_sink_hits_to(&sink, "/hook", hits, 16);
    if (n > 0)
        got = hits[n - 1];
    char want[80];
    openssl_text_keyed(secret, got.body ? got.body : "", got.body_len, want);
    CHECK_EQ_STR(got.powalyze, want);
    /* null turns it off; a name busline sets itself is refused */
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(call("PUT", path, admin, "{\"signature_header\":null}", &r), 200);
    CHECK(json_is_null(json_object_get(r.json, "signature_header")));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/test", id);
    REQUIRE(call("POST", path, admin, NULL, &r) == 200);
    bl_test_reply_clear(&r);
    n = webhook_sink_hits_to(&sink, "/hook", hits, 16);
    CHECK(n > 0 && hits[n - 1].powalyze[0] == '\0');
    expect_field_error("{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"risk.*\"],"
                       "\"signature_header\":\"webhook-signature\"}",
                       "signature_header", "busline");
    expect_field_error("{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"risk.*\"],"
                       "\"signature_header\":\"X Sig\"}",
                       "signature_header", NULL);
}

static void test_delivery_to_an_internal_address_is_refused(void)
{
    char id[64], path[160];
    REQUIRE(create(admin, "soon internal", id, NULL) == 201);
    /* the address was allowed when saved and is not any more (DNS or allow-list change) */
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(pool, 5000, &err);
    REQUIRE(conn);
    const char *p[] = {id};
    CHECK_EQ_INT(bl_pg_exec_cmd(conn, "UPDATE webhook_endpoints SET url = 'http://10.0.0.7/hook' WHERE id = $1", 1, p, &err), 0);
    bl_pg_pool_release(pool, conn);
    reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s/test", id);
    CHECK_EQ_INT(call("POST", path, admin, NULL, &r), 422);
    CHECK(strstr(json_string_value(json_object_get(field_errors(&r), "url")) ?: "", "private") != NULL);
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
    bl_delivery_record rec = {.endpoint_id = endpoint, .organization_id = org_stats, .event_type = "risk.escalated",
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
    key_of(org_stats, BL_API_PERM_ADMIN, token);
    REQUIRE(create(token, "a", a, NULL) == 201 && create(token, "b", b, NULL) == 201);
    bl_err err = {0};
    bl_delivery_log_opts o = {.pool = pool};
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

    reply r;
    CHECK_EQ_INT(call("GET", "/v1/webhooks/stats?period_days=7", token, NULL, &r), 200);
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
        bool is_a = strcmp(str(e, "endpoint_id"), a) == 0;
        CHECK_EQ_INT(json_integer_value(json_object_get(e, "total_triggers")), is_a ? 3 : 1);
        CHECK_EQ_INT(json_integer_value(json_object_get(e, "failed_triggers")), is_a ? 1 : 0);
        CHECK(json_real_value(json_object_get(e, "avg_duration_ms")) == (is_a ? 23.3 : 30.0));
    }
    bl_test_reply_clear(&r);
    /* the default period is the document's 30 days; the "old" one is 30 days old */
    CHECK_EQ_INT(call("GET", "/v1/webhooks/stats?days=60", token, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total_triggers")), 5);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", "/v1/webhooks/stats?days=0", token, NULL, &r), 400);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/stats?period_days=7", a);
    CHECK_EQ_INT(call("GET", path, token, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total_triggers")), 3);
    CHECK(json_real_value(json_object_get(r.json, "success_rate")) == 66.7);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "recent_logs")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "period_days")), 7);
    bl_test_reply_clear(&r);

    snprintf(path, sizeof path, "/v1/webhooks/%s/logs?limit=2", a);
    CHECK_EQ_INT(call("GET", path, token, NULL, &r), 200);
    json_t *data = json_object_get(r.json, "data");
    CHECK_EQ_INT(json_array_size(data), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")), 4);
    CHECK_EQ_STR(str(json_array_get(data, 0), "event_id"), "ev3"); /* newest first */
    CHECK_EQ_STR(str(json_array_get(data, 1), "event_id"), "ev2");
    /* the document's payload: what was sent, as JSON */
    const json_t *sent = json_object_get(json_array_get(data, 1), "payload");
    CHECK_EQ_STR(str(sent, "event"), "risk.escalated");
    CHECK_EQ_STR(str(json_object_get(sent, "data"), "id"), "r1");
    CHECK(json_is_false(json_object_get(json_array_get(data, 1), "payload_truncated")));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/logs?status=failed", a);
    CHECK_EQ_INT(call("GET", path, token, NULL, &r), 200);
    data = json_object_get(r.json, "data");
    REQUIRE(json_array_size(data) == 1);
    json_t *row = json_array_get(data, 0);
    CHECK_EQ_STR(str(row, "event_id"), "ev3");
    CHECK_EQ_STR(str(row, "event_type"), "risk.escalated");
    CHECK_EQ_STR(str(row, "error"), "server error");
    CHECK_EQ_STR(str(row, "response_excerpt"), "broken");
    /* a body larger than the log keeps: its first bytes as text, cut and sized */
    CHECK_EQ_INT(json_string_length(json_object_get(row, "payload")), BL_DELIVERY_PAYLOAD_MAX);
    CHECK(json_is_true(json_object_get(row, "payload_truncated")));
    CHECK_EQ_INT(json_integer_value(json_object_get(row, "payload_bytes")), BL_DELIVERY_PAYLOAD_MAX + 904);
    CHECK_EQ_INT(json_integer_value(json_object_get(row, "status_code")), 500);
    CHECK_EQ_INT(json_integer_value(json_object_get(row, "duration_ms")), 40);
    CHECK_EQ_INT(json_integer_value(json_object_get(row, "attempt")), 2);
    CHECK(json_is_false(json_object_get(row, "success")));
    CHECK(strlen(str(row, "delivered_at")) == 24);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/logs?status=success", a);
    CHECK_EQ_INT(call("GET", path, token, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")), 3);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/logs?status=maybe", a);
    CHECK_EQ_INT(call("GET", path, token, NULL, &r), 400);
    CHECK(json_object_get(field_errors(&r), "status") != NULL);
    bl_test_reply_clear(&r);
}

static void disable_then_enable_with_a_replay_request(void)
{
    char id[64], path[200];
    REQUIRE(create(admin, "flaky", id, NULL) == 201);
    reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s/disable", id);
    CHECK_EQ_INT(call("POST", path, admin, "{\"reason\":\"maintenance\"}", &r), 200);
    CHECK(json_is_false(json_object_get(r.json, "active")));
    CHECK_EQ_STR(str(r.json, "disabled_reason"), "maintenance");
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/enable", id);
    CHECK_EQ_INT(call("POST", path, admin, "{\"replay_since\":\"tomorrow\"}", &r), 422);
    CHECK(json_object_get(field_errors(&r), "replay_since") != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("POST", path, admin, "{\"replay_since\":\"2024-01-02T03:04:05Z\"}", &r), 200);
    CHECK(json_is_true(json_object_get(r.json, "active")));
    json_t *replay = json_object_get(r.json, "replay");
    CHECK_EQ_STR(str(replay, "status"), "pending");
    CHECK_EQ_STR(str(replay, "since"), "2024-01-02T03:04:05.000Z");
    bl_test_reply_clear(&r);
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(pool, 5000, &err);
    REQUIRE(conn);
    const char *p[] = {id};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT count(*) FROM webhook_replay_requests WHERE endpoint_id = $1 AND status = 'pending'"
                               " AND replay_since = '2024-01-02T03:04:05Z'",
                               1, p, &err);
    CHECK(res && strcmp(PQgetvalue(res, 0, 0), "1") == 0);
    PQclear(res);
    /* the state changes went to the outbox as webhook.disabled / webhook.enabled */
    res = bl_pg_exec(conn, "SELECT count(*) FROM busline_outbox WHERE aggregate_id = $1", 1, p, &err);
    CHECK(res && strcmp(PQgetvalue(res, 0, 0), "2") == 0);
    PQclear(res);
    bl_pg_pool_release(pool, conn);
}

static void event_types_are_grouped_by_domain(void)
{
    reply r;
    CHECK_EQ_INT(call("GET", "/v1/webhooks/event-types", admin, NULL, &r), 200);
    bool found = false;
    json_t *g;
    size_t i;
    json_array_foreach(json_object_get(r.json, "data"), i, g) {
        if (strcmp(str(g, "domain"), "pmo") != 0)
            continue;
        json_t *t;
        size_t j;
        json_array_foreach(json_object_get(g, "event_types"), j, t)
            found = found || strcmp(str(t, "type"), "risk.escalated") == 0;
    }
    CHECK(found);
    bl_test_reply_clear(&r);
}

static void permission_matrix_reads_for_read_and_write_management_for_admin(void)
{
    char id[64];
    REQUIRE(create(admin, "matrix", id, NULL) == 201);
    char tokens[3][BL_API_TOKEN_SIZE];
    key_of(org_pro, BL_API_PERM_READ, tokens[0]);
    key_of(org_pro, BL_API_PERM_WRITE, tokens[1]);
    key_of(org_pro, BL_API_PERM_ADMIN, tokens[2]);
    char url[128], create_body[256];
    sink_url(url, sizeof url);
    snprintf(create_body, sizeof create_body, "{\"name\":\"m\",\"url\":\"%s\",\"event_types\":[\"risk.*\"]}", url);
    struct {
        const char *method, *suffix, *body;
        bool read_only; /* allowed for read and write keys */
    } cells[] = {
        {"GET", "", NULL, true},
        {"GET", "/stats", NULL, true},
        {"GET", "/event-types", NULL, true},
        {"GET", "/:id", NULL, true},
        {"GET", "/:id/logs", NULL, true},
        {"POST", "", create_body, false},
        {"PUT", "/:id", "{\"name\":\"renamed\"}", false},
        {"POST", "/:id/disable", NULL, false},
        {"POST", "/:id/enable", NULL, false},
        {"POST", "/:id/rotate-secret", NULL, false},
        {"POST", "/:id/test", NULL, false},
        {"DELETE", "/:id", NULL, false},
    };
    for (size_t k = 0; k < 3; k++) {
        for (size_t c = 0; c < sizeof cells / sizeof cells[0]; c++) {
            char path[200];
            if (strncmp(cells[c].suffix, "/:id", 4) == 0)
                snprintf(path, sizeof path, "/v1/webhooks/%s%s", id, cells[c].suffix + 4);
            else
                snprintf(path, sizeof path, "/v1/webhooks%s", cells[c].suffix);
            if (k == 2 && strcmp(cells[c].method, "DELETE") == 0)
                continue; /* checked last, below */
            reply r;
            long st = call(cells[c].method, path, tokens[k], cells[c].body, &r);
            bool allowed = k == 2 || cells[c].read_only;
            if (allowed ? (st < 200 || st > 299) : st != 403) {
                fprintf(stderr, "  key %zu: %s %s -> %ld\n", k, cells[c].method, path, st);
                bl_test_failures++;
            }
            bl_test_reply_clear(&r);
        }
    }
    char path[200];
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    reply r;
    CHECK_EQ_INT(call("DELETE", path, tokens[2], NULL, &r), 204);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", "/v1/webhooks", NULL, NULL, &r), 401);
    bl_test_reply_clear(&r);
}

static void demo_plan_reads_but_cannot_manage(void)
{
    char token[BL_API_TOKEN_SIZE], id[64];
    key_of(org_demo, BL_API_PERM_ADMIN, token);
    reply r;
    CHECK_EQ_INT(call("GET", "/v1/webhooks", token, NULL, &r), 200);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(create(token, "demo", id, NULL), 403);
    CHECK_EQ_INT(call("POST", "/v1/webhooks", token, "{}", &r), 403);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "plan_required");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("POST", "/v1/webhooks/x/rotate-secret", token, NULL, &r), 403);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "plan_required");
    bl_test_reply_clear(&r);
}

static int setup(void)
{
    bl_err err = {0};
    setenv("BUSLINE_ENCRYPTION_KEYS", TEST_KEYS, 1);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    if (bl_test_pg_fresh_db(pg_url, sizeof pg_url, &err) != 0)
        goto fail;
    PGconn *conn = bl_pg_connect(pg_url, &err);
    int ok = conn && bl_migrations_apply(conn, BUSLINE_SOURCE_DIR "/migrations", &err) >= 0 &&
             bl_api_org_create(conn, "pro", BL_API_PLAN_PRO, org_pro, &err) == 0 &&
             bl_api_org_create(conn, "other", BL_API_PLAN_PRO, org_other, &err) == 0 &&
             bl_api_org_create(conn, "demo", BL_API_PLAN_DEMO, org_demo, &err) == 0 &&
             bl_api_org_create(conn, "stats", BL_API_PLAN_ENTERPRISE, org_stats, &err) == 0 &&
             bl_api_org_create(conn, "list", BL_API_PLAN_PRO, org_list, &err) == 0;
    PQfinish(conn);
    if (!ok || !(pool = bl_pg_pool_new(pg_url, 8, &err)))
        goto fail;
    key_of(org_pro, BL_API_PERM_ADMIN, admin);
    key_of(org_other, BL_API_PERM_ADMIN, other_admin);
    if (webhook_sink_start(&sink, answer_sink_status, NULL) != 0)
        goto fail;
    bl_api_config cfg = {0};
    if (!(srv = bl_api_server_new(&cfg, pool, &err)) || bl_api_server_start(srv, &err) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "setup: %s\n", err.msg);
    return -1;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (setup() == 0) {
        BL_RUN(crud_shows_the_secret_once_and_updates_partially);
        BL_RUN(list_is_paginated);
        BL_RUN(another_organizations_endpoint_is_not_found);
        BL_RUN(validation_errors_are_422_with_fields);
        BL_RUN(ssrf_refusal_is_422_on_url_with_the_reason);
        BL_RUN(rotation_then_test_delivery_carries_two_signatures_that_verify);
        BL_RUN(signature_header_defaults_to_powalyze_and_is_keyed_with_the_shown_secret);
        BL_RUN(test_delivery_to_an_internal_address_is_refused);
        BL_RUN(logs_and_stats_are_exact_after_known_deliveries);
        BL_RUN(disable_then_enable_with_a_replay_request);
        BL_RUN(event_types_are_grouped_by_domain);
        BL_RUN(permission_matrix_reads_for_read_and_write_management_for_admin);
        BL_RUN(demo_plan_reads_but_cannot_manage);
    } else {
        bl_test_failures++;
    }
    bl_api_server_free(srv);
    webhook_sink_stop(&sink);
    bl_pg_pool_free(pool);
    if (pg_url[0])
        bl_test_pg_drop_db(pg_url);
    curl_global_cleanup();
    return bl_test_summary();
}
