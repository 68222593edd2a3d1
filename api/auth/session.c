#include "api/auth/session.h"

#include "api/auth/password.h"
#include "api/auth/revocations.h"
#include "api/auth/totp.h"
#include "core/crypto.h"
#include "core/pg_pool.h"

#include <ctype.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JWT_ISSUER "busline"

char *bl_session_access_issue(const char *secret, const bl_api_auth *auth, time_t now, bl_err *err)
{
    return bl_session_access_issue_ttl(secret, auth, now, BL_SESSION_ACCESS_TTL_S, err);
}

char *bl_session_access_issue_ttl(const char *secret, const bl_api_auth *auth, time_t now, long ttl_s,
                                  bl_err *err)
{
    jwt_t *jwt = NULL;
    char *token = NULL;
    if (jwt_new(&jwt) != 0) {
        bl_err_set(err, BL_ENOMEM, "jwt: out of memory");
        return NULL;
    }
    if (jwt_add_grant(jwt, "iss", JWT_ISSUER) != 0 || jwt_add_grant(jwt, "typ", "access") != 0 ||
        jwt_add_grant(jwt, "sub", auth->user_id) != 0 || jwt_add_grant(jwt, "org", auth->org_id) != 0 ||
        jwt_add_grant(jwt, "perm", bl_api_perm_name(auth->perm)) != 0 ||
        jwt_add_grant(jwt, "plan", bl_api_plan_name(auth->plan)) != 0 ||
        jwt_add_grant_int(jwt, "iat", (long)now) != 0 ||
        jwt_add_grant_int(jwt, "exp", (long)now + ttl_s) != 0 ||
        (auth->session_id[0] && jwt_add_grant(jwt, "sid", auth->session_id) != 0) ||
        jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)) != 0 ||
        !(token = jwt_encode_str(jwt)))
        bl_err_set(err, BL_ECRYPTO, "jwt: cannot sign the access token");
    jwt_free(jwt);
    return token;
}

int bl_session_access_verify(const char *secret, const char *token, time_t now, bl_api_auth *out,
                             bl_err *err)
{
    jwt_t *jwt = NULL;
    if (strlen(token) > 4096 ||
        jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret)) != 0) {
        jwt_free(jwt);
        bl_err_set(err, BL_ENOTFOUND, "access token invalid");
        return 0;
    }
    int rc = 0;
    const char *typ = jwt_get_grant(jwt, "typ"), *sub = jwt_get_grant(jwt, "sub");
    const char *org = jwt_get_grant(jwt, "org"), *perm = jwt_get_grant(jwt, "perm");
    const char *plan = jwt_get_grant(jwt, "plan"), *iss = jwt_get_grant(jwt, "iss");
    const char *sid = jwt_get_grant(jwt, "sid");
    long exp = jwt_get_grant_int(jwt, "exp");
    bl_api_plan p;
    if (jwt_get_alg(jwt) != JWT_ALG_HS256 || !typ || strcmp(typ, "access") != 0 || !iss ||
        strcmp(iss, JWT_ISSUER) != 0 || !sub || !org || !perm || !plan ||
        bl_api_plan_parse(plan, &p) != 0 || bl_api_perm_parse(perm) == BL_API_PERM_NONE ||
        strlen(sub) >= BL_API_ID_MAX || strlen(org) >= BL_API_ID_MAX || (sid && strlen(sid) >= BL_API_ID_MAX)) {
        bl_err_set(err, BL_ENOTFOUND, "access token invalid");
    } else if (exp <= (long)now) {
        bl_err_set(err, BL_ENOTFOUND, "access token expired");
    } else {
        memset(out, 0, sizeof *out);
        snprintf(out->user_id, sizeof out->user_id, "%s", sub);
        snprintf(out->org_id, sizeof out->org_id, "%s", org);
        snprintf(out->session_id, sizeof out->session_id, "%s", sid ? sid : "");
        out->perm = bl_api_perm_parse(perm);
        out->plan = p;
        rc = 1;
    }
    jwt_free(jwt);
    return rc;
}

