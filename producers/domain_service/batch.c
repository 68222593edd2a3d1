/* The domain service's step: the commands one poll brings (up to
 * BATCH_MAX, never waiting for more than are there) applied in ONE
 * PostgreSQL transaction, so they share one commit and its WAL flush,
 * which was the cost of a command when each had its own (tests/bench/README.md).
 * Each command runs under its own SAVEPOINT: a refused command is rolled
 * back alone (its refusal recorded in the same transaction) and the others
 * stay; an infrastructure failure anywhere rolls the whole batch back and
 * the batch is handled again one command per transaction, as before.
 * Offsets are committed only after the transaction (and every dead letter
 * of the batch) is durable. */
#include "producers/domain_service/service_internal.h"

#include "core/log.h"
#include "core/pg_pool.h"

#include <stdlib.h>
#include <string.h>

#define BATCH_MAX 256

/* One polled message on its way to an outcome. */
typedef struct batch_item {
    bl_kafka_msg *msg;
    json_t *env;           /* the decoded envelope (owned); NULL: undecodable */
    bl_domain_command cmd; /* borrows from env */
    const char *key;       /* idempotency key, borrowed from env */
    int outcome;           /* 0 applied, 1 already processed, -1 refused */
    size_t events;
    bl_domain_refusal why;
} batch_item;

/* Applies it in the open transaction, under the savepoint made for it.
 * Returns 0
 * when it has an outcome (applied, already processed, refused and
 * recorded), -1 with err on an infrastructure failure (the transaction is
 * then to be rolled back whole). */
static int apply_item(bl_domain_service *svc, batch_item *it, bl_err *err)
{
    if (it->env && !it->why.error_class)
        it->outcome = bl_domain_svc_apply_open(svc, &it->cmd, it->key, &it->events, &it->why);
    else
        it->outcome = -1; /* undecodable: why says so */
    if (it->outcome == 1) {
        bl_err dup = {0};
        if (bl_domain_svc_announce_duplicate(svc, &it->cmd, &dup) != 0) {
            /* a waiter then reads the status URL, as in service.c */
            bl_log_warn("duplicate's outcome not announced", BL_FS("command_id", it->cmd.id),
                        BL_FS("error", dup.msg));
            if (bl_pg_exec_cmd(svc->conn, "ROLLBACK TO SAVEPOINT busline_command", 0, NULL, err) != 0)
                return -1;
        }
    } else if (it->outcome == -1) {
        if (!it->why.error_class) {
            *err = it->why.err;
            return -1;
        }
        if (bl_pg_exec_cmd(svc->conn, "ROLLBACK TO SAVEPOINT busline_command", 0, NULL, err) != 0 ||
            bl_domain_svc_record_refusal(svc, &it->cmd, &it->why, err) != 0)
            return -1;
    }
    return 0;
}

/* Applies items[0..n) in one transaction. Returns 0 when it committed,
 * -1 with err when nothing of it did (or a COMMIT's fate is unknown: the
 * one-by-one pass then finds what did as already processed). */
static int apply_batch(bl_domain_service *svc, batch_item *items, size_t n, bl_err *err)
{
    if (PQstatus(svc->conn) != CONNECTION_OK)
        PQreset(svc->conn);
    /* each command's savepoint is made in the round trip that ends the
     * previous one's (simple protocol: several statements in one message);
     * COMMIT releases the last */
    for (size_t i = 0; i < n; i++)
        if (bl_pg_exec_cmd(svc->conn,
                           i == 0 ? "BEGIN; SAVEPOINT busline_command"
                                  : "RELEASE SAVEPOINT busline_command; SAVEPOINT busline_command",
                           0, NULL, err) != 0 ||
            apply_item(svc, &items[i], err) != 0) {
            bl_err ignored = {0};
            bl_pg_rollback(svc->conn, &ignored);
            return -1;
        }
    return bl_pg_commit(svc->conn, err);
}

/* Counts and logs the committed outcome of it, and dead-letters a refusal.
 * Returns 0, or -1 with err when stopped before its dead letter was sent. */
