/* Avro Parsing Canonical Form (Avro 1.11 spec, "Parsing Canonical Form for
 * Schemas") and the fingerprints computed over it. Two schemas that differ
 * only in whitespace, doc, aliases, defaults, attribute order or how names are
 * qualified have the same canonical form, which is what the registry uses to
 * decide "same schema, same id". */
#ifndef BUSLINE_SCHEMAS_CANONICAL_H
#define BUSLINE_SCHEMAS_CANONICAL_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

/* Returns the Parsing Canonical Form of schema_json as a new NUL-terminated
 * string (caller frees with free()), or NULL with err filled when the text is
 * not JSON or not a valid Avro schema. */
char *bl_canonical_form(const char *schema_json, bl_err *err);

/* The spec's 64-bit Rabin fingerprint (CRC-64-AVRO) of len bytes of data,
 * normally a canonical form. Never fails. */
uint64_t bl_canonical_rabin64(const char *data, size_t len);


#endif
