/* Cached answers: a bounded LRU in memory, or the shared table. */
#include "api/custom/cache.h"

#include "core/log.h"

#include "core/hash.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024

typedef struct entry {
    char *key; /* "<endpoint id>|<key>" */
    char id[BL_API_ID_MAX];
    char *body;
    size_t len;
    int status;
    int64_t expires_ms;
    struct entry *next;              /* bucket chain */
    struct entry *newer, *older;     /* recency list */
} entry;

struct bl_custom_cache {
    bl_pg_pool *pool;
    pthread_mutex_t mu;
    entry *buckets[BUCKETS];
    entry *newest, *oldest;
    size_t count, bytes, max_entries, max_bytes;
};

static uint64_t hash(const char *s)
{
    return bl_fnv1a_str(BL_FNV1A_INIT, s);
}

bl_custom_cache *bl_custom_cache_new(bl_pg_pool *pool, size_t max_entries, size_t max_bytes)
{
    bl_custom_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->pool = pool;
    pthread_mutex_init(&c->mu, NULL);
    c->max_entries = max_entries ? max_entries : 1024;
    c->max_bytes = max_bytes ? max_bytes : 64u << 20;
    return c;
}

static void unlink_recency(bl_custom_cache *c, entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void push_newest(bl_custom_cache *c, entry *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest)
        c->newest->newer = e;
    c->newest = e;
    if (!c->oldest)
        c->oldest = e;
}

/* Unlinks e from everything and frees it. Caller holds mu. */
static void drop(bl_custom_cache *c, entry *e)
{
    entry **p = &c->buckets[hash(e->key) % BUCKETS];
    while (*p && *p != e)
        p = &(*p)->next;
    if (*p)
        *p = e->next;
    unlink_recency(c, e);
    c->count--;
    c->bytes -= e->len;
    free(e->key);
    free(e->body);
    free(e);
}

