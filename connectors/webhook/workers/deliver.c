/* The webhook delivery worker (see deliver.h). Everything but the delivery
 * log's writer and the health reporter runs on the runtime's worker
 * thread: start builds and submits requests, pump drives the curl multi
 * (waiting on the runtime's wake fds too) and finishes what completed. */
#include "connectors/webhook/workers/deliver.h"

#include "connectors/webhook/workers/delivery.h"
#include "connectors/webhook/workers/host_table.h"
#include "connectors/webhook/workers/outcome_reporter.h"
#include "connectors/webhook/workers/request.h"
#include "consumers/retry_policy.h"
#include "core/http_client.h"
#include "core/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DNS_RETRY_MS 1000
#define DEFAULT_SLOW_HOST_MS 1000
#define DEFAULT_PARK_MS 5000
#define PARK_LOG_EVERY_MS 10000

/* One delivery being worked on. */

typedef struct dl_job {
    bl_webhook_deliver *d;
    bl_runtime_job *job;
    bl_webhook_delivery_view v;
    bl_webhook_snapshot *snap;
    const bl_url_check *check;
    bl_breaker_permit permit;
    int attempt;
    int in_http;         /* a request is in flight */
    int abandoned;       /* the runtime gave up on it while in flight */
    int64_t due_mono_ms; /* deferred: when a token is due */
    struct dl_job *next; /* deferred list */
    bl_host_entry *held_by;                 /* in its host's held list while in_http */
    struct dl_job *held_prev, *held_next;
    int64_t sent_mono;                      /* handed to the http client */
} dl_job;

