/* The batched delivery-log writer (see delivery_log.h). Appenders copy a
 * record into a ring under a mutex; one thread takes up to batch_rows at a
 * time and writes them with a single COPY. A batch that fails stays in the
 * thread's hands and is retried, so a short PostgreSQL outage loses nothing
 * while the ring has room. */
#include "connectors/webhook/store/delivery_log.h"

#include "core/time_format.h"
#include "core/clock.h"
#include "core/log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define RETRY_AFTER_FAILURE_MS 1000
#define COPY_SQL                                                                         \
    "COPY webhook_deliveries (endpoint_id, organization_id, event_type, event_id, "     \
    "payload_topic, payload_partition, payload_offset, status_code, succeeded, "        \
    "response_excerpt, error, duration_ms, attempt, delivered_at, payload_excerpt, "    \
    "payload_bytes) FROM STDIN"

/* A queued record: one allocation, strings after the struct. */
typedef struct queued {
    char *endpoint_id, *organization_id, *event_type, *event_id, *topic, *response, *error, *payload;
    size_t payload_bytes;
    int32_t partition;
    int64_t offset;
    int status_code;
    bool succeeded;
    int64_t duration_ms;
    int attempt;
    int64_t delivered_at_ms;
} queued;

struct bl_delivery_log {
    bl_delivery_log_opts opts;
    pthread_mutex_t mu;
    pthread_cond_t work;  /* to the writer: rows or a flush request or stop */
    pthread_cond_t room;  /* to appenders: space freed; to flushers: rows done */
    queued **ring;
    size_t head, count;
    long appended, written, dropped, flushes, failures;
    long done;            /* records settled (written or lost), for flush waits */
    long flush_target;    /* the writer flushes at once while done < this */
    bool stop;
    pthread_t thread;
    bool thread_started;
    /* writer-thread only */
    queued **batch; /* batch_rows slots */
    char *buf;
    size_t buf_len, buf_cap;
};

/* ---- copying records ---- */

/* Length of the valid UTF-8 sequence starting at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    if (c >= 0x01 && c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] > 0x8f))
        return 0; /* overlong, surrogate, beyond U+10FFFF */
    return len;
}

/* Copies src[0..len) to dst as valid UTF-8 text without NULs ('?' for each
 * bad byte) and terminates it; dst has len + 1 bytes. */
static char *copy_text(char *dst, const char *src, size_t len)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(s + i, len - i);
        if (n == 0) {
            dst[i++] = '?';
            continue;
        }
        memcpy(dst + i, s + i, n);
        i += n;
    }
    dst[len] = '\0';
    return dst;
}

static size_t cut(const char *s, size_t max)
{
    return s ? strnlen(s, max) : 0;
}

static queued *queued_new(const bl_delivery_record *r)
{
    size_t l_ep = strlen(r->endpoint_id), l_org = strlen(r->organization_id),
           l_type = strlen(r->event_type), l_id = strlen(r->event_id), l_topic = cut(r->topic, 1024),
           l_resp = r->response ? (r->response_len < BL_DELIVERY_EXCERPT_MAX ? r->response_len
                                                                             : BL_DELIVERY_EXCERPT_MAX)
                                : 0,
           l_err = cut(r->error, BL_DELIVERY_ERROR_MAX),
           l_pay = r->payload ? (r->payload_len < BL_DELIVERY_PAYLOAD_MAX ? r->payload_len : BL_DELIVERY_PAYLOAD_MAX)
                              : 0;
    queued *q = malloc(sizeof *q + l_ep + l_org + l_type + l_id + l_topic + l_resp + l_err + l_pay + 8);
    if (!q)
        return NULL;
    char *p = (char *)(q + 1);
    q->endpoint_id = copy_text(p, r->endpoint_id, l_ep), p += l_ep + 1;
    q->organization_id = copy_text(p, r->organization_id, l_org), p += l_org + 1;
    q->event_type = copy_text(p, r->event_type, l_type), p += l_type + 1;
    q->event_id = copy_text(p, r->event_id, l_id), p += l_id + 1;
    q->topic = r->topic ? copy_text(p, r->topic, l_topic) : NULL, p += l_topic + 1;
    q->response = r->response ? copy_text(p, r->response, l_resp) : NULL, p += l_resp + 1;
    q->error = r->error ? copy_text(p, r->error, l_err) : NULL, p += l_err + 1;
    q->payload = r->payload ? copy_text(p, r->payload, l_pay) : NULL;
    q->payload_bytes = r->payload ? r->payload_len : 0;
    q->partition = r->partition;
    q->offset = r->offset;
    q->status_code = r->status_code;
    q->succeeded = r->succeeded;
    q->duration_ms = r->duration_ms;
    q->attempt = r->attempt;
    q->delivered_at_ms = r->delivered_at_ms ? r->delivered_at_ms : bl_clock_wall_ms();
    return q;
}

