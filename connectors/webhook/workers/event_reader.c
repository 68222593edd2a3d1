/* Event messages to webhook bodies (see event_reader.h). */
#include "connectors/webhook/workers/event_reader.h"

#include "connectors/webhook/workers/payload.h"
#include "connectors/webhook/workers/smartleakpro_payload.h"
#include "connectors/webhook/policy/signature.h"
#include "schemas/avro_json.h"

#include <stdlib.h>
#include <string.h>

void bl_webhook_event_clear(bl_webhook_event *ev)
{
    json_decref(ev->envelope);
    free(ev->body);
    memset(ev, 0, sizeof *ev);
}

/* Plain mode writes timestamp-millis as RFC 3339; the body wants unix ms. */
static int put_time_ms(avro_value_t *value, json_t *envelope, bl_err *err)
{
    avro_value_t field;
    int64_t ms = 0;
    if (avro_value_get_by_name(value, "time", &field, NULL) != 0 || avro_value_get_long(&field, &ms) != 0)
        return bl_err_set(err, BL_EINVAL, "event: envelope has no long field time");
    if (json_object_set_new(envelope, "time", json_integer((json_int_t)ms)) != 0)
        return bl_err_set(err, BL_ENOMEM, "event: out of memory");
    return 0;
}

int bl_webhook_event_read(bl_schema_cache *schemas, const bl_kafka_msg *m, bl_webhook_event *out,
                          bl_err *err)
{
    memset(out, 0, sizeof *out);
    size_t len = 0;
    const uint8_t *bytes = bl_kafka_msg_value(m, &len);
    if (!bytes)
        return bl_err_set(err, BL_EINVAL, "event: empty value");
    avro_value_t value;
    const bl_avro_schema *writer = NULL;
    if (bl_codec_decode(schemas, bytes, len, &value, &writer, err) != 0)
        return -1;
    out->envelope = bl_avro_to_json(writer, &value, BL_AVRO_JSON_PLAIN, err);
    int rc = out->envelope ? put_time_ms(&value, out->envelope, err) : -1;
    avro_value_decref(&value);
    if (rc != 0) {
        if (err)
            err->code = BL_EINVAL;
        goto fail;
    }
    out->type = json_string_value(json_object_get(out->envelope, "type"));
    out->org = json_string_value(json_object_get(out->envelope, "organization_id"));
    const void *v = NULL;
    size_t vlen = 0;
    if (bl_kafka_msg_header(m, "ce_id", &v, &vlen) == 0 && v && vlen > 0 && vlen < sizeof out->id_buf) {
        memcpy(out->id_buf, v, vlen);
        out->id_buf[vlen] = '\0';
    } else {
        const char *id = json_string_value(json_object_get(out->envelope, "id"));
        snprintf(out->id_buf, sizeof out->id_buf, "%s", id ? id : "");
    }
    out->id = out->id_buf;
    if (!out->type || !out->org || bl_webhook_msg_id_check(out->id, err) != 0) {
        bl_err_set(err, BL_EINVAL, "event: envelope lacks a usable id, type or organization_id");
        goto fail;
    }
    if (!(out->body = bl_webhook_payload_build(out->envelope, &out->body_len, err)))
        goto fail;
    return 0;
fail:
    bl_webhook_event_clear(out);
    return -1;
}

bl_webhook_delivery bl_webhook_event_delivery(const bl_webhook_event *ev, const bl_kafka_msg *m,
                                              const char *endpoint_id)
{
    size_t key_len = 0;
    const void *key = bl_kafka_msg_key(m, &key_len);
    return (bl_webhook_delivery){
        .endpoint_id = endpoint_id,
        .event_id = ev->id,
        .event_type = ev->type,
        .organization_id = ev->org,
        .source_topic = bl_kafka_msg_topic(m),
        .source_partition = bl_kafka_msg_partition(m),
        .source_offset = bl_kafka_msg_offset(m),
        .body = ev->body,
        .body_len = ev->body_len,
        .event_key = key,
        .event_key_len = key_len,
    };
}

int bl_webhook_event_body_for(const bl_webhook_event *ev, const bl_webhook_endpoint *e, bl_webhook_delivery *d,
                              char **owned, bl_err *err)
{
    *owned = NULL;
    if (e->payload_format != BL_WEBHOOK_PAYLOAD_SMARTLEAKPRO)
        return 0;
    size_t len = 0;
    if (!(*owned = bl_slp_payload_build(ev->envelope, &len, err)))
        return -1;
    d->body = *owned;
    d->body_len = len;
    return 0;
}
