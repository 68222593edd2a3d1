/* One webhook delivery as it travels on Kafka: what the fan-out produces to
 * `deliveries.webhook` and the delivery workers (and their retry tiers and
 * dead-letter topic) read.
 *
 * Shape (chosen so a retry or a replay re-sends exactly the same bytes):
 *   key     = endpoint id (one endpoint's deliveries share a partition, so a
 *             strict-order endpoint is one lane of one partition)
 *   value   = the webhook JSON body itself (payload.h), signed as is
 *   headers = ce_id (the event id: the webhook-id, stable across retries),
 *             ce_type, webhook-org, webhook-source-topic, -partition, -offset
 *             (where the event was read: the delivery log's payload
 *             reference), webhook-enqueued-at (unix ms the fan-out produced
 *             it; end-to-end latency), webhook-replay-job (only on a
 *             replay job's deliveries: its id, how a resumed job finds
 *             what it already enqueued, replay_jobs.h), webhook-event-key
 *             (the event's own key, up to BL_WH_EVENT_KEY_MAX bytes: what
 *             a Kafka destination keys its message with).
 * None of these names starts with "busline-": the runtime's retry copy keeps
 * every other header and replaces only its busline-* ones. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_DELIVERY_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_DELIVERY_H

#include "connectors/webhook/store/endpoint_store.h"
#include "consumers/event_filter.h"
#include "connectors/webhook/policy/signature.h"
#include "consumers/retry_tier.h"
#include "core/err.h"
#include "core/kafka_consumer.h"
#include "core/kafka_producer.h"

#include <stddef.h>
#include <stdint.h>

#define BL_WEBHOOK_CONNECTOR "webhook"                 /* tier and DLQ prefix */
#define BL_WEBHOOK_DELIVERIES_TOPIC "deliveries.webhook"
#define BL_WEBHOOK_DLQ_TOPIC "webhook.dlq"
#define BL_WEBHOOK_FANOUT_CONNECTOR "webhook-fanout"   /* its DLQ: webhook-fanout.dlq */
#define BL_WEBHOOK_FANOUT_DLQ_TOPIC BL_WEBHOOK_FANOUT_CONNECTOR ".dlq"
#define BL_WEBHOOK_RETRY_TIERS "1s,5s,30s,2m,10m,1h"     /* deliver's default tiers */
#define BL_WEBHOOK_EVENTS_PATTERN "^events\\..*"         /* fan-out's subscription */

#define BL_WH_HDR_ORG "webhook-org"
#define BL_WH_HDR_SOURCE_TOPIC "webhook-source-topic"
#define BL_WH_HDR_SOURCE_PARTITION "webhook-source-partition"
#define BL_WH_HDR_SOURCE_OFFSET "webhook-source-offset"
#define BL_WH_HDR_ENQUEUED_AT "webhook-enqueued-at"
#define BL_WH_HDR_REPLAY_JOB "webhook-replay-job"
#define BL_WH_HDR_EVENT_KEY "webhook-event-key" /* the event's own key (a Kafka destination's key) */
#define BL_WH_EVENT_KEY_MAX 512                  /* a longer key is not carried */

/* A delivery to produce; pointers borrowed for the call. */
typedef struct bl_webhook_delivery {
    const char *endpoint_id;
    const char *event_id;
    const char *event_type;
    const char *organization_id;
    const char *source_topic;  /* NULL: unknown (test deliveries) */
    int32_t source_partition;
    int64_t source_offset;
    const char *body;
    size_t body_len;
    const char *replay_job;    /* NULL: not made by a replay job */
    const void *event_key;     /* the event's key (any bytes); NULL: none */
    size_t event_key_len;
} bl_webhook_delivery;

/* A delivery read back from a message: strings copied, body borrowed from
 * the message (valid while it is). */
typedef struct bl_webhook_delivery_view {
    char endpoint_id[BL_WEBHOOK_ID_MAX + 1];
    char event_id[BL_WEBHOOK_MSG_ID_MAX + 1];
    char event_type[BL_EVENT_TYPE_MAX + 1];
    char organization_id[BL_WEBHOOK_ORG_MAX + 1];
    char source_topic[BL_TOPIC_NAME_MAX];   /* "" when unknown */
    int32_t source_partition;
    int64_t source_offset;
    int64_t enqueued_at_ms;                 /* 0 when unknown */
    char replay_job[24];                    /* "" when not made by a replay job */
    const char *body;
    size_t body_len;
    char event_key[BL_WH_EVENT_KEY_MAX];    /* the event's key bytes (event_key_len of them) */
    size_t event_key_len;                   /* 0: none */
} bl_webhook_delivery_view;

/* Queues d on producer p to topic (NULL: deliveries.webhook) with
 * msg_opaque for the delivery report; queue_timeout_ms as
 * bl_kafka_producer_send. Returns 0, or -1 with err. */
int bl_webhook_delivery_send(bl_kafka_producer *p, const char *topic, const bl_webhook_delivery *d,
                             void *msg_opaque, int queue_timeout_ms, bl_err *err);

/* Reads a delivery from m: key, value and the headers above (ce_id, ce_type
 * and webhook-org required). Returns 0, or -1 with BL_EINVAL naming what is
 * missing or too long. */
int bl_webhook_delivery_parse(const bl_kafka_msg *m, bl_webhook_delivery_view *out, bl_err *err);

#endif
