/* The webhook fan-out (see fanout.h). Deliveries are produced from the
 * worker thread; their reports are served by a poller thread, which
 * completes an event once its last delivery is acknowledged. */
#include "connectors/webhook/workers/fanout.h"

#include "connectors/webhook/workers/delivery.h"
#include "connectors/webhook/workers/event_reader.h"
#include "core/kafka_producer.h"
#include "core/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCE_RETRY_MS 1000
#define QUEUE_TIMEOUT_MS 1000

/* One event whose deliveries are in flight. */
typedef struct fanout_job {
    bl_runtime_job *job;
    atomic_int pending; /* unacknowledged deliveries + 1 while start runs */
    atomic_int failed;
    int abandoned;      /* under the fan-out's lock */
} fanout_job;

struct bl_webhook_fanout {
    bl_runtime *rt;
    bl_kafka_producer *producer;
    bl_webhook_cache *cache;
    bl_schema_cache *schemas;
    char *deliveries_topic;
    bl_webhook_match_list matches; /* worker thread only */
    pthread_t poller;
    int poller_started;
    atomic_int quit;
    pthread_mutex_t lock;          /* finishing vs abandoning a job */
    atomic_uint_fast64_t events, deliveries, skipped;
    bl_runtime_metrics rt_metrics;
    bl_counter *m_events, *m_deliveries, *m_skipped;
};

static void finish(bl_webhook_fanout *f, fanout_job *fj)
{
    pthread_mutex_lock(&f->lock);
    if (!fj->abandoned) {
        bl_runtime_job_set_user(fj->job, NULL);
        bl_runtime_complete(f->rt, fj->job,
                            atomic_load(&fj->failed)
                                ? bl_outcome_retry(PRODUCE_RETRY_MS, "fanout: a delivery was not produced")
                                : bl_outcome_done());
    }
    pthread_mutex_unlock(&f->lock);
    free(fj);
}

static void release(bl_webhook_fanout *f, fanout_job *fj)
{
    if (atomic_fetch_sub(&fj->pending, 1) == 1)
        finish(f, fj);
}

static void on_delivery(const bl_kafka_delivery *d, void *user)
{
    bl_webhook_fanout *f = user;
    fanout_job *fj = d->msg_opaque;
    if (!fj)
        return;
    if (d->err_code != 0) {
        atomic_store(&fj->failed, 1);
        bl_log_warn("fanout: delivery not produced", BL_FS("error", d->err_msg ? d->err_msg : ""));
    } else {
        atomic_fetch_add(&f->deliveries, 1);
        if (f->m_deliveries)
            bl_counter_inc(f->m_deliveries);
    }
    release(f, fj);
}

static void *poll_producer(void *arg)
{
    bl_webhook_fanout *f = arg;
    while (!atomic_load(&f->quit))
        bl_kafka_producer_poll(f->producer, 100);
    return NULL;
}

static void skip_event(bl_webhook_fanout *f, bl_runtime_job *job, const bl_err *err)
{
    const bl_kafka_msg *m = bl_runtime_job_msg(job);
    bl_log_warn("fanout: event skipped", BL_FS("topic", bl_kafka_msg_topic(m)),
                BL_FI("partition", bl_kafka_msg_partition(m)), BL_FI("offset", bl_kafka_msg_offset(m)),
                BL_FS("error", err->msg));
    atomic_fetch_add(&f->skipped, 1);
    if (f->m_skipped)
        bl_counter_inc(f->m_skipped);
    bl_runtime_complete(f->rt, job, bl_outcome_done());
}

static void fanout_start(bl_runtime_job *job, void *ctx)
{
    bl_webhook_fanout *f = ctx;
    const bl_kafka_msg *m = bl_runtime_job_msg(job);
    bl_err err = {0};
    bl_webhook_event ev;
    if (bl_webhook_event_read(f->schemas, m, &ev, &err) != 0) {
        if (err.code == BL_EINVAL || err.code == BL_ENOTFOUND)
            skip_event(f, job, &err);
        else
            bl_runtime_complete(f->rt, job, bl_outcome_retry(PRODUCE_RETRY_MS, err.msg));
        return;
    }
    atomic_fetch_add(&f->events, 1);
    if (f->m_events)
        bl_counter_inc(f->m_events);
    bl_webhook_match_list_clear(&f->matches);
    int n = bl_webhook_cache_match(f->cache, ev.org, ev.type, ev.envelope, &f->matches, &err);
    if (n <= 0) {
        bl_runtime_complete(f->rt, job, n == 0 ? bl_outcome_done() : bl_outcome_retry(PRODUCE_RETRY_MS, err.msg));
        bl_webhook_event_clear(&ev);
        return;
    }
    fanout_job *fj = calloc(1, sizeof *fj);
    if (!fj) {
        bl_runtime_complete(f->rt, job, bl_outcome_retry(PRODUCE_RETRY_MS, "fanout: out of memory"));
        bl_webhook_event_clear(&ev);
        return;
    }
    fj->job = job;
    atomic_init(&fj->pending, n + 1);
    bl_runtime_job_set_user(job, fj);
    for (size_t i = 0; i < f->matches.count; i++) {
        const bl_webhook_endpoint *endpoint = f->matches.items[i]->endpoint;
        bl_webhook_delivery d = bl_webhook_event_delivery(&ev, m, endpoint->id);
        char *own_body = NULL;
        if (bl_webhook_event_body_for(&ev, endpoint, &d, &own_body, &err) != 0) {
            /* this endpoint's format cannot carry the event: it alone gets nothing */
            bl_log_warn("fanout: no body for this endpoint", BL_FS("endpoint_id", endpoint->id),
                        BL_FS("error", err.msg));
            atomic_fetch_sub(&fj->pending, 1);
        } else if (bl_webhook_delivery_send(f->producer, f->deliveries_topic, &d, fj, QUEUE_TIMEOUT_MS, &err) != 0) {
            bl_log_warn("fanout: cannot queue a delivery", BL_FS("error", err.msg));
            atomic_store(&fj->failed, 1);
            atomic_fetch_sub(&fj->pending, 1); /* never reported; the guard keeps fj alive */
        }
        free(own_body);
    }
    bl_webhook_match_list_clear(&f->matches);
    bl_webhook_event_clear(&ev);
    release(f, fj);
}

