/* The webhook domain's own events (webhook.disabled|enabled, endpoint.created|
 * updated|deleted, message.attempt.failing|exhausted), one topic per entity:
 * encodes them with the catalog's assembled topic schema, registered in the
 * schema registry of the same PostgreSQL database, and appends them to the
 * outbox inside the caller's transaction, so the state change and its event
 * commit together. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_STORE_WEBHOOK_EVENTS_H
#define BUSLINE_CONNECTORS_WEBHOOK_STORE_WEBHOOK_EVENTS_H

#include "core/err.h"
#include "core/pg_pool.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#define BL_WEBHOOK_EVENTS_DOMAIN "webhook"
#define BL_WEBHOOK_EVENTS_SOURCE "busline/webhooks"

typedef struct bl_webhook_events bl_webhook_events;

/* Loads the catalog of schemas_dir (NULL: bl_catalog_default_dir()), finds
 * the webhook domain's topic and registers its schema under
 * "<topic>-value" in the registry tables reached through pool (borrowed for
 * the call). topic_prefix (may be NULL) is prepended to the topic name the
 * events are sent to (tests use unique topics). Returns the encoder (free
 * with bl_webhook_events_free), or NULL with err. Thread-safe once made. */
bl_webhook_events *bl_webhook_events_new(bl_pg_pool *pool, const char *schemas_dir,
                                         const char *topic_prefix, bl_err *err);

/* Frees ev. Accepts NULL. */
void bl_webhook_events_free(bl_webhook_events *ev);

/* The deployed topic of webhook.disabled|enabled and its schema id, borrowed from ev. */
const char *bl_webhook_events_topic(const bl_webhook_events *ev);
/* The topic of entity i (0 webhook, 1 endpoint, 2 message), borrowed; NULL past the last. */
const char *bl_webhook_events_entity_topic(const bl_webhook_events *ev, size_t i);
int32_t bl_webhook_events_schema_id(const bl_webhook_events *ev);

/* Appends one event of type (e.g. "webhook.disabled") for endpoint_id of
 * organization_id with data (borrowed; the record's fields as plain JSON,
 * times as unix ms) to the outbox inside the transaction open on conn.
 * Returns 0, or -1 with err (BL_EINVAL when data does not fit the schema). */
int bl_webhook_events_append(const bl_webhook_events *ev, PGconn *conn_in_tx, const char *type,
                             const char *organization_id, const char *endpoint_id,
                             const json_t *data, bl_err *err);

#endif
