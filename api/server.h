/* The HTTP API's foundation over core/http_server: one error shape, input
 * limits, authentication (API keys or JWT access tokens), the permission and
 * plan checks, shared rate limits, and a route table that route files
 * (api/routes/route_*.c) fill. A route handler only ever sees a request that passed
 * every check, with its caller in req->auth and its JSON body parsed.
 *
 * Order of checks for every request: header caps (431), authentication
 * (401), rate limit (429), permission (403), plan (403), then the body:
 * Content-Type (415), strict UTF-8 and JSON depth and syntax (400). */
#ifndef BUSLINE_API_SERVER_H
#define BUSLINE_API_SERVER_H

#include "api/auth/auth.h"
#include "core/err.h"
#include "core/http_server.h"
#include "core/http_stream.h"
#include "core/metrics.h"
#include "core/pg_pool.h"
#include "schemas/catalog.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef struct bl_api_server bl_api_server;

/* The documented APIs the server speaks, each under its own path prefix and
 * answering errors in its own document's shape (see bl_api_fail). */
typedef enum bl_api_surface {
    BL_API_SURFACE_V1 = 0,        /* the Powalyze document, at /v1 */
    BL_API_SURFACE_FIELD_SERVICE, /* the SmartLeakPro document, at field_service_prefix */
    BL_API_SURFACE_ATTENDANCE,    /* Attendance-X (its events, the integrations document), at attendance_prefix */
    BL_API_SURFACE_CUSTOM,        /* organizations' own endpoints (seed document 002), at /custom */
    BL_API_SURFACE_COUNT
} bl_api_surface;

/* Requests per minute of a caller without limits of its own (a user, a key
 * without any) on the field-service surface, as its document says. */
#define BL_API_FIELD_SERVICE_RATE_PER_MINUTE 100

/* What a route handler sees; everything is borrowed for the call. */
typedef struct bl_api_request {
    const bl_http_request *http; /* method, params, query, headers, request id */
    const bl_api_auth *auth;     /* NULL on public routes */
    const json_t *body;          /* the parsed JSON body, or NULL when none came */
    bl_api_server *server;
} bl_api_request;

/* Answers one request by filling resp (with bl_http_response_json, or
 * bl_api_fail for errors). Returns 0, or -1 for an unexpected failure: the
 * client then gets a 500 without details and the server logs the route. */
typedef int (*bl_api_handler_fn)(const bl_api_request *req, bl_http_response *resp, void *ctx);

/* The steps of a route that takes its body as it arrives (uploads), after
 * the checks that come before a body (header caps, auth, rate limit,
 * permission, plan; no JSON parsing). Run in order on one thread: begin,
 * chunk for each piece, end, release (always). The body cap is the server's
 * upload_cap: past it (declared or while arriving) end is skipped and the
 * caller gets 413, and release must then drop everything taken. */
typedef struct bl_api_stream_fns {
    /* req (and req->http, which stays valid until release) passed the
     * checks; req->auth is borrowed for this call only, copy what is needed.
     * Returns 0 with *state set to take the body, BL_HTTP_ANSWERED when
     * resp holds the answer, or -1 for a 500; release follows either way,
     * with *state as begin left it (NULL when it set none). */
    int (*begin)(const bl_api_request *req, bl_http_response *resp, void *ctx, void **state);
    /* The next len body bytes (borrowed). Returns 0, BL_HTTP_ANSWERED with
     * resp filled, or -1 for a 500. */
    int (*chunk)(void *state, const char *data, size_t len, bl_http_response *resp);
    /* The whole body arrived: fills resp. Returns 0 or -1 for a 500. */
    int (*end)(void *state, bl_http_response *resp);
    /* Frees state, whatever happened. Accepts NULL. */
    void (*release)(void *state);
} bl_api_stream_fns;

/* Who may call a route. */
typedef enum bl_api_access {
    BL_API_PUBLIC = 0,  /* no credentials (health, login, refresh) */
    BL_API_BY_METHOD,   /* read for GET, write for POST/PUT/PATCH, admin for DELETE */
    BL_API_ADMIN,       /* admin only, whatever the method (key/webhook management) */
    BL_API_WRITE,       /* write or admin, whatever the method (a document's "Manager or Admin") */
} bl_api_access;

