/* /v1 against the Powalyze document (../shared/seeds/000_dad3de8e38ff2b0c.txt,
 * "API & WEBHOOKS"): one test per documented request that /v1 serves, the
 * example sent as written (Authorization: Bearer <key>, its query strings and
 * bodies), every documented response field checked for presence and JSON
 * type, and every documented status provoked (200, 201, 400, 401, 403, 404,
 * 422, 429). The X-Powalyze-Signature of a delivery is checked against
 * Python's hmac (an implementation independent of busline's). The retry
 * schedule of retry_count is tested end to end in test_v1_webhook_retries.c,
 * the example bodies that need the PMO service (§6.2 projects, reports) in
 * test_v1_conformance_pmo.c. */
#include "api/auth/keys.h"
#include "api/server.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"
#include "tests/support/v1_shapes.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define TEST_KEYS "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static bl_test_api api;
static webhook_sink sink;
static char read_token[BL_API_TOKEN_SIZE];


static long call(const char *method, const char *path, const char *token, const char *body, bl_test_reply *r)
{
    return bl_test_api_call(&api, method, path, token, NULL, body, r);
}


/* §3.1: GET /v1/projects with Authorization: Bearer, answered as in §3.2. */
static void first_call_lists_projects_in_the_standard_envelope(void)
{
    bl_v1_insert_project(&api, "prj_abc123", "Transformation Digitale", "GREEN", 15000000, 6750000);
    bl_v1_insert_project(&api, "prj_def456", "Migration ERP", "RED", 9000000, 100);
    bl_test_reply r;
    REQUIRE(call("GET", "/v1/projects", read_token, NULL, &r) == 200);
    bl_v1_check_page(r.json, 50, 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")), 2);
    CHECK(json_is_false(json_object_get(json_object_get(r.json, "pagination"), "has_more")));
    json_t *row = NULL, *each;
    size_t i;
    json_array_foreach(json_object_get(r.json, "data"), i, each)
        if (strcmp(json_string_value(json_object_get(each, "id")) ?: "", "prj_abc123") == 0)
            row = each;
    REQUIRE(row != NULL);
    bl_v1_has(row, "id", T_STRING);
    bl_v1_has(row, "name", T_STRING);
    bl_v1_has(row, "status", T_STRING);
    bl_v1_has(row, "rag_status", T_STRING);
    bl_v1_has(row, "progress", T_INTEGER);
    bl_v1_has(row, "budget", T_NUMBER);
    bl_v1_has(row, "spent", T_NUMBER);
    CHECK_EQ_STR(json_string_value(json_object_get(row, "rag_status")) ?: "", "GREEN");
    CHECK(json_number_value(json_object_get(row, "budget")) == 150000);
    CHECK(json_number_value(json_object_get(row, "spent")) == 67500);
    bl_test_reply_clear(&r);
    /* the detail is {"data": {...}} with the same fields */
    REQUIRE(call("GET", "/v1/projects/prj_abc123", read_token, NULL, &r) == 200);
    bl_v1_has(json_object_get(r.json, "data"), "budget", T_NUMBER);
    bl_v1_has(json_object_get(r.json, "data"), "id", T_STRING);
    bl_test_reply_clear(&r);
}

/* §3.3: limit, offset, sort, status, rag_status, and the complete example. */
static void standard_query_parameters_work_as_documented(void)
{
    bl_test_reply r;
    REQUIRE(call("GET", "/v1/projects?limit=20", read_token, NULL, &r) == 200);
    bl_v1_check_page(r.json, 20, 0);
    bl_test_reply_clear(&r);
    REQUIRE(call("GET", "/v1/projects?offset=40", read_token, NULL, &r) == 200);
    bl_v1_check_page(r.json, 50, 40);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 0);
    bl_test_reply_clear(&r);
    REQUIRE(call("GET", "/v1/projects?sort=name.asc", read_token, NULL, &r) == 200);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "data"), 0), "name")) ?: "",
                 "Migration ERP");
    bl_test_reply_clear(&r);
    REQUIRE(call("GET", "/v1/projects?rag_status=RED", read_token, NULL, &r) == 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 1);
    bl_test_reply_clear(&r);
    REQUIRE(call("GET", "/v1/projects?status=in_progress", read_token, NULL, &r) == 200);
    bl_v1_check_page(r.json, 50, 0);
    bl_test_reply_clear(&r);
    REQUIRE(call("GET", "/v1/projects?limit=10&offset=0&status=in_progress&sort=budget.desc", read_token, NULL, &r) ==
            200);
    bl_v1_check_page(r.json, 10, 0);
    bl_test_reply_clear(&r);
    /* sorting by the document's budget field orders by it */
    REQUIRE(call("GET", "/v1/projects?sort=budget.desc", read_token, NULL, &r) == 200);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "data"), 0), "id")) ?: "",
                 "prj_abc123");
    bl_test_reply_clear(&r);
    /* max 100: more is answered as 100 */
    REQUIRE(call("GET", "/v1/projects?limit=1000", read_token, NULL, &r) == 200);
    bl_v1_check_page(r.json, 100, 0);
    bl_test_reply_clear(&r);
    /* 400 for an unknown sort field, naming the accepted ones */
    REQUIRE(call("GET", "/v1/projects?sort=colour.asc", read_token, NULL, &r) == 400);
    bl_v1_check_error(&r, "bad_request");
    CHECK(strstr(json_string_value(json_object_get(json_object_get(json_object_get(r.json, "error"),
                                                                   "field_errors"), "sort")) ?: "",
                 "budget") != NULL);
    bl_test_reply_clear(&r);
}

