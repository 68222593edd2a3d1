/* /v1/webhooks with "type": "kafka" (issue 21 item 6) in-process
 * (tests/support/webhook_api_fixture.h): a Kafka destination is created
 * without a url, shown with its settings and never its SASL password, keeps
 * the password on a partial update; a bad destination (brokers that do not
 * parse, an internal address, a bad topic, SASL without a mechanism, kafka
 * settings on an http endpoint) is a 422 naming the field. Delivery itself
 * is in test_webhook_kafka_destination.c. */
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"
#include "tests/support/webhook_api_fixture.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

static void kafka_destination_is_stored_without_showing_its_password(void)
{
    bl_test_reply r;
    const char *body = "{\"name\":\"stream\",\"type\":\"kafka\",\"event_types\":[\"risk.*\"],"
                       "\"kafka\":{\"brokers\":\"127.0.0.1:9092, 127.0.0.1:9093\",\"topic\":\"acme.risks\","
                       "\"securityProtocol\":\"sasl_plaintext\",\"saslMechanism\":\"SCRAM-SHA-256\","
                       "\"saslUsername\":\"acme\",\"saslPassword\":\"hunter2-secret\"}}";
    REQUIRE(bl_test_wh_call("POST", "/v1/webhooks", bl_test_wh.admin, body, &r) == 201);
    char id[64], path[160];
    snprintf(id, sizeof id, "%s", bl_test_wh_str(r.json, "id"));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200);
    char *text = json_dumps(r.json, 0);
    CHECK(text && !strstr(text, "hunter2-secret"));
    free(text);
    CHECK_EQ_STR(bl_test_wh_str(r.json, "type"), "kafka");
    CHECK_EQ_STR(bl_test_wh_str(r.json, "url"), "kafka://127.0.0.1:9092,127.0.0.1:9093/acme.risks");
    const json_t *k = json_object_get(r.json, "kafka");
    CHECK_EQ_STR(bl_test_wh_str(k, "topic"), "acme.risks");
    CHECK_EQ_INT(json_array_size(json_object_get(k, "brokers")), 2);
    CHECK(json_is_true(json_object_get(k, "saslPasswordSet")));
    CHECK(!json_object_get(k, "saslPassword"));
    bl_test_reply_clear(&r);
    /* a new topic without the password keeps the stored one */
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin,
                                 "{\"kafka\":{\"brokers\":[\"127.0.0.1:9092\"],\"topic\":\"acme.risks.v2\","
                                 "\"securityProtocol\":\"sasl_plaintext\",\"saslMechanism\":\"SCRAM-SHA-256\","
                                 "\"saslUsername\":\"acme\"}}",
                                 &r),
                 200);
    k = json_object_get(r.json, "kafka");
    CHECK_EQ_STR(bl_test_wh_str(k, "topic"), "acme.risks.v2");
    CHECK(json_is_true(json_object_get(k, "saslPasswordSet")));
    bl_test_reply_clear(&r);
    /* back to http needs a url */
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, "{\"type\":\"http\"}", &r), 422);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("DELETE", path, bl_test_wh.admin, NULL, &r), 204);
    bl_test_reply_clear(&r);
}

static void bad_kafka_destination_is_422_naming_the_field(void)
{
#define KBODY(kafka) "{\"name\":\"n\",\"type\":\"kafka\",\"event_types\":[\"risk.*\"],\"kafka\":" kafka "}"
    bl_test_wh_expect_field_error(KBODY("{\"brokers\":\"no-port\",\"topic\":\"t\"}"), "kafka", "host:port");
    bl_test_wh_expect_field_error(KBODY("{\"brokers\":\"10.1.2.3:9092\",\"topic\":\"t\"}"), "kafka", "private");
    bl_test_wh_expect_field_error(KBODY("{\"brokers\":\"169.254.169.254:9092\",\"topic\":\"t\"}"), "kafka",
                                  "link-local");
    bl_test_wh_expect_field_error(KBODY("{\"brokers\":\"127.0.0.1:9092\",\"topic\":\"a b\"}"), "kafka", "kafka.topic");
    bl_test_wh_expect_field_error(KBODY("{\"brokers\":\"127.0.0.1:9092\",\"topic\":\"t\",\"securityProtocol\":\"sasl_ssl\"}"),
                                  "kafka", "saslMechanism");
    bl_test_wh_expect_field_error(KBODY("{\"brokers\":\"127.0.0.1:9092\",\"topic\":\"t\",\"bogus\":1}"), "kafka",
                                  "unknown field");
    bl_test_wh_expect_field_error("{\"name\":\"n\",\"type\":\"kafka\",\"event_types\":[\"risk.*\"]}", "kafka",
                                  "required");
    bl_test_wh_expect_field_error("{\"name\":\"n\",\"type\":\"http\",\"url\":\"http://127.0.0.1:1/\","
                                  "\"event_types\":[\"risk.*\"],\"kafka\":{\"brokers\":\"127.0.0.1:9092\",\"topic\":\"t\"}}",
                                  "kafka", "only with");
#undef KBODY
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_wh_setup() == 0) {
        BL_RUN(kafka_destination_is_stored_without_showing_its_password);
        BL_RUN(bad_kafka_destination_is_422_naming_the_field);
    } else {
        bl_test_failures++;
    }
    bl_test_wh_teardown();
    curl_global_cleanup();
    return bl_test_summary();
}
