/* Per-host request counts and waiting FIFOs (see http_host_queue.h). A host
 * is in the table only while it has a request active or waiting. */
#include "core/http_host_queue.h"

#include "core/hash.h"

#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024

typedef struct waiter {
    void *item;
    int64_t deadline_mono;
    struct waiter *next;
} waiter;

struct bl_http_host {
    char *key;
    size_t active;
    waiter *head, *tail;
    struct bl_http_host *next; /* bucket chain */
};

struct bl_http_host_queue {
    size_t per_host_max;
    int64_t next_deadline;
    waiter *expired; /* taken out of their hosts, handed out one by one */
    bl_http_host *buckets[BUCKETS];
};

static size_t key_bucket(const char *key)
{
    return (size_t)(bl_fnv1a_str(BL_FNV1A_INIT, key) % BUCKETS);
}

bl_http_host_queue *bl_http_host_queue_new(size_t per_host_max, bl_err *err)
{
    if (per_host_max == 0) {
        bl_err_set(err, BL_EINVAL, "http host queue: the per-host limit must be positive");
        return NULL;
    }
    bl_http_host_queue *q = calloc(1, sizeof *q);
    if (!q) {
        bl_err_set(err, BL_ENOMEM, "http host queue: out of memory");
        return NULL;
    }
    q->per_host_max = per_host_max;
    q->next_deadline = INT64_MAX;
    return q;
}

static void waiters_free(waiter *w)
{
    while (w) {
        waiter *next = w->next;
        free(w);
        w = next;
    }
}

void bl_http_host_queue_free(bl_http_host_queue *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        bl_http_host *h = q->buckets[i];
        while (h) {
            bl_http_host *next = h->next;
            waiters_free(h->head);
            free(h->key);
            free(h);
            h = next;
        }
    }
    waiters_free(q->expired);
    free(q);
}

static bl_http_host *host_find_or_add(bl_http_host_queue *q, const char *key)
{
    bl_http_host **slot = &q->buckets[key_bucket(key)];
    for (bl_http_host *h = *slot; h; h = h->next)
        if (strcmp(h->key, key) == 0)
            return h;
    bl_http_host *h = calloc(1, sizeof *h);
    if (!h || !(h->key = strdup(key))) {
        free(h);
        return NULL;
    }
    h->next = *slot;
    *slot = h;
    return h;
}

static void host_drop_if_idle(bl_http_host_queue *q, bl_http_host *host)
{
    if (host->active > 0 || host->head)
        return;
    for (bl_http_host **link = &q->buckets[key_bucket(host->key)]; *link; link = &(*link)->next) {
        if (*link == host) {
            *link = host->next;
            free(host->key);
            free(host);
            return;
        }
    }
}

bl_http_host *bl_http_host_queue_admit(bl_http_host_queue *q, const char *key, void *item,
                                       int64_t deadline_mono, int *started, bl_err *err)
{
    bl_http_host *host = host_find_or_add(q, key);
    if (!host) {
        bl_err_set(err, BL_ENOMEM, "http host queue: out of memory");
        return NULL;
    }
    if (host->active < q->per_host_max) {
        host->active++;
        *started = 1;
        return host;
    }
    waiter *w = calloc(1, sizeof *w);
    if (!w) {
        host_drop_if_idle(q, host);
        bl_err_set(err, BL_ENOMEM, "http host queue: out of memory");
        return NULL;
    }
    w->item = item;
    w->deadline_mono = deadline_mono;
    if (host->tail)
        host->tail->next = w;
    else
        host->head = w;
    host->tail = w;
    if (deadline_mono > 0 && deadline_mono < q->next_deadline)
        q->next_deadline = deadline_mono;
    *started = 0;
    return host;
}

void *bl_http_host_queue_finish(bl_http_host_queue *q, bl_http_host *host)
{
    if (host->active > 0)
        host->active--;
    waiter *w = host->head;
    if (!w) {
        host_drop_if_idle(q, host);
        return NULL;
    }
    host->head = w->next;
    if (!host->head)
        host->tail = NULL;
    host->active++;
    void *item = w->item;
    free(w);
    return item;
}

void *bl_http_host_queue_withdraw(bl_http_host_queue *q, const char *key, int (*is)(void *item, void *ctx),
                                  void *ctx)
{
    bl_http_host *host = NULL;
    for (bl_http_host *h = q->buckets[key_bucket(key)]; h && !host; h = h->next)
        if (strcmp(h->key, key) == 0)
            host = h;
    if (!host)
        return NULL;
    waiter **found = NULL, *before = NULL, *prev = NULL;
    for (waiter **link = &host->head; *link; prev = *link, link = &(*link)->next) {
        if (is((*link)->item, ctx)) {
            found = link;
            before = prev;
        }
    }
    if (!found)
        return NULL;
    waiter *w = *found;
    *found = w->next;
    if (host->tail == w)
        host->tail = before;
    void *item = w->item;
    free(w);
    host_drop_if_idle(q, host);
    return item;
}

/* Moves every waiter due at now_mono to q->expired and recomputes the next
 * deadline from the rest. */
static void collect_expired(bl_http_host_queue *q, int64_t now_mono)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < BUCKETS; i++) {
        bl_http_host *h = q->buckets[i];
        while (h) {
            bl_http_host *hnext = h->next;
            waiter **link = &h->head, *last = NULL;
            while (*link) {
                waiter *w = *link;
                if (w->deadline_mono > 0 && w->deadline_mono <= now_mono) {
                    *link = w->next;
                    w->next = q->expired;
                    q->expired = w;
                                    continue;
                }
                if (w->deadline_mono > 0 && w->deadline_mono < next)
                    next = w->deadline_mono;
                last = w;
                link = &w->next;
            }
            h->tail = last;
            host_drop_if_idle(q, h);
            h = hnext;
        }
    }
    q->next_deadline = next;
}

void *bl_http_host_queue_take_expired(bl_http_host_queue *q, int64_t now_mono)
{
    if (!q->expired && now_mono >= q->next_deadline)
        collect_expired(q, now_mono);
    waiter *w = q->expired;
    if (!w)
        return NULL;
    q->expired = w->next;
    void *item = w->item;
    free(w);
    return item;
}

int64_t bl_http_host_queue_next_deadline(const bl_http_host_queue *q)
{
    return q->expired ? 0 : q->next_deadline;
}
