/* What a subscriber sees of an Avro record, for the event catalog: a JSON
 * Schema (draft 2020-12) of the record's plain JSON form (the form webhook
 * bodies carry, see BL_AVRO_JSON_PLAIN in avro_json.h) and an example value
 * of that form.
 *
 * The mapping follows the plain writer: a union with null is the bare value
 * or null, timestamp-millis an RFC 3339 string, an enum its symbol, bytes and
 * fixed an ISO-8859-1 string, a map an object. Avro's doc becomes
 * description; every field is required (the writer writes each one, null
 * included), and a record admits no other property. */
#ifndef BUSLINE_SCHEMAS_AVRO_JSON_SCHEMA_H
#define BUSLINE_SCHEMAS_AVRO_JSON_SCHEMA_H

#include "schemas/avro_json.h"

#include <jansson.h>

/* The JSON Schema of the record whose full name is record_name
 * ("busline.events.pmo.RiskEscalated") among S's named types. Returns a new
 * reference (caller json_decref's it), or NULL with err: BL_ENOTFOUND when S
 * defines no such record, BL_EINVAL for a schema node it cannot map. */
json_t *bl_avro_json_schema(const bl_avro_schema *S, const char *record_name, bl_err *err);

/* An example plain JSON value of that record: each field's non-null default
 * when it has one, else a value made up from the field's type and name (ids,
 * e-mail addresses, URLs, dates, percentages; a union's first non-null
 * branch; one element per array and map). Deterministic. Returns a new
 * reference, or NULL with err as bl_avro_json_schema. */
json_t *bl_avro_json_example(const bl_avro_schema *S, const char *record_name, bl_err *err);

#endif