static int record_check(const bl_delivery_record *r, bl_err *err)
{
    if (!r)
        return bl_err_set(err, BL_EINVAL, "delivery log: no record");
    const char *missing = !r->endpoint_id || !r->endpoint_id[0]         ? "endpoint_id"
                          : !r->organization_id || !r->organization_id[0] ? "organization_id"
                          : !r->event_type || !r->event_type[0]           ? "event_type"
                          : !r->event_id || !r->event_id[0]               ? "event_id"
                                                                          : NULL;
    if (missing)
        return bl_err_set(err, BL_EINVAL, "delivery log: %s is required", missing);
    if (strlen(r->endpoint_id) > 256 || strlen(r->organization_id) > 256 ||
        strlen(r->event_type) > 256 || strlen(r->event_id) > 1024)
        return bl_err_set(err, BL_EINVAL, "delivery log: an id or type is too long");
    if (r->attempt < 1 || r->duration_ms < 0 || r->duration_ms > INT32_MAX)
        return bl_err_set(err, BL_EINVAL, "delivery log: attempt must be >= 1, duration_ms >= 0");
    return 0;
}

/* ---- COPY text ---- */

static int buf_reserve(bl_delivery_log *log, size_t more)
{
    if (log->buf_len + more <= log->buf_cap)
        return 0;
    size_t cap = log->buf_cap ? log->buf_cap : 64 * 1024;
    while (cap < log->buf_len + more)
        cap *= 2;
    char *b = realloc(log->buf, cap);
    if (!b)
        return -1;
    log->buf = b;
    log->buf_cap = cap;
    return 0;
}

/* Appends one COPY text field (NULL as \N), escaped, then sep. */
static int put_field(bl_delivery_log *log, const char *s, char sep)
{
    size_t n = s ? strlen(s) : 0;
    if (buf_reserve(log, 2 * n + 3) != 0)
        return -1;
    char *o = log->buf + log->buf_len;
    if (!s) {
        *o++ = '\\';
        *o++ = 'N';
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        const char *esc = c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t" : NULL;
        if (esc) {
            *o++ = esc[0];
            *o++ = esc[1];
        } else {
            *o++ = c;
        }
    }
    *o++ = sep;
    log->buf_len = (size_t)(o - log->buf);
    return 0;
}

static int put_row(bl_delivery_log *log, const queued *q)
{
    char part[16], off[24], status[16], dur[24], att[16], at[BL_RFC3339_MS_SIZE], pay[24];
    snprintf(pay, sizeof pay, "%zu", q->payload_bytes);
    snprintf(part, sizeof part, "%" PRId32, q->partition);
    snprintf(off, sizeof off, "%" PRId64, q->offset);
    snprintf(status, sizeof status, "%d", q->status_code);
    snprintf(dur, sizeof dur, "%" PRId64, q->duration_ms);
    snprintf(att, sizeof att, "%d", q->attempt);
    if (bl_rfc3339_from_ms(q->delivered_at_ms, at, NULL) != 0)
        bl_rfc3339_from_ms(bl_clock_wall_ms(), at, NULL);
    const char *fields[] = {q->endpoint_id, q->organization_id, q->event_type, q->event_id,
                            q->topic, q->topic ? part : NULL, q->topic ? off : NULL,
                            q->status_code ? status : NULL, q->succeeded ? "t" : "f",
                            q->response, q->error, dur, att, at, q->payload, q->payload ? pay : NULL};
    size_t n = sizeof fields / sizeof fields[0];
    for (size_t i = 0; i < n; i++)
        if (put_field(log, fields[i], i + 1 < n ? '\t' : '\n') != 0)
            return -1;
    return 0;
}

