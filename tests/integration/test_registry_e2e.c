/* End to end with an independent Avro implementation: the catalog's
 * events.pmo.risk-value schema is registered, a risk.escalated envelope is
 * encoded with schemas/codec and produced to a fresh topic on the real
 * broker; kcat reads the raw bytes back and Apache Avro's Python decoder,
 * given only those bytes and the registry URL, decodes them. */
#include "core/kafka_admin.h"
#include "core/kafka_producer.h"
#include "schemas/catalog.h"
#include "schemas/codec.h"
#include "schemas/registry_client.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/test.h"

#include <unistd.h>

static const char *const ENVELOPE =
    "{\"id\":\"evt-1\",\"type\":\"risk.escalated\",\"time\":1767225600000,"
    "\"source\":\"pmo\",\"organization_id\":\"org-1\",\"subject\":\"risk-42\","
    "\"data\":{\"risk_id\":\"risk-42\",\"project_id\":\"prj-7\",\"project_name\":\"Apollo\","
    "\"title\":\"Supplier may slip\",\"description\":\"The supplier lost a key engineer\","
    "\"previous_severity\":\"MEDIUM\",\"severity\":\"CRITICAL\",\"probability\":70,\"impact\":90,"
    "\"mitigation\":null,\"reason\":\"second warning\"}}";

/* Encodes ENVELOPE under schema id with the topic schema into *msg. */
static int encode_envelope(const char *schema_json, int id, uint8_t **msg, size_t *len, bl_err *err)
{
    bl_avro_schema *s = bl_avro_schema_parse(schema_json, strlen(schema_json), err);
    if (!s)
        return -1;
    avro_value_t value;
    int rc = bl_avro_value_new(s, &value, err);
    if (rc == 0) {
        bl_avro_json_opts opts = {.mode = BL_AVRO_JSON_PLAIN, .union_hint = "busline.events.pmo.RiskEscalated"};
        rc = bl_avro_from_json_text(s, ENVELOPE, strlen(ENVELOPE), &opts, &value, err);
        if (rc == 0)
            rc = bl_codec_encode(id, &value, msg, len, err);
        avro_value_decref(&value);
    }
    bl_avro_schema_free(s);
    return rc;
}

/* Runs cmd and reads its whole stdout into out (len bytes). Returns 0 when it exits 0. */
static int run_capture(const char *cmd, char *out, size_t len)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    return pclose(p) == 0 ? 0 : -1;
}

static void python_decodes_what_busline_produced(void)
{
    bl_test_registry reg;
    bl_err err = {0};
    bl_catalog *cat = NULL;
    bl_registry_client *client = NULL;
    bl_kafka_admin *admin = NULL;
    bl_kafka_producer *producer = NULL;
    uint8_t *msg = NULL;
    size_t len = 0;
    char topic[96] = "", file[] = "/tmp/bl_registry_e2e_XXXXXX";
    int fd = -1;
    if (bl_test_registry_start(&reg) != 0)
        goto done;
    cat = bl_catalog_load(bl_catalog_default_dir(), &err);
    const bl_catalog_topic *t = cat ? bl_catalog_topic_find(cat, "events.pmo.risk", &err) : NULL;
    client = bl_registry_client_new(reg.base_url, 0, &err);
    int id = 0;
    CHECK(t && client);
    if (!t || !client || bl_registry_client_register(client, t->subject, t->schema_json, &id, &err) != 0 ||
        encode_envelope(t->schema_json, id, &msg, &len, &err) != 0) {
        fprintf(stderr, "  %s\n", err.msg);
        CHECK(0);
        goto done;
    }

    bl_test_unique_name(topic, sizeof topic, "registry_e2e");
    bl_kafka_topic_spec spec = {.name = topic, .partitions = 1, .replication_factor = -1};
    const char *names[] = {topic};
    admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    producer = admin ? bl_kafka_producer_new(bl_test_kafka_brokers(), NULL, NULL, NULL, &err) : NULL;
    if (!producer || bl_kafka_admin_create_topics(admin, &spec, 1, 30000, &err) != 0 ||
        bl_kafka_admin_wait_visible(admin, names, 1, 30000, &err) != 0 ||
        bl_kafka_producer_send_sync(producer, topic, "risk-42", 7, msg, len, NULL, 0, 30000, NULL, NULL,
                                    &err) != 0) {
        fprintf(stderr, "  %s\n", err.msg);
        CHECK(0);
        goto done;
    }

    fd = mkstemp(file);
    REQUIRE(fd >= 0);
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof cmd, "kcat -C -b %s -t %s -o beginning -c 1 -e -q -f '%%s' > %s",
             bl_test_kafka_brokers(), topic, file);
    CHECK_EQ_INT(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/integration/decode_independent.py %s %s",
             BUSLINE_SOURCE_DIR, file, reg.base_url);
    CHECK_EQ_INT(run_capture(cmd, out, sizeof out), 0);
    json_t *decoded = json_loads(out, 0, NULL);
    if (!decoded)
        fprintf(stderr, "  decoder said: %s\n", out);
    REQUIRE(decoded);
    json_t *value = json_object_get(decoded, "value");
    json_t *data = json_object_get(value, "data");
    CHECK_EQ_INT(json_integer_value(json_object_get(decoded, "schema_id")), id);
    CHECK_EQ_STR(json_string_value(json_object_get(value, "type")), "risk.escalated");
    CHECK_EQ_STR(json_string_value(json_object_get(value, "subject")), "risk-42");
    CHECK_EQ_INT(json_integer_value(json_object_get(value, "time")), 1767225600000LL);
    CHECK_EQ_STR(json_string_value(json_object_get(data, "severity")), "CRITICAL");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "previous_severity")), "MEDIUM");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "title")), "Supplier may slip");
    CHECK_EQ_INT(json_integer_value(json_object_get(data, "impact")), 90);
    CHECK(json_is_null(json_object_get(data, "mitigation")));
    CHECK_EQ_STR(json_string_value(json_object_get(data, "reason")), "second warning");
    json_decref(decoded);
done:
    if (fd >= 0) {
        close(fd);
        unlink(file);
    }
    if (admin && topic[0]) {
        const char *del[] = {topic};
        bl_kafka_admin_delete_topics(admin, del, 1, 30000, &err);
    }
    bl_kafka_producer_free(producer, 5000);
    bl_kafka_admin_free(admin);
    free(msg);
    bl_registry_client_free(client);
    bl_catalog_free(cat);
    bl_test_registry_stop(&reg);
}

int main(void)
{
    BL_RUN(python_decodes_what_busline_produced);
    return bl_test_summary();
}
