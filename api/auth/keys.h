/* API keys: created with a random token shown once, stored only as its
 * SHA-256 (hex), found by that hash and compared in constant time; usage
 * (last_used_at, usage_count) counted in memory and written in batches. */
#ifndef BUSLINE_API_KEYS_H
#define BUSLINE_API_KEYS_H

#include "api/auth/auth.h"
#include "core/crypto.h"
#include "core/err.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define BL_API_KEY_PREFIX "bl_live_"
#define BL_API_KEY_RANDOM_BYTES 32
#define BL_API_TOKEN_SIZE 64     /* "bl_live_" + 43 base62 digits + NUL, with room */
#define BL_API_KEY_DISPLAY_LEN 12 /* characters of the token kept for display */

typedef struct bl_api_key_spec {
    const char *org_id;
    const char *name;
    bl_api_perm perm;        /* stored as the list of levels it includes */
    const char *expires_at;  /* timestamptz text, or NULL for never */
    int64_t rate_per_minute; /* 0 = none */
    int64_t rate_per_hour;   /* 0 = the default 1000 */
    int64_t rate_per_day;    /* 0 = none */
    int64_t rate_per_month;  /* 0 = none */
    /* The window rate_limit names ("minute", "hour", "day", "month"); NULL:
     * hour. Another window than hour leaves rate_per_hour without its
     * default of 1000 when it is 0. */
    const char *rate_window;
    const char *description; /* NULL = none */
} bl_api_key_spec;

/* Creates a key; writes the token (shown once, never stored) into token and
 * the key's id into id. Returns 0, or -1 with err (BL_EINVAL for a bad
 * spec, BL_EPG otherwise). */
int bl_api_key_create(PGconn *conn, const bl_api_key_spec *spec, char token[BL_API_TOKEN_SIZE],
                      char id[BL_API_ID_MAX], bl_err *err);

/* What the database says of one key: what authenticating with it gives,
 * and what decides whether it may (active, expiry). */
typedef struct bl_api_key_record {
    bl_api_auth auth;
    bool active;
    int64_t expires_at; /* Unix seconds; 0 = never */
} bl_api_key_record;

/* The SHA-256 hex the key token is stored under, into hash. Returns 1, 0
 * when token is not shaped like a key (err: "API key not recognised"), or
 * -1 with err. */
int bl_api_key_hash(const char *token, char hash[BL_SHA256_HEX_SIZE], bl_err *err);

/* Reads the key stored under hash into *out. Returns 1 found, 0 not found,
 * -1 with err when Postgres failed. */
int bl_api_key_lookup(PGconn *conn, const char *hash, bl_api_key_record *out, bl_err *err);

/* Decides rec at time now: 1 with *out filled when it may authenticate, 0
 * with the client's message in err ("API key revoked", "API key expired"). */
int bl_api_key_decide(const bl_api_key_record *rec, time_t now, bl_api_auth *out, bl_err *err);

/* Whether token has the shape of an API key (prefix and base62 body). */
bool bl_api_key_token_shaped(const char *token);

/* ---- usage counted in memory ---- */

typedef struct bl_api_usage bl_api_usage;

/* Returns an empty counter set, or NULL when out of memory. */
bl_api_usage *bl_api_usage_new(void);
/* Frees; accepts NULL. Pending counts are lost: flush first. */
void bl_api_usage_free(bl_api_usage *u);
/* Counts one use of key_id at now. Thread-safe; never touches Postgres. */
void bl_api_usage_record(bl_api_usage *u, const char *key_id, time_t now);
/* Writes every pending count in one UPDATE and clears them. On failure the
 * counts are kept for the next flush. Returns 0 or -1 with err. */
int bl_api_usage_flush(bl_api_usage *u, PGconn *conn, bl_err *err);

#endif
