/* The workers' endpoint cache (see endpoint_cache.h). The table is an
 * immutable array swapped whole under a write lock; readers hold the read
 * lock only while they scan and retain, so a swap never waits on delivery
 * work, and a snapshot outlives any table that dropped it. */
#include "connectors/webhook/store/endpoint_cache.h"

#include "connectors/webhook/store/endpoint_index.h"
#include "connectors/webhook/store/endpoint_match.h"
#include "connectors/webhook/store/endpoint_store_internal.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/pg_pool.h"

#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define CHANNEL "busline_webhook_endpoints"
/* More notifications than this in one wake-up: one full reload is cheaper. */
#define BATCH_RELOAD_THRESHOLD 32
#define POLL_MS 100

typedef struct table {
    size_t count;
    bl_webhook_snapshot **items; /* sorted by (organization_id, id); one reference each */
    bl_webhook_index *index;     /* by id and by (organization, pattern) */
} table;

struct bl_webhook_cache {
    char *conninfo;
    const bl_keyring *keyring;
    int reconnect_ms;
    pthread_rwlock_t lock;
    table *current;            /* under lock */
    PGconn *conn;              /* the refresh thread's */
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    atomic_long full_loads, updates, skipped, reconnects;
};

/* ---- snapshots ---- */

bl_webhook_snapshot *bl_webhook_snapshot_retain(bl_webhook_snapshot *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void bl_webhook_snapshot_release(bl_webhook_snapshot *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    bl_webhook_secret_wipe(&s->secret);
    bl_webhook_secret_wipe(&s->previous_secret);
    bl_webhook_ed25519_wipe(&s->ed);
    bl_webhook_ed25519_wipe(&s->ed_previous);
    if (s->tls_key) {
        OPENSSL_cleanse(s->tls_key, s->tls_key_len);
        free(s->tls_key);
    }
    if (s->kafka_sasl_password)
        OPENSSL_cleanse(s->kafka_sasl_password, strlen(s->kafka_sasl_password));
    free(s->kafka_sasl_password);
    bl_event_filter_free((bl_event_filter *)s->filter);
    bl_transform_free((bl_transform *)s->transform);
    bl_webhook_endpoint_free((bl_webhook_endpoint *)s->endpoint);
    free(s);
}

bl_webhook_rotation bl_webhook_snapshot_keys(const bl_webhook_snapshot *s)
{
    return (bl_webhook_rotation){
        .current = &s->secret,
        .previous = s->previous_secret.len ? &s->previous_secret : NULL,
        .previous_until = s->previous_until_s,
        .scheme = s->endpoint->signature_scheme,
        .ed_current = s->ed.set ? &s->ed : NULL,
        .ed_previous = s->ed_previous.set ? &s->ed_previous : NULL,
        .ed_previous_until = s->ed_previous_until_s,
    };
}

/* Makes a snapshot owning e (freed on failure). */
static bl_webhook_snapshot *snapshot_new(bl_webhook_endpoint *e, const bl_keyring *kr, bl_err *err)
{
    bl_webhook_snapshot *s = calloc(1, sizeof *s);
    if (!s) {
        bl_webhook_endpoint_free(e);
        bl_err_set(err, BL_ENOMEM, "webhook cache: out of memory");
        return NULL;
    }
    s->endpoint = e;
    atomic_init(&s->refs, 1);
    bl_webhook_keys k;
    s->filter = bl_event_filter_new(e->conditions, err);
    if (!s->filter || bl_webhook_endpoint_tls_key_open(e, kr, &s->tls_key, &s->tls_key_len, err) != 0 ||
        bl_webhook_endpoint_keys_open(e, kr, bl_clock_wall_ms(), &k, err) != 0) {
        bl_webhook_snapshot_release(s);
        return NULL;
    }
    s->secret = k.secret;
    s->previous_secret = k.previous_secret;
    s->previous_until_s = k.previous_until_ms / 1000;
    s->ed = k.ed;
    s->ed_previous = k.ed_previous;
    s->ed_previous_until_s = k.ed_previous_until_ms / 1000;
    bl_webhook_keys_wipe(&k);
    if (bl_webhook_endpoint_kafka_password(e, kr, &s->kafka_sasl_password, err) != 0) {
        bl_webhook_snapshot_release(s);
        return NULL;
    }
    s->retry = bl_retry_policy_default();
    s->retry.max_attempts = e->max_attempts;
    s->retry.base_delay_ms = e->backoff_base_ms;
    if (s->retry.max_delay_ms < s->retry.base_delay_ms)
        s->retry.max_delay_ms = s->retry.base_delay_ms;
    s->retry.schedule_len = (int)e->retry_schedule_len;
    for (size_t i = 0; i < e->retry_schedule_len; i++)
        s->retry.schedule_ms[i] = e->retry_schedule_s[i] * 1000;
    if (e->transformation) {
        /* compiled only (its test cases ran when it was saved); one that no
         * longer compiles keeps the endpoint, its deliveries fail with why */
        bl_err terr = {0};
        if (!(s->transform = bl_transform_compile(e->transformation, &terr))) {
            snprintf(s->transform_error, sizeof s->transform_error, "transformation: %.230s", terr.msg);
            bl_log_warn("webhook cache: transformation does not compile", BL_FS("endpoint_id", e->id),
                        BL_FS("error", terr.msg));
        }
    }
    return s;
}

/* ---- tables ---- */

static int snapshot_cmp(const void *a, const void *b)
{
    const bl_webhook_endpoint *x = (*(bl_webhook_snapshot *const *)a)->endpoint;
    const bl_webhook_endpoint *y = (*(bl_webhook_snapshot *const *)b)->endpoint;
    int c = strcmp(x->organization_id, y->organization_id);
    return c ? c : strcmp(x->id, y->id);
}

static void table_free(table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->count; i++)
        bl_webhook_snapshot_release(t->items[i]);
    free(t->items);
    bl_webhook_index_free(t->index);
    free(t);
}

