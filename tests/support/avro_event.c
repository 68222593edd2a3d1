/* One Avro event onto a test topic (see avro_event.h). */
#include "tests/support/avro_event.h"

#include "core/kafka_producer.h"
#include "schemas/catalog.h"
#include "schemas/codec.h"
#include "schemas/registry_client.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The envelope encoded for topic; a malloc'd message or NULL with err. */
static uint8_t *encode(const char *registry_url, const char *catalog_topic, const char *topic, const char *union_hint,
                       const json_t *envelope, size_t *len, bl_err *err)
{
    uint8_t *out = NULL;
    bl_catalog *cat = bl_catalog_load(bl_catalog_default_dir(), err);
    const bl_catalog_topic *t = cat ? bl_catalog_topic_find(cat, catalog_topic, err) : NULL;
    bl_registry_client *client = t ? bl_registry_client_new(registry_url, 0, err) : NULL;
    char subject[256];
    snprintf(subject, sizeof subject, "%s-value", topic);
    int id = 0;
    bl_avro_schema *schema = NULL;
    avro_value_t value;
    int have_value = 0;
    if (!client || bl_registry_client_register(client, subject, t->schema_json, &id, err) != 0 ||
        !(schema = bl_avro_schema_parse(t->schema_json, strlen(t->schema_json), err)) ||
        bl_avro_value_new(schema, &value, err) != 0)
        goto done;
    have_value = 1;
    bl_avro_json_opts opts = {.mode = BL_AVRO_JSON_PLAIN, .union_hint = union_hint};
    if (bl_avro_from_json(schema, envelope, &opts, &value, err) != 0 ||
        bl_codec_encode(id, &value, &out, len, err) != 0)
        out = NULL;
done:
    if (have_value)
        avro_value_decref(&value);
    bl_avro_schema_free(schema);
    bl_registry_client_free(client);
    bl_catalog_free(cat);
    return out;
}

int bl_test_produce_avro_event(const char *registry_url, const char *catalog_topic, const char *topic,
                               const char *union_hint, const json_t *envelope)
{
    bl_err err = {0};
    size_t len = 0;
    uint8_t *msg = encode(registry_url, catalog_topic, topic, union_hint, envelope, &len, &err);
    const char *id = json_string_value(json_object_get(envelope, "id"));
    const char *type = json_string_value(json_object_get(envelope, "type"));
    const char *source = json_string_value(json_object_get(envelope, "source"));
    const char *key = json_string_value(json_object_get(envelope, "subject"));
    bl_kafka_producer *p = NULL;
    int rc = -1;
    if (!msg || !id || !type || !source || !key)
        goto done;
    p = bl_kafka_producer_new(bl_test_kafka_brokers(), NULL, NULL, NULL, &err);
    bl_kafka_header h[] = {
        {"ce_id", id, strlen(id)},
        {"ce_type", type, strlen(type)},
        {"ce_source", source, strlen(source)},
        {"content-type", "application/avro", 16},
    };
    rc = p ? bl_kafka_producer_send_sync(p, topic, key, strlen(key), msg, len, h, 4, 10000, NULL, NULL, &err) : -1;
done:
    if (rc != 0)
        fprintf(stderr, "  produce to %s: %s\n", topic, err.msg[0] ? err.msg : "envelope lacks id/type/source/subject");
    bl_kafka_producer_free(p, 1000);
    free(msg);
    return rc;
}
