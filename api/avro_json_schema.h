/* Avro schema JSON -> JSON Schema (OpenAPI 3.1 dialect) for the plain JSON
 * the API accepts (schemas/avro_json.h, BL_AVRO_JSON_PLAIN): unions as the
 * bare value, timestamp-millis as RFC 3339 strings, enums as symbols.
 * Records and enums go to a components object under their full Avro name
 * and are referenced with $ref, so named types used twice are defined once. */
#ifndef BUSLINE_API_AVRO_JSON_SCHEMA_H
#define BUSLINE_API_AVRO_JSON_SCHEMA_H

#include <jansson.h>

/* Converts avro (borrowed) declared in namespace ns (may be NULL), adding
 * named types to components (borrowed object). Returns a new reference, or
 * NULL for a schema it cannot read. */
json_t *bl_api_avro_json_schema(const json_t *avro, const char *ns, json_t *components);

/* Finds the record named full_name (e.g. "busline.commands.pmo.CreateRisk")
 * anywhere inside avro. Returns it borrowed from avro, or NULL. */
const json_t *bl_api_avro_find_record(const json_t *avro, const char *full_name);

#endif
