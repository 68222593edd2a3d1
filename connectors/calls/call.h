/* Calls to outside services made on behalf of a custom endpoint (or a
 * workflow's integration step): one IntegrationConfig of the custom-API
 * design document compiled once into a bl_call, then run many times through
 * a bl_call_runner shared by every call of the process.
 *
 * Types: "http" (method, endpoint with {placeholders} read from the input,
 * headers, body), "graphql" (query + variables, POSTed per GraphQL over
 * HTTP; an answer with "errors" is a failure), "webhook" (a POST signed as
 * busline's webhook deliveries are: Standard Webhooks webhook-id =
 * the idempotency key, webhook-timestamp, webhook-signature) and "bus" (one
 * command or event of the schema catalog, Avro-encoded, produced to its
 * Kafka topic; its envelope id is the idempotency key when that is a UUID,
 * else a UUID derived from the organization, call id and key, so every
 * attempt and every repeat carries the same id; a command also carries the
 * key as idempotency_key). "database" is refused at compile, saying why
 * (see call_compile.c).
 *
 * Batching: bus calls share one producer, so concurrent runs travel in the
 * same produce requests (linger), and bl_call_run_batch queues many
 * messages before awaiting any acknowledgement. HTTP, GraphQL and webhook
 * calls have no batch form in their protocols here (GraphQL batching is
 * not part of GraphQL over HTTP); they share keep-alive connections instead.
 *
 * The accepted JSON (unknown fields are refused, errors name the field):
 *   id            required, 1..128 of [A-Za-z0-9_.-]: the breaker's and the
 *                 cache's key (with the organization)
 *   name          optional text
 *   type          "http" | "graphql" | "webhook" | "bus"
 *   endpoint      http, graphql, webhook: http(s) URL through the SSRF guard;
 *                 {path.to.value} placeholders allowed in path and query only,
 *                 filled percent-encoded from the input
 *   method        http only: GET POST PUT PATCH DELETE (default GET)
 *   headers       {name: value}; values may hold {placeholders}
 *   body          http/webhook: a JSON template (a string "{a.b}" alone takes
 *                 the input's value with its type; placeholders inside longer
 *                 strings are interpolated); absent: the input itself for
 *                 POST/PUT/PATCH and webhook, nothing for GET/DELETE
 *   query         graphql: the document (required); operationName optional
 *   variables     graphql: a JSON template as body (absent: the input)
 *   topic         bus: catalog topic ("commands.pmo", "events.pmo.risk")
 *   messageType   bus: the catalog type on that topic ("risk.create")
 *   subject       bus: template of the aggregate id (Kafka key), e.g. "{risk_id}"
 *   data          bus: template of the data record (absent: the input)
 *   authentication {type: "none"} | {type:"bearer", token} |
 *                 {type:"api-key", header, value} | {type:"basic", username,
 *                 password} | {type:"webhook-signature", secret} (webhook
 *                 requires the last: a "whsec_" secret or the endpoint's own text)
 *   timeout       ms per attempt, 1..120000 (default 10000)
 *   retryPolicy   {maxAttempts 1..10 (default 1), backoffStrategy
 *                 "linear"|"exponential"|"fixed" (default exponential),
 *                 baseDelay ms 0..60000 (default 200), maxDelay ms
 *                 baseDelay..300000 (default 10000), jitter 0..1 (default 0.1)}
 *                 Retried: transport errors, 408, 429 and 5xx (bus: a failed or
 *                 unacknowledged produce); never another 4xx. A Retry-After on
 *                 429/503 replaces the backoff; one beyond maxDelay ends the
 *                 retries (never sooner than the service asked).
 *   fallbackStrategy {enabled, strategy "cache"|"default-response"|
 *                 "alternative-service", fallbackData}: default-response
 *                 answers fallbackData (any JSON, required); alternative-
 *                 service calls fallbackData.endpoint (a second URL, same
 *                 guard, same placeholders) once the first has failed;
 *                 cache answers the last good answer of the same call and
 *                 input. A fallback answers after a failure of the service
 *                 (transport, 408, 429, 5xx, GraphQL errors, breaker open),
 *                 not after another 4xx, which is the caller's to see.
 *   circuitBreaker optional {failureThreshold 1..64, windowMs, openMs,
 *                 probesToClose} (default: the runner's)
 */
