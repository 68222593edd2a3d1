/* One relay batch: read unsent rows in id order, produce them all, wait for
 * every delivery report, mark the acknowledged ones sent in one UPDATE. */
#include "producers/outbox/relay_internal.h"

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/pg_pool.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SELECT_COLUMNS "SELECT id, aggregate_id, topic, payload, headers::text FROM busline_outbox "
#define SELECT_SQL SELECT_COLUMNS "WHERE sent_at IS NULL ORDER BY id LIMIT $1"
/* Acknowledged rows are marked sent (kept for the retention) or, with a
 * retention of 0, deleted: a DELETE only stamps the old row versions, where
 * an UPDATE writes each row, payload and all, again with its index entries
 * -- 5 to 8 times the cost per batch (tests/bench/README.md). */
#define MARK_SQL "UPDATE busline_outbox SET sent_at = now() WHERE id = ANY($1::bigint[])"
#define DELETE_SQL "DELETE FROM busline_outbox WHERE id = ANY($1::bigint[])"
#define AND_SELECT_NEXT SELECT_COLUMNS "WHERE sent_at IS NULL AND id <> ALL($1::bigint[]) ORDER BY id LIMIT $2"
#define MARK_AND_SELECT_SQL                                                                   \
    "WITH marked AS (UPDATE busline_outbox SET sent_at = now() WHERE id = ANY($1::bigint[])) " \
    AND_SELECT_NEXT
#define DELETE_AND_SELECT_SQL                                                         \
    "WITH removed AS (DELETE FROM busline_outbox WHERE id = ANY($1::bigint[])) " AND_SELECT_NEXT
/* The claim sent while a batch is at the broker: it writes the marks of the
 * batch before ($1) and leaves out the batch in flight ($2). */
#define AND_PREFETCH_NEXT                                                                       \
    SELECT_COLUMNS "WHERE sent_at IS NULL AND id <> ALL($1::bigint[]) AND id <> ALL($2::bigint[])" \
                   " ORDER BY id LIMIT $3"
#define MARK_AND_PREFETCH_SQL                                                                 \
    "WITH marked AS (UPDATE busline_outbox SET sent_at = now() WHERE id = ANY($1::bigint[])) " \
    AND_PREFETCH_NEXT
#define DELETE_AND_PREFETCH_SQL                                                       \
    "WITH removed AS (DELETE FROM busline_outbox WHERE id = ANY($1::bigint[])) " AND_PREFETCH_NEXT

enum { COL_ID, COL_AGGREGATE_ID, COL_TOPIC, COL_PAYLOAD, COL_HEADERS };

/* Decodes a bytea in PostgreSQL's hex output ("\x0a1b...") into the relay's
 * payload buffer, growing it as needed. Returns the length, or -1. */
