/* The webhook domain's events: producers/outbox/domain_events for domain "webhook",
 * with endpoints as the aggregates. */
#include "connectors/webhook/store/webhook_events.h"

#include "producers/outbox/domain_events.h"

#include <stdlib.h>
#include <string.h>

/* The domain's entities, each its own topic: the endpoint's state
 * (webhook.disabled|enabled), its lifecycle (endpoint.*) and its messages'
 * attempts (message.attempt.*). */
static const char *const entities[] = {"webhook", "endpoint", "message"};
#define ENTITIES (sizeof entities / sizeof entities[0])

struct bl_webhook_events {
    bl_domain_events *domain[ENTITIES];
};

bl_webhook_events *bl_webhook_events_new(bl_pg_pool *pool, const char *schemas_dir,
                                         const char *topic_prefix, bl_err *err)
{
    bl_webhook_events *ev = calloc(1, sizeof *ev);
    if (!ev) {
        bl_err_set(err, BL_ENOMEM, "webhook events: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < ENTITIES; i++) {
        ev->domain[i] = bl_domain_events_new_entity(pool, schemas_dir, BL_WEBHOOK_EVENTS_DOMAIN, entities[i],
                                                    BL_WEBHOOK_EVENTS_SOURCE, topic_prefix, err);
        if (!ev->domain[i]) {
            bl_err_wrap(err, "webhook events");
            bl_webhook_events_free(ev);
            return NULL;
        }
    }
    return ev;
}

void bl_webhook_events_free(bl_webhook_events *ev)
{
    if (!ev)
        return;
    for (size_t i = 0; i < ENTITIES; i++)
        bl_domain_events_free(ev->domain[i]);
    free(ev);
}

const char *bl_webhook_events_topic(const bl_webhook_events *ev)
{
    return bl_domain_events_topic(ev->domain[0]);
}

const char *bl_webhook_events_entity_topic(const bl_webhook_events *ev, size_t i)
{
    return i < ENTITIES ? bl_domain_events_topic(ev->domain[i]) : NULL;
}

int32_t bl_webhook_events_schema_id(const bl_webhook_events *ev)
{
    return bl_domain_events_schema_id(ev->domain[0]);
}

int bl_webhook_events_append(const bl_webhook_events *ev, PGconn *conn_in_tx, const char *type,
                             const char *organization_id, const char *endpoint_id,
                             const json_t *data, bl_err *err)
{
    size_t i = 0;
    while (i < ENTITIES && !(strncmp(type, entities[i], strlen(entities[i])) == 0 && type[strlen(entities[i])] == '.'))
        i++;
    if (i == ENTITIES)
        return bl_err_set(err, BL_EINVAL, "webhook events: %.64s is not an event of the webhook domain", type);
    return bl_domain_events_append(ev->domain[i], conn_in_tx, type, organization_id, "webhook_endpoint",
                                   endpoint_id, data, err);
}
