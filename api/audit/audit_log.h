/* The audit trail of configuration changes (migrations/145_audit_log.sql):
 * one append-only row per change made through the admin API, with who made
 * it, what it changed (entity, action, before and after as JSON with every
 * secret redacted) and the request id, written in the transaction of the
 * change itself so neither exists without the other.
 *
 * A write path records a change in three steps on its own connection,
 * inside its own transaction: bl_audit_change_begin (reads "before"), the
 * change, bl_audit_change_end (reads "after" and appends the row). */
#ifndef BUSLINE_API_AUDIT_AUDIT_LOG_H
#define BUSLINE_API_AUDIT_AUDIT_LOG_H

#include "api/auth/keys.h"
#include "api/server.h"
#include "core/err.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#define BL_AUDIT_REDACTED "[redacted]"

/* Who made a change and in which request; strings borrowed ("" or NULL =
 * none). org_id is required. */
typedef struct bl_audit_actor {
    const char *org_id;
    const char *key_id;
    const char *user_id;
    const char *session_id;
    const char *request_id;
} bl_audit_actor;

/* The caller of req (an authenticated route's) as an actor; borrows from req. */
bl_audit_actor bl_audit_actor_of(const bl_api_request *req);

/* Whether a JSON field of that name holds a secret: its name says so
 * (secret, token, password, sealed, credential, private key, sha256,
 * authorization, client_secret, ...), case-insensitively. */
bool bl_audit_field_is_secret(const char *name);

/* A deep copy of v (borrowed) with every secret replaced by
 * BL_AUDIT_REDACTED: the value of each field bl_audit_field_is_secret names,
 * and any string that is a secret by its shape (a keyring-sealed value
 * "v1.<key>.<base64>", a webhook secret "whsec_...", an API key token).
 * NULL v gives JSON null. New reference, or NULL when out of memory. */
json_t *bl_audit_redact(const json_t *v);

/* One change being recorded. table is the entity's table (one of the
 * audited tables, see audit_log.c), entity_id its row's id column value. */
typedef struct bl_audit_change {
    const char *entity_type; /* "api_key", "webhook_endpoint", ... */
    const char *table;
    const char *entity_id;
    const char *action;      /* "create", "update", "delete", "rotate", ... */
    json_t *before;          /* owned; filled by begin (null when no row) */
} bl_audit_change;

/* Reads the row table.id = id on conn as redacted JSON into *out (JSON null
 * when there is none). table must be one of the audited tables. Returns 0,
 * or -1 with err. */
int bl_audit_snapshot(PGconn *conn, const char *table, const char *id, json_t **out, bl_err *err);

/* Reads ch's "before" on conn (inside the change's transaction). Returns 0
 * or -1 with err. */
int bl_audit_change_begin(PGconn *conn, bl_audit_change *ch, bl_err *err);

/* Reads ch's "after" on conn and appends the row for who (inside the
 * change's transaction, after the change); frees ch->before. Returns 0 or
 * -1 with err (roll the change back). */
int bl_audit_change_end(PGconn *conn, const bl_audit_actor *who, bl_audit_change *ch, bl_err *err);

/* Frees what ch owns (after a failed change). Accepts a zeroed ch. */
void bl_audit_change_clear(bl_audit_change *ch);

/* Appends one row: before/after borrowed (redacted again here, NULL = JSON
 * null). Returns 0 or -1 with err. */
int bl_audit_append(PGconn *conn, const bl_audit_actor *who, const char *entity_type, const char *entity_id,
                    const char *action, const json_t *before, const json_t *after, bl_err *err);

/* Appends the "create" row of the new row table.id (after it, before null)
 * inside the transaction that inserted it. Returns 0 or -1 with err. */
int bl_audit_created(PGconn *conn, const bl_audit_actor *who, const char *entity_type, const char *table,
                     const char *id, bl_err *err);

/* bl_api_key_create and its "create" row in one transaction on conn.
 * Returns 0, or -1 with err (nothing saved, token wiped). */
int bl_audit_key_create(PGconn *conn, const bl_audit_actor *who, const bl_api_key_spec *spec,
                        char token[BL_API_TOKEN_SIZE], char id[BL_API_ID_MAX], bl_err *err);

/* The audit of changes made by a lower layer's code on its own connection
 * and transaction (the webhook store's bl_webhook_change_fn, the OAuth
 * store's bl_oauth_change): fill who, entity_type and table, hand
 * bl_audit_hook_fn with the hook as ctx. Clear with bl_audit_hook_clear. */
typedef struct bl_audit_hook {
    bl_audit_actor who;
    const char *entity_type, *table;
    bl_audit_change change; /* the change in progress */
    char id[80];
} bl_audit_hook;

/* A change hook: phase 0 reads "before" of id (action borrowed for the
 * call pair), phase 1 appends the row. ctx is a bl_audit_hook. Returns 0 or
 * -1 with err. */
int bl_audit_hook_fn(PGconn *conn, const char *action, const char *id, int phase, void *ctx, bl_err *err);

/* Frees what hook's change in progress owns. */
void bl_audit_hook_clear(bl_audit_hook *hook);

/* Runs the statement of a one-statement change between begin and end in
 * one transaction on conn: sql with n params, whose result must have at
 * least one row (else BL_ENOTFOUND and nothing is written). *res_out (may be
 * NULL) gets the statement's result (caller PQclear's). Returns 0, or -1
 * with err (rolled back). */
int bl_audit_exec(PGconn *conn, const bl_audit_actor *who, bl_audit_change *ch, const char *sql, int n,
                  const char *const *params, PGresult **res_out, bl_err *err);

#endif
