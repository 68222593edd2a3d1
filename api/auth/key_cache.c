#include "api/auth/key_cache.h"

#include "core/clock.h"
#include "core/pg_listener.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096 /* a power of two; chains stay short up to BL_API_KEY_CACHE_MAX */
#define HASH_HEX 64

typedef struct entry {
    struct entry *next;
    char hash[HASH_HEX + 1];
    bl_api_key_record rec;
    int64_t loaded_ms; /* monotonic */
} entry;

struct bl_api_key_cache {
    pthread_mutex_t mu;
    entry *buckets[BUCKETS];
    size_t count;
    uint64_t epoch; /* bumped by every invalidation */
    uint64_t hits, misses;
    bl_pg_listener *listener;
};

/* The bucket of a SHA-256 hex: its first digits are already uniform. */
static size_t bucket_of(const char *hash)
{
    size_t b = 0;
    for (int i = 0; i < 8 && hash[i]; i++)
        b = (b << 4) | (size_t)(hash[i] <= '9' ? hash[i] - '0' : (hash[i] | 0x20) - 'a' + 10);
    return b & (BUCKETS - 1);
}

/* Drops every entry. Caller holds mu. */
static void clear_locked(bl_api_key_cache *c)
{
    for (size_t b = 0; b < BUCKETS; b++) {
        entry *e = c->buckets[b];
        while (e) {
            entry *next = e->next;
            free(e);
            e = next;
        }
        c->buckets[b] = NULL;
    }
    c->count = 0;
    c->epoch++;
}

/* Unlinks hash's entry (if any). Caller holds mu. */
static void evict_locked(bl_api_key_cache *c, const char *hash)
{
    for (entry **at = &c->buckets[bucket_of(hash)]; *at; at = &(*at)->next) {
        if (strcmp((*at)->hash, hash) == 0) {
            entry *gone = *at;
            *at = gone->next;
            free(gone);
            c->count--;
            break;
        }
    }
    c->epoch++;
}

/* After every (re)connection: what was kept may have changed unseen. */
static int on_listening(PGconn *conn, void *ctx, bl_err *err)
{
    (void)conn;
    (void)err;
    bl_api_key_cache *c = ctx;
    pthread_mutex_lock(&c->mu);
    clear_locked(c);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

static void on_key_changed(PGconn *conn, const char *payload, void *ctx)
{
    (void)conn;
    bl_api_key_cache *c = ctx;
    pthread_mutex_lock(&c->mu);
    if (strlen(payload) == HASH_HEX)
        evict_locked(c, payload);
    else
        clear_locked(c); /* '*' (an organization's change) or anything unexpected */
    pthread_mutex_unlock(&c->mu);
}

bl_api_key_cache *bl_api_key_cache_new(const char *conninfo, bl_err *err)
{
    bl_api_key_cache *c = calloc(1, sizeof *c);
    if (!c) {
        bl_err_set(err, BL_ENOMEM, "api: key cache: out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    if (!(c->listener = bl_pg_listener_start(conninfo, "busline_api_key_changed", "api: key cache listener",
                                             on_listening, on_key_changed, c, err))) {
        pthread_mutex_destroy(&c->mu);
        free(c);
        return NULL;
    }
    return c;
}

void bl_api_key_cache_free(bl_api_key_cache *c)
{
    if (!c)
        return;
    bl_pg_listener_stop(c->listener);
    clear_locked(c);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

bool bl_api_key_cache_get(bl_api_key_cache *c, const char *hash, bl_api_key_record *out)
{
    bool found = false;
    int64_t now = bl_clock_mono_ms();
    bool trusted = bl_pg_listener_listening(c->listener);
    pthread_mutex_lock(&c->mu);
    for (entry *e = trusted ? c->buckets[bucket_of(hash)] : NULL; e; e = e->next) {
        if (strcmp(e->hash, hash) == 0) {
            found = now - e->loaded_ms < BL_API_KEY_CACHE_TTL_MS;
            if (found)
                *out = e->rec;
            break;
        }
    }
    if (found)
        c->hits++;
    else
        c->misses++;
    pthread_mutex_unlock(&c->mu);
    return found;
}

void bl_api_key_cache_forget(bl_api_key_cache *c, const char *hash)
{
    pthread_mutex_lock(&c->mu);
    evict_locked(c, hash);
    pthread_mutex_unlock(&c->mu);
}

uint64_t bl_api_key_cache_epoch(bl_api_key_cache *c)
{
    pthread_mutex_lock(&c->mu);
    uint64_t epoch = c->epoch;
    pthread_mutex_unlock(&c->mu);
    return epoch;
}

void bl_api_key_cache_put(bl_api_key_cache *c, const char *hash, const bl_api_key_record *rec, uint64_t epoch)
{
    if (strlen(hash) != HASH_HEX)
        return;
    pthread_mutex_lock(&c->mu);
    if (c->epoch != epoch || !bl_pg_listener_listening(c->listener)) {
        pthread_mutex_unlock(&c->mu);
        return;
    }
    entry *e = NULL;
    for (e = c->buckets[bucket_of(hash)]; e && strcmp(e->hash, hash) != 0; e = e->next)
        ;
    if (!e) {
        if (c->count >= BL_API_KEY_CACHE_MAX) {
            clear_locked(c); /* rare: more live keys in use than the bound; start over */
            pthread_mutex_unlock(&c->mu);
            return;
        }
        if (!(e = calloc(1, sizeof *e))) {
            pthread_mutex_unlock(&c->mu);
            return; /* not kept: the next request reads it again */
        }
        memcpy(e->hash, hash, HASH_HEX + 1);
        size_t b = bucket_of(hash);
        e->next = c->buckets[b];
        c->buckets[b] = e;
        c->count++;
    }
    e->rec = *rec;
    e->loaded_ms = bl_clock_mono_ms();
    pthread_mutex_unlock(&c->mu);
}

void bl_api_key_cache_counts(bl_api_key_cache *c, uint64_t *hits, uint64_t *misses)
{
    pthread_mutex_lock(&c->mu);
    *hits = c->hits;
    *misses = c->misses;
    pthread_mutex_unlock(&c->mu);
}
