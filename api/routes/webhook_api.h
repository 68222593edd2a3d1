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

#include "api/audit/audit_log.h"
#include "api/server.h"
#include "connectors/webhook/store/endpoint_store.h"
#include "core/crypto.h"

#include <jansson.h>
#include <stdbool.h>

#define BL_API_WEBHOOK_ALLOW_ENV "BUSLINE_WEBHOOK_ALLOW"
#define BL_API_PAGE_LIMIT_DEFAULT 50
#define BL_API_PAGE_LIMIT_MAX 100
/* The document's retry_count default: three retries after the first attempt. */
#define BL_API_WEBHOOK_RETRY_COUNT_DEFAULT 3
/* The Powalyze document signs every webhook so; "signature_header": null opts out. */
#define BL_API_WEBHOOK_HMAC_HEADER_DEFAULT "X-Powalyze-Signature"

enum {
    BL_API_WH_KEYRING = 1, /* open the keyring (create, rotate, test) */
    BL_API_WH_EVENTS = 2,  /* endpoint.created|updated|deleted, webhook.enabled|disabled go to the outbox */
};

/* What one request works with; owned, close with bl_api_webhook_env_close. */
typedef struct bl_api_webhook_env {
    bl_keyring *keyring;          /* NULL unless BL_API_WH_KEYRING */
    bl_ssrf_allowlist allow;      /* from $BUSLINE_WEBHOOK_ALLOW */
    bl_webhook_events *events;    /* the server's (borrowed); NULL unless BL_API_WH_EVENTS */
    bl_webhook_store *store;      /* its changes are audited (api/audit/) in their transaction */
    bl_audit_hook audit;          /* the store's change hook's, as the request's caller */
} bl_api_webhook_env;

/* Opens env over the server's pool of req's server with what needs asks for
 * (BL_API_WH_*); every change made through env.store is audited as req's
 * caller's (env must stay where it is until closed).
 * Returns 0, or -1 with err (no keyring configured, bad allow-list, schema
 * catalog or registry unavailable). Close env either way. */
int bl_api_webhook_env_open(const bl_api_request *req, int needs, bl_api_webhook_env *env, bl_err *err);
void bl_api_webhook_env_close(bl_api_webhook_env *env);

/* As bl_api_webhook_env_open, logging why it failed (with req's request
 * id) instead of returning it. Returns 0 or -1; close env either way. */
int bl_api_webhook_env_open_logged(const bl_api_request *req, int needs, bl_api_webhook_env *env);

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
    int64_t schedule[BL_WEBHOOK_RETRY_SCHEDULE_MAX];
    /* "type" and "kafka" (webhook_kafka_fields.h) */
    int destination_type;                     /* 0: not given, 1: http, 2: kafka */
    int kafka_given, kafka_read;              /* "kafka" in the body; read as settings */
    bl_webhook_kafka kafka;                   /* borrowed from the body and kafka_brokers */
    char kafka_brokers[BL_KDEST_BROKERS_TEXT_MAX + 1];
} bl_api_webhook_spec_buf;

/* Fills out from body: every field on create (base NULL: name, url and
 * events (or event_types) required; signature_header defaults to
 * BL_API_WEBHOOK_HMAC_HEADER_DEFAULT, retry_count to 3 (max_attempts 4) at
 * 1 s doubling, timeout to 10 s), only the given ones over base's settings
 * on update. The document's names are read too: events, retry_count
 * (max_attempts - 1), timeout_seconds; is_active is only checked (a boolean)
 * and left to the caller. retry_schedule (an array of delays in seconds, or
 * null for the exponential backoff) excludes max_attempts, retry_count and
 * backoff_base_ms in the same body, and on update while the endpoint keeps a
 * schedule; max_age_seconds is a number of seconds or null.
 * Unknown fields and wrong types are noted in errors (field -> message).
 * Returns 0, or -1 when errors got an entry. */
int bl_api_webhook_spec_read(const json_t *body, const bl_webhook_endpoint *base,
                             bl_api_webhook_spec_buf *out, json_t *errors);

