/* The webhook delivery worker (see deliver.h). Everything but the delivery
 * log's writer and the health reporter runs on the runtime's worker
 * thread: start builds and submits requests, pump drives the curl multi
 * (waiting on the runtime's wake fds too) and finishes what completed.
 * One attempt's steps are in deliver_attempt.c. */
#include "connectors/webhook/workers/deliver_internal.h"

#include "consumers/retry_policy.h"
#include "core/clock.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SLOW_HOST_MS 1000
#define DEFAULT_PARK_MS 5000
#define DEFAULT_MAX_AGE_MS (72LL * 3600 * 1000)
#define KAFKA_POLL_MS 5

static void deliver_start(bl_runtime_job *job, void *ctx)
{
    bl_webhook_deliver *d = ctx;
    bl_err err = {0};
    dl_job *j = calloc(1, sizeof *j);
    if (!j) {
        bl_runtime_complete(d->rt, job, bl_outcome_retry(DNS_RETRY_MS, "deliver: out of memory"));
        return;
    }
    j->d = d;
    j->job = job;
    j->attempt = bl_runtime_job_attempt(job);
    bl_runtime_job_set_user(job, j);
    if (bl_webhook_delivery_parse(bl_runtime_job_msg(job), &j->v, &err) != 0) {
        bl_log_warn("deliver: malformed delivery", BL_FS("error", err.msg));
        bl_deliver_finish(d, j, bl_outcome_dead_letter(err.msg));
        return;
    }
    if (!(j->snap = bl_webhook_cache_get(d->cache, j->v.endpoint_id))) {
        atomic_fetch_add(&d->skipped, 1);
        bl_deliver_count_attempt(d, "skipped", -1);
        bl_deliver_log_attempt(d, j, false, 0, false, NULL, 0, "endpoint disabled or deleted: not sent", 0);
        bl_deliver_finish(d, j, bl_outcome_done());
        return;
    }
    bl_deliver_try_send(d, j);
}

static void run_deferred(bl_webhook_deliver *d)
{
    int64_t now = bl_clock_mono_ms();
    dl_job *due = NULL, **pp = &d->deferred;
    while (*pp) {
        dl_job *j = *pp;
        if (j->due_mono_ms <= now) {
            *pp = j->next;
            j->next = due;
            due = j;
        } else {
            pp = &j->next;
        }
    }
    while (due) {
        dl_job *j = due;
        due = j->next;
        j->next = NULL;
        bl_deliver_try_send(d, j);
    }
}

static void deliver_pump(int timeout_ms, const int *fds, size_t n_fds, void *ctx)
{
    bl_webhook_deliver *d = ctx;
    int wait = timeout_ms;
    int64_t now = bl_clock_mono_ms();
    for (dl_job *j = d->deferred; j; j = j->next) {
        int64_t left = j->due_mono_ms - now;
        if (left < wait)
            wait = left < 0 ? 0 : (int)left;
    }
    int64_t stuck_at = bl_deliver_park_stuck_hosts(d);
    if (stuck_at != INT64_MAX && stuck_at - now < wait)
        wait = stuck_at - now < 0 ? 0 : (int)(stuck_at - now);
    /* a Kafka destination's reports are polled: keep the wait short while any is due */
    if (bl_kafka_sink_in_flight(d->kafka) && wait > KAFKA_POLL_MS)
        wait = KAFKA_POLL_MS;
    bl_err err = {0};
    if (bl_http_client_run_fds(d->http, wait, fds, n_fds, &err) < 0)
        bl_log_error("deliver: http client", BL_FS("error", err.msg));
    bl_kafka_sink_poll(d->kafka);
    run_deferred(d);
}

static int deliver_strict_lane(const bl_runtime_job *job, char *lane, size_t cap, void *ctx)
{
    bl_webhook_deliver *d = ctx;
    size_t len = 0;
    const void *key = bl_kafka_msg_key(bl_runtime_job_msg(job), &len);
    if (!key || len == 0 || len >= cap || len > BL_WEBHOOK_ID_MAX)
        return 0;
    char id[BL_WEBHOOK_ID_MAX + 1];
    memcpy(id, key, len);
    id[len] = '\0';
    bl_webhook_snapshot *s = bl_webhook_cache_get(d->cache, id);
    int strict = s && s->endpoint->strict_order;
    bl_webhook_snapshot_release(s);
    if (strict)
        memcpy(lane, id, len + 1);
    return strict;
}

static void deliver_abandon(bl_runtime_job *job, void *ctx)
{
    bl_webhook_deliver *d = ctx;
    dl_job *j = bl_runtime_job_user(job);
    if (!j)
        return;
    if (j->in_kafka) {
        j->abandoned = 1; /* queued on a producer: freed by its report */
        return;
    }
    if (j->in_http && !bl_http_client_withdraw(d->http, j->snap->endpoint->url, j)) {
        j->abandoned = 1; /* on the wire: freed when its request ends */
        return;
    }
    bl_deliver_held_unsent(j, bl_clock_mono_ms());
    for (dl_job **pp = &d->deferred; *pp; pp = &(*pp)->next) {
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    }
    bl_deliver_job_free(j);
}

static int register_metrics(bl_webhook_deliver *d, bl_metrics *m, bl_err *err)
{
    static const char *const labels[] = {"result", NULL};
    static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    d->m_duration = bl_metrics_histogram(m, "busline_delivery_duration_seconds",
                                         "webhook request duration by result", labels, buckets,
                                         sizeof buckets / sizeof buckets[0], err);
    d->m_attempts = d->m_duration ? bl_metrics_counter(m, "busline_delivery_attempts_total",
                                                        "webhook delivery attempts by result "
                                                        "(delivered, retry, failed, refused; skipped and "
                                                        "parked were not sent)",
                                                        labels, err)
                                  : NULL;
    if (!d->m_attempts)
        return -1;
    return bl_runtime_metrics_register(m, &d->rt_metrics, err);
}

