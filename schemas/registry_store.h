/* The schema registry's state in PostgreSQL (migrations/020_schema_registry.sql):
 * schemas deduplicated by the SHA-256 of their Parsing Canonical Form,
 * versions per subject with soft and permanent deletion, and compatibility
 * levels (global and per subject). The HTTP layer (registry_server) maps
 * these calls onto the Confluent Schema Registry REST API.
 *
 * Errors: every call returns 0 (or a pointer) on success, or -1 with err
 * filled. For conditions the client caused, err->code is one of the
 * Confluent error codes below (BL_REG_*) and err->msg is the message to show
 * the client, Confluent's wording. Any other code (BL_EPG, BL_ETIMEOUT,
 * BL_ENOMEM...) is a store failure whose message may hold internals: log it,
 * answer 50001. All calls are safe from many threads at once. */
#ifndef BUSLINE_SCHEMAS_REGISTRY_STORE_H
#define BUSLINE_SCHEMAS_REGISTRY_STORE_H

#include "core/err.h"
#include "core/pg_pool.h"
#include "schemas/compat.h"

#include <stdbool.h>
#include <stddef.h>

/* Confluent error codes, used as err->code (HTTP status = code / 100, except
 * BL_REG_INCOMPATIBLE which is 409 itself). */
enum bl_registry_code {
    BL_REG_SUBJECT_NOT_FOUND = 40401,
    BL_REG_VERSION_NOT_FOUND = 40402,
    BL_REG_SCHEMA_NOT_FOUND = 40403,
    BL_REG_SUBJECT_SOFT_DELETED = 40404,
    BL_REG_SUBJECT_NOT_SOFT_DELETED = 40405,
    BL_REG_VERSION_SOFT_DELETED = 40406,
    BL_REG_VERSION_NOT_SOFT_DELETED = 40407,
    BL_REG_SUBJECT_COMPAT_NOT_CONFIGURED = 40408,
    BL_REG_INCOMPATIBLE = 409,
    BL_REG_INVALID_SCHEMA = 42201,
    BL_REG_INVALID_VERSION = 42202,
    BL_REG_INVALID_COMPATIBILITY = 42203,
    BL_REG_STORE_ERROR = 50001,
};

/* True when code is one of the BL_REG_* codes above (a client-facing error). */
bool bl_registry_code_is_client(int code);

/* The HTTP status for a BL_REG_* code (40401 -> 404, 409 -> 409); 500 otherwise. */
int bl_registry_code_status(int code);

/* The version meaning "the latest live version". */
#define BL_REG_LATEST (-1)

/* Parses a version path segment: "latest" (any case, surrounding blanks
 * allowed) or an integer in 1..2^31-1. Sets *out (BL_REG_LATEST for latest)
 * and returns 0, or -1 with err BL_REG_INVALID_VERSION. */
int bl_registry_version_parse(const char *text, int *out, bl_err *err);

/* One version of a subject. Owned strings; release with bl_registry_version_clear. */
typedef struct bl_registry_version {
    char *subject;
    int version;
    int id;
    char *schema;
} bl_registry_version;

/* Frees what v owns and zeroes it; accepts NULL. */
void bl_registry_version_clear(bl_registry_version *v);

/* A list of owned strings; release with bl_registry_strings_clear. */
typedef struct bl_registry_strings {
    char **items;
    size_t count;
} bl_registry_strings;

void bl_registry_strings_clear(bl_registry_strings *s);

/* A list of versions, or of (subject, version) pairs; release with
 * bl_registry_versions_clear. subjects is NULL when only versions are given. */
typedef struct bl_registry_versions {
    int *versions;
    char **subjects;
    size_t count;
} bl_registry_versions;

void bl_registry_versions_clear(bl_registry_versions *v);

typedef struct bl_registry_store bl_registry_store;

/* Wraps pool (borrowed; must outlive the store). acquire_timeout_ms bounds
 * the wait for a free connection (0 = 5000). Returns the store (free with
 * bl_registry_store_free), or NULL with err. */
bl_registry_store *bl_registry_store_new(bl_pg_pool *pool, int acquire_timeout_ms, bl_err *err);

/* Frees the store (not the pool); accepts NULL. */
void bl_registry_store_free(bl_registry_store *st);

/* Checks that PostgreSQL answers and the registry tables exist. Returns 0 or -1. */
int bl_registry_store_ping(bl_registry_store *st, bl_err *err);

/* What a registration did. */
typedef struct bl_registry_registered {
    int id;
    int version;
    bool existed; /* the schema was already a live version of the subject */
} bl_registry_registered;

