/* The webhook body's schema and example (see payload_schema.h). */
#include "connectors/webhook/workers/payload_schema.h"

#include "connectors/webhook/workers/payload.h"

#include <stdlib.h>

#define EXAMPLE_TIME_MS 1772355600000LL /* 2026-03-01T09:00:00.000Z */

json_t *bl_webhook_payload_schema(const char *type, json_t *data_schema, bl_err *err)
{
    json_t *out = json_pack("{s:s, s:s, s:s, s:[ssss], s:b, s:{s:{s:s, s:s}, s:{s:s, s:s, s:s}, s:{s:s, s:s}, s:o}}",
                            "$schema", "https://json-schema.org/draft/2020-12/schema", "type", "object",
                            "description", "The body of a webhook (the standard payload format)", "required", "event",
                            "timestamp", "organization_id", "data", "additionalProperties", 0, "properties", "event",
                            "const", type, "description", "the event type", "timestamp", "type", "string", "format",
                            "date-time", "description", "when the change happened (RFC 3339, UTC, milliseconds)",
                            "organization_id", "type", "string", "description", "the organization it belongs to",
                            "data", data_schema);
    if (!out)
        bl_err_set(err, BL_ENOMEM, "webhook payload schema: out of memory");
    return out;
}

json_t *bl_webhook_payload_example(const char *type, const json_t *data, bl_err *err)
{
    json_t *envelope = json_pack("{s:s, s:I, s:s, s:O}", "type", type, "time", (json_int_t)EXAMPLE_TIME_MS,
                                 "organization_id", "org_1042", "data", data);
    if (!envelope) {
        bl_err_set(err, BL_ENOMEM, "webhook payload example: out of memory");
        return NULL;
    }
    size_t len = 0;
    char *body = bl_webhook_payload_build(envelope, &len, err);
    json_decref(envelope);
    if (!body)
        return NULL;
    json_error_t jerr;
    json_t *out = json_loadb(body, len, 0, &jerr);
    free(body);
    if (!out)
        bl_err_set(err, BL_EINVAL, "webhook payload example: %s", jerr.text);
    return out;
}
