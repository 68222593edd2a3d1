/* The API keys a replica has authenticated, kept in memory so a request
 * costs no query for its key. Kept current by NOTIFY busline_api_key_changed
 * (migration 111: a key's revocation, expiry, permissions, limits, or its
 * organization's plan), and trusted only while that LISTEN holds: with the
 * listener's connection lost, every lookup goes to PostgreSQL. An entry
 * lives at most BL_API_KEY_CACHE_TTL_MS even so, which bounds what a
 * silently dead connection could leave stale. Only keys that exist are
 * kept (a stream of made-up tokens cannot fill it). */
#ifndef BUSLINE_API_AUTH_KEY_CACHE_H
#define BUSLINE_API_AUTH_KEY_CACHE_H

#include "api/auth/keys.h"
#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

#define BL_API_KEY_CACHE_TTL_MS 30000
#define BL_API_KEY_CACHE_MAX 16384

typedef struct bl_api_key_cache bl_api_key_cache;

/* Starts the cache's listener on conninfo (copied). Returns the cache, or
 * NULL with err. */
bl_api_key_cache *bl_api_key_cache_new(const char *conninfo, bl_err *err);

/* Stops the listener and frees; c may be NULL. */
void bl_api_key_cache_free(bl_api_key_cache *c);

/* The record kept for hash into *out: true when there is one, fresh, and
 * the listener is listening; false sends the caller to PostgreSQL. Counts
 * a hit or a miss. Thread-safe. */
bool bl_api_key_cache_get(bl_api_key_cache *c, const char *hash, bl_api_key_record *out);

/* What to pass to bl_api_key_cache_put for a record read after this call:
 * a change notified in between makes that put a no-op (the read may
 * predate the change). */
uint64_t bl_api_key_cache_epoch(bl_api_key_cache *c);

/* Keeps rec (copied) under hash, unless anything was invalidated since
 * epoch was taken. Thread-safe. */
void bl_api_key_cache_put(bl_api_key_cache *c, const char *hash, const bl_api_key_record *rec, uint64_t epoch);

/* Drops what is kept under hash now, on this replica, before the change's
 * NOTIFY comes back (a revocation answered here is refused here at once). */
void bl_api_key_cache_forget(bl_api_key_cache *c, const char *hash);

/* Lookups answered from memory and sent to PostgreSQL since the start. */
void bl_api_key_cache_counts(bl_api_key_cache *c, uint64_t *hits, uint64_t *misses);

#endif
