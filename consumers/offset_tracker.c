#include "consumers/offset_tracker.h"

#include "core/hash.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A partition's ring starts small and doubles up to max_held, so idle
 * partitions (and ones with nothing stuck) cost little. */
#define RING_INITIAL 64

typedef struct partition_window {
    struct partition_window *next; /* hash chain */
    char *topic;
    int32_t partition;
    int64_t *offsets; /* ring, ascending from head */
    uint8_t *done;    /* ring, 1 when finished */
    size_t cap, head, count;
    size_t unfinished;    /* entries not yet done */
    int64_t last_tracked; /* -1 before the first */
    int64_t committed;    /* next offset last committed, -1 before any */
} partition_window;

struct bl_offset_tracker {
    size_t max_in_flight, max_held;
    partition_window **buckets;
    size_t n_buckets, n_partitions;
};

static uint64_t partition_hash(const char *topic, int32_t partition)
{
    return (bl_fnv1a_str(BL_FNV1A_INIT, topic) ^ (uint32_t)partition) * BL_FNV1A_PRIME;
}

static partition_window **find_link(const bl_offset_tracker *t, const char *topic, int32_t partition)
{
    partition_window **link = &t->buckets[partition_hash(topic, partition) & (t->n_buckets - 1)];
    while (*link && ((*link)->partition != partition || strcmp((*link)->topic, topic) != 0))
        link = &(*link)->next;
    return link;
}

static partition_window *find(const bl_offset_tracker *t, const char *topic, int32_t partition)
{
    if (!t || !topic)
        return NULL;
    return *find_link(t, topic, partition);
}

static void window_free(partition_window *w)
{
    if (!w)
        return;
    free(w->topic);
    free(w->offsets);
    free(w->done);
    free(w);
}

bl_offset_tracker *bl_offset_tracker_new(size_t max_in_flight, size_t max_held, bl_err *err)
{
    if (max_in_flight < 1 || max_in_flight > BL_OFFSET_TRACKER_MAX_WINDOW) {
        bl_err_set(err, BL_EINVAL, "offset tracker: max in flight %zu not in 1..%u", max_in_flight,
                   BL_OFFSET_TRACKER_MAX_WINDOW);
        return NULL;
    }
    if (max_held == 0)
        max_held = max_in_flight;
    if (max_held < max_in_flight || max_held > BL_OFFSET_TRACKER_MAX_WINDOW) {
        bl_err_set(err, BL_EINVAL, "offset tracker: max held %zu not in %zu..%u", max_held, max_in_flight,
                   BL_OFFSET_TRACKER_MAX_WINDOW);
        return NULL;
    }
    bl_offset_tracker *t = calloc(1, sizeof *t);
    if (t) {
        t->max_in_flight = max_in_flight;
        t->max_held = max_held;
        t->n_buckets = 64;
        t->buckets = calloc(t->n_buckets, sizeof *t->buckets);
    }
    if (!t || !t->buckets) {
        free(t);
        bl_err_set(err, BL_ENOMEM, "offset tracker: out of memory");
        return NULL;
    }
    return t;
}

void bl_offset_tracker_free(bl_offset_tracker *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_buckets; i++) {
        partition_window *w = t->buckets[i];
        while (w) {
            partition_window *next = w->next;
            window_free(w);
            w = next;
        }
    }
    free(t->buckets);
    free(t);
}

/* Doubles the buckets when partitions outnumber them; a failed grow only
 * costs longer chains. */
