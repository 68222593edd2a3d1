/* OAuth token lifecycle for the SaaS connectors: the providers' authorize
 * and token endpoints (oauth_providers.c), connect with a single-use state
 * and PKCE, code exchange, tokens sealed at rest with the keyring (AAD = the
 * integration id), refresh before expiry and on a 401 (the call is retried
 * once), rotating refresh tokens stored back, revocation, and the
 * INVALID_CREDENTIALS path: when a refresh is refused the integration turns
 * `error` and `integration.disconnected` is appended to the outbox in the
 * same transaction. Provider calls are counted in memory and written to
 * integration_calls in batches.
 *
 * Base URLs: each provider's endpoints are absolute vendor URLs; a per-
 * provider base_url (operator configuration, never a user's settings)
 * replaces their scheme and host, so tests reach local fakes. */
#ifndef BUSLINE_CONNECTORS_OAUTH_H
#define BUSLINE_CONNECTORS_OAUTH_H

#include "core/crypto.h"
#include "core/err.h"
#include "core/http_client.h"
#include "core/pg_pool.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* ---- providers ---- */

typedef enum bl_oauth_flow {
    BL_OAUTH_FLOW_CODE = 0,            /* authorization code (+ refresh tokens) */
    BL_OAUTH_FLOW_ACCOUNT_CREDENTIALS, /* Zoom server-to-server: no refresh token, re-grant */
    BL_OAUTH_FLOW_CLIENT_CREDENTIALS,  /* Microsoft app-only: re-grant */
    BL_OAUTH_FLOW_PAT,                 /* Azure DevOps personal access token */
} bl_oauth_flow;

/* One provider as its vendor documents it. URLs may hold {tenant},
 * {cloud_id}, {organization} or {account_id}, filled from the settings. */
typedef struct bl_oauth_provider {
    const char *name;            /* "google_calendar" */
    const char *type;            /* "calendar" */
    bl_oauth_flow flow;          /* the default flow */
    bool client_credentials;     /* settings {"mode":"client_credentials"} allowed */
    const char *authorize_url;
    const char *token_url;
    const char *revoke_url;      /* NULL: the vendor has no revocation endpoint */
    const char *whoami_url;      /* connection health */
    const char *scopes;          /* default scopes, space-separated */
    const char *app_scopes;      /* scopes of the client credentials grant */
    const char *authorize_extra; /* extra query text, "access_type=offline&prompt=consent" */
    bool pkce;                   /* S256 code_challenge documented */
    bool basic_client_auth;      /* client_id:secret as HTTP Basic, else in the body */
    bool json_token_body;        /* token requests as JSON (Atlassian) */
    bool ok_field;               /* {"ok":false,"error":...} on HTTP 200 (Slack) */
    char scope_separator;        /* ' ' or ',' */
} bl_oauth_provider;

/* Room for the providers of connectors/providers.c (checked at build). */
#define BL_OAUTH_PROVIDER_MAX 16

/* The provider named name, or NULL. */
const bl_oauth_provider *bl_oauth_provider_find(const char *name);
/* Provider i (0, 1, ... in the table's order), or NULL past the last. */
const bl_oauth_provider *bl_oauth_provider_at(size_t i);

/* ---- errors: err->code values, named as the API answers them ---- */

enum bl_oauth_code {
    BL_OAUTH_E_NOT_FOUND = 7001,  /* INTEGRATION_NOT_FOUND, 404 */
    BL_OAUTH_E_PROVIDER,          /* PROVIDER_NOT_SUPPORTED, 400 */
    BL_OAUTH_E_OAUTH,             /* OAUTH_ERROR, 400 (state, code exchange) */
    BL_OAUTH_E_PERMISSION,        /* PERMISSION_DENIED, 403 from the provider */
    BL_OAUTH_E_RATE,              /* RATE_LIMIT_EXCEEDED, 429 from the provider */
    BL_OAUTH_E_SYNC,              /* SYNC_FAILED, 409 */
    BL_OAUTH_E_CONNECTION,        /* CONNECTION_ERROR, 502: unreachable or 5xx */
    BL_OAUTH_E_CREDENTIALS,       /* INVALID_CREDENTIALS, 401: refresh refused */
    BL_OAUTH_E_WEBHOOK,           /* WEBHOOK_FAILED, 502 */
    BL_OAUTH_E_QUOTA,             /* API_QUOTA_EXCEEDED, 429: daily quota */
};

