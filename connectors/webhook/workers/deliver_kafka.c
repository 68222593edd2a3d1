/* One delivery attempt to a Kafka destination (see deliver_internal.h):
 * the webhook body produced to the endpoint's own cluster and topic, keyed
 * with the event's key, with the webhook's headers (webhook-id,
 * webhook-timestamp, webhook-signature, the endpoint's custom ones) and
 * webhook-type; the broker's ack is "delivered". A failed report goes
 * through the endpoint's retry policy like an HTTP failure: settings the
 * cluster refuses (authorization, authentication, an invalid topic, a
 * message too large) as a 4xx answer, everything else (timeouts, brokers
 * down) as a transport failure. */
#include "connectors/webhook/workers/deliver_internal.h"

#include "consumers/retry_policy.h"
#include "core/clock.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

#define KAFKA_PERMANENT_STATUS 400 /* "not retryable" for the retry policy */
#define BUSY_RETRY_MS 1000

/* What a failed report means to the retry policy. */
static bl_delivery_outcome outcome_of(int code)
{
    switch (code) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return (bl_delivery_outcome){.status = 200};
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
        return (bl_delivery_outcome){.status = KAFKA_PERMANENT_STATUS};
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        return (bl_delivery_outcome){.transport = BL_TRANSPORT_TIMEOUT};
    case RD_KAFKA_RESP_ERR__SSL:
        return (bl_delivery_outcome){.transport = BL_TRANSPORT_TLS};
    case RD_KAFKA_RESP_ERR__RESOLVE:
        return (bl_delivery_outcome){.transport = BL_TRANSPORT_DNS};
    default:
        return (bl_delivery_outcome){.transport = BL_TRANSPORT_CONNECT};
    }
}

void bl_deliver_kafka_report(void *opaque, int err_code, const char *err_msg, int32_t partition, int64_t offset,
                             void *ctx)
{
    bl_webhook_deliver *d = ctx;
    dl_job *j = opaque;
    j->in_kafka = 0;
    if (j->abandoned || d->kafka_closing) {
        bl_deliver_job_free(j); /* the runtime already let go of it */
        return;
    }
    int64_t now = bl_clock_wall_ms(), took = bl_clock_mono_ms() - j->sent_mono;
    bl_delivery_outcome out = outcome_of(err_code);
    bl_retry_decision dec = bl_retry_decide(&j->snap->retry, j->attempt, &out, now, bl_random_u32_os, NULL);
    bool ok = dec.action == BL_RETRY_DELIVERED;
    char what[160], resp[96];
    /* librdkafka's message for a failed produce is the payload itself: name
     * the code instead, never the body */
    (void)err_msg;
    snprintf(what, sizeof what, "kafka: %.140s", err_code ? rd_kafka_err2str(err_code) : "acknowledged");
    snprintf(resp, sizeof resp, "kafka: partition %d offset %lld", (int)partition, (long long)offset);
    atomic_fetch_add(&d->attempts, 1);
    bl_deliver_count_attempt(d, ok ? "delivered" : dec.action == BL_RETRY_LATER ? "retry" : "failed",
                             (double)took / 1e3);
    bl_deliver_log_attempt(d, j, true, 0, ok, ok ? resp : NULL, ok ? strlen(resp) : 0, ok ? NULL : what, took);
    bl_deliver_conclude(d, j, &dec, what, 0);
}

/* The webhook's "Name: value" lines as Kafka headers (borrowing from h)
 * plus webhook-type. Returns how many. */
static size_t kafka_headers(const bl_webhook_req_headers *h, const dl_job *j, char names[][BL_WEBHOOK_HEADER_NAME_MAX + 1],
                            bl_kafka_header *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < h->count && n + 1 < cap; i++) {
        const char *line = h->lines[i], *colon = strchr(line, ':');
        size_t len = colon ? (size_t)(colon - line) : 0;
        if (!colon || len == 0 || len > BL_WEBHOOK_HEADER_NAME_MAX)
            continue;
        memcpy(names[n], line, len);
        names[n][len] = '\0';
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        out[n] = (bl_kafka_header){names[n], v, strlen(v)};
        n++;
    }
    out[n++] = (bl_kafka_header){"webhook-type", j->v.event_type, strlen(j->v.event_type)};
    return n;
}

void bl_deliver_kafka_send(bl_webhook_deliver *d, dl_job *j)
{
    bl_err err = {0};
    int64_t now = bl_clock_wall_ms();
    const bl_webhook_endpoint *e = j->snap->endpoint;
    bl_webhook_rotation keys = bl_webhook_snapshot_keys(j->snap);
    /* the endpoint's transformation of the body, when it has one, is what is signed and sent */
    const char *body = j->body ? j->body : j->v.body;
    size_t body_len = j->body ? j->body_len : j->v.body_len;
    if (bl_webhook_req_headers_build(e, &keys, j->v.event_id, body, body_len, now / 1000, &d->headers,
                                     &err) != 0) {
        bl_deliver_log_attempt(d, j, false, 0, false, NULL, 0, err.msg, 0);
        bl_deliver_dead_letter(d, j, false, err.msg);
        return;
    }
    char names[BL_KAFKA_MAX_HEADERS][BL_WEBHOOK_HEADER_NAME_MAX + 1];
    bl_kafka_header hs[BL_KAFKA_MAX_HEADERS];
    size_t n = kafka_headers(&d->headers, j, names, hs, BL_KAFKA_MAX_HEADERS);
    j->sent_mono = bl_clock_mono_ms();
    j->in_kafka = 1;
    if (bl_kafka_sink_send(d->kafka, j->snap, j->v.event_key_len ? j->v.event_key : NULL, j->v.event_key_len,
                           body, body_len, hs, n, j, &err) == 0)
        return;
    j->in_kafka = 0;
    if (err.code == BL_ECONFLICT) {
        /* every producer busy: set aside without spending an attempt */
        atomic_fetch_add(&d->parked, 1);
        bl_deliver_count_attempt(d, "parked", -1);
        bl_deliver_finish(d, j, bl_outcome_park(BUSY_RETRY_MS, err.msg));
        return;
    }
    atomic_fetch_add(&d->attempts, 1);
    bl_deliver_log_attempt(d, j, false, 0, false, NULL, 0, err.msg, 0);
    if (err.code == BL_EINVAL) {
        /* refused settings or broker address: retrying cannot help */
        bl_deliver_count_attempt(d, "refused", -1);
        bl_log_warn("deliver: Kafka destination refused", BL_FS("endpoint_id", j->v.endpoint_id),
                    BL_FS("error", err.msg));
        bl_deliver_dead_letter(d, j, true, err.msg);
        return;
    }
    bl_deliver_count_attempt(d, "failed", -1);
    bl_delivery_outcome out = {.transport = BL_TRANSPORT_CONNECT};
    bl_retry_decision dec = bl_retry_decide(&j->snap->retry, j->attempt, &out, now, bl_random_u32_os, NULL);
    bl_deliver_conclude(d, j, &dec, "kafka", 0);
}
