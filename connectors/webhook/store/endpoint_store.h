/* Webhook endpoints in PostgreSQL (migrations/040_webhooks.sql): create,
 * read, update, delete with validation, signing secrets generated here and
 * stored sealed with the keyring (the plaintext is handed out once, on
 * create and rotate), rotation with an overlap, enable/disable, and endpoint
 * health (a long run of failed deliveries disables the endpoint and appends
 * a webhook.disabled event to the outbox in the same transaction).
 *
 * Every change fires NOTIFY busline_webhook_endpoints (a trigger), which the
 * endpoint caches of the delivery workers listen to (endpoint_cache.h).
 * All calls are safe from many threads at once (each takes a pooled
 * connection for the call). */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_STORE_ENDPOINT_STORE_H
#define BUSLINE_CONNECTORS_WEBHOOK_STORE_ENDPOINT_STORE_H

#include "connectors/webhook/policy/signature.h"
#include "connectors/webhook/policy/signature_v1a.h"
#include "connectors/webhook/policy/ssrf_guard.h"
#include "connectors/webhook/store/kafka_destination.h"
#include "connectors/webhook/store/webhook_events.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/pg_pool.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits checked on every save. */
#define BL_WEBHOOK_ID_MAX 64             /* endpoint ids are UUIDs (36) */
#define BL_WEBHOOK_ORG_MAX 128
#define BL_WEBHOOK_NAME_MAX 200
#define BL_WEBHOOK_EVENT_TYPES_MAX 64    /* patterns per endpoint */
#define BL_WEBHOOK_HEADERS_MAX 20        /* custom headers per endpoint */
#define BL_WEBHOOK_HEADER_NAME_MAX 64
#define BL_WEBHOOK_HEADER_VALUE_MAX 1024
#define BL_WEBHOOK_REASON_MAX 500
#define BL_WEBHOOK_TIMEOUT_MAX_MS (5 * 60 * 1000)
#define BL_WEBHOOK_RATE_MAX 100000.0     /* requests per second */
#define BL_WEBHOOK_RETRY_SCHEDULE_MAX 20           /* delays in a retry_schedule */
#define BL_WEBHOOK_RETRY_DELAY_MAX_S (7 * 24 * 3600) /* each delay 1 s .. a week */
#define BL_WEBHOOK_MAX_AGE_MAX_S (30 * 24 * 3600)    /* max_age_seconds 1 s .. 30 days */

/* Defaults of a spec field left 0. */
#define BL_WEBHOOK_DEFAULT_MAX_ATTEMPTS 3
#define BL_WEBHOOK_DEFAULT_BACKOFF_MS 1000
#define BL_WEBHOOK_DEFAULT_TIMEOUT_MS 10000
#define BL_WEBHOOK_DEFAULT_OVERLAP_MS (24LL * 3600 * 1000)
#define BL_WEBHOOK_DEFAULT_HEALTH_FAILURES 20
#define BL_WEBHOOK_DEFAULT_HEALTH_WINDOW_MS (3600LL * 1000)

/* How a delivery's body is written (webhook_endpoints.payload_format). */
typedef enum bl_webhook_payload_format {
    BL_WEBHOOK_PAYLOAD_STANDARD = 0, /* busline's own (workers/payload.h) */
    BL_WEBHOOK_PAYLOAD_SMARTLEAKPRO, /* the SmartLeakPro document's (workers/smartleakpro_payload.h) */
} bl_webhook_payload_format;

/* "standard" / "smartleakpro". */
const char *bl_webhook_payload_format_name(bl_webhook_payload_format f);

/* What the caller sets on create and update. Pointers are borrowed for the
 * call. Update replaces every field, so to change one, read the endpoint,
 * bl_webhook_spec_from_endpoint, change it, update. */
