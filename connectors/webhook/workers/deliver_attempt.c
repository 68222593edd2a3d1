/* One webhook delivery attempt (see deliver_internal.h): send it through
 * the SSRF-checked address, read its outcome into a retry decision, and
 * hold back what a slow host or an empty rate-limit bucket cannot take yet. */
#include "connectors/webhook/workers/deliver_internal.h"

#include "consumers/retry_policy.h"
#include "core/clock.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARK_LOG_EVERY_MS 10000

void bl_deliver_count_attempt(bl_webhook_deliver *d, const char *result, double seconds)
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

void bl_deliver_job_free(dl_job *j)
{
    bl_webhook_snapshot_release(j->snap);
    free(j->body);
    free(j);
}

/* Reports the outcome and frees j (j->job must not be touched after). */
void bl_deliver_finish(bl_webhook_deliver *d, dl_job *j, bl_outcome o)
{
    bl_runtime_job_set_user(j->job, NULL);
    bl_runtime_complete(d->rt, j->job, o);
    bl_deliver_job_free(j);
}

void bl_deliver_log_attempt(bl_webhook_deliver *d, const dl_job *j, bool sent, int status, bool ok, const char *resp,
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
        .payload = sent ? (j->body ? j->body : j->v.body) : NULL,
        .payload_len = j->body ? j->body_len : j->v.body_len,
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

/* When j's delivery was created (unix ms): its fan-out time, else its first
 * failure, else now. */
static int64_t delivery_born_ms(const dl_job *j, int64_t now)
{
    const bl_retry_headers *prev = bl_runtime_job_retry_headers(j->job);
    if (j->v.enqueued_at_ms > 0)
        return j->v.enqueued_at_ms;
    return prev && prev->first_failure_at_ms > 0 ? prev->first_failure_at_ms : now;
}

/* 1 when the endpoint's max age has run out by at_ms for j (then reason
 * gets why, naming the max age and last, the latest failure). */
static int past_endpoint_max_age(const dl_job *j, int64_t at_ms, const char *last, char *reason, size_t len)
{
    int64_t max_s = j->snap->endpoint->max_age_s, now = bl_clock_wall_ms();
    if (max_s <= 0 || at_ms - delivery_born_ms(j, now) < max_s * 1000)
        return 0;
    char was[128];
    /* last may be reason itself; cut to was (gcc -O3 checks the bound) */
    snprintf(was, sizeof was, "%.*s", (int)sizeof was - 1, last ? last : "");
    snprintf(reason, len, "max age exceeded: older than the endpoint's max_age_seconds (%lld s)%s; %s",
             (long long)max_s, at_ms > now ? " at its next attempt" : "", was);
    return 1;
}

/* message.attempt.failing|exhausted (type) of j, unless j carries such an event itself. */
static void attempt_event(bl_webhook_deliver *d, const dl_job *j, const char *type, int status, const char *error)
{
    if (!bl_webhook_ops_raises_attempt_events(j->v.event_type))
        return;
    bl_webhook_attempt_info a = {.message_id = j->v.event_id, .event_type = j->v.event_type,
                                 .attempts = j->attempt, .status_code = status, .error = error};
    bl_outcome_reporter_push_attempt(d->reporter, j->v.endpoint_id, type, &a);
}

/* Sends j to the dead letters with reason: counted, a failure in the
 * endpoint's health when it counts as one, and message.attempt.exhausted.
 * status: the last answer's (0: none). */
static void dead_letter(bl_webhook_deliver *d, dl_job *j, bool health_failure, int status, const char *reason)
{
    if (health_failure)
        bl_outcome_reporter_push(d->reporter, j->v.endpoint_id, BL_REPORT_FAILURE);
    attempt_event(d, j, "message.attempt.exhausted", status, reason);
    atomic_fetch_add(&d->dead_lettered, 1);
    bl_deliver_finish(d, j, bl_outcome_dead_letter(reason));
}

/* Acts on a decision for an attempt that reached (or tried to reach) the
 * endpoint: health, metrics and the runtime outcome. status: the answer's
 * (0: none came). */
static void conclude(bl_webhook_deliver *d, dl_job *j, const bl_retry_decision *dec, const char *what, int status)
{
    char error[BL_RETRY_ERROR_MAX];
    snprintf(error, sizeof error, "%s: %s", what, dec->reason ? dec->reason : "");
    switch (dec->action) {
    case BL_RETRY_DELIVERED:
        atomic_fetch_add(&d->delivered, 1);
        bl_outcome_reporter_push(d->reporter, j->v.endpoint_id, BL_REPORT_SUCCESS);
        bl_deliver_finish(d, j, bl_outcome_done());
        return;
    case BL_RETRY_LATER:
        if (past_endpoint_max_age(j, bl_clock_wall_ms() + dec->delay_ms, error, error, sizeof error)) {
            /* its next attempt would come too late: dead letters now */
            dead_letter(d, j, true, status, error);
            return;
        }
        if (j->attempt == BL_WEBHOOK_FAILING_AFTER)
            attempt_event(d, j, "message.attempt.failing", status, error);
        atomic_fetch_add(&d->retried, 1);
        bl_deliver_finish(d, j, bl_outcome_retry(dec->delay_ms, error));
        return;
    case BL_RETRY_DISABLE_ENDPOINT:
        bl_outcome_reporter_push(d->reporter, j->v.endpoint_id, BL_REPORT_GONE);
        dead_letter(d, j, false, status, error);
        return;
    case BL_RETRY_GIVE_UP:
        dead_letter(d, j, true, status, error);
        return;
    }
}

/* A transport failure's text for the log: curl's message, and for an https
 * endpoint or a proxied one the transport settings it was tried with (TLS
 * failures often reach curl as a bare closed connection). */
static const char *transport_error(const dl_job *j, const bl_http_result *r, char *buf, size_t len)
{
    const bl_webhook_endpoint *e = j->snap->endpoint;
    bool https = strncmp(e->url, "https://", 8) == 0;
    if (!https && !e->egress_proxy)
        return r->error;
    snprintf(buf, len, "%.300s%s%s%s%s%s", r->error,
             https ? "; tls: " : "",
             https ? (j->snap->tls_key ? "client certificate sent" : "no client certificate configured") : "",
             https ? (e->tls_ca_cert ? ", the endpoint's CA" : ", the system's CAs") : "",
             e->egress_proxy ? "; via the organization's egress proxy " : "", e->egress_proxy ? e->egress_proxy : "");
    return buf;
}

static void on_http_done(const bl_http_result *r, void *opaque)
{
    dl_job *j = opaque;
    bl_webhook_deliver *d = j->d;
    held_remove(j);
    if (j->abandoned) {
        bl_deliver_job_free(j);
        return;
    }
    j->in_http = 0;
    int64_t now = bl_clock_wall_ms();
    bl_delivery_outcome out = {.transport = transport_of(r->transport), .status = (int)r->status,
                               .retry_after = r->retry_after};
    if (r->transport == BL_HTTP_TRANSPORT_CANCELLED) {
        bl_deliver_job_free(j); /* the client is being freed: the runtime already let go */
        return;
    }
    bool healthy = out.transport == BL_TRANSPORT_NONE && out.status < 500;
    bl_breaker_record(&j->check->host->breaker, &j->permit, healthy, bl_clock_mono_ms());
    bl_retry_decision dec = bl_retry_decide(&j->snap->retry, j->attempt, &out, now, bl_random_u32_os, NULL);
    bool ok = dec.action == BL_RETRY_DELIVERED;
    char what[96];
    if (out.transport == BL_TRANSPORT_NONE)
        snprintf(what, sizeof what, "HTTP %ld", r->status);
    else
        snprintf(what, sizeof what, "%s", bl_http_transport_name(r->transport));
    atomic_fetch_add(&d->attempts, 1);
    bl_deliver_count_attempt(d, ok ? "delivered" : dec.action == BL_RETRY_LATER ? "retry" : "failed",
                  (double)r->duration_us / 1e6);
    char transport_text[768];
    bl_deliver_log_attempt(d, j, true, (int)r->status, ok, r->body, r->body_len,
                out.transport == BL_TRANSPORT_NONE ? (ok ? NULL : dec.reason)
                                                   : transport_error(j, r, transport_text, sizeof transport_text),
                r->duration_us / 1000);
    conclude(d, j, &dec, what, out.transport == BL_TRANSPORT_NONE ? (int)r->status : 0);
}

/* j was withdrawn from the http client before it was sent. */
void bl_deliver_held_unsent(dl_job *j, int64_t now)
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
/* 1 when j has waited past the worker's max age since its first failure
 * (or first setting aside): set aside once more, it would never end while
 * its host stays down, since setting aside spends no attempt. */
static int past_max_age(const bl_webhook_deliver *d, const dl_job *j, int64_t now_wall_ms)
{
    const bl_retry_headers *prev = bl_runtime_job_retry_headers(j->job);
    return prev && prev->first_failure_at_ms > 0 && now_wall_ms - prev->first_failure_at_ms >= d->max_age_ms;
}

/* Sets j aside for after_ms without spending an attempt, or dead-letters it
 * past the max age. why says what holds it back. */
static void set_aside(bl_webhook_deliver *d, dl_job *j, int64_t after_ms, const char *why)
{
    if (past_max_age(d, j, bl_clock_wall_ms())) {
        char last[BL_RETRY_ERROR_MAX];
        snprintf(last, sizeof last, "undelivered for the max age (%lld s) after its first failure; %.160s",
                 (long long)(d->max_age_ms / 1000), why);
        dead_letter(d, j, true, 0, last);
        return;
    }
    atomic_fetch_add(&d->parked, 1);
    bl_deliver_count_attempt(d, "parked", -1);
    bl_deliver_finish(d, j, bl_outcome_park(after_ms > 0 ? after_ms : 1, why));
}

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
    set_aside(d, j, d->park_ms, why);
}

