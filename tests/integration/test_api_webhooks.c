/* /v1/webhooks management in-process on a fresh database
 * (tests/support/webhook_api_fixture.h): CRUD with the secret shown once,
 * pagination, another organization's endpoint never found, validation and
 * SSRF refusals as 422 field errors, the event types, the permission matrix
 * and the demo plan. Deliveries, signatures, logs and stats are in
 * test_api_webhook_deliveries.c. */
#include "api/auth/keys.h"
#include "api/server.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"
#include "tests/support/webhook_api_fixture.h"

#include <curl/curl.h>
#include <stdlib.h>

/* ---- tests ---- */

static void crud_shows_the_secret_once_and_updates_partially(void)
{
    char id[64], secret[BL_WEBHOOK_SECRET_TEXT_MAX], path[160];
    REQUIRE(bl_test_wh_create(bl_test_wh.admin, "crm", id, secret) == 201);
    CHECK(strncmp(secret, "whsec_", 6) == 0);
    bl_test_reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200);
    char *text = json_dumps(r.json, 0);
    CHECK(text && !strstr(text, "whsec_") && !json_object_get(r.json, "secret"));
    free(text);
    CHECK_EQ_STR(bl_test_wh_str(r.json, "name"), "crm");
    /* the document's defaults: three retries after the first attempt, 10 s */
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "max_attempts")), 4);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "retry_count")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "timeout_seconds")), 10);
    CHECK(json_is_true(json_object_get(r.json, "is_active")));
    CHECK(json_is_array(json_object_get(r.json, "events")));
    CHECK(json_is_null(json_object_get(r.json, "last_triggered_at")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", "/v1/webhooks", bl_test_wh.admin, NULL, &r), 200);
    text = json_dumps(r.json, 0);
    CHECK(text && strstr(text, id) && !strstr(text, "whsec_"));
    free(text);
    bl_test_reply_clear(&r);
    /* partial: only the name and the timeout change */
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, "{\"name\":\"crm v2\",\"timeout_ms\":2500,\"strict_order\":true}", &r), 200);
    CHECK_EQ_STR(bl_test_wh_str(r.json, "name"), "crm v2");
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "timeout_ms")), 2500);
    CHECK(json_is_true(json_object_get(r.json, "strict_order")));
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "event_types")), 2);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "conditions")), 1);
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(r.json, "headers"), "X-Tenant"), "acme");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("DELETE", path, bl_test_wh.admin, NULL, &r), 204);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 404);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "not_found");
    bl_test_reply_clear(&r);
}

/* signature_scheme v1a: the answer shows the whpk_ public key (never a
 * whsk_ one), rotate-secret gives a new one and keeps the old as
 * previous_public_key; an unknown scheme is a 422 on the field. */
static void v1a_scheme_shows_the_public_key_and_rotates_it(void)
{
    char id[64], path[200];
    REQUIRE(bl_test_wh_create(bl_test_wh.admin, "signed", id, NULL) == 201);
    bl_test_reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200);
    CHECK_EQ_STR(bl_test_wh_str(r.json, "signature_scheme"), "v1");
    CHECK(json_is_null(json_object_get(r.json, "public_key")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, "{\"signature_scheme\":\"v1a\"}", &r), 200);
    CHECK_EQ_STR(bl_test_wh_str(r.json, "signature_scheme"), "v1a");
    char pk[128];
    snprintf(pk, sizeof pk, "%s", bl_test_wh_str(r.json, "public_key"));
    CHECK(strncmp(pk, "whpk_", 5) == 0 && strlen(pk) == 49);
    char *text = json_dumps(r.json, 0);
    CHECK(text && !strstr(text, "whsk_"));
    free(text);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/rotate-secret", id);
    CHECK_EQ_INT(bl_test_wh_call("POST", path, bl_test_wh.admin, "{\"overlap\":\"1h\"}", &r), 200);
    CHECK(strncmp(bl_test_wh_str(r.json, "public_key"), "whpk_", 5) == 0);
    CHECK(strcmp(bl_test_wh_str(r.json, "public_key"), pk) != 0);
    CHECK_EQ_STR(bl_test_wh_str(r.json, "previous_public_key"), pk);
    CHECK(json_is_string(json_object_get(r.json, "previous_public_key_until")));
    bl_test_reply_clear(&r);
    bl_test_wh_expect_field_error("{\"name\":\"x\",\"url\":\"http://example.com/\",\"events\":[\"risk.*\"],"
                                  "\"signature_scheme\":\"v2\"}",
                                  "signature_scheme", "v1a");
}

