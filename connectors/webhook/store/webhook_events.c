/* The webhook domain's events: producers/outbox/domain_events for domain "webhook",
 * with endpoints as the aggregates. */
#include "connectors/webhook/store/webhook_events.h"

#include "producers/outbox/domain_events.h"

#include <stdlib.h>

struct bl_webhook_events {
    bl_domain_events *domain;
};

bl_webhook_events *bl_webhook_events_new(bl_pg_pool *pool, const char *schemas_dir,
                                         const char *topic_prefix, bl_err *err)
{
    bl_webhook_events *ev = calloc(1, sizeof *ev);
    if (!ev) {
        bl_err_set(err, BL_ENOMEM, "webhook events: out of memory");
        return NULL;
    }
    ev->domain = bl_domain_events_new(pool, schemas_dir, BL_WEBHOOK_EVENTS_DOMAIN,
                                      BL_WEBHOOK_EVENTS_SOURCE, topic_prefix, err);
    if (!ev->domain) {
        bl_err_wrap(err, "webhook events");
        free(ev);
        return NULL;
    }
    return ev;
}

void bl_webhook_events_free(bl_webhook_events *ev)
{
    if (!ev)
        return;
    bl_domain_events_free(ev->domain);
    free(ev);
}

const char *bl_webhook_events_topic(const bl_webhook_events *ev)
{
    return bl_domain_events_topic(ev->domain);
}

int32_t bl_webhook_events_schema_id(const bl_webhook_events *ev)
{
    return bl_domain_events_schema_id(ev->domain);
}

int bl_webhook_events_append(const bl_webhook_events *ev, PGconn *conn_in_tx, const char *type,
                             const char *organization_id, const char *endpoint_id,
                             const json_t *data, bl_err *err)
{
    return bl_domain_events_append(ev->domain, conn_in_tx, type, organization_id,
                                   "webhook_endpoint", endpoint_id, data, err);
}
