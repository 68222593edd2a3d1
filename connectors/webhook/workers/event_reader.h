/* Reads an event message for the webhook connector: decodes the Confluent
 * wire format with the schema cache, converts the envelope to plain JSON
 * (what endpoint conditions address: {"type", "organization_id", "data",
 * ...}) and builds the webhook body (payload.h) once for every endpoint. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_EVENT_READER_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_EVENT_READER_H

#include "connectors/webhook/workers/delivery.h"
#include "core/err.h"
#include "core/kafka_consumer.h"
#include "schemas/codec.h"

#include <jansson.h>
#include <stddef.h>

/* One decoded event; everything owned, free with bl_webhook_event_clear. */
typedef struct bl_webhook_event {
    json_t *envelope;     /* plain JSON, "time" as unix ms */
    const char *id;       /* ce_id header, else the envelope's id (borrowed from below) */
    const char *type;     /* envelope type */
    const char *org;      /* envelope organization_id */
    char *body;           /* the webhook body, NUL-terminated */
    size_t body_len;
    char id_buf[256];
} bl_webhook_event;

/* Decodes m into out. Returns 0; or -1 with err: BL_EINVAL / BL_ENOTFOUND
 * when the event can never be read (bad bytes, unknown schema, bad
 * envelope: skip it), anything else when it may work later (registry down). */
int bl_webhook_event_read(bl_schema_cache *schemas, const bl_kafka_msg *m, bl_webhook_event *out,
                          bl_err *err);

/* The delivery of ev, read from m, to endpoint_id, as the fan-out and the
 * replay produce it (pointers borrowed from ev, m and endpoint_id). */
bl_webhook_delivery bl_webhook_event_delivery(const bl_webhook_event *ev, const bl_kafka_msg *m,
                                              const char *endpoint_id);

/* Points d's body at what endpoint e receives for ev: ev's own body, or for
 * an endpoint of payload_format 'smartleakpro' the document's body
 * (smartleakpro_payload.h), made into *owned (caller frees; NULL when not
 * needed). Returns 0, or -1 with err (BL_EINVAL: the document names no such
 * event, so that endpoint gets nothing). */
int bl_webhook_event_body_for(const bl_webhook_event *ev, const bl_webhook_endpoint *e, bl_webhook_delivery *d,
                              char **owned, bl_err *err);

/* Frees what out holds; accepts a zeroed or cleared event. */
void bl_webhook_event_clear(bl_webhook_event *ev);

#endif
