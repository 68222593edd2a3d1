/* The webhook body of the SmartLeakPro document (an endpoint whose
 * payload_format is 'smartleakpro'):
 *   {"type":"intervention_created","timestamp":"2024-01-01T10:00:00.000Z",
 *    "data":{"id":"...","client_id":"...","statut":"planifie",...},
 *    "resource_id":"..."}
 * built from a field-service event envelope: the document's event names for
 * the bus's types, and the data under the document's French field names
 * (statut in its words: planifie, en_route, en_cours, en_attente, termine,
 * annule). The same event always gives the same bytes. Conditions written
 * against that body ("data.statut" equals "en_cours") are translated to the
 * bus's fields once, when an endpoint is saved, so the fan-out matches them
 * on the envelope like any other condition. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_SMARTLEAKPRO_PAYLOAD_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_SMARTLEAKPRO_PAYLOAD_H

#include "core/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The document's event name of a bus event type ("intervention.created" ->
 * "intervention_created"), or NULL when the document has none. Static. */
const char *bl_slp_doc_type(const char *bus_type);

/* The bus event type of a document event name, or NULL. Static. */
const char *bl_slp_bus_type(const char *doc_type);

/* The document's event names, ended by NULL (for messages and listings). */
extern const char *const bl_slp_doc_types[];

/* Builds the body from envelope (borrowed; "type", "time" in unix ms,
 * "subject", "data"). Returns the NUL-terminated body (caller frees) and
 * sets *len, or NULL with err (BL_EINVAL: a type the document does not
 * name, or a malformed envelope). */
char *bl_slp_payload_build(const json_t *envelope, size_t *len, bl_err *err);

/* The type of a test delivery's body (the document names no test event). */
#define BL_SLP_TEST_TYPE "webhook_test"

/* The body of a test delivery to endpoint_id named name at now_ms, in the
 * same shape. Returns it (caller frees) and sets *len, or NULL with err. */
char *bl_slp_test_body(const char *endpoint_id, const char *name, int64_t now_ms, size_t *len, bl_err *err);

/* Translates conditions (an array of {"field","operator","value"} over the
 * document's body, for doc_type) into the same conditions over the bus's
 * envelope. Returns a new array, or NULL with err (BL_EINVAL naming the
 * condition: a field the document's data of that event does not have, or a
 * value that is not one of its words). Operators and the rest are checked
 * later by bl_event_filter_new. */
json_t *bl_slp_conditions_to_bus(const char *doc_type, const json_t *conditions, bl_err *err);

#endif
