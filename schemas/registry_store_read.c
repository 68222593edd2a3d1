/* The store's reads: lookups, subjects, versions, schemas by id, and the
 * compatibility check of a candidate against a version. */
#include "schemas/registry_store_internal.h"

#include <stdlib.h>
#include <string.h>

static int lookup_tx(PGconn *conn, void *arg, bl_err *err)
{
    store_job *job = arg;
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
        rc = bl_rstore_version_from_row(res, 0, job->subject, job->one, err);
    } else {
        int exists = bl_rstore_subject_exists(conn, job->subject, job->include_deleted, err);
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
    if (bl_rstore_fingerprint(schema_json, fp, err) != 0)
        return -1;
    store_job job = {.subject = subject, .fingerprint = fp, .include_deleted = include_deleted, .one = out};
    return bl_rstore_in_transaction(st, lookup_tx, &job, err);
}

static int subjects_tx(PGconn *conn, void *arg, bl_err *err)
{
    store_job *job = arg;
    const char *params[] = {job->include_deleted ? "t" : "f"};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT DISTINCT subject FROM registry_subject_versions "
                               "WHERE $1::boolean OR NOT deleted ORDER BY subject",
                               1, params, err);
    if (!res)
        return -1;
    size_t n = (size_t)PQntuples(res);
    job->names->items = calloc(n ? n : 1, sizeof *job->names->items);
    int rc = job->names->items ? 0 : bl_rstore_no_memory(err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        job->names->items[i] = bl_rstore_dup(PQgetvalue(res, (int)i, 0), err);
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
    store_job job = {.include_deleted = include_deleted, .names = out};
    return bl_rstore_in_transaction(st, subjects_tx, &job, err);
}

static int versions_tx(PGconn *conn, void *arg, bl_err *err)
{
    store_job *job = arg;
    const char *params[] = {job->subject, job->include_deleted ? "t" : "f"};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT version FROM registry_subject_versions WHERE subject = $1 "
                               "AND ($2::boolean OR NOT deleted) ORDER BY version",
                               2, params, err);
    if (!res)
        return -1;
    int rc = PQntuples(res) == 0
                 ? bl_err_set(err, BL_REG_SUBJECT_NOT_FOUND, "Subject '%.200s' not found.", job->subject)
                 : bl_rstore_versions_from_rows(res, false, job->many, err);
    PQclear(res);
    return rc;
}

int bl_registry_store_versions(bl_registry_store *st, const char *subject, bool include_deleted,
                               bl_registry_versions *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    store_job job = {.subject = subject, .include_deleted = include_deleted, .many = out};
    return bl_rstore_in_transaction(st, versions_tx, &job, err);
}

static int get_tx(PGconn *conn, void *arg, bl_err *err)
{
    store_job *job = arg;
    char v[16];
    bl_rstore_int_text(job->version, v);
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
                 ? bl_rstore_version_from_row(res, 0, job->subject, job->one, err)
                 : bl_rstore_version_missing(conn, job->subject, job->version, job->include_deleted, err);
    PQclear(res);
    return rc;
}

int bl_registry_store_get(bl_registry_store *st, const char *subject, int version,
                          bool include_deleted, bl_registry_version *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    store_job job = {.subject = subject, .version = version, .include_deleted = include_deleted, .one = out};
    return bl_rstore_in_transaction(st, get_tx, &job, err);
}

static int schema_by_id_tx(PGconn *conn, void *arg, bl_err *err)
{
    store_job *job = arg;
    char id[16];
    bl_rstore_int_text(job->id, id);
    const char *params[] = {id};
    PGresult *res = bl_pg_exec(conn, "SELECT schema_text FROM registry_schemas WHERE id = $1::int", 1,
                               params, err);
    if (!res)
        return -1;
    int rc = 0;
    if (PQntuples(res) == 0)
        rc = bl_err_set(err, BL_REG_SCHEMA_NOT_FOUND, "Schema %d not found", job->id);
    else if (!(job->text = bl_rstore_dup(PQgetvalue(res, 0, 0), err)))
        rc = -1;
    PQclear(res);
    return rc;
}

char *bl_registry_store_schema_by_id(bl_registry_store *st, int id, bl_err *err)
{
    store_job job = {.id = id};
    if (bl_rstore_in_transaction(st, schema_by_id_tx, &job, err) != 0)
        return NULL;
    return job.text;
}

static int id_versions_tx(PGconn *conn, void *arg, bl_err *err)
{
    store_job *job = arg;
    if (schema_by_id_tx(conn, job, err) != 0)
        return -1;
    free(job->text);
    job->text = NULL;
    char id[16];
    bl_rstore_int_text(job->id, id);
    const char *params[] = {id};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT subject, version FROM registry_subject_versions "
                               "WHERE schema_id = $1::int AND NOT deleted ORDER BY subject, version",
                               1, params, err);
    if (!res)
        return -1;
    int rc = bl_rstore_versions_from_rows(res, true, job->many, err);
    PQclear(res);
    return rc;
}

int bl_registry_store_id_versions(bl_registry_store *st, int id, bl_registry_versions *out,
                                  bl_err *err)
{
    memset(out, 0, sizeof *out);
    store_job job = {.id = id, .many = out};
    return bl_rstore_in_transaction(st, id_versions_tx, &job, err);
}

static int check_tx(PGconn *conn, void *arg, bl_err *err)
{
    store_job *job = arg;
    int exists = bl_rstore_subject_exists(conn, job->subject, true, err);
    if (exists <= 0)
        return exists < 0 ? -1
                          : bl_err_set(err, BL_REG_SUBJECT_NOT_FOUND, "Subject '%.200s' not found.",
                                       job->subject);
    if (job->version != BL_REG_LATEST) {
        const char *params[2];
        char v[16];
        bl_rstore_int_text(job->version, v);
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
    return bl_rstore_judge(conn, job->subject, job->version, job->schema_json, job->compatible, job->reasons,
                           err);
}

int bl_registry_store_check(bl_registry_store *st, const char *subject, int version,
                            const char *schema_json, bool *compatible,
                            bl_compat_reasons *reasons, bl_err *err)
{
    char fp[BL_SHA256_HEX_SIZE];
    if (bl_rstore_fingerprint(schema_json, fp, err) != 0)
        return -1;
    store_job job = {.subject = subject, .version = version, .schema_json = schema_json,
                    .compatible = compatible, .reasons = reasons};
    return bl_rstore_in_transaction(st, check_tx, &job, err);
}
