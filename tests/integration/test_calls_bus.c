/* Bus integrations of a custom endpoint (connectors/calls) on the real
 * broker with an in-process schema registry: a command of the catalog
 * lands on its topic once, Avro-encoded with the envelope the domain
 * services read, keyed by its subject, with id and idempotency_key from the
 * call's idempotency key; repeated or retried runs do not add a copy; a
 * batch travels together. Each test gets fresh topics (a unique prefix). */
#include "connectors/calls/call.h"
#include "core/kafka_admin.h"
#include "core/kafka_consumer.h"
#include "core/uuid.h"
#include "producers/domain_service/codec.h"
#include "schemas/avro_json.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <string.h>

static bl_test_registry reg;

#define RISK_INPUT(id) \
    json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i}", "risk_id", id, "project_id", "P1", "title", "Vendor late", \
              "description", "d", "severity", "HIGH", "probability", 30, "impact", 50)

typedef struct bus_fx {
    char prefix[96];
    char topic[160];
    bl_call_runner *runner;
    bl_call *call;
    bl_domain_codec *codec;
} bus_fx;

static int fx_start_on(bus_fx *fx, int linger_ms, const char *catalog_topic, const char *message_type,
                      const char *extra_config)
{
    memset(fx, 0, sizeof *fx);
    char unique[80];
    bl_test_unique_name(unique, sizeof unique, "calls");
    snprintf(fx->prefix, sizeof fx->prefix, "%s.", unique);
    snprintf(fx->topic, sizeof fx->topic, "%s%s", fx->prefix, catalog_topic);
    bl_err err = {0};
    bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    bl_kafka_topic_spec spec = {fx->topic, 1, -1, NULL};
    const char *names[] = {fx->topic};
    int rc = admin && bl_kafka_admin_create_topics(admin, &spec, 1, 10000, &err) == 0 &&
                     bl_kafka_admin_wait_visible(admin, names, 1, 10000, &err) == 0
                 ? 0 : -1;
    bl_kafka_admin_free(admin);
    if (rc != 0) {
        fprintf(stderr, "  topic: %s\n", err.msg);
        return -1;
    }
    bl_call_runner_opts o = {.brokers = bl_test_kafka_brokers(), .registry_url = reg.base_url,
                             .topic_prefix = fx->prefix, .bus_linger_ms = linger_ms};
    if (!(fx->runner = bl_call_runner_new(&o, &err))) {
        fprintf(stderr, "  runner: %s\n", err.msg);
        return -1;
    }
    char text[1024];
    snprintf(text, sizeof text,
             "{\"id\":\"raise-risk\",\"type\":\"bus\",\"topic\":\"%s\",\"messageType\":\"%s\","
             "\"subject\":\"{risk_id}\"%s}", catalog_topic, message_type, extra_config ? extra_config : "");
    json_t *cfg = json_loads(text, 0, NULL);
    bl_call_compile_opts co = {.organization_id = "org-bus", .actor = "endpoint:risks"};
    fx->call = bl_call_compile(cfg, &co, &err);
    json_decref(cfg);
    if (!fx->call) {
        fprintf(stderr, "  compile: %s\n", err.msg);
        return -1;
    }
    char commands[160];
    snprintf(commands, sizeof commands, "%scommands.pmo", fx->prefix);
    bl_domain_codec_opts dco = {.domain = "pmo", .registry_url = reg.base_url, .commands_topic = commands,
                                .events_prefix = fx->prefix};
    if (!(fx->codec = bl_domain_codec_new(&dco, &err))) {
        fprintf(stderr, "  codec: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int fx_start(bus_fx *fx, int linger_ms, const char *extra_config)
{
    return fx_start_on(fx, linger_ms, "commands.pmo", "risk.create", extra_config);
}

static void fx_stop(bus_fx *fx)
{
    bl_call_free(fx->call);
    bl_call_runner_free(fx->runner);
    bl_domain_codec_free(fx->codec);
}

/* Messages on the fresh one-partition topic: its high watermark. */
static int64_t topic_messages(const bus_fx *fx)
{
    bl_err err = {0};
    char group[96];
    bl_test_unique_name(group, sizeof group, "calls_wm");
    bl_kafka_consumer_opts o = {.brokers = bl_test_kafka_brokers(), .group_id = group};
    bl_kafka_consumer *c = bl_kafka_consumer_new(&o, &err);
    int64_t lo = -1, hi = -1;
    if (c && rd_kafka_query_watermark_offsets(bl_kafka_consumer_handle(c), fx->topic, 0, &lo, &hi, 10000) !=
                 RD_KAFKA_RESP_ERR_NO_ERROR)
        hi = -1;
    bl_kafka_consumer_free(c);
    return hi;
}

/* Reads up to want messages from the start, decoding each into envs[] (new
 * references) and its Kafka key and ce_id header; returns how many. */
static size_t read_envelopes(const bus_fx *fx, size_t want, json_t **envs, char (*keys)[64], char (*ce_ids)[64])
{
    bl_err err = {0};
    char group[96];
    bl_test_unique_name(group, sizeof group, "calls_read");
    bl_kafka_consumer_opts o = {.brokers = bl_test_kafka_brokers(), .group_id = group};
    bl_kafka_consumer *c = bl_kafka_consumer_new(&o, &err);
    const char *topics[] = {fx->topic};
    size_t n = 0;
    if (!c || bl_kafka_consumer_subscribe(c, topics, 1, &err) != 0) {
        bl_kafka_consumer_free(c);
        return 0;
    }
    for (int polls = 0; n < want && polls < 300; polls++) {
        bl_kafka_msg *m = NULL;
        if (bl_kafka_consumer_poll(c, 100, &m, &err) != 1)
            continue;
        size_t len = 0, klen = 0, hlen = 0;
        const void *v = bl_kafka_msg_value(m, &len);
        const void *k = bl_kafka_msg_key(m, &klen);
        const void *h = NULL;
        if (strncmp(fx->topic + strlen(fx->prefix), "commands.", 9) == 0) {
            envs[n] = bl_domain_codec_decode_command(fx->codec, v, len, &err);
        } else {
            avro_value_t value;
            const bl_avro_schema *writer = NULL;
            envs[n] = NULL;
            if (bl_codec_decode(bl_domain_codec_cache(fx->codec), v, len, &value, &writer, &err) == 0) {
                envs[n] = bl_avro_to_json(writer, &value, BL_AVRO_JSON_PLAIN, &err);
                avro_value_decref(&value);
            }
        }
        if (!envs[n])
            fprintf(stderr, "  decode: %s\n", err.msg);
        snprintf(keys[n], 64, "%.*s", (int)klen, k ? (const char *)k : "");
        if (bl_kafka_msg_header(m, "ce_id", &h, &hlen) == 0)
            snprintf(ce_ids[n], 64, "%.*s", (int)hlen, (const char *)h);
        else
            ce_ids[n][0] = '\0';
        bl_kafka_msg_release(m);
        n++;
    }
    bl_kafka_consumer_close(c, &err);
    bl_kafka_consumer_free(c);
    return n;
}

static void bus_command_lands_once_though_run_twice_with_its_key(void)
{
    bus_fx fx;
    REQUIRE(fx_start(&fx, 0, NULL) == 0);
    json_t *in = RISK_INPUT("R-7");
    bl_call_result r1, r2;
    bl_err err = {0};
    CHECK_EQ_INT(bl_call_run(fx.runner, fx.call, in, "order-42", &r1, &err), 0);
    CHECK_EQ_INT(r1.status, 202);
    CHECK_EQ_INT(r1.attempts, 1);
    CHECK_EQ_STR(json_string_value(json_object_get(r1.body, "topic")), fx.topic);
    /* the caller retries with the same key: answered from the first produce */
    CHECK_EQ_INT(bl_call_run(fx.runner, fx.call, in, "order-42", &r2, &err), 0);
    CHECK_EQ_INT(r2.attempts, 0);
    CHECK_EQ_STR(json_string_value(json_object_get(r2.body, "id")), json_string_value(json_object_get(r1.body, "id")));
    CHECK_EQ_INT(topic_messages(&fx), 1);
    json_t *envs[2] = {0};
    char keys[2][64], ce_ids[2][64];
    REQUIRE(read_envelopes(&fx, 1, envs, keys, ce_ids) == 1);
    REQUIRE(envs[0] != NULL);
    char seed[256], want_id[BL_UUID_SIZE];
    snprintf(seed, sizeof seed, "calls:org-bus/raise-risk:order-42");
    REQUIRE(bl_uuid_derived(seed, want_id, &err) == 0);
    CHECK_EQ_STR(json_string_value(json_object_get(envs[0], "id")), want_id);
    CHECK_EQ_STR(ce_ids[0], want_id);
    CHECK_EQ_STR(json_string_value(json_object_get(envs[0], "idempotency_key")), "order-42");
    CHECK_EQ_STR(json_string_value(json_object_get(envs[0], "type")), "risk.create");
    CHECK_EQ_STR(json_string_value(json_object_get(envs[0], "organization_id")), "org-bus");
    CHECK_EQ_STR(json_string_value(json_object_get(envs[0], "actor")), "endpoint:risks");
    CHECK_EQ_STR(json_string_value(json_object_get(envs[0], "subject")), "R-7");
    CHECK_EQ_STR(keys[0], "R-7");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(envs[0], "data"), "severity")), "HIGH");
    json_decref(envs[0]);
    bl_call_result_clear(&r1);
    bl_call_result_clear(&r2);
    json_decref(in);
    fx_stop(&fx);
}

