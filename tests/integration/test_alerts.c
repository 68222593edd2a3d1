/* Alerts against real PostgreSQL and Kafka: slow answers of a fake outside
 * service open one high-latency alert, published as alert.opened on
 * events.ops.alert through the outbox and the relay; fast answers again
 * resolve it (alert.resolved); the default rules open error-rate and
 * downtime for an endpoint whose integration fails; /v1/alerts lists and
 * acknowledges. The API server's own evaluator runs beside the test's, as
 * two replicas would: the assertions are on rows and events, not on which
 * evaluator made them. */
#include "api/alerts/alerts.h"
#include "core/kafka_admin.h"
#include "core/kafka_consumer.h"
#include "producers/outbox/relay.h"
#include "schemas/avro_json.h"
#include "schemas/codec.h"
#include "schemas/registry_client.h"
#include "tests/support/custom_api_fixture.h"
#include "tests/support/fake_service.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bl_test_custom t;
static fake_service svc;
static bl_test_fake failing;
static bl_alert_evaluator *ev;
static bl_relay *relay;
static pthread_t relay_thread;
static bool relay_on;
static bl_kafka_consumer *consumer;
static bl_registry_client *registry;
static bl_schema_cache *schemas;
static char topic[200];
static char slow_alert[40];

static void *relay_main(void *arg)
{
    bl_relay_run(arg);
    return NULL;
}

/* The next event on the alert topic within 30 s: its ce_type and key, and
 * the envelope decoded (new reference; NULL when none came). */
static json_t *next_event(char *ce_type, char *key)
{
    bl_err err = {0};
    for (int i = 0; i < 150; i++) {
        bl_kafka_msg *m = NULL;
        if (bl_kafka_consumer_poll(consumer, 200, &m, &err) != 1)
            continue;
        size_t len = 0;
        const void *v = NULL;
        ce_type[0] = key[0] = '\0';
        if (bl_kafka_msg_header(m, "ce_type", &v, &len) == 0)
            snprintf(ce_type, 40, "%.*s", (int)len, (const char *)v);
        const void *k = bl_kafka_msg_key(m, &len);
        snprintf(key, 40, "%.*s", (int)len, k ? (const char *)k : "");
        const void *value = bl_kafka_msg_value(m, &len);
        avro_value_t decoded;
        const bl_avro_schema *writer = NULL;
        json_t *envelope = NULL;
        if (bl_codec_decode(schemas, value, len, &decoded, &writer, &err) == 0) {
            envelope = bl_avro_to_json(writer, &decoded, BL_AVRO_JSON_PLAIN, &err);
            avro_value_decref(&decoded);
        } else {
            fprintf(stderr, "  decode: %s\n", err.msg);
        }
        bl_kafka_msg_release(m);
        return envelope;
    }
    return NULL;
}

/* Calls path n times; returns how many answered 200. */
static int call_n(const char *path, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        bl_test_reply r;
        ok += bl_test_custom_call(&t, NULL, "GET", path, NULL, NULL, &r) == 200;
        bl_test_reply_clear(&r);
    }
    return ok;
}

/* Waits until id has want metric rows (the writer flushes every 500 ms). */
static long await_metrics(const char *id, long want)
{
    const char *p[] = {id};
    long v = -1;
    for (int i = 0; i < 400 && v != want; i++) {
        char out[32] = "";
        if (bl_test_sql_value(t.api.pool, "SELECT count(*) FROM custom_api_metrics WHERE custom_api_id = $1", 1, p,
                              out, sizeof out) == 0)
            v = atol(out);
        if (v != want)
            usleep(50 * 1000);
    }
    return v;
}

static long sql_count(const char *sql, const char *a, const char *b)
{
    const char *p[] = {a, b};
    char out[32] = "";
    return bl_test_sql_value(t.api.pool, sql, b ? 2 : 1, p, out, sizeof out) == 0 ? atol(out) : -1;
}

static long create(const char *path, const char *url, char *id)
{
    char def[1024];
    snprintf(def, sizeof def,
             "{\"name\":\"watched\",\"path\":\"%s\",\"method\":\"GET\",\"authentication\":{\"type\":\"none\"},"
             "\"integrations\":[{\"id\":\"svc\",\"type\":\"http\",\"endpoint\":\"%s\",\"timeout\":10000}]}",
             path, url);
    return bl_test_custom_create(&t, def, id);
}

static int evaluate(bl_alert_tick *tick)
{
    bl_err err = {0};
    int rc = bl_alert_evaluate(ev, tick, &err);
    if (rc != 0)
        fprintf(stderr, "  evaluate: %s\n", err.msg);
    return rc;
}

