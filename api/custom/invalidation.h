/* Event-driven cache invalidation: a Kafka consumer in the API process,
 * subscribed to every events.* topic (under the server's topic prefix) in a
 * group of its own (each replica sees every event, from the newest on,
 * and commits nothing), that evicts the cached answers of every endpoint
 * whose caching.invalidationRules name the event's ce_type. */
#ifndef BUSLINE_API_CUSTOM_INVALIDATION_H
#define BUSLINE_API_CUSTOM_INVALIDATION_H

#include "api/custom/cache.h"
#include "api/custom/registry.h"

typedef struct bl_custom_invalidator bl_custom_invalidator;

/* Starts the consumer thread on brokers (copied) for topics
 * "^<prefix>events\..*" (prefix may be NULL). registry and cache are
 * borrowed. Returns NULL with err. */
bl_custom_invalidator *bl_custom_invalidator_new(const char *brokers, const char *prefix,
                                                 bl_custom_registry *registry, bl_custom_cache *cache, bl_err *err);

/* Whether the consumer has been given its partitions (so an event produced
 * from now on is seen). */
bool bl_custom_invalidator_ready(bl_custom_invalidator *v);

/* Events handled so far that evicted something. */
uint64_t bl_custom_invalidator_evictions(bl_custom_invalidator *v);

/* Stops the thread, leaves the group and frees. Accepts NULL. */
void bl_custom_invalidator_free(bl_custom_invalidator *v);

#endif
