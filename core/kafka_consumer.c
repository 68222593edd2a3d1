#include "core/kafka_consumer.h"

#include "core/kafka_config.h"
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long bl_kafka_consumer_free waits for librdkafka to let go. */
#define DESTROY_WAIT_MS 10000
#define ABANDONED_MAX 16

struct bl_kafka_consumer {
    rd_kafka_t *rk;
    bl_kafka_partitions_fn on_assign;
    bl_kafka_partitions_fn on_revoke;
    void *user;
    int closed;
};

static void log_partitions(const char *msg, const rd_kafka_topic_partition_list_t *parts,
                           const char *protocol)
{
    if (!parts || parts->cnt == 0)
        return; /* cooperative rounds often change nothing for this member */
    const char *topic = parts->elems[0].topic;
    bl_log_info(msg, BL_FS("protocol", protocol), BL_FS("topic", topic),
                BL_FI("partitions", parts->cnt));
}

static void log_rebalance_failure(rd_kafka_error_t *e, rd_kafka_resp_err_t code, const char *what)
{
    if (e) {
        bl_log_error("kafka rebalance failed", BL_FS("step", what),
                     BL_FS("error", rd_kafka_error_string(e)));
        rd_kafka_error_destroy(e);
    } else if (code) {
        bl_log_error("kafka rebalance failed", BL_FS("step", what), BL_FS("error", rd_kafka_err2str(code)));
    }
}