static void slow_answers_open_one_alert_and_fast_ones_resolve_it(void)
{
    char id[40], url[200];
    fake_service_url(&svc, "/data", url, sizeof url);
    REQUIRE(create("/slow", url, id) == 201);
    /* this endpoint's own rule: p95 above 300 ms with at least 2 calls in a minute */
    const char *rp[] = {t.api.org, id};
    REQUIRE(bl_test_sql(t.api.pool,
                        "INSERT INTO alert_rules (organization_id, custom_api_id, type, threshold, severity,"
                        " window_seconds, min_calls) VALUES ($1, $2, 'high-latency', 300, 'high', 60, 2)",
                        2, rp) == 0);
    REQUIRE(bl_test_custom_await(&t, NULL, "/slow", 200)); /* one fast call */
    for (int i = 0; i < 3; i++)
        fake_service_queue_slow(&svc, 200, "{\"ok\":true}", 800);
    CHECK_EQ_INT(call_n("/slow", 3), 3);
    CHECK_EQ_INT(await_metrics(id, 4), 4);

    bl_alert_tick tick;
    REQUIRE(evaluate(&tick) == 0);
    REQUIRE(evaluate(&tick) == 0); /* again: nothing opens twice */
    char subject[80];
    snprintf(subject, sizeof subject, "custom_api:%s", id);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM api_alerts WHERE subject = $1 AND resolved_at IS NULL"
                           " AND type = 'high-latency' AND severity = 'high' AND threshold = 300"
                           " AND current_value > 300",
                           subject, NULL),
                 1);
    char ce_type[40], key[40];
    json_t *e = next_event(ce_type, key);
    REQUIRE(e);
    CHECK_EQ_STR(ce_type, "alert.opened");
    const json_t *d = json_object_get(e, "data");
    snprintf(slow_alert, sizeof slow_alert, "%s", json_string_value(json_object_get(d, "alert_id")) ?: "");
    CHECK_EQ_STR(key, slow_alert);
    CHECK_EQ_STR(json_string_value(json_object_get(e, "organization_id")), t.api.org);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "alert_type")), "high-latency");
    CHECK_EQ_STR(json_string_value(json_object_get(d, "custom_api_id")), id);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "severity")), "high");
    CHECK(json_number_value(json_object_get(d, "current_value")) > 300);
    CHECK(json_number_value(json_object_get(d, "threshold")) == 300);
    json_decref(e);

    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&t.api, "GET", "/v1/alerts?status=open", t.api.write_token, NULL, NULL, &r), 200);
    const json_t *first = json_array_get(json_object_get(r.json, "data"), 0);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(first, "id")), slow_alert);
    CHECK_EQ_STR(json_string_value(json_object_get(first, "customAPIId")), id);
    CHECK(json_is_false(json_object_get(first, "isResolved")));
    bl_test_reply_clear(&r);

    /* fast again: 60 fast calls bring the p95 under the threshold */
    CHECK_EQ_INT(call_n("/slow", 60), 60);
    CHECK_EQ_INT(await_metrics(id, 64), 64);
    REQUIRE(evaluate(&tick) == 0);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM api_alerts WHERE id = $1 AND resolved_at IS NOT NULL", slow_alert,
                           NULL),
                 1);
    e = next_event(ce_type, key);
    REQUIRE(e);
    CHECK_EQ_STR(ce_type, "alert.resolved");
    CHECK_EQ_STR(key, slow_alert);
    d = json_object_get(e, "data");
    CHECK_EQ_STR(json_string_value(json_object_get(d, "alert_id")), slow_alert);
    CHECK(json_number_value(json_object_get(d, "current_value")) < 300);
    CHECK(json_integer_value(json_object_get(d, "resolved_at")) >= json_integer_value(json_object_get(d, "opened_at")));
    json_decref(e);
    /* resolved stays resolved, and no second alert opens */
    REQUIRE(evaluate(&tick) == 0);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM api_alerts WHERE subject = $1", subject, NULL), 1);
    CHECK_EQ_INT(bl_test_api_call(&t.api, "GET", "/v1/alerts?status=resolved", t.api.write_token, NULL, NULL, &r),
                 200);
    first = json_array_get(json_object_get(r.json, "data"), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(first, "id")), slow_alert);
    CHECK(json_is_true(json_object_get(first, "isResolved")));
    bl_test_reply_clear(&r);
}

static void default_rules_open_error_rate_and_downtime(void)
{
    char id[40], url[200];
    snprintf(url, sizeof url, "%s/data", failing.url);
    REQUIRE(create("/down", url, id) == 201);
    REQUIRE(bl_test_custom_await(&t, NULL, "/down", 502));
    call_n("/down", 4);
    CHECK_EQ_INT(await_metrics(id, 5), 5); /* the defaults' min_calls */
    bl_alert_tick tick;
    REQUIRE(evaluate(&tick) == 0);
    char subject[80];
    snprintf(subject, sizeof subject, "custom_api:%s", id);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM api_alerts WHERE subject = $1 AND resolved_at IS NULL AND ("
                           " (type = 'error-rate' AND severity = 'high' AND threshold = 5 AND current_value = 100) OR"
                           " (type = 'downtime' AND severity = 'critical' AND threshold = 100))",
                           subject, NULL),
                 2);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM api_alerts WHERE subject = $1 AND type = 'high-latency'", subject,
                           NULL),
                 0);
    char ce_type[40], key[40];
    int opened = 0;
    for (int i = 0; i < 2; i++) {
        json_t *e = next_event(ce_type, key);
        opened += e && strcmp(ce_type, "alert.opened") == 0 &&
                  strcmp(json_string_value(json_object_get(json_object_get(e, "data"), "custom_api_id")) ?: "", id) == 0;
        json_decref(e);
    }
    CHECK_EQ_INT(opened, 2);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&t.api, "GET", "/v1/alerts?status=open&severity=critical", t.api.write_token, NULL,
                                  NULL, &r),
                 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "data"), 0), "type")),
                 "downtime");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&t.api, "GET", "/v1/alerts?severity=urgent", t.api.write_token, NULL, NULL, &r),
                 400);
    bl_test_reply_clear(&r);
}