/* Writes batch[0..n) with one COPY. Returns 0, or -1 with err. */
static int write_batch(bl_delivery_log *log, queued **batch, size_t n, bl_err *err)
{
    log->buf_len = 0;
    for (size_t i = 0; i < n; i++)
        if (put_row(log, batch[i]) != 0)
            return bl_err_set(err, BL_ENOMEM, "delivery log: out of memory");
    PGconn *conn = bl_pg_pool_acquire(log->opts.pool, 5000, err);
    if (!conn)
        return bl_err_wrap(err, "delivery log");
    int rc = 0;
    PGresult *res = PQexec(conn, COPY_SQL);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        rc = bl_err_set(err, BL_EPG, "delivery log: COPY: %s", PQerrorMessage(conn));
        PQclear(res);
        goto done;
    }
    PQclear(res);
    if (PQputCopyData(conn, log->buf, (int)log->buf_len) != 1)
        rc = bl_err_set(err, BL_EPG, "delivery log: COPY data: %s", PQerrorMessage(conn));
    if (PQputCopyEnd(conn, rc == 0 ? NULL : "client failed") != 1 && rc == 0)
        rc = bl_err_set(err, BL_EPG, "delivery log: COPY end: %s", PQerrorMessage(conn));
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0)
            rc = bl_err_set(err, BL_EPG, "delivery log: COPY: %s", PQresultErrorMessage(res));
        PQclear(res);
    }
done:
    bl_pg_pool_release(log->opts.pool, conn);
    return rc;
}

/* ---- the writer thread ---- */

static void settle(bl_delivery_log *log, queued **batch, size_t n, bool written)
{
    for (size_t i = 0; i < n; i++)
        free(batch[i]);
    pthread_mutex_lock(&log->mu);
    if (written) {
        log->written += (long)n;
        log->flushes++;
    } else {
        log->dropped += (long)n;
    }
    log->done += (long)n;
    pthread_cond_broadcast(&log->room);
    pthread_mutex_unlock(&log->mu);
}

static void *writer_thread(void *arg)
{
    bl_delivery_log *log = arg;
    size_t max = log->opts.batch_rows;
    queued **batch = log->batch;
    size_t n = 0;
    pthread_mutex_lock(&log->mu);
    for (;;) {
        if (n == 0) {
            struct timespec until = bl_clock_deadline_after_ms(CLOCK_REALTIME, log->opts.flush_interval_ms);
            while (!log->stop && log->count < max && log->done >= log->flush_target &&
                   pthread_cond_timedwait(&log->work, &log->mu, &until) != ETIMEDOUT) {}
            if (log->count == 0) {
                if (log->stop)
                    break;
                continue;
            }
            while (n < max && log->count > 0) {
                batch[n++] = log->ring[log->head];
                log->head = (log->head + 1) % log->opts.queue_capacity;
                log->count--;
            }
            pthread_cond_broadcast(&log->room); /* appenders may go on */
        }
        bool stopping = log->stop;
        pthread_mutex_unlock(&log->mu);
        bl_err err = {0};
        int rc = write_batch(log, batch, n, &err);
        if (rc == 0 || stopping) {
            if (rc != 0)
                bl_log_error("delivery log: rows lost at shutdown", BL_FI("rows", (int64_t)n),
                             BL_FS("error", err.msg));
            settle(log, batch, n, rc == 0);
            n = 0;
            pthread_mutex_lock(&log->mu);
            continue;
        }
        bl_log_warn("delivery log: flush failed; retrying", BL_FI("rows", (int64_t)n),
                    BL_FS("error", err.msg));
        pthread_mutex_lock(&log->mu);
        log->failures++;
        struct timespec until = bl_clock_deadline_after_ms(CLOCK_REALTIME, RETRY_AFTER_FAILURE_MS);
        while (!log->stop && pthread_cond_timedwait(&log->work, &log->mu, &until) != ETIMEDOUT) {}
    }
    pthread_mutex_unlock(&log->mu);
    return NULL;
}

/* ---- public calls ---- */