static void list_is_paginated(void)
{
    char token[BL_API_TOKEN_SIZE], id[64];
    bl_test_wh_key_of(bl_test_wh.org_list, BL_API_PERM_ADMIN, token);
    for (int i = 0; i < 3; i++)
        REQUIRE(bl_test_wh_create(token, "e", id, NULL) == 201);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_wh_call("GET", "/v1/webhooks?limit=2", token, NULL, &r), 200);
    json_t *p = json_object_get(r.json, "pagination");
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(p, "total")), 3);
    CHECK(json_is_true(json_object_get(p, "has_more")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", "/v1/webhooks?limit=2&offset=2", token, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 1);
    CHECK(json_is_false(json_object_get(json_object_get(r.json, "pagination"), "has_more")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", "/v1/webhooks?limit=500", token, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "limit")), 100);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", "/v1/webhooks?limit=0", token, NULL, &r), 400);
    CHECK(json_object_get(bl_test_wh_field_errors(&r), "limit") != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", "/v1/webhooks?sort=secret.asc", token, NULL, &r), 400);
    CHECK(strstr(json_string_value(json_object_get(bl_test_wh_field_errors(&r), "sort")) ?: "", "created_at") != NULL);
    bl_test_reply_clear(&r);
}

static void another_organizations_endpoint_is_not_found(void)
{
    char id[64], path[200];
    REQUIRE(bl_test_wh_create(bl_test_wh.admin, "private", id, NULL) == 201);
    static const char *const suffix[] = {"", "/logs", "/enable", "/disable", "/rotate-secret", "/test"};
    static const char *const method[] = {"GET", "GET", "POST", "POST", "POST", "POST"};
    bl_test_reply r;
    for (size_t i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "/v1/webhooks/%s%s", id, suffix[i]);
        CHECK_EQ_INT(bl_test_wh_call(method[i], path, bl_test_wh.other_admin, NULL, &r), 404);
        bl_test_reply_clear(&r);
    }
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.other_admin, "{\"name\":\"mine\"}", &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("DELETE", path, bl_test_wh.other_admin, NULL, &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", "/v1/webhooks", bl_test_wh.other_admin, NULL, &r), 200);
    char *text = json_dumps(r.json, 0);
    CHECK(text && !strstr(text, id));
    free(text);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200); /* untouched */
    CHECK_EQ_STR(bl_test_wh_str(r.json, "name"), "private");
    bl_test_reply_clear(&r);
}

static void validation_errors_are_422_with_fields(void)
{
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_wh_call("POST", "/v1/webhooks", bl_test_wh.admin, "{\"url\":7,\"colour\":\"red\"}", &r), 422);
    const json_t *fe = bl_test_wh_field_errors(&r);
    CHECK(json_object_get(fe, "url") && json_object_get(fe, "name") && json_object_get(fe, "events") &&
          json_object_get(fe, "colour"));
    bl_test_reply_clear(&r);
    bl_test_wh_expect_field_error("{\"name\":\"n\",\"url\":\"ftp://127.0.0.1/x\",\"event_types\":[\"risk.*\"]}", "url", NULL);
    bl_test_wh_expect_field_error("{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"risk..x\"]}",
                       "events", NULL);
    bl_test_wh_expect_field_error("{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"risk.*\"],"
                       "\"conditions\":[{\"field\":\"data.a\",\"operator\":\"resembles\",\"value\":1}]}",
                       "conditions", NULL);
    bl_test_wh_expect_field_error("{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"risk.*\"],"
                       "\"headers\":{\"Host\":\"evil\"}}",
                       "headers", "Host");
    bl_test_wh_expect_field_error("{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"risk.*\"],"
                       "\"max_attempts\":0}",
                       "max_attempts", NULL);
}

/* retry_schedule and max_age_seconds: stored and answered, bounds and the
 * exclusion with the exponential settings as 422s on the field, and null
 * returns to the exponential backoff. */
