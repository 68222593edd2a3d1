/* The delivery workers' in-memory view of the active webhook endpoints:
 * loaded from PostgreSQL with their secrets opened and their conditions
 * compiled, and kept fresh by a background thread that LISTENs on
 * busline_webhook_endpoints (see migrations/040_webhooks.sql) on its own
 * connection: a change is visible here well within a second of its commit;
 * after a lost connection everything is reloaded.
 *
 * What readers get are snapshots: immutable, reference-counted views of one
 * endpoint. A reload replaces the cache's table but never frees a snapshot
 * a worker still holds; the worker releases it when done. All calls are
 * thread-safe; lookups take a read lock only for the scan. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_STORE_ENDPOINT_CACHE_H
#define BUSLINE_CONNECTORS_WEBHOOK_STORE_ENDPOINT_CACHE_H

#include "connectors/webhook/store/endpoint_store.h"
#include "consumers/event_filter.h"
#include "consumers/retry_policy.h"
#include "connectors/webhook/policy/signature.h"
#include "connectors/transform/transform.h"
#include "core/crypto.h"
#include "core/err.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* One active endpoint as loaded. Read-only for everyone; keep it with
 * bl_webhook_snapshot_retain, give it back with bl_webhook_snapshot_release. */
typedef struct bl_webhook_snapshot {
    const bl_webhook_endpoint *endpoint; /* settings (sealed secret texts included) */
    const bl_event_filter *filter;       /* compiled conditions */
    bl_webhook_secret secret;            /* current signing key */
    bl_webhook_secret previous_secret;   /* len 0 when none */
    int64_t previous_until_s;            /* previous signs while now < this (unix s) */
    bl_webhook_ed25519_key ed;           /* current v1a key; .set false when none */
    bl_webhook_ed25519_key ed_previous;  /* .set false when none */
    int64_t ed_previous_until_s;         /* as previous_until_s */
    bl_retry_policy retry;               /* defaults with the endpoint's attempts and backoff */
    atomic_int refs;                     /* private */
    char *tls_key;                       /* the client key's PEM, opened; NULL: no client certificate */
    size_t tls_key_len;
    /* The endpoint's transformation compiled (policy/transformation.h);
     * NULL when it has none, or when it did not compile here: then
     * transform_error says why and its deliveries fail with that. */
    const bl_transform *transform;
    char transform_error[256];
    char *kafka_sasl_password;           /* a Kafka destination's, opened; NULL: none */
} bl_webhook_snapshot;

/* Takes one more reference to s; returns s. */
bl_webhook_snapshot *bl_webhook_snapshot_retain(bl_webhook_snapshot *s);

/* Drops one reference; the last one wipes the keys and frees s. Accepts NULL. */
void bl_webhook_snapshot_release(bl_webhook_snapshot *s);

/* The keys and scheme for bl_webhook_sign_header, borrowed from s. */
bl_webhook_rotation bl_webhook_snapshot_keys(const bl_webhook_snapshot *s);

/* A caller-owned list of retained snapshots, reused from one match to the
 * next so the hot path does not allocate. Start it zeroed. */
typedef struct bl_webhook_match_list {
    bl_webhook_snapshot **items;
    size_t count;
    size_t cap;
} bl_webhook_match_list;

/* Releases the snapshots held and empties the list, keeping its memory. */
void bl_webhook_match_list_clear(bl_webhook_match_list *l);

/* Releases the snapshots and frees the list's memory. Accepts NULL. */
void bl_webhook_match_list_free(bl_webhook_match_list *l);

typedef struct bl_webhook_cache_opts {
    const char *conninfo;      /* required: PostgreSQL URL; copied */
    const bl_keyring *keyring; /* required; borrowed, outlives the cache */
    int reconnect_ms;          /* wait between reconnect attempts; 0: 1000 */
} bl_webhook_cache_opts;

typedef struct bl_webhook_cache bl_webhook_cache;

/* Connects, LISTENs, loads every active endpoint and starts the refresh
 * thread. An endpoint whose secret does not open (unknown key id, tampered
 * row) is left out and logged, not fatal. Returns the cache (free with
 * bl_webhook_cache_free), or NULL with err (cannot connect or load). */
bl_webhook_cache *bl_webhook_cache_new(const bl_webhook_cache_opts *opts, bl_err *err);

/* Stops the thread, closes its connection and drops the cache's references
 * (snapshots still held by callers stay valid until released). Accepts NULL. */
void bl_webhook_cache_free(bl_webhook_cache *c);

/* Appends to out (not cleared first) a retained snapshot of every active
 * endpoint of organization_id whose event types match event_type and whose
 * conditions hold for event (the JSON the condition paths address, e.g.
 * {"type":..., "data": {...}}; NULL: an empty object). Never matches another
 * organization's endpoint. They come sorted by id. Only the endpoints with a
 * pattern that can match are looked at (endpoint_index.h), not every
 * endpoint of the organization. Returns how many it appended, or -1 with
 * err (BL_ENOMEM; nothing appended). */
int bl_webhook_cache_match(bl_webhook_cache *c, const char *organization_id,
                           const char *event_type, const json_t *event,
                           bl_webhook_match_list *out, bl_err *err);

/* A retained snapshot of active endpoint id (caller releases), or NULL when
 * it is not in the cache (deleted, disabled or never seen). A bisection over
 * the ids (endpoint_index.h): the delivery worker asks once or twice per
 * delivery, whatever the number of endpoints. */
bl_webhook_snapshot *bl_webhook_cache_get(bl_webhook_cache *c, const char *id);

/* Counters for tests and metrics. */
typedef struct bl_webhook_cache_stats {
    long endpoints;    /* snapshots in the current table */
    long full_loads;   /* complete (re)loads, the first included */
    long updates;      /* single-endpoint refreshes after a NOTIFY */
    long skipped;      /* endpoints left out because their secret did not open */
    long reconnects;   /* connections re-established after a failure */
} bl_webhook_cache_stats;

void bl_webhook_cache_stats_get(bl_webhook_cache *c, bl_webhook_cache_stats *out);

#endif