/* One row of a route file's table. */
typedef struct bl_api_route {
    const char *method;
    const char *pattern; /* "/v1/api-keys/:id" (see core/http_route.h) */
    bl_api_access access;
    bl_api_handler_fn handler;
} bl_api_route;

/* A route file's entry point: registers its routes on s (with
 * bl_api_server_routes). Listed in api/routes/routes.c. Returns 0 or -1 with err. */
typedef int (*bl_api_routes_install_fn)(bl_api_server *s, bl_err *err);

/* Returns the clock in seconds since the epoch; tests pin it. */
typedef time_t (*bl_api_clock_fn)(void *ctx);

typedef struct bl_api_config {
    const char *host;             /* NULL = 127.0.0.1 */
    unsigned short port;          /* 0 = ephemeral */
    const char *jwt_secret;       /* HS256 key, at least 32 bytes; NULL = JWT sessions off */
    size_t body_cap;              /* 0 = 1 MiB */
    size_t upload_cap;            /* bytes of a streamed upload (media), else 413; 0 = 25 MiB */
    unsigned upload_concurrency;  /* uploads at once (each holds a PostgreSQL connection
                                   * until it ends), else 503; 0 = 4 */
    size_t header_count_max;      /* 0 = 64 */
    size_t header_bytes_max;      /* names + values of all headers; 0 = 16 KiB */
    unsigned json_depth_max;      /* 0 = 32 */
    unsigned client_timeout_s;    /* idle seconds before a connection is closed; 0 = 15 */
    unsigned connection_limit;    /* open connections at once (one thread each); 0 = 1100 */
    unsigned max_in_flight;       /* requests inside their handlers at once; past it a
                                   * route that is not public answers 503 with
                                   * Retry-After at once instead of queueing for the
                                   * database or the bus; 0 = 256 */
    int64_t default_rate_per_hour; /* for users and keys without limits; 0 = 1000 */
    unsigned usage_flush_ms;      /* how often key usage is written; 0 = 1000 */
    bl_api_clock_fn clock;        /* NULL = time(NULL) */
    void *clock_ctx;
    /* commands onto the bus (api/routes/route_commands.c) */
    const char *kafka_brokers;    /* NULL = command routes answer 503 */
    const char *registry_url;     /* schema registry; NULL = command routes answer 503 */
    const char *schemas_dir;      /* NULL = bl_catalog_default_dir() */
    const char *topic_prefix;     /* prepended to commands.<domain> (tests); NULL = none */
    int command_ack_timeout_ms;   /* wait for Kafka's ack; 0 = 10000 */
    int command_wait_ms;          /* bound on waiting for a domain's outcome of a command
                                     (answers that show the created resource); 0 = 5000,
                                     < 0 = do not wait (answer 202 at once) */
    unsigned request_log_flush_ms; /* how often the request log is written; 0 = 500 */
    int alert_eval_ms;            /* how often alerts are evaluated (api/alerts); 0 = 10000, < 0 = never */
    /* where the field-service surface is mounted: "/" then path segments, no
     * trailing "/", not "/v1" nor under it; NULL = "/api" */
    const char *field_service_prefix;
    /* where the Attendance-X surface is mounted, same rules, and neither
     * surface's prefix may hold the other's; NULL = "/attendance/api" */
    const char *attendance_prefix;
} bl_api_config;

/* Creates a server over pool (borrowed, must outlive the server) with no
 * routes yet. cfg is copied (strings too). Returns NULL with err. */
bl_api_server *bl_api_server_create(const bl_api_config *cfg, bl_pg_pool *pool, bl_err *err);

/* bl_api_server_create, then every route file of api/routes/routes.c
 * registered (defined there: the server itself knows no route file).
 * Returns NULL with err. Add more routes if needed, then start. */
bl_api_server *bl_api_server_new(const bl_api_config *cfg, bl_pg_pool *pool, bl_err *err);

