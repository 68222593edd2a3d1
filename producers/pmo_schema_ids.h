/* TEMPORARY — schema ids for the PMO service until schemas/registry_client.h
 * lands on main; then this file is replaced by registry lookups (register /
 * look up "<topic>-value") and the fetch callback by the registry's.
 *
 * Registry-free mode: registers nothing. Each catalog topic gets the id given
 * in a map "topic=id,topic=id" (setting pmo_schema_ids), or, for a topic the
 * map does not name, 1 + its index in the catalog's sorted topic list. Every
 * process using the same schemas folder and map agrees on the ids. */
#ifndef BUSLINE_PRODUCERS_PMO_SCHEMA_IDS_H
#define BUSLINE_PRODUCERS_PMO_SCHEMA_IDS_H

#include "core/err.h"
#include "schemas/catalog.h"

#include <stdint.h>

typedef struct bl_pmo_schema_ids bl_pmo_schema_ids;

/* Builds the ids for cat (borrowed; must outlive the result) from map (may be
 * NULL or empty). Returns NULL with err for a malformed map, an unknown topic
 * or an id used twice. Free with bl_pmo_schema_ids_free. */
bl_pmo_schema_ids *bl_pmo_schema_ids_new(const bl_catalog *cat, const char *map, bl_err *err);

/* Frees ids. Accepts NULL. */
void bl_pmo_schema_ids_free(bl_pmo_schema_ids *ids);

/* The id of the catalog topic named topic. Returns 0, or -1 with err. */
int bl_pmo_schema_ids_get(const bl_pmo_schema_ids *ids, const char *topic, int32_t *id, bl_err *err);

/* A bl_schema_fetch_fn (schemas/codec.h) over ids (ctx): the assembled
 * schema of the topic holding id, as malloc()ed text; NULL with err
 * (BL_ENOTFOUND) for an unknown id. */
char *bl_pmo_schema_ids_fetch(void *ctx, int32_t id, bl_err *err);

#endif
