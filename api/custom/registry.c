/* This replica's compiled custom endpoints, kept current by LISTEN. */
#include "api/custom/registry.h"

#include "api/custom/store.h"
#include "core/log.h"
#include "core/pg_listener.h"
#include "core/pg_pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bl_custom_registry {
    char *conninfo; /* for a reload in the caller's thread */
    bl_pg_listener *listener;
    const bl_custom_env *env;
    bl_custom_changed_fn changed;
    void *changed_ctx;
    pthread_rwlock_t lock;
    bl_custom_def **defs; /* unordered */
    size_t count, cap;
};

/* Puts def (owned, may be NULL) in place of the definition with id. */
static void replace(bl_custom_registry *r, const char *id, bl_custom_def *def)
{
    bl_custom_def *old = NULL;
    pthread_rwlock_wrlock(&r->lock);
    size_t i = 0;
    while (i < r->count && strcmp(r->defs[i]->id, id) != 0)
        i++;
    if (i < r->count) {
        old = r->defs[i];
        if (def)
            r->defs[i] = def;
        else
            r->defs[i] = r->defs[--r->count];
        def = NULL;
    } else if (def) {
        if (r->count == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 32;
            bl_custom_def **grown = realloc(r->defs, cap * sizeof *grown);
            if (grown) {
                r->defs = grown;
                r->cap = cap;
            }
        }
        if (r->count < r->cap) {
            r->defs[r->count++] = def;
            def = NULL;
        }
    }
    pthread_rwlock_unlock(&r->lock);
    if (def)
        bl_log_error("custom api: definition not kept: out of memory", BL_FS("custom_api_id", id));
    bl_custom_def_unref(def);
    bl_custom_def_unref(old);
    if (r->changed)
        r->changed(id, r->changed_ctx);
}

/* Compiles one loaded row {id, organizationId, slug, definition}; NULL when
 * it does not compile (logged: the row was checked when saved, so the
 * server's environment changed, a key of the keyring for instance). */
static bl_custom_def *compile_row(bl_custom_registry *r, const json_t *row)
{
    json_t *problems = json_object();
    bl_custom_def *d = problems ? bl_custom_def_compile(json_object_get(row, "definition"),
                                                           json_string_value(json_object_get(row, "organizationId")),
                                                           r->env, problems) : NULL;
    const char *id = json_string_value(json_object_get(row, "id"));
    if (!d) {
        char *text = json_dumps(problems, JSON_COMPACT);
        bl_log_error("custom api: a saved definition does not compile here; not served", BL_FS("custom_api_id", id),
                     BL_FS("problems", text ? text : "?"));
        free(text);
    } else {
        snprintf(d->id, sizeof d->id, "%s", id);
        snprintf(d->slug, sizeof d->slug, "%s", json_string_value(json_object_get(row, "slug")));
    }
    json_decref(problems);
    return d;
}

/* Loads id (NULL = all, replacing what is held) over conn. */
static int load(bl_custom_registry *r, PGconn *conn, const char *id, bl_err *err)
{
    json_t *rows = bl_custom_store_load(conn, id, err);
    if (!rows)
        return -1;
    if (id && json_array_size(rows) == 0)
        replace(r, id, NULL);
    if (!id) { /* drop what is gone */
        pthread_rwlock_rdlock(&r->lock);
        size_t n = r->count;
        char (*held)[BL_API_ID_MAX] = n ? calloc(n, sizeof *held) : NULL;
        for (size_t i = 0; held && i < n; i++)
            snprintf(held[i], BL_API_ID_MAX, "%s", r->defs[i]->id);
        pthread_rwlock_unlock(&r->lock);
        for (size_t i = 0; held && i < n; i++) {
            bool present = false;
            size_t k;
            json_t *row;
            json_array_foreach(rows, k, row) present |= strcmp(json_string_value(json_object_get(row, "id")), held[i]) == 0;
            if (!present)
                replace(r, held[i], NULL);
        }
        free(held);
    }
    size_t k;
    json_t *row;
    json_array_foreach(rows, k, row) replace(r, json_string_value(json_object_get(row, "id")), compile_row(r, row));
    json_decref(rows);
    return 0;
}

/* Loads every definition (after LISTEN: see core/pg_listener.h). */
static int load_all(PGconn *conn, void *ctx, bl_err *err)
{
    return load(ctx, conn, NULL, err);
}