/* §3.2's error format and §2.2's permissions: forbidden, unauthorized, not found. */
static void errors_use_the_documented_envelope_and_codes(void)
{
    bl_test_reply r;
    /* a read key writes: forbidden */
    REQUIRE(call("POST", "/v1/webhooks", read_token, "{\"name\":\"x\"}", &r) == 403);
    bl_v1_check_error(&r, "forbidden");
    CHECK(strncmp(json_string_value(json_object_get(json_object_get(r.json, "error"), "message")) ?: "",
                  "You do not have permission to perform this action.", 50) == 0);
    bl_test_reply_clear(&r);
    REQUIRE(call("DELETE", "/v1/projects/prj_abc123", api.write_token, NULL, &r) == 403);
    bl_v1_check_error(&r, "forbidden");
    bl_test_reply_clear(&r);
    REQUIRE(call("GET", "/v1/projects", NULL, NULL, &r) == 401);
    bl_v1_check_error(&r, "unauthorized");
    bl_test_reply_clear(&r);
    REQUIRE(call("GET", "/v1/projects", "pk_live_xxxxx", NULL, &r) == 401);
    bl_v1_check_error(&r, "unauthorized");
    bl_test_reply_clear(&r);
    REQUIRE(call("GET", "/v1/projects/prj_nope", read_token, NULL, &r) == 404);
    bl_v1_check_error(&r, "not_found");
    bl_test_reply_clear(&r);
}

/* §2 and §8.1: an API key with name + permissions, the token shown once. */
static void api_keys_are_created_with_permissions_and_listed(void)
{
    bl_test_reply r;
    REQUIRE(call("POST", "/v1/api-keys", api.admin_token, "{\"name\":\"Jira\",\"permissions\":[\"read\",\"write\"]}",
                 &r) == 201);
    bl_v1_has(r.json, "id", T_STRING);
    bl_v1_has(r.json, "name", T_STRING);
    bl_v1_has(r.json, "token", T_STRING);
    bl_v1_has(r.json, "permissions", T_ARRAY);
    bl_v1_has(r.json, "is_active", T_BOOL);
    bl_v1_has(r.json, "rate_limit", T_INTEGER);
    bl_v1_has(r.json, "rate_window", T_STRING);
    bl_v1_has(r.json, "usage_count", T_INTEGER);
    bl_v1_has(r.json, "last_used_at", T_STRING_OR_NULL);
    bl_v1_has(r.json, "expires_at", T_STRING_OR_NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "rate_limit")), 1000);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "rate_window")) ?: "", "hour");
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "permissions")), 2);
    char token[BL_API_TOKEN_SIZE];
    snprintf(token, sizeof token, "%s", json_string_value(json_object_get(r.json, "token")) ?: "");
    bl_test_reply_clear(&r);
    REQUIRE(call("GET", "/v1/api-keys", api.admin_token, NULL, &r) == 200);
    bl_v1_check_page(r.json, 50, 0);
    json_t *k = json_array_get(json_object_get(r.json, "data"), 0); /* newest first */
    bl_v1_has(k, "id", T_STRING);
    bl_v1_has(k, "name", T_STRING);
    bl_v1_has(k, "permissions", T_ARRAY);
    bl_v1_has(k, "is_active", T_BOOL);
    bl_v1_has(k, "expires_at", T_STRING_OR_NULL);
    bl_v1_has(k, "last_used_at", T_STRING_OR_NULL);
    bl_v1_has(k, "rate_limit", T_INTEGER);
    bl_v1_has(k, "usage_count", T_INTEGER);
    CHECK_EQ_STR(json_string_value(json_object_get(k, "name")) ?: "", "Jira");
    char *text = json_dumps(r.json, 0);
    CHECK(text && token[0] && !strstr(text, token)); /* never shown again */
    free(text);
    bl_test_reply_clear(&r);
    REQUIRE(call("POST", "/v1/api-keys", api.admin_token, "{\"name\":\"\",\"rate_window\":\"week\"}", &r) == 422);
    CHECK(json_object_get(json_object_get(json_object_get(r.json, "error"), "field_errors"), "rate_window"));
    bl_test_reply_clear(&r);
}

