/* The endpoint-cache table's index (see endpoint_index.h): two sorted
 * arrays searched by bisection, one of snapshots by id, one of (organization,
 * pattern) keys with one entry per pattern of every endpoint. */
#include "connectors/webhook/store/endpoint_index.h"

#include <stdlib.h>
#include <string.h>

typedef struct pattern_key {
    const char *org;
    const char *pattern;
    bl_webhook_snapshot *s;
} pattern_key;

struct bl_webhook_index {
    bl_webhook_snapshot **by_id; /* sorted by endpoint id */
    size_t n;
    pattern_key *keys;           /* sorted by (org, pattern) */
    size_t n_keys;
};

static int by_id_cmp(const void *a, const void *b)
{
    return strcmp((*(bl_webhook_snapshot *const *)a)->endpoint->id, (*(bl_webhook_snapshot *const *)b)->endpoint->id);
}

static int key_cmp(const void *a, const void *b)
{
    const pattern_key *x = a, *y = b;
    int c = strcmp(x->org, y->org);
    if (c == 0)
        c = strcmp(x->pattern, y->pattern);
    return c ? c : strcmp(x->s->endpoint->id, y->s->endpoint->id);
}

bl_webhook_index *bl_webhook_index_new(bl_webhook_snapshot *const *items, size_t n, bl_err *err)
{
    bl_webhook_index *ix = calloc(1, sizeof *ix);
    size_t n_keys = 0;
    for (size_t i = 0; i < n; i++)
        n_keys += items[i]->endpoint->event_type_count;
    if (!ix || !(ix->by_id = malloc((n ? n : 1) * sizeof *ix->by_id)) ||
        !(ix->keys = malloc((n_keys ? n_keys : 1) * sizeof *ix->keys))) {
        bl_webhook_index_free(ix);
        bl_err_set(err, BL_ENOMEM, "webhook cache: out of memory for the index");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const bl_webhook_endpoint *e = items[i]->endpoint;
        ix->by_id[ix->n++] = items[i];
        for (size_t t = 0; t < e->event_type_count; t++)
            ix->keys[ix->n_keys++] = (pattern_key){e->organization_id, e->event_types[t], items[i]};
    }
    qsort(ix->by_id, ix->n, sizeof *ix->by_id, by_id_cmp);
    qsort(ix->keys, ix->n_keys, sizeof *ix->keys, key_cmp);
    return ix;
}

void bl_webhook_index_free(bl_webhook_index *ix)
{
    if (!ix)
        return;
    free(ix->by_id);
    free(ix->keys);
    free(ix);
}

bl_webhook_snapshot *bl_webhook_index_by_id(const bl_webhook_index *ix, const char *id)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ix->by_id[mid]->endpoint->id, id);
        if (c == 0)
            return ix->by_id[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Visits every key equal to (org, pattern). */
static int visit_key(const bl_webhook_index *ix, const char *org, const char *pattern,
                     int (*visit)(bl_webhook_snapshot *, void *), void *user)
{
    size_t lo = 0, hi = ix->n_keys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const pattern_key *k = &ix->keys[mid];
        int c = strcmp(k->org, org);
        if (c == 0)
            c = strcmp(k->pattern, pattern);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < ix->n_keys; i++) {
        const pattern_key *k = &ix->keys[i];
        if (strcmp(k->org, org) != 0 || strcmp(k->pattern, pattern) != 0)
            break;
        int rc = visit(k->s, user);
        if (rc)
            return rc;
    }
    return 0;
}

int bl_webhook_index_candidates(const bl_webhook_index *ix, const char *organization_id, const char *event_type,
                                int (*visit)(bl_webhook_snapshot *s, void *user), void *user, bl_err *err)
{
    size_t len = strlen(event_type);
    char small[256];
    char *buf = len + 2 <= sizeof small ? small : malloc(len + 2);
    if (!buf)
        return bl_err_set(err, BL_ENOMEM, "webhook cache: out of memory");
    int rc = visit_key(ix, organization_id, "*", visit, user);
    if (rc == 0)
        rc = visit_key(ix, organization_id, event_type, visit, user);
    /* "p.*" takes the types that start with "p." and go on */
    for (size_t i = 0; rc == 0 && i + 1 < len; i++) {
        if (event_type[i] != '.')
            continue;
        memcpy(buf, event_type, i + 1);
        buf[i + 1] = '*';
        buf[i + 2] = '\0';
        if (strcmp(buf, event_type) != 0) /* the exact key was visited already */
            rc = visit_key(ix, organization_id, buf, visit, user);
    }
    if (buf != small)
        free(buf);
    return rc;
}