bl_delivery_log *bl_delivery_log_new(const bl_delivery_log_opts *opts, bl_err *err)
{
    if (!opts || !opts->pool) {
        bl_err_set(err, BL_EINVAL, "delivery log: a connection pool is required");
        return NULL;
    }
    bl_delivery_log *log = calloc(1, sizeof *log);
    if (!log) {
        bl_err_set(err, BL_ENOMEM, "delivery log: out of memory");
        return NULL;
    }
    log->opts = *opts;
    if (!log->opts.queue_capacity)
        log->opts.queue_capacity = 20000;
    if (!log->opts.batch_rows)
        log->opts.batch_rows = 1000;
    if (log->opts.batch_rows > log->opts.queue_capacity)
        log->opts.batch_rows = log->opts.queue_capacity;
    if (log->opts.flush_interval_ms <= 0)
        log->opts.flush_interval_ms = 200;
    if (log->opts.append_wait_ms == 0)
        log->opts.append_wait_ms = 100;
    pthread_mutex_init(&log->mu, NULL);
    pthread_cond_init(&log->work, NULL);
    pthread_cond_init(&log->room, NULL);
    log->ring = calloc(log->opts.queue_capacity, sizeof *log->ring);
    log->batch = calloc(log->opts.batch_rows, sizeof *log->batch);
    if (!log->ring || !log->batch) {
        bl_err_set(err, BL_ENOMEM, "delivery log: out of memory");
        goto fail;
    }
    if (pthread_create(&log->thread, NULL, writer_thread, log) != 0) {
        bl_err_set(err, BL_EIO, "delivery log: cannot start the writer thread");
        goto fail;
    }
    log->thread_started = true;
    return log;
fail:
    bl_delivery_log_free(log);
    return NULL;
}

void bl_delivery_log_free(bl_delivery_log *log)
{
    if (!log)
        return;
    if (log->thread_started) {
        pthread_mutex_lock(&log->mu);
        log->stop = true;
        pthread_cond_broadcast(&log->work);
        pthread_mutex_unlock(&log->mu);
        pthread_join(log->thread, NULL);
    }
    for (size_t i = 0; i < log->count; i++)
        free(log->ring[(log->head + i) % log->opts.queue_capacity]);
    free(log->ring);
    free(log->batch);
    free(log->buf);
    pthread_cond_destroy(&log->room);
    pthread_cond_destroy(&log->work);
    pthread_mutex_destroy(&log->mu);
    free(log);
}

int bl_delivery_log_append(bl_delivery_log *log, const bl_delivery_record *rec, bl_err *err)
{
    if (record_check(rec, err) != 0)
        return -1;
    queued *q = queued_new(rec);
    if (!q)
        return bl_err_set(err, BL_ENOMEM, "delivery log: out of memory");
    pthread_mutex_lock(&log->mu);
    if (log->count == log->opts.queue_capacity && log->opts.append_wait_ms > 0) {
        struct timespec until = bl_clock_deadline_after_ms(CLOCK_REALTIME, log->opts.append_wait_ms);
        while (log->count == log->opts.queue_capacity && !log->stop &&
               pthread_cond_timedwait(&log->room, &log->mu, &until) != ETIMEDOUT) {}
    }
    if (log->count == log->opts.queue_capacity || log->stop) {
        log->dropped++;
        pthread_mutex_unlock(&log->mu);
        free(q);
        return bl_err_set(err, BL_ETIMEOUT, "delivery log: queue full; record of %.64s dropped",
                          rec->event_id);
    }
    log->ring[(log->head + log->count) % log->opts.queue_capacity] = q;
    log->count++;
    log->appended++;
    if (log->count >= log->opts.batch_rows)
        pthread_cond_signal(&log->work);
    pthread_mutex_unlock(&log->mu);
    return 0;
}

int bl_delivery_log_flush(bl_delivery_log *log, int timeout_ms, bl_err *err)
{
    pthread_mutex_lock(&log->mu);
    /* Everything appended so far is settled once done reaches this. */
    long target = log->appended;
    if (target > log->flush_target)
        log->flush_target = target;
    pthread_cond_signal(&log->work);
    struct timespec until = bl_clock_deadline_after_ms(CLOCK_REALTIME, timeout_ms);
    int rc = 0;
    while (log->done < target && rc == 0)
        if (pthread_cond_timedwait(&log->room, &log->mu, &until) == ETIMEDOUT)
            rc = -1;
    if (log->done >= target)
        rc = 0;
    pthread_mutex_unlock(&log->mu);
    return rc == 0 ? 0
                   : bl_err_set(err, BL_ETIMEOUT, "delivery log: flush not done in %d ms",
                                timeout_ms);
}