struct bl_webhook_deliver {
    bl_runtime *rt;
    bl_http_client *http;
    bl_host_table *hosts;
    bl_outcome_reporter *reporter;
    bl_webhook_cache *cache;
    bl_delivery_log *log;
    dl_job *deferred;                /* held for a rate-limit token, unsorted */
    bl_host_entry *busy_hosts;       /* hosts with requests held (lazily pruned) */
    size_t slow_host_keep;           /* a stuck host keeps at most this many */
    int64_t slow_host_ms, park_ms;
    bl_webhook_req_headers headers;  /* scratch, worker thread only */
    atomic_uint_fast64_t attempts, delivered, retried, dead_lettered, skipped, deferred_n, parked;
    bl_runtime_metrics rt_metrics;
    bl_metric *m_duration, *m_attempts;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void count_attempt(bl_webhook_deliver *d, const char *result, double seconds)
{
    if (!d->m_attempts)
        return;
    const char *labels[] = {result, NULL};
    bl_counter *c = bl_metric_counter(d->m_attempts, labels, NULL);
    bl_histogram *h = bl_metric_histogram(d->m_duration, labels, NULL);
    if (c)
        bl_counter_inc(c);
    if (h && seconds >= 0)
        bl_histogram_observe(h, seconds);
}

/* ---- requests held per host, oldest first ---- */

static void held_add(bl_webhook_deliver *d, bl_host_entry *h, dl_job *j, int64_t now)
{
    j->held_by = h;
    j->sent_mono = now;
    j->held_next = NULL;
    j->held_prev = h->held_tail;
    if (h->held_tail)
        h->held_tail->held_next = j;
    else
        h->held_head = j;
    h->held_tail = j;
    h->held++;
    if (!h->busy_listed) {
        h->busy_listed = true;
        h->busy_next = d->busy_hosts;
        d->busy_hosts = h;
    }
}

static void held_remove(dl_job *j)
{
    bl_host_entry *h = j->held_by;
    if (!h)
        return;
    if (j->held_prev)
        j->held_prev->held_next = j->held_next;
    else
        h->held_head = j->held_next;
    if (j->held_next)
        j->held_next->held_prev = j->held_prev;
    else
        h->held_tail = j->held_prev;
    h->held--;
    j->held_by = NULL;
    j->held_prev = j->held_next = NULL;
}

/* A host is stuck when its oldest held request has gone unanswered for
 * slow_host_ms: then it may keep only slow_host_keep requests, so that it
 * cannot fill a partition's window and hold back other endpoints. */
static bool host_stuck(const bl_webhook_deliver *d, const bl_host_entry *h, int64_t now)
{
    return h->held >= d->slow_host_keep && h->held_head && now - h->held_head->sent_mono >= d->slow_host_ms;
}

static void job_free(dl_job *j)
{
    bl_webhook_snapshot_release(j->snap);
    free(j);
}

/* Reports the outcome and frees j (j->job must not be touched after). */
static void finish(bl_webhook_deliver *d, dl_job *j, bl_outcome o)
{
    bl_runtime_job_set_user(j->job, NULL);
    bl_runtime_complete(d->rt, j->job, o);
    job_free(j);
}

static void log_attempt(bl_webhook_deliver *d, const dl_job *j, int status, bool ok, const char *resp,
                        size_t resp_len, const char *error, int64_t duration_ms)
{
    if (!d->log)
        return;
    bl_delivery_record rec = {
        .endpoint_id = j->v.endpoint_id,
        .organization_id = j->v.organization_id,
        .event_type = j->v.event_type,
        .event_id = j->v.event_id,
        .topic = j->v.source_topic[0] ? j->v.source_topic : NULL,
        .partition = j->v.source_partition,
        .offset = j->v.source_offset,
        .status_code = status,
        .succeeded = ok,
        .response = resp,
        .response_len = resp_len,
        .error = error,
        .duration_ms = duration_ms < 0 ? 0 : duration_ms,
        .attempt = j->attempt,
    };
    bl_err err = {0};
    if (bl_delivery_log_append(d->log, &rec, &err) != 0)
        bl_log_warn("deliver: delivery log append", BL_FS("error", err.msg));
}

static bl_transport_error transport_of(bl_http_transport t)
{
    switch (t) {
    case BL_HTTP_TRANSPORT_OK: return BL_TRANSPORT_NONE;
    case BL_HTTP_TRANSPORT_TIMEOUT: return BL_TRANSPORT_TIMEOUT;
    case BL_HTTP_TRANSPORT_REFUSED: return BL_TRANSPORT_CONNECT;
    case BL_HTTP_TRANSPORT_DNS: return BL_TRANSPORT_DNS;
    case BL_HTTP_TRANSPORT_RESET: return BL_TRANSPORT_RESET;
    default: return BL_TRANSPORT_TLS; /* other transport failures: retryable */
    }
}

/* Acts on a decision for an attempt that reached (or tried to reach) the
 * endpoint: health, metrics and the runtime outcome. */
static void conclude(bl_webhook_deliver *d, dl_job *j, const bl_retry_decision *dec, const char *what)
{
    char error[BL_RETRY_ERROR_MAX];
    snprintf(error, sizeof error, "%s: %s", what, dec->reason ? dec->reason : "");
    switch (dec->action) {
    case BL_RETRY_DELIVERED:
        atomic_fetch_add(&d->delivered, 1);
        bl_outcome_reporter_push(d->reporter, j->v.endpoint_id, BL_REPORT_SUCCESS);
        finish(d, j, bl_outcome_done());
        return;
    case BL_RETRY_LATER:
        atomic_fetch_add(&d->retried, 1);
        finish(d, j, bl_outcome_retry(dec->delay_ms, error));
        return;
    case BL_RETRY_DISABLE_ENDPOINT:
        bl_outcome_reporter_push(d->reporter, j->v.endpoint_id, BL_REPORT_GONE);
        break;
    case BL_RETRY_GIVE_UP:
        bl_outcome_reporter_push(d->reporter, j->v.endpoint_id, BL_REPORT_FAILURE);
        break;
    }
    atomic_fetch_add(&d->dead_lettered, 1);
    finish(d, j, bl_outcome_dead_letter(error));
}

static void on_http_done(const bl_http_result *r, void *opaque)
{
    dl_job *j = opaque;
    bl_webhook_deliver *d = j->d;
    held_remove(j);
    if (j->abandoned) {
        job_free(j);
        return;
    }
    j->in_http = 0;
    int64_t now = bl_webhook_now_ms();
    bl_delivery_outcome out = {.transport = transport_of(r->transport), .status = (int)r->status,
                               .retry_after = r->retry_after};
    if (r->transport == BL_HTTP_TRANSPORT_CANCELLED) {
        job_free(j); /* the client is being freed: the runtime already let go */
        return;
    }
    bool healthy = out.transport == BL_TRANSPORT_NONE && out.status < 500;
    bl_breaker_record(&j->check->host->breaker, &j->permit, healthy, mono_ms());
    bl_retry_decision dec = bl_retry_decide(&j->snap->retry, j->attempt, &out, now, bl_random_u32_os, NULL);
    bool ok = dec.action == BL_RETRY_DELIVERED;
    char what[96];
    if (out.transport == BL_TRANSPORT_NONE)
        snprintf(what, sizeof what, "HTTP %ld", r->status);
    else
        snprintf(what, sizeof what, "%s", bl_http_transport_name(r->transport));
    atomic_fetch_add(&d->attempts, 1);
    count_attempt(d, ok ? "delivered" : dec.action == BL_RETRY_LATER ? "retry" : "failed",
                  (double)r->duration_us / 1e6);
    log_attempt(d, j, (int)r->status, ok, r->body, r->body_len,
                out.transport == BL_TRANSPORT_NONE ? (ok ? NULL : dec.reason) : r->error,
                r->duration_us / 1000);
    conclude(d, j, &dec, what);
}

/* j was withdrawn from the http client before it was sent. */
static void held_unsent(dl_job *j, int64_t now)
{
    bl_host_entry *h = j->held_by;
    held_remove(j);
    j->in_http = 0;
    /* a half-open trial that never ran must not keep the breaker waiting */
    if (h && j->permit.probe)
        bl_breaker_record(&h->breaker, &j->permit, false, now);
}

/* Sets j aside through a retry tier without spending an attempt: its host
 * is stuck. Not an attempt, so neither logged nor counted in health. */
static void park(bl_webhook_deliver *d, dl_job *j, bl_host_entry *h, int64_t now)
{
    char why[BL_RETRY_ERROR_MAX];
    snprintf(why, sizeof why, "host %.200s stuck: %zu requests unanswered, the oldest for %lld ms", h->key,
             h->held, h->held_head ? (long long)(now - h->held_head->sent_mono) : 0LL);
    if (now - h->parking_logged_mono >= PARK_LOG_EVERY_MS || h->parking_logged_mono == 0) {
        h->parking_logged_mono = now;
        bl_log_warn("deliver: parking deliveries for a stuck host", BL_FS("host", h->key),
                    BL_FS("reason", why), BL_FI("park_ms", d->park_ms));
    }
    atomic_fetch_add(&d->parked, 1);
    count_attempt(d, "parked", -1);
    finish(d, j, bl_outcome_park(d->park_ms, why));
}

/* Takes back what stuck hosts hold beyond slow_host_keep that has not been
 * sent yet (newest first) and parks it; returns the earliest time another
 * host may turn stuck (INT64_MAX: none). */
static int64_t park_for_stuck_hosts(bl_webhook_deliver *d)
{
    int64_t now = mono_ms(), next = INT64_MAX;
    for (bl_host_entry **link = &d->busy_hosts; *link;) {
        bl_host_entry *h = *link;
        if (h->held == 0) {
            h->busy_listed = false;
            *link = h->busy_next;
            continue;
        }
        link = &h->busy_next;
        if (h->held <= d->slow_host_keep)
            continue;
        if (!host_stuck(d, h, now)) {
            int64_t at = h->held_head->sent_mono + d->slow_host_ms;
            if (at < next)
                next = at;
            continue;
        }
        while (h->held > d->slow_host_keep) {
            dl_job *j = h->held_tail;
            if (!bl_http_client_withdraw(d->http, j->snap->endpoint->url, j))
                break; /* it and all older ones are on the wire */
            held_unsent(j, now);
            park(d, j, h, now);
        }
    }
    return next;
}

static void defer(bl_webhook_deliver *d, dl_job *j, int64_t wait_ms)
{
    atomic_fetch_add(&d->deferred_n, 1);
    j->due_mono_ms = mono_ms() + wait_ms;
    j->next = d->deferred;
    d->deferred = j;
}

/* Sends j now, or defers or concludes it without sending. */
static void try_send(bl_webhook_deliver *d, dl_job *j)
{
    bl_err err = {0};
    int64_t now = bl_webhook_now_ms(), mono = mono_ms();
    const bl_webhook_endpoint *e = j->snap->endpoint;
    j->check = bl_host_table_check_url(d->hosts, e->url, now, &err);
    if (!j->check) {
        /* the name did not resolve: a transport failure like any other */
        bl_delivery_outcome out = {.transport = BL_TRANSPORT_DNS};
        bl_retry_decision dec = bl_retry_decide(&j->snap->retry, j->attempt, &out, now, bl_random_u32_os, NULL);
        atomic_fetch_add(&d->attempts, 1);
        count_attempt(d, "failed", -1);
        log_attempt(d, j, 0, false, NULL, 0, err.msg, 0);
        conclude(d, j, &dec, "dns");
        return;
    }
    if (j->check->refused) {
        atomic_fetch_add(&d->attempts, 1);
        count_attempt(d, "refused", -1);
        log_attempt(d, j, 0, false, NULL, 0, j->check->error, 0);
        bl_log_warn("deliver: endpoint URL refused", BL_FS("endpoint_id", j->v.endpoint_id),
                    BL_FS("error", j->check->error));
        bl_outcome_reporter_push(d->reporter, j->v.endpoint_id, BL_REPORT_FAILURE);
        atomic_fetch_add(&d->dead_lettered, 1);
        finish(d, j, bl_outcome_dead_letter(j->check->error));
        return;
    }
    bl_host_entry *host = j->check->host;
    if (host_stuck(d, host, mono)) {
        park(d, j, host, mono);
        return;
    }
    int64_t wait = bl_host_take_token(host, e->rate_limit_per_s, e->rate_limit_burst, mono);
    if (wait > 0) {
        defer(d, j, wait);
        return;
    }
    j->permit = bl_breaker_allow(&host->breaker, mono);
    if (!j->permit.allowed) {
        atomic_fetch_add(&d->deferred_n, 1);
        int64_t after = j->permit.retry_at_ms - mono;
        char why[BL_RETRY_ERROR_MAX];
        snprintf(why, sizeof why, "circuit open for %.200s", host->key);
        finish(d, j, bl_outcome_retry(after > 0 ? after : 1, why));
        return;
    }
    bl_webhook_rotation keys = bl_webhook_snapshot_keys(j->snap);
    if (bl_webhook_req_headers_build(e, &keys, j->v.event_id, j->v.body, j->v.body_len, now / 1000,
                                     &d->headers, &err) != 0) {
        bl_breaker_record(&host->breaker, &j->permit, true, mono);
        log_attempt(d, j, 0, false, NULL, 0, err.msg, 0);
        atomic_fetch_add(&d->dead_lettered, 1);
        finish(d, j, bl_outcome_dead_letter(err.msg));
        return;
    }
    bl_http_call call = {
        .method = "POST",
        .url = e->url,
        .headers = d->headers.lines,
        .header_count = d->headers.count,
        .body = j->v.body,
        .body_len = j->v.body_len,
        .timeout_ms = e->timeout_ms,
        .resolve = j->check->resolve[0] ? j->check->resolve : NULL,
        .on_done = on_http_done,
        .opaque = j,
    };
    j->in_http = 1;
    held_add(d, host, j, mono);
    if (bl_http_client_submit(d->http, &call, &err) != 0) {
        held_remove(j);
        j->in_http = 0;
        bl_breaker_record(&host->breaker, &j->permit, true, mono);
        log_attempt(d, j, 0, false, NULL, 0, err.msg, 0);
        atomic_fetch_add(&d->dead_lettered, 1);
        finish(d, j, bl_outcome_dead_letter(err.msg));
    }
}

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
        finish(d, j, bl_outcome_dead_letter(err.msg));
        return;
    }
    if (!(j->snap = bl_webhook_cache_get(d->cache, j->v.endpoint_id))) {
        atomic_fetch_add(&d->skipped, 1);
        count_attempt(d, "skipped", -1);
        log_attempt(d, j, 0, false, NULL, 0, "endpoint disabled or deleted: not sent", 0);
        finish(d, j, bl_outcome_done());
        return;
    }
    try_send(d, j);
}