void bl_custom_cache_free(bl_custom_cache *c)
{
    if (!c)
        return;
    while (c->oldest)
        drop(c, c->oldest);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static entry *find(bl_custom_cache *c, const char *full)
{
    entry *e = c->buckets[hash(full) % BUCKETS];
    while (e && strcmp(e->key, full) != 0)
        e = e->next;
    return e;
}

static int db_get(bl_custom_cache *c, const bl_custom_def *d, const char *key, int64_t now_ms, char **body,
                  int *status, bl_err *err)
{
    PGconn *conn = bl_pg_pool_acquire(c->pool, 5000, err);
    if (!conn)
        return -1;
    char now[32];
    snprintf(now, sizeof now, "%lld", (long long)(now_ms / 1000));
    const char *p[] = {d->id, key, now};
    PGresult *r = bl_pg_exec_prepared(conn,
                                      "SELECT status, body FROM custom_api_cache WHERE custom_api_id = $1"
                                      " AND cache_key = $2 AND expires_at > to_timestamp($3::bigint)",
                                      3, p, err);
    bl_pg_pool_release(c->pool, conn);
    if (!r)
        return -1;
    int hit = PQntuples(r) == 1;
    if (hit) {
        *status = atoi(PQgetvalue(r, 0, 0));
        *body = strdup(PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    if (hit && !*body)
        return bl_err_set(err, BL_ENOMEM, "custom api cache: out of memory");
    return hit;
}

int bl_custom_cache_get(bl_custom_cache *c, const bl_custom_def *d, const char *key, int64_t now_ms,
                        char **body, int *status, bl_err *err)
{
    *body = NULL;
    if (d->cache_strategy == BL_CUSTOM_CACHE_DATABASE)
        return db_get(c, d, key, now_ms, body, status, err);
    char full[1024];
    snprintf(full, sizeof full, "%s|%s", d->id, key);
    int hit = 0;
    pthread_mutex_lock(&c->mu);
    entry *e = find(c, full);
    if (e && e->expires_ms <= now_ms) {
        drop(c, e);
        e = NULL;
    }
    if (e) {
        unlink_recency(c, e);
        push_newest(c, e);
        *status = e->status;
        *body = strdup(e->body);
        hit = *body ? 1 : 0;
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

static int db_put(bl_custom_cache *c, const bl_custom_def *d, const char *key, int64_t now_ms, const char *body,
                  int status, bl_err *err)
{
    PGconn *conn = bl_pg_pool_acquire(c->pool, 5000, err);
    if (!conn)
        return -1;
    char until[32], st[16], now[32];
    snprintf(until, sizeof until, "%lld", (long long)(now_ms / 1000 + d->ttl));
    snprintf(now, sizeof now, "%lld", (long long)(now_ms / 1000));
    snprintf(st, sizeof st, "%d", status);
    const char *p[] = {d->id, key, st, body, until, now};
    /* expired answers of the endpoint go with each write */
    int rc = bl_pg_exec_cmd(conn,
                            "WITH gone AS (DELETE FROM custom_api_cache WHERE custom_api_id = $1"
                            " AND expires_at <= to_timestamp($6::bigint))"
                            " INSERT INTO custom_api_cache (custom_api_id, cache_key, status, body, expires_at)"
                            " VALUES ($1, $2, $3::int, $4, to_timestamp($5::bigint)) ON CONFLICT (custom_api_id,"
                            " cache_key) DO UPDATE SET status = EXCLUDED.status, body = EXCLUDED.body,"
                            " expires_at = EXCLUDED.expires_at",
                            6, p, err);
    bl_pg_pool_release(c->pool, conn);
    return rc;
}

int bl_custom_cache_put(bl_custom_cache *c, const bl_custom_def *d, const char *key, int64_t now_ms,
                        const char *body, int status, bl_err *err)
{
    if (d->cache_strategy == BL_CUSTOM_CACHE_DATABASE)
        return db_put(c, d, key, now_ms, body, status, err);
    size_t len = strlen(body);
    if (len > c->max_bytes)
        return 0; /* larger than the whole cache: not kept */
    char full[1024];
    snprintf(full, sizeof full, "%s|%s", d->id, key);
    entry *e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(full)) || !(e->body = strdup(body))) {
        if (e) {
            free(e->key);
            free(e);
        }
        return bl_err_set(err, BL_ENOMEM, "custom api cache: out of memory");
    }
    snprintf(e->id, sizeof e->id, "%s", d->id);
    e->len = len;
    e->status = status;
    e->expires_ms = now_ms + d->ttl * 1000;
    pthread_mutex_lock(&c->mu);
    entry *old = find(c, full);
    if (old)
        drop(c, old);
    while (c->oldest && (c->count + 1 > c->max_entries || c->bytes + len > c->max_bytes))
        drop(c, c->oldest);
    size_t b = hash(full) % BUCKETS;
    e->next = c->buckets[b];
    c->buckets[b] = e;
    push_newest(c, e);
    c->count++;
    c->bytes += len;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

size_t bl_custom_cache_evict(bl_custom_cache *c, const char *id, bool database)
{
    size_t n = 0;
    pthread_mutex_lock(&c->mu);
    for (entry *e = c->oldest, *newer; e; e = newer) {
        newer = e->newer;
        if (strcmp(e->id, id) == 0) {
            drop(c, e);
            n++;
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (database && c->pool) {
        bl_err err = {0};
        PGconn *conn = bl_pg_pool_acquire(c->pool, 5000, &err);
        const char *p[] = {id};
        if (!conn || bl_pg_exec_cmd(conn, "DELETE FROM custom_api_cache WHERE custom_api_id::text = $1", 1, p, &err) != 0)
            bl_log_error("custom api cache: shared answers not evicted", BL_FS("custom_api_id", id),
                         BL_FS("error", err.msg));
        bl_pg_pool_release(c->pool, conn);
    }
    return n;
}