int bl_session_refresh_issue(PGconn *conn, const char *user_id, const char *family_id, time_t now,
                             char token[BL_REFRESH_TOKEN_SIZE], char family_out[BL_API_ID_MAX], bl_err *err)
{
    char hash[BL_SHA256_HEX_SIZE], expires[24];
    if (bl_random_token(BL_REFRESH_PREFIX, 32, token, BL_REFRESH_TOKEN_SIZE, err) != 0 ||
        bl_sha256_hex(token, strlen(token), hash, err) != 0)
        return -1;
    snprintf(expires, sizeof expires, "%lld", (long long)now + BL_SESSION_REFRESH_TTL_S);
    const char *params[] = {user_id, family_id, hash, expires};
    PGresult *r = bl_pg_exec(conn,
                             "INSERT INTO api_refresh_tokens (user_id, family_id, token_sha256, expires_at)"
                             " VALUES ($1, coalesce($2::uuid, gen_random_uuid()), $3, to_timestamp($4::bigint))"
                             " RETURNING family_id",
                             4, params, err);
    if (!r)
        return bl_err_wrap(err, "session: issue refresh token");
    if (family_out)
        snprintf(family_out, BL_API_ID_MAX, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return 0;
}

/* Fills auth from a user row: id, organization_id, permission, plan. */
static void auth_from_user(PGresult *r, int row, int col, bl_api_auth *auth)
{
    memset(auth, 0, sizeof *auth);
    snprintf(auth->user_id, sizeof auth->user_id, "%s", PQgetvalue(r, row, col));
    snprintf(auth->org_id, sizeof auth->org_id, "%s", PQgetvalue(r, row, col + 1));
    auth->perm = bl_api_perm_parse(PQgetvalue(r, row, col + 2));
    if (bl_api_plan_parse(PQgetvalue(r, row, col + 3), &auth->plan) != 0)
        auth->plan = BL_API_PLAN_DEMO;
}

typedef struct rotate_work {
    const char *hash;
    time_t now;
    char *next;
    bl_api_auth *auth;
    bl_session_revocations *local;
    int verdict;
    char refusal[96];
} rotate_work;

static int rotate_in_tx(PGconn *conn, void *arg, bl_err *err)
{
    rotate_work *w = arg;
    char now_text[24];
    snprintf(now_text, sizeof now_text, "%lld", (long long)w->now);
    const char *params[] = {w->hash, now_text};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT t.id, t.family_id, t.revoked_at IS NOT NULL,"
                             " t.expires_at <= to_timestamp($2::bigint), u.active,"
                             " u.id, u.organization_id, u.permission, o.plan"
                             " FROM api_refresh_tokens t JOIN api_users u ON u.id = t.user_id"
                             " JOIN api_organizations o ON o.id = u.organization_id"
                             " WHERE t.token_sha256 = $1 FOR UPDATE OF t",
                             2, params, err);
    if (!r)
        return -1;
    int rc = 0;
    w->verdict = 0;
    if (PQntuples(r) != 1) {
        snprintf(w->refusal, sizeof w->refusal, "refresh token not recognised");
    } else if (strcmp(PQgetvalue(r, 0, 2), "t") == 0) {
        /* A spent token came back: someone holds a copy. End the session,
         * its access tokens included. */
        const char *fam[] = {PQgetvalue(r, 0, 1)};
        rc = bl_pg_exec_cmd(conn,
                            "UPDATE api_refresh_tokens SET revoked_at = now()"
                            " WHERE family_id = $1 AND revoked_at IS NULL",
                            1, fam, err);
        if (rc == 0 && bl_session_revocations_record(conn, w->local, "SELECT $1::text", 1, fam, err) < 0)
            rc = -1;
        snprintf(w->refusal, sizeof w->refusal, "refresh token reused: the session is revoked");
    } else if (strcmp(PQgetvalue(r, 0, 3), "t") == 0 || strcmp(PQgetvalue(r, 0, 4), "t") != 0) {
        snprintf(w->refusal, sizeof w->refusal, "refresh token expired");
    } else {
        const char *id[] = {PQgetvalue(r, 0, 0)};
        auth_from_user(r, 0, 5, w->auth);
        rc = bl_pg_exec_cmd(conn, "UPDATE api_refresh_tokens SET revoked_at = now() WHERE id = $1", 1, id, err);
        if (rc == 0)
            rc = bl_session_refresh_issue(conn, w->auth->user_id, PQgetvalue(r, 0, 1), w->now, w->next,
                                          w->auth->session_id, err);
        w->verdict = rc == 0 ? 1 : 0;
    }
    PQclear(r);
    return rc;
}

static int token_hash(const char *token, char hash[BL_SHA256_HEX_SIZE], bl_err *err)
{
    if (!token || strlen(token) >= BL_REFRESH_TOKEN_SIZE)
        return bl_err_set(err, BL_ENOTFOUND, "refresh token not recognised");
    return bl_sha256_hex(token, strlen(token), hash, err);
}

