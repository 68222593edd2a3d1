/* Lookups over one endpoint-cache table that do not scan every endpoint:
 * by id (binary search over the ids) and, for matching, by organization and
 * event-type pattern. An event of type "a.b.c" can only be taken by an
 * endpoint with one of the patterns "*", "a.*", "a.b.*" or "a.b.c" (the
 * rule of bl_event_type_matches), so matching looks up those few keys of
 * the organization instead of walking its endpoints. The index borrows the
 * table's snapshots: it lives and dies with its table. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_STORE_ENDPOINT_INDEX_H
#define BUSLINE_CONNECTORS_WEBHOOK_STORE_ENDPOINT_INDEX_H

#include "connectors/webhook/store/endpoint_cache.h"
#include "core/err.h"

#include <stddef.h>

typedef struct bl_webhook_index bl_webhook_index;

/* Builds the index over items[0..n) (borrowed; they must outlive it).
 * Returns it (free with bl_webhook_index_free), or NULL with err (ENOMEM). */
bl_webhook_index *bl_webhook_index_new(bl_webhook_snapshot *const *items, size_t n, bl_err *err);

/* Frees ix (not its snapshots). Accepts NULL. */
void bl_webhook_index_free(bl_webhook_index *ix);

/* The snapshot whose endpoint id is id (borrowed, not retained), or NULL. */
bl_webhook_snapshot *bl_webhook_index_by_id(const bl_webhook_index *ix, const char *id);

/* Calls visit(s, user) once for every endpoint of organization_id having a
 * pattern that can match event_type; each is visited once per matching
 * pattern, so an endpoint with two such patterns comes twice (the caller
 * removes doubles). A visit returning non-zero stops the walk and is
 * returned; else 0, or -1 with err when out of memory. */
int bl_webhook_index_candidates(const bl_webhook_index *ix, const char *organization_id, const char *event_type,
                                int (*visit)(bl_webhook_snapshot *s, void *user), void *user, bl_err *err);

#endif
