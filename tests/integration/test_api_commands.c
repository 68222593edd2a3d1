/* Commands onto the bus through the API, in-process, on fresh topics: a
 * command lands on Kafka with the registered schema id, CloudEvents headers,
 * the aggregate id as key and the envelope (decoded with the codec);
 * validation answers 422 with JSON paths; 8 concurrent retries with one
 * Idempotency-Key put exactly one command on Kafka; a key left 'sending'
 * by a request that gave up (or died) is taken over by a retry, which
 * sends the same command id again; the status URL. */
#include "core/kafka_consumer.h"
#include "core/pg_pool.h"
#include "schemas/codec.h"
#include "schemas/registry_client.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bl_test_api api;

typedef struct seen {
    int count;
    char key[128], ce_type[64], ce_id[64];
    json_t *envelope; /* the last one, decoded */
    int32_t schema_id;
} seen;

/* Reads every message of topic for up to wait_ms after the last one. */
static void read_topic(const char *topic, int wait_ms, seen *out)
{
    memset(out, 0, sizeof *out);
    bl_err err = {0};
    char group[96];
    bl_test_unique_name(group, sizeof group, "api-cmd");
    bl_kafka_consumer_opts o = {.brokers = bl_test_kafka_brokers(), .group_id = group};
    bl_kafka_consumer *c = bl_kafka_consumer_new(&o, &err);
    bl_registry_client *rc = bl_registry_client_new(api.registry.base_url, 0, &err);
    bl_schema_cache *cache = rc ? bl_schema_cache_new(bl_registry_client_fetch_schema, rc, &err) : NULL;
    REQUIRE(c && cache);
    const char *topics[] = {topic};
    REQUIRE(bl_kafka_consumer_subscribe(c, topics, 1, &err) == 0);
    int idle = 0;
    while (idle < wait_ms) {
        bl_kafka_msg *m = NULL;
        if (bl_kafka_consumer_poll(c, 200, &m, &err) != 1) {
            idle += 200;
            continue;
        }
        idle = out->count ? wait_ms - 1500 : 0; /* after one, wait 1.5 s more for any other */
        if (idle < 0)
            idle = 0;
        out->count++;
        size_t len;
        const void *key = bl_kafka_msg_key(m, &len);
        snprintf(out->key, sizeof out->key, "%.*s", (int)len, (const char *)key);
        const void *v;
        if (bl_kafka_msg_header(m, "ce_type", &v, &len) == 0)
            snprintf(out->ce_type, sizeof out->ce_type, "%.*s", (int)len, (const char *)v);
        if (bl_kafka_msg_header(m, "ce_id", &v, &len) == 0)
            snprintf(out->ce_id, sizeof out->ce_id, "%.*s", (int)len, (const char *)v);
        const void *value = bl_kafka_msg_value(m, &len);
        avro_value_t decoded;
        const bl_avro_schema *writer = NULL;
        bl_codec_read_header(value, len, &out->schema_id, &err);
        if (bl_codec_decode(cache, value, len, &decoded, &writer, &err) == 0) {
            json_decref(out->envelope);
            out->envelope = bl_avro_to_json(writer, &decoded, BL_AVRO_JSON_PLAIN, &err);
            avro_value_decref(&decoded);
        } else {
            fprintf(stderr, "  decode: %s\n", err.msg);
        }
        bl_kafka_msg_release(m);
    }
    bl_kafka_consumer_close(c, &err);
    bl_kafka_consumer_free(c);
    bl_schema_cache_free(cache);
    bl_registry_client_free(rc);
}

static const char *RISK = "{\"project_id\":\"p-1\",\"title\":\"Vendor late\",\"description\":\"The vendor slips\","
                          "\"severity\":\"HIGH\",\"probability\":60,\"impact\":70}";

