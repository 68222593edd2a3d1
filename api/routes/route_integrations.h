/* What the integration route files share (api/routes/route_integrations*.c,
 * and the Attendance-X surface's api/attendance/route_integrations*.c). */
#ifndef BUSLINE_API_ROUTE_INTEGRATIONS_H
#define BUSLINE_API_ROUTE_INTEGRATIONS_H

#include "api/audit/audit_log.h"
#include "api/server.h"
#include "connectors/oauth/oauth.h"
#include "schemas/catalog.h"

/* The routes' context: the keyring and the OAuth store (NULL when the
 * server has no encryption keys: the routes then answer 503). */
typedef struct bl_api_integrations {
    bl_keyring *kr;
    bl_oauth_store *store;
    const bl_catalog *catalog; /* the server's; checks rules' placeholders; NULL: any data field */
} bl_api_integrations;

/* A new context for integration routes on s (freed with s): the keyring
 * and OAuth store from the environment (missing: logged with
 * no_store_warning, the routes answer 503) and the event catalog (missing:
 * logged with no_catalog_warning). Returns it, or NULL with err. */
bl_api_integrations *bl_api_integrations_attach(bl_api_server *s, const char *no_store_warning,
                                                const char *no_catalog_warning, bl_err *err);

/* Answers err: an oauth code in its status and name, BL_EINVAL as 422;
 * returns -1 (a 500) for anything else. */
int bl_api_integrations_fail(const bl_api_request *req, bl_http_response *resp, const bl_err *err);

/* ctx's store, or NULL after answering 503. */
bl_oauth_store *bl_api_integrations_store(const bl_api_request *req, bl_http_response *resp, void *ctx);

/* The caller's key or user id. */
const char *bl_api_integrations_actor(const bl_api_request *req);

/* The OAuth store's change hook that audits an integration's connection or
 * disconnection as req's caller, over hook (filled here; clear it with
 * bl_audit_hook_clear after the call). */
bl_oauth_change bl_api_integrations_audit(const bl_api_request *req, bl_audit_hook *hook);

/* Checks settings of provider (an object of scalar fields, plus "rules";
 * URL segments and mode constrained; the nested settings of document 001
 * that provider's schema knows, api/attendance/integration_settings.h, with
 * cat for Slack's templates, may be NULL), noting problems in fields.
 * Returns 0 or -1. */
int bl_api_integration_settings_check(const char *provider, const json_t *settings, const bl_catalog *cat,
                                      json_t *fields);

/* api/routes/integration_rules.c: checks settings.rules (may be NULL: nothing to
 * check) as `busline connect <provider>` will compile them, with the
 * built-in connector's actions and fields (connectors/mapping.h) and the
 * catalog's event fields (catalog may be NULL). A problem is noted in
 * fields as "settings.rules[<i>]" (0-based) with the mapping's message,
 * which names the rule ("rule 2: template.summary: ..."), or as
 * "settings.rules" when it is not about one rule. Returns 0 or -1. */
int bl_api_integration_rules_check(const char *provider, const json_t *rules, const bl_catalog *catalog,
                                   json_t *fields);

/* api/routes/route_integrations_sync.c */
int bl_api_integrations_sync(const bl_api_request *req, bl_http_response *resp, void *ctx);
int bl_api_integrations_sync_run(const bl_api_request *req, bl_http_response *resp, void *ctx);
int bl_api_integrations_history(const bl_api_request *req, bl_http_response *resp, void *ctx);
int bl_api_integrations_analytics(const bl_api_request *req, bl_http_response *resp, void *ctx);

#endif
