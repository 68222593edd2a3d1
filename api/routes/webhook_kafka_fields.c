/* The "type" and "kafka" fields of a webhook endpoint body (see
 * webhook_kafka_fields.h). */
#include "api/routes/webhook_kafka_fields.h"

#include <string.h>

enum { TYPE_UNSET = 0, TYPE_HTTP, TYPE_KAFKA };

void bl_api_webhook_type_read(const json_t *v, bl_api_webhook_spec_buf *out, json_t *errors)
{
    const char *t = json_string_value(v);
    if (t && strcmp(t, "http") == 0)
        out->destination_type = TYPE_HTTP;
    else if (t && strcmp(t, "kafka") == 0)
        out->destination_type = TYPE_KAFKA;
    else
        json_object_set_new(errors, "type", json_string("\"http\" (POST to url) or \"kafka\" (produce to kafka.topic)"));
}

void bl_api_webhook_kafka_read(const json_t *v, bl_api_webhook_spec_buf *out, json_t *errors)
{
    out->kafka_given = 1;
    if (json_is_null(v))
        return;
    bl_err err = {0};
    if (bl_webhook_kafka_read_json(v, &out->kafka, out->kafka_brokers, sizeof out->kafka_brokers,
                                   &out->spec.kafka_sasl_password, &err) != 0) {
        json_object_set_new(errors, "kafka", json_string(err.msg));
        return;
    }
    out->kafka_read = 1;
}

void bl_api_webhook_kafka_finish(const json_t *body, const bl_webhook_endpoint *base, bl_api_webhook_spec_buf *out,
                                 json_t *errors)
{
    if (json_object_get(errors, "kafka") || json_object_get(errors, "type"))
        return;
    int type = out->destination_type;
    if (type == TYPE_UNSET)
        type = out->kafka_read ? TYPE_KAFKA : base && base->kafka ? TYPE_KAFKA : TYPE_HTTP;
    if (type == TYPE_HTTP) {
        if (out->kafka_read)
            json_object_set_new(errors, "kafka", json_string("only with \"type\": \"kafka\""));
        out->spec.kafka = NULL;
        if (base && base->kafka && !json_object_get(body, "url"))
            json_object_set_new(errors, "url", json_string("required when the type changes to \"http\""));
        return;
    }
    if (out->kafka_read)
        out->spec.kafka = &out->kafka;
    else if (out->kafka_given || !base || !base->kafka)
        json_object_set_new(errors, "kafka", json_string("required with \"type\": \"kafka\": {brokers, topic, ...}"));
    if (json_object_get(body, "url"))
        json_object_set_new(errors, "url", json_string("not with \"type\": \"kafka\" (the destination is kafka.brokers and kafka.topic)"));
}