typedef struct bl_webhook_spec {
    const char *name;                 /* 1..BL_WEBHOOK_NAME_MAX bytes */
    const char *url;                  /* checked with bl_ssrf_check_url */
    const char *const *event_types;   /* 1..BL_WEBHOOK_EVENT_TYPES_MAX patterns */
    size_t event_type_count;
    const json_t *conditions;         /* array for bl_event_filter_new; NULL: none */
    const json_t *headers;            /* object {"Name": "value"}; NULL: none */
    bool legacy_signature;            /* also send X-Signature: sha256=<hex> */
    /* Also send "<hmac_header>: sha256=<hex>" keyed with the secret's text
     * (bl_webhook_sign_text_keyed); a header name (token, <= 64 bytes, none
     * busline sets itself nor a custom header's); NULL: none. */
    const char *hmac_header;
    bool strict_order;                /* one delivery in flight at a time */
    int max_attempts;                 /* 1..100; 0: 3 */
    int64_t backoff_base_ms;          /* 1..a week; 0: 1000 */
    /* Explicit delays in seconds before retry 1, 2, ... (1..20 of them, each
     * 1..BL_WEBHOOK_RETRY_DELAY_MAX_S) instead of the exponential backoff:
     * the endpoint then makes retry_schedule_len + 1 attempts and
     * max_attempts / backoff_base_ms are kept but unused. 0 delays: exponential. */
    const int64_t *retry_schedule_s;
    size_t retry_schedule_len;
    /* A delivery older than this (from its creation) is dead-lettered
     * whatever its attempts; 1..BL_WEBHOOK_MAX_AGE_MAX_S, 0: no limit. */
    int64_t max_age_s;
    int timeout_ms;                   /* 1..BL_WEBHOOK_TIMEOUT_MAX_MS; 0: 10000 */
    double rate_limit_per_s;          /* 0: unlimited */
    int rate_limit_burst;             /* 0: ceil(rate_limit_per_s); ignored when unlimited */
    bl_webhook_payload_format payload_format;
    /* Which signatures webhook-signature carries (0: v1). A scheme with v1a
     * gives the endpoint an ed25519 key pair when it has none yet. */
    bl_webhook_scheme signature_scheme;
    /* create only: the secret's text chosen by the caller ("whsec_..." or any
     * other string of 1..BL_WEBHOOK_SECRET_MAX_BYTES printable bytes, see
     * bl_webhook_secret_from_text); NULL: a new random one */
    const char *secret;
    /* TLS to the endpoint (policy/endpoint_tls.h), PEM texts: with
     * tls_change BL_WEBHOOK_TLS_SET they replace the endpoint's (a NULL one
     * is cleared; cert and key together), with BL_WEBHOOK_TLS_CLEAR all are
     * removed, with BL_WEBHOOK_TLS_KEEP (0) the endpoint keeps its own. */
    int tls_change;
    const char *tls_client_cert;
    const char *tls_client_key;       /* a secret: sealed before it is stored */
    const char *tls_ca_cert;
    /* A TransformationRule (policy/transformation.h) applied to the body
     * before it is signed; checked on save (compiles, test cases pass);
     * NULL: none. */
    const json_t *transformation;
    /* A Kafka destination (kafka_destination.h; borrowed) instead of an
     * HTTP one: url is then ignored (the store writes
     * "kafka://<brokers>/<topic>"); NULL: HTTP. */
    const bl_webhook_kafka *kafka;
    /* The destination's SASL password (sealed on save, never returned);
     * NULL: on update keep the stored one, on create none. */
    const char *kafka_sasl_password;
} bl_webhook_spec;

enum { BL_WEBHOOK_TLS_KEEP = 0, BL_WEBHOOK_TLS_SET, BL_WEBHOOK_TLS_CLEAR };

/* One endpoint as stored, without any secret in plaintext. Every pointer is
 * owned; free with bl_webhook_endpoint_free. Times are unix ms (0: none). */