#ifndef BUSLINE_CONNECTORS_CALLS_CALL_H
#define BUSLINE_CONNECTORS_CALLS_CALL_H

#include "connectors/webhook/policy/ssrf_guard.h"
#include "consumers/circuit_breaker.h"
#include "core/err.h"
#include "schemas/catalog.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum bl_call_type {
    BL_CALL_HTTP = 0,
    BL_CALL_GRAPHQL,
    BL_CALL_WEBHOOK,
    BL_CALL_BUS,
} bl_call_type;

/* Who gave the answer of a run. */
typedef enum bl_call_source {
    BL_CALL_SOURCE_ENDPOINT = 0,    /* the configured endpoint (or topic) */
    BL_CALL_SOURCE_CACHE,           /* fallback: last good answer for this input */
    BL_CALL_SOURCE_DEFAULT,         /* fallback: the configured default response */
    BL_CALL_SOURCE_ALTERNATIVE,     /* fallback: the alternative service */
} bl_call_source;

/* "http", "graphql", "webhook", "bus". */
const char *bl_call_type_name(bl_call_type t);

/* "endpoint", "cache", "default-response", "alternative-service". */
const char *bl_call_source_name(bl_call_source s);

typedef struct bl_call bl_call;

/* What a compile needs besides the config. Borrowed for the call only. */
typedef struct bl_call_compile_opts {
    const bl_ssrf_allowlist *allow; /* addresses allowed beyond public ones; NULL: none */
    const bl_catalog *catalog;      /* for bus; NULL: the catalog of bl_catalog_default_dir(),
                                     * loaded once per process */
    const char *organization_id;    /* the endpoint's organization (copied): the bus
                                     * envelope's, and part of the breaker/cache key; NULL: "" */
    const char *actor;              /* bus envelope actor (copied); NULL: "custom-api" */
} bl_call_compile_opts;

/* Validates integration_config (borrowed) wholly, resolving every URL through
 * the SSRF guard, and returns the compiled call (free with bl_call_free), or
 * NULL with err BL_EINVAL whose message starts with the field's path
 * ("retryPolicy.maxAttempts: ...", "endpoint: ssrf: 10.0.0.1 is private ...").
 * opts may be NULL. A compiled call is immutable: threads may share it. */
bl_call *bl_call_compile(const json_t *integration_config, const bl_call_compile_opts *opts, bl_err *err);

/* Frees c; accepts NULL. No run of c may be in progress. */
void bl_call_free(bl_call *c);

/* Borrowed views of c. */
bl_call_type bl_call_get_type(const bl_call *c);
const char *bl_call_id(const bl_call *c);

typedef struct bl_call_runner bl_call_runner;

typedef struct bl_call_runner_opts {
    const bl_ssrf_allowlist *allow; /* copied; checked again at every attempt (the DNS answer
                                     * is pinned); NULL: none */
    size_t body_cap;                /* answer bytes kept; 0 = 1 MiB; a longer answer fails */
    size_t cache_entries;           /* last-good answers kept (oldest evicted); 0 = 1024 */
    size_t cache_entry_max;         /* largest answer cached, bytes; 0 = 64 KiB */
    bl_breaker_config breaker;      /* for calls without circuitBreaker; zeroed: defaults */
    long max_host_connections;      /* per scheme://host:port; 0 = 32 */
    /* bus calls: without brokers (or registry) a bus run fails with BL_EINVAL */
    const char *brokers;            /* Kafka bootstrap servers; NULL: no bus */
    const char *registry_url;       /* schema registry for the topics' schema ids */
    const char *schemas_dir;        /* NULL: bl_catalog_default_dir() */
    const char *topic_prefix;       /* prepended to catalog topic names (tests); NULL: none */
    int bus_linger_ms;              /* produce batching window; 0 = 5 */
} bl_call_runner_opts;