static void retry_schedule_is_validated_stored_and_exclusive(void)
{
#define WH_BASE "{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"risk.*\"],"
    bl_test_wh_expect_field_error(WH_BASE "\"retry_schedule\":[]}", "retry_schedule", NULL);
    bl_test_wh_expect_field_error(WH_BASE "\"retry_schedule\":[5,0]}", "retry_schedule", NULL);
    bl_test_wh_expect_field_error(WH_BASE "\"retry_schedule\":[604801]}", "retry_schedule", NULL);
    bl_test_wh_expect_field_error(WH_BASE "\"retry_schedule\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}",
                                  "retry_schedule", NULL);
    bl_test_wh_expect_field_error(WH_BASE "\"retry_schedule\":\"5,300\"}", "retry_schedule", NULL);
    bl_test_wh_expect_field_error(WH_BASE "\"retry_schedule\":[5,300],\"max_attempts\":3}", "retry_schedule",
                                  "exclude");
    bl_test_wh_expect_field_error(WH_BASE "\"retry_schedule\":[5,300],\"backoff_base_ms\":500}",
                                  "retry_schedule", "exclude");
    bl_test_wh_expect_field_error(WH_BASE "\"max_age_seconds\":0}", "max_age_seconds", NULL);
    bl_test_wh_expect_field_error(WH_BASE "\"max_age_seconds\":2592001}", "max_age_seconds", NULL);
    bl_test_reply r;
    REQUIRE(bl_test_wh_call("POST", "/v1/webhooks", bl_test_wh.admin,
                            WH_BASE "\"retry_schedule\":[5,300,1800,7200],\"max_age_seconds\":86400}", &r) == 201);
    const json_t *data = json_object_get(r.json, "data") ? json_object_get(r.json, "data") : r.json;
    char id[64], path[160];
    snprintf(id, sizeof id, "%s", bl_test_wh_str(data, "id") ? bl_test_wh_str(data, "id") : "");
    const json_t *sched = json_object_get(data, "retry_schedule");
    CHECK_EQ_INT((long)json_array_size(sched), 4);
    CHECK_EQ_INT(json_integer_value(json_array_get(sched, 2)), 1800);
    CHECK_EQ_INT(json_integer_value(json_object_get(data, "max_age_seconds")), 86400);
    CHECK_EQ_INT(json_integer_value(json_object_get(data, "retry_count")), 4);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    /* the endpoint keeps its schedule: an exponential setting alone is refused */
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, "{\"max_attempts\":5}", &r), 422);
    CHECK(json_object_get(bl_test_wh_field_errors(&r), "retry_schedule") != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200);
    CHECK_EQ_INT((long)json_array_size(json_object_get(r.json, "retry_schedule")), 4);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin,
                                 "{\"retry_schedule\":null,\"max_attempts\":5,\"max_age_seconds\":null}", &r), 200);
    CHECK(json_is_null(json_object_get(r.json, "retry_schedule")));
    CHECK(json_is_null(json_object_get(r.json, "max_age_seconds")));
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "max_attempts")), 5);
    bl_test_reply_clear(&r);
#undef WH_BASE
}

static void ssrf_refusal_is_422_on_url_with_the_reason(void)
{
    bl_test_wh_expect_field_error("{\"name\":\"n\",\"url\":\"http://10.1.2.3/hook\",\"event_types\":[\"risk.*\"]}", "url",
                       "private");
    bl_test_wh_expect_field_error("{\"name\":\"n\",\"url\":\"http://169.254.169.254/latest\",\"event_types\":[\"risk.*\"]}",
                       "url", "link-local");
    /* an update to an internal address is refused the same way */
    char id[64], path[160];
    REQUIRE(bl_test_wh_create(bl_test_wh.admin, "moving", id, NULL) == 201);
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, "{\"url\":\"http://192.168.1.1/\"}", &r), 422);
    CHECK(strstr(json_string_value(json_object_get(bl_test_wh_field_errors(&r), "url")) ?: "", "private") != NULL);
    bl_test_reply_clear(&r);
}

static void event_types_are_grouped_by_domain(void)
{
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_wh_call("GET", "/v1/webhooks/event-types", bl_test_wh.admin, NULL, &r), 200);
    bool found = false;
    json_t *g;
    size_t i;
    json_array_foreach(json_object_get(r.json, "data"), i, g) {
        if (strcmp(bl_test_wh_str(g, "domain"), "pmo") != 0)
            continue;
        json_t *t;
        size_t j;
        json_array_foreach(json_object_get(g, "event_types"), j, t)
            found = found || strcmp(bl_test_wh_str(t, "type"), "risk.escalated") == 0;
    }
    CHECK(found);
    bl_test_reply_clear(&r);
}

