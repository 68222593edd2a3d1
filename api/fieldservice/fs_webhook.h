/* Webhook endpoints made by the field-service surface (route_fs_webhooks.c,
 * route_fs_integrations.c): endpoints of the shared store whose deliveries
 * carry the SmartLeakPro body (payload_format 'smartleakpro') and its
 * X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body keyed with the
 * secret string> beside the Standard Webhooks headers. */
#ifndef BUSLINE_API_FIELDSERVICE_FS_WEBHOOK_H
#define BUSLINE_API_FIELDSERVICE_FS_WEBHOOK_H

#include "api/routes/webhook_api.h"

#define BL_FS_WEBHOOK_SIGNATURE_HEADER "X-Webhook-Signature"

/* What a field-service endpoint is made of; borrowed for the call. */
typedef struct bl_fs_endpoint_spec {
    const char *name;
    const char *url;
    const char *const *bus_types; /* the bus event types it receives */
    size_t bus_type_count;
    const json_t *bus_conditions; /* already translated; NULL: none */
    const json_t *headers;        /* NULL: none */
    const char *secret;           /* the caller's secret string; NULL: a new one */
} bl_fs_endpoint_spec;

/* Creates the endpoint in env's store for the caller's organization. A
 * refusal of the store (SSRF, a bad header...) is noted in errors under its
 * field and NULL returned; NULL with errors empty is a failure (err).
 * secret_out (BL_WEBHOOK_SECRET_TEXT_MAX bytes) gets the secret's text. */
bl_webhook_endpoint *bl_fs_endpoint_create(const bl_api_request *req, bl_api_webhook_env *env,
                                           const bl_fs_endpoint_spec *spec, char *secret_out, json_t *errors,
                                           bl_err *err);

/* Deletes endpoint id again (a follow-up insert failed); logs a failure. */
void bl_fs_endpoint_undo(bl_api_webhook_env *env, const char *id);

#endif
