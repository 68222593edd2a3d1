/* The schema registry's PostgreSQL logic. */
#include "schemas/registry_store.h"

#include "core/crypto.h"
#include "schemas/canonical.h"

#include <jansson.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct bl_registry_store {
    bl_pg_pool *pool;
    int acquire_timeout_ms;
};

/* ---------- small pieces ---------- */

bool bl_registry_code_is_client(int code)
{
    return code == BL_REG_INCOMPATIBLE || (code >= 40401 && code <= 40499) ||
           (code >= 42201 && code <= 42299);
}

int bl_registry_code_status(int code)
{
    if (code == BL_REG_INCOMPATIBLE)
        return 409;
    if (bl_registry_code_is_client(code))
        return code / 100;
    return 500;
}

int bl_registry_version_parse(const char *text, int *out, bl_err *err)
{
    const char *p = text ? text : "";
    while (isspace((unsigned char)*p))
        p++;
    size_t len = strlen(p);
    while (len > 0 && isspace((unsigned char)p[len - 1]))
        len--;
    if (len == 6 && strncasecmp(p, "latest", 6) == 0) {
        *out = BL_REG_LATEST;
        return 0;
    }
    char digits[16];
    bool ok = len > 0 && len < sizeof digits;
    if (ok) {
        memcpy(digits, p, len);
        digits[len] = '\0';
        char *end = NULL;
        errno = 0;
        long v = strtol(digits, &end, 10);
        ok = errno == 0 && *end == '\0' && (isdigit((unsigned char)digits[0]) || digits[0] == '-' || digits[0] == '+');
        if (ok && v == -1) {
            *out = BL_REG_LATEST; /* Confluent accepts -1 as "latest" */
            return 0;
        }
        if (ok && v >= 1 && v <= INT_MAX) {
            *out = (int)v;
            return 0;
        }
    }
    return bl_err_set(err, BL_REG_INVALID_VERSION,
                      "The specified version '%.64s' is not a valid version id. Allowed values are "
                      "between [1, 2^31-1] and the string \"latest\"",
                      text ? text : "");
}

void bl_registry_version_clear(bl_registry_version *v)
{
    if (!v)
        return;
    free(v->subject);
    free(v->schema);
    memset(v, 0, sizeof *v);
}

void bl_registry_strings_clear(bl_registry_strings *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++)
        free(s->items[i]);
    free(s->items);
    memset(s, 0, sizeof *s);
}

void bl_registry_versions_clear(bl_registry_versions *v)
{
    if (!v)
        return;
    for (size_t i = 0; v->subjects && i < v->count; i++)
        free(v->subjects[i]);
    free(v->subjects);
    free(v->versions);
    memset(v, 0, sizeof *v);
}

static int no_memory(bl_err *err)
{
    return bl_err_set(err, BL_ENOMEM, "registry: out of memory");
}

/* Drops "doc" attributes everywhere in a schema except inside default values,
 * which are data, not schema. */
static void strip_docs(json_t *node)
{
    if (json_is_array(node)) {
        size_t i;
        json_t *item;
        json_array_foreach(node, i, item) strip_docs(item);
    } else if (json_is_object(node)) {
        json_object_del(node, "doc");
        const char *key;
        json_t *value;
        json_object_foreach(node, key, value) {
            if (strcmp(key, "default") != 0)
                strip_docs(value);
        }
    }
}

/* The schema's identity: SHA-256 hex of its JSON with sorted keys, no
 * whitespace and no docs. Parsing Canonical Form alone is too coarse here: it
 * drops defaults and aliases, and a schema that adds a default must become a
 * new version (it changes how readers resolve). The canonical form still
 * validates the schema. Returns 0, or -1 with BL_REG_INVALID_SCHEMA. */
