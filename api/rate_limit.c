#include "api/rate_limit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUBJECT_MAX 64

static const int64_t window_seconds[BL_RATE_MONTH] = {60, 3600, 86400};
static const char *const window_names[BL_RATE_WINDOWS] = {"minute", "hour", "day", "month"};

const char *bl_rate_window_name(bl_rate_window w)
{
    return w >= 0 && w < BL_RATE_WINDOWS ? window_names[w] : "hour";
}

int bl_rate_window_parse(const char *text, bl_rate_window *out)
{
    for (int k = 0; text && k < BL_RATE_WINDOWS; k++)
        if (strcmp(text, window_names[k]) == 0) {
            *out = (bl_rate_window)k;
            return 0;
        }
    return -1;
}

/* The window of kind k holding now: [*start, *end). Months are calendar
 * months in UTC, so they are not a fixed number of seconds. */
static void window_bounds(int k, time_t now, time_t *start, time_t *end)
{
    if (k != BL_RATE_MONTH) {
        *start = now - (time_t)(now % window_seconds[k]);
        *end = *start + (time_t)window_seconds[k];
        return;
    }
    struct tm tm;
    gmtime_r(&now, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    *start = timegm(&tm);
    tm.tm_mon += 1; /* timegm normalises December + 1 */
    *end = timegm(&tm);
}

typedef struct window_state {
    time_t start;
    int64_t local;      /* leased here, not yet spent */
    int64_t known_used; /* the shared counter after this replica's last lease */
} window_state;

typedef struct subject_state {
    char subject[SUBJECT_MAX];
    pthread_mutex_t lock;
    window_state w[BL_RATE_WINDOWS];
    struct subject_state *next;
} subject_state;

struct bl_rate_limiter {
    bl_pg_pool *pool;
    pthread_mutex_t lock; /* guards the list; each subject has its own lock */
    subject_state *subjects;
};

bl_rate_limiter *bl_rate_limiter_new(bl_pg_pool *pool)
{
    bl_rate_limiter *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->pool = pool;
    pthread_mutex_init(&l->lock, NULL);
    return l;
}

void bl_rate_limiter_free(bl_rate_limiter *l)
{
    if (!l)
        return;
    subject_state *s = l->subjects;
    while (s) {
        subject_state *next = s->next;
        pthread_mutex_destroy(&s->lock);
        free(s);
        s = next;
    }
    pthread_mutex_destroy(&l->lock);
    free(l);
}

static subject_state *subject_find(bl_rate_limiter *l, const char *subject)
{
    pthread_mutex_lock(&l->lock);
    subject_state *s = l->subjects;
    while (s && strcmp(s->subject, subject) != 0)
        s = s->next;
    if (!s && (s = calloc(1, sizeof *s)) != NULL) {
        snprintf(s->subject, sizeof s->subject, "%s", subject);
        pthread_mutex_init(&s->lock, NULL);
        s->next = l->subjects;
        l->subjects = s;
    }
    pthread_mutex_unlock(&l->lock);
    return s;
}

static int64_t block_size(int64_t limit, int64_t known_used)
{
    int64_t b = (limit - known_used) / BL_RATE_BLOCK_DIVISOR;
    if (b > BL_RATE_BLOCK_MAX)
        b = BL_RATE_BLOCK_MAX;
    return b < 1 ? 1 : b;
}

/* Leases up to a block of tokens from the shared counter into w. */
static int lease(bl_rate_limiter *l, const char *subject, int k, window_state *w, int64_t limit,
                 bl_err *err)
{
    char start[24], block[24], lim[24];
    snprintf(start, sizeof start, "%lld", (long long)w->start);
    snprintf(block, sizeof block, "%lld", (long long)block_size(limit, w->known_used));
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    const char *params[] = {subject, window_names[k], start, block, lim};
    PGconn *conn = bl_pg_pool_acquire(l->pool, 5000, err);
    if (!conn)
        return bl_err_wrap(err, "rate limit");
    PGresult *r = bl_pg_exec_prepared(
        conn,
        "INSERT INTO api_rate_counters AS c (subject, window_kind, window_start, used, last_grant)"
        " VALUES ($1, $2, to_timestamp($3::bigint), LEAST($4::bigint, $5::bigint), LEAST($4::bigint, $5::bigint))"
        " ON CONFLICT (subject, window_kind, window_start) DO UPDATE"
        " SET last_grant = LEAST($4::bigint, GREATEST($5::bigint - c.used, 0)),"
        "     used = c.used + LEAST($4::bigint, GREATEST($5::bigint - c.used, 0))"
        " RETURNING used, last_grant",
        5, params, err);
    bl_pg_pool_release(l->pool, conn);
    if (!r)
        return bl_err_wrap(err, "rate limit: lease");
    w->known_used = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    w->local += strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    PQclear(r);
    return 0;
}

int bl_rate_limiter_check(bl_rate_limiter *l, const char *subject, const int64_t limits[BL_RATE_WINDOWS],
                          time_t now, bl_rate_verdict *v, bl_err *err)
{
    memset(v, 0, sizeof *v);
    v->allowed = true;
    subject_state *s = subject_find(l, subject);
    if (!s)
        return bl_err_set(err, BL_ENOMEM, "rate limit: out of memory");
    int rc = 0;
    int refused_by = -1;
    pthread_mutex_lock(&s->lock);
    for (int k = 0; k < BL_RATE_WINDOWS; k++) {
        if (limits[k] <= 0)
            continue;
        window_state *w = &s->w[k];
        time_t start, end;
        window_bounds(k, now, &start, &end);
        if (w->start != start) {
            w->start = start;
            w->local = 0;
            w->known_used = 0;
        }
        /* Once the shared counter is full nothing comes back to it within
         * the window, so a refusal costs no round trip. */
        if (w->local == 0 && w->known_used < limits[k] && lease(l, subject, k, w, limits[k], err) != 0) {
            rc = -1;
            break;
        }
        if (w->local == 0 && refused_by < 0)
            refused_by = k;
    }
    if (rc == 0) {
        int64_t best_remaining = INT64_MAX;
        for (int k = 0; k < BL_RATE_WINDOWS; k++) {
            if (limits[k] <= 0)
                continue;
            window_state *w = &s->w[k];
            if (refused_by < 0)
                w->local--;
            int64_t remaining = limits[k] - w->known_used + w->local;
            if (remaining < 0)
                remaining = 0;
            time_t start, end;
            window_bounds(k, w->start, &start, &end);
            v->window_limit[k] = limits[k];
            v->window_remaining[k] = refused_by == k ? 0 : remaining;
            v->window_reset[k] = end;
            bool pick = refused_by >= 0 ? k == refused_by : remaining < best_remaining;
            if (pick) {
                best_remaining = remaining;
                v->limit = limits[k];
                v->remaining = refused_by >= 0 ? 0 : remaining;
                v->window = (bl_rate_window)k;
                v->reset = end;
            }
        }
        if (refused_by >= 0) {
            v->allowed = false;
            v->retry_after = (int64_t)(v->reset - now);
            if (v->retry_after < 1)
                v->retry_after = 1;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}