/* When each endpoint of org_id (only endpoint_id's, unless NULL) was last
 * called: {endpoint_id: RFC 3339} (new reference), or NULL when PostgreSQL
 * failed (logged). */
json_t *bl_api_webhook_last_triggered(bl_api_server *s, const char *org_id, const char *endpoint_id);

/* Who created each endpoint of org_id (only endpoint_id's, unless NULL):
 * {endpoint_id: API key or user id}, endpoints of no known creator left out
 * (new reference), or NULL when PostgreSQL failed (logged). */
json_t *bl_api_webhook_creators(bl_api_server *s, const char *org_id, const char *endpoint_id);

/* Records the caller of req (its API key's or user's id) as the creator of
 * endpoint_id. Returns 0, or -1 with err. */
int bl_api_webhook_set_creator(const bl_api_request *req, const char *endpoint_id, bl_err *err);

/* e as /v1 shows it: the store's fields plus the Powalyze document's
 * (events, is_active, retry_count, timeout_seconds, last_triggered_at from
 * last, a bl_api_webhook_last_triggered answer, may be NULL; created_by from
 * creators, a bl_api_webhook_creators answer, may be NULL). New reference
 * or NULL. */
json_t *bl_api_webhook_json(const bl_webhook_endpoint *e, const json_t *last, const json_t *creators);

/* limit (default 50; over 100 is answered as 100, the document's maximum,
 * which pagination.limit then shows) and offset (>= 0, default 0) from the
 * query; a limit under 1 or any non-integer is noted in errors (the caller
 * answers 400). Returns 0 or -1. */
int bl_api_page_read(const bl_http_request *req, long *limit, long *offset, json_t *errors);

/* sort=field.asc|field.desc from the query, field one of the NULL-ended
 * fields: *column gets the whitelisted name (borrowed from fields), and
 * *direction "ASC" or "DESC"; both untouched when sort is absent. An
 * unknown field or direction is noted in errors with the accepted fields.
 * Returns 0 or -1. */
int bl_api_sort_read(const bl_http_request *req, const char *const *fields, const char **column,
                     const char **direction, json_t *errors);

/* Answers one page of a query: the rows of "SELECT * FROM <from_where>"
 * (SQL with params $1..$n, n <= 8) as row_json (an SQL json expression over
 * those rows' columns), paginated and sorted by the query's limit, offset
 * and sort (one of sorts, NULL-ended, whose first is the default, newest
 * first), in the {"data","pagination"} envelope; a bad parameter is a 400.
 * The SQL pieces are the caller's constants, never request text. Returns
 * what the handler should return. */
int bl_api_answer_page(const bl_api_request *req, bl_http_response *resp, const char *from_where, int n,
                       const char *const *params, const char *row_json, const char *const *sorts);

/* {"data": data, "pagination": {"total","limit","offset","has_more"}} with
 * data stolen; NULL when out of memory. */
json_t *bl_api_page_envelope(json_t *data, long total, long limit, long offset);

/* bl_api_page_envelope of the items offset..offset+limit of the whole list
 * all (stolen; its size is the total), for lists built in memory. Returns
 * a new object, or NULL (all NULL or out of memory). */
json_t *bl_api_page_slice(json_t *all, long limit, long offset);

/* The report routes of route_webhook_reports.c (test delivery, logs, stats,
 * event types), registered by bl_api_routes_webhooks before the others. */
extern const bl_api_route bl_api_webhook_report_routes[];
extern const size_t bl_api_webhook_report_route_count;

/* The body's "tls" (webhook_tls_api.c) onto s: null clears the endpoint's
 * TLS settings, an object {clientCertificate, clientKey, caCertificate} (PEM
 * strings, each optional, the first two together) replaces them; the PEMs
 * are checked by the store on save. Wrong shapes are noted in errors. */
void bl_api_webhook_tls_read(const json_t *v, bl_webhook_spec *s, json_t *errors);

#endif
