/* The rows of custom endpoints (migrations/110_custom_apis.sql): the
 * current definition of each, and every version ever saved. A definition
 * here is the API's JSON (name, path, method, description, version,
 * isActive and the config: authentication, rateLimit, caching,
 * transformations, integrations, workflow, outputSchema), with oauth2
 * secrets sealed. Every write is one transaction: nothing half-saved, and
 * its audit row (api/audit/, as who's, borrowed) commits in it. */
#ifndef BUSLINE_API_CUSTOM_STORE_H
#define BUSLINE_API_CUSTOM_STORE_H

#include "api/audit/audit_log.h"
#include "core/err.h"

#include <jansson.h>
#include <libpq-fe.h>

/* The endpoint id of org as the API shows it (id, createdAt, updatedAt,
 * url added; secrets still sealed): a new reference, or NULL with err
 * (BL_ENOTFOUND when org has no such endpoint). */
json_t *bl_custom_store_get(PGconn *conn, const char *org, const char *id, bl_err *err);

/* Saves a new endpoint of org from def (checked, borrowed) as its version
 * 1 (def's version, else "1.0.0"), by user (may be NULL). Returns the new
 * row as bl_custom_store_get shows it, or NULL with err (BL_ECONFLICT when
 * the organization already has an endpoint on that path). */
json_t *bl_custom_store_create(PGconn *conn, const bl_audit_actor *who, const char *org, const char *by,
                              const json_t *def, bl_err *err);

/* Replaces the definition of endpoint id with def (checked, borrowed),
 * keeping the previous versions: def's version when it is above every saved
 * one, the latest saved one's next patch when def gives none or the current
 * one. Returns the row, or NULL with err (BL_ENOTFOUND, BL_ECONFLICT for a
 * taken path, BL_EINVAL for a version not above the saved ones). */
json_t *bl_custom_store_update(PGconn *conn, const bl_audit_actor *who, const char *org, const char *id,
                               const char *by, const json_t *def, bl_err *err);

/* The saved definition of version of endpoint id (new reference), or NULL
 * with err (BL_ENOTFOUND). */
json_t *bl_custom_store_version(PGconn *conn, const char *org, const char *id, const char *version, bl_err *err);

/* Makes saved version the current definition again (it is not saved a
 * second time). Returns the row, or NULL with err (BL_ENOTFOUND, BL_ECONFLICT
 * when its path was taken since). */
json_t *bl_custom_store_restore(PGconn *conn, const bl_audit_actor *who, const char *org, const char *id,
                               const char *version, bl_err *err);

/* Every saved version of endpoint id, newest first: [{version, savedAt,
 * savedBy, current}], or NULL with err (BL_ENOTFOUND). */
json_t *bl_custom_store_versions(PGconn *conn, const char *org, const char *id, bl_err *err);

/* Deletes endpoint id with its versions and cached answers. Returns 0, or -1
 * with err (BL_ENOTFOUND). */
int bl_custom_store_delete(PGconn *conn, const bl_audit_actor *who, const char *org, const char *id, bl_err *err);

/* What a replica serves: [{id, organizationId, slug, definition}] of every
 * endpoint (id NULL) or of one. New reference, or NULL with err. */
json_t *bl_custom_store_load(PGconn *conn, const char *id, bl_err *err);

#endif