static void risk_command_lands_on_kafka_with_schema_headers_key_and_envelope(void)
{
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&api, "POST", "/v1/risks", api.write_token, NULL, RISK, &r) == 202);
    const char *command_id = json_string_value(json_object_get(r.json, "command_id"));
    const char *risk_id = json_string_value(json_object_get(r.json, "aggregate_id"));
    REQUIRE(command_id && risk_id);
    char status_url[128];
    snprintf(status_url, sizeof status_url, "/v1/commands/%s", command_id);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "status_url")), status_url);
    seen s;
    read_topic(api.topics[0], 8000, &s);
    CHECK_EQ_INT(s.count, 1);
    CHECK_EQ_STR(s.key, risk_id);
    CHECK_EQ_STR(s.ce_type, "risk.create");
    CHECK_EQ_STR(s.ce_id, command_id);
    /* the schema id is the one registered for the deployed topic */
    char subject[200];
    snprintf(subject, sizeof subject, "%s-value", api.topics[0]);
    bl_registry_client *rc = bl_registry_client_new(api.registry.base_url, 0, NULL);
    bl_registry_version latest = {0};
    bl_err err = {0};
    REQUIRE(bl_registry_client_get(rc, subject, BL_REG_LATEST, &latest, &err) == 0);
    CHECK_EQ_INT(s.schema_id, latest.id);
    bl_registry_version_clear(&latest);
    bl_registry_client_free(rc);
    json_t *e = s.envelope;
    REQUIRE(e);
    CHECK_EQ_STR(json_string_value(json_object_get(e, "id")), command_id);
    CHECK_EQ_STR(json_string_value(json_object_get(e, "type")), "risk.create");
    CHECK_EQ_STR(json_string_value(json_object_get(e, "organization_id")), api.org);
    CHECK_EQ_STR(json_string_value(json_object_get(e, "actor")), api.write_key_id);
    CHECK_EQ_STR(json_string_value(json_object_get(e, "source")), "busline-api");
    CHECK_EQ_STR(json_string_value(json_object_get(e, "subject")), risk_id);
    json_t *data = json_object_get(e, "data");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "risk_id")), risk_id);
    CHECK_EQ_STR(json_string_value(json_object_get(data, "severity")), "HIGH");
    json_decref(s.envelope);
    bl_test_reply_clear(&r);
    /* the status URL: accepted (no domain service runs here), foreign org: 404 */
    REQUIRE(bl_test_api_call(&api, "GET", status_url, api.write_token, NULL, NULL, &r) == 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "status")), "accepted");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", status_url, api.other_token, NULL, NULL, &r), 404);
    bl_test_reply_clear(&r);
}

static void path_id_fills_the_id_and_verbs_route_to_their_commands(void)
{
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&api, "PUT", "/v1/risks/r-9/resolve", api.write_token, NULL,
                                  "{\"resolution\":\"vendor delivered\"}", &r),
                 202);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "aggregate_id")), "r-9");
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "type")), "risk.resolve");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/v1/interventions/i-3/change-status", api.write_token, NULL,
                                  "{\"status\":\"EN_ROUTE\"}", &r),
                 202);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "type")), "intervention.change_status");
    bl_test_reply_clear(&r);
    seen s;
    read_topic(api.topics[1], 8000, &s);
    CHECK_EQ_INT(s.count, 1);
    CHECK_EQ_STR(s.key, "i-3");
    json_decref(s.envelope);
    /* an id in the body that contradicts the path */
    CHECK_EQ_INT(bl_test_api_call(&api, "PUT", "/v1/risks/r-9/resolve", api.write_token, NULL,
                                  "{\"risk_id\":\"r-8\",\"resolution\":\"x\"}", &r),
                 422);
    CHECK(json_object_get(json_object_get(json_object_get(r.json, "error"), "field_errors"), "$.risk_id"));
    bl_test_reply_clear(&r);
    /* DELETE needs admin */
    CHECK_EQ_INT(bl_test_api_call(&api, "DELETE", "/v1/risks/r-9", api.write_token, NULL, NULL, &r), 403);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "DELETE", "/v1/risks/r-9", api.admin_token, NULL, NULL, &r), 202);
    bl_test_reply_clear(&r);
}

