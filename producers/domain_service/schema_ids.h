/* A domain's topics as deployed and their schema ids. Each catalog topic of the
 * domain gets its deployed name (the commands topic may be renamed, event
 * topics may get a prefix: tests use unique ones) and its assembled schema
 * registered under "<deployed name>-value" (Confluent TopicNameStrategy;
 * registering an identical schema again returns the same id). */
#ifndef BUSLINE_PRODUCERS_DOMAIN_SERVICE_SCHEMA_IDS_H
#define BUSLINE_PRODUCERS_DOMAIN_SERVICE_SCHEMA_IDS_H

#include "core/err.h"
#include "schemas/catalog.h"
#include "schemas/registry_client.h"

#include <stdint.h>

typedef struct bl_domain_schema_ids bl_domain_schema_ids;

/* Names and registers the topics of domain in cat (borrowed; must outlive the
 * result) through rc (borrowed for the call). commands_topic NULL keeps the
 * catalog's name; events_prefix (may be NULL) is prepended to event topics.
 * Returns NULL with err when a registration fails (e.g. BL_REG_INCOMPATIBLE).
 * Free with bl_domain_schema_ids_free. */
bl_domain_schema_ids *bl_domain_schema_ids_new(const bl_catalog *cat, bl_registry_client *rc, const char *domain,
                                         const char *commands_topic, const char *events_prefix,
                                         bl_err *err);

/* Frees ids. Accepts NULL. */
void bl_domain_schema_ids_free(bl_domain_schema_ids *ids);

/* For the catalog topic named topic: *id gets its schema id and *deployed
 * (may be NULL) its deployed name (borrowed from ids). Returns 0, or -1 with
 * err (BL_ENOTFOUND for a topic outside the domain). */
int bl_domain_schema_ids_get(const bl_domain_schema_ids *ids, const char *topic, int32_t *id,
                          const char **deployed, bl_err *err);

#endif