static void acknowledge_keeps_the_first_and_is_per_organization(void)
{
    REQUIRE(slow_alert[0]);
    char path[160];
    snprintf(path, sizeof path, "/v1/alerts/%s/acknowledge", slow_alert);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&t.api, "POST", path, t.api.other_token, NULL, NULL, &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&t.api, "POST", path, t.api.write_token, NULL, NULL, &r), 200);
    char at[64];
    snprintf(at, sizeof at, "%s", json_string_value(json_object_get(r.json, "acknowledgedAt")) ?: "");
    CHECK(at[0]);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "acknowledgedBy")), t.api.write_key_id);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "id")), slow_alert);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&t.api, "POST", path, t.api.admin_token, NULL, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "acknowledgedAt")), at);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "acknowledgedBy")), t.api.write_key_id);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&t.api, "POST", "/v1/alerts/not-an-id/acknowledge", t.api.write_token, NULL, NULL,
                                  &r),
                 404);
    bl_test_reply_clear(&r);
}

static int setup(void)
{
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    bl_err err = {0};
    if (fake_service_start(&svc, "{\"ok\":true}") != 0 || bl_test_fake_start(&failing, 500, "{\"e\":1}") != 0 ||
        bl_test_custom_start(&t, 1, 0, 0) != 0)
        return -1;
    if (!(ev = bl_alert_evaluator_new(t.api.pool, NULL, t.api.prefix, &err)))
        goto fail;
    snprintf(topic, sizeof topic, "%s", bl_alert_evaluator_topic(ev));
    bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    bl_kafka_topic_spec spec = {.name = topic, .partitions = 1, .replication_factor = 1};
    const char *names[] = {topic};
    int made = admin && bl_kafka_admin_create_topics(admin, &spec, 1, 30000, &err) == 0 &&
               bl_kafka_admin_wait_visible(admin, names, 1, 30000, &err) == 0;
    bl_kafka_admin_free(admin);
    if (!made)
        goto fail;
    bl_relay_config rc = {.pg_url = t.api.registry.pg_url, .brokers = bl_test_kafka_brokers(), .batch_size = 100,
                          .poll_interval_ms = 50, .retention_ms = 0, .cleanup_batch = 1000,
                          .cleanup_interval_ms = 60000, .delivery_timeout_ms = 10000};
    if (!(relay = bl_relay_new(&rc, &err)))
        goto fail;
    relay_on = pthread_create(&relay_thread, NULL, relay_main, relay) == 0;
    char group[96];
    bl_test_unique_name(group, sizeof group, "alerts");
    bl_kafka_consumer_opts co = {.brokers = bl_test_kafka_brokers(), .group_id = group};
    if (!relay_on || !(consumer = bl_kafka_consumer_new(&co, &err)) ||
        bl_kafka_consumer_subscribe(consumer, names, 1, &err) != 0 ||
        !(registry = bl_registry_client_new(t.api.registry.base_url, 0, &err)) ||
        !(schemas = bl_schema_cache_new(bl_registry_client_fetch_schema, registry, &err)))
        goto fail;
    return 0;
fail:
    fprintf(stderr, "  setup: %s\n", err.msg);
    return -1;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (setup() == 0) {
        BL_RUN(slow_answers_open_one_alert_and_fast_ones_resolve_it);
        BL_RUN(default_rules_open_error_rate_and_downtime);
        BL_RUN(acknowledge_keeps_the_first_and_is_per_organization);
    } else {
        bl_test_failures++;
    }
    bl_err err = {0};
    if (consumer) {
        bl_kafka_consumer_close(consumer, &err);
        bl_kafka_consumer_free(consumer);
    }
    bl_schema_cache_free(schemas);
    bl_registry_client_free(registry);
    if (relay_on) {
        bl_relay_stop(relay);
        pthread_join(relay_thread, NULL);
    }
    bl_relay_free(relay);
    bl_alert_evaluator_free(ev);
    bl_test_custom_stop(&t);
    if (topic[0]) {
        bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
        const char *names[] = {topic};
        if (admin)
            bl_kafka_admin_delete_topics(admin, names, 1, 30000, &err);
        bl_kafka_admin_free(admin);
    }
    fake_service_stop(&svc);
    bl_test_fake_stop(&failing);
    curl_global_cleanup();
    return bl_test_summary();
}
