/* Cached answers of custom endpoints (document 002's CacheConfig): memory
 * is this replica's, bounded by entries and bytes (the least recently used
 * go first); database is the custom_api_cache table every replica shares.
 * An answer lives ttl seconds of the API server's clock, or until an event
 * its endpoint's invalidationRules name arrives (api/custom/invalidation.c),
 * or until its endpoint changes. */
#ifndef BUSLINE_API_CUSTOM_CACHE_H
#define BUSLINE_API_CUSTOM_CACHE_H

#include "api/custom/custom.h"
#include "core/pg_pool.h"

#include <stdint.h>

typedef struct bl_custom_cache bl_custom_cache;

/* A cache of at most max_entries (0 = 1024) answers of at most max_bytes
 * in all (0 = 64 MiB) in memory, and pool (borrowed) for the database
 * strategy. Returns NULL when out of memory. */
bl_custom_cache *bl_custom_cache_new(bl_pg_pool *pool, size_t max_entries, size_t max_bytes);

void bl_custom_cache_free(bl_custom_cache *c);

/* The answer cached for key (borrowed) of d at now_ms: returns 1 with
 * *body (malloc'd, caller frees) and *status, 0 on a miss, -1 with err when
 * the database could not be read. */
int bl_custom_cache_get(bl_custom_cache *c, const bl_custom_def *d, const char *key, int64_t now_ms,
                        char **body, int *status, bl_err *err);

/* Keeps body (borrowed, copied) as the answer for key of d until now_ms +
 * its ttl. Returns 0 or -1 with err. */
int bl_custom_cache_put(bl_custom_cache *c, const bl_custom_def *d, const char *key, int64_t now_ms,
                        const char *body, int status, bl_err *err);

/* Drops every answer of endpoint id, from memory and, when database is
 * true, from the shared table too. Returns how many memory entries went. */
size_t bl_custom_cache_evict(bl_custom_cache *c, const char *id, bool database);

#endif
