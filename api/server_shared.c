/* Server-wide objects made on first use (see bl_api_server_shared in
 * api/server.h): what several route files share (the webhook domain's event
 * encoders, the schema catalog) is built once per server, not per request,
 * and not at start for a server that never serves those routes. */
#include "api/server_private.h"

#include "schemas/catalog.h"

#include <stdlib.h>
#include <string.h>

void *bl_api_server_shared(bl_api_server *s, const char *key, void *(*make)(bl_api_server *s, bl_err *err),
                           void (*drop)(void *obj), bl_err *err)
{
    pthread_mutex_lock(&s->shared_lock);
    shared_object *o = s->shared;
    while (o && strcmp(o->key, key) != 0)
        o = o->next;
    void *obj = o ? o->obj : NULL;
    if (!o) {
        shared_object *fresh = calloc(1, sizeof *fresh);
        if (!fresh)
            bl_err_set(err, BL_ENOMEM, "api: out of memory");
        else if (!(obj = make(s, err)))
            free(fresh);
        else {
            *fresh = (shared_object){.key = key, .obj = obj, .drop = drop, .next = s->shared};
            s->shared = fresh;
        }
    }
    pthread_mutex_unlock(&s->shared_lock);
    return obj;
}

void bl_api_server_shared_drop_all(bl_api_server *s)
{
    while (s->shared) {
        shared_object *o = s->shared;
        s->shared = o->next;
        o->drop(o->obj);
        free(o);
    }
}

static void *load_catalog(bl_api_server *s, bl_err *err)
{
    const char *dir = bl_api_server_config(s)->schemas_dir;
    bl_catalog *cat = bl_catalog_load(dir ? dir : bl_catalog_default_dir(), err);
    if (!cat)
        bl_err_wrap(err, "api: schema catalog");
    return cat;
}

static void drop_catalog(void *cat)
{
    bl_catalog_free(cat);
}

const bl_catalog *bl_api_server_catalog(bl_api_server *s, bl_err *err)
{
    return bl_api_server_shared(s, "catalog", load_catalog, drop_catalog, err);
}
