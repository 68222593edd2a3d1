/* The host side of the connector ABI for one integration: the
 * bl_connector_host table a connector instance gets (logs, synchronous
 * HTTP over core/http_client.h, credentials, bearer tokens, time, durable
 * state through connectors/state_store.h). */
#ifndef BUSLINE_CONNECTORS_HOST_H
#define BUSLINE_CONNECTORS_HOST_H

#include "busline/connector.h"
#include "connectors/state_store.h"
#include "core/err.h"

#include <jansson.h>

/* Where bearer tokens come from (the OAuth token store plugs in here).
 * refresh 0: the current token; 1: refresh it first (after the vendor
 * refused it). Writes the token into out (cap bytes); returns 0, or -1 with
 * err (no token, refresh failed). */
typedef int (*bl_connector_token_fn)(void *ctx, const char *integration_id, int refresh, char *out,
                                     size_t cap, bl_err *err);

typedef struct bl_connector_host_config {
    const char *connector;         /* for logs */
    const char *integration_id;
    const json_t *credentials;     /* {"email": "...", "api_token": "env:JIRA_TOKEN"}; copied.
                                    * "env:NAME" values are read from the environment. */
    bl_state_store *state;         /* borrowed; required */
    long http_timeout_ms;          /* per request; 0 = 15000 */
    size_t http_body_cap;          /* response bytes kept; 0 = 64 KiB */
    bl_connector_token_fn token;   /* may be NULL: credentials' "bearer_token", never refreshed */
    void *token_ctx;
} bl_connector_host_config;

typedef struct bl_connector_host_impl bl_connector_host_impl;

/* Creates the host of one integration. Returns NULL with err (an "env:"
 * credential whose variable is unset). Free with bl_connector_host_free
 * after the instance's shutdown. */
bl_connector_host_impl *bl_connector_host_new(const bl_connector_host_config *cfg, bl_err *err);

void bl_connector_host_free(bl_connector_host_impl *h);

/* The table to give the connector's init (borrowed from h). */
const bl_connector_host *bl_connector_host_table(const bl_connector_host_impl *h);

/* Asks the token source for a fresh token (after AUTH_EXPIRED). Returns 0,
 * or -1 with err when the integration cannot refresh. */
int bl_connector_host_refresh_auth(bl_connector_host_impl *h, bl_err *err);

#endif