static int fingerprint_of(const char *schema_json, char out[BL_SHA256_HEX_SIZE], bl_err *err)
{
    bl_err why = {0};
    char *canonical = schema_json ? bl_canonical_form(schema_json, &why) : NULL;
    if (!canonical)
        return bl_err_set(err, BL_REG_INVALID_SCHEMA, "Invalid schema: %s",
                          schema_json ? why.msg : "Empty schema");
    free(canonical);
    json_t *root = json_loads(schema_json, JSON_DECODE_ANY, NULL);
    strip_docs(root);
    char *identity = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    json_decref(root);
    if (!identity)
        return no_memory(err);
    int rc = bl_sha256_hex(identity, strlen(identity), out, err);
    free(identity);
    return rc;
}

static char *dup_or_fail(const char *s, bl_err *err)
{
    char *d = strdup(s);
    if (!d)
        no_memory(err);
    return d;
}

static void int_text(int v, char out[16])
{
    snprintf(out, 16, "%d", v);
}

/* ---------- connections ---------- */

bl_registry_store *bl_registry_store_new(bl_pg_pool *pool, int acquire_timeout_ms, bl_err *err)
{
    if (!pool) {
        bl_err_set(err, BL_EINVAL, "registry: no connection pool");
        return NULL;
    }
    bl_registry_store *st = calloc(1, sizeof *st);
    if (!st) {
        no_memory(err);
        return NULL;
    }
    st->pool = pool;
    st->acquire_timeout_ms = acquire_timeout_ms > 0 ? acquire_timeout_ms : 5000;
    return st;
}

void bl_registry_store_free(bl_registry_store *st)
{
    free(st);
}

/* Runs fn on a pooled connection inside one transaction. */
static int in_transaction(bl_registry_store *st, bl_pg_tx_fn fn, void *arg, bl_err *err)
{
    PGconn *conn = bl_pg_pool_acquire(st->pool, st->acquire_timeout_ms, err);
    if (!conn)
        return -1;
    int rc = bl_pg_transaction(conn, fn, arg, err);
    bl_pg_pool_release(st->pool, conn);
    return rc;
}

int bl_registry_store_ping(bl_registry_store *st, bl_err *err)
{
    PGconn *conn = bl_pg_pool_acquire(st->pool, st->acquire_timeout_ms, err);
    if (!conn)
        return -1;
    int rc = bl_pg_exec_cmd(conn, "SELECT 1 FROM registry_config LIMIT 1", 0, NULL, err);
    bl_pg_pool_release(st->pool, conn);
    return rc;
}

/* ---------- queries shared by the operations ---------- */

/* 1 when subject has a version (a live one unless include_deleted), 0 when
 * not, -1 on error. */
static int subject_exists(PGconn *conn, const char *subject, bool include_deleted, bl_err *err)
{
    const char *params[] = {subject, include_deleted ? "t" : "f"};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT 1 FROM registry_subject_versions WHERE subject = $1 "
                               "AND ($2::boolean OR NOT deleted) LIMIT 1",
                               2, params, err);
    if (!res)
        return -1;
    int found = PQntuples(res) > 0;
    PQclear(res);
    return found;
}

/* The 404 for a subject version that is not there: subject or version. */
static int version_missing(PGconn *conn, const char *subject, int version, bool include_deleted,
                           bl_err *err)
{
    int exists = subject_exists(conn, subject, include_deleted, err);
    if (exists < 0)
        return -1;
    if (!exists)
        return bl_err_set(err, BL_REG_SUBJECT_NOT_FOUND, "Subject '%.200s' not found.", subject);
    return bl_err_set(err, BL_REG_VERSION_NOT_FOUND, "Version %d not found.", version);
}

/* The effective level of subject: its own, else the global one, else BACKWARD. */
static int effective_mode(PGconn *conn, const char *subject, bl_compat_mode *out, bl_err *err)
{
    const char *params[] = {subject};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT compatibility FROM registry_config WHERE subject IN ($1, '') "
                               "ORDER BY subject = '' LIMIT 1",
                               1, params, err);
    if (!res)
        return -1;
    *out = BL_COMPAT_BACKWARD;
    int rc = PQntuples(res) > 0 ? bl_compat_mode_parse(PQgetvalue(res, 0, 0), out, err) : 0;
    PQclear(res);
    return rc;
}

