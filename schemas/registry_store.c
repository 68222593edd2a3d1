/* The schema registry's PostgreSQL logic. */
#include "schemas/registry_store_internal.h"

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

int bl_rstore_no_memory(bl_err *err)
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
int bl_rstore_fingerprint(const char *schema_json, char out[BL_SHA256_HEX_SIZE], bl_err *err)
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
        return bl_rstore_no_memory(err);
    int rc = bl_sha256_hex(identity, strlen(identity), out, err);
    free(identity);
    return rc;
}

char *bl_rstore_dup(const char *s, bl_err *err)
{
    char *d = strdup(s);
    if (!d)
        bl_rstore_no_memory(err);
    return d;
}

void bl_rstore_int_text(int v, char out[16])
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
        bl_rstore_no_memory(err);
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
int bl_rstore_in_transaction(bl_registry_store *st, bl_pg_tx_fn fn, void *arg, bl_err *err)
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
int bl_rstore_subject_exists(PGconn *conn, const char *subject, bool include_deleted, bl_err *err)
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
int bl_rstore_version_missing(PGconn *conn, const char *subject, int version, bool include_deleted,
                              bl_err *err)
{
    int exists = bl_rstore_subject_exists(conn, subject, include_deleted, err);
    if (exists < 0)
        return -1;
    if (!exists)
        return bl_err_set(err, BL_REG_SUBJECT_NOT_FOUND, "Subject '%.200s' not found.", subject);
    return bl_err_set(err, BL_REG_VERSION_NOT_FOUND, "Version %d not found.", version);
}

/* The effective level of subject: its own, else the global one, else BACKWARD. */
int bl_rstore_effective_mode(PGconn *conn, const char *subject, bl_compat_mode *out, bl_err *err)
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
int bl_rstore_version_from_row(PGresult *res, int i, const char *subject, bl_registry_version *out,
                               bl_err *err)
{
    out->version = atoi(PQgetvalue(res, i, 0));
    out->id = atoi(PQgetvalue(res, i, 1));
    out->subject = bl_rstore_dup(subject, err);
    out->schema = out->subject ? bl_rstore_dup(PQgetvalue(res, i, 2), err) : NULL;
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
    bl_rstore_int_text(only_version, v);
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
        return bl_rstore_no_memory(err);
    }
    for (size_t i = 0; i < *n; i++)
        (*texts)[i] = PQgetvalue(*res, (int)i, 0);
    return 0;
}

/* Judges schema_json against the texts of subject (all live versions when
 * only_version is -1, else that one) under the subject's level. */
int bl_rstore_judge(PGconn *conn, const char *subject, int only_version, const char *schema_json,
                    bool *compatible, bl_compat_reasons *reasons, bl_err *err)
{
    bl_compat_mode mode;
    if (bl_rstore_effective_mode(conn, subject, &mode, err) != 0)
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

/* Fills out from res: column 0 the version, column 1 (when with_subjects)
 * the subject... in that order: (version) or (subject, version). */
int bl_rstore_versions_from_rows(PGresult *res, bool with_subjects, bl_registry_versions *out,
                                 bl_err *err)
{
    size_t n = (size_t)PQntuples(res);
    memset(out, 0, sizeof *out);
    out->versions = calloc(n ? n : 1, sizeof *out->versions);
    if (with_subjects)
        out->subjects = calloc(n ? n : 1, sizeof *out->subjects);
    if (!out->versions || (with_subjects && !out->subjects)) {
        bl_registry_versions_clear(out);
        return bl_rstore_no_memory(err);
    }
    int vcol = with_subjects ? 1 : 0;
    for (size_t i = 0; i < n; i++) {
        out->versions[i] = atoi(PQgetvalue(res, (int)i, vcol));
        if (with_subjects && !(out->subjects[i] = bl_rstore_dup(PQgetvalue(res, (int)i, 0), err))) {
            bl_registry_versions_clear(out);
            return -1;
        }
        out->count = i + 1;
    }
    return 0;
}

