/* Runs a connector (built in or external) under the consumer runtime
 * (consumers/runtime.h): every event read from the bus is decoded to JSON,
 * matched against each integration's mapping rules (connectors/mapping.h),
 * and each matching rule's action is handed to the connector instance of
 * that integration on a handler thread. The result becomes the runtime
 * outcome: ok -> done; retryable -> retry (vendor's Retry-After, else
 * exponential backoff); permanent -> dead letter with the vendor's message;
 * auth-expired -> the host refreshes the token and calls once more, then
 * dead letter; a refresh the provider refused dead-letters at once with
 * "INVALID_CREDENTIALS: ...", one that could not reach it is retried.
 *
 * Events go only to integrations of their own organization (an integration
 * without organization_id, from a config file, takes every organization's).
 * The integrations can be replaced while running (bl_connect_reload): events
 * already being handled finish on the instances they started with.
 *
 * Exactly-once effects per (integration, event, rule) as far as the target
 * allows: an action that succeeded is recorded in the state store
 * ("done/<event id>/<rule>") and skipped on redelivery; connectors that
 * create things also look for what they created before (Jira's label).
 * Events of one aggregate (the Kafka key) run one at a time, in order
 * (strict lanes), so "escalated" is handled before "resolved". */
#ifndef BUSLINE_CONNECTORS_CONNECT_H
#define BUSLINE_CONNECTORS_CONNECT_H

#include "connectors/host.h"
#include "connectors/state_store.h"
#include "consumers/runtime.h"
#include "core/err.h"
#include "schemas/catalog.h"
#include "schemas/codec.h"

#include <jansson.h>

#define BL_CONNECT_MAX_INTEGRATIONS 256
#define BL_CONNECT_MAX_HANDLERS 64

typedef struct bl_connect_config {
    const char *connector;        /* "jira", "slack" or an external name */
    const char *connector_dir;    /* where external <name>.so live; may be NULL */
    /* [{"id": "...", "organization_id": "org_1" (optional: only its events),
     *   "settings": {...}, "credentials": {...}, "rules": [...],
     *   "oauth": true|false (optional: bearer tokens from token; default:
     *            whenever token is set),
     *   "status": "connected"|"error" (optional; "error": every matching
     *            event is dead-lettered with INVALID_CREDENTIALS and
     *            "error_message", the vendor is not called),
     *   "skip_invalid": true (optional: an integration that does not load
     *            is logged and left out instead of failing the load)}];
     * borrowed */
    const json_t *integrations;
    bl_state_store *state;        /* borrowed; required */
    bl_schema_cache *schemas;     /* borrowed; required to decode Kafka messages */
    const bl_catalog *catalog;    /* borrowed; checks template placeholders; may be NULL */
    int handlers;                 /* handler threads; 0 = handle inline on the runtime thread */
    long http_timeout_ms;         /* 0 = 15000 */
    int64_t max_backoff_ms;       /* cap of the own backoff; 0 = 300000 */
    bl_connector_token_fn token;  /* bearer tokens (OAuth store); may be NULL */
    void *token_ctx;
} bl_connect_config;

typedef struct bl_connect bl_connect;

/* Loads the connector, validates every integration (settings through the
 * connector's init, rules through the mapping) and starts the handler
 * threads. Errors name the integration: "integration jira-ops: rule 1:
 * ...". Returns NULL with err. Free with bl_connect_free after the runtime
 * stopped. */
bl_connect *bl_connect_new(const bl_connect_config *cfg, bl_err *err);

/* Replaces the integrations (same shape as cfg->integrations, borrowed):
 * builds and validates the new set first, so on error (err names the
 * integration) the running set stays. Thread-safe against the runtime and
 * the handlers. Returns 0 or -1. */
int bl_connect_reload(bl_connect *c, const json_t *integrations, bl_err *err);

/* How many integrations are loaded now. */
size_t bl_connect_integration_count(bl_connect *c);

/* Stops the handler threads, shuts every instance down and closes the
 * connector. Accepts NULL. */
void bl_connect_free(bl_connect *c);

/* The hooks for bl_runtime_opts.connector (ctx is c). */
bl_runtime_connector bl_connect_hooks(bl_connect *c);

/* Handles one decoded event (envelope JSON, borrowed) on the calling
 * thread with the first handler's instances; for tests and dry runs. Only
 * when cfg->handlers was 0. Returns the outcome; its error points into
 * msg (cap bytes). */
bl_outcome bl_connect_process(bl_connect *c, const json_t *event, int attempt, char *msg, size_t cap);

/* Runs the connector's health check (when it has one) for every
 * integration with the first handler's instances; call before the runtime
 * runs or with handlers 0. fn (may be NULL) gets each integration's id and
 * NULL when healthy or the reason. Returns how many are unhealthy. */
typedef void (*bl_connect_health_fn)(const char *integration_id, const char *problem, void *ctx);
int bl_connect_health(bl_connect *c, bl_connect_health_fn fn, void *ctx);

/* Decodes a Kafka value (Confluent wire format) into the plain JSON event
 * (new reference), or NULL with err. */
json_t *bl_connect_decode(bl_connect *c, const void *value, size_t len, bl_err *err);

#endif