static long decode_bytea(struct bl_relay *r, const char *text, size_t len, bl_err *err)
{
    if (len < 2 || text[0] != '\\' || text[1] != 'x' || len % 2 != 0)
        return bl_err_set(err, BL_EINVAL, "relay: payload is not bytea hex output");
    size_t n = (len - 2) / 2;
    if (n > r->payload_cap) {
        char *grown = realloc(r->payload_buf, n);
        if (!grown)
            return bl_err_set(err, BL_ENOMEM, "relay: out of memory for a %zu-byte payload", n);
        r->payload_buf = grown;
        r->payload_cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        int hi = bl_hex_value(text[2 + 2 * i]), lo = bl_hex_value(text[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return bl_err_set(err, BL_EINVAL, "relay: payload is not bytea hex output");
        r->payload_buf[i] = (char)(hi << 4 | lo);
    }
    return (long)n;
}

/* Turns the row's headers (a JSON object of strings) into Kafka headers that
 * borrow from *json, which the caller decrefs after the send. */
static int parse_headers(const char *text, json_t **json, bl_kafka_header *out, size_t *n,
                         bl_err *err)
{
    json_error_t jerr;
    *n = 0;
    *json = json_loads(text, 0, &jerr);
    if (!*json || !json_is_object(*json))
        return bl_err_set(err, BL_EINVAL, "relay: headers are not a JSON object: %s", jerr.text);
    const char *key;
    json_t *value;
    json_object_foreach(*json, key, value) {
        if (!json_is_string(value))
            return bl_err_set(err, BL_EINVAL, "relay: header %s is not a string", key);
        if (*n == BL_KAFKA_MAX_HEADERS)
            return bl_err_set(err, BL_EINVAL, "relay: more than %d headers", BL_KAFKA_MAX_HEADERS);
        out[*n] = (bl_kafka_header){key, json_string_value(value), json_string_length(value)};
        (*n)++;
    }
    return 0;
}

void relay_on_delivery(const bl_kafka_delivery *d, void *user)
{
    struct bl_relay *r = user;
    relay_slot *slot = d->msg_opaque;
    if (!r->batch_open || !slot)
        return;
    if (d->err_code == 0) {
        slot->state = SLOT_ACKED;
        return;
    }
    slot->state = SLOT_FAILED;
    if (r->delivery_error[0] == '\0')
        snprintf(r->delivery_error, sizeof r->delivery_error, "%s: %s", d->topic ? d->topic : "?",
                 d->err_msg ? d->err_msg : "delivery failed");
}

/* Hands row i to the producer. Returns 0, or -1 with err (the row is then
 * left unsent). */
static int send_row(struct bl_relay *r, PGresult *res, int i, bl_err *err)
{
    long len = decode_bytea(r, PQgetvalue(res, i, COL_PAYLOAD),
                            (size_t)PQgetlength(res, i, COL_PAYLOAD), err);
    if (len < 0)
        return -1;
    json_t *json = NULL;
    bl_kafka_header headers[BL_KAFKA_MAX_HEADERS];
    size_t n_headers = 0;
    int rc = parse_headers(PQgetvalue(res, i, COL_HEADERS), &json, headers, &n_headers, err);
    if (rc == 0) {
        const char *key = PQgetvalue(res, i, COL_AGGREGATE_ID);
        r->slots[i].state = SLOT_PENDING;
        rc = bl_kafka_producer_send(r->producer, PQgetvalue(res, i, COL_TOPIC), key, strlen(key),
                                    r->payload_buf, (size_t)len, headers, n_headers, &r->slots[i],
                                    r->cfg.delivery_timeout_ms, err);
        if (rc != 0)
            r->slots[i].state = SLOT_UNSENT;
    }
    json_decref(json);
    if (rc != 0)
        bl_err_wrap(err, "relay: outbox id %s", PQgetvalue(res, i, COL_ID));
    return rc;
}

/* 1 when an earlier row of the batch with the same aggregate did not get
 * through: marking row i then would let a retry land after it. */
static int follows_failed_row(const struct bl_relay *r, PGresult *res, int i)
{
    const char *aggregate = PQgetvalue(res, i, COL_AGGREGATE_ID);
    for (int j = 0; j < i; j++) {
        if (r->slots[j].state != SLOT_ACKED &&
            strcmp(PQgetvalue(res, j, COL_AGGREGATE_ID), aggregate) == 0)
            return 1;
    }
    return 0;
}

/* Adds the ids of the rows to mark sent to the pending ones in ids_buf
 * ("{1,2,3}"): acknowledged, and not after a failed row of their aggregate.
 * The pending marks may still hold the batch before's, when this batch came
 * from a claim made in advance and none went ahead of it. */
static void collect_acked(struct bl_relay *r, PGresult *res, int rows, int failures)
{
    size_t used = 0;
    int marked = r->pending_marks;
    if (marked > 0)
        used = strlen(r->ids_buf) - 1; /* over the closing brace */
    else
        r->ids_buf[used++] = '{';
    for (int i = 0; i < rows; i++) {
        if (r->slots[i].state != SLOT_ACKED || (failures > 0 && follows_failed_row(r, res, i)))
            continue;
        /* ids_cap holds two batches of ids of 20 digits and a comma. */
        used += (size_t)snprintf(r->ids_buf + used, r->ids_cap - used, "%s%s", marked ? "," : "",
                                 PQgetvalue(res, i, COL_ID));
        marked++;
    }
    r->ids_buf[used++] = '}';
    r->ids_buf[used] = '\0';
    r->pending_marks = marked;
}

/* n marks just written: count them as published. */
static void count_published(struct bl_relay *r, int n)
{
    if (n > 0) {
        atomic_fetch_add(&r->published, n);
        atomic_fetch_add(&r->batches, 1);
        if (r->m_published)
            bl_counter_add(r->m_published, n);
    }
}

/* The pending marks just written. */
static void marks_written(struct bl_relay *r)
{
    count_published(r, r->pending_marks);
    r->pending_marks = 0;
}

/* "{id,...}" of the batch's first rows rows into buf (ids_cap bytes). */
static void ids_of_batch(const struct bl_relay *r, PGresult *res, int rows, char *buf)
{
    size_t used = 0;
    buf[used++] = '{';
    for (int i = 0; i < rows; i++)
        used += (size_t)snprintf(buf + used, r->ids_cap - used, "%s%s", i ? "," : "", PQgetvalue(res, i, COL_ID));
    snprintf(buf + used, r->ids_cap - used, "}");
}

/* Sends the next batch's claim without waiting for it: the database reads
 * while the broker acknowledges the batch in flight (res, rows), which the
 * claim leaves out; the pending marks travel with it. Returns 0, or -1 with
 * err (nothing in flight then). */
static int start_prefetch(struct bl_relay *r, PGresult *res, int rows, bl_err *err)
{
    ids_of_batch(r, res, rows, r->flight_buf);
    if (r->pending_marks > 0)
        memcpy(r->carry_buf, r->ids_buf, strlen(r->ids_buf) + 1);
    else
        snprintf(r->carry_buf, r->ids_cap, "{}");
    char limit[16];
    snprintf(limit, sizeof limit, "%d", r->cfg.batch_size);
    const char *params[3] = {r->carry_buf, r->flight_buf, limit};
    const char *sql = r->cfg.retention_ms > 0 ? MARK_AND_PREFETCH_SQL : DELETE_AND_PREFETCH_SQL;
    if (!PQsendQueryParams(r->conn, sql, 3, NULL, params, NULL, NULL, 0))
        return bl_err_set(err, BL_EIO, "relay: send the next claim: %s", PQerrorMessage(r->conn));
    r->carried_marks = r->pending_marks;
    r->pending_marks = 0;
    r->prefetching = 1;
    return 0;
}

/* Waits for the claim in flight: its marks are then written and its rows
 * kept as r->prefetched. Returns 0, or -1 with err (the carried marks are
 * lost: those rows go out again, same ce_id). */
static int finish_prefetch(struct bl_relay *r, bl_err *err)
{
    r->prefetching = 0;
    PGresult *res, *rows = NULL;
    int rc = 0;
    while ((res = PQgetResult(r->conn))) {
        if (PQresultStatus(res) == PGRES_TUPLES_OK && !rows && rc == 0) {
            rows = res;
            continue;
        }
        if (rc == 0)
            rc = bl_err_set(err, BL_EIO, "relay: the next claim: %s", PQresultErrorMessage(res));
        PQclear(res);
    }
    if (rc == 0 && !rows)
        rc = bl_err_set(err, BL_EIO, "relay: the next claim: %s", PQerrorMessage(r->conn));
    if (rc != 0) {
        PQclear(rows);
        r->carried_marks = 0;
        return -1;
    }
    count_published(r, r->carried_marks);
    r->carried_marks = 0;
    r->prefetched = rows;
    return 0;
}

void relay_drop_prefetch(struct bl_relay *r)
{
    if (r->prefetching && r->conn) {
        PGresult *res;
        while ((res = PQgetResult(r->conn)))
            PQclear(res);
    }
    r->prefetching = 0;
    r->carried_marks = 0;
    PQclear(r->prefetched);
    r->prefetched = NULL;
}

int relay_mark_ids(struct bl_relay *r, const char *ids, bl_err *err)
{
    const char *params[1] = {ids};
    if (bl_pg_exec_cmd(r->conn, r->cfg.retention_ms > 0 ? MARK_SQL : DELETE_SQL, 1, params, err) != 0)
        return bl_err_wrap(err, "relay: mark the rows of the positions marker sent");
    return 0;
}

/* Exactly-once: writes the batch's marker into its transaction. It names
 * the rows handed over (rows_sent of them) and the pending marks of the
 * batch before, not yet written: every row Kafka will hold once this
 * transaction commits and PostgreSQL may not have marked. Returns 0, or
 * -1 with err. */
static int send_marker(struct bl_relay *r, PGresult *res, int rows_sent, bl_err *err)
{
    size_t used = 0, cap = r->ids_cap;
    int n = 0;
    r->marker_buf[used++] = '{';
    if (r->pending_marks > 0) {
        size_t len = strlen(r->ids_buf) - 2; /* inside the braces */
        memcpy(r->marker_buf + used, r->ids_buf + 1, len);
        used += len;
        n = r->pending_marks;
    }
    for (int i = 0; i < rows_sent && used < cap; i++)
        used += (size_t)snprintf(r->marker_buf + used, cap - used, "%s%s", n++ ? "," : "", PQgetvalue(res, i, COL_ID));
    if (used + 2 > cap)
        return bl_err_set(err, BL_EINVAL, "relay: positions marker over %zu bytes", cap);
    r->marker_buf[used++] = '}';
    r->marker_buf[used] = '\0';
    return bl_kafka_producer_send(r->producer, r->positions_topic, "outbox", 6, r->marker_buf, used, NULL, 0,
                                  NULL, r->cfg.delivery_timeout_ms, err);
}

/* Exactly-once: commits the batch's transaction. On failure every row
 * counts as failed, the transaction is aborted if it can be, and -1 tells
 * the caller to give up the lease: the next leader's recovery reads what
 * Kafka really holds. */
static int commit_batch(struct bl_relay *r, int rows, int rows_sent, bl_err *err)
{
    if (bl_kafka_producer_txn_commit(r->producer, r->cfg.delivery_timeout_ms + 10000, err) == 0) {
        /* committed: Kafka holds every row handed over, reports or not */
        for (int i = 0; i < rows_sent; i++)
            r->slots[i].state = SLOT_ACKED;
        return 0;
    }
    for (int i = 0; i < rows; i++)
        r->slots[i].state = SLOT_FAILED;
    bl_err abort_err = {0};
    if (bl_kafka_producer_txn_abort(r->producer, 10000, &abort_err) != 0)
        bl_log_warn("relay: abort after a failed commit", BL_FS("error", abort_err.msg));
    return -1;
}

int relay_flush_marks(struct bl_relay *r, bl_err *err)
{
    if (r->pending_marks == 0)
        return 0;
    const char *params[1] = {r->ids_buf};
    if (bl_pg_exec_cmd(r->conn, r->cfg.retention_ms > 0 ? MARK_SQL : DELETE_SQL, 1, params, err) != 0)
        return bl_err_wrap(err, "relay: mark %d rows sent", r->pending_marks);
    marks_written(r);
    return 0;
}

/* Drops a producer that cannot go on (fatal error, reports that never came).
 * Messages it still held get failed reports while the batch is open. */
static void drop_producer(struct bl_relay *r, const char *why)
{
    bl_log_warn("relay: recreating the Kafka producer", BL_FS("reason", why));
    bl_kafka_producer_free(r->producer, 0);
    r->producer = NULL;
}

/* Waits for every delivery report of the batch, keeping the backlog gauges
 * fresh meanwhile (a broker outage shows as a growing backlog, not a frozen
 * one). Returns 0, or -1 with err when reports did not come in time. */
static int wait_for_reports(struct bl_relay *r, bl_err *err)
{
    int64_t deadline = bl_clock_mono_ms() + r->cfg.delivery_timeout_ms + 10000;
    while (bl_kafka_producer_flush(r->producer, 1000, err) != 0) {
        if (err->code != BL_ETIMEOUT || bl_clock_mono_ms() >= deadline)
            return -1;
        bl_err gauge_err = {0};
        if (relay_refresh_backlog_if_due(r, &gauge_err) != 0)
            bl_log_warn("relay: backlog", BL_FS("error", gauge_err.msg));
    }
    return 0;
}

/* Reads the next batch; when the previous batch's marks are pending, one
 * statement writes them too (one round trip and one commit per batch
 * instead of two). Its SELECT sees the rows as they were before its UPDATE,
 * hence it leaves out the ids being marked by name. It must not skip by
 * "id > last read": a row that committed after the last read with a lower
 * id may precede a newer row of its aggregate. */
static PGresult *claim_rows(struct bl_relay *r, bl_err *err)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%d", r->cfg.batch_size);
    PGresult *res;
    if (r->pending_marks > 0) {
        const char *params[2] = {r->ids_buf, limit};
        res = bl_pg_exec(r->conn, r->cfg.retention_ms > 0 ? MARK_AND_SELECT_SQL : DELETE_AND_SELECT_SQL, 2,
                         params, err);
    } else {
        const char *params[1] = {limit};
        res = bl_pg_exec(r->conn, SELECT_SQL, 1, params, err);
    }
    if (!res)
        return NULL;
    marks_written(r);
    return res;
}

int relay_batch_run(struct bl_relay *r, int *failures, bl_err *err)
{
    *failures = 0;
    int64_t t_start = bl_clock_mono_ms();
    PGresult *res = r->prefetched;
    r->prefetched = NULL;
    if (!res && !(res = claim_rows(r, err)))
        return bl_err_wrap(err, "relay: read unsent rows");
    int rows = PQntuples(res);
    if (rows == 0) {
        PQclear(res);
        /* a claim made in advance found nothing: the last marks are due */
        return relay_flush_marks(r, err) == 0 ? 0 : -1;
    }

    int64_t t_read = bl_clock_mono_ms();
    memset(r->slots, 0, sizeof *r->slots * (size_t)rows);
    for (int i = 0; i < rows; i++)
        r->slots[i].relay = r;
    r->delivery_error[0] = '\0';
    r->batch_open = 1;
    if (r->cfg.exactly_once && bl_kafka_producer_txn_begin(r->producer, err) != 0) {
        r->batch_open = 0;
        PQclear(res);
        return -1;
    }
    bl_err send_err = {0};
    int rows_sent = 0;
    for (; rows_sent < rows; rows_sent++) {
        /* Stop at the first row the producer refuses: later rows of its
         * aggregate must not go out before it. */
        if (send_row(r, res, rows_sent, &send_err) != 0)
            break;
    }
    if (r->cfg.exactly_once && send_marker(r, res, rows_sent, err) != 0) {
        bl_err abort_err = {0};
        bl_kafka_producer_txn_abort(r->producer, 10000, &abort_err);
        r->batch_open = 0;
        PQclear(res);
        return -1;
    }
    int64_t t_sent = bl_clock_mono_ms();
    /* A full batch handed over whole: more rows are likely waiting, so the
     * next claim runs while the broker acknowledges this one. */
    bl_err prefetch_err = {0};
    int prefetch_failed = rows == r->cfg.batch_size && !send_err.msg[0] &&
                          start_prefetch(r, res, rows, &prefetch_err) != 0;
    bl_err flush_err = {0};
    if (r->cfg.exactly_once) {
        int committed = commit_batch(r, rows, rows_sent, &flush_err) == 0;
        r->batch_open = 0;
        if (!committed) {
            PQclear(res);
            *err = flush_err;
            return bl_err_wrap(err, "relay: batch of %d rows", rows);
        }
    } else if (wait_for_reports(r, &flush_err) != 0) {
        drop_producer(r, flush_err.msg);
    } else if (bl_kafka_producer_fatal(r->producer, &flush_err)) {
        drop_producer(r, flush_err.msg);
    }
    r->batch_open = 0;

    for (int i = 0; i < rows; i++)
        *failures += r->slots[i].state != SLOT_ACKED;
    if (*failures > 0) {
        relay_count_error(r, *failures);
        bl_log_warn("relay: rows not published stay unsent for the next batch",
                    BL_FI("failed", *failures), BL_FI("rows", rows),
                    BL_FS("error", send_err.msg[0] ? send_err.msg : r->delivery_error));
    }
    collect_acked(r, res, rows, *failures);

    PQclear(res);
    if (r->prefetching && finish_prefetch(r, &prefetch_err) != 0)
        prefetch_failed = 1;
    if (prefetch_failed) {
        *err = prefetch_err;
        return -1;
    }
    /* Rows claimed before this batch's failures were known are not sent:
     * the failed rows go first, after the back-off. */
    if (*failures > 0)
        relay_drop_prefetch(r);
    int64_t t_acked = bl_clock_mono_ms();
    /* The marks ride with the next read when that comes at once (a full,
     * clean batch); otherwise they are written now, before any wait. */
    if ((*failures > 0 || rows < r->cfg.batch_size) && relay_flush_marks(r, err) != 0)
        return -1;
    bl_log_debug("relay: batch", BL_FI("rows", rows), BL_FI("failed", *failures),
                 BL_FI("read_ms", t_read - t_start), BL_FI("send_ms", t_sent - t_read),
                 BL_FI("wait_ms", t_acked - t_sent), BL_FI("mark_ms", bl_clock_mono_ms() - t_acked));
    return rows;
}