static void invalid_commands_get_422_with_json_paths(void)
{
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/v1/risks", api.write_token, NULL,
                                  "{\"project_id\":\"p-1\",\"severity\":\"HIGH\",\"colour\":\"red\"}", &r),
                 422);
    json_t *fe = json_object_get(json_object_get(r.json, "error"), "field_errors");
    CHECK(json_object_get(fe, "$.title") && json_object_get(fe, "$.description") &&
          json_object_get(fe, "$.probability") && json_object_get(fe, "$.colour"));
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "validation_failed");
    bl_test_reply_clear(&r);
    char body[512];
    snprintf(body, sizeof body, "%.*s\"SEVERE\"%s", (int)(strstr(RISK, "\"HIGH\"") - RISK), RISK,
             strstr(RISK, "\"HIGH\"") + 6);
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/v1/risks", api.write_token, NULL, body, &r), 422);
    fe = json_object_get(json_object_get(r.json, "error"), "field_errors");
    CHECK(strstr(json_string_value(json_object_get(fe, "$.severity")) ?: "", "SEVERE") != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/v1/risks", api.write_token, NULL, "[1]", &r), 422);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/v1/risks", NULL, NULL, RISK, &r), 401);
    bl_test_reply_clear(&r);
}

typedef struct retry_arg {
    long status;
    char command_id[64];
    char replayed[16];
} retry_arg;

static void *retry(void *arg)
{
    retry_arg *a = arg;
    bl_test_reply r;
    a->status = bl_test_api_call(&api, "POST", "/v1/risks", api.write_token, "Idempotency-Key: same-key-1",
                                 "{\"risk_id\":\"idem-1\",\"project_id\":\"p-1\",\"title\":\"t\","
                                 "\"description\":\"d\",\"severity\":\"LOW\",\"probability\":1,\"impact\":1}",
                                 &r);
    snprintf(a->command_id, sizeof a->command_id, "%s",
             json_string_value(json_object_get(r.json, "command_id")) ?: "");
    snprintf(a->replayed, sizeof a->replayed, "%s", r.replayed);
    bl_test_reply_clear(&r);
    return NULL;
}

/* How many messages keyed key the topic holds, read from its start; the
 * first cap ce_ids go into ce_ids. */
static int messages_keyed(const char *topic, const char *key, char ce_ids[][64], int cap)
{
    bl_err err = {0};
    char group[96];
    bl_test_unique_name(group, sizeof group, "api-keyed");
    bl_kafka_consumer_opts o = {.brokers = bl_test_kafka_brokers(), .group_id = group};
    bl_kafka_consumer *c = bl_kafka_consumer_new(&o, &err);
    if (!c)
        return -1;
    const char *topics[] = {topic};
    if (bl_kafka_consumer_subscribe(c, topics, 1, &err) != 0) {
        bl_kafka_consumer_free(c);
        return -1;
    }
    int n = 0, idle = 0;
    while (idle < 6000) {
        bl_kafka_msg *m = NULL;
        if (bl_kafka_consumer_poll(c, 200, &m, &err) != 1) {
            idle += 200;
            continue;
        }
        size_t len;
        const char *k = bl_kafka_msg_key(m, &len);
        if (len == strlen(key) && memcmp(k, key, len) == 0) {
            const void *v;
            if (n < cap && bl_kafka_msg_header(m, "ce_id", &v, &len) == 0)
                snprintf(ce_ids[n], 64, "%.*s", (int)len, (const char *)v);
            n++;
        }
        if (n)
            idle = 3000;
        bl_kafka_msg_release(m);
    }
    bl_kafka_consumer_close(c, &err);
    bl_kafka_consumer_free(c);
    return n;
}