/* Cooperative protocol: partitions move one by one (incremental calls, the
 * rest of the assignment keeps flowing). Eager protocol (when a group member
 * forces it): everything is revoked and reassigned as a whole. */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t code, rd_kafka_topic_partition_list_t *parts,
                         void *opaque)
{
    bl_kafka_consumer *c = opaque;
    const char *protocol = rd_kafka_rebalance_protocol(rk);
    int cooperative = protocol && strcmp(protocol, "COOPERATIVE") == 0;
    if (!protocol)
        protocol = "NONE";
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR_NO_ERROR;
    switch (code) {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        log_partitions("kafka partitions assigned", parts, protocol);
        if (cooperative)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rc = rd_kafka_assign(rk, parts);
        log_rebalance_failure(e, rc, "assign");
        if (c->on_assign && parts->cnt > 0)
            c->on_assign(parts, 0, c->user);
        break;
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS: {
        int lost = rd_kafka_assignment_lost(rk);
        log_partitions(lost ? "kafka partitions lost" : "kafka partitions revoked", parts, protocol);
        /* Before unassigning, so the caller can still commit finished work. */
        if (c->on_revoke && parts->cnt > 0)
            c->on_revoke(parts, lost, c->user);
        if (cooperative)
            e = rd_kafka_incremental_unassign(rk, parts);
        else
            rc = rd_kafka_assign(rk, NULL);
        log_rebalance_failure(e, rc, "unassign");
        break;
    }
    default:
        bl_log_error("kafka rebalance error", BL_FS("error", rd_kafka_err2str(code)));
        rc = rd_kafka_assign(rk, NULL);
        log_rebalance_failure(NULL, rc, "unassign all");
        break;
    }
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t code, rd_kafka_topic_partition_list_t *offs,
                      void *opaque)
{
    (void)rk;
    (void)opaque;
    if (code == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return; /* nothing to commit */
    for (int i = 0; offs && i < offs->cnt; i++) {
        rd_kafka_resp_err_t pe = offs->elems[i].err ? offs->elems[i].err : code;
        if (pe)
            bl_log_warn("kafka commit failed", BL_FS("topic", offs->elems[i].topic),
                        BL_FI("partition", offs->elems[i].partition),
                        BL_FI("offset", offs->elems[i].offset), BL_FS("error", rd_kafka_err2str(pe)));
    }
    if (code && (!offs || offs->cnt == 0))
        bl_log_warn("kafka commit failed", BL_FS("error", rd_kafka_err2str(code)));
}

bl_kafka_consumer *bl_kafka_consumer_new(const bl_kafka_consumer_opts *opts, bl_err *err)
{
    if (!opts || !opts->group_id || !*opts->group_id) {
        bl_err_set(err, BL_EINVAL, "kafka: consumer: no group id");
        return NULL;
    }
    bl_kafka_consumer *c = calloc(1, sizeof *c);
    if (!c) {
        bl_err_set(err, BL_ENOMEM, "kafka: consumer: out of memory");
        return NULL;
    }
    c->on_assign = opts->on_assign;
    c->on_revoke = opts->on_revoke;
    c->user = opts->user;
    const char *const defaults[] = {
        "group.id", opts->group_id,
        "partition.assignment.strategy", "cooperative-sticky",
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        "auto.offset.reset", opts->auto_offset_reset ? opts->auto_offset_reset : "earliest",
        /* One fetch is outstanding per broker: a resumed partition waits for
         * the long poll on idle ones (retry tiers) to end; 500 ms by default
         * made every resume cost half a second. */
        "fetch.wait.max.ms", "100",
        NULL,
    };
    rd_kafka_conf_t *conf = bl_kafka_conf_new(opts->brokers, defaults, opts->extra, c, err);
    if (conf) {
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
        rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
        c->rk = bl_kafka_handle_new(RD_KAFKA_CONSUMER, conf, "consumer", err);
    }
    if (!c->rk) {
        free(c);
        return NULL;
    }
    /* One queue for messages, errors and rebalances: all served by poll. */
    rd_kafka_resp_err_t code = rd_kafka_poll_set_consumer(c->rk);
    if (code) {
        bl_kafka_err(err, c->rk, code, "consumer: redirect main queue");
        bl_kafka_consumer_free(c);
        return NULL;
    }
    return c;
}

int bl_kafka_consumer_subscribe(bl_kafka_consumer *c, const char *const *topics, size_t n, bl_err *err)
{
    if (!c || !topics || n == 0)
        return bl_err_set(err, BL_EINVAL, "kafka: subscribe: no topics");
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(list, topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t code = rd_kafka_subscribe(c->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (code)
        return bl_kafka_err(err, c->rk, code, "subscribe");
    return 0;
}

int bl_kafka_consumer_poll(bl_kafka_consumer *c, int timeout_ms, bl_kafka_msg **out, bl_err *err)
{
    *out = NULL;
    if (!c || c->closed)
        return bl_err_set(err, BL_EINVAL, "kafka: poll: consumer is closed");
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (!m)
        return 0;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        *out = (bl_kafka_msg *)m;
        return 1;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        rd_kafka_message_destroy(m);
        return 0;
    }
    if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        bl_kafka_err(err, c->rk, m->err, "consume");
    } else {
        const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
        bl_err_set(err, BL_EKAFKA, "kafka: consume%s%s: %s", *topic ? " " : "", topic,
                   rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
    return -1;
}

static int commit(bl_kafka_consumer *c, const bl_kafka_offset *offs, size_t n, int async, bl_err *err)
{
    if (!c || c->closed)
        return bl_err_set(err, BL_EINVAL, "kafka: commit: consumer is closed");
    if (!offs || n == 0)
        return 0;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++) {
        if (!offs[i].topic || offs[i].next_offset < 0) {
            rd_kafka_topic_partition_list_destroy(list);
            return bl_err_set(err, BL_EINVAL, "kafka: commit: offset %zu has no topic or a negative offset", i);
        }
        rd_kafka_topic_partition_list_add(list, offs[i].topic, offs[i].partition)->offset =
            offs[i].next_offset;
    }
    int rc = 0;
    rd_kafka_resp_err_t code = rd_kafka_commit(c->rk, list, async);
    if (code) {
        rc = bl_kafka_err(err, c->rk, code, "commit");
    } else if (!async) {
        for (int i = 0; i < list->cnt; i++) {
            const rd_kafka_topic_partition_t *tp = &list->elems[i];
            if (tp->err) {
                rc = bl_err_set(err, BL_EKAFKA, "kafka: commit %s[%d]@%lld: %s", tp->topic,
                                (int)tp->partition, (long long)tp->offset, rd_kafka_err2str(tp->err));
                break;
            }
        }
    }
    rd_kafka_topic_partition_list_destroy(list);
    return rc;
}

int bl_kafka_consumer_commit_sync(bl_kafka_consumer *c, const bl_kafka_offset *offs, size_t n, bl_err *err)
{
    return commit(c, offs, n, 0, err);
}

int bl_kafka_consumer_commit_async(bl_kafka_consumer *c, const bl_kafka_offset *offs, size_t n, bl_err *err)
{
    return commit(c, offs, n, 1, err);
}

int bl_kafka_consumer_fatal(bl_kafka_consumer *c, bl_err *err)
{
    return c ? bl_kafka_fatal(c->rk, err) : 0;
}

rd_kafka_t *bl_kafka_consumer_handle(bl_kafka_consumer *c)
{
    return c ? c->rk : NULL;
}

int bl_kafka_consumer_close(bl_kafka_consumer *c, bl_err *err)
{
    if (!c || c->closed)
        return 0;
    /* Marked after, not before: the revoke hook runs inside close and may
     * still commit what it finished. */
    rd_kafka_resp_err_t code = rd_kafka_consumer_close(c->rk);
    c->closed = 1;
    if (code)
        return bl_kafka_err(err, c->rk, code, "close consumer");
    return 0;
}

/* librdkafka 2.0.2 (Debian's) never returns from rd_kafka_destroy of a
 * consumer that was once assigned a partition of a topic deleted since
 * (a partition reference is kept: confluentinc/librdkafka#4362, #4674) —
 * reproduced here even after the partitions were revoked. By then the
 * consumer is closed and its offsets committed, so nothing is lost by not
 * waiting: the destroy runs on its own thread, and one still running after
 * DESTROY_WAIT_MS is left to the process's exit with a warning. The handle
 * stays referenced from here so leak checkers do not report it. */
typedef struct destroy_job {
    rd_kafka_t *rk;
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    int done;
    int abandoned;
} destroy_job;

static destroy_job *abandoned_jobs[ABANDONED_MAX]; /* each keeps its handle reachable */
static pthread_mutex_t abandoned_lock = PTHREAD_MUTEX_INITIALIZER;

static void keep_abandoned(destroy_job *job)
{
    pthread_mutex_lock(&abandoned_lock);
    for (size_t i = 0; i < ABANDONED_MAX; i++) {
        if (!abandoned_jobs[i]) {
            abandoned_jobs[i] = job;
            break;
        }
    }
    pthread_mutex_unlock(&abandoned_lock);
}

static void *destroy_handle(void *arg)
{
    destroy_job *job = arg;
    rd_kafka_destroy(job->rk);
    pthread_mutex_lock(&job->lock);
    job->done = 1;
    int abandoned = job->abandoned;
    pthread_cond_signal(&job->done_cond);
    pthread_mutex_unlock(&job->lock);
    if (abandoned)
        bl_log_info("kafka consumer destroyed late", BL_FS("why", "librdkafka released it after all"));
    return NULL;
}

static void free_job(destroy_job *job)
{
    pthread_cond_destroy(&job->done_cond);
    pthread_mutex_destroy(&job->lock);
    free(job);
}

/* Returns 1 when the destroy finished within DESTROY_WAIT_MS (job freed),
 * 0 when it was abandoned (job kept for the process's life). */
static int destroy_bounded(rd_kafka_t *rk)
{
    destroy_job *job = calloc(1, sizeof *job);
    pthread_t thread;
    if (!job) {
        rd_kafka_destroy(rk);
        return 1;
    }
    pthread_mutex_init(&job->lock, NULL);
    pthread_cond_init(&job->done_cond, NULL);
    job->rk = rk;
    if (pthread_create(&thread, NULL, destroy_handle, job) != 0) {
        free_job(job);
        rd_kafka_destroy(rk);
        return 1;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += DESTROY_WAIT_MS / 1000;
    pthread_mutex_lock(&job->lock);
    while (!job->done && pthread_cond_timedwait(&job->done_cond, &job->lock, &until) != ETIMEDOUT)
        ;
    int done = job->done;
    if (!done)
        job->abandoned = 1;
    pthread_mutex_unlock(&job->lock);
    if (!done) {
        pthread_detach(thread);
        keep_abandoned(job);
        bl_log_warn("kafka consumer not destroyed: left to the process's exit",
                    BL_FS("why", "librdkafka 2.0 keeps a reference to a partition of a deleted topic"),
                    BL_FI("waited_ms", DESTROY_WAIT_MS));
        return 0;
    }
    pthread_join(thread, NULL);
    free_job(job);
    return 1;
}

int bl_kafka_consumer_free_bounded(bl_kafka_consumer *c)
{
    if (!c)
        return 1;
    bl_err err;
    if (bl_kafka_consumer_close(c, &err) != 0)
        bl_log_warn("kafka consumer close failed", BL_FS("error", err.msg));
    int destroyed = destroy_bounded(c->rk);
    free(c);
    return destroyed;
}

void bl_kafka_consumer_free(bl_kafka_consumer *c)
{
    (void)bl_kafka_consumer_free_bounded(c);
}

/* A bl_kafka_msg is the librdkafka message itself: no copy, no allocation. */
static rd_kafka_message_t *rkm(const bl_kafka_msg *m)
{
    return (rd_kafka_message_t *)m;
}

const char *bl_kafka_msg_topic(const bl_kafka_msg *m)
{
    return rd_kafka_topic_name(rkm(m)->rkt);
}

int32_t bl_kafka_msg_partition(const bl_kafka_msg *m)
{
    return rkm(m)->partition;
}

int64_t bl_kafka_msg_offset(const bl_kafka_msg *m)
{
    return rkm(m)->offset;
}

int64_t bl_kafka_msg_timestamp(const bl_kafka_msg *m)
{
    return rd_kafka_message_timestamp(rkm(m), NULL);
}

const void *bl_kafka_msg_key(const bl_kafka_msg *m, size_t *len)
{
    if (len)
        *len = rkm(m)->key_len;
    return rkm(m)->key;
}

const void *bl_kafka_msg_value(const bl_kafka_msg *m, size_t *len)
{
    if (len)
        *len = rkm(m)->len;
    return rkm(m)->payload;
}

static rd_kafka_headers_t *headers_of(const bl_kafka_msg *m)
{
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(rkm(m), &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return NULL;
    return hdrs;
}

size_t bl_kafka_msg_header_count(const bl_kafka_msg *m)
{
    rd_kafka_headers_t *hdrs = headers_of(m);
    return hdrs ? rd_kafka_header_cnt(hdrs) : 0;
}

int bl_kafka_msg_header_at(const bl_kafka_msg *m, size_t idx, const char **key, const void **value,
                           size_t *len)
{
    rd_kafka_headers_t *hdrs = headers_of(m);
    if (!hdrs || rd_kafka_header_get_all(hdrs, idx, key, value, len) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    return 0;
}

int bl_kafka_msg_header(const bl_kafka_msg *m, const char *key, const void **value, size_t *len)
{
    rd_kafka_headers_t *hdrs = headers_of(m);
    if (!hdrs || rd_kafka_header_get_last(hdrs, key, value, len) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    return 0;
}

bl_kafka_offset bl_kafka_msg_next_offset(const bl_kafka_msg *m)
{
    return (bl_kafka_offset){bl_kafka_msg_topic(m), bl_kafka_msg_partition(m), bl_kafka_msg_offset(m) + 1};
}

void bl_kafka_msg_release(bl_kafka_msg *m)
{
    if (m)
        rd_kafka_message_destroy(rkm(m));
}