/* §12: X-RateLimit-* headers, and the documented 429 with its message. */
static void rate_limit_headers_and_the_documented_429(void)
{
    bl_test_reply r;
    /* the default: 1000 per hour, refused with the document's very words */
    REQUIRE(call("POST", "/v1/api-keys", api.admin_token, "{\"name\":\"default\",\"permissions\":[\"read\"]}", &r) ==
            201);
    char token[BL_API_TOKEN_SIZE];
    snprintf(token, sizeof token, "%s", json_string_value(json_object_get(r.json, "token")) ?: "");
    bl_test_reply_clear(&r);
    long last = 0;
    for (int i = 0; i < 1000; i++) {
        last = call("GET", "/v1/projects/prj_abc123", token, NULL, &r);
        if (i == 0) {
            CHECK_EQ_STR(r.rl_limit, "1000");
            CHECK_EQ_STR(r.rl_remaining, "999");
            CHECK(atoll(r.rl_reset) % 3600 == 0);
        }
        bl_test_reply_clear(&r);
        if (last != 200)
            break;
    }
    CHECK_EQ_INT(last, 200);
    REQUIRE(call("GET", "/v1/projects/prj_abc123", token, NULL, &r) == 429);
    bl_v1_check_error(&r, "rate_limit_exceeded");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r.json, "error"), "message")) ?: "",
                 "You have exceeded the rate limit of 1000 requests per hour.");
    CHECK_EQ_STR(r.rl_remaining, "0");
    bl_test_reply_clear(&r);
    /* rate_limit + rate_window per key */
    const char *windows[] = {"minute", "day", "month"};
    for (size_t w = 0; w < 3; w++) {
        char body[160];
        snprintf(body, sizeof body, "{\"name\":\"w\",\"permissions\":[\"read\"],\"rate_limit\":2,\"rate_window\":\"%s\"}",
                 windows[w]);
        REQUIRE(call("POST", "/v1/api-keys", api.admin_token, body, &r) == 201);
        CHECK_EQ_STR(json_string_value(json_object_get(r.json, "rate_window")) ?: "", windows[w]);
        snprintf(token, sizeof token, "%s", json_string_value(json_object_get(r.json, "token")) ?: "");
        bl_test_reply_clear(&r);
        CHECK_EQ_INT(call("GET", "/v1/projects", token, NULL, &r), 200);
        CHECK_EQ_STR(r.rl_limit, "2");
        CHECK_EQ_STR(r.rl_remaining, "1");
        bl_test_reply_clear(&r);
        CHECK_EQ_INT(call("GET", "/v1/projects", token, NULL, &r), 200);
        bl_test_reply_clear(&r);
        CHECK_EQ_INT(call("GET", "/v1/projects", token, NULL, &r), 429);
        char want[96];
        snprintf(want, sizeof want, "You have exceeded the rate limit of 2 requests per %s.", windows[w]);
        CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r.json, "error"), "message")) ?: "", want);
        CHECK(atoi(r.retry_after) >= 1);
        bl_test_reply_clear(&r);
    }
}

/* §4.1 + §8.2: a webhook with name, URL and events; secret once; the
 * documented columns; a delivery signed with X-Powalyze-Signature (§4.4). */
