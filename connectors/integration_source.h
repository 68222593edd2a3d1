/* Where `busline connect <provider>` finds the integrations it runs, in
 * Postgres: rows of `integrations` (migrations/060_integrations.sql) of
 * that provider with status connected or error, every organization's; each
 * becomes one bl_connect integration (connectors/connect.h) of its own
 * organization, with the row's settings (its "rules" key holding the
 * mapping rules) and tokens from the OAuth store. A watcher thread LISTENs
 * on `busline_integrations` (migrations/062_integrations_notify.sql) and
 * hands a fresh list to a callback whenever a row of the provider changes;
 * it also reloads every poll interval, which covers a lost connection. */
#ifndef BUSLINE_CONNECTORS_INTEGRATION_SOURCE_H
#define BUSLINE_CONNECTORS_INTEGRATION_SOURCE_H

#include "core/err.h"

#include <jansson.h>
#include <libpq-fe.h>

#define BL_INTEGRATIONS_CHANNEL "busline_integrations"

/* The integrations of provider as a bl_connect integrations array (new
 * reference): [{"id", "organization_id", "status", "error_message",
 * "oauth": true, "skip_invalid": true, "settings": {...row settings without
 * "rules" and "base_url"}, "rules": settings.rules or []}]. base_url (may be
 * NULL) is the operator's vendor API base, set as every row's
 * settings.base_url: a row's own base_url is dropped, since settings are
 * written through the API and a bearer token must not be sent to a host a
 * user chose. Returns NULL with err. */
json_t *bl_integration_source_load(PGconn *conn, const char *provider, const char *base_url, bl_err *err);

/* Gets each new list (borrowed for the call) on the watcher's thread. */
typedef void (*bl_integration_source_fn)(const json_t *integrations, void *ctx);

typedef struct bl_integration_source_config {
    const char *pg_url;      /* copied */
    const char *provider;    /* copied */
    const char *base_url;    /* copied; may be NULL */
    int poll_interval_ms;    /* reload at least this often; 0 = 30000 */
    bl_integration_source_fn on_change;
    void *ctx;
} bl_integration_source_config;

typedef struct bl_integration_source bl_integration_source;

/* Connects, LISTENs, loads once and calls on_change with the first list on
 * the calling thread, then starts the watcher. Returns NULL with err when
 * the first load fails. Stop with bl_integration_source_free. */
bl_integration_source *bl_integration_source_start(const bl_integration_source_config *cfg, bl_err *err);

/* Stops the watcher (waits for a callback in progress) and frees. Accepts NULL. */
void bl_integration_source_free(bl_integration_source *s);

/* How many lists were handed to on_change so far. */
long bl_integration_source_loads(bl_integration_source *s);

#endif
