/* A bounded map of text keys to (status, answer text), least recently used
 * evicted first, safe from many threads: the calls' last-good answers and
 * the bus produces remembered by idempotency key. */
#ifndef BUSLINE_CONNECTORS_CALLS_CALL_CACHE_H
#define BUSLINE_CONNECTORS_CALLS_CALL_CACHE_H

#include "core/err.h"

#include <stddef.h>

typedef struct bl_call_cache bl_call_cache;

/* A cache of at most entries entries, each answer at most entry_max bytes.
 * Returns NULL with err. */
bl_call_cache *bl_call_cache_new(size_t entries, size_t entry_max, bl_err *err);

/* Frees c; accepts NULL. */
void bl_call_cache_free(bl_call_cache *c);

/* Stores a copy of text (len bytes) under key with status, replacing an
 * older one; an answer over entry_max is not stored. Returns 0 when stored,
 * -1 when not (too large, out of memory). */
int bl_call_cache_put(bl_call_cache *c, const char *key, int status, const char *text, size_t len);

/* A malloc'd copy of key's answer (NUL-terminated, the caller frees) with
 * *status set, marking it recently used; NULL when absent. */
char *bl_call_cache_get(bl_call_cache *c, const char *key, int *status);

/* Entries held now. */
size_t bl_call_cache_size(bl_call_cache *c);

#endif