static void maybe_rehash(bl_offset_tracker *t)
{
    if (t->n_partitions < t->n_buckets)
        return;
    size_t n = t->n_buckets * 2;
    partition_window **b = calloc(n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < t->n_buckets; i++) {
        partition_window *w = t->buckets[i];
        while (w) {
            partition_window *next = w->next;
            size_t at = partition_hash(w->topic, w->partition) & (n - 1);
            w->next = b[at];
            b[at] = w;
            w = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = n;
}

static partition_window *add_window(bl_offset_tracker *t, const char *topic, int32_t partition, bl_err *err)
{
    maybe_rehash(t);
    partition_window *w = calloc(1, sizeof *w);
    size_t cap = t->max_held < RING_INITIAL ? t->max_held : RING_INITIAL;
    if (w) {
        w->topic = strdup(topic);
        w->offsets = malloc(cap * sizeof *w->offsets);
        w->done = malloc(cap);
    }
    if (!w || !w->topic || !w->offsets || !w->done) {
        window_free(w);
        bl_err_set(err, BL_ENOMEM, "offset tracker: %s[%d]: out of memory", topic, (int)partition);
        return NULL;
    }
    w->partition = partition;
    w->cap = cap;
    w->last_tracked = -1;
    w->committed = -1;
    partition_window **link = &t->buckets[partition_hash(topic, partition) & (t->n_buckets - 1)];
    w->next = *link;
    *link = w;
    t->n_partitions++;
    return w;
}

/* Re-lays the ring from index 0 in a buffer twice the size (at most max). */
static int grow_ring(partition_window *w, size_t max)
{
    size_t cap = w->cap * 2 > max ? max : w->cap * 2;
    int64_t *offsets = malloc(cap * sizeof *offsets);
    uint8_t *done = malloc(cap);
    if (!offsets || !done) {
        free(offsets);
        free(done);
        return -1;
    }
    for (size_t i = 0; i < w->count; i++) {
        size_t at = (w->head + i) % w->cap;
        offsets[i] = w->offsets[at];
        done[i] = w->done[at];
    }
    free(w->offsets);
    free(w->done);
    w->offsets = offsets;
    w->done = done;
    w->cap = cap;
    w->head = 0;
    return 0;
}

int bl_offset_tracker_track(bl_offset_tracker *t, const char *topic, int32_t partition,
                            int64_t offset, bl_err *err)
{
    if (!t || !topic || !*topic || partition < 0 || offset < 0)
        return bl_err_set(err, BL_EINVAL, "offset tracker: track needs a topic, partition >= 0, offset >= 0");
    partition_window *w = find(t, topic, partition);
    if (!w && !(w = add_window(t, topic, partition, err)))
        return -1;
    if (offset <= w->last_tracked)
        return bl_err_set(err, BL_ECONFLICT, "offset tracker: %s[%d]: offset %lld not above %lld", topic,
                          (int)partition, (long long)offset, (long long)w->last_tracked);
    if (w->unfinished == t->max_in_flight || w->count == t->max_held)
        return BL_OFFSET_WINDOW_FULL;
    if (w->count == w->cap && grow_ring(w, t->max_held) != 0)
        return bl_err_set(err, BL_ENOMEM, "offset tracker: %s[%d]: out of memory", topic, (int)partition);
    size_t at = (w->head + w->count) % w->cap;
    w->offsets[at] = offset;
    w->done[at] = 0;
    w->count++;
    w->unfinished++;
    /* Where the group already stands: nothing to commit until work finishes. */
    if (w->last_tracked < 0)
        w->committed = offset;
    w->last_tracked = offset;
    return BL_OFFSET_TRACKED;
}

/* Ring position of offset (binary search over the ascending ring), or -1. */
static long ring_index_of(const partition_window *w, int64_t offset)
{
    size_t lo = 0, hi = w->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t v = w->offsets[(w->head + mid) % w->cap];
        if (v == offset)
            return (long)((w->head + mid) % w->cap);
        if (v < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int bl_offset_tracker_done(bl_offset_tracker *t, const char *topic, int32_t partition,
                           int64_t offset, bl_err *err)
{
    partition_window *w = find(t, topic, partition);
    if (!w)
        return bl_err_set(err, BL_ENOTFOUND, "offset tracker: %s[%d] not tracked", topic ? topic : "(null)",
                          (int)partition);
    long at = ring_index_of(w, offset);
    if (at < 0)
        return bl_err_set(err, BL_ENOTFOUND, "offset tracker: %s[%d]: offset %lld not in flight", topic,
                          (int)partition, (long long)offset);
    if (w->done[at])
        return bl_err_set(err, BL_ECONFLICT, "offset tracker: %s[%d]: offset %lld already done", topic,
                          (int)partition, (long long)offset);
    w->done[at] = 1;
    w->unfinished--;
    /* Each entry is popped once, so this loop is O(1) amortised. */
    while (w->count > 0 && w->done[w->head]) {
        w->head = (w->head + 1) % w->cap;
        w->count--;
    }
    return 0;
}

size_t bl_offset_tracker_held(const bl_offset_tracker *t, const char *topic, int32_t partition)
{
    const partition_window *w = find(t, topic, partition);
    return w ? w->count : 0;
}

/* The next offset to read after everything finished: the oldest unfinished
 * entry, or past the last tracked one; -1 before anything was tracked. */
static int64_t watermark(const partition_window *w)
{
    if (w->count > 0)
        return w->offsets[w->head];
    return w->last_tracked < 0 ? -1 : w->last_tracked + 1;
}

size_t bl_offset_tracker_committable(const bl_offset_tracker *t, bl_kafka_offset *out, size_t cap)
{
    size_t n = 0;
    if (!t || !out)
        return 0;
    for (size_t i = 0; i < t->n_buckets && n < cap; i++) {
        for (const partition_window *w = t->buckets[i]; w && n < cap; w = w->next) {
            int64_t next = watermark(w);
            if (next > w->committed)
                out[n++] = (bl_kafka_offset){w->topic, w->partition, next};
        }
    }
    return n;
}

void bl_offset_tracker_committed(bl_offset_tracker *t, const bl_kafka_offset *offs, size_t n)
{
    for (size_t i = 0; offs && i < n; i++) {
        partition_window *w = find(t, offs[i].topic, offs[i].partition);
        if (w && offs[i].next_offset > w->committed)
            w->committed = offs[i].next_offset;
    }
}

int bl_offset_tracker_forget(bl_offset_tracker *t, const char *topic, int32_t partition,
                             int64_t *final_next)
{
    if (!t || !topic)
        return 0;
    partition_window **link = find_link(t, topic, partition);
    partition_window *w = *link;
    if (!w)
        return 0;
    int64_t next = watermark(w);
    bool advanced = next > w->committed;
    *link = w->next;
    t->n_partitions--;
    window_free(w);
    if (advanced && final_next)
        *final_next = next;
    return advanced ? 1 : 0;
}
