/* Connector state in Postgres or memory. */
#include "connectors/state_store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_ACQUIRE_TIMEOUT_MS 10000

typedef struct mem_entry {
    char *integration_id, *key, *value;
    struct mem_entry *next;
} mem_entry;

struct bl_state_store {
    bl_pg_pool *pool;
    pthread_mutex_t lock;
    mem_entry *entries;
};

bl_state_store *bl_state_store_new(bl_pg_pool *pool)
{
    bl_state_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->pool = pool;
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void bl_state_store_free(bl_state_store *s)
{
    if (!s)
        return;
    for (mem_entry *e = s->entries, *next; e; e = next) {
        next = e->next;
        free(e->integration_id);
        free(e->key);
        free(e->value);
        free(e);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static mem_entry *mem_find(bl_state_store *s, const char *integration_id, const char *key)
{
    for (mem_entry *e = s->entries; e; e = e->next)
        if (strcmp(e->integration_id, integration_id) == 0 && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

int bl_state_store_get(bl_state_store *s, const char *integration_id, const char *key, char *out,
                       size_t cap, bl_err *err)
{
    if (!s->pool) {
        pthread_mutex_lock(&s->lock);
        mem_entry *e = mem_find(s, integration_id, key);
        if (e)
            snprintf(out, cap, "%s", e->value);
        pthread_mutex_unlock(&s->lock);
        return e ? 1 : 0;
    }
    PGconn *conn = bl_pg_pool_acquire(s->pool, STATE_ACQUIRE_TIMEOUT_MS, err);
    if (!conn)
        return bl_err_wrap(err, "connector state");
    const char *params[] = {integration_id, key};
    PGresult *res = bl_pg_exec(conn, "SELECT value FROM connector_state WHERE integration_id = $1 AND key = $2",
                               2, params, err);
    bl_pg_pool_release(s->pool, conn);
    if (!res)
        return bl_err_wrap(err, "connector state");
    int found = PQntuples(res) > 0;
    if (found)
        snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return found;
}

int bl_state_store_put(bl_state_store *s, const char *integration_id, const char *key,
                       const char *value, bl_err *err)
{
    if (strlen(key) == 0 || strlen(key) > BL_STATE_KEY_MAX || strlen(value) > BL_STATE_VALUE_MAX)
        return bl_err_set(err, BL_EINVAL, "connector state: key or value too long");
    if (!s->pool) {
        int rc = 0;
        pthread_mutex_lock(&s->lock);
        mem_entry *e = mem_find(s, integration_id, key);
        char *copy = strdup(value);
        if (!copy) {
            rc = bl_err_set(err, BL_ENOMEM, "out of memory");
        } else if (e) {
            free(e->value);
            e->value = copy;
        } else if ((e = calloc(1, sizeof *e)) && (e->integration_id = strdup(integration_id)) &&
                   (e->key = strdup(key))) {
            e->value = copy;
            e->next = s->entries;
            s->entries = e;
        } else {
            if (e) {
                free(e->integration_id);
                free(e);
            }
            free(copy);
            rc = bl_err_set(err, BL_ENOMEM, "out of memory");
        }
        pthread_mutex_unlock(&s->lock);
        return rc;
    }
    PGconn *conn = bl_pg_pool_acquire(s->pool, STATE_ACQUIRE_TIMEOUT_MS, err);
    if (!conn)
        return bl_err_wrap(err, "connector state");
    const char *params[] = {integration_id, key, value};
    int rc = bl_pg_exec_cmd(conn,
                            "INSERT INTO connector_state (integration_id, key, value) VALUES ($1, $2, $3) "
                            "ON CONFLICT (integration_id, key) DO UPDATE SET value = EXCLUDED.value, "
                            "updated_at = now()",
                            3, params, err);
    bl_pg_pool_release(s->pool, conn);
    return rc == 0 ? 0 : bl_err_wrap(err, "connector state");
}
