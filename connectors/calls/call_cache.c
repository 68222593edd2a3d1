/* The calls' bounded LRU map: a chained hash over an intrusive list. */
#include "connectors/calls/call_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *key;
    char *text;
    size_t len;
    int status;
    uint64_t hash;
    struct entry *chain;
    struct entry *prev, *next; /* most recent at head */
} entry;

struct bl_call_cache {
    pthread_mutex_t mu;
    size_t cap, entry_max, n, nbuckets;
    entry **buckets;
    entry *head, *tail;
};

static uint64_t hash_of(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

bl_call_cache *bl_call_cache_new(size_t entries, size_t entry_max, bl_err *err)
{
    bl_call_cache *c = calloc(1, sizeof *c);
    if (!c) {
        bl_err_set(err, BL_ENOMEM, "calls cache: out of memory");
        return NULL;
    }
    c->cap = entries ? entries : 1;
    c->entry_max = entry_max;
    c->nbuckets = 16;
    while (c->nbuckets < c->cap && c->nbuckets < (1u << 20))
        c->nbuckets *= 2;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    if (!c->buckets) {
        free(c);
        bl_err_set(err, BL_ENOMEM, "calls cache: out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

static void unlink_list(bl_call_cache *c, entry *e)
{
    if (e->prev) e->prev->next = e->next; else c->head = e->next;
    if (e->next) e->next->prev = e->prev; else c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void push_head(bl_call_cache *c, entry *e)
{
    e->next = c->head;
    e->prev = NULL;
    if (c->head) c->head->prev = e;
    c->head = e;
    if (!c->tail) c->tail = e;
}

static entry **slot_of(bl_call_cache *c, const char *key, uint64_t h)
{
    entry **p = &c->buckets[h & (c->nbuckets - 1)];
    while (*p && ((*p)->hash != h || strcmp((*p)->key, key) != 0))
        p = &(*p)->chain;
    return p;
}

static void drop(bl_call_cache *c, entry *e)
{
    entry **p = slot_of(c, e->key, e->hash);
    *p = e->chain;
    unlink_list(c, e);
    free(e->key);
    free(e->text);
    free(e);
    c->n--;
}

void bl_call_cache_free(bl_call_cache *c)
{
    if (!c)
        return;
    while (c->head)
        drop(c, c->head);
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int bl_call_cache_put(bl_call_cache *c, const char *key, int status, const char *text, size_t len)
{
    if (len > c->entry_max)
        return -1;
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    uint64_t h = hash_of(key);
    pthread_mutex_lock(&c->mu);
    entry **p = slot_of(c, key, h);
    entry *e = *p;
    if (e) {
        free(e->text);
        unlink_list(c, e);
    } else {
        e = calloc(1, sizeof *e);
        char *k = strdup(key);
        if (!e || !k) {
            free(e);
            free(k);
            free(copy);
            pthread_mutex_unlock(&c->mu);
            return -1;
        }
        e->key = k;
        e->hash = h;
        e->chain = NULL;
        *p = e;
        c->n++;
    }
    e->text = copy;
    e->len = len;
    e->status = status;
    push_head(c, e);
    while (c->n > c->cap)
        drop(c, c->tail);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

char *bl_call_cache_get(bl_call_cache *c, const char *key, int *status)
{
    char *out = NULL;
    pthread_mutex_lock(&c->mu);
    entry *e = *slot_of(c, key, hash_of(key));
    if (e && (out = malloc(e->len + 1))) {
        memcpy(out, e->text, e->len + 1);
        *status = e->status;
        unlink_list(c, e);
        push_head(c, e);
    }
    pthread_mutex_unlock(&c->mu);
    return out;
}

size_t bl_call_cache_size(bl_call_cache *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}