typedef struct bl_webhook_endpoint {
    char *id;
    char *organization_id;
    char *name;
    char *url;
    char **event_types;
    size_t event_type_count;
    json_t *conditions;               /* array */
    json_t *headers;                  /* object */
    bool active;
    char *disabled_reason;            /* NULL when active or none given */
    bool legacy_signature;
    char *hmac_header;                /* NULL: none */
    bool strict_order;
    int max_attempts;                 /* with a schedule: its length + 1 */
    int64_t backoff_base_ms;
    int64_t retry_schedule_s[BL_WEBHOOK_RETRY_SCHEDULE_MAX]; /* see bl_webhook_spec */
    size_t retry_schedule_len;        /* 0: exponential backoff */
    int64_t max_age_s;                /* 0: no limit */
    int timeout_ms;
    double rate_limit_per_s;          /* 0: unlimited */
    int rate_limit_burst;             /* 0 when unlimited */
    bl_webhook_payload_format payload_format;
    int consecutive_failures;
    int64_t failing_since_ms;
    char *secret_sealed;              /* keyring text; open with bl_webhook_endpoint_secrets */
    char *previous_secret_sealed;     /* NULL when there is none */
    int64_t previous_secret_expires_ms;
    bl_webhook_scheme signature_scheme;
    char *ed25519_key_sealed;          /* keyring text of "whsk_..."; NULL: no key pair */
    char *ed25519_public_key;          /* "whpk_...", NULL with the above */
    char *previous_ed25519_key_sealed; /* the pair before the last rotation; NULL: none */
    char *previous_ed25519_public_key;
    int64_t previous_ed25519_expires_ms;
    int64_t created_ms;
    int64_t updated_ms;
    char *tls_client_cert;            /* PEM; NULL: no client certificate */
    char *tls_client_key_sealed;      /* keyring text of the key's PEM; NULL with the above */
    char *tls_ca_cert;                /* PEM bundle trusted instead of the system's; NULL: the system's */
    char *egress_proxy;               /* the organization's proxy URL (organization_egress_proxies); NULL: none */
    json_t *transformation;            /* the TransformationRule object; NULL: none */
    bl_webhook_kafka *kafka;           /* a Kafka destination; NULL: HTTP (url) */
    char *kafka_password_sealed;       /* keyring text (bl_webhook_endpoint_kafka_password); NULL: none */
} bl_webhook_endpoint;

/* Frees e and all it owns. Accepts NULL. */
void bl_webhook_endpoint_free(bl_webhook_endpoint *e);

/* e as JSON for people and the API: every setting and state field, times as
 * RFC 3339, and no secret material (only whether a previous secret is still
 * signing, and until when; the ed25519 public keys "whpk_..." as
 * public_key and, during an overlap, previous_public_key). Returns a new reference, or NULL when out of
 * memory. */
json_t *bl_webhook_endpoint_to_json(const bl_webhook_endpoint *e);

/* Fills spec with e's settings, borrowing from e (and from *types_buf, a
 * caller array of at least e->event_type_count pointers). */
void bl_webhook_spec_from_endpoint(const bl_webhook_endpoint *e, bl_webhook_spec *spec,
                                   const char **types_buf);

/* Opens e's secrets with kr: current (always) and previous (when e has one
 * whose overlap is still running at now_ms; else previous->len = 0).
 * *previous_until_ms gets the end of the overlap (0 when none). Wipe both
 * with bl_webhook_secret_wipe. Returns 0, or -1 with err (BL_ECRYPTO when
 * the ciphertext does not open: wrong key or row tampered). */
int bl_webhook_endpoint_secrets(const bl_webhook_endpoint *e, const bl_keyring *kr, int64_t now_ms,
                                bl_webhook_secret *current, bl_webhook_secret *previous,
                                int64_t *previous_until_ms, bl_err *err);

/* Opens the SASL password of e's Kafka destination with kr into *out
 * (caller wipes and frees; NULL when e has none). Returns 0, or -1 with err
 * (BL_ECRYPTO when the ciphertext does not open). */
int bl_webhook_endpoint_kafka_password(const bl_webhook_endpoint *e, const bl_keyring *kr, char **out,
                                       bl_err *err);

