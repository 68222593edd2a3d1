/* Delivery messages on Kafka (see delivery.h). */
#include "connectors/webhook/workers/delivery.h"
#include "core/clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bl_webhook_delivery_send(bl_kafka_producer *p, const char *topic, const bl_webhook_delivery *d,
                             void *msg_opaque, int queue_timeout_ms, bl_err *err)
{
    if (!d->endpoint_id || !d->event_id || !d->event_type || !d->organization_id || !d->body)
        return bl_err_set(err, BL_EINVAL, "delivery: endpoint, event id, type, org and body are required");
    char part[16], off[24], enq[24];
    snprintf(part, sizeof part, "%" PRId32, d->source_partition);
    snprintf(off, sizeof off, "%" PRId64, d->source_offset);
    snprintf(enq, sizeof enq, "%" PRId64, bl_clock_wall_ms());
    bl_kafka_header hs[9];
    size_t n = 0;
    hs[n++] = (bl_kafka_header){"ce_id", d->event_id, strlen(d->event_id)};
    hs[n++] = (bl_kafka_header){"ce_type", d->event_type, strlen(d->event_type)};
    hs[n++] = (bl_kafka_header){BL_WH_HDR_ORG, d->organization_id, strlen(d->organization_id)};
    hs[n++] = (bl_kafka_header){BL_WH_HDR_ENQUEUED_AT, enq, strlen(enq)};
    if (d->source_topic) {
        hs[n++] = (bl_kafka_header){BL_WH_HDR_SOURCE_TOPIC, d->source_topic, strlen(d->source_topic)};
        hs[n++] = (bl_kafka_header){BL_WH_HDR_SOURCE_PARTITION, part, strlen(part)};
        hs[n++] = (bl_kafka_header){BL_WH_HDR_SOURCE_OFFSET, off, strlen(off)};
    }
    if (d->replay_job)
        hs[n++] = (bl_kafka_header){BL_WH_HDR_REPLAY_JOB, d->replay_job, strlen(d->replay_job)};
    if (d->event_key && d->event_key_len > 0 && d->event_key_len <= BL_WH_EVENT_KEY_MAX)
        hs[n++] = (bl_kafka_header){BL_WH_HDR_EVENT_KEY, d->event_key, d->event_key_len};
    return bl_kafka_producer_send(p, topic ? topic : BL_WEBHOOK_DELIVERIES_TOPIC, d->endpoint_id,
                                  strlen(d->endpoint_id), d->body, d->body_len, hs, n, msg_opaque,
                                  queue_timeout_ms, err);
}

/* Copies header key of m into out (cap bytes). required: absent is an error. */
static int copy_header(const bl_kafka_msg *m, const char *key, char *out, size_t cap, int required,
                       bl_err *err)
{
    const void *v;
    size_t len;
    out[0] = '\0';
    if (bl_kafka_msg_header(m, key, &v, &len) != 0 || !v) {
        if (required)
            return bl_err_set(err, BL_EINVAL, "delivery: header %s missing", key);
        return 0;
    }
    if (len >= cap || memchr(v, '\0', len))
        return bl_err_set(err, BL_EINVAL, "delivery: header %s too long or not text", key);
    memcpy(out, v, len);
    out[len] = '\0';
    return 0;
}

static int64_t header_int(const bl_kafka_msg *m, const char *key, int64_t def)
{
    char buf[24];
    if (copy_header(m, key, buf, sizeof buf, 0, NULL) != 0 || !buf[0])
        return def;
    char *end = NULL;
    long long v = strtoll(buf, &end, 10);
    return end && *end == '\0' ? (int64_t)v : def;
}

int bl_webhook_delivery_parse(const bl_kafka_msg *m, bl_webhook_delivery_view *out, bl_err *err)
{
    memset(out, 0, offsetof(bl_webhook_delivery_view, body));
    size_t key_len = 0;
    const void *key = bl_kafka_msg_key(m, &key_len);
    if (!key || key_len == 0 || key_len > BL_WEBHOOK_ID_MAX || memchr(key, '\0', key_len))
        return bl_err_set(err, BL_EINVAL, "delivery: key is not an endpoint id");
    memcpy(out->endpoint_id, key, key_len);
    out->endpoint_id[key_len] = '\0';
    if (copy_header(m, "ce_id", out->event_id, sizeof out->event_id, 1, err) != 0 ||
        copy_header(m, "ce_type", out->event_type, sizeof out->event_type, 1, err) != 0 ||
        copy_header(m, BL_WH_HDR_ORG, out->organization_id, sizeof out->organization_id, 1, err) != 0 ||
        copy_header(m, BL_WH_HDR_SOURCE_TOPIC, out->source_topic, sizeof out->source_topic, 0, err) != 0 ||
        copy_header(m, BL_WH_HDR_REPLAY_JOB, out->replay_job, sizeof out->replay_job, 0, err) != 0)
        return -1;
    out->source_partition = (int32_t)header_int(m, BL_WH_HDR_SOURCE_PARTITION, -1);
    out->source_offset = header_int(m, BL_WH_HDR_SOURCE_OFFSET, -1);
    out->enqueued_at_ms = header_int(m, BL_WH_HDR_ENQUEUED_AT, 0);
    const void *ek = NULL;
    size_t ek_len = 0;
    out->event_key_len = 0;
    if (bl_kafka_msg_header(m, BL_WH_HDR_EVENT_KEY, &ek, &ek_len) == 0 && ek && ek_len <= BL_WH_EVENT_KEY_MAX) {
        memcpy(out->event_key, ek, ek_len);
        out->event_key_len = ek_len;
    }
    out->body = bl_kafka_msg_value(m, &out->body_len);
    if (!out->body || out->body_len == 0)
        return bl_err_set(err, BL_EINVAL, "delivery: empty body");
    return 0;
}
