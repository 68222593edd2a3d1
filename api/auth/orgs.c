#include "api/auth/orgs.h"

#include "api/auth/password.h"
#include "core/pg_pool.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Runs sql (returning one id) and copies the id out. */
static int insert_returning_id(PGconn *conn, const char *sql, int n, const char *const *params,
                               char id[BL_API_ID_MAX], bl_err *err)
{
    PGresult *r = bl_pg_exec(conn, sql, n, params, err);
    if (!r)
        return -1;
    snprintf(id, BL_API_ID_MAX, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

int bl_api_org_create(PGconn *conn, const char *name, bl_api_plan plan, char id[BL_API_ID_MAX],
                      bl_err *err)
{
    const char *params[] = {name, bl_api_plan_name(plan)};
    if (insert_returning_id(conn, "INSERT INTO api_organizations (name, plan) VALUES ($1, $2) RETURNING id",
                            2, params, id, err) != 0)
        return bl_err_wrap(err, "api: create organization");
    return 0;
}

int bl_api_user_create(PGconn *conn, const char *org_id, const char *email, const char *password,
                       bl_api_perm perm, const char *totp_secret, char id[BL_API_ID_MAX], bl_err *err)
{
    char lower[321], hash[BL_PASSWORD_HASH_SIZE];
    size_t n = strlen(email);
    if (n < 3 || n >= sizeof lower || !strchr(email, '@'))
        return bl_err_set(err, BL_EINVAL, "api: create user: not an email address");
    if (strlen(password) < 8)
        return bl_err_set(err, BL_EINVAL, "api: create user: the password needs at least 8 characters");
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)email[i]);
    if (bl_password_hash(password, 0, hash, err) != 0)
        return -1;
    const char *params[] = {org_id, lower, hash, bl_api_perm_name(perm), totp_secret};
    if (insert_returning_id(conn,
                            "INSERT INTO api_users (organization_id, email, password_hash, permission, totp_secret)"
                            " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                            5, params, id, err) != 0)
        return bl_err_wrap(err, "api: create user");
    return 0;
}
