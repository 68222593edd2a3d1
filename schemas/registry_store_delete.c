/* Soft and permanent deletes of a version or a whole subject. */
#include "schemas/registry_store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lock_subject(PGconn *conn, const char *subject, bl_err *err)
{
    const char *params[] = {subject};
    return bl_pg_exec_cmd(conn, "SELECT pg_advisory_xact_lock(hashtext($1))", 1, params, err);
}

static int delete_version_tx(PGconn *conn, void *arg, bl_err *err)
{
    store_job *job = arg;
    if (lock_subject(conn, job->subject, err) != 0)
        return -1;
    char v[16];
    bl_rstore_int_text(job->version, v);
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
        return bl_rstore_version_missing(conn, job->subject, job->version, true, err);
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
    bl_rstore_int_text(version, vv);
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
    store_job job = {.subject = subject, .version = version, .permanent = permanent};
    if (bl_rstore_in_transaction(st, delete_version_tx, &job, err) != 0)
        return -1;
    *deleted = job.id;
    return 0;
}

static int delete_subject_tx(PGconn *conn, void *arg, bl_err *err)
{
    store_job *job = arg;
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
    int rc = bl_rstore_versions_from_rows(res, false, job->many, err);
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
    store_job job = {.subject = subject, .permanent = permanent, .many = out};
    if (bl_rstore_in_transaction(st, delete_subject_tx, &job, err) != 0)
        return -1;
    qsort(out->versions, out->count, sizeof *out->versions, compare_ints);
    return 0;
}
