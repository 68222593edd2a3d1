/* What the /v1/webhooks route files share: a per-request view of the
 * webhook store (keyring and SSRF allow-list from the environment), the
 * organization check on an endpoint id, the mapping of store errors onto
 * the API's error shape, the JSON body -> endpoint settings reader, and the
 * {"data","pagination"} envelope.
 *
 * The store is made per request rather than per server because it is only a
 * few bytes over the server's pool, and the keyring and allow-list then
 * follow the environment without a restart. */
#ifndef BUSLINE_API_WEBHOOK_API_H
#define BUSLINE_API_WEBHOOK_API_H

#include "api/server.h"
#include "connectors/webhook/store/endpoint_store.h"
#include "core/crypto.h"

#include <jansson.h>
#include <stdbool.h>

#define BL_API_WEBHOOK_ALLOW_ENV "BUSLINE_WEBHOOK_ALLOW"
#define BL_API_PAGE_LIMIT_DEFAULT 50
#define BL_API_PAGE_LIMIT_MAX 100
/* The Powalyze document signs every webhook so; "signature_header": null opts out. */
#define BL_API_WEBHOOK_HMAC_HEADER_DEFAULT "X-Powalyze-Signature"

enum {
    BL_API_WH_KEYRING = 1, /* open the keyring (create, rotate, test) */
    BL_API_WH_EVENTS = 2,  /* webhook.enabled / webhook.disabled go to the outbox */
};

/* What one request works with; owned, close with bl_api_webhook_env_close. */
typedef struct bl_api_webhook_env {
    bl_keyring *keyring;          /* NULL unless BL_API_WH_KEYRING */
    bl_ssrf_allowlist allow;      /* from $BUSLINE_WEBHOOK_ALLOW */
    bl_webhook_events *events;    /* NULL unless BL_API_WH_EVENTS */
    bl_webhook_store *store;
} bl_api_webhook_env;

/* Opens env over the server's pool with what needs asks for (BL_API_WH_*).
 * Returns 0, or -1 with err (no keyring configured, bad allow-list, schema
 * catalog or registry unavailable). Close env either way. */
int bl_api_webhook_env_open(bl_api_server *s, int needs, bl_api_webhook_env *env, bl_err *err);
void bl_api_webhook_env_close(bl_api_webhook_env *env);

/* The endpoint named by the ":id" path parameter when it belongs to the
 * caller's organization (caller frees). Otherwise NULL, with the answer
 * given: *rc = 0 after a 404 (another organization's endpoint is "not
 * found" too), *rc = -1 on an unexpected failure. */
bl_webhook_endpoint *bl_api_webhook_find(const bl_api_request *req, bl_webhook_store *st,
                                         bl_http_response *resp, int *rc);

/* Answers a store error: BL_EINVAL -> 422 with field_errors {field: message}
 * (the field is the message's leading name: url, event_types, conditions,
 * headers, ...), BL_ENOTFOUND -> 404; anything else returns -1 (a 500).
 * Returns what the handler should return. */
int bl_api_webhook_fail(const bl_api_request *req, bl_http_response *resp, const bl_err *err);

/* Settings read from a JSON body. Strings and arrays are borrowed from the
 * body, or from the endpoint the reading started from. */
typedef struct bl_api_webhook_spec_buf {
    bl_webhook_spec spec;
    const char *types[BL_WEBHOOK_EVENT_TYPES_MAX];
} bl_api_webhook_spec_buf;

/* Fills out from body: every field on create (base NULL: name, url and
 * event_types required; signature_header defaults to
 * BL_API_WEBHOOK_HMAC_HEADER_DEFAULT), only the given ones over base's
 * settings on update.
 * Unknown fields and wrong types are noted in errors (field -> message).
 * Returns 0, or -1 when errors got an entry. */
int bl_api_webhook_spec_read(const json_t *body, const bl_webhook_endpoint *base,
                             bl_api_webhook_spec_buf *out, json_t *errors);

/* limit (1..100, default 50) and offset (>= 0) from the query; a bad one is
 * noted in errors. Returns 0 or -1. */
int bl_api_page_read(const bl_http_request *req, long *limit, long *offset, json_t *errors);

/* {"data": data, "pagination": {"total","limit","offset","has_more"}} with
 * data stolen; NULL when out of memory. */
json_t *bl_api_page_envelope(json_t *data, long total, long limit, long offset);

/* The report routes of route_webhook_reports.c (test delivery, logs, stats,
 * event types), registered by bl_api_routes_webhooks before the others. */
extern const bl_api_route bl_api_webhook_report_routes[];
extern const size_t bl_api_webhook_report_route_count;

#endif