static table *table_new(size_t cap)
{
    table *t = calloc(1, sizeof *t);
    if (t && !(t->items = calloc(cap ? cap : 1, sizeof *t->items))) {
        free(t);
        t = NULL;
    }
    return t;
}

/* Indexes t, installs it as the current table and frees the old one after
 * the swap. Returns 0, or -1 with err (t freed, the old table stays). */
static int table_swap(bl_webhook_cache *c, table *t, bl_err *err)
{
    qsort(t->items, t->count, sizeof *t->items, snapshot_cmp);
    if (!(t->index = bl_webhook_index_new(t->items, t->count, err))) {
        table_free(t);
        return -1;
    }
    pthread_rwlock_wrlock(&c->lock);
    table *old = c->current;
    c->current = t;
    pthread_rwlock_unlock(&c->lock);
    table_free(old);
    return 0;
}

/* Builds snapshots from the endpoint rows of res into t, skipping (and
 * logging) those that cannot be opened. */
static void table_fill(bl_webhook_cache *c, table *t, const PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        bl_err err = {0};
        bl_webhook_endpoint *e = bl_webhook_endpoint_from_row(res, i, &err);
        bl_webhook_snapshot *s = e ? snapshot_new(e, c->keyring, &err) : NULL;
        if (!s) {
            atomic_fetch_add(&c->skipped, 1);
            bl_log_error("webhook cache: endpoint left out",
                         BL_FS("endpoint_id", PQgetvalue(res, i, 0)), BL_FS("error", err.msg));
            continue;
        }
        t->items[t->count++] = s;
    }
}

static int full_load(bl_webhook_cache *c, bl_err *err)
{
    PGresult *res = bl_pg_exec(c->conn, "SELECT " BL_WEBHOOK_ENDPOINT_COLS
                               " FROM webhook_endpoints WHERE active", 0, NULL, err);
    if (!res)
        return bl_err_wrap(err, "webhook cache: load");
    table *t = table_new((size_t)PQntuples(res));
    if (!t) {
        PQclear(res);
        return bl_err_set(err, BL_ENOMEM, "webhook cache: out of memory");
    }
    table_fill(c, t, res);
    PQclear(res);
    if (table_swap(c, t, err) != 0)
        return -1;
    atomic_fetch_add(&c->full_loads, 1);
    return 0;
}

/* Re-reads endpoint id and installs a table where it is replaced (or
 * removed when gone or inactive). Only the refresh thread writes tables,
 * so reading c->current here without the lock is safe. */
static int refresh_one(bl_webhook_cache *c, const char *id, bl_err *err)
{
    const char *params[] = {id};
    PGresult *res = bl_pg_exec(c->conn, "SELECT " BL_WEBHOOK_ENDPOINT_COLS
                               " FROM webhook_endpoints WHERE id = $1 AND active", 1, params, err);
    if (!res)
        return bl_err_wrap(err, "webhook cache: refresh %.64s", id);
    const table *old = c->current;
    table *t = table_new(old->count + 1);
    if (!t) {
        PQclear(res);
        return bl_err_set(err, BL_ENOMEM, "webhook cache: out of memory");
    }
    for (size_t i = 0; i < old->count; i++)
        if (strcmp(old->items[i]->endpoint->id, id) != 0)
            t->items[t->count++] = bl_webhook_snapshot_retain(old->items[i]);
    table_fill(c, t, res);
    PQclear(res);
    if (table_swap(c, t, err) != 0)
        return -1;
    atomic_fetch_add(&c->updates, 1);
    return 0;
}

