#include "core/kafka_producer.h"

#include "core/clock.h"
#include "core/kafka_config.h"
#include "core/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How many send_sync calls may wait at once (threads sharing one producer). */
#define SYNC_SLOTS 16

/* A synchronous send waits on one slot; the slot's own address is the
 * message opaque, so the delivery callback tells sync reports from async ones
 * by address range, with no allocation per message. A waiter that times out
 * leaves its slot "abandoned" and the late report frees it. */
typedef struct sync_slot {
    int in_use;
    int abandoned;
    int done;
    int err_code;
    int32_t partition;
    int64_t offset;
    char err_msg[160];
} sync_slot;

struct bl_kafka_producer {
    rd_kafka_t *rk;
    bl_kafka_delivery_fn on_delivery;
    void *user;
    int closing;     /* set by free: failed reports from then on are counted */
    int undelivered; /* failed reports while closing */
    pthread_mutex_t lock; /* guards slots and polling */
    /* Several threads may wait in send_sync at once: one of them polls
     * librdkafka (polling) while the others sleep on acked, which every
     * report and every end of a poll broadcasts, so each waiter wakes as soon
     * as its own report is in rather than at the end of a poll timeout. */
    pthread_cond_t acked;
    int polling;
    sync_slot slots[SYNC_SLOTS];
};

static const char *const producer_defaults[] = {
    "enable.idempotence", "true",
    "acks", "all",
    "linger.ms", "5",
    "batch.num.messages", "10000",
    "compression.type", "lz4",
    /* Same key -> partition mapping as the Java client, so mixed producers agree. */
    "partitioner", "murmur2_random",
    NULL,
};

static sync_slot *slot_of(bl_kafka_producer *p, void *opaque)
{
    uintptr_t a = (uintptr_t)opaque, first = (uintptr_t)&p->slots[0],
              end = (uintptr_t)&p->slots[SYNC_SLOTS];
    return a >= first && a < end ? (sync_slot *)opaque : NULL;
}

static void on_report(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    bl_kafka_producer *p = opaque;
    sync_slot *slot = slot_of(p, m->_private);
    /* not rd_kafka_message_errstr: on a delivery report it answers the
     * message's own payload (not NUL-terminated, and not for the logs) */
    const char *err_msg = m->err ? rd_kafka_err2str(m->err) : "";
    if (m->err && p->closing)
        p->undelivered++;
    if (slot) {
        pthread_mutex_lock(&p->lock);
        if (slot->abandoned) {
            slot->in_use = slot->abandoned = 0;
        } else {
            slot->done = 1;
            pthread_cond_broadcast(&p->acked);
            slot->err_code = m->err;
            slot->partition = m->partition;
            slot->offset = m->offset;
            snprintf(slot->err_msg, sizeof slot->err_msg, "%s", err_msg);
        }
        pthread_mutex_unlock(&p->lock);
        return;
    }
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
    if (m->err)
        bl_log_warn("kafka delivery failed", BL_FS("topic", topic), BL_FI("partition", m->partition),
                    BL_FS("error", err_msg));
    if (p->on_delivery) {
        bl_kafka_delivery d = {m->_private, topic, m->partition, m->offset, m->err, err_msg};
        p->on_delivery(&d, p->user);
    }
}