/* Copies row i of res (columns version, schema_id, schema_text) into out. */
static int version_from_row(PGresult *res, int i, const char *subject, bl_registry_version *out,
                            bl_err *err)
{
    out->version = atoi(PQgetvalue(res, i, 0));
    out->id = atoi(PQgetvalue(res, i, 1));
    out->subject = dup_or_fail(subject, err);
    out->schema = out->subject ? dup_or_fail(PQgetvalue(res, i, 2), err) : NULL;
    if (!out->schema) {
        bl_registry_version_clear(out);
        return -1;
    }
    return 0;
}

/* The schema texts of subject's live versions, oldest first: *texts is a
 * malloc'd array of pointers into *res (keep res until done). */
static int live_history(PGconn *conn, const char *subject, int only_version, PGresult **res,
                        const char ***texts, size_t *n, bl_err *err)
{
    char v[16];
    int_text(only_version, v);
    const char *params[] = {subject, v};
    *res = bl_pg_exec(conn,
                      "SELECT s.schema_text FROM registry_subject_versions v "
                      "JOIN registry_schemas s ON s.id = v.schema_id "
                      "WHERE v.subject = $1 AND NOT v.deleted AND ($2::int = -1 OR v.version = $2::int) "
                      "ORDER BY v.version",
                      2, params, err);
    if (!*res)
        return -1;
    *n = (size_t)PQntuples(*res);
    *texts = calloc(*n ? *n : 1, sizeof **texts);
    if (!*texts) {
        PQclear(*res);
        *res = NULL;
        return no_memory(err);
    }
    for (size_t i = 0; i < *n; i++)
        (*texts)[i] = PQgetvalue(*res, (int)i, 0);
    return 0;
}

/* Judges schema_json against the texts of subject (all live versions when
 * only_version is -1, else that one) under the subject's level. */
static int judge(PGconn *conn, const char *subject, int only_version, const char *schema_json,
                 bool *compatible, bl_compat_reasons *reasons, bl_err *err)
{
    bl_compat_mode mode;
    if (effective_mode(conn, subject, &mode, err) != 0)
        return -1;
    PGresult *res = NULL;
    const char **texts = NULL;
    size_t n = 0;
    if (live_history(conn, subject, only_version, &res, &texts, &n, err) != 0)
        return -1;
    bl_err why = {0};
    int verdict = bl_compat_check(mode, schema_json, texts, n, reasons, &why);
    free(texts);
    PQclear(res);
    if (verdict < 0)
        return bl_err_set(err, BL_REG_INVALID_SCHEMA, "Invalid schema: %s", why.msg);
    *compatible = verdict == 1;
    return 0;
}

/* ---------- register ---------- */

typedef struct register_job {
    const char *subject;
    const char *schema_json;
    const char *fingerprint;
    bl_registry_registered *out;
    bl_compat_reasons *reasons;
} register_job;

/* The id of the schema with this fingerprint, inserting it when new. */
static int schema_id_for(PGconn *conn, const register_job *job, int *id, bl_err *err)
{
    char *canonical = bl_canonical_form(job->schema_json, err);
    if (!canonical)
        return -1;
    const char *params[] = {job->schema_json, canonical, job->fingerprint};
    /* A racing registration under another subject may insert the same row:
     * ON CONFLICT waits for it, then the SELECT (new snapshot) sees it. */
    PGresult *res = bl_pg_exec(conn,
                               "INSERT INTO registry_schemas (schema_text, canonical, fingerprint) "
                               "VALUES ($1, $2, $3) ON CONFLICT (fingerprint) DO NOTHING RETURNING id",
                               3, params, err);
    free(canonical);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        res = bl_pg_exec(conn, "SELECT id FROM registry_schemas WHERE fingerprint = $1", 1,
                         params + 2, err);
        if (!res)
            return -1;
        if (PQntuples(res) == 0) {
            PQclear(res);
            return bl_err_set(err, BL_EPG, "registry: schema %s vanished", job->fingerprint);
        }
    }
    *id = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