static void webhooks_are_created_signed_and_reported(void)
{
    char url[128], body[512], id[64], secret[BL_WEBHOOK_SECRET_TEXT_MAX], path[160];
    webhook_sink_url(&sink, "/webhook/powalyze", url, sizeof url);
    snprintf(body, sizeof body, "{\"name\":\"Alertes risques critiques\",\"url\":\"%s\",\"events\":[\"risk.escalated\"]}",
             url);
    bl_test_reply r;
    REQUIRE(call("POST", "/v1/webhooks", api.admin_token, body, &r) == 201);
    const char *fields[] = {"id", "name", "url", "secret"};
    for (size_t i = 0; i < 4; i++)
        bl_v1_has(r.json, fields[i], T_STRING);
    bl_v1_has(r.json, "events", T_ARRAY);
    bl_v1_has(r.json, "is_active", T_BOOL);
    bl_v1_has(r.json, "retry_count", T_INTEGER);
    bl_v1_has(r.json, "timeout_seconds", T_INTEGER);
    bl_v1_has(r.json, "last_triggered_at", T_STRING_OR_NULL);
    bl_v1_has(r.json, "created_by", T_STRING); /* §4.1's created_by: the admin key that made it */
    const char *by[] = {json_string_value(json_object_get(r.json, "created_by")) ?: "", api.org};
    char keys[8] = "";
    CHECK(bl_test_sql_value(api.pool, "SELECT count(*) FROM api_keys WHERE id = $1 AND organization_id = $2"
                                      " AND 'admin' = ANY (permissions)", 2, by, keys, sizeof keys) == 0);
    CHECK_EQ_STR(keys, "1");
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "retry_count")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "timeout_seconds")), 10);
    CHECK(json_is_true(json_object_get(r.json, "is_active")));
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(r.json, "id")) ?: "");
    snprintf(secret, sizeof secret, "%s", json_string_value(json_object_get(r.json, "secret")) ?: "");
    CHECK(strncmp(secret, "whsec_", 6) == 0);
    bl_test_reply_clear(&r);

    REQUIRE(call("GET", "/v1/webhooks", read_token, NULL, &r) == 200);
    bl_v1_check_page(r.json, 50, 0);
    CHECK(!json_object_get(json_array_get(json_object_get(r.json, "data"), 0), "secret"));
    bl_v1_has(json_array_get(json_object_get(r.json, "data"), 0), "created_by", T_STRING);
    bl_test_reply_clear(&r);

    /* one delivery (the test delivery), signed as the document says */
    size_t before = webhook_sink_count(&sink);
    snprintf(path, sizeof path, "/v1/webhooks/%s/test", id);
    REQUIRE(call("POST", path, api.admin_token, NULL, &r) == 200);
    bl_test_reply_clear(&r);
    REQUIRE(webhook_sink_count(&sink) == before + 1);
    sink_hit hits[8];
    size_t n = webhook_sink_hits_to(&sink, "/webhook/powalyze", hits, 8);
    REQUIRE(n >= 1);
    sink_hit got = hits[n - 1];
    char args[512], out[128];
    snprintf(args, sizeof args, "text-keyed %s", secret);
    wh_python_verify(args, got.body, out, sizeof out);
    CHECK(strncmp(got.powalyze, "sha256=", 7) == 0);
    CHECK_EQ_STR(got.powalyze, out);
    CHECK(got.signature[0] != '\0'); /* and the Standard Webhooks headers beside it */
    /* the receiver's check of §4.4 fails on a changed body */
    wh_python_verify(args, "{\"event\":\"forged\"}", out, sizeof out);
    CHECK(strcmp(got.powalyze, out) != 0);

    /* §11.3 get_webhook_stats, for this webhook and for all of them */
    snprintf(path, sizeof path, "/v1/webhooks/%s/stats", id);
    const char *paths[] = {path, "/v1/webhooks/stats"};
    for (size_t p = 0; p < 2; p++) {
        REQUIRE(call("GET", paths[p], read_token, NULL, &r) == 200);
        bl_v1_has(r.json, "total_triggers", T_INTEGER);
        bl_v1_has(r.json, "successful_triggers", T_INTEGER);
        bl_v1_has(r.json, "failed_triggers", T_INTEGER);
        bl_v1_has(r.json, "success_rate", T_NUMBER);
        bl_v1_has(r.json, "avg_duration_ms", T_NUMBER);
        bl_v1_has(r.json, "recent_logs", T_ARRAY);
        bl_v1_has(r.json, "period_days", T_INTEGER);
        CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "period_days")), 30);
        CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total_triggers")), 1);
        CHECK(json_number_value(json_object_get(r.json, "success_rate")) == 100.0);
        json_t *log = json_array_get(json_object_get(r.json, "recent_logs"), 0);
        bl_v1_has(log, "id", T_STRING);
        CHECK(strncmp(json_string_value(json_object_get(log, "id")) ?: "", "log_", 4) == 0);
        bl_v1_has(log, "event_type", T_STRING);
        bl_v1_has(log, "status_code", T_INTEGER);
        bl_v1_has(log, "duration_ms", T_INTEGER);
        bl_v1_has(log, "created_at", T_STRING);
        bl_test_reply_clear(&r);
    }
    REQUIRE(call("GET", "/v1/webhooks/stats?period_days=7", read_token, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "period_days")), 7);
    bl_test_reply_clear(&r);
    /* §4.1: last_triggered_at is set once it was called; is_active toggles */
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    REQUIRE(call("PUT", path, api.admin_token, "{\"is_active\":false,\"retry_count\":1,\"timeout_seconds\":5}", &r) ==
            200);
    CHECK(json_is_false(json_object_get(r.json, "is_active")));
    CHECK(json_is_string(json_object_get(r.json, "last_triggered_at")));
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "retry_count")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "max_attempts")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "timeout_seconds")), 5);
    bl_test_reply_clear(&r);
    REQUIRE(call("PUT", path, api.admin_token, "{\"retry_count\":-1}", &r) == 422);
    CHECK(json_object_get(json_object_get(json_object_get(r.json, "error"), "field_errors"), "retry_count"));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/stats", "00000000-0000-0000-0000-000000000000");
    REQUIRE(call("GET", path, read_token, NULL, &r) == 404);
    bl_v1_check_error(&r, "not_found");
    bl_test_reply_clear(&r);
}

