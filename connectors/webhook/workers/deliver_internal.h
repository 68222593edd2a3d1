/* What the delivery worker's two halves share (not a public interface):
 * deliver.c runs the worker under the consumer runtime (its hooks, set-up
 * and teardown), deliver_attempt.c carries out one delivery attempt
 * (send, conclude, park slow hosts, defer for rate limits). Both run on
 * the runtime's worker thread. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_DELIVER_INTERNAL_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_DELIVER_INTERNAL_H

#include "connectors/webhook/workers/deliver.h"

#include "connectors/webhook/workers/delivery.h"
#include "connectors/webhook/workers/host_table.h"
#include "connectors/webhook/workers/kafka_sink.h"
#include "connectors/webhook/workers/outcome_reporter.h"
#include "connectors/webhook/workers/request.h"
#include "core/http_client.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define DNS_RETRY_MS 1000

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
    char *body;          /* the endpoint's transformation of v.body (owned); NULL: v.body is sent */
    size_t body_len;
    int in_kafka;                           /* queued on a Kafka destination's producer */
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
    int64_t slow_host_ms, park_ms, max_age_ms;
    bl_webhook_req_headers headers;  /* scratch, worker thread only */
    atomic_uint_fast64_t attempts, delivered, retried, dead_lettered, skipped, deferred_n, parked;
    bl_runtime_metrics rt_metrics;
    bl_metric *m_duration, *m_attempts;
    bl_kafka_sink *kafka;            /* Kafka destinations' producers (kafka_sink.h) */
    bool kafka_closing;              /* its reports now come from the free: jobs are let go */
};


/* Counts one attempt of result ("delivered", "retry", ...) in the metrics;
 * seconds < 0: not sent (no duration observed). */
void bl_deliver_count_attempt(bl_webhook_deliver *d, const char *result, double seconds);

/* Releases j's endpoint snapshot and frees j (not NULL). */
void bl_deliver_job_free(dl_job *j);

/* Reports the outcome and frees j (j->job must not be touched after). */
void bl_deliver_finish(bl_webhook_deliver *d, dl_job *j, bl_outcome o);

/* Appends one row for j's attempt to the delivery log (when there is one);
 * sent: the request was made (its body is logged as the payload); resp
 * (borrowed, may be NULL) is the response excerpt, error the reason. */
void bl_deliver_log_attempt(bl_webhook_deliver *d, const dl_job *j, bool sent, int status, bool ok,
                            const char *resp,
                            size_t resp_len, const char *error, int64_t duration_ms);

/* j was withdrawn from the http client before it was sent. */
void bl_deliver_held_unsent(dl_job *j, int64_t now);

/* Takes back what stuck hosts hold beyond slow_host_keep that has not been
 * sent yet (newest first) and parks it; returns the earliest time another
 * host may turn stuck (INT64_MAX: none). */
int64_t bl_deliver_park_stuck_hosts(bl_webhook_deliver *d);

/* Applies j's endpoint transformation (when it has one) to j->v.body at
 * now_ms into j->body, the bytes then signed, sent and logged. Returns 0
 * (also when there is none), or -1 with err ("transformation: ..."). */
int bl_deliver_transform_body(dl_job *j, int64_t now_ms, bl_err *err);

/* Sends j now, or defers or concludes it without sending. */
void bl_deliver_try_send(bl_webhook_deliver *d, dl_job *j);

/* Acts on dec for j's attempt (what names it in the error, status the
 * answer's, 0: none): health, metrics, events and the runtime outcome, as
 * for an HTTP answer. Frees j. */
void bl_deliver_conclude(bl_webhook_deliver *d, dl_job *j, const bl_retry_decision *dec, const char *what,
                         int status);

/* Dead-letters j with reason (a failure in health when health_failure). Frees j. */
void bl_deliver_dead_letter(bl_webhook_deliver *d, dl_job *j, bool health_failure, const char *reason);

/* Produces j to its endpoint's Kafka destination (deliver_kafka.c): the
 * report concludes it as an HTTP answer would. */
void bl_deliver_kafka_send(bl_webhook_deliver *d, dl_job *j);

/* The kafka sink's report callback (ctx: the worker). */
void bl_deliver_kafka_report(void *opaque, int err_code, const char *err_msg, int32_t partition, int64_t offset,
                             void *ctx);

#endif