static int register_tx(PGconn *conn, void *arg, bl_err *err)
{
    register_job *job = arg;
    const char *lock[] = {job->subject};
    if (bl_pg_exec_cmd(conn, "SELECT pg_advisory_xact_lock(hashtext($1))", 1, lock, err) != 0)
        return -1;
    const char *find[] = {job->subject, job->fingerprint};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT v.version, v.schema_id FROM registry_subject_versions v "
                               "JOIN registry_schemas s ON s.id = v.schema_id "
                               "WHERE v.subject = $1 AND s.fingerprint = $2 AND NOT v.deleted "
                               "ORDER BY v.version DESC LIMIT 1",
                               2, find, err);
    if (!res)
        return -1;
    if (PQntuples(res) > 0) {
        job->out->version = atoi(PQgetvalue(res, 0, 0));
        job->out->id = atoi(PQgetvalue(res, 0, 1));
        job->out->existed = true;
        PQclear(res);
        return 0;
    }
    PQclear(res);
    bool compatible = false;
    if (judge(conn, job->subject, -1, job->schema_json, &compatible, job->reasons, err) != 0)
        return -1;
    if (!compatible)
        return bl_err_set(err, BL_REG_INCOMPATIBLE, "incompatible");
    int id = 0;
    if (schema_id_for(conn, job, &id, err) != 0)
        return -1;
    char id_text[16];
    int_text(id, id_text);
    const char *insert[] = {job->subject, id_text};
    res = bl_pg_exec(conn,
                     "INSERT INTO registry_subject_versions (subject, version, schema_id) "
                     "SELECT $1, COALESCE(max(version), 0) + 1, $2::int "
                     "FROM registry_subject_versions WHERE subject = $1 RETURNING version",
                     2, insert, err);
    if (!res)
        return -1;
    job->out->version = atoi(PQgetvalue(res, 0, 0));
    job->out->id = id;
    job->out->existed = false;
    PQclear(res);
    return 0;
}

int bl_registry_store_register(bl_registry_store *st, const char *subject, const char *schema_json,
                               bl_registry_registered *out, bl_compat_reasons *reasons,
                               bl_err *err)
{
    char fp[BL_SHA256_HEX_SIZE];
    if (fingerprint_of(schema_json, fp, err) != 0)
        return -1;
    register_job job = {subject, schema_json, fp, out, reasons};
    return in_transaction(st, register_tx, &job, err);
}

/* ---------- reads ---------- */

typedef struct read_job {
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
} read_job;

static int lookup_tx(PGconn *conn, void *arg, bl_err *err)
{
    read_job *job = arg;
    const char *params[] = {job->subject, job->fingerprint, job->include_deleted ? "t" : "f"};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT v.version, v.schema_id, s.schema_text FROM registry_subject_versions v "
                               "JOIN registry_schemas s ON s.id = v.schema_id "
                               "WHERE v.subject = $1 AND s.fingerprint = $2 AND ($3::boolean OR NOT v.deleted) "
                               "ORDER BY v.version DESC LIMIT 1",
                               3, params, err);
    if (!res)
        return -1;
    int rc;
    if (PQntuples(res) > 0) {
        rc = version_from_row(res, 0, job->subject, job->one, err);
    } else {
        int exists = subject_exists(conn, job->subject, job->include_deleted, err);
        rc = exists < 0 ? -1
             : exists   ? bl_err_set(err, BL_REG_SCHEMA_NOT_FOUND, "Schema not found")
                        : bl_err_set(err, BL_REG_SUBJECT_NOT_FOUND, "Subject '%.200s' not found.",
                                     job->subject);
    }
    PQclear(res);
    return rc;
}