void bl_delivery_log_stats_get(bl_delivery_log *log, bl_delivery_log_stats *out)
{
    pthread_mutex_lock(&log->mu);
    out->appended = log->appended;
    out->written = log->written;
    out->dropped = log->dropped;
    out->flushes = log->flushes;
    out->failures = log->failures;
    out->queued = (long)log->count;
    pthread_mutex_unlock(&log->mu);
}

/* ---- stats ---- */

#define STATS_SQL                                                                        \
    "SELECT count(*), count(*) FILTER (WHERE succeeded), "                               \
    "coalesce(avg(duration_ms), 0)::double precision FROM webhook_deliveries "           \
    "WHERE endpoint_id = $1 AND delivered_at >= to_timestamp($2::bigint / 1000.0)"
#define RECENT_SQL                                                                       \
    "SELECT id, event_type, event_id, coalesce(status_code, 0), succeeded, "             \
    "coalesce(error, ''), duration_ms, attempt, "                                         \
    "(extract(epoch from delivered_at) * 1000)::bigint FROM webhook_deliveries "         \
    "WHERE endpoint_id = $1 AND delivered_at >= to_timestamp($2::bigint / 1000.0) "      \
    "ORDER BY delivered_at DESC, id DESC LIMIT 10"

static void read_recent(const PGresult *res, bl_delivery_stats *out)
{
    int rows = PQntuples(res);
    for (int i = 0; i < rows && i < BL_DELIVERY_RECENT; i++) {
        bl_delivery_attempt *a = &out->recent[i];
        a->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        snprintf(a->event_type, sizeof a->event_type, "%s", PQgetvalue(res, i, 1));
        snprintf(a->event_id, sizeof a->event_id, "%s", PQgetvalue(res, i, 2));
        a->status_code = atoi(PQgetvalue(res, i, 3));
        a->succeeded = PQgetvalue(res, i, 4)[0] == 't';
        snprintf(a->error, sizeof a->error, "%s", PQgetvalue(res, i, 5));
        a->duration_ms = strtoll(PQgetvalue(res, i, 6), NULL, 10);
        a->attempt = atoi(PQgetvalue(res, i, 7));
        a->delivered_at_ms = strtoll(PQgetvalue(res, i, 8), NULL, 10);
        out->recent_count = (size_t)i + 1;
    }
}

int bl_delivery_stats_get(bl_pg_pool *pool, const char *endpoint_id, int64_t since_ms,
                          bl_delivery_stats *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    if (!endpoint_id)
        return bl_err_set(err, BL_EINVAL, "delivery stats: endpoint id required");
    PGconn *conn = bl_pg_pool_acquire(pool, 5000, err);
    if (!conn)
        return bl_err_wrap(err, "delivery stats");
    char since[24];
    snprintf(since, sizeof since, "%" PRId64, since_ms > 0 ? since_ms : 0);
    const char *params[] = {endpoint_id, since};
    int rc = -1;
    PGresult *totals = bl_pg_exec(conn, STATS_SQL, 2, params, err);
    PGresult *recent = totals ? bl_pg_exec(conn, RECENT_SQL, 2, params, err) : NULL;
    if (totals && recent) {
        out->total = strtol(PQgetvalue(totals, 0, 0), NULL, 10);
        out->succeeded = strtol(PQgetvalue(totals, 0, 1), NULL, 10);
        out->failed = out->total - out->succeeded;
        out->avg_duration_ms = strtod(PQgetvalue(totals, 0, 2), NULL);
        out->success_rate = out->total ? (double)out->succeeded / (double)out->total : 0;
        read_recent(recent, out);
        rc = 0;
    } else {
        bl_err_wrap(err, "delivery stats");
    }
    PQclear(totals);
    PQclear(recent);
    bl_pg_pool_release(pool, conn);
    return rc;
}