/* Registers schema_json (Avro) under subject. When its canonical form is
 * already a live version of subject, returns that one (existed = true).
 * Otherwise checks it against the subject's live versions under the
 * effective compatibility level and adds version max + 1, reusing the id of
 * an equal schema anywhere in the registry. Registrations of one subject are
 * serialised (advisory lock), so racing callers get one id and one version.
 * Errors: BL_REG_INVALID_SCHEMA; BL_REG_INCOMPATIBLE with the reasons
 * appended to reasons (may be NULL). */
int bl_registry_store_register(bl_registry_store *st, const char *subject, const char *schema_json,
                               bl_registry_registered *out, bl_compat_reasons *reasons,
                               bl_err *err);

/* Finds schema_json among subject's versions (soft-deleted ones too when
 * include_deleted), the latest such version. Fills out (caller clears).
 * Errors: BL_REG_INVALID_SCHEMA, BL_REG_SUBJECT_NOT_FOUND, BL_REG_SCHEMA_NOT_FOUND. */
int bl_registry_store_lookup(bl_registry_store *st, const char *subject, const char *schema_json,
                             bool include_deleted, bl_registry_version *out, bl_err *err);

/* Subjects holding a live version (any version when include_deleted), sorted. */
int bl_registry_store_subjects(bl_registry_store *st, bool include_deleted,
                               bl_registry_strings *out, bl_err *err);

/* Versions of subject, ascending. Errors: BL_REG_SUBJECT_NOT_FOUND when none. */
int bl_registry_store_versions(bl_registry_store *st, const char *subject, bool include_deleted,
                               bl_registry_versions *out, bl_err *err);

/* One version (BL_REG_LATEST: the latest live one). Fills out (caller clears).
 * Errors: BL_REG_SUBJECT_NOT_FOUND, BL_REG_VERSION_NOT_FOUND. */
int bl_registry_store_get(bl_registry_store *st, const char *subject, int version,
                          bool include_deleted, bl_registry_version *out, bl_err *err);

/* The schema text of id as a new string (caller frees), or NULL with err
 * (BL_REG_SCHEMA_NOT_FOUND). */
char *bl_registry_store_schema_by_id(bl_registry_store *st, int id, bl_err *err);

/* The live (subject, version) pairs using schema id, sorted. Errors:
 * BL_REG_SCHEMA_NOT_FOUND when id is unknown. */
int bl_registry_store_id_versions(bl_registry_store *st, int id, bl_registry_versions *out,
                                  bl_err *err);

/* Judges schema_json against subject's version (BL_REG_LATEST: against the
 * live history as registration would, all of it for transitive levels)
 * under the effective level. Sets *compatible; reasons (may be NULL) gets
 * why not. A subject without live versions is compatible with "latest".
 * Errors: BL_REG_INVALID_SCHEMA, BL_REG_SUBJECT_NOT_FOUND, BL_REG_VERSION_NOT_FOUND. */
int bl_registry_store_check(bl_registry_store *st, const char *subject, int version,
                            const char *schema_json, bool *compatible,
                            bl_compat_reasons *reasons, bl_err *err);

/* The compatibility level of subject (NULL: the global one, BACKWARD unless
 * set). For a subject without its own level: the global one when
 * default_to_global, else BL_REG_SUBJECT_COMPAT_NOT_CONFIGURED. */
int bl_registry_store_config_get(bl_registry_store *st, const char *subject,
                                 bool default_to_global, bl_compat_mode *out, bl_err *err);

/* Sets the level of subject (NULL: the global one). */
int bl_registry_store_config_set(bl_registry_store *st, const char *subject, bl_compat_mode mode,
                                 bl_err *err);

/* Removes subject's own level, giving the one it had in *old. Errors:
 * BL_REG_SUBJECT_NOT_FOUND when it had none. */
int bl_registry_store_config_delete(bl_registry_store *st, const char *subject,
                                    bl_compat_mode *old, bl_err *err);

/* Deletes one version (BL_REG_LATEST: the latest one). Soft unless
 * permanent; a permanent delete needs a soft one first. Sets *deleted to the
 * version number. Errors: BL_REG_SUBJECT_NOT_FOUND, BL_REG_VERSION_NOT_FOUND,
 * BL_REG_VERSION_SOFT_DELETED, BL_REG_VERSION_NOT_SOFT_DELETED. */
int bl_registry_store_delete_version(bl_registry_store *st, const char *subject, int version,
                                     bool permanent, int *deleted, bl_err *err);

/* Deletes every version of subject: soft (the live ones), or permanent
 * (after a soft delete; also drops the subject's level). out gets the
 * versions deleted. Errors: BL_REG_SUBJECT_NOT_FOUND,
 * BL_REG_SUBJECT_SOFT_DELETED, BL_REG_SUBJECT_NOT_SOFT_DELETED. */
int bl_registry_store_delete_subject(bl_registry_store *st, const char *subject, bool permanent,
                                     bl_registry_versions *out, bl_err *err);

#endif