int bl_registry_store_lookup(bl_registry_store *st, const char *subject, const char *schema_json,
                             bool include_deleted, bl_registry_version *out, bl_err *err)
{
    char fp[BL_SHA256_HEX_SIZE];
    if (fingerprint_of(schema_json, fp, err) != 0)
        return -1;
    read_job job = {.subject = subject, .fingerprint = fp, .include_deleted = include_deleted, .one = out};
    return in_transaction(st, lookup_tx, &job, err);
}

static int subjects_tx(PGconn *conn, void *arg, bl_err *err)
{
    read_job *job = arg;
    const char *params[] = {job->include_deleted ? "t" : "f"};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT DISTINCT subject FROM registry_subject_versions "
                               "WHERE $1::boolean OR NOT deleted ORDER BY subject",
                               1, params, err);
    if (!res)
        return -1;
    size_t n = (size_t)PQntuples(res);
    job->names->items = calloc(n ? n : 1, sizeof *job->names->items);
    int rc = job->names->items ? 0 : no_memory(err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        job->names->items[i] = dup_or_fail(PQgetvalue(res, (int)i, 0), err);
        rc = job->names->items[i] ? 0 : -1;
        job->names->count += rc == 0;
    }
    PQclear(res);
    if (rc != 0)
        bl_registry_strings_clear(job->names);
    return rc;
}

int bl_registry_store_subjects(bl_registry_store *st, bool include_deleted,
                               bl_registry_strings *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    read_job job = {.include_deleted = include_deleted, .names = out};
    return in_transaction(st, subjects_tx, &job, err);
}

/* Fills out from res: column 0 the version, column 1 (when with_subjects)
 * the subject... in that order: (version) or (subject, version). */
static int versions_from_rows(PGresult *res, bool with_subjects, bl_registry_versions *out,
                              bl_err *err)
{
    size_t n = (size_t)PQntuples(res);
    memset(out, 0, sizeof *out);
    out->versions = calloc(n ? n : 1, sizeof *out->versions);
    if (with_subjects)
        out->subjects = calloc(n ? n : 1, sizeof *out->subjects);
    if (!out->versions || (with_subjects && !out->subjects)) {
        bl_registry_versions_clear(out);
        return no_memory(err);
    }
    int vcol = with_subjects ? 1 : 0;
    for (size_t i = 0; i < n; i++) {
        out->versions[i] = atoi(PQgetvalue(res, (int)i, vcol));
        if (with_subjects && !(out->subjects[i] = dup_or_fail(PQgetvalue(res, (int)i, 0), err))) {
            bl_registry_versions_clear(out);
            return -1;
        }
        out->count = i + 1;
    }
    return 0;
}

static int versions_tx(PGconn *conn, void *arg, bl_err *err)
{
    read_job *job = arg;
    const char *params[] = {job->subject, job->include_deleted ? "t" : "f"};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT version FROM registry_subject_versions WHERE subject = $1 "
                               "AND ($2::boolean OR NOT deleted) ORDER BY version",
                               2, params, err);
    if (!res)
        return -1;
    int rc = PQntuples(res) == 0
                 ? bl_err_set(err, BL_REG_SUBJECT_NOT_FOUND, "Subject '%.200s' not found.", job->subject)
                 : versions_from_rows(res, false, job->many, err);
    PQclear(res);
    return rc;
}

int bl_registry_store_versions(bl_registry_store *st, const char *subject, bool include_deleted,
                               bl_registry_versions *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    read_job job = {.subject = subject, .include_deleted = include_deleted, .many = out};
    return in_transaction(st, versions_tx, &job, err);
}

static int get_tx(PGconn *conn, void *arg, bl_err *err)
{
    read_job *job = arg;
    char v[16];
    int_text(job->version, v);
    const char *params[] = {job->subject, v, job->include_deleted ? "t" : "f"};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT v.version, v.schema_id, s.schema_text FROM registry_subject_versions v "
                               "JOIN registry_schemas s ON s.id = v.schema_id "
                               "WHERE v.subject = $1 AND ($2::int = -1 OR v.version = $2::int) "
                               "AND ($3::boolean OR NOT v.deleted) ORDER BY v.version DESC LIMIT 1",
                               3, params, err);
    if (!res)
        return -1;
    int rc = PQntuples(res) > 0
                 ? version_from_row(res, 0, job->subject, job->one, err)
                 : version_missing(conn, job->subject, job->version, job->include_deleted, err);
    PQclear(res);
    return rc;
}

