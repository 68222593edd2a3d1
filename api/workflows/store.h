/* The rows of workflows (migrations/160_workflows.sql): the current
 * definition of each, and every version ever saved. A definition here is
 * the API's JSON (name, description, version, isActive and the config:
 * trigger, steps, errorHandling, notifications). Every write is one
 * transaction with its audit row (as who's, borrowed). */
#ifndef BUSLINE_API_WORKFLOWS_STORE_H
#define BUSLINE_API_WORKFLOWS_STORE_H

#include "api/audit/audit_log.h"
#include "core/err.h"

#include <jansson.h>
#include <libpq-fe.h>

/* Workflow id of org as the API shows it (id, createdAt, updatedAt added):
 * a new reference, or NULL with err (BL_ENOTFOUND). */
json_t *bl_wf_store_get(PGconn *conn, const char *org, const char *id, bl_err *err);

/* Saves a new workflow of org from def (checked, borrowed) as its first
 * version (def's, else "1.0.0"), by (may be NULL). Returns the row as
 * bl_wf_store_get shows it, or NULL with err. */
json_t *bl_wf_store_create(PGconn *conn, const bl_audit_actor *who, const char *org, const char *by,
                           const json_t *def, bl_err *err);

/* Replaces workflow id's definition with def (checked), keeping every
 * version: def's version when above every saved one, the next patch when
 * def gives none or the current one. Returns the row, or NULL with err
 * (BL_ENOTFOUND; BL_EINVAL for a version not above the saved ones). */
json_t *bl_wf_store_update(PGconn *conn, const bl_audit_actor *who, const char *org, const char *id,
                           const char *by, const json_t *def, bl_err *err);

/* Every saved version of workflow id, newest first: [{version, savedAt,
 * savedBy, current}], or NULL with err (BL_ENOTFOUND). */
json_t *bl_wf_store_versions(PGconn *conn, const char *org, const char *id, bl_err *err);

/* The saved definition of one version (new reference), or NULL with err. */
json_t *bl_wf_store_version(PGconn *conn, const char *org, const char *id, const char *version, bl_err *err);

/* Deletes workflow id with its versions and executions. Returns 0, or -1
 * with err (BL_ENOTFOUND). */
int bl_wf_store_delete(PGconn *conn, const bl_audit_actor *who, const char *org, const char *id, bl_err *err);

#endif
