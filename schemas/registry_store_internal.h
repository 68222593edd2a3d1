/* What the registry store's files share and nobody else sees: the store
 * struct, the job every transaction callback reads, and the queries and
 * small helpers several operations use. */
#ifndef BUSLINE_SCHEMAS_REGISTRY_STORE_INTERNAL_H
#define BUSLINE_SCHEMAS_REGISTRY_STORE_INTERNAL_H

#include "core/crypto.h"
#include "schemas/registry_store.h"

#include <libpq-fe.h>

struct bl_registry_store {
    bl_pg_pool *pool;
    int acquire_timeout_ms;
};

/* The arguments and results of one store operation, handed to its
 * transaction callback; each operation fills the fields it uses. */
typedef struct store_job {
    const char *subject;
    const char *schema_json;
    const char *fingerprint;
    int version;
    int id;
    bool include_deleted;
    bool permanent;
    bool *compatible;
    bl_compat_reasons *reasons;
    bl_compat_mode *mode;
    bl_registry_version *one;
    bl_registry_versions *many;
    bl_registry_strings *names;
    char *text;
} store_job;

/* ---- small pieces (registry_store.c) ---- */

/* Fills err with BL_ENOMEM "registry: out of memory". Returns -1. */
int bl_rstore_no_memory(bl_err *err);

/* strdup(s), or NULL with err filled. Caller frees. */
char *bl_rstore_dup(const char *s, bl_err *err);

/* Writes v in decimal into out, for a query parameter. */
void bl_rstore_int_text(int v, char out[16]);

/* The SHA-256 hex identity of schema_json: its JSON with sorted keys, no
 * whitespace and no docs (the canonical form validates it). Returns 0, or -1
 * with BL_REG_INVALID_SCHEMA. */
int bl_rstore_fingerprint(const char *schema_json, char out[BL_SHA256_HEX_SIZE], bl_err *err);

/* Runs fn(conn, arg, err) on a pooled connection inside one transaction.
 * Returns fn's result, or -1 with err filled. */
int bl_rstore_in_transaction(bl_registry_store *st, bl_pg_tx_fn fn, void *arg, bl_err *err);

/* ---- queries shared by the operations (registry_store.c) ---- */

/* 1 when subject has a version (a live one unless include_deleted), 0 when
 * not, -1 on error. */
int bl_rstore_subject_exists(PGconn *conn, const char *subject, bool include_deleted, bl_err *err);

/* The 404 for a subject version that is not there: fills err with the
 * subject's or the version's not-found code. Returns -1. */
int bl_rstore_version_missing(PGconn *conn, const char *subject, int version, bool include_deleted,
                              bl_err *err);

/* The effective level of subject: its own, else the global one, else
 * BACKWARD. Returns 0, or -1 with err. */
int bl_rstore_effective_mode(PGconn *conn, const char *subject, bl_compat_mode *out, bl_err *err);

/* Copies row i of res (columns version, schema_id, schema_text) into out
 * (caller clears). Returns 0, or -1 with err. */
int bl_rstore_version_from_row(PGresult *res, int i, const char *subject, bl_registry_version *out,
                               bl_err *err);

/* Judges schema_json against the texts of subject (all live versions when
 * only_version is -1, else that one) under the subject's level; sets
 * *compatible and fills reasons. Returns 0, or -1 with err. */
int bl_rstore_judge(PGconn *conn, const char *subject, int only_version, const char *schema_json,
                    bool *compatible, bl_compat_reasons *reasons, bl_err *err);

/* Fills out (caller clears) from res's rows: (version) or, with
 * with_subjects, (subject, version). Returns 0, or -1 with err. */
int bl_rstore_versions_from_rows(PGresult *res, bool with_subjects, bl_registry_versions *out,
                                 bl_err *err);

#endif
