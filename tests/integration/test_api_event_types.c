/* The event catalog over the API: GET /v1/event-types lists every event
 * type of the schema catalog; GET /v1/event-types/:type answers the JSON
 * Schema of its webhook body and an example, the documented errors for an
 * ambiguous or unknown type; and a webhook really delivered (outbox, relay,
 * real broker, fan-out, delivery worker) from the served example satisfies
 * the served schema as Python's jsonschema reads it. */
#include "schemas/catalog.h"
#include "tests/support/api_fixture.h"
#include "tests/support/json_schema_check.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bl_test_api api;

static const json_t *data_of(const bl_test_reply *r)
{
    return json_object_get(r->json, "data");
}

static void list_names_every_event_type_with_its_description(void)
{
    bl_err err = {0};
    bl_catalog *cat = bl_catalog_load(BUSLINE_SOURCE_DIR "/schemas", &err);
    REQUIRE(cat);
    bl_test_reply r = {0};
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/event-types", api.write_token, NULL, NULL, &r), 200);
    const json_t *list = data_of(&r);
    CHECK_EQ_INT(json_array_size(list), bl_catalog_msg_count_kind(cat, BL_MSG_EVENT));
    size_t i;
    const json_t *e;
    int escalated = 0;
    json_array_foreach(list, i, e)
    {
        CHECK(json_string_length(json_object_get(e, "description")) > 0);
        CHECK(json_is_string(json_object_get(e, "domain")) && json_is_string(json_object_get(e, "topic")));
        escalated += strcmp(json_string_value(json_object_get(e, "type")), "risk.escalated") == 0 &&
                     strcmp(json_string_value(json_object_get(e, "topic")), "events.pmo.risk") == 0;
    }
    CHECK_EQ_INT(escalated, 1);
    const json_t *page = json_object_get(r.json, "pagination");
    CHECK_EQ_INT(json_integer_value(json_object_get(page, "total")), (long)bl_catalog_msg_count_kind(cat, BL_MSG_EVENT));
    CHECK_EQ_INT(json_integer_value(json_object_get(page, "limit")), 50);
    bl_test_reply_clear(&r);
    /* the Powalyze envelope's paging: the last page, then a bad limit */
    long total = (long)bl_catalog_msg_count_kind(cat, BL_MSG_EVENT);
    char path[96];
    snprintf(path, sizeof path, "/v1/event-types?limit=5&offset=%ld", total - 3);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", path, api.write_token, NULL, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(data_of(&r)), 3);
    CHECK(json_is_false(json_object_get(json_object_get(r.json, "pagination"), "has_more")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/event-types?limit=2", api.write_token, NULL, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(data_of(&r)), 2);
    CHECK(json_is_true(json_object_get(json_object_get(r.json, "pagination"), "has_more")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/event-types?limit=0", api.write_token, NULL, NULL, &r), 400);
    bl_test_reply_clear(&r);
    bl_catalog_free(cat);
}

static void one_type_answers_its_schema_and_example_or_the_documented_error(void)
{
    bl_test_reply r = {0};
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/event-types/risk.escalated", api.write_token, NULL, NULL, &r), 200);
    const json_t *d = data_of(&r), *schema = json_object_get(d, "schema"), *example = json_object_get(d, "example");
    CHECK_EQ_STR(json_string_value(json_object_get(d, "domain")), "pmo");
    CHECK_EQ_STR(json_string_value(json_object_get(d, "description")), "The severity of a risk went up.");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_object_get(schema, "properties"), "event"),
                                                   "const")),
                 "risk.escalated");
    const json_t *severity = json_object_get(
        json_object_get(json_object_get(json_object_get(schema, "properties"), "data"), "properties"), "severity");
    CHECK_EQ_INT(json_array_size(json_object_get(severity, "enum")), 4);
    CHECK_EQ_STR(json_string_value(json_object_get(example, "event")), "risk.escalated");
    CHECK(json_is_string(json_object_get(json_object_get(example, "data"), "risk_id")));
    bl_test_reply_clear(&r);

    /* two domains publish report.generated: the domain must be named */
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/event-types/report.generated", api.write_token, NULL, NULL, &r), 400);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "bad_request");
    CHECK(strstr(r.body, "domain") != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/event-types/report.generated?domain=fieldservice", api.write_token,
                                  NULL, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(data_of(&r), "domain")), "fieldservice");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/event-types/risk.vanished", api.write_token, NULL, NULL, &r), 404);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "not_found");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/event-types/risk.escalated?domain=attendance", api.write_token,
                                  NULL, NULL, &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/event-types/risk.escalated", NULL, NULL, NULL, &r), 401);
    bl_test_reply_clear(&r);
}

static int got_one(webhook_sink *s, void *user)
{
    (void)user;
    return webhook_sink_count(s) >= 1;
}

static void a_delivered_webhook_satisfies_the_served_schema(void)
{
    bl_test_reply r = {0};
    REQUIRE(bl_test_api_call(&api, "GET", "/v1/event-types/webhook.disabled", api.write_token, NULL, NULL, &r) == 200);
    const json_t *schema = json_object_get(data_of(&r), "schema");
    const json_t *example_data = json_object_get(json_object_get(data_of(&r), "example"), "data");
    REQUIRE(schema && example_data);

    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, NULL, NULL) == 0);
    wh_e2e e = {0};
    char url[128], secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    char *id = NULL;
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    webhook_sink_url(&sink, "/catalog", url, sizeof url);
    id = wh_e2e_endpoint(&e, "org-catalog", url, "webhook.*", NULL, NULL, secret);
    REQUIRE(id && wh_e2e_wait_cache(&e, 1) == 0);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    /* the served example, published as a real event */
    bl_err err = {0};
    PQclear(PQexec(e.f.conn, "BEGIN"));
    int rc = bl_webhook_events_append(e.events, e.f.conn, "webhook.disabled", "org-catalog", "ep-catalog",
                                      example_data, &err);
    PQclear(PQexec(e.f.conn, "COMMIT"));
    if (rc != 0)
        fprintf(stderr, "  append: %s\n", err.msg);
    REQUIRE(rc == 0);
    REQUIRE(webhook_sink_wait(&sink, got_one, NULL, 30000));
    json_error_t jerr;
    json_t *body = json_loadb(sink.hits[0].body, sink.hits[0].body_len, 0, &jerr);
    REQUIRE(body);
    CHECK(json_equal(json_object_get(body, "data"), example_data));
    /* the validator says valid to the delivered body, invalid to it with a field gone */
    json_t *gone = json_deep_copy(body);
    json_object_del(json_object_get(gone, "data"), "reason");
    json_t *cases = json_pack("[{s:O, s:O}, {s:O, s:o}]", "schema", schema, "instance", body, "schema", schema,
                              "instance", gone);
    char verdicts[2][BL_TEST_VERDICT_MAX];
    CHECK_EQ_INT(bl_test_json_schema_check(cases, verdicts, 2), 2);
    CHECK_EQ_STR(verdicts[0], "valid");
    CHECK(strncmp(verdicts[1], "invalid", 7) == 0);
    json_decref(cases);
    json_decref(body);
done:
    free(id);
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
    bl_test_reply_clear(&r);
}

int main(void)
{
    if (bl_test_api_start(&api, 0) != 0) {
        bl_test_api_stop(&api);
        return 1;
    }
    BL_RUN(list_names_every_event_type_with_its_description);
    BL_RUN(one_type_answers_its_schema_and_example_or_the_documented_error);
    BL_RUN(a_delivered_webhook_satisfies_the_served_schema);
    bl_test_api_stop(&api);
    return bl_test_summary();
}