bl_kafka_producer *bl_kafka_producer_new(const char *brokers, const char *const *extra,
                                         bl_kafka_delivery_fn on_delivery, void *user, bl_err *err)
{
    bl_kafka_producer *p = calloc(1, sizeof *p);
    if (!p) {
        bl_err_set(err, BL_ENOMEM, "kafka: producer: out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->acked, &attr);
    pthread_condattr_destroy(&attr);
    p->on_delivery = on_delivery;
    p->user = user;
    rd_kafka_conf_t *conf = bl_kafka_conf_new(brokers, producer_defaults, extra, p, err);
    if (conf) {
        rd_kafka_conf_set_dr_msg_cb(conf, on_report);
        p->rk = bl_kafka_handle_new(RD_KAFKA_PRODUCER, conf, "producer", err);
    }
    if (!p->rk) {
        pthread_cond_destroy(&p->acked);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    return p;
}

int bl_kafka_producer_send(bl_kafka_producer *p, const char *topic, const void *key, size_t key_len,
                           const void *value, size_t value_len, const bl_kafka_header *headers,
                           size_t n_headers, void *msg_opaque, int queue_timeout_ms, bl_err *err)
{
    if (!p || !topic || !*topic)
        return bl_err_set(err, BL_EINVAL, "kafka: produce: no topic");
    if (n_headers > BL_KAFKA_MAX_HEADERS)
        return bl_err_set(err, BL_EINVAL, "kafka: produce to %s: %zu headers (max %d)", topic,
                          n_headers, BL_KAFKA_MAX_HEADERS);
    rd_kafka_vu_t vus[6 + BL_KAFKA_MAX_HEADERS];
    size_t n = 0;
    vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[n++].u.cstr = topic;
    vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[n++].u.i = RD_KAFKA_MSG_F_COPY;
    vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vus[n++].u.ptr = msg_opaque;
    if (key) {
        vus[n].vtype = RD_KAFKA_VTYPE_KEY;
        vus[n].u.mem.ptr = (void *)key;
        vus[n++].u.mem.size = key_len;
    }
    if (value) {
        vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
        vus[n].u.mem.ptr = (void *)value;
        vus[n++].u.mem.size = value_len;
    }
    for (size_t i = 0; i < n_headers; i++)
        if (!headers[i].key)
            return bl_err_set(err, BL_EINVAL, "kafka: produce to %s: header %zu has no key", topic, i);
    /* One header list of ours rather than a VTYPE_HEADER per header: with
     * those, a produce refused after the message was made (an unknown
     * topic) frees the list librdkafka built twice (librdkafka #4627). A
     * list given whole stays ours when the produce fails, librdkafka's when
     * it succeeds. */
    rd_kafka_headers_t *hdrs = NULL;
    if (n_headers) {
        hdrs = rd_kafka_headers_new(n_headers);
        for (size_t i = 0; i < n_headers; i++)
            rd_kafka_header_add(hdrs, headers[i].key, -1, headers[i].value,
                                headers[i].value ? (ssize_t)headers[i].len : 0);
        vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
        vus[n++].u.headers = hdrs;
    }

    int64_t deadline = bl_clock_mono_ms() + (queue_timeout_ms > 0 ? queue_timeout_ms : 0);
    for (;;) {
        rd_kafka_error_t *e = rd_kafka_produceva(p->rk, vus, n);
        if (!e)
            return 0;
        rd_kafka_resp_err_t code = rd_kafka_error_code(e);
        if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL && hdrs)
            rd_kafka_headers_destroy(hdrs);
        if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            char what[200];
            snprintf(what, sizeof what, "produce to %s", topic);
            if (code == RD_KAFKA_RESP_ERR__FATAL)
                bl_kafka_err(err, p->rk, code, what);
            else
                bl_err_set(err, BL_EKAFKA, "kafka: %s: %s", what, rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            return -1;
        }
        rd_kafka_error_destroy(e);
        int64_t left = deadline - bl_clock_mono_ms();
        if (left <= 0 && hdrs)
            rd_kafka_headers_destroy(hdrs);
        if (left <= 0)
            return bl_err_set(err, BL_ETIMEOUT,
                              "kafka: produce to %s: local queue full for %d ms (%d messages waiting)",
                              topic, queue_timeout_ms, rd_kafka_outq_len(p->rk));
        /* Serving reports is what frees queue space. */
        rd_kafka_poll(p->rk, left < 100 ? (int)left : 100);
    }
}

static sync_slot *slot_take(bl_kafka_producer *p)
{
    sync_slot *slot = NULL;
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < SYNC_SLOTS && !slot; i++) {
        if (!p->slots[i].in_use) {
            slot = &p->slots[i];
            memset(slot, 0, sizeof *slot);
            slot->in_use = 1;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return slot;
}

int bl_kafka_producer_send_sync(bl_kafka_producer *p, const char *topic, const void *key,
                                size_t key_len, const void *value, size_t value_len,
                                const bl_kafka_header *headers, size_t n_headers, int timeout_ms,
                                int32_t *partition, int64_t *offset, bl_err *err)
{
    if (!p)
        return bl_err_set(err, BL_EINVAL, "kafka: produce: no producer");
    int64_t deadline = bl_clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    sync_slot *slot = slot_take(p);
    if (!slot)
        return bl_err_set(err, BL_EINVAL, "kafka: produce to %s: more than %d synchronous sends at once",
                          topic ? topic : "", SYNC_SLOTS);
    if (bl_kafka_producer_send(p, topic, key, key_len, value, value_len, headers, n_headers, slot,
                               timeout_ms, err) != 0) {
        pthread_mutex_lock(&p->lock);
        slot->in_use = 0;
        pthread_mutex_unlock(&p->lock);
        return -1;
    }
    int rc = -1;
    pthread_mutex_lock(&p->lock);
    while (!slot->done) {
        int64_t left = deadline - bl_clock_mono_ms();
        if (left <= 0) {
            slot->abandoned = 1;
            pthread_mutex_unlock(&p->lock);
            return bl_err_set(err, BL_ETIMEOUT, "kafka: produce to %s: no ack within %d ms", topic,
                              timeout_ms);
        }
        int wait_ms = left < 100 ? (int)left : 100;
        if (!p->polling) {
            p->polling = 1;
            pthread_mutex_unlock(&p->lock);
            rd_kafka_poll(p->rk, wait_ms);
            pthread_mutex_lock(&p->lock);
            p->polling = 0;
            /* Someone else may have to take over polling. */
            pthread_cond_broadcast(&p->acked);
        } else {
            struct timespec until = bl_clock_deadline_after_ms(CLOCK_MONOTONIC, wait_ms);
            pthread_cond_timedwait(&p->acked, &p->lock, &until);
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (slot->err_code)
        bl_err_set(err, BL_EKAFKA, "kafka: produce to %s: %s", topic, slot->err_msg);
    else
        rc = 0;
    if (partition)
        *partition = slot->partition;
    if (offset)
        *offset = slot->offset;
    pthread_mutex_lock(&p->lock);
    slot->in_use = 0;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int bl_kafka_producer_poll(bl_kafka_producer *p, int timeout_ms)
{
    return p ? rd_kafka_poll(p->rk, timeout_ms) : 0;
}

int bl_kafka_producer_flush(bl_kafka_producer *p, int timeout_ms, bl_err *err)
{
    if (!p)
        return bl_err_set(err, BL_EINVAL, "kafka: flush: no producer");
    rd_kafka_resp_err_t code = rd_kafka_flush(p->rk, timeout_ms);
    if (code == RD_KAFKA_RESP_ERR__TIMED_OUT)
        return bl_err_set(err, BL_ETIMEOUT, "kafka: flush: %d messages still waiting after %d ms",
                          rd_kafka_outq_len(p->rk), timeout_ms);
    if (code)
        return bl_kafka_err(err, p->rk, code, "flush");
    return 0;
}

int bl_kafka_producer_fatal(bl_kafka_producer *p, bl_err *err)
{
    return p ? bl_kafka_fatal(p->rk, err) : 0;
}

/* Carries a transactional call's error into err and frees it. */
static int txn_result(rd_kafka_error_t *e, const char *what, bl_err *err)
{
    if (!e)
        return 0;
    bl_err_set(err, rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__TIMED_OUT ? BL_ETIMEOUT : BL_EKAFKA,
               "kafka: %s%s: %s", what, rd_kafka_error_is_fatal(e) ? " (fatal)" : "",
               rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return -1;
}

int bl_kafka_producer_txn_init(bl_kafka_producer *p, int timeout_ms, bl_err *err)
{
    return txn_result(rd_kafka_init_transactions(p->rk, timeout_ms), "init transactions", err);
}

int bl_kafka_producer_txn_begin(bl_kafka_producer *p, bl_err *err)
{
    return txn_result(rd_kafka_begin_transaction(p->rk), "begin transaction", err);
}

int bl_kafka_producer_txn_commit(bl_kafka_producer *p, int timeout_ms, bl_err *err)
{
    return txn_result(rd_kafka_commit_transaction(p->rk, timeout_ms), "commit transaction", err);
}

int bl_kafka_producer_txn_abort(bl_kafka_producer *p, int timeout_ms, bl_err *err)
{
    return txn_result(rd_kafka_abort_transaction(p->rk, timeout_ms), "abort transaction", err);
}

rd_kafka_t *bl_kafka_producer_handle(bl_kafka_producer *p)
{
    return p ? p->rk : NULL;
}

int bl_kafka_producer_prepare_topics(bl_kafka_producer *p, const char *const *topics, size_t n,
                                     int timeout_ms, bl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        rd_kafka_topic_t *t = rd_kafka_topic_new(p->rk, topics[i], NULL);
        if (!t)
            return bl_err_set(err, BL_EKAFKA, "kafka producer: topic %s: %s", topics[i],
                              rd_kafka_err2str(rd_kafka_last_error()));
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t code = rd_kafka_metadata(p->rk, 0, t, &md, timeout_ms);
        if (code == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1)
            code = md->topics[0].err;
        if (md)
            rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(t);
        if (code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            return bl_err_set(err, BL_ENOTFOUND, "kafka producer: topic %s does not exist", topics[i]);
        if (code != RD_KAFKA_RESP_ERR_NO_ERROR)
            return bl_err_set(err, code == RD_KAFKA_RESP_ERR__TIMED_OUT ? BL_ETIMEOUT : BL_EKAFKA,
                              "kafka producer: metadata of %s: %s", topics[i], rd_kafka_err2str(code));
    }
    return 0;
}

int bl_kafka_producer_free(bl_kafka_producer *p, int flush_timeout_ms)
{
    if (!p)
        return 0;
    p->closing = 1;
    if (rd_kafka_flush(p->rk, flush_timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* Purged messages get a failed delivery report, served by the flush
         * below, so on_delivery learns exactly which were lost. */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(p->rk, 1000);
    }
    int undelivered = p->undelivered + rd_kafka_outq_len(p->rk);
    if (undelivered > 0)
        bl_log_warn("kafka producer closed with undelivered messages", BL_FI("undelivered", undelivered));
    rd_kafka_destroy(p->rk);
    pthread_cond_destroy(&p->acked);
    pthread_mutex_destroy(&p->lock);
    free(p);
    return undelivered;
}
