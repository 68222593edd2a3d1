/* A domain's own events appended to the outbox (the shape of
 * connectors/webhook/store/webhook_events, for any domain of the catalog): each
 * event is encoded with its topic's assembled schema, registered in the
 * schema registry tables of the same PostgreSQL database, and appended inside
 * the caller's transaction so a state change and its event commit together. */
#ifndef BUSLINE_PRODUCERS_DOMAIN_EVENTS_H
#define BUSLINE_PRODUCERS_DOMAIN_EVENTS_H

#include "core/err.h"
#include "core/pg_pool.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>

typedef struct bl_domain_events bl_domain_events;

/* Loads the catalog of schemas_dir (NULL: bl_catalog_default_dir()), finds
 * domain's one event topic (e.g. "integration" -> events.integration.integration)
 * and registers its schema as "<topic>-value" through pool (borrowed for the
 * call). source is the ce_source of every event (copied); topic_prefix (may
 * be NULL) is prepended to the topic. Returns the encoder (free with
 * bl_domain_events_free) or NULL with err. Thread-safe once made. */
bl_domain_events *bl_domain_events_new(bl_pg_pool *pool, const char *schemas_dir, const char *domain,
                                       const char *source, const char *topic_prefix, bl_err *err);

/* bl_domain_events_new for the event topic of one entity of a domain that
 * has several (e.g. "fieldservice", "user" -> events.fieldservice.user). */
bl_domain_events *bl_domain_events_new_entity(bl_pg_pool *pool, const char *schemas_dir, const char *domain,
                                              const char *entity, const char *source, const char *topic_prefix,
                                              bl_err *err);

/* Frees ev. Accepts NULL. */
void bl_domain_events_free(bl_domain_events *ev);

/* The deployed topic, borrowed from ev, and the registered schema id. */
const char *bl_domain_events_topic(const bl_domain_events *ev);
int32_t bl_domain_events_schema_id(const bl_domain_events *ev);

/* Appends one event of type (e.g. "integration.connected") about aggregate
 * (aggregate_type, aggregate_id: the Kafka key and ce_subject) of
 * organization_id, with data (borrowed; the record's fields as plain JSON)
 * to the outbox inside the transaction open on conn. Returns 0, or -1 with
 * err (BL_EINVAL when data does not fit the schema). */
int bl_domain_events_append(const bl_domain_events *ev, PGconn *conn_in_tx, const char *type,
                            const char *organization_id, const char *aggregate_type,
                            const char *aggregate_id, const json_t *data, bl_err *err);

#endif
