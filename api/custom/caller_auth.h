/* Who calls a custom endpoint, by its authentication type:
 *   none     anyone; the caller is its IP address (for rate limits)
 *   api-key  an API key of the endpoint's organization (X-API-Key or
 *            Authorization: Bearer bl_live_...)
 *   jwt      an access token of the bus's sessions (Authorization: Bearer),
 *            of a user of the endpoint's organization, not logged out
 *   oauth2   Authorization: Bearer <token>, introspected (RFC 7662) at
 *            settings.introspectionUrl with the client's credentials
 *            (HTTP Basic); the token must be active
 * roles: for api-key and jwt the caller's permission (read, write, admin)
 * must be one of them; for oauth2 the token's scope must hold every one. */
#ifndef BUSLINE_API_CUSTOM_CALLER_AUTH_H
#define BUSLINE_API_CUSTOM_CALLER_AUTH_H

#include "api/custom/custom.h"

typedef struct bl_custom_caller {
    char subject[200]; /* "key:<id>", "user:<id>", "oauth:<sub>", "ip:<address>" */
} bl_custom_caller;

/* Authenticates req for d. Returns 0 with out filled when let in; else the
 * status to answer (401 unknown or missing credentials, 403 a role or scope
 * missing, 503 the check itself failed) with the client's message in msg. */
int bl_custom_caller_auth(bl_api_server *s, const bl_custom_def *d, const bl_http_request *req,
                          const bl_ssrf_allowlist *allow, bl_custom_caller *out, char *msg, size_t msg_len);

#endif