int bl_registry_store_get(bl_registry_store *st, const char *subject, int version,
                          bool include_deleted, bl_registry_version *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    read_job job = {.subject = subject, .version = version, .include_deleted = include_deleted, .one = out};
    return in_transaction(st, get_tx, &job, err);
}

static int schema_by_id_tx(PGconn *conn, void *arg, bl_err *err)
{
    read_job *job = arg;
    char id[16];
    int_text(job->id, id);
    const char *params[] = {id};
    PGresult *res = bl_pg_exec(conn, "SELECT schema_text FROM registry_schemas WHERE id = $1::int", 1,
                               params, err);
    if (!res)
        return -1;
    int rc = 0;
    if (PQntuples(res) == 0)
        rc = bl_err_set(err, BL_REG_SCHEMA_NOT_FOUND, "Schema %d not found", job->id);
    else if (!(job->text = dup_or_fail(PQgetvalue(res, 0, 0), err)))
        rc = -1;
    PQclear(res);
    return rc;
}

char *bl_registry_store_schema_by_id(bl_registry_store *st, int id, bl_err *err)
{
    read_job job = {.id = id};
    if (in_transaction(st, schema_by_id_tx, &job, err) != 0)
        return NULL;
    return job.text;
}

static int id_versions_tx(PGconn *conn, void *arg, bl_err *err)
{
    read_job *job = arg;
    if (schema_by_id_tx(conn, job, err) != 0)
        return -1;
    free(job->text);
    job->text = NULL;
    char id[16];
    int_text(job->id, id);
    const char *params[] = {id};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT subject, version FROM registry_subject_versions "
                               "WHERE schema_id = $1::int AND NOT deleted ORDER BY subject, version",
                               1, params, err);
    if (!res)
        return -1;
    int rc = versions_from_rows(res, true, job->many, err);
    PQclear(res);
    return rc;
}

int bl_registry_store_id_versions(bl_registry_store *st, int id, bl_registry_versions *out,
                                  bl_err *err)
{
    memset(out, 0, sizeof *out);
    read_job job = {.id = id, .many = out};
    return in_transaction(st, id_versions_tx, &job, err);
}

static int check_tx(PGconn *conn, void *arg, bl_err *err)
{
    read_job *job = arg;
    int exists = subject_exists(conn, job->subject, true, err);
    if (exists <= 0)
        return exists < 0 ? -1
                          : bl_err_set(err, BL_REG_SUBJECT_NOT_FOUND, "Subject '%.200s' not found.",
                                       job->subject);
    if (job->version != BL_REG_LATEST) {
        const char *params[2];
        char v[16];
        int_text(job->version, v);
        params[0] = job->subject;
        params[1] = v;
        PGresult *res = bl_pg_exec(conn,
                                   "SELECT 1 FROM registry_subject_versions WHERE subject = $1 "
                                   "AND version = $2::int AND NOT deleted",
                                   2, params, err);
        if (!res)
            return -1;
        int found = PQntuples(res) > 0;
        PQclear(res);
        if (!found)
            return bl_err_set(err, BL_REG_VERSION_NOT_FOUND, "Version %d not found.", job->version);
    }
    return judge(conn, job->subject, job->version, job->schema_json, job->compatible, job->reasons,
                 err);
}