/* Every signing key of an endpoint, opened (bl_webhook_endpoint_keys_open). */
typedef struct bl_webhook_keys {
    bl_webhook_secret secret;           /* current HMAC secret */
    bl_webhook_secret previous_secret;  /* len 0 when none signs any more */
    int64_t previous_until_ms;          /* 0 when none */
    bl_webhook_ed25519_key ed;          /* .set false when the endpoint has no pair */
    bl_webhook_ed25519_key ed_previous; /* .set false when none signs any more */
    int64_t ed_previous_until_ms;       /* 0 when none */
} bl_webhook_keys;

/* Opens every key of e with kr into out: the HMAC secrets as
 * bl_webhook_endpoint_secrets and the ed25519 pairs likewise (a previous one
 * only while its overlap runs at now_ms). Wipe with bl_webhook_keys_wipe.
 * Returns 0, or -1 with err (BL_ECRYPTO when a ciphertext does not open). */
int bl_webhook_endpoint_keys_open(const bl_webhook_endpoint *e, const bl_keyring *kr, int64_t now_ms,
                                  bl_webhook_keys *out, bl_err *err);

/* The rotation (signature.h) signing with e's scheme and keys k, borrowing
 * from k. */
bl_webhook_rotation bl_webhook_keys_rotation(const bl_webhook_endpoint *e, const bl_webhook_keys *k);

/* Wipes every key of k. Accepts NULL. */
void bl_webhook_keys_wipe(bl_webhook_keys *k);

/* Opens e's sealed TLS client key with kr: *pem gets the key's PEM text
 * (malloc'd, NUL-terminated; wipe and free it), or NULL when e has none.
 * Returns 0, or -1 with err (BL_ECRYPTO when it does not open). */
int bl_webhook_endpoint_tls_key_open(const bl_webhook_endpoint *e, const bl_keyring *kr, char **pem,
                                     size_t *pem_len, bl_err *err);

/* Called by the store on the connection of a change made by create, update,
 * delete, rotate, enable and disable (not by health), inside that change's
 * transaction: phase 0 before its statement, phase 1 after it. action is
 * "create", "update", "delete", "rotate", "enable" or "disable"; id the
 * endpoint's. Returns 0, or -1 with err: the change is then rolled back and
 * the store's call fails with that err. */
typedef int (*bl_webhook_change_fn)(PGconn *conn, const char *action, const char *id, int phase,
                                    void *ctx, bl_err *err);

typedef struct bl_webhook_store_opts {
    bl_pg_pool *pool;                 /* required; borrowed, outlives the store */
    const bl_keyring *keyring;        /* borrowed; required by create and rotate */
    const bl_ssrf_allowlist *allow;   /* borrowed; NULL: no address allow-listed */
    /* Encoder of webhook.disabled / webhook.enabled (borrowed). NULL: state
     * changes happen without events (tools that have no registry). */
    const bl_webhook_events *events;
    int health_failures;              /* failures in a row that disable; 0: 20 */
    int64_t health_window_ms;         /* ...lasting at least this long; 0: 1 h, <0: none */
    int acquire_timeout_ms;           /* wait for a pooled connection; 0: 5000 */
    bl_webhook_change_fn on_change;   /* NULL: changes run without a hook (and alone) */
    void *change_ctx;                 /* borrowed, handed to on_change */
} bl_webhook_store_opts;

typedef struct bl_webhook_store bl_webhook_store;

/* Makes a store over opts (copied; pointers borrowed). Returns it (free with
 * bl_webhook_store_free), or NULL with err (BL_EINVAL for bad options). */
bl_webhook_store *bl_webhook_store_new(const bl_webhook_store_opts *opts, bl_err *err);

/* Frees st (not the pool, keyring or events). Accepts NULL. */
void bl_webhook_store_free(bl_webhook_store *st);

/* Checks spec without saving: every field, the URL through the SSRF guard
 * (resolving its host), the patterns, the conditions (bl_event_filter_new)
 * and the headers (names are tokens; webhook-*, content-type, host,
 * content-length, user-agent, x-signature and the like may not be set).
 * Returns 0, or -1 with BL_EINVAL and a message naming the field. */