static void fanout_abandon(bl_runtime_job *job, void *ctx)
{
    bl_webhook_fanout *f = ctx;
    pthread_mutex_lock(&f->lock);
    fanout_job *fj = bl_runtime_job_user(job);
    if (fj)
        fj->abandoned = 1;
    pthread_mutex_unlock(&f->lock);
}

static int register_metrics(bl_webhook_fanout *f, bl_metrics *m, bl_err *err)
{
    bl_metric *ev = bl_metrics_counter(m, "busline_fanout_events_total", "events read by the webhook fan-out", NULL, err);
    bl_metric *dl = bl_metrics_counter(m, "busline_fanout_deliveries_total",
                                       "deliveries produced to deliveries.webhook and acknowledged", NULL, err);
    bl_metric *sk = bl_metrics_counter(m, "busline_fanout_skipped_events_total",
                                       "events that could not be read (bad bytes, unknown schema)", NULL, err);
    if (!ev || !dl || !sk || !(f->m_events = bl_metric_counter(ev, NULL, err)) ||
        !(f->m_deliveries = bl_metric_counter(dl, NULL, err)) || !(f->m_skipped = bl_metric_counter(sk, NULL, err)))
        return -1;
    return bl_runtime_metrics_register(m, &f->rt_metrics, err);
}

bl_webhook_fanout *bl_webhook_fanout_new(const bl_webhook_fanout_opts *o, bl_err *err)
{
    if (!o->brokers || !o->cache || !o->schemas) {
        bl_err_set(err, BL_EINVAL, "fanout: brokers, cache and schemas are required");
        return NULL;
    }
    bl_webhook_fanout *f = calloc(1, sizeof *f);
    if (!f) {
        bl_err_set(err, BL_ENOMEM, "fanout: out of memory");
        return NULL;
    }
    pthread_mutex_init(&f->lock, NULL);
    f->cache = o->cache;
    f->schemas = o->schemas;
    f->deliveries_topic = strdup(o->deliveries_topic ? o->deliveries_topic : BL_WEBHOOK_DELIVERIES_TOPIC);
    if (!f->deliveries_topic) {
        bl_err_set(err, BL_ENOMEM, "fanout: out of memory");
        goto fail;
    }
    if (o->metrics && register_metrics(f, o->metrics, err) != 0)
        goto fail;
    /* linger short: an event's offset waits for its deliveries' acks */
    static const char *const producer_extra[] = {"linger.ms", "2", NULL};
    if (!(f->producer = bl_kafka_producer_new(o->brokers, producer_extra, on_delivery, f, err)))
        goto fail;
    static const char *const all_events[] = {BL_WEBHOOK_EVENTS_PATTERN};
    bl_runtime_opts ro = {
        .brokers = o->brokers,
        .group_id = o->group_id ? o->group_id : "busline-webhook-fanout",
        .connector_name = BL_WEBHOOK_FANOUT_CONNECTOR,
        .topics = o->topics ? o->topics : all_events,
        .n_topics = o->topics ? o->n_topics : 1,
        .retry_tiers = NULL,           /* a failed produce retries in place */
        .max_attempts = BL_RETRY_ATTEMPT_MAX,
        .max_in_flight = o->max_in_flight,
        .drain_timeout_ms = o->drain_timeout_ms,
        .metrics = o->metrics ? &f->rt_metrics : NULL,
        .connector = {.start = fanout_start, .abandon = fanout_abandon, .ctx = f},
    };
    if (!(f->rt = bl_runtime_new(&ro, err)))
        goto fail;
    return f;
fail:
    bl_webhook_fanout_free(f);
    return NULL;
}

int bl_webhook_fanout_run(bl_webhook_fanout *f, bl_err *err)
{
    atomic_store(&f->quit, 0);
    if (pthread_create(&f->poller, NULL, poll_producer, f) != 0)
        return bl_err_set(err, BL_ENOMEM, "fanout: cannot start the producer poller");
    f->poller_started = 1;
    int rc = bl_runtime_run(f->rt, err);
    atomic_store(&f->quit, 1);
    pthread_join(f->poller, NULL);
    f->poller_started = 0;
    return rc;
}

void bl_webhook_fanout_stop(bl_webhook_fanout *f)
{
    bl_runtime_stop(f->rt);
}

bl_runtime *bl_webhook_fanout_runtime(bl_webhook_fanout *f)
{
    return f->rt;
}

void bl_webhook_fanout_stats_get(bl_webhook_fanout *f, bl_webhook_fanout_stats *out)
{
    out->events = atomic_load(&f->events);
    out->deliveries = atomic_load(&f->deliveries);
    out->skipped = atomic_load(&f->skipped);
}

void bl_webhook_fanout_free(bl_webhook_fanout *f)
{
    if (!f)
        return;
    if (f->poller_started) {
        atomic_store(&f->quit, 1);
        pthread_join(f->poller, NULL);
    }
    /* Reports still due arrive here; their jobs were abandoned by the
     * runtime's stop, so finishing them only frees. */
    bl_kafka_producer_free(f->producer, 5000);
    bl_runtime_free(f->rt);
    bl_webhook_match_list_free(&f->matches);
    free(f->deliveries_topic);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