/* The API code word of err->code ("INTEGRATION_NOT_FOUND"), NULL for others. */
const char *bl_oauth_code_name(int code);
/* The HTTP status to answer for err->code; 500 for others. */
int bl_oauth_code_status(int code);

/* ---- configuration ---- */

#define BL_OAUTH_TEXT_MAX 256

/* The operator's OAuth app at one provider. */
typedef struct bl_oauth_app {
    char client_id[BL_OAUTH_TEXT_MAX];
    char client_secret[BL_OAUTH_TEXT_MAX];
    char base_url[BL_OAUTH_TEXT_MAX]; /* "" = the vendor's hosts */
} bl_oauth_app;

typedef struct bl_oauth_config {
    bl_oauth_app apps[BL_OAUTH_PROVIDER_MAX]; /* by provider index */
    int refresh_margin_s;  /* refresh when the token expires within; 0 = 300 */
    int state_ttl_s;       /* connect state lifetime; 0 = 600 */
    long timeout_ms;       /* per provider call; 0 = 10000 */
    size_t calls_batch;    /* calls buffered before a write; 0 = 64 */
    const char *schemas_dir;  /* for the events; NULL = default (borrowed for new) */
    const char *topic_prefix; /* NULL = none (borrowed for new) */
} bl_oauth_config;

/* Fills cfg->apps from BUSLINE_OAUTH_<PROVIDER>_CLIENT_ID, _CLIENT_SECRET and
 * _BASE_URL (provider upper-cased, e.g. GOOGLE_CALENDAR); the rest stays. */
void bl_oauth_config_from_env(bl_oauth_config *cfg);

/* ---- the store ---- */

typedef struct bl_oauth_store bl_oauth_store;

/* Creates a store over pool and kr (both borrowed; must outlive it); cfg is
 * copied. Registers the integration event schema. Returns NULL with err. */
bl_oauth_store *bl_oauth_store_new(bl_pg_pool *pool, const bl_keyring *kr,
                                   const bl_oauth_config *cfg, bl_err *err);

/* Writes the buffered calls and frees; accepts NULL. */
void bl_oauth_store_free(bl_oauth_store *st);

/* Writes the buffered provider calls now, in one INSERT. Returns 0 or -1. */
int bl_oauth_store_flush(bl_oauth_store *st, bl_err *err);

#define BL_OAUTH_URL_MAX 4096
#define BL_OAUTH_STATE_SIZE 48 /* "st_" + 43 base62 digits + NUL, with room */

typedef struct bl_oauth_begin_result {
    char authorization_url[BL_OAUTH_URL_MAX];
    char state[BL_OAUTH_STATE_SIZE];
    time_t expires_at;
    bool pkce;
} bl_oauth_begin_result;

/* Starts an authorization code flow: stores a single-use state (its hash)
 * with the PKCE verifier sealed, and builds the provider's authorization URL.
 * settings (borrowed, may be NULL) are kept for the integration. Returns 0,
 * or -1 with err (BL_OAUTH_E_PROVIDER for a provider without this flow). */
int bl_oauth_begin(bl_oauth_store *st, const char *provider, const char *org_id,
                   const char *redirect_uri, const char *scopes, const json_t *settings,
                   bl_oauth_begin_result *out, bl_err *err);

/* A caller's hook around the transaction of a connection or disconnection
 * (an audit trail): fn runs on its connection inside it, phase 0 before the
 * change's statement and phase 1 after it; action is "connect" or
 * "disconnect". A non-zero return (err filled) rolls the change back.
 * Borrowed for the call; NULL where a call takes one: no hook. */
typedef struct bl_oauth_change {
    int (*fn)(PGconn *conn, const char *action, const char *integration_id, int phase, void *ctx, bl_err *err);
    void *ctx;
} bl_oauth_change;

/* Finishes the flow: consumes state (refused once used, expired, or of
 * another organization or provider: BL_OAUTH_E_OAUTH), exchanges code at the
 * token endpoint (refusal: BL_OAUTH_E_OAUTH with the provider's error), and
 * stores a connected integration with its tokens sealed, appending
 * integration.connected in the same transaction. actor: who connected (may
 * be NULL). id_out gets the integration id (37 bytes). Returns 0 or -1. */