/* Registers n routes of a table with ctx (borrowed) for their handlers.
 * Only before start. Returns 0 or -1 with err. */
int bl_api_server_routes(bl_api_server *s, const bl_api_route *table, size_t n, void *ctx,
                         bl_err *err);

/* Registers n routes of surface whose patterns are relative to its prefix
 * ("/clients/:id" on the field-service surface becomes "/api/clients/:id";
 * /v1 patterns are written whole, "/v1/..."). As bl_api_server_routes
 * otherwise. Returns 0 or -1 with err. */
int bl_api_server_surface_routes(bl_api_server *s, bl_api_surface surface, const bl_api_route *table,
                                 size_t n, void *ctx, bl_err *err);

/* The surface a path belongs to: the field-service or Attendance-X surface
 * for its prefix and what lies under it, else /v1 (the core server's own
 * answers too).
 * path is borrowed. */
bl_api_surface bl_api_server_surface_of(const bl_api_server *s, const char *path);

/* The surface req came in on (by its path), for handlers that shape answers. */
bl_api_surface bl_api_request_surface(const bl_api_request *req);

/* The prefix of surface ("/v1", "/api", ...): borrowed, lives as long as s. */
const char *bl_api_server_surface_prefix(const bl_api_server *s, bl_api_surface surface);

/* Registers a streamed-body route (see bl_api_stream_fns) of surface, its
 * pattern relative to the surface's prefix as for
 * bl_api_server_surface_routes: fns is borrowed (keep it static), ctx
 * borrowed and handed to its begin. Only before start. Returns 0 or -1. */
int bl_api_server_surface_stream_route(bl_api_server *s, bl_api_surface surface, const char *method,
                                       const char *pattern, bl_api_access access,
                                       const bl_api_stream_fns *fns, void *ctx, bl_err *err);

/* Runs fn(ctx) when s is freed, after serving stopped, in reverse order of
 * registration: how a route file frees its context. Returns 0 or -1 with err
 * (fn is then run at once). */
int bl_api_server_on_free(bl_api_server *s, void (*fn)(void *ctx), void *ctx, bl_err *err);

/* The server-wide object named key (a static string): made by make(s, err)
 * on the first call, under the server's lock so one is made, and dropped by
 * drop when the server is freed; a failed make is tried again by the next
 * call. Returns the object, owned by the server and shared by every request
 * thread (so it must be safe to share), or NULL with err set. */
void *bl_api_server_shared(bl_api_server *s, const char *key, void *(*make)(bl_api_server *s, bl_err *err),
                           void (*drop)(void *obj), bl_err *err);

/* The schema catalog of s's schemas_dir (else the default), loaded on
 * first use and shared (read-only) by every request; owned by s. Returns it
 * or NULL with err. */
const bl_catalog *bl_api_server_catalog(bl_api_server *s, bl_err *err);

/* Attaches an OpenAPI operation object (stolen) to the registered route
 * method + pattern, for /v1/openapi.json. Returns 0 or -1 with err. */
int bl_api_server_document(bl_api_server *s, const char *method, const char *pattern,
                           json_t *operation, bl_err *err);

/* bl_api_server_document for a route of surface, pattern relative to its
 * prefix as it was registered. Returns 0 or -1 with err. */
int bl_api_server_surface_document(bl_api_server *s, bl_api_surface surface, const char *method,
                                   const char *pattern, json_t *operation, bl_err *err);

/* The registered routes in registration order: count, then route i's
 * method, whole pattern, access, surface and operation (borrowed; NULL when
 * undocumented). Returns 0, or -1 when i is out of range. */
size_t bl_api_server_route_count(const bl_api_server *s);
int bl_api_server_route_at(const bl_api_server *s, size_t i, const char **method, const char **pattern,
                           bl_api_access *access, bl_api_surface *surface, const json_t **operation);

/* Binds and serves on the HTTP server's threads; starts the usage flusher.
 * Returns 0 or -1 with err. */
int bl_api_server_start(bl_api_server *s, bl_err *err);

/* The bound port, 0 before start. */
unsigned short bl_api_server_port(const bl_api_server *s);