/* Starts a runner: one libcurl multi client driven by its own thread (all
 * HTTP calls of the process share its keep-alive connections), the circuit
 * breakers (one per organization and call id), the last-good cache and,
 * with brokers, one idempotent Kafka producer. opts may be NULL. Returns NULL
 * with err. Free with bl_call_runner_free. */
bl_call_runner *bl_call_runner_new(const bl_call_runner_opts *opts, bl_err *err);

/* Stops the thread (runs in progress end as cancelled), flushes the producer
 * and frees; accepts NULL. No bl_call_run may start after it is called. */
void bl_call_runner_free(bl_call_runner *r);

/* What one run gave. Zeroed by bl_call_run; clear with bl_call_result_clear. */
typedef struct bl_call_result {
    int status;              /* the answer's HTTP status (bus: 202 when acknowledged;
                              * default-response and cache: 200 and the cached status);
                              * 0 when no answer came */
    json_t *body;            /* new reference: the answer's JSON (a non-JSON UTF-8 body
                              * as a JSON string; an empty or binary one as null; bus:
                              * {"id","topic","partition","offset"}); NULL when no
                              * answer came */
    bl_call_source source;   /* who answered */
    int attempts;            /* attempts at the endpoint (alternative's excluded; a bus
                              * retry waiting again for an unacknowledged produce counts) */
    int alternative_attempts;/* requests sent to the alternative service */
    int64_t duration_ms;     /* the whole run, retries and fallback included */
    int64_t delays_ms[10];   /* the backoff waited before attempt i+2, as planned */
    bool breaker_open;       /* the breaker refused the endpoint */
    int connections_reused;  /* HTTP attempts that went over an already open connection */
    char error[BL_ERR_MSG_MAX]; /* why the endpoint failed ("" when it answered) */
} bl_call_result;

/* Runs c once with input (borrowed JSON; NULL = {}) in the caller's thread,
 * blocking until it is answered: placeholders filled, breaker asked, the
 * attempts made with c's retry policy, then c's fallback if the service
 * failed. idempotency_key (may be NULL) is the webhook-id of a webhook and
 * the envelope id of a bus message (NULL: a new UUID, the same for every
 * attempt); http and graphql send it as Idempotency-Key when given. A bus
 * run repeated with a key the runner has produced recently is answered from
 * that first produce and not sent again. Safe from many threads at once.
 * Returns 0 when out holds an answer (2xx from the endpoint or a fallback's),
 * or -1 with err and out still filled with the last attempt: BL_EHTTP (a
 * non-2xx answer, out->status and out->body set, or transport failure),
 * BL_ETIMEOUT, BL_ECONFLICT (breaker open, no fallback), BL_EINVAL (the
 * input cannot fill a placeholder, or the address is now refused),
 * BL_EKAFKA. */
int bl_call_run(bl_call_runner *r, const bl_call *c, const json_t *input, const char *idempotency_key,
                bl_call_result *out, bl_err *err);

/* Runs a bus call for n inputs at once: every message is queued before the
 * first acknowledgement is awaited, so they travel in the producer's shared
 * batches. keys[i] (keys may be NULL, entries may be NULL) as in
 * bl_call_run; outs[i] gets each result. For other types it runs them one by
 * one. Returns how many succeeded; err gets the first failure. */
size_t bl_call_run_batch(bl_call_runner *r, const bl_call *c, const json_t *const *inputs,
                         const char *const *keys, size_t n, bl_call_result *outs, bl_err *err);

/* Releases what out holds (the body); accepts a zeroed one. */
void bl_call_result_clear(bl_call_result *out);

/* The breaker state of c at now (for health and tests). */
bl_breaker_state bl_call_runner_breaker_state(bl_call_runner *r, const bl_call *c);

#endif