int bl_session_refresh_rotate(PGconn *conn, bl_session_revocations *local, const char *token, time_t now,
                              char next[BL_REFRESH_TOKEN_SIZE], bl_api_auth *auth, bl_err *err)
{
    char hash[BL_SHA256_HEX_SIZE];
    if (token_hash(token, hash, err) != 0)
        return err && err->code == BL_ENOTFOUND ? 0 : -1;
    rotate_work w = {.hash = hash, .now = now, .next = next, .auth = auth, .local = local};
    if (bl_pg_transaction(conn, rotate_in_tx, &w, err) != 0)
        return -1;
    if (w.verdict == 0)
        bl_err_set(err, BL_ENOTFOUND, "%s", w.refusal);
    return w.verdict;
}

int bl_session_logout(PGconn *conn, bl_session_revocations *local, const char *token, bl_err *err)
{
    char hash[BL_SHA256_HEX_SIZE];
    if (token_hash(token, hash, err) != 0)
        return err && err->code == BL_ENOTFOUND ? 0 : -1;
    const char *params[] = {hash};
    int n = bl_session_revocations_record(conn, local,
                                          "UPDATE api_refresh_tokens SET revoked_at = now()"
                                          " WHERE revoked_at IS NULL AND family_id ="
                                          " (SELECT family_id FROM api_refresh_tokens WHERE token_sha256 = $1"
                                          "  AND revoked_at IS NULL) RETURNING family_id",
                                          1, params, err);
    return n < 0 ? -1 : n > 0;
}

int bl_session_logout_bearer(PGconn *conn, bl_session_revocations *local, const char *user_id,
                           const char *session_id, bl_err *err)
{
    if (!session_id || !*session_id) {
        const char *user[] = {user_id};
        return bl_session_revocations_record(conn, local,
                                             "UPDATE api_refresh_tokens SET revoked_at = now()"
                                             " WHERE user_id::text = $1 AND revoked_at IS NULL RETURNING family_id",
                                             1, user, err) < 0
                   ? -1
                   : 0;
    }
    /* the family's refresh tokens, then the session itself (its access
     * tokens), which has no live refresh token left when it was refreshed
     * away already */
    const char *sid[] = {session_id, user_id};
    if (bl_session_revocations_record(conn, local,
                                      "UPDATE api_refresh_tokens SET revoked_at = now()"
                                      " WHERE family_id::text = $1 AND user_id::text = $2 AND revoked_at IS NULL"
                                      " RETURNING family_id",
                                      2, sid, err) < 0 ||
        bl_session_revocations_record(conn, local, "SELECT $1::text", 1, sid, err) < 0)
        return -1;
    return 0;
}

int bl_session_login(PGconn *conn, const char *email, const char *password, const char *totp_code,
                     time_t now, bl_api_auth *auth, bl_err *err)
{
    char lower[321];
    size_t n = strlen(email);
    if (n >= sizeof lower || strlen(password) > BL_PASSWORD_MAX) {
        bl_err_set(err, BL_ENOTFOUND, "email or password not recognised");
        return 0;
    }
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)email[i]);
    const char *params[] = {lower};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT u.password_hash, u.totp_secret, u.active,"
                             " u.id, u.organization_id, u.permission, o.plan"
                             " FROM api_users u JOIN api_organizations o ON o.id = u.organization_id"
                             " WHERE u.email = $1 OR lower(u.username) = $1",
                             1, params, err);
    if (!r)
        return -1;
    int rc = 0;
    if (PQntuples(r) != 1) {
        bl_password_burn(password);
        bl_err_set(err, BL_ENOTFOUND, "email or password not recognised");
    } else if (!bl_password_verify(password, PQgetvalue(r, 0, 0)) ||
               strcmp(PQgetvalue(r, 0, 2), "t") != 0) {
        bl_err_set(err, BL_ENOTFOUND, "email or password not recognised");
    } else if (!PQgetisnull(r, 0, 1) && (!totp_code || !*totp_code)) {
        bl_err_set(err, BL_ENOTFOUND, "a TOTP code is required for this user");
    } else if (!PQgetisnull(r, 0, 1) && !bl_totp_verify(PQgetvalue(r, 0, 1), now, totp_code)) {
        bl_err_set(err, BL_ENOTFOUND, "TOTP code not accepted");
    } else {
        auth_from_user(r, 0, 3, auth);
        rc = 1;
    }
    PQclear(r);
    return rc;
}
