#include "api/auth/keys.h"

#include "core/crypto.h"
#include "core/pg_pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool bl_api_key_token_shaped(const char *token)
{
    size_t plen = strlen(BL_API_KEY_PREFIX);
    if (!token || strncmp(token, BL_API_KEY_PREFIX, plen) != 0)
        return false;
    const char *body = token + plen;
    if (strlen(body) != bl_base62_len(BL_API_KEY_RANDOM_BYTES))
        return false;
    for (; *body; body++) {
        char c = *body;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return false;
    }
    return true;
}

static const char *perm_array(bl_api_perm p)
{
    switch (p) {
    case BL_API_PERM_READ: return "{read}";
    case BL_API_PERM_WRITE: return "{read,write}";
    case BL_API_PERM_ADMIN: return "{read,write,admin}";
    default: return NULL;
    }
}

static const char *limit_text(int64_t v, char *buf, size_t len)
{
    if (v <= 0)
        return NULL;
    snprintf(buf, len, "%lld", (long long)v);
    return buf;
}

int bl_api_key_create(PGconn *conn, const bl_api_key_spec *spec, char token[BL_API_TOKEN_SIZE],
                      char id[BL_API_ID_MAX], bl_err *err)
{
    const char *perms = perm_array(spec->perm);
    if (!spec->org_id || !spec->name || !*spec->name || !perms)
        return bl_err_set(err, BL_EINVAL, "api key: organization, name and permission are required");
    char hash[BL_SHA256_HEX_SIZE], prefix[BL_API_KEY_DISPLAY_LEN + 1];
    if (bl_random_token(BL_API_KEY_PREFIX, BL_API_KEY_RANDOM_BYTES, token, BL_API_TOKEN_SIZE, err) != 0 ||
        bl_sha256_hex(token, strlen(token), hash, err) != 0)
        return -1;
    snprintf(prefix, sizeof prefix, "%s", token);
    const char *window = spec->rate_window ? spec->rate_window : "hour";
    bool hourly = strcmp(window, "hour") == 0;
    char minute[24], hour[24], day[24], month[24];
    const char *params[] = {spec->org_id, spec->name, hash, prefix, perms, spec->expires_at,
                            limit_text(spec->rate_per_minute, minute, sizeof minute),
                            limit_text(spec->rate_per_hour > 0 ? spec->rate_per_hour : hourly ? 1000 : 0, hour,
                                       sizeof hour),
                            limit_text(spec->rate_per_day, day, sizeof day),
                            limit_text(spec->rate_per_month, month, sizeof month), window, spec->description};
    PGresult *r = bl_pg_exec(conn,
                             "INSERT INTO api_keys (organization_id, name, token_sha256, prefix, permissions,"
                             " expires_at, rate_per_minute, rate_per_hour, rate_per_day, rate_per_month,"
                             " rate_window, description)"
                             " VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                             12, params, err);
    if (!r) {
        memset(token, 0, BL_API_TOKEN_SIZE);
        return bl_err_wrap(err, "api key: create");
    }
    snprintf(id, BL_API_ID_MAX, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

static bl_api_perm highest_perm(const char *list)
{
    if (strstr(list, "admin"))
        return BL_API_PERM_ADMIN;
    if (strstr(list, "write"))
        return BL_API_PERM_WRITE;
    if (strstr(list, "read"))
        return BL_API_PERM_READ;
    return BL_API_PERM_NONE;
}

int bl_api_key_lookup(PGconn *conn, const char *hash, bl_api_key_record *out, bl_err *err)
{
    const char *params[] = {hash};
    PGresult *r = bl_pg_exec_prepared(conn,
                             "SELECT k.id, k.organization_id, k.token_sha256,"
                             " array_to_string(k.permissions, ','), k.active,"
                             " coalesce(ceil(extract(epoch FROM k.expires_at))::bigint, 0),"
                             " o.plan, coalesce(k.rate_per_minute, 0), coalesce(k.rate_per_hour, 0),"
                             " coalesce(k.rate_per_day, 0), coalesce(k.rate_per_month, 0)"
                             " FROM api_keys k JOIN api_organizations o ON o.id = k.organization_id"
                             " WHERE k.token_sha256 = $1",
                             1, params, err);
    if (!r)
        return bl_err_wrap(err, "api key: look up");
    /* The index found the row by hash; comparing the hash again in constant
     * time keeps the decision itself free of early-exit timing. */
    int found = PQntuples(r) == 1 && strlen(PQgetvalue(r, 0, 2)) == 64 &&
                bl_crypto_equal(PQgetvalue(r, 0, 2), hash, 64);
    if (found) {
        memset(out, 0, sizeof *out);
        bl_api_auth *a = &out->auth;
        snprintf(a->key_id, sizeof a->key_id, "%s", PQgetvalue(r, 0, 0));
        snprintf(a->org_id, sizeof a->org_id, "%s", PQgetvalue(r, 0, 1));
        a->perm = highest_perm(PQgetvalue(r, 0, 3));
        if (bl_api_plan_parse(PQgetvalue(r, 0, 6), &a->plan) != 0)
            a->plan = BL_API_PLAN_DEMO;
        a->rate_per_minute = strtoll(PQgetvalue(r, 0, 7), NULL, 10);
        a->rate_per_hour = strtoll(PQgetvalue(r, 0, 8), NULL, 10);
        a->rate_per_day = strtoll(PQgetvalue(r, 0, 9), NULL, 10);
        a->rate_per_month = strtoll(PQgetvalue(r, 0, 10), NULL, 10);
        out->active = strcmp(PQgetvalue(r, 0, 4), "t") == 0;
        out->expires_at = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
    }
    PQclear(r);
    return found;
}

int bl_api_key_decide(const bl_api_key_record *rec, time_t now, bl_api_auth *out, bl_err *err)
{
    if (!rec->active) {
        bl_err_set(err, BL_ENOTFOUND, "API key revoked");
        return 0;
    }
    if (rec->expires_at != 0 && rec->expires_at <= (int64_t)now) {
        bl_err_set(err, BL_ENOTFOUND, "API key expired");
        return 0;
    }
    *out = rec->auth;
    return 1;
}

int bl_api_key_hash(const char *token, char hash[BL_SHA256_HEX_SIZE], bl_err *err)
{
    if (!bl_api_key_token_shaped(token)) {
        bl_err_set(err, BL_ENOTFOUND, "API key not recognised");
        return 0;
    }
    return bl_sha256_hex(token, strlen(token), hash, err) == 0 ? 1 : -1;
}

/* ---- usage ---- */

typedef struct usage_entry {
    char key_id[BL_API_ID_MAX];
    long long count;
    time_t last_used;
} usage_entry;

struct bl_api_usage {
    pthread_mutex_t lock;
    usage_entry *entries;
    size_t count, cap;
};

bl_api_usage *bl_api_usage_new(void)
{
    bl_api_usage *u = calloc(1, sizeof *u);
    if (u)
        pthread_mutex_init(&u->lock, NULL);
    return u;
}

void bl_api_usage_free(bl_api_usage *u)
{
    if (!u)
        return;
    pthread_mutex_destroy(&u->lock);
    free(u->entries);
    free(u);
}

static void usage_add(bl_api_usage *u, const char *key_id, long long n, time_t now)
{
    pthread_mutex_lock(&u->lock);
    usage_entry *e = NULL;
    for (size_t i = 0; i < u->count && !e; i++)
        if (strcmp(u->entries[i].key_id, key_id) == 0)
            e = &u->entries[i];
    if (!e && u->count == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 16;
        usage_entry *grown = realloc(u->entries, cap * sizeof *grown);
        if (grown) {
            u->entries = grown;
            u->cap = cap;
        }
    }
    if (!e && u->count < u->cap) {
        e = &u->entries[u->count++];
        snprintf(e->key_id, sizeof e->key_id, "%s", key_id);
        e->count = 0;
        e->last_used = 0;
    }
    if (e) { /* out of memory loses a count, never a request */
        e->count += n;
        if (now > e->last_used)
            e->last_used = now;
    }
    pthread_mutex_unlock(&u->lock);
}

void bl_api_usage_record(bl_api_usage *u, const char *key_id, time_t now)
{
    usage_add(u, key_id, 1, now);
}

/* Appends "item" to a Postgres array literal being built in *buf. */
static int array_append(char **buf, size_t *len, size_t *cap, const char *item)
{
    size_t n = strlen(item);
    if (*len + n + 3 > *cap) {
        size_t want = (*cap ? *cap * 2 : 256) + n;
        char *grown = realloc(*buf, want);
        if (!grown)
            return -1;
        *buf = grown;
        *cap = want;
    }
    (*buf)[*len] = *len == 0 ? '{' : ',';
    (*len)++;
    memcpy(*buf + *len, item, n);
    *len += n;
    (*buf)[*len] = '}';
    (*buf)[*len + 1] = '\0';
    return 0;
}

int bl_api_usage_flush(bl_api_usage *u, PGconn *conn, bl_err *err)
{
    pthread_mutex_lock(&u->lock);
    usage_entry *taken = u->entries;
    size_t n = u->count;
    u->entries = NULL;
    u->count = u->cap = 0;
    pthread_mutex_unlock(&u->lock);
    if (n == 0) {
        free(taken);
        return 0;
    }
    char *ids = NULL, *counts = NULL, *times = NULL;
    size_t il = 0, ic = 0, cl = 0, cc = 0, tl = 0, tc = 0;
    int rc = -1;
    for (size_t i = 0; i < n; i++) {
        char c[24], t[24];
        snprintf(c, sizeof c, "%lld", taken[i].count);
        snprintf(t, sizeof t, "%lld", (long long)taken[i].last_used);
        if (array_append(&ids, &il, &ic, taken[i].key_id) != 0 || array_append(&counts, &cl, &cc, c) != 0 ||
            array_append(&times, &tl, &tc, t) != 0) {
            bl_err_set(err, BL_ENOMEM, "api usage: out of memory");
            goto done;
        }
    }
    const char *params[] = {ids, counts, times};
    rc = bl_pg_exec_cmd(conn,
                        "UPDATE api_keys k SET usage_count = k.usage_count + u.n,"
                        " last_used_at = GREATEST(k.last_used_at, to_timestamp(u.t))"
                        " FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS u(id, n, t)"
                        " WHERE k.id = u.id",
                        3, params, err);
    if (rc != 0)
        bl_err_wrap(err, "api usage: flush");
done:
    if (rc != 0) /* keep the counts for the next flush */
        for (size_t i = 0; i < n; i++)
            usage_add(u, taken[i].key_id, taken[i].count, taken[i].last_used);
    free(ids);
    free(counts);
    free(times);
    free(taken);
    return rc;
}