static void run_deferred(bl_webhook_deliver *d)
{
    int64_t now = mono_ms();
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
        try_send(d, j);
    }
}

static void deliver_pump(int timeout_ms, const int *fds, size_t n_fds, void *ctx)
{
    bl_webhook_deliver *d = ctx;
    int wait = timeout_ms;
    int64_t now = mono_ms();
    for (dl_job *j = d->deferred; j; j = j->next) {
        int64_t left = j->due_mono_ms - now;
        if (left < wait)
            wait = left < 0 ? 0 : (int)left;
    }
    int64_t stuck_at = park_for_stuck_hosts(d);
    if (stuck_at != INT64_MAX && stuck_at - now < wait)
        wait = stuck_at - now < 0 ? 0 : (int)(stuck_at - now);
    bl_err err = {0};
    if (bl_http_client_run_fds(d->http, wait, fds, n_fds, &err) < 0)
        bl_log_error("deliver: http client", BL_FS("error", err.msg));
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
    if (j->in_http && !bl_http_client_withdraw(d->http, j->snap->endpoint->url, j)) {
        j->abandoned = 1; /* on the wire: freed when its request ends */
        return;
    }
    held_unsent(j, mono_ms());
    for (dl_job **pp = &d->deferred; *pp; pp = &(*pp)->next) {
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    }
    job_free(j);
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
    while (d->deferred) {
        dl_job *j = d->deferred;
        d->deferred = j->next;
        job_free(j);
    }
    bl_runtime_free(d->rt);
    bl_outcome_reporter_free(d->reporter);
    bl_host_table_free(d->hosts);
    free(d);
}
