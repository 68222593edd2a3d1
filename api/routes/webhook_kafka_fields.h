/* The "type" and "kafka" fields of a webhook endpoint body (issue 21 item
 * 6, store/kafka_destination.h): read by bl_api_webhook_spec_read. */
#ifndef BUSLINE_API_ROUTES_WEBHOOK_KAFKA_FIELDS_H
#define BUSLINE_API_ROUTES_WEBHOOK_KAFKA_FIELDS_H

#include "api/routes/webhook_api.h"

#include <jansson.h>

/* Reads "type" ("http" or "kafka") into out; a wrong value is noted in errors. */
void bl_api_webhook_type_read(const json_t *v, bl_api_webhook_spec_buf *out, json_t *errors);

/* Reads "kafka" (an object, kafka_destination.h's shape; null: none) into
 * out, borrowing from v; a wrong shape is noted in errors under "kafka". */
void bl_api_webhook_kafka_read(const json_t *v, bl_api_webhook_spec_buf *out, json_t *errors);

/* After every field: settles the destination from type, kafka and base
 * (the endpoint updated, NULL on create): type "kafka" needs kafka settings
 * (given, or base's), type "http" drops them, kafka alone implies
 * type "kafka". Notes contradictions in errors. */
void bl_api_webhook_kafka_finish(const json_t *body, const bl_webhook_endpoint *base, bl_api_webhook_spec_buf *out,
                                 json_t *errors);

#endif
