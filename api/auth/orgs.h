/* Operator actions on tenants, for `busline api create-*` and tests. */
#ifndef BUSLINE_API_ORGS_H
#define BUSLINE_API_ORGS_H

#include "api/auth/auth.h"
#include "core/err.h"

#include <libpq-fe.h>

/* Creates an organization; writes its id. Returns 0 or -1 with err. */
int bl_api_org_create(PGconn *conn, const char *name, bl_api_plan plan, char id[BL_API_ID_MAX],
                      bl_err *err);

/* Creates a user of org_id with a hashed password; totp_secret (base32) may
 * be NULL. Writes the user's id. Returns 0 or -1 with err. */
int bl_api_user_create(PGconn *conn, const char *org_id, const char *email, const char *password,
                       bl_api_perm perm, const char *totp_secret, char id[BL_API_ID_MAX], bl_err *err);

#endif