/* Takes back what stuck hosts hold beyond slow_host_keep that has not been
 * sent yet (newest first) and parks it; returns the earliest time another
 * host may turn stuck (INT64_MAX: none). */
int64_t bl_deliver_park_stuck_hosts(bl_webhook_deliver *d)
{
    int64_t now = bl_clock_mono_ms(), next = INT64_MAX;
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
            bl_deliver_held_unsent(j, now);
            park(d, j, h, now);
        }
    }
    return next;
}

static void defer(bl_webhook_deliver *d, dl_job *j, int64_t wait_ms)
{
    atomic_fetch_add(&d->deferred_n, 1);
    j->due_mono_ms = bl_clock_mono_ms() + wait_ms;
    j->next = d->deferred;
    d->deferred = j;
}

/* Sends j now, or defers or concludes it without sending. */
void bl_deliver_try_send(bl_webhook_deliver *d, dl_job *j)
{
    bl_err err = {0};
    int64_t now = bl_clock_wall_ms(), mono = bl_clock_mono_ms();
    const bl_webhook_endpoint *e = j->snap->endpoint;
    const bl_retry_headers *prev = bl_runtime_job_retry_headers(j->job);
    char aged[BL_RETRY_ERROR_MAX];
    if (past_endpoint_max_age(j, now, prev ? prev->error : NULL, aged, sizeof aged)) {
        bl_deliver_log_attempt(d, j, false, 0, false, NULL, 0, aged, 0);
        dead_letter(d, j, true, 0, aged);
        return;
    }
    if (bl_deliver_transform_body(j, now, &err) != 0) {
        /* the same event fails the same rule again: no retry; replay it once
         * the transformation is fixed. Not the endpoint's failure (health). */
        atomic_fetch_add(&d->attempts, 1);
        bl_deliver_count_attempt(d, "failed", -1);
        bl_deliver_log_attempt(d, j, false, 0, false, NULL, 0, err.msg, 0);
        bl_log_warn("deliver: transformation failed; dead-lettered", BL_FS("endpoint_id", j->v.endpoint_id),
                    BL_FS("event_id", j->v.event_id), BL_FS("error", err.msg));
        dead_letter(d, j, false, 0, err.msg);
        return;
    }
    if (e->kafka) {
        bl_deliver_kafka_send(d, j);
        return;
    }
    j->check = bl_host_table_check_url(d->hosts, e->url, now, &err);
    if (!j->check) {
        /* the name did not resolve: a transport failure like any other */
        bl_delivery_outcome out = {.transport = BL_TRANSPORT_DNS};
        bl_retry_decision dec = bl_retry_decide(&j->snap->retry, j->attempt, &out, now, bl_random_u32_os, NULL);
        atomic_fetch_add(&d->attempts, 1);
        bl_deliver_count_attempt(d, "failed", -1);
        bl_deliver_log_attempt(d, j, false, 0, false, NULL, 0, err.msg, 0);
        conclude(d, j, &dec, "dns", 0);
        return;
    }
    if (j->check->refused) {
        atomic_fetch_add(&d->attempts, 1);
        bl_deliver_count_attempt(d, "refused", -1);
        bl_deliver_log_attempt(d, j, false, 0, false, NULL, 0, j->check->error, 0);
        bl_log_warn("deliver: endpoint URL refused", BL_FS("endpoint_id", j->v.endpoint_id),
                    BL_FS("error", j->check->error));
        dead_letter(d, j, true, 0, j->check->error);
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
        /* not tried: the endpoint never saw it, so no attempt is spent */
        char why[BL_RETRY_ERROR_MAX];
        snprintf(why, sizeof why, "circuit open for %.200s", host->key);
        set_aside(d, j, j->permit.retry_at_ms - mono, why);
        return;
    }
    bl_webhook_rotation keys = bl_webhook_snapshot_keys(j->snap);
    const char *body = j->body ? j->body : j->v.body;
    size_t body_len = j->body ? j->body_len : j->v.body_len;
    if (bl_webhook_req_headers_build(e, &keys, j->v.event_id, body, body_len, now / 1000,
                                     &d->headers, &err) != 0) {
        bl_breaker_record(&host->breaker, &j->permit, true, mono);
        bl_deliver_log_attempt(d, j, false, 0, false, NULL, 0, err.msg, 0);
        dead_letter(d, j, false, 0, err.msg);
        return;
    }
    bl_http_call call = {
        .method = "POST",
        .url = e->url,
        .headers = d->headers.lines,
        .header_count = d->headers.count,
        .body = body,
        .body_len = body_len,
        .timeout_ms = e->timeout_ms,
        .resolve = j->check->resolve[0] ? j->check->resolve : NULL,
        .on_done = on_http_done,
        .opaque = j,
        .tls_client_cert = j->snap->tls_key ? e->tls_client_cert : NULL,
        .tls_client_key = j->snap->tls_key,
        .tls_ca_cert = e->tls_ca_cert,
        .proxy = e->egress_proxy,
    };
    j->in_http = 1;
    held_add(d, host, j, mono);
    if (bl_http_client_submit(d->http, &call, &err) != 0) {
        held_remove(j);
        j->in_http = 0;
        bl_breaker_record(&host->breaker, &j->permit, true, mono);
        bl_deliver_log_attempt(d, j, false, 0, false, NULL, 0, err.msg, 0);
        dead_letter(d, j, false, 0, err.msg);
    }
}

void bl_deliver_conclude(bl_webhook_deliver *d, dl_job *j, const bl_retry_decision *dec, const char *what,
                         int status)
{
    conclude(d, j, dec, what, status);
}

void bl_deliver_dead_letter(bl_webhook_deliver *d, dl_job *j, bool health_failure, const char *reason)
{
    dead_letter(d, j, health_failure, 0, reason);
}