/* Reloads one notified endpoint. */
static void on_changed(PGconn *conn, const char *id, void *ctx)
{
    bl_err err = {0};
    if (load(ctx, conn, id, &err) != 0)
        bl_log_warn("custom api: reload failed", BL_FS("custom_api_id", id), BL_FS("error", err.msg));
}

bl_custom_registry *bl_custom_registry_new(const char *conninfo, const bl_custom_env *env,
                                           bl_custom_changed_fn changed, void *ctx, bl_err *err)
{
    bl_custom_registry *r = calloc(1, sizeof *r);
    if (!r) {
        bl_err_set(err, BL_ENOMEM, "custom api: out of memory");
        return NULL;
    }
    r->env = env;
    r->changed = changed;
    r->changed_ctx = ctx;
    pthread_rwlock_init(&r->lock, NULL);
    if (!(r->conninfo = strdup(conninfo ? conninfo : ""))) {
        bl_err_set(err, BL_ENOMEM, "custom api: out of memory");
        bl_custom_registry_free(r);
        return NULL;
    }
    r->listener = bl_pg_listener_start(conninfo, BL_CUSTOM_CHANNEL, "custom api: definition listener", load_all,
                                       on_changed, r, err);
    if (!r->listener) {
        bl_custom_registry_free(r);
        return NULL;
    }
    return r;
}

void bl_custom_registry_free(bl_custom_registry *r)
{
    if (!r)
        return;
    bl_pg_listener_stop(r->listener);
    for (size_t i = 0; i < r->count; i++)
        bl_custom_def_unref(r->defs[i]);
    free(r->defs);
    pthread_rwlock_destroy(&r->lock);
    free(r->conninfo);
    free(r);
}

bl_custom_def *bl_custom_registry_find(bl_custom_registry *r, const char *slug, const char *method,
                                       const char *const *segs, size_t n, json_t *params, bool *path_known)
{
    bl_custom_def *hit = NULL;
    bool known = false;
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->count && !hit; i++) {
        bl_custom_def *d = r->defs[i];
        if (!d->active || strcmp(d->slug, slug) != 0 || !bl_custom_def_match(d, segs, n, NULL))
            continue;
        if (strcmp(d->method, method) == 0) {
            hit = bl_custom_def_ref(d);
            bl_custom_def_match(d, segs, n, params);
        } else {
            known = true;
        }
    }
    pthread_rwlock_unlock(&r->lock);
    if (path_known)
        *path_known = known;
    return hit;
}

bl_custom_def *bl_custom_registry_get(bl_custom_registry *r, const char *id)
{
    bl_custom_def *hit = NULL;
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->count && !hit; i++)
        if (strcmp(r->defs[i]->id, id) == 0)
            hit = bl_custom_def_ref(r->defs[i]);
    pthread_rwlock_unlock(&r->lock);
    return hit;
}

static bool rule_names(const char *rule, const char *type)
{
    size_t n = strlen(rule);
    if (n >= 2 && strcmp(rule + n - 2, ".*") == 0)
        return strncmp(rule, type, n - 1) == 0;
    return strcmp(rule, type) == 0;
}

size_t bl_custom_registry_each_invalidated(bl_custom_registry *r, const char *type,
                                           void (*fn)(const bl_custom_def *def, void *ctx), void *ctx)
{
    size_t hits = 0;
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->count; i++) {
        bl_custom_def *d = r->defs[i];
        bool named = false;
        for (size_t k = 0; d->cache_enabled && k < d->rule_count && !named; k++)
            named = rule_names(d->rules[k], type);
        if (named) {
            fn(d, ctx);
            hits++;
        }
    }
    pthread_rwlock_unlock(&r->lock);
    return hits;
}

int bl_custom_registry_reload(bl_custom_registry *r, const char *id, bl_err *err)
{
    PGconn *conn = bl_pg_connect(r->conninfo, err);
    if (!conn)
        return -1;
    int rc = load(r, conn, id, err);
    PQfinish(conn);
    return rc;
}

bool bl_custom_registry_wants_events(bl_custom_registry *r)
{
    bool wants = false;
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->count && !wants; i++)
        wants = r->defs[i]->cache_enabled && r->defs[i]->rule_count > 0;
    pthread_rwlock_unlock(&r->lock);
    return wants;
}
