/* The one rule deciding whether an endpoint takes an event, shared by the
 * fan-out (through the endpoint cache) and the replay of missed events, so
 * both always agree: same organization, an event-type pattern that matches,
 * and every condition holding on the event's envelope JSON. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_STORE_ENDPOINT_MATCH_H
#define BUSLINE_CONNECTORS_WEBHOOK_STORE_ENDPOINT_MATCH_H

#include "connectors/webhook/store/endpoint_store.h"
#include "consumers/event_filter.h"

#include <jansson.h>
#include <stdbool.h>

/* True when endpoint e (borrowed) with its compiled conditions f (NULL:
 * none) takes an event of organization_id and event_type whose envelope is
 * event (NULL: an empty object). Does not look at e->active. */
bool bl_webhook_endpoint_matches(const bl_webhook_endpoint *e, const bl_event_filter *f,
                                 const char *organization_id, const char *event_type, const json_t *event);

#endif
