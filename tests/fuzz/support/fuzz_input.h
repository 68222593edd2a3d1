/* What the fuzz targets share: the input split into NUL-separated parts,
 * and the schema catalog's topics parsed once. */
#ifndef BUSLINE_TESTS_FUZZ_INPUT_H
#define BUSLINE_TESTS_FUZZ_INPUT_H

#include "schemas/catalog.h"
#include "schemas/codec.h"
#include "schemas/avro_json.h"

#include <stddef.h>
#include <stdint.h>

#define FUZZ_PARTS_MAX 4

/* The input's first n NUL-separated parts, each copied NUL-terminated (the
 * last part takes the rest, NULs included, with its length in len). */
typedef struct fuzz_parts {
    char *part[FUZZ_PARTS_MAX];
    size_t len[FUZZ_PARTS_MAX];
    size_t count;
} fuzz_parts;

/* Splits data into n parts (1..FUZZ_PARTS_MAX); missing parts are "".
 * Returns 0, or -1 when out of memory (the target then skips the input). */
int fuzz_parts_split(const uint8_t *data, size_t size, size_t n, fuzz_parts *out);

/* Frees the parts' copies. */
void fuzz_parts_free(fuzz_parts *p);

/* One topic of the catalog: its schema, and a schema cache that answers
 * that schema for any id (there is no registry in a fuzz run). */
typedef struct fuzz_topic {
    const bl_catalog_topic *topic;
    bl_avro_schema *schema;
    bl_schema_cache *cache;
} fuzz_topic;

/* The catalog of the source tree's schemas/, loaded on the first call;
 * aborts when it cannot be (a broken setup, not a finding). Returns the
 * number of topics; *topics is borrowed for the run. */
size_t fuzz_catalog_topics(const fuzz_topic **topics);

/* Aborts with a message: an invariant the input broke (a finding). */
_Noreturn void fuzz_finding(const char *what, const char *detail);

#endif