static void eight_concurrent_retries_put_one_command_on_kafka(void)
{
    /* drain what earlier tests produced */
    seen s;
    read_topic(api.topics[0], 3000, &s);
    json_decref(s.envelope);
    pthread_t th[8];
    retry_arg args[8] = {0};
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, retry, &args[i]);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    int accepted = 0, replayed = 0;
    for (int i = 0; i < 8; i++) {
        CHECK(args[i].status == 202 || args[i].status == 409);
        if (args[i].status == 202) {
            accepted++;
            CHECK_EQ_STR(args[i].command_id, args[0].status == 202 ? args[0].command_id : args[i].command_id);
            replayed += strcmp(args[i].replayed, "true") == 0;
        }
    }
    CHECK(accepted >= 1);
    CHECK_EQ_INT(replayed, accepted - 1);
    char ce_ids[2][64];
    CHECK_EQ_INT(messages_keyed(api.topics[0], "idem-1", ce_ids, 2), 1);
    /* a later retry replays; the same key with another body is refused */
    retry_arg later = {0};
    retry(&later);
    CHECK_EQ_INT((int)later.status, 202);
    CHECK_EQ_STR(later.replayed, "true");
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/v1/risks", api.write_token, "Idempotency-Key: same-key-1", RISK,
                                  &r),
                 422);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "idempotency_key_reused");
    bl_test_reply_clear(&r);
    /* the key is per organization */
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/v1/risks", api.other_token, "Idempotency-Key: same-key-1", RISK,
                                  &r),
                 202);
    CHECK(strcmp(json_string_value(json_object_get(r.json, "command_id")) ?: "", later.command_id) != 0);
    bl_test_reply_clear(&r);
}

static void abandoned_key_is_taken_over_with_its_command_id(void)
{
    static const char *body = "{\"risk_id\":\"stale-1\",\"project_id\":\"p-1\",\"title\":\"t\","
                              "\"description\":\"d\",\"severity\":\"LOW\",\"probability\":1,\"impact\":1}";
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&api, "POST", "/v1/risks", api.write_token, "Idempotency-Key: stale-key", body, &r) ==
            202);
    char first[64];
    snprintf(first, sizeof first, "%s", json_string_value(json_object_get(r.json, "command_id")) ?: "");
    bl_test_reply_clear(&r);
    /* as if that request had given up waiting for Kafka's ack, or died, an hour ago */
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(api.pool, 5000, &err);
    REQUIRE(conn);
    const char *p[] = {first};
    CHECK_EQ_INT(bl_pg_exec_cmd(conn,
                                "UPDATE api_commands SET state = 'sending', response = NULL, accepted_at = NULL,"
                                " created_at = now() - interval '1 hour' WHERE command_id = $1",
                                1, p, &err),
                 0);
    /* another body under the key is still refused */
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/v1/risks", api.write_token, "Idempotency-Key: stale-key", RISK,
                                  &r),
                 422);
    bl_test_reply_clear(&r);
    /* the retry sends the same command again and records it */
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/v1/risks", api.write_token, "Idempotency-Key: stale-key", body, &r),
                 202);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "command_id")) ?: "", first);
    CHECK(strcmp(r.replayed, "true") != 0);
    bl_test_reply_clear(&r);
    PGresult *res = bl_pg_exec(conn, "SELECT state FROM api_commands WHERE command_id = $1", 1, p, &err);
    CHECK(res && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "accepted") == 0);
    PQclear(res);
    bl_pg_pool_release(api.pool, conn);
    char ce_ids[3][64];
    CHECK_EQ_INT(messages_keyed(api.topics[0], "stale-1", ce_ids, 3), 2);
    CHECK_EQ_STR(ce_ids[0], first);
    CHECK_EQ_STR(ce_ids[1], first);
    /* and now it replays */
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/v1/risks", api.write_token, "Idempotency-Key: stale-key", body, &r),
                 202);
    CHECK_EQ_STR(r.replayed, "true");
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_api_start(&api, 1) == 0) {
        BL_RUN(risk_command_lands_on_kafka_with_schema_headers_key_and_envelope);
        BL_RUN(path_id_fills_the_id_and_verbs_route_to_their_commands);
        BL_RUN(invalid_commands_get_422_with_json_paths);
        BL_RUN(eight_concurrent_retries_put_one_command_on_kafka);
        BL_RUN(abandoned_key_is_taken_over_with_its_command_id);
    } else {
        bl_test_failures++;
    }
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return bl_test_summary();
}