/* ---- the refresh thread ---- */

/* Connects and LISTENs before loading, so no change between the load and
 * the first notification is missed. */
static int connect_and_load(bl_webhook_cache *c, bl_err *err)
{
    c->conn = bl_pg_connect(c->conninfo, err);
    if (!c->conn)
        return bl_err_wrap(err, "webhook cache");
    if (bl_pg_exec_cmd(c->conn, "LISTEN " CHANNEL, 0, NULL, err) != 0 || full_load(c, err) != 0) {
        PQfinish(c->conn);
        c->conn = NULL;
        return bl_err_wrap(err, "webhook cache");
    }
    return 0;
}

static void drop_connection(bl_webhook_cache *c, const char *why)
{
    bl_log_warn("webhook cache: connection lost; reloading after reconnect", BL_FS("error", why));
    PQfinish(c->conn);
    c->conn = NULL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Applies the pending notifications. Returns 0, or -1 when the connection
 * failed (err filled). */
static int drain_notifications(bl_webhook_cache *c, bl_err *err)
{
    char *ids[BATCH_RELOAD_THRESHOLD];
    size_t n = 0;
    bool overflow = false;
    PGnotify *note;
    while ((note = PQnotifies(c->conn)) != NULL) {
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = strcmp(ids[i], note->extra) == 0;
        if (!seen && n < BATCH_RELOAD_THRESHOLD)
            ids[n++] = strdup(note->extra);
        else if (!seen)
            overflow = true;
        PQfreemem(note);
    }
    int rc = 0;
    if (overflow)
        rc = full_load(c, err);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && !overflow && ids[i])
            rc = refresh_one(c, ids[i], err);
        free(ids[i]);
    }
    return rc;
}

static void *refresh_thread(void *arg)
{
    bl_webhook_cache *c = arg;
    while (!atomic_load(&c->stop)) {
        bl_err err = {0};
        if (!c->conn) {
            if (connect_and_load(c, &err) != 0) {
                bl_log_warn("webhook cache: reconnect failed", BL_FS("error", err.msg));
                for (int waited = 0; waited < c->reconnect_ms && !atomic_load(&c->stop);
                     waited += POLL_MS)
                    sleep_ms(POLL_MS);
                continue;
            }
            atomic_fetch_add(&c->reconnects, 1);
        }
        struct pollfd pfd = {.fd = PQsocket(c->conn), .events = POLLIN};
        if (pfd.fd < 0) {
            drop_connection(c, "no socket");
            continue;
        }
        if (poll(&pfd, 1, POLL_MS) < 0)
            continue; /* EINTR: look at stop and poll again */
        if (PQconsumeInput(c->conn) == 0 || PQstatus(c->conn) != CONNECTION_OK) {
            drop_connection(c, PQerrorMessage(c->conn));
            continue;
        }
        if (drain_notifications(c, &err) != 0)
            drop_connection(c, err.msg);
    }
    return NULL;
}

/* ---- public calls ---- */

bl_webhook_cache *bl_webhook_cache_new(const bl_webhook_cache_opts *opts, bl_err *err)
{
    if (!opts || !opts->conninfo || !opts->keyring) {
        bl_err_set(err, BL_EINVAL, "webhook cache: conninfo and keyring are required");
        return NULL;
    }
    bl_webhook_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->conninfo = strdup(opts->conninfo))) {
        free(c);
        bl_err_set(err, BL_ENOMEM, "webhook cache: out of memory");
        return NULL;
    }
    c->keyring = opts->keyring;
    c->reconnect_ms = opts->reconnect_ms > 0 ? opts->reconnect_ms : 1000;
    pthread_rwlock_init(&c->lock, NULL);
    c->current = table_new(0);
    if (c->current && !(c->current->index = bl_webhook_index_new(NULL, 0, err))) {
        table_free(c->current);
        c->current = NULL;
    }
    if (!c->current) {
        bl_err_set(err, BL_ENOMEM, "webhook cache: out of memory");
        goto fail;
    }
    if (connect_and_load(c, err) != 0)
        goto fail;
    if (pthread_create(&c->thread, NULL, refresh_thread, c) != 0) {
        bl_err_set(err, BL_EIO, "webhook cache: cannot start the refresh thread");
        goto fail;
    }
    c->thread_started = true;
    return c;
