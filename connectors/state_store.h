/* Durable key/value state of connector integrations: Postgres
 * (connector_state, migrations/061_connectors.sql) or, for tests and dry
 * runs, memory. Thread-safe: one store serves every handler thread. */
#ifndef BUSLINE_CONNECTORS_STATE_STORE_H
#define BUSLINE_CONNECTORS_STATE_STORE_H

#include "core/err.h"
#include "core/pg_pool.h"

#include <stddef.h>

#define BL_STATE_KEY_MAX 512
#define BL_STATE_VALUE_MAX 512

typedef struct bl_state_store bl_state_store;

/* A store over pool (borrowed, must outlive the store); pool NULL keeps
 * the state in memory. Returns NULL when out of memory. */
bl_state_store *bl_state_store_new(bl_pg_pool *pool);

void bl_state_store_free(bl_state_store *s);

/* Copies the value of (integration_id, key) into out (cap bytes). Returns 1
 * when found, 0 when absent, -1 with err. */
int bl_state_store_get(bl_state_store *s, const char *integration_id, const char *key, char *out,
                       size_t cap, bl_err *err);

/* Inserts or replaces the value. Returns 0, or -1 with err (BL_EINVAL when
 * key or value is over its cap). */
int bl_state_store_put(bl_state_store *s, const char *integration_id, const char *key,
                       const char *value, bl_err *err);

#endif