static int conclude_item(bl_domain_service *svc, batch_item *it, bl_err *err)
{
    int64_t offset = bl_kafka_msg_offset(it->msg);
    if (it->outcome == 0) {
        svc->stats.applied++;
        svc->stats.events += (long)it->events;
        bl_log_info("command applied", BL_FS("command_id", it->cmd.id), BL_FS("type", it->cmd.type),
                    BL_FI("offset", offset));
    } else if (it->outcome == 1) {
        svc->stats.duplicates++;
        bl_log_info("command already processed", BL_FS("command_id", it->cmd.id), BL_FI("offset", offset));
    } else if (bl_domain_svc_dead_letter_retrying(svc, it->msg, &it->why, err) != 0) {
        return -1;
    }
    return 0;
}

/* Commits, without waiting, the position after items[0..n) (the last
 * message of each partition among them). */
static void commit_offsets(bl_domain_service *svc, batch_item *items, size_t n)
{
    bl_kafka_offset offs[BATCH_MAX];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bl_kafka_offset next = bl_kafka_msg_next_offset(items[i].msg);
        size_t j = 0;
        while (j < k && !(offs[j].partition == next.partition && strcmp(offs[j].topic, next.topic) == 0))
            j++;
        if (j == k || next.next_offset > offs[j].next_offset)
            offs[j] = next;
        if (j == k)
            k++;
    }
    bl_err commit_err = {0};
    /* Sent without waiting for the broker: a commit lost or overtaken (a
     * crash, a rebalance) only means the commands may be read again, and
     * they are then skipped as already processed. */
    if (k && bl_kafka_consumer_commit_async(svc->consumer, offs, k, &commit_err) != 0)
        bl_log_warn("offset commit failed", BL_FS("error", commit_err.msg));
}

int bl_domain_service_step(bl_domain_service *svc, int timeout_ms, bl_err *err)
{
    batch_item *items = calloc(BATCH_MAX, sizeof *items);
    if (!items)
        return bl_err_set(err, BL_ENOMEM, "%s: out of memory", svc->rules.domain);
    size_t n = 0;
    int got = bl_kafka_consumer_poll(svc->consumer, timeout_ms, &items[0].msg, err);
    if (got < 0) {
        bl_log_warn("consumer error", BL_FS("error", err->msg));
        free(items);
        return bl_kafka_consumer_fatal(svc->consumer, err) ? -1 : 0;
    }
    if (got > 0)
        n = 1;
    /* what is there already, without waiting: an error is reported by the
     * next step's poll */
    bl_err more = {0};
    while (n > 0 && n < BATCH_MAX && bl_kafka_consumer_poll(svc->consumer, 0, &items[n].msg, &more) > 0)
        n++;
    size_t done = 0;
    int rc = 0;
    if (n == 1) {
        rc = bl_domain_svc_handle_retrying(svc, items[0].msg, err);
        done = rc == 0;
    } else if (n > 1) {
        for (size_t i = 0; i < n; i++)
            bl_domain_svc_decode(svc, items[i].msg, &items[i].env, &items[i].cmd, &items[i].key,
                                 &items[i].why);
        bl_err batch_err = {0};
        int batched = apply_batch(svc, items, n, &batch_err) == 0;
        if (!batched)
            bl_log_warn("command batch rolled back, handling its commands one by one",
                        BL_FS("domain", svc->rules.domain), BL_FI("commands", (long)n),
                        BL_FS("error", batch_err.msg));
        for (; done < n && rc == 0; done += rc == 0)
            rc = batched ? conclude_item(svc, &items[done], err)
                         : bl_domain_svc_handle_retrying(svc, items[done].msg, err);
    }
    commit_offsets(svc, items, done);
    for (size_t i = 0; i < n; i++) {
        json_decref(items[i].env);
        bl_kafka_msg_release(items[i].msg);
    }
    free(items);
    return rc == 0 ? (int)n : -1;
}
