/* Custom API endpoints (seed document 002, APIEndpointConfig): what an
 * organization defines at /v1/custom-apis and every replica serves at
 * /custom/<organization slug>/<path>. The pieces, one file each:
 *   def.c, def_parse.c  a definition's JSON checked and compiled (bl_custom_def)
 *   store.c             the rows: current definitions and every saved version
 *   registry.c          this replica's compiled definitions, kept current by
 *                       LISTEN busline_custom_apis
 *   caller_auth.c       none, api-key, jwt (+ roles), oauth2 introspection
 *   limiter.c           fixed-window, sliding-window and token-bucket limits
 *   cache.c             answers in memory (bounded) or in PostgreSQL
 *   invalidation.c      the Kafka consumer on events.* that evicts answers
 *   serve.c             the /custom handler; route_admin*.c the /v1 routes. */
#ifndef BUSLINE_API_CUSTOM_CUSTOM_H
#define BUSLINE_API_CUSTOM_CUSTOM_H

#include "api/auth/auth.h"
#include "api/server.h"
#include "connectors/transform/json_schema.h"
#include "connectors/transform/transform.h"
#include "connectors/webhook/policy/ssrf_guard.h"
#include "core/crypto.h"
#include "core/err.h"
#include "schemas/catalog.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define BL_CUSTOM_SEGMENTS_MAX 12    /* path segments of an endpoint */
#define BL_CUSTOM_PATH_MAX 400
#define BL_CUSTOM_RULES_MAX 32       /* invalidationRules */
#define BL_CUSTOM_RPM_MAX 100000     /* requestsPerMinute, burstLimit */
#define BL_CUSTOM_TTL_MAX 86400      /* caching.ttl seconds */
#define BL_CUSTOM_CHANNEL "busline_custom_apis"

typedef enum bl_custom_auth_type {
    BL_CUSTOM_AUTH_NONE = 0,
    BL_CUSTOM_AUTH_API_KEY, /* the bus's API keys of the endpoint's organization */
    BL_CUSTOM_AUTH_JWT,     /* the bus's access tokens (sessions) of the organization */
    BL_CUSTOM_AUTH_OAUTH2,  /* a bearer token, introspected (RFC 7662) at the configured endpoint */
} bl_custom_auth_type;

typedef enum bl_custom_rate_strategy {
    BL_CUSTOM_RATE_FIXED = 0,
    BL_CUSTOM_RATE_SLIDING,
    BL_CUSTOM_RATE_TOKEN_BUCKET,
} bl_custom_rate_strategy;

typedef enum bl_custom_cache_strategy {
    BL_CUSTOM_CACHE_MEMORY = 0,
    BL_CUSTOM_CACHE_DATABASE,
} bl_custom_cache_strategy;

/* What a definition's checks need of the process (borrowed). */
typedef struct bl_custom_env {
    const bl_catalog *catalog;       /* event types of invalidationRules; NULL = not checked */
    const bl_keyring *keyring;       /* seals oauth2 client secrets; NULL = oauth2 refused */
    const bl_ssrf_allowlist *allow;  /* outbound URLs (introspection, integrations) */
} bl_custom_env;

/* One compiled definition, shared by requests (reference counted). */
/* How long a request may wait for its workflow's result (workflow.waitTimeout). */
#define BL_CUSTOM_WORKFLOW_WAIT_DEFAULT_MS 10000
#define BL_CUSTOM_WORKFLOW_WAIT_MAX_MS 30000

typedef struct bl_custom_def {
    atomic_int refs;
    char id[BL_API_ID_MAX], org_id[BL_API_ID_MAX], slug[112];
    char method[8];
    char version[32];
    char *name, *path;
    bool active;
    size_t seg_count;
    char *segs[BL_CUSTOM_SEGMENTS_MAX]; /* a literal, or ":name" */
    /* authentication */
    bl_custom_auth_type auth;
    bl_api_perm roles[3];  /* jwt/api-key: the permission levels let in (none listed = any) */
    size_t role_count;
    char **scopes;         /* oauth2: roles as scopes the token must hold */
    size_t scope_count;
    char *introspect_url, *client_id, *client_secret;
    /* rateLimit */
    bool rate_enabled;
    bl_custom_rate_strategy rate_strategy;
    int64_t rpm, burst;
    /* caching */
    bool cache_enabled;
    bl_custom_cache_strategy cache_strategy;
    int64_t ttl;
    char *rules[BL_CUSTOM_RULES_MAX];
    size_t rule_count;
    /* the work */
    bl_transform_chain *chain;
    bl_json_schema *output_schema; /* NULL = the answer is not checked */
    struct bl_custom_calls *calls; /* integrations[] (def_calls.c) */
    /* workflow: the api-call workflow the request is handed to ("" = none) */
    char workflow_id[BL_API_ID_MAX];
    bool workflow_wait;        /* answer with its result when it ends within workflow_wait_ms */
    int64_t workflow_wait_ms;
} bl_custom_def;

/* ---- def.c: checking and compiling ---- */

/* Checks a whole definition (the API's JSON: name, path, method, ...;
 * borrowed) and compiles it. Every problem found is added to problems (an
 * object of field -> [message, ...]); the definition's transformations' test
 * cases are run. org_id is the owner (its calls' breakers are its own).
 * Returns the definition (refs 1) when there was none, else NULL; id and
 * slug are filled by the caller. */
bl_custom_def *bl_custom_def_compile(const json_t *def, const char *org_id, const bl_custom_env *env,
                                     json_t *problems);

/* Adds one problem to problems (field -> array of messages). */
void bl_custom_problem(json_t *problems, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Takes a reference / drops one (freeing at zero). Both accept NULL. */
bl_custom_def *bl_custom_def_ref(bl_custom_def *d);
void bl_custom_def_unref(bl_custom_def *d);

/* Whether request path segments segs[0..n) (decoded) fit d's path; the
 * parameters go into params (an object, may be NULL). */
bool bl_custom_def_match(const bl_custom_def *d, const char *const *segs, size_t n, json_t *params);

/* Splits a definition's path ("/items/:id") into its canonical form and
 * key ("/items/:" for uniqueness). Returns 0, or -1 after a problem. */
int bl_custom_path_key(const char *path, char *key, size_t len);

/* Seals settings.clientSecret of an oauth2 definition in place (def is
 * modified: clientSecret becomes clientSecretSealed, bound to clientId),
 * keeping prev's (may be NULL) sealed secret when none is given. Returns 0 or -1 with a problem added. */
int bl_custom_def_seal_secret(json_t *def, const json_t *prev, const bl_custom_env *env, json_t *problems);

/* A definition as the API shows it: a copy of def without sealed secrets
 * (clientSecretSet says whether one is kept). New reference. */
json_t *bl_custom_def_public(const json_t *def);

#endif