fail:
    bl_webhook_cache_free(c);
    return NULL;
}

void bl_webhook_cache_free(bl_webhook_cache *c)
{
    if (!c)
        return;
    atomic_store(&c->stop, true);
    if (c->thread_started)
        pthread_join(c->thread, NULL);
    PQfinish(c->conn);
    table_free(c->current);
    pthread_rwlock_destroy(&c->lock);
    free(c->conninfo);
    free(c);
}

void bl_webhook_match_list_clear(bl_webhook_match_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        bl_webhook_snapshot_release(l->items[i]);
    l->count = 0;
}

void bl_webhook_match_list_free(bl_webhook_match_list *l)
{
    if (!l)
        return;
    bl_webhook_match_list_clear(l);
    free(l->items);
    l->items = NULL;
    l->cap = 0;
}

static int list_push(bl_webhook_match_list *l, bl_webhook_snapshot *s, bl_err *err)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        bl_webhook_snapshot **items = realloc(l->items, cap * sizeof *items);
        if (!items)
            return bl_err_set(err, BL_ENOMEM, "webhook cache: out of memory");
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count++] = bl_webhook_snapshot_retain(s);
    return 0;
}

/* One candidate of a match: kept when the one rule (endpoint_match.h) takes
 * the event; doubles are removed after the walk. */
typedef struct match_walk {
    bl_webhook_match_list *out;
    const char *org, *type;
    const json_t *event;
    bl_err *err;
} match_walk;

static int visit_candidate(bl_webhook_snapshot *s, void *user)
{
    match_walk *w = user;
    if (!bl_webhook_endpoint_matches(s->endpoint, s->filter, w->org, w->type, w->event))
        return 0;
    return list_push(w->out, s, w->err);
}

static int match_id_cmp(const void *a, const void *b)
{
    return strcmp((*(bl_webhook_snapshot *const *)a)->endpoint->id, (*(bl_webhook_snapshot *const *)b)->endpoint->id);
}

/* Sorts out's items from first on by id and drops the doubles an endpoint
 * with two matching patterns left; returns how many remain from first. */
static size_t sort_unique(bl_webhook_match_list *out, size_t first)
{
    size_t n = out->count - first;
    if (n == 0)
        return 0; /* items may be NULL: qsort must not see it */
    bl_webhook_snapshot **items = out->items + first;
    qsort(items, n, sizeof *items, match_id_cmp);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept > 0 && items[kept - 1] == items[i])
            bl_webhook_snapshot_release(items[i]);
        else
            items[kept++] = items[i];
    }
    out->count = first + kept;
    return kept;
}

int bl_webhook_cache_match(bl_webhook_cache *c, const char *organization_id,
                           const char *event_type, const json_t *event,
                           bl_webhook_match_list *out, bl_err *err)
{
    if (!organization_id || !event_type)
        return bl_err_set(err, BL_EINVAL, "webhook cache: organization and event type required");
    json_t *empty = event ? NULL : json_object();
    match_walk w = {.out = out, .org = organization_id, .type = event_type, .event = event ? event : empty,
                    .err = err};
    size_t first = out->count;
    pthread_rwlock_rdlock(&c->lock);
    int rc = bl_webhook_index_candidates(c->current->index, organization_id, event_type, visit_candidate, &w, err);
    pthread_rwlock_unlock(&c->lock);
    json_decref(empty);
    if (rc != 0) {
        while (out->count > first)
            bl_webhook_snapshot_release(out->items[--out->count]);
        return -1;
    }
    return (int)sort_unique(out, first);
}

bl_webhook_snapshot *bl_webhook_cache_get(bl_webhook_cache *c, const char *id)
{
    if (!id)
        return NULL;
    pthread_rwlock_rdlock(&c->lock);
    bl_webhook_snapshot *found = bl_webhook_index_by_id(c->current->index, id);
    if (found)
        bl_webhook_snapshot_retain(found);
    pthread_rwlock_unlock(&c->lock);
    return found;
}

void bl_webhook_cache_stats_get(bl_webhook_cache *c, bl_webhook_cache_stats *out)
{
    pthread_rwlock_rdlock(&c->lock);
    out->endpoints = (long)c->current->count;
    pthread_rwlock_unlock(&c->lock);
    out->full_loads = atomic_load(&c->full_loads);
    out->updates = atomic_load(&c->updates);
    out->skipped = atomic_load(&c->skipped);
    out->reconnects = atomic_load(&c->reconnects);
}