static void permission_matrix_reads_for_read_and_write_management_for_admin(void)
{
    char id[64];
    REQUIRE(bl_test_wh_create(bl_test_wh.admin, "matrix", id, NULL) == 201);
    char tokens[3][BL_API_TOKEN_SIZE];
    bl_test_wh_key_of(bl_test_wh.org_pro, BL_API_PERM_READ, tokens[0]);
    bl_test_wh_key_of(bl_test_wh.org_pro, BL_API_PERM_WRITE, tokens[1]);
    bl_test_wh_key_of(bl_test_wh.org_pro, BL_API_PERM_ADMIN, tokens[2]);
    char url[128], create_body[256];
    bl_test_wh_sink_url(url, sizeof url);
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
            bl_test_reply r;
            long st = bl_test_wh_call(cells[c].method, path, tokens[k], cells[c].body, &r);
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
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_wh_call("DELETE", path, tokens[2], NULL, &r), 204);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", "/v1/webhooks", NULL, NULL, &r), 401);
    bl_test_reply_clear(&r);
}

static void demo_plan_reads_but_cannot_manage(void)
{
    char token[BL_API_TOKEN_SIZE], id[64];
    bl_test_wh_key_of(bl_test_wh.org_demo, BL_API_PERM_ADMIN, token);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_wh_call("GET", "/v1/webhooks", token, NULL, &r), 200);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_create(token, "demo", id, NULL), 403);
    CHECK_EQ_INT(bl_test_wh_call("POST", "/v1/webhooks", token, "{}", &r), 403);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "plan_required");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("POST", "/v1/webhooks/x/rotate-secret", token, NULL, &r), 403);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "plan_required");
    bl_test_reply_clear(&r);
}

/* ordering: "none" by default, "fifo" stored (strict_order, its older
 * spelling, shows the same), back to "none"; anything else, or both
 * spellings at once, a 422 on the field. */
static void ordering_fifo_is_stored_and_validated(void)
{
    char id[64], path[200];
    REQUIRE(bl_test_wh_create(bl_test_wh.admin, "ordered", id, NULL) == 201);
    bl_test_reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200);
    CHECK_EQ_STR(bl_test_wh_str(r.json, "ordering"), "none");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, "{\"ordering\":\"fifo\"}", &r), 200);
    CHECK_EQ_STR(bl_test_wh_str(r.json, "ordering"), "fifo");
    CHECK(json_is_true(json_object_get(r.json, "strict_order")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200);
    CHECK_EQ_STR(bl_test_wh_str(r.json, "ordering"), "fifo");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, "{\"ordering\":\"none\"}", &r), 200);
    CHECK_EQ_STR(bl_test_wh_str(r.json, "ordering"), "none");
    CHECK(json_is_false(json_object_get(r.json, "strict_order")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, "{\"ordering\":\"lifo\"}", &r), 422);
    CHECK(json_object_get(bl_test_wh_field_errors(&r), "ordering") != NULL);
    bl_test_reply_clear(&r);
    bl_test_wh_expect_field_error("{\"name\":\"x\",\"url\":\"http://example.com/\",\"events\":[\"risk.*\"],"
                                  "\"ordering\":\"fifo\",\"strict_order\":true}",
                                  "ordering", "not both");
    bl_test_wh_expect_field_error("{\"name\":\"x\",\"url\":\"http://example.com/\",\"events\":[\"risk.*\"],"
                                  "\"ordering\":true}",
                                  "ordering", "fifo");
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_wh_setup() == 0) {
        BL_RUN(crud_shows_the_secret_once_and_updates_partially);
        BL_RUN(v1a_scheme_shows_the_public_key_and_rotates_it);
        BL_RUN(list_is_paginated);
        BL_RUN(another_organizations_endpoint_is_not_found);
        BL_RUN(validation_errors_are_422_with_fields);
        BL_RUN(ssrf_refusal_is_422_on_url_with_the_reason);
        BL_RUN(retry_schedule_is_validated_stored_and_exclusive);
        BL_RUN(event_types_are_grouped_by_domain);
        BL_RUN(permission_matrix_reads_for_read_and_write_management_for_admin);
        BL_RUN(demo_plan_reads_but_cannot_manage);
        BL_RUN(ordering_fifo_is_stored_and_validated);
    } else {
        bl_test_failures++;
    }
    bl_test_wh_teardown();
    curl_global_cleanup();
    return bl_test_summary();
}
