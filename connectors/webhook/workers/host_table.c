/* Per-destination state of a delivery worker (see host_table.h). Two small
 * open-addressing maps keyed by strings; entries live until the table is
 * freed (a worker sees a bounded set of endpoints). */
#include "connectors/webhook/workers/host_table.h"

#include "core/hash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TTL_MS 30000

typedef struct url_entry {
    char *url;
    int64_t checked_at_ms;
    bl_url_check check;
} url_entry;

/* A string-keyed map of pointers; grows at half full. */
typedef struct str_map {
    char **keys;
    void **vals;
    size_t cap, count;
} str_map;

struct bl_host_table {
    bl_breaker_config breaker_cfg;
    const bl_ssrf_allowlist *allow;
    int64_t ttl_ms;
    str_map hosts; /* "host:port" -> bl_host_entry */
    str_map urls;  /* url -> url_entry */
};

static void *map_get(const str_map *m, const char *key)
{
    if (!m->cap)
        return NULL;
    for (size_t i = bl_fnv1a_str(BL_FNV1A_INIT, key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return NULL;
        if (strcmp(m->keys[i], key) == 0)
            return m->vals[i];
    }
}

static int map_put_slot(str_map *m, char *key, void *val)
{
    for (size_t i = bl_fnv1a_str(BL_FNV1A_INIT, key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i]) {
            m->keys[i] = key;
            m->vals[i] = val;
            m->count++;
            return 0;
        }
    }
}

/* Adds key (owned by the map from now on) -> val. Returns 0 or -1. */
static int map_put(str_map *m, char *key, void *val)
{
    if ((m->count + 1) * 2 > m->cap) {
        str_map bigger = {.cap = m->cap ? m->cap * 2 : 64};
        bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
        bigger.vals = calloc(bigger.cap, sizeof *bigger.vals);
        if (!bigger.keys || !bigger.vals) {
            free(bigger.keys);
            free(bigger.vals);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i])
                map_put_slot(&bigger, m->keys[i], m->vals[i]);
        free(m->keys);
        free(m->vals);
        *m = bigger;
    }
    return map_put_slot(m, key, val);
}

static void map_free(str_map *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i]) {
            free(m->keys[i]);
            free_val(m->vals[i]);
        }
    }
    free(m->keys);
    free(m->vals);
}

static void free_url_entry(void *p)
{
    url_entry *u = p;
    if (u)
        free(u->url);
    free(u);
}

bl_host_table *bl_host_table_new(const bl_breaker_config *breaker_cfg, const bl_ssrf_allowlist *allow,
                                 int64_t check_ttl_ms, bl_err *err)
{
    bl_breaker_config cfg = breaker_cfg ? *breaker_cfg : bl_breaker_config_default();
    if (bl_breaker_config_check(&cfg, err) != 0)
        return NULL;
    bl_host_table *t = calloc(1, sizeof *t);
    if (!t) {
        bl_err_set(err, BL_ENOMEM, "host table: out of memory");
        return NULL;
    }
    t->breaker_cfg = cfg;
    t->allow = allow;
    t->ttl_ms = check_ttl_ms > 0 ? check_ttl_ms : DEFAULT_TTL_MS;
    return t;
}

void bl_host_table_free(bl_host_table *t)
{
    if (!t)
        return;
    map_free(&t->hosts, free);
    map_free(&t->urls, free_url_entry);
    free(t);
}

size_t bl_host_table_hosts(const bl_host_table *t)
{
    return t->hosts.count;
}

static bl_host_entry *host_for(bl_host_table *t, const char *key, bl_err *err)
{
    bl_host_entry *h = map_get(&t->hosts, key);
    if (h)
        return h;
    h = calloc(1, sizeof *h);
    char *k = strdup(key);
    if (!h || !k || map_put(&t->hosts, k, h) != 0) {
        free(h);
        free(k);
        bl_err_set(err, BL_ENOMEM, "host table: out of memory");
        return NULL;
    }
    snprintf(h->key, sizeof h->key, "%s", key);
    bl_breaker_init(&h->breaker, &t->breaker_cfg, NULL);
    return h;
}

const bl_url_check *bl_host_table_check_url(bl_host_table *t, const char *url, int64_t now_ms, bl_err *err)
{
    url_entry *u = map_get(&t->urls, url);
    if (u && now_ms - u->checked_at_ms < t->ttl_ms)
        return &u->check;
    bl_ssrf_target target;
    bl_err cerr = {0};
    int rc = bl_ssrf_check_url(url, t->allow, &target, &cerr);
    if (rc != 0 && cerr.code != BL_EINVAL) {
        /* did not resolve, or similar: a transport failure, not a verdict */
        bl_err_set(err, cerr.code ? cerr.code : BL_ENOTFOUND, "%s", cerr.msg);
        return NULL;
    }
    if (!u) {
        u = calloc(1, sizeof *u);
        char *k = strdup(url);
        if (!u || !k || !(u->url = strdup(url)) || map_put(&t->urls, k, u) != 0) {
            free_url_entry(u);
            free(k);
            bl_err_set(err, BL_ENOMEM, "host table: out of memory");
            return NULL;
        }
    }
    u->checked_at_ms = now_ms;
    memset(&u->check, 0, sizeof u->check);
    if (rc != 0) {
        u->check.refused = true;
        snprintf(u->check.error, sizeof u->check.error, "%s", cerr.msg);
        return &u->check;
    }
    char key[BL_HOST_KEY_MAX];
    snprintf(key, sizeof key, "%s:%d", target.host, target.port);
    if (!(u->check.host = host_for(t, key, err)))
        return NULL;
    if (bl_ssrf_resolve_entry(&target, u->check.resolve, sizeof u->check.resolve) != 0) {
        bl_err_set(err, BL_EINVAL, "host table: resolve entry too long");
        return NULL;
    }
    return &u->check;
}

int64_t bl_host_take_token(bl_host_entry *h, double rate, int burst, int64_t now_ms)
{
    if (rate <= 0)
        return 0;
    if (rate != h->limit_rate || burst != h->limit_burst) {
        double b = burst > 0 ? burst : ceil(rate);
        if (bl_rate_limiter_init(&h->limiter, rate, b < 1 ? 1 : b, now_ms, NULL) != 0)
            return 0; /* out-of-range settings were refused on save: do not limit */
        h->limit_rate = rate;
        h->limit_burst = burst;
    }
    return bl_rate_limiter_try_take(&h->limiter, now_ms);
}