int bl_oauth_complete(bl_oauth_store *st, const char *provider, const char *org_id,
                      const char *state, const char *code, const char *actor, char *id_out,
                      const bl_oauth_change *change, bl_err *err);

/* Connects without a browser: Zoom's account credentials (settings
 * account_id), Microsoft's client credentials (settings mode
 * "client_credentials", tenant), or an Azure DevOps PAT (secret; settings
 * organization). Fetches the first token now. Returns 0 or -1 as complete. */
int bl_oauth_connect_direct(bl_oauth_store *st, const char *provider, const char *org_id,
                            const json_t *settings, const char *secret, const char *actor,
                            char *id_out, const bl_oauth_change *change, bl_err *err);

/* The connectors' runtime entry: a valid access token of integration_id,
 * refreshed first when it expires within the margin or when force_refresh.
 * A refresh is serialised by a row lock, and a rotated refresh token is
 * stored back sealed. When the provider refuses the refresh the integration
 * turns `error` (INVALID_CREDENTIALS) and integration.disconnected is
 * appended in the same transaction; err is then BL_OAUTH_E_CREDENTIALS.
 * *out is malloc'd text the caller wipes and frees. Returns 0 or -1. */
int bl_oauth_access_token(bl_oauth_store *st, const char *integration_id, bool force_refresh,
                          char **out, bl_err *err);

/* bl_oauth_access_token shaped as a connector token source
 * (connectors/host.h bl_connector_token_fn; ctx: the bl_oauth_store):
 * copies the token into out (cap bytes) and wipes its own copy. err keeps
 * the store's code (BL_OAUTH_E_CREDENTIALS when the refresh was refused or
 * the integration is not connected). Returns 0 or -1. */
int bl_oauth_connector_token(void *store, const char *integration_id, int refresh, char *out, size_t cap,
                             bl_err *err);

/* Calls url (absolute) with method and an optional body of content_type as
 * integration_id, with its bearer token; on a 401 the token is refreshed and
 * the call made once more. out holds the last answer (clear it with
 * bl_http_sync_result_clear). Returns 0 when an answer arrived (any status),
 * or -1 with err (transport failure: BL_OAUTH_E_CONNECTION). */
int bl_oauth_call(bl_oauth_store *st, const char *integration_id, const char *method,
                  const char *url, const char *body, const char *content_type,
                  bl_http_sync_result *out, bl_err *err);

/* Connection health of an integration of org_id through the provider's
 * "who am I" endpoint: returns a new object {"healthy", "http_status",
 * "account", "scopes", "quota": {"limit","remaining"} or null,
 * "duration_ms"} or NULL with err (a failed check is an err with the code
 * the provider's answer maps to). */
json_t *bl_oauth_test(bl_oauth_store *st, const char *org_id, const char *integration_id,
                      bl_err *err);

/* Revokes the tokens at the provider when it has a revocation endpoint
 * (failures are logged, not fatal), deletes the integration of org_id and
 * appends integration.disconnected in the same transaction. Returns 0 or -1
 * (BL_OAUTH_E_NOT_FOUND). *revoked tells whether a revocation succeeded. */
int bl_oauth_disconnect(bl_oauth_store *st, const char *org_id, const char *integration_id,
                        const char *actor, bool *revoked, const bl_oauth_change *change, bl_err *err);

/* bl_oauth_disconnect keeping the row: status 'disconnected', tokens
 * cleared, autoSync off, disconnected_at set (its sync history stays). */
int bl_oauth_disconnect_keep(bl_oauth_store *st, const char *org_id, const char *integration_id,
                             const char *actor, bool *revoked, const bl_oauth_change *change, bl_err *err);

/* Revokes the tokens of an integration of org_id at the provider (when it
 * has a revocation endpoint; failures are logged), forgets them and marks
 * the integration `disconnected`, keeping its row and its sync history (a
 * calendar sync's cleanup run does this before the API deletes the row).
 * *revoked tells whether the provider confirmed. Returns 0 or -1. */
int bl_oauth_revoke_tokens(bl_oauth_store *st, const char *org_id, const char *integration_id,
                           bool *revoked, bl_err *err);

/* Appends an integration event (type "integration.sync_completed", ...)
 * for integration_id inside the transaction open on conn. */
int bl_oauth_append_event(bl_oauth_store *st, PGconn *conn_in_tx, const char *type,
                          const char *org_id, const char *integration_id, const json_t *data,
                          bl_err *err);

#endif
