/* Registering a schema under a subject: judged against the subject's
 * level, stored once per distinct text, given the next version. */
#include "schemas/registry_store_internal.h"

#include "schemas/canonical.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    if (bl_rstore_judge(conn, job->subject, -1, job->schema_json, &compatible, job->reasons, err) != 0)
        return -1;
    if (!compatible)
        return bl_err_set(err, BL_REG_INCOMPATIBLE, "incompatible");
    int id = 0;
    if (schema_id_for(conn, job, &id, err) != 0)
        return -1;
    char id_text[16];
    bl_rstore_int_text(id, id_text);
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
    if (bl_rstore_fingerprint(schema_json, fp, err) != 0)
        return -1;
    register_job job = {subject, schema_json, fp, out, reasons};
    return bl_rstore_in_transaction(st, register_tx, &job, err);
}