int bl_registry_store_check(bl_registry_store *st, const char *subject, int version,
                            const char *schema_json, bool *compatible,
                            bl_compat_reasons *reasons, bl_err *err)
{
    char fp[BL_SHA256_HEX_SIZE];
    if (fingerprint_of(schema_json, fp, err) != 0)
        return -1;
    read_job job = {.subject = subject, .version = version, .schema_json = schema_json,
                    .compatible = compatible, .reasons = reasons};
    return in_transaction(st, check_tx, &job, err);
}

/* ---------- config ---------- */

static int config_get_tx(PGconn *conn, void *arg, bl_err *err)
{
    read_job *job = arg;
    const char *key = job->subject ? job->subject : "";
    if (job->subject && job->include_deleted /* default_to_global */)
        return effective_mode(conn, key, job->mode, err);
    const char *params[] = {key};
    PGresult *res = bl_pg_exec(conn, "SELECT compatibility FROM registry_config WHERE subject = $1", 1,
                               params, err);
    if (!res)
        return -1;
    int rc = 0;
    if (PQntuples(res) > 0)
        rc = bl_compat_mode_parse(PQgetvalue(res, 0, 0), job->mode, err);
    else if (job->subject)
        rc = bl_err_set(err, BL_REG_SUBJECT_COMPAT_NOT_CONFIGURED,
                        "Subject '%.200s' does not have subject-level compatibility configured",
                        job->subject);
    else
        *job->mode = BL_COMPAT_BACKWARD;
    PQclear(res);
    return rc;
}

int bl_registry_store_config_get(bl_registry_store *st, const char *subject,
                                 bool default_to_global, bl_compat_mode *out, bl_err *err)
{
    read_job job = {.subject = subject, .include_deleted = default_to_global, .mode = out};
    return in_transaction(st, config_get_tx, &job, err);
}

static int config_set_tx(PGconn *conn, void *arg, bl_err *err)
{
    read_job *job = arg;
    const char *params[] = {job->subject ? job->subject : "", bl_compat_mode_name(*job->mode)};
    return bl_pg_exec_cmd(conn,
                          "INSERT INTO registry_config (subject, compatibility) VALUES ($1, $2) "
                          "ON CONFLICT (subject) DO UPDATE SET compatibility = EXCLUDED.compatibility",
                          2, params, err);
}

int bl_registry_store_config_set(bl_registry_store *st, const char *subject, bl_compat_mode mode,
                                 bl_err *err)
{
    read_job job = {.subject = subject, .mode = &mode};
    return in_transaction(st, config_set_tx, &job, err);
}

static int config_delete_tx(PGconn *conn, void *arg, bl_err *err)
{
    read_job *job = arg;
    const char *params[] = {job->subject};
    PGresult *res = bl_pg_exec(conn, "DELETE FROM registry_config WHERE subject = $1 RETURNING compatibility",
                               1, params, err);
    if (!res)
        return -1;
    int rc = PQntuples(res) > 0
                 ? bl_compat_mode_parse(PQgetvalue(res, 0, 0), job->mode, err)
                 : bl_err_set(err, BL_REG_SUBJECT_NOT_FOUND, "Subject '%.200s' not found.", job->subject);
    PQclear(res);
    return rc;
}

int bl_registry_store_config_delete(bl_registry_store *st, const char *subject,
                                    bl_compat_mode *old, bl_err *err)
{
    read_job job = {.subject = subject, .mode = old};
    return in_transaction(st, config_delete_tx, &job, err);
}

/* ---------- deletes ---------- */

static int lock_subject(PGconn *conn, const char *subject, bl_err *err)
{
    const char *params[] = {subject};
    return bl_pg_exec_cmd(conn, "SELECT pg_advisory_xact_lock(hashtext($1))", 1, params, err);
}

