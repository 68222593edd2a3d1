/* Fixed-window, sliding-window and token-bucket limits per endpoint per
 * caller, in a hash table bounded by its number of callers. */
#include "api/custom/limiter.h"

#include "core/hash.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096
#define MINUTE_MS 60000

typedef struct entry {
    char *key; /* "<endpoint id>|<caller>" */
    char id[BL_API_ID_MAX];
    bl_custom_rate_strategy strategy;
    int64_t rpm, burst;
    int64_t last_ms;
    /* fixed window */
    int64_t window, count;
    /* sliding window: the admitted requests' times, oldest at head */
    int64_t *ring;
    size_t head, len;
    /* token bucket */
    double tokens;
    struct entry *next;
} entry;

struct bl_custom_limiter {
    pthread_mutex_t mu;
    entry *buckets[BUCKETS];
    size_t count, max;
};

static uint64_t hash(const char *s)
{
    return bl_fnv1a_str(BL_FNV1A_INIT, s);
}

bl_custom_limiter *bl_custom_limiter_new(size_t max_callers)
{
    bl_custom_limiter *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    pthread_mutex_init(&l->mu, NULL);
    l->max = max_callers ? max_callers : 100000;
    return l;
}

static void entry_free(entry *e)
{
    free(e->key);
    free(e->ring);
    free(e);
}

void bl_custom_limiter_free(bl_custom_limiter *l)
{
    if (!l)
        return;
    for (size_t b = 0; b < BUCKETS; b++)
        for (entry *e = l->buckets[b], *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* Removes the entries for which drop(e, arg) holds. Caller holds mu. */
static void remove_where(bl_custom_limiter *l, bool (*drop)(const entry *e, const void *arg), const void *arg)
{
    for (size_t b = 0; b < BUCKETS; b++)
        for (entry **p = &l->buckets[b]; *p;) {
            if (drop(*p, arg)) {
                entry *e = *p;
                *p = e->next;
                entry_free(e);
                l->count--;
            } else {
                p = &(*p)->next;
            }
        }
}

static bool older_than(const entry *e, const void *arg)
{
    return e->last_ms <= *(const int64_t *)arg;
}

static bool of_endpoint(const entry *e, const void *arg)
{
    return strcmp(e->id, arg) == 0;
}

/* Makes room for one more: forgets the idlest half-minute's worth first. */
static void make_room(bl_custom_limiter *l)
{
    int64_t oldest = INT64_MAX, newest = INT64_MIN;
    for (size_t b = 0; b < BUCKETS; b++)
        for (entry *e = l->buckets[b]; e; e = e->next) {
            oldest = e->last_ms < oldest ? e->last_ms : oldest;
            newest = e->last_ms > newest ? e->last_ms : newest;
        }
    int64_t cut = oldest + (newest - oldest) / 2;
    remove_where(l, older_than, &cut);
}

/* The caller's entry, made fresh when d's limits differ from its state. */
static entry *entry_of(bl_custom_limiter *l, const bl_custom_def *d, const char *caller)
{
    char key[512];
    snprintf(key, sizeof key, "%s|%s", d->id, caller);
    size_t b = hash(key) % BUCKETS;
    entry *e = l->buckets[b];
    while (e && strcmp(e->key, key) != 0)
        e = e->next;
    if (e && (e->strategy != d->rate_strategy || e->rpm != d->rpm || e->burst != d->burst)) {
        const char *id = d->id;
        char copy[BL_API_ID_MAX];
        snprintf(copy, sizeof copy, "%s", id);
        remove_where(l, of_endpoint, copy);
        e = NULL;
        b = hash(key) % BUCKETS;
    }
    if (e)
        return e;
    if (l->count >= l->max)
        make_room(l);
    e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(key)) ||
        (d->rate_strategy == BL_CUSTOM_RATE_SLIDING && !(e->ring = calloc((size_t)d->rpm, sizeof *e->ring)))) {
        if (e)
            entry_free(e);
        return NULL;
    }
    snprintf(e->id, sizeof e->id, "%s", d->id);
    e->strategy = d->rate_strategy;
    e->rpm = d->rpm;
    e->burst = d->burst;
    e->window = -1;
    e->tokens = (double)d->burst;
    e->next = l->buckets[b];
    l->buckets[b] = e;
    l->count++;
    return e;
}

static int64_t ceil_seconds(int64_t ms)
{
    return ms <= 0 ? 1 : (ms + 999) / 1000;
}

static void fixed_window(entry *e, int64_t now, bl_custom_rate_verdict *v)
{
    int64_t window = now / MINUTE_MS;
    if (window != e->window) {
        e->window = window;
        e->count = 0;
    }
    v->limit = e->rpm;
    v->allowed = e->count < e->rpm;
    if (v->allowed)
        e->count++;
    v->remaining = e->rpm - e->count;
    v->retry_after = ceil_seconds((window + 1) * MINUTE_MS - now);
}

static void sliding_window(entry *e, int64_t now, bl_custom_rate_verdict *v)
{
    size_t cap = (size_t)e->rpm;
    while (e->len > 0 && e->ring[e->head] <= now - MINUTE_MS) {
        e->head = (e->head + 1) % cap;
        e->len--;
    }
    v->limit = e->rpm;
    v->allowed = e->len < cap;
    if (v->allowed) {
        e->ring[(e->head + e->len) % cap] = now;
        e->len++;
    }
    v->remaining = (int64_t)(cap - e->len);
    v->retry_after = ceil_seconds(e->len ? e->ring[e->head] + MINUTE_MS - now : 0);
}

static void token_bucket(entry *e, int64_t now, bl_custom_rate_verdict *v)
{
    if (e->last_ms && now > e->last_ms) {
        e->tokens += (double)(now - e->last_ms) * (double)e->rpm / MINUTE_MS;
        if (e->tokens > (double)e->burst)
            e->tokens = (double)e->burst;
    }
    v->limit = e->burst;
    v->allowed = e->tokens >= 1.0;
    if (v->allowed)
        e->tokens -= 1.0;
    v->remaining = (int64_t)e->tokens;
    v->retry_after = ceil_seconds((int64_t)((1.0 - (e->tokens - (double)(int64_t)e->tokens)) * MINUTE_MS /
                                            (double)e->rpm));
}

void bl_custom_limiter_check(bl_custom_limiter *l, const bl_custom_def *d, const char *caller, int64_t now_ms,
                             bl_custom_rate_verdict *v)
{
    *v = (bl_custom_rate_verdict){.allowed = true};
    pthread_mutex_lock(&l->mu);
    entry *e = entry_of(l, d, caller);
    if (!e) { /* out of memory: refuse rather than serve unlimited */
        pthread_mutex_unlock(&l->mu);
        *v = (bl_custom_rate_verdict){.allowed = false, .limit = d->rpm, .retry_after = 1};
        return;
    }
    if (e->strategy == BL_CUSTOM_RATE_FIXED)
        fixed_window(e, now_ms, v);
    else if (e->strategy == BL_CUSTOM_RATE_SLIDING)
        sliding_window(e, now_ms, v);
    else
        token_bucket(e, now_ms, v);
    if (now_ms > e->last_ms)
        e->last_ms = now_ms;
    pthread_mutex_unlock(&l->mu);
}

void bl_custom_limiter_forget(bl_custom_limiter *l, const char *id)
{
    pthread_mutex_lock(&l->mu);
    remove_where(l, of_endpoint, id);
    pthread_mutex_unlock(&l->mu);
}