/* Acknowledgements slower than the call's timeout (a long linger): every
 * retry waits for the first produce again instead of sending a copy. */
static void bus_command_retried_after_timeouts_lands_once(void)
{
    bus_fx fx;
    REQUIRE(fx_start(&fx, 400, ",\"timeout\":50,\"retryPolicy\":{\"maxAttempts\":10,\"backoffStrategy\":\"fixed\","
                               "\"baseDelay\":200}") == 0);
    json_t *in = RISK_INPUT("R-8");
    bl_call_result r;
    bl_err err = {0};
    /* the first produce of a fresh producer also waits for its producer id: warm it */
    CHECK_EQ_INT(bl_call_run(fx.runner, fx.call, in, "warm-1", &r, &err), 0);
    bl_call_result_clear(&r);
    CHECK_EQ_INT(bl_call_run(fx.runner, fx.call, in, "slow-1", &r, &err), 0);
    if (err.code)
        fprintf(stderr, "  run: %s\n", err.msg);
    CHECK(r.attempts >= 2);
    CHECK_EQ_INT(r.status, 202);
    CHECK_EQ_INT(topic_messages(&fx), 2);
    bl_call_result_clear(&r);
    json_decref(in);
    fx_stop(&fx);
}

static void bus_batch_queues_every_message_before_waiting(void)
{
    bus_fx fx;
    REQUIRE(fx_start(&fx, 50, NULL) == 0);
    enum { N = 5 };
    json_t *ins[N];
    const char *keys[N] = {"b-0", "b-1", "b-2", "b-3", "b-4"};
    char id[16];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "RB-%d", i);
        ins[i] = RISK_INPUT(id);
    }
    bl_call_result outs[N];
    bl_err err = {0};
    CHECK_EQ_INT(bl_call_run_batch(fx.runner, fx.call, (const json_t *const *)ins, keys, N, outs, &err), N);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(outs[i].status, 202);
        CHECK_EQ_INT(outs[i].attempts, 1);
        bl_call_result_clear(&outs[i]);
    }
    CHECK_EQ_INT(topic_messages(&fx), N);
    /* run again with the same keys: nothing more lands */
    CHECK_EQ_INT(bl_call_run_batch(fx.runner, fx.call, (const json_t *const *)ins, keys, N, outs, &err), N);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(outs[i].attempts, 0);
        bl_call_result_clear(&outs[i]);
    }
    CHECK_EQ_INT(topic_messages(&fx), N);
    for (int i = 0; i < N; i++)
        json_decref(ins[i]);
    fx_stop(&fx);
}

