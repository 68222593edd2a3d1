/* What a subscriber is told of a webhook body before the first one comes:
 * the JSON Schema of the body bl_webhook_payload_build writes for one event
 * type, and an example body written by that same builder. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_PAYLOAD_SCHEMA_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_PAYLOAD_SCHEMA_H

#include "core/err.h"

#include <jansson.h>

/* The JSON Schema (draft 2020-12) of the bodies of events of type (e.g.
 * "risk.escalated") whose data is described by data_schema (stolen, may not
 * be NULL). Returns a new reference, or NULL with err. */
json_t *bl_webhook_payload_schema(const char *type, json_t *data_schema, bl_err *err);

/* The body of an event of type with data (borrowed) for organization
 * "org_1042" at 2026-03-01T09:00:00.000Z, as bl_webhook_payload_build writes
 * it, parsed. Returns a new reference, or NULL with err. */
json_t *bl_webhook_payload_example(const char *type, const json_t *data, bl_err *err);

#endif
