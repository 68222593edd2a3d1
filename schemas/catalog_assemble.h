/* Internal to the catalog: builds one topic's schema JSON from the envelope
 * template and the topic's data records. */
#ifndef BUSLINE_SCHEMAS_CATALOG_ASSEMBLE_H
#define BUSLINE_SCHEMAS_CATALOG_ASSEMBLE_H

#include "core/err.h"

#include <jansson.h>
#include <stddef.h>

/* Returns a new JSON schema: a copy of envelope named name in namespace ns,
 * whose "data" field has as type the union of records[0..n) in that order.
 * A named type (enum, nested record) defined identically in several records is
 * inlined once and referred to by full name afterwards, as Avro requires; a
 * different definition under the same name is refused. files[i] names
 * records[i] in errors. Borrows its inputs; the caller owns the result
 * (json_decref). NULL with err filled on failure. */
json_t *bl_catalog_assemble(const json_t *envelope, const char *ns, const char *name,
                            json_t *const *records, const char *const *files, size_t n,
                            bl_err *err);

#endif