/* An event of the catalog, its data mapped from the input by a template
 * (a lone placeholder keeps the input value's type). */
static void bus_event_lands_with_mapped_data(void)
{
    bus_fx fx;
    REQUIRE(fx_start_on(&fx, 0, "events.pmo.risk", "risk.escalated",
                        ",\"data\":{\"risk_id\":\"{risk_id}\",\"project_id\":\"{project.id}\",\"project_name\":"
                        "\"{project.name}\",\"title\":\"Risk {risk_id} escalated\",\"description\":\"d\","
                        "\"previous_severity\":\"MEDIUM\",\"severity\":\"{severity}\",\"probability\":\"{p}\","
                        "\"impact\":80,\"mitigation\":null,\"reason\":\"{why}\"}") == 0);
    json_t *in = json_pack("{s:s, s:{s:s, s:s}, s:s, s:i, s:s}", "risk_id", "R-E", "project", "id", "P9", "name",
                           "Apollo", "severity", "CRITICAL", "p", 70, "why", "vendor late");
    bl_call_result r;
    bl_err err = {0};
    CHECK_EQ_INT(bl_call_run(fx.runner, fx.call, in, "a1b2c3d4-0000-4000-8000-000000000001", &r, &err), 0);
    if (err.code)
        fprintf(stderr, "  run: %s\n", err.msg);
    CHECK_EQ_INT(topic_messages(&fx), 1);
    json_t *envs[1] = {0};
    char keys[1][64], ce_ids[1][64];
    REQUIRE(read_envelopes(&fx, 1, envs, keys, ce_ids) == 1);
    REQUIRE(envs[0] != NULL);
    /* a key that is a UUID is the id itself */
    CHECK_EQ_STR(json_string_value(json_object_get(envs[0], "id")), "a1b2c3d4-0000-4000-8000-000000000001");
    CHECK_EQ_STR(ce_ids[0], "a1b2c3d4-0000-4000-8000-000000000001");
    CHECK_EQ_STR(json_string_value(json_object_get(envs[0], "type")), "risk.escalated");
    CHECK_EQ_STR(keys[0], "R-E");
    json_t *data = json_object_get(envs[0], "data");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "project_id")), "P9");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "title")), "Risk R-E escalated");
    CHECK_EQ_INT(json_integer_value(json_object_get(data, "probability")), 70);
    CHECK_EQ_STR(json_string_value(json_object_get(data, "reason")), "vendor late");
    json_decref(envs[0]);
    bl_call_result_clear(&r);
    json_decref(in);
    fx_stop(&fx);
}

