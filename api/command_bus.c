#include "api/command_bus.h"

#include "schemas/avro_json.h"
#include "schemas/codec.h"
#include "schemas/registry_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct command_topic {
    const bl_catalog_topic *topic;
    char *deployed;
    int32_t schema_id;
    bl_avro_schema *schema;
} command_topic;

struct bl_api_command_bus {
    bl_catalog *catalog;
    command_topic *topics;
    size_t topic_count;
    bl_kafka_producer *producer;
    int ack_timeout_ms;
};

static int prepare_topic(command_topic *ct, const bl_catalog_topic *t, const char *prefix,
                         bl_registry_client *rc, bl_err *err)
{
    ct->topic = t;
    size_t n = strlen(prefix) + strlen(t->name) + 1;
    if (!(ct->deployed = malloc(n)))
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    snprintf(ct->deployed, n, "%s%s", prefix, t->name);
    if (!(ct->schema = bl_avro_schema_parse(t->schema_json, strlen(t->schema_json), err)))
        return bl_err_wrap(err, "api: schema of %s", t->name);
    if (!rc)
        return 0;
    char subject[300];
    snprintf(subject, sizeof subject, "%s-value", ct->deployed);
    int id = 0;
    if (bl_registry_client_register(rc, subject, t->schema_json, &id, err) != 0)
        return bl_err_wrap(err, "api: register %s", subject);
    ct->schema_id = id;
    return 0;
}

bl_api_command_bus *bl_api_command_bus_new(const bl_api_command_bus_opts *opts, bl_err *err)
{
    bl_api_command_bus *b = calloc(1, sizeof *b);
    bl_registry_client *rc = NULL;
    if (!b) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        return NULL;
    }
    b->ack_timeout_ms = opts->ack_timeout_ms > 0 ? opts->ack_timeout_ms : 10000;
    b->catalog = bl_catalog_load(opts->schemas_dir ? opts->schemas_dir : bl_catalog_default_dir(), err);
    if (!b->catalog)
        goto fail;
    size_t n = bl_catalog_topic_count(b->catalog);
    if (!(b->topics = calloc(n ? n : 1, sizeof *b->topics))) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        goto fail;
    }
    if (opts->registry_url && opts->brokers &&
        !(rc = bl_registry_client_new(opts->registry_url, 0, err)))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const bl_catalog_topic *t = bl_catalog_topic_at(b->catalog, i);
        if (t->kind != BL_MSG_COMMAND)
            continue;
        if (prepare_topic(&b->topics[b->topic_count++], t, opts->topic_prefix ? opts->topic_prefix : "",
                          rc, err) != 0)
            goto fail;
    }
    if (rc && !(b->producer = bl_kafka_producer_new(opts->brokers, NULL, NULL, NULL, err)))
        goto fail;
    bl_registry_client_free(rc);
    return b;
fail:
    bl_registry_client_free(rc);
    bl_api_command_bus_free(b);
    return NULL;
}

void bl_api_command_bus_free(bl_api_command_bus *b)
{
    if (!b)
        return;
    bl_kafka_producer_free(b->producer, 5000);
    for (size_t i = 0; i < b->topic_count; i++) {
        free(b->topics[i].deployed);
        bl_avro_schema_free(b->topics[i].schema);
    }
    free(b->topics);
    bl_catalog_free(b->catalog);
    free(b);
}

const bl_catalog *bl_api_command_bus_catalog(const bl_api_command_bus *b)
{
    return b->catalog;
}

bool bl_api_command_bus_can_send(const bl_api_command_bus *b)
{
    return b->producer != NULL;
}

static const command_topic *topic_of(const bl_api_command_bus *b, const bl_catalog_msg *msg)
{
    for (size_t i = 0; i < b->topic_count; i++)
        if (strcmp(b->topics[i].topic->name, msg->topic) == 0)
            return &b->topics[i];
    return NULL;
}

const char *bl_api_command_bus_topic(const bl_api_command_bus *b, const bl_catalog_msg *msg)
{
    const command_topic *ct = topic_of(b, msg);
    return ct ? ct->deployed : NULL;
}

const json_t *bl_api_command_bus_schema_json(const bl_api_command_bus *b, const bl_catalog_msg *msg)
{
    const command_topic *ct = topic_of(b, msg);
    return ct ? bl_avro_schema_json(ct->schema) : NULL;
}

int bl_api_command_bus_encode(bl_api_command_bus *b, const bl_catalog_msg *msg,
                              const json_t *envelope, uint8_t **bytes, size_t *len, bl_err *err)
{
    const command_topic *ct = topic_of(b, msg);
    if (!ct)
        return bl_err_set(err, BL_ENOTFOUND, "api: no command topic for %s", msg->type);
    avro_value_t value;
    if (bl_avro_value_new(ct->schema, &value, err) != 0)
        return -1;
    bl_avro_json_opts opts = {.mode = BL_AVRO_JSON_PLAIN, .union_hint = msg->record_name};
    int rc = bl_avro_from_json(ct->schema, envelope, &opts, &value, err);
    if (rc != 0)
        err->code = BL_EINVAL;
    else
        rc = bl_codec_encode(ct->schema_id, &value, bytes, len, err);
    avro_value_decref(&value);
    return rc;
}

int bl_api_command_bus_send(bl_api_command_bus *b, const bl_catalog_msg *msg, const char *key,
                            const uint8_t *bytes, size_t len, const bl_kafka_header *headers,
                            size_t n_headers, bl_err *err)
{
    const command_topic *ct = topic_of(b, msg);
    if (!b->producer || !ct)
        return bl_err_set(err, BL_EINVAL, "api: commands cannot be sent (no brokers or registry)");
    return bl_kafka_producer_send_sync(b->producer, ct->deployed, key, strlen(key), bytes, len,
                                       headers, n_headers, b->ack_timeout_ms, NULL, NULL, err);
}
