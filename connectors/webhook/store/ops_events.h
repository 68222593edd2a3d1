/* The operational events of the webhook domain, for an organization's
 * operations endpoint: an endpoint's lifecycle (endpoint.created|updated|
 * deleted, appended by the store in the change's own transaction) and its
 * messages' troubles (message.attempt.failing after a few failed attempts,
 * message.attempt.exhausted when a delivery goes to the dead letters).
 * Deliveries of message.attempt.* events raise no such events themselves,
 * so a failing operations endpoint cannot feed on its own failures. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_STORE_OPS_EVENTS_H
#define BUSLINE_CONNECTORS_WEBHOOK_STORE_OPS_EVENTS_H

#include "connectors/webhook/store/endpoint_store.h"
#include "connectors/webhook/store/webhook_events.h"

#include <stdbool.h>

/* Failed attempts in a row after which message.attempt.failing is published (once per message). */
#define BL_WEBHOOK_FAILING_AFTER 3

/* What became of one message at an endpoint. Strings borrowed. */
typedef struct bl_webhook_attempt_info {
    const char *message_id; /* the webhook-id */
    const char *event_type;
    int attempts;
    int status_code;        /* 0: no answer */
    const char *error;
} bl_webhook_attempt_info;

/* Appends endpoint.created or endpoint.updated (type) with e's state, inside
 * the transaction open on conn. Returns 0, or -1 with err. */
int bl_webhook_ops_endpoint_event(const bl_webhook_events *ev, PGconn *conn_in_tx, const char *type,
                                  const bl_webhook_endpoint *e, bl_err *err);

/* Appends endpoint.deleted of endpoint id (organization, name, url as they
 * were) inside the transaction open on conn. Returns 0, or -1 with err. */
int bl_webhook_ops_deleted_event(const bl_webhook_events *ev, PGconn *conn_in_tx, const char *organization_id,
                                 const char *id, const char *name, const char *url, bl_err *err);

/* Appends message.attempt.failing or .exhausted (type) for a message of
 * endpoint e inside the transaction open on conn. Returns 0, or -1 with err. */
int bl_webhook_ops_attempt_event(const bl_webhook_events *ev, PGconn *conn_in_tx, const char *type,
                                 const bl_webhook_endpoint *e, const bl_webhook_attempt_info *a, bl_err *err);

/* Publishes message.attempt.failing or .exhausted (type) for a message of
 * endpoint endpoint_id through st's encoder, in a transaction of its own
 * (nothing without an encoder; BL_ENOTFOUND when the endpoint is gone).
 * Returns 0, or -1 with err. */
int bl_webhook_store_attempt_event(bl_webhook_store *st, const char *endpoint_id, const char *type,
                                   const bl_webhook_attempt_info *a, bl_err *err);

/* true when a delivery of event_type may raise message.attempt.* events
 * (not for message.attempt.* events themselves). */
bool bl_webhook_ops_raises_attempt_events(const char *event_type);

#endif