static void bus_data_the_schema_refuses_is_an_error_naming_the_path(void)
{
    bus_fx fx;
    REQUIRE(fx_start(&fx, 0, NULL) == 0);
    json_t *in = RISK_INPUT("R-9");
    json_object_set_new(in, "severity", json_string("APOCALYPTIC"));
    bl_call_result r;
    bl_err err = {0};
    CHECK_EQ_INT(bl_call_run(fx.runner, fx.call, in, "bad-1", &r, &err), -1);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK(strstr(err.msg, "severity") != NULL);
    CHECK_EQ_INT(topic_messages(&fx), 0);
    bl_call_result_clear(&r);
    json_decref(in);
    fx_stop(&fx);
}

int main(void)
{
    if (bl_test_registry_start(&reg) != 0) {
        bl_test_registry_stop(&reg);
        return 1;
    }
    BL_RUN(bus_command_lands_once_though_run_twice_with_its_key);
    BL_RUN(bus_command_retried_after_timeouts_lands_once);
    BL_RUN(bus_batch_queues_every_message_before_waiting);
    BL_RUN(bus_event_lands_with_mapped_data);
    BL_RUN(bus_data_the_schema_refuses_is_an_error_naming_the_path);
    bl_test_registry_stop(&reg);
    return bl_test_summary();
}
