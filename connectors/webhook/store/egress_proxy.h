/* An organization's egress proxy for its webhook deliveries
 * (migrations/197_organization_egress_proxy.sql): an http(s) URL without
 * credentials whose host passes the SSRF guard. The endpoint caches read it
 * with each endpoint (bl_webhook_endpoint.egress_proxy) and are notified of
 * every change. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_STORE_EGRESS_PROXY_H
#define BUSLINE_CONNECTORS_WEBHOOK_STORE_EGRESS_PROXY_H

#include "connectors/webhook/policy/ssrf_guard.h"
#include "core/err.h"

#include <jansson.h>
#include <libpq-fe.h>

/* Sets org's proxy to url after checking it (http or https, a host, no user
 * or password, an address that is public or on allow, which may be NULL).
 * Returns 0, or -1 with err (BL_EINVAL "ssrf: ..." for a refused URL). */
int bl_webhook_egress_proxy_set(PGconn *conn, const char *org, const char *url, const bl_ssrf_allowlist *allow,
                                bl_err *err);

/* Removes org's proxy (none is fine). Returns 0 or -1 with err. */
int bl_webhook_egress_proxy_clear(PGconn *conn, const char *org, bl_err *err);

/* org's proxy as {"url", "updated_at"} (both null when none): a new
 * reference, or NULL with err. */
json_t *bl_webhook_egress_proxy_get(PGconn *conn, const char *org, bl_err *err);

#endif