/* §11.2 get_api_usage_stats. */
static void api_usage_stats_have_the_documented_fields(void)
{
    bl_test_reply r;
    bl_err err = {0};
    REQUIRE(bl_api_server_flush_requests(api.server, &err) == 0);
    REQUIRE(call("GET", "/v1/usage", read_token, NULL, &r) == 200);
    bl_v1_has(r.json, "total_requests", T_INTEGER);
    bl_v1_has(r.json, "successful_requests", T_INTEGER);
    bl_v1_has(r.json, "failed_requests", T_INTEGER);
    bl_v1_has(r.json, "success_rate", T_NUMBER);
    bl_v1_has(r.json, "avg_duration_ms", T_NUMBER);
    bl_v1_has(r.json, "top_endpoints", T_ARRAY);
    bl_v1_has(r.json, "period_days", T_INTEGER);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "period_days")), 30);
    CHECK(json_integer_value(json_object_get(r.json, "total_requests")) > 1000);
    double rate = json_number_value(json_object_get(r.json, "success_rate"));
    CHECK(rate > 1.0 && rate < 100.0); /* a percentage: some requests above were refused */
    json_t *top = json_array_get(json_object_get(r.json, "top_endpoints"), 0);
    bl_v1_has(top, "endpoint", T_STRING);
    bl_v1_has(top, "requests", T_INTEGER);
    CHECK_EQ_STR(json_string_value(json_object_get(top, "endpoint")) ?: "", "/v1/projects/:id");
    bl_test_reply_clear(&r);
    REQUIRE(call("GET", "/v1/usage?period_days=0", read_token, NULL, &r) == 400);
    bl_v1_check_error(&r, "bad_request");
    bl_test_reply_clear(&r);
}

/* §6.2 Risks: the example POST body as written (no risk_id: the server
 * gives one; "severity": "high" in the document's lowercase) is accepted. */
static void risk_example_body_is_accepted_as_written(void)
{
    const char *body = "{\n  \"project_id\": \"prj_abc123\",\n  \"title\": \"Retard livraison\",\n"
                       "  \"description\": \"Risque de retard de 2 semaines\",\n  \"severity\": \"high\",\n"
                       "  \"probability\": 75,\n  \"impact\": 80,\n  \"mitigation\": \"Ajouter 1 d\u00e9veloppeur\"\n}";
    bl_test_reply r;
    REQUIRE(call("POST", "/v1/risks", api.write_token, body, &r) == 202);
    bl_v1_has(r.json, "command_id", T_STRING);
    bl_v1_has(r.json, "status_url", T_STRING);
    bl_test_reply_clear(&r);
    /* a severity that is no symbol in any case is still refused, naming the field */
    REQUIRE(call("POST", "/v1/risks", api.write_token,
                 "{\"project_id\":\"p\",\"title\":\"t\",\"description\":\"d\",\"severity\":\"extreme\","
                 "\"probability\":1,\"impact\":1}",
                 &r) == 422);
    bl_v1_check_error(&r, "validation_failed");
    bl_test_reply_clear(&r);
    /* a read key may not write */
    REQUIRE(call("POST", "/v1/risks", read_token, body, &r) == 403);
    bl_v1_check_error(&r, "forbidden");
    bl_test_reply_clear(&r);
}