int bl_webhook_spec_check(const bl_webhook_store *st, const bl_webhook_spec *spec, bl_err *err);

/* Creates an endpoint of organization_id with a new random secret (or the
 * spec's own). The secret's text ("whsec_...", or the spec's) goes into secret_out (at least
 * BL_WEBHOOK_SECRET_TEXT_MAX bytes) and is never shown again. Returns the
 * stored endpoint (caller frees), or NULL with err (BL_EINVAL: bad spec or
 * no keyring). */
bl_webhook_endpoint *bl_webhook_store_create(bl_webhook_store *st, const char *organization_id,
                                             const bl_webhook_spec *spec, char *secret_out,
                                             size_t secret_out_len, bl_err *err);

/* The endpoint id, or NULL with err (BL_ENOTFOUND). Caller frees. */
bl_webhook_endpoint *bl_webhook_store_get(bl_webhook_store *st, const char *id, bl_err *err);

/* A list of endpoints; free with bl_webhook_endpoint_list_free. */
typedef struct bl_webhook_endpoint_list {
    bl_webhook_endpoint **items;
    size_t count;
} bl_webhook_endpoint_list;

void bl_webhook_endpoint_list_free(bl_webhook_endpoint_list *list);

/* The endpoints of organization_id (NULL: of every organization), oldest
 * first; only active ones when active_only. Fills out; returns 0 or -1. */
int bl_webhook_store_list(bl_webhook_store *st, const char *organization_id, bool active_only,
                          bl_webhook_endpoint_list *out, bl_err *err);

/* Replaces the settings of endpoint id with spec (checked as on create;
 * secrets, state and health are kept). Returns the stored endpoint, or NULL
 * with err (BL_EINVAL, BL_ENOTFOUND). */
bl_webhook_endpoint *bl_webhook_store_update(bl_webhook_store *st, const char *id,
                                             const bl_webhook_spec *spec, bl_err *err);

/* Deletes endpoint id (its delivery log stays). Returns 0, or -1 with err
 * (BL_ENOTFOUND). */
int bl_webhook_store_delete(bl_webhook_store *st, const char *id, bl_err *err);

/* Gives endpoint id a new random secret (text into secret_out, as on
 * create); the current one becomes the previous secret and keeps signing
 * for overlap_ms (0: 24 h; < 0: not at all). An endpoint with an ed25519
 * key pair gets a new pair the same way (the old one signs during the same
 * overlap). Returns 0, or -1 with err. */
int bl_webhook_store_rotate(bl_webhook_store *st, const char *id, int64_t overlap_ms,
                            char *secret_out, size_t secret_out_len, bl_err *err);

/* Disables endpoint id with reason (may be NULL; at most
 * BL_WEBHOOK_REASON_MAX bytes). When it was active and the store has
 * events, a webhook.disabled event is appended in the same transaction.
 * Disabling a disabled endpoint only updates the reason. Returns 0 or -1. */
int bl_webhook_store_disable(bl_webhook_store *st, const char *id, const char *reason, bl_err *err);

/* Enables endpoint id, clearing the reason and its failure count; emits
 * webhook.enabled when it was disabled and the store has events. Returns 0
 * or -1. */
int bl_webhook_store_enable(bl_webhook_store *st, const char *id, bl_err *err);

/* Records the final outcome of one delivery to endpoint id for its health:
 * success resets the run of failures; a failure extends it, and once it
 * holds health_failures failures spanning at least health_window_ms the
 * endpoint is disabled (with a webhook.disabled event, as disable). Meant to
 * be called once per delivery (not per attempt) by the delivery workers.
 * *disabled (may be NULL) is set when this call disabled it. A success
 * writes only when it ends a run of failures (and never notifies caches).
 * Returns 0, or -1 with err (BL_ENOTFOUND when a failure names an unknown
 * endpoint; a success for one is a no-op). */
int bl_webhook_store_record_outcome(bl_webhook_store *st, const char *id, bool succeeded,
                                    bool *disabled, bl_err *err);

#endif
