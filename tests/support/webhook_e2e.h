/* The whole webhook path in one process for integration tests: a fresh
 * database (webhook_test.h), unique topics (events, deliveries, retry
 * tiers, DLQ), a relay, the fan-out and a delivery worker on their own
 * threads, an endpoint cache, store and delivery log. */
#ifndef BUSLINE_TEST_WEBHOOK_E2E_H
#define BUSLINE_TEST_WEBHOOK_E2E_H

#include "connectors/webhook/store/webhook_events.h"
#include "connectors/webhook/workers/deliver.h"
#include "connectors/webhook/workers/fanout.h"
#include "producers/outbox/relay.h"
#include "schemas/registry_store.h"
#include "tests/support/webhook_test.h"

#include <pthread.h>
#include <sys/types.h>

typedef struct wh_e2e {
    bl_webhook_fixture f;
    char prefix[64];            /* also the connector name */
    char events_topic[160], deliveries[160], dlq[160], tiers[2][160];
    char ops_topics[2][160];    /* the endpoint.* and message.attempt.* topics */
    const char *tier_spec;
    /* Set before wh_e2e_open; 0 takes the defaults. */
    int deliveries_partitions;  /* 3 */
    size_t max_in_flight;       /* the runtime's window per partition */
    long max_host_connections;
    int64_t slow_host_ms;
    const bl_breaker_config *breaker; /* NULL: the worker's default */
    int64_t park_ms, max_age_ms;
    int have_topics;
    bl_webhook_events *events;
    bl_registry_store *registry;
    bl_schema_cache *schemas;
    bl_webhook_cache *cache;
    bl_webhook_store *store;
    bl_delivery_log *log;
    bl_relay *relay;
    bl_webhook_fanout *fanout;
    bl_webhook_deliver *deliver;
    pthread_t relay_t, fanout_t, deliver_t;
    int relay_on, fanout_on, deliver_on;
} wh_e2e;

/* Opens the database (unless e->f was attached to one with
 * bl_webhook_fixture_attach) and topics and creates everything; the threads
 * are started by wh_e2e_start. Returns 0, or -1 after printing why. */
int wh_e2e_open(wh_e2e *e);
/* Starts the relay, fan-out and (when with_deliver) delivery threads. */
int wh_e2e_start(wh_e2e *e, int with_deliver);
/* Creates an endpoint of org for types at url; secret_out gets its secret. */
char *wh_e2e_endpoint(wh_e2e *e, const char *org, const char *url, const char *types,
                      void (*tweak)(bl_webhook_spec *, void *), void *user, char *secret_out);
/* Waits until the cache holds n endpoints. */
int wh_e2e_wait_cache(wh_e2e *e, long n);
/* Appends count webhook.disabled events of org (endpoint_id = subject,
 * reason "r<i>") to the outbox in one transaction. Returns 0. */
int wh_e2e_append(wh_e2e *e, const char *org, const char *subject, int count, const char *reason_prefix);
/* Runs tests/unit/standard_webhooks_verify.py with args (its mode and
 * arguments before the body file) over body; its first output line ("ok",
 * "mismatch", "sha256=...") goes into out. */
void wh_python_verify(const char *args, const char *body, char *out, size_t len);
/* Sets the environment `busline webhooks deliver` reads, as a Deployment
 * would, for e's database, topics, tiers and a consumer group of its own. */
void wh_e2e_deliver_env(const wh_e2e *e);
/* Starts `busline webhooks deliver` as a child process (environment from
 * wh_e2e_deliver_env), its output appended to log_path; returns its pid or -1. */
pid_t wh_e2e_spawn_deliver(const char *log_path);
/* Stops the threads, frees everything, deletes topics, drops the database. */
void wh_e2e_close(wh_e2e *e);

#endif