static void every_list_answers_the_standard_envelope(void)
{
    const char *lists[] = {"/v1/projects", "/v1/risks", "/v1/decisions", "/v1/resources", "/v1/sprints",
                           "/v1/reports", "/v1/webhooks", "/v1/api-keys", "/v1/integrations",
                           "/v1/integrations/providers"};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        char path[160];
        bl_test_reply r;
        CHECK_EQ_INT(call("GET", lists[i], api.admin_token, NULL, &r), 200);
        bl_v1_check_page(r.json, 50, 0);
        bl_test_reply_clear(&r);
        snprintf(path, sizeof path, "%s?limit=500&offset=1", lists[i]);
        CHECK_EQ_INT(call("GET", path, api.admin_token, NULL, &r), 200);
        bl_v1_check_page(r.json, 100, 1);
        bl_test_reply_clear(&r);
        snprintf(path, sizeof path, "%s?limit=0", lists[i]);
        CHECK_EQ_INT(call("GET", path, api.admin_token, NULL, &r), 400);
        bl_v1_check_error(&r, "bad_request");
        bl_test_reply_clear(&r);
    }
}

/* The served OpenAPI document describes the documented shapes. */
static void openapi_describes_the_documented_shapes(void)
{
    bl_test_reply r;
    REQUIRE(call("GET", "/v1/openapi.json", NULL, NULL, &r) == 200);
    const json_t *paths = json_object_get(r.json, "paths");
    const char *want[][3] = {{"/v1/webhooks/{id}/stats", "get", "get_one_webhook_stats"},
                             {"/v1/webhooks/stats", "get", "get_webhook_stats"},
                             {"/v1/usage", "get", "get_api_usage_stats"},
                             {"/v1/api-keys", "post", "create_api_key"},
                             {"/v1/webhooks", "post", "create_webhook"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const json_t *op = json_object_get(json_object_get(paths, want[i][0]), want[i][1]);
        CHECK_EQ_STR(json_string_value(json_object_get(op, "operationId")) ?: "", want[i][2]);
        CHECK(json_object_get(json_object_get(op, "responses"), "429") != NULL);
    }
    const json_t *comp = json_object_get(r.json, "components");
    CHECK(json_object_get(json_object_get(comp, "responses"), "RateLimited") != NULL);
    const json_t *stats = json_object_get(json_object_get(comp, "schemas"), "WebhookStats");
    CHECK_EQ_INT(json_array_size(json_object_get(stats, "required")), 7);
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    setenv("BUSLINE_ENCRYPTION_KEYS", TEST_KEYS, 1);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    if (bl_test_api_start(&api, 1) != 0 || webhook_sink_start(&sink, NULL, NULL) != 0) {
        bl_test_api_stop(&api);
        return 1;
    }
    bl_api_key_spec spec = {.org_id = api.org, .name = "Power BI", .perm = BL_API_PERM_READ,
                            .rate_per_hour = 100000};
    if (bl_test_make_key(api.pool, &spec, read_token, NULL) == 0) {
        BL_RUN(first_call_lists_projects_in_the_standard_envelope);
        BL_RUN(standard_query_parameters_work_as_documented);
        BL_RUN(errors_use_the_documented_envelope_and_codes);
        BL_RUN(api_keys_are_created_with_permissions_and_listed);
        BL_RUN(rate_limit_headers_and_the_documented_429);
        BL_RUN(webhooks_are_created_signed_and_reported);
        BL_RUN(api_usage_stats_have_the_documented_fields);
        BL_RUN(risk_example_body_is_accepted_as_written);
        BL_RUN(every_list_answers_the_standard_envelope);
        BL_RUN(openapi_describes_the_documented_shapes);
    }
    webhook_sink_stop(&sink);
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return bl_test_summary();
}