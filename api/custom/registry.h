/* This replica's compiled custom endpoints. A thread holds a connection
 * that LISTENs on busline_custom_apis: it loads every definition at start
 * (and after a lost connection), then reloads the one a notification names,
 * so a saved change is served by every replica within moments of its commit. */
#ifndef BUSLINE_API_CUSTOM_REGISTRY_H
#define BUSLINE_API_CUSTOM_REGISTRY_H

#include "api/custom/custom.h"

typedef struct bl_custom_registry bl_custom_registry;

/* Told that endpoint id changed or went away (its cached answers are then
 * stale). Runs on the registry's thread. */
typedef void (*bl_custom_changed_fn)(const char *id, void *ctx);

/* Connects to conninfo (copied), LISTENs, loads every definition, then
 * starts the listener thread. env is borrowed (must outlive the registry).
 * changed may be NULL. Returns NULL with err. */
bl_custom_registry *bl_custom_registry_new(const char *conninfo, const bl_custom_env *env,
                                           bl_custom_changed_fn changed, void *ctx, bl_err *err);

/* Stops the thread and frees every definition it holds. Accepts NULL. */
void bl_custom_registry_free(bl_custom_registry *r);

/* The active endpoint of organization slug for method whose path fits
 * segs[0..n) (decoded), with its path parameters put in params (may be
 * NULL): a reference the caller drops with bl_custom_def_unref, or NULL.
 * *path_known (may be NULL) says whether some endpoint has the path with
 * another method. */
bl_custom_def *bl_custom_registry_find(bl_custom_registry *r, const char *slug, const char *method,
                                       const char *const *segs, size_t n, json_t *params, bool *path_known);

/* The endpoint with this id, active or not: a reference, or NULL. */
bl_custom_def *bl_custom_registry_get(bl_custom_registry *r, const char *id);

/* Calls fn(def, ctx) for every endpoint whose caching.invalidationRules
 * name event type (exactly, or as "<prefix>.*"). def is borrowed for the
 * call. Returns how many. */
size_t bl_custom_registry_each_invalidated(bl_custom_registry *r, const char *type,
                                           void (*fn)(const bl_custom_def *def, void *ctx), void *ctx);

/* Whether some endpoint caches with invalidationRules (events matter). */
bool bl_custom_registry_wants_events(bl_custom_registry *r);

/* Reloads endpoint id now (tests, and the admin routes so their replica
 * serves the change before answering). Returns 0 or -1 with err. */
int bl_custom_registry_reload(bl_custom_registry *r, const char *id, bl_err *err);

#endif
