/* Compatibility levels per subject and the global one. */
#include "schemas/registry_store_internal.h"

#include <stdlib.h>
#include <string.h>

static int config_get_tx(PGconn *conn, void *arg, bl_err *err)
{
    store_job *job = arg;
    const char *key = job->subject ? job->subject : "";
    if (job->subject && job->include_deleted /* default_to_global */)
        return bl_rstore_effective_mode(conn, key, job->mode, err);
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
    store_job job = {.subject = subject, .include_deleted = default_to_global, .mode = out};
    return bl_rstore_in_transaction(st, config_get_tx, &job, err);
}

static int config_set_tx(PGconn *conn, void *arg, bl_err *err)
{
    store_job *job = arg;
    const char *params[] = {job->subject ? job->subject : "", bl_compat_mode_name(*job->mode)};
    return bl_pg_exec_cmd(conn,
                          "INSERT INTO registry_config (subject, compatibility) VALUES ($1, $2) "
                          "ON CONFLICT (subject) DO UPDATE SET compatibility = EXCLUDED.compatibility",
                          2, params, err);
}

int bl_registry_store_config_set(bl_registry_store *st, const char *subject, bl_compat_mode mode,
                                 bl_err *err)
{
    store_job job = {.subject = subject, .mode = &mode};
    return bl_rstore_in_transaction(st, config_set_tx, &job, err);
}

static int config_delete_tx(PGconn *conn, void *arg, bl_err *err)
{
    store_job *job = arg;
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
    store_job job = {.subject = subject, .mode = old};
    return bl_rstore_in_transaction(st, config_delete_tx, &job, err);
}