static int delete_version_tx(PGconn *conn, void *arg, bl_err *err)
{
    read_job *job = arg;
    if (lock_subject(conn, job->subject, err) != 0)
        return -1;
    char v[16];
    int_text(job->version, v);
    const char *params[] = {job->subject, v};
    /* "latest" means the latest live version, or for a permanent delete the
     * latest soft-deleted one too. */
    PGresult *res = bl_pg_exec(conn,
                               "SELECT version, deleted FROM registry_subject_versions WHERE subject = $1 "
                               "AND ($2::int = -1 OR version = $2::int) ORDER BY version DESC LIMIT 1",
                               2, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return version_missing(conn, job->subject, job->version, true, err);
    }
    int version = atoi(PQgetvalue(res, 0, 0));
    bool deleted = PQgetvalue(res, 0, 1)[0] == 't';
    PQclear(res);
    if (deleted && !job->permanent)
        return bl_err_set(err, BL_REG_VERSION_SOFT_DELETED,
                          "Subject '%.200s' Version %d was soft deleted. Set permanent=true to delete "
                          "permanently",
                          job->subject, version);
    if (!deleted && job->permanent)
        return bl_err_set(err, BL_REG_VERSION_NOT_SOFT_DELETED,
                          "Subject '%.200s' Version %d was not deleted first before being permanently "
                          "deleted",
                          job->subject, version);
    char vv[16];
    int_text(version, vv);
    const char *target[] = {job->subject, vv};
    if (bl_pg_exec_cmd(conn,
                       job->permanent
                           ? "DELETE FROM registry_subject_versions WHERE subject = $1 AND version = $2::int"
                           : "UPDATE registry_subject_versions SET deleted = true "
                             "WHERE subject = $1 AND version = $2::int",
                       2, target, err) != 0)
        return -1;
    job->id = version;
    return 0;
}

int bl_registry_store_delete_version(bl_registry_store *st, const char *subject, int version,
                                     bool permanent, int *deleted, bl_err *err)
{
    read_job job = {.subject = subject, .version = version, .permanent = permanent};
    if (in_transaction(st, delete_version_tx, &job, err) != 0)
        return -1;
    *deleted = job.id;
    return 0;
}

static int delete_subject_tx(PGconn *conn, void *arg, bl_err *err)
{
    read_job *job = arg;
    if (lock_subject(conn, job->subject, err) != 0)
        return -1;
    const char *params[] = {job->subject};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT count(*), count(*) FILTER (WHERE NOT deleted) "
                               "FROM registry_subject_versions WHERE subject = $1",
                               1, params, err);
    if (!res)
        return -1;
    long total = atol(PQgetvalue(res, 0, 0)), live = atol(PQgetvalue(res, 0, 1));
    PQclear(res);
    if (total == 0)
        return bl_err_set(err, BL_REG_SUBJECT_NOT_FOUND, "Subject '%.200s' not found.", job->subject);
    if (!job->permanent && live == 0)
        return bl_err_set(err, BL_REG_SUBJECT_SOFT_DELETED,
                          "Subject '%.200s' was soft deleted. Set permanent=true to delete permanently",
                          job->subject);
    if (job->permanent && live > 0)
        return bl_err_set(err, BL_REG_SUBJECT_NOT_SOFT_DELETED,
                          "Subject '%.200s' was not deleted first before being permanently deleted",
                          job->subject);
    if (job->permanent &&
        bl_pg_exec_cmd(conn, "DELETE FROM registry_config WHERE subject = $1", 1, params, err) != 0)
        return -1;
    res = bl_pg_exec(conn,
                     job->permanent
                         ? "DELETE FROM registry_subject_versions WHERE subject = $1 RETURNING version"
                         : "UPDATE registry_subject_versions SET deleted = true "
                           "WHERE subject = $1 AND NOT deleted RETURNING version",
                     1, params, err);
    if (!res)
        return -1;
    int rc = versions_from_rows(res, false, job->many, err);
    PQclear(res);
    return rc;
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int bl_registry_store_delete_subject(bl_registry_store *st, const char *subject, bool permanent,
                                     bl_registry_versions *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    read_job job = {.subject = subject, .permanent = permanent, .many = out};
    if (in_transaction(st, delete_subject_tx, &job, err) != 0)
        return -1;
    qsort(out->versions, out->count, sizeof *out->versions, compare_ints);
    return 0;
}