/* Requests of routes that are not public inside their handlers now. */
unsigned bl_api_server_in_flight(const bl_api_server *s);

/* Stops serving (in-flight requests finish), writes pending key usage and
 * frees. Accepts NULL. */
void bl_api_server_free(bl_api_server *s);

/* Borrowed parts, for route files. */
bl_pg_pool *bl_api_server_pool(const bl_api_server *s);
bl_metrics *bl_api_server_metrics(const bl_api_server *s);
const bl_api_config *bl_api_server_config(const bl_api_server *s);
time_t bl_api_server_now(const bl_api_server *s);
/* This replica's set of ended sessions (NULL without sessions). */
struct bl_session_revocations *bl_api_server_revocations(const bl_api_server *s);

/* Authenticates the API key token for a request now: from this replica's
 * key cache, or PostgreSQL on a miss. Returns 1 with *out filled, 0 when
 * refused (the client's message in err), -1 with err when PostgreSQL
 * failed. */
int bl_api_server_authenticate_key(bl_api_server *s, const char *token, bl_api_auth *out, bl_err *err);

/* Forgets the key stored under hash (its token's SHA-256 hex) on this
 * replica now: after a revocation has committed. */
void bl_api_server_forget_key(bl_api_server *s, const char *hash);

/* The key cache's lookups answered from memory and from PostgreSQL (both 0
 * without a cache). */
void bl_api_server_key_cache_counts(bl_api_server *s, uint64_t *hits, uint64_t *misses);

/* Writes the key usage counted so far to Postgres now (tests; the flusher
 * does it every usage_flush_ms). Returns 0 or -1 with err. */
int bl_api_server_flush_usage(bl_api_server *s, bl_err *err);

/* Writes the buffered request log rows (api_request_log) now (tests; the
 * writer does it every request_log_flush_ms). Returns 0 or -1 with err. */
int bl_api_server_flush_requests(bl_api_server *s, bl_err *err);

/* ---- the one error shape ---- */

/* Answers an error with status, in the shape of the surface req came in on:
 *   /v1:           {"error":{"code","message","request_id","field_errors"?}}
 *   field service: {"detail","error_code","field_errors":{field:[msg,...]},"request_id"}
 *   attendance:    {"success":false,"error":{"code","message","request_id","details"?}}
 *   custom:        document 002's APIError {"type","code","message","details"?,"timestamp","requestId"}
 * code NULL = named after the status for that surface by core/http_status.h
 * ("forbidden", "rate_limit_exceeded", ... / "AUTHORIZATION_ERROR", ...).
 * field_errors (an object of field -> message, or field -> array of messages)
 * is stolen, may be NULL; the field-service shape makes every value an array.
 * req must be a request of an API server. Returns 0 or -1. */
int bl_api_fail(const bl_http_request *req, bl_http_response *resp, int status, const char *code,
                const char *message, json_t *field_errors);

/* The error body itself in surface's shape (new reference); code NULL =
 * named after status; field_errors stolen, may be NULL. */
json_t *bl_api_error_body(bl_api_surface surface, int status, const char *code, const char *message,
                          const char *request_id, json_t *field_errors);

/* Document 002's APIError (the /custom surface): type one of its
 * APIErrorType words (NULL = named after status), code NULL = named after
 * status, details stolen (may be NULL). New reference or NULL. */
json_t *bl_api_custom_error_body(int status, const char *type, const char *code, const char *message,
                                 const char *request_id, json_t *details);

/* Pools: a connection for a handler, released by the caller. Fills err and
 * returns NULL after 5 s without a free connection. */
PGconn *bl_api_acquire_pg(bl_api_server *s, bl_err *err);

/* Runs sql (nparams text parameters, borrowed) whose single row and column is
 * a JSON text, and answers 200 {"data": <that JSON>}. Returns 0, or -1 so the
 * server answers 500 (a pool or query failure is logged by the pool). */
int bl_api_answer_json_query(bl_api_server *s, bl_http_response *resp, const char *sql, int nparams,
                             const char *const *params);

#endif
