/* The HTTP API in-process for integration tests: a fresh database (with a
 * schema registry on it), fresh command topics under a unique prefix, two
 * pro organizations with write and admin keys, JWT sessions on (with
 * BL_TEST_API_JWT_SECRET), and a curl helper. */
#ifndef BUSLINE_TEST_API_FIXTURE_H
#define BUSLINE_TEST_API_FIXTURE_H

#include "api/auth/keys.h"
#include "api/server.h"
#include "tests/support/registry_fixture.h"

#include <jansson.h>

#define BL_TEST_API_JWT_SECRET "api-fixture-jwt-secret-of-at-least-32-bytes"

typedef struct bl_test_api {
    bl_test_registry registry; /* its database is the API's */
    bl_pg_pool *pool;
    bl_api_server *server;
    char prefix[96];           /* topic prefix, "t-xxxx." */
    char topics[3][160];       /* <prefix>commands.pmo, <prefix>commands.fieldservice, <prefix>commands.attendance */
    char org[BL_API_ID_MAX], other_org[BL_API_ID_MAX];
    char write_token[BL_API_TOKEN_SIZE], admin_token[BL_API_TOKEN_SIZE], other_token[BL_API_TOKEN_SIZE];
    char write_key_id[BL_API_ID_MAX];
} bl_test_api;

/* with_kafka: also create the topics and configure brokers. Returns 0, or
 * -1 after printing why (then call stop). */
int bl_test_api_start(bl_test_api *t, int with_kafka);

/* bl_test_api_start with the server's command_wait_ms (0: its default;
 * -1: creates on the field-service surface answer 202 at once, for a test
 * that runs no domain service). */
int bl_test_api_start_waiting(bl_test_api *t, int with_kafka, int command_wait_ms);

/* A second API server (another replica) on t's pool and JWT secret, without
 * Kafka: out gets t's fields with its own server (free it with
 * bl_api_server_free before stopping t). Returns 0, or -1 after printing why. */
int bl_test_api_replica(const bl_test_api *t, bl_test_api *out);

/* Frees the server, deletes the topics, drops the database. */
void bl_test_api_stop(bl_test_api *t);

typedef struct bl_test_reply {
    long status;
    json_t *json;      /* parsed body or NULL */
    char *body;        /* raw body, NUL-terminated */
    size_t len;        /* its bytes (a binary body may hold NULs) */
    char replayed[16]; /* Idempotent-Replayed header */
    char request_id[80]; /* X-Request-Id */
    /* X-RateLimit-Limit, -Remaining, -Reset and Retry-After ("" when absent) */
    char rl_limit[24], rl_remaining[24], rl_reset[24], retry_after[24];
    char cache[16]; /* X-Cache (custom endpoints: HIT or MISS) */
    char content_type[96], disposition[200]; /* Content-Type, Content-Disposition */
} bl_test_reply;

/* Calls method path with token (NULL: none) as Bearer, extra_header (a full
 * "Name: value" line, may be NULL) and a JSON body (may be NULL). Returns
 * the status (0 on transport failure). Free with bl_test_reply_clear. */
long bl_test_api_call(const bl_test_api *t, const char *method, const char *path, const char *token,
                      const char *extra_header, const char *body, bl_test_reply *r);
void bl_test_reply_clear(bl_test_reply *r);

/* The same call to any server on 127.0.0.1:port (another process). */
long bl_test_http_call(unsigned short port, const char *method, const char *path, const char *token,
                       const char *extra_header, const char *body, bl_test_reply *r);

/* Makes the key of spec in pool (a NULL spec name is "test"): token gets
 * its secret, id (may be NULL, else BL_API_ID_MAX bytes) its id. Returns 0,
 * or -1 after printing why. */
int bl_test_make_key(bl_pg_pool *pool, const bl_api_key_spec *spec, char token[BL_API_TOKEN_SIZE], char *id);

/* Runs one statement with n text params on a connection of pool. Returns 0,
 * or -1 after printing why. */
int bl_test_sql(bl_pg_pool *pool, const char *text, int n, const char *const *params);

/* The one value of a one-row query into out (len bytes). Returns 0, or -1
 * after printing why (no row is an error). */
int bl_test_sql_value(bl_pg_pool *pool, const char *text, int n, const char *const *params, char *out,
                      size_t len);

/* The code of an error answer: "error.code" on /v1; on the field-service
 * surface its "reason" (the finer word) when given, else "error_code"; on
 * the Attendance-X surface "error.reason" when given, else "error.code".
 * "" when none. */
const char *bl_test_reply_error_code(const bl_test_reply *r);

#endif