bl_webhook_deliver *bl_webhook_deliver_new(const bl_webhook_deliver_opts *o, bl_err *err)
{
    if (!o->brokers || !o->cache || !o->store) {
        bl_err_set(err, BL_EINVAL, "deliver: brokers, cache and store are required");
        return NULL;
    }
    bl_webhook_deliver *d = calloc(1, sizeof *d);
    if (!d) {
        bl_err_set(err, BL_ENOMEM, "deliver: out of memory");
        return NULL;
    }
    d->cache = o->cache;
    d->log = o->log;
    long host_connections = o->max_host_connections ? o->max_host_connections : 64;
    d->slow_host_keep = o->slow_host_keep ? o->slow_host_keep : (size_t)host_connections;
    d->slow_host_ms = o->slow_host_ms > 0 ? o->slow_host_ms : DEFAULT_SLOW_HOST_MS;
    d->park_ms = o->park_ms > 0 ? o->park_ms : DEFAULT_PARK_MS;
    d->max_age_ms = o->max_age_ms > 0 ? o->max_age_ms : DEFAULT_MAX_AGE_MS;
    bl_breaker_config bc = bl_breaker_config_default();
    bc.failure_threshold = BL_BREAKER_MAX_THRESHOLD;
    bc.window_ms = 10000;
    bc.open_ms = 5000;
    bl_retry_tiers tiers;
    const char *connector = o->connector_name ? o->connector_name : BL_WEBHOOK_CONNECTOR;
    const char *spec = o->retry_tiers ? o->retry_tiers : BL_WEBHOOK_RETRY_TIERS;
    const char *topics[1 + BL_RETRY_TIERS_MAX];
    char tier_names[BL_RETRY_TIERS_MAX][BL_TOPIC_NAME_MAX];
    size_t n_topics = 0;
    if (o->metrics && register_metrics(d, o->metrics, err) != 0)
        goto fail;
    if (bl_retry_tiers_parse(&tiers, connector, spec, err) != 0)
        goto fail;
    topics[n_topics++] = o->deliveries_topic ? o->deliveries_topic : BL_WEBHOOK_DELIVERIES_TOPIC;
    for (size_t i = 0; i < tiers.n; i++) {
        if (bl_retry_tier_topic(&tiers, i, tier_names[i], sizeof tier_names[i], err) != 0)
            goto fail;
        topics[n_topics++] = tier_names[i];
    }
    bl_http_client_config hc = {.max_host_connections = host_connections,
                                .user_agent = "busline-webhooks/1"};
    if (!(d->http = bl_http_client_new(&hc, err)) ||
        !(d->hosts = bl_host_table_new(o->breaker ? o->breaker : &bc, o->allow, 0, err)) ||
        !(d->reporter = bl_outcome_reporter_new(o->store, 0, err)))
        goto fail;
    bl_kafka_sink_opts ko = {.allow = o->allow, .report = bl_deliver_kafka_report, .ctx = d};
    if (!(d->kafka = bl_kafka_sink_new(&ko, err)))
        goto fail;
    bl_runtime_opts ro = {
        .brokers = o->brokers,
        .group_id = o->group_id ? o->group_id : "busline-webhook-deliver",
        .connector_name = connector,
        .topics = topics,
        .n_topics = n_topics,
        .retry_tiers = spec,
        /* the endpoint's policy decides when to give up (bl_retry_decide) */
        .max_attempts = BL_RETRY_ATTEMPT_MAX,
        .max_in_flight = o->max_in_flight,
        .drain_timeout_ms = o->drain_timeout_ms,
        .metrics = o->metrics ? &d->rt_metrics : NULL,
        .connector = {.start = deliver_start, .pump = deliver_pump, .strict_lane = deliver_strict_lane,
                      .abandon = deliver_abandon, .ctx = d},
    };
    if (!(d->rt = bl_runtime_new(&ro, err)))
        goto fail;
    return d;
fail:
    bl_webhook_deliver_free(d);
    return NULL;
}

int bl_webhook_deliver_run(bl_webhook_deliver *d, bl_err *err)
{
    return bl_runtime_run(d->rt, err);
}

void bl_webhook_deliver_stop(bl_webhook_deliver *d)
{
    bl_runtime_stop(d->rt);
}

bl_runtime *bl_webhook_deliver_runtime(bl_webhook_deliver *d)
{
    return d->rt;
}

void bl_webhook_deliver_stats_get(bl_webhook_deliver *d, bl_webhook_deliver_stats *out)
{
    out->attempts = atomic_load(&d->attempts);
    out->delivered = atomic_load(&d->delivered);
    out->retried = atomic_load(&d->retried);
    out->dead_lettered = atomic_load(&d->dead_lettered);
    out->skipped = atomic_load(&d->skipped);
    out->deferred = atomic_load(&d->deferred_n);
    out->parked = atomic_load(&d->parked);
}

void bl_webhook_deliver_free(bl_webhook_deliver *d)
{
    if (!d)
        return;
    /* Requests still in flight belong to abandoned jobs: cancelled and freed. */
    bl_http_client_free(d->http);
    d->kafka_closing = true;
    bl_kafka_sink_free(d->kafka);
    while (d->deferred) {
        dl_job *j = d->deferred;
        d->deferred = j->next;
        bl_deliver_job_free(j);
    }
    bl_runtime_free(d->rt);
    bl_outcome_reporter_free(d->reporter);
    bl_host_table_free(d->hosts);
    free(d);
}
