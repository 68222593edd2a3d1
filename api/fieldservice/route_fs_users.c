/* /api/utilisateurs/: the organization's users, admin only (the route
 * access; anyone else gets 403 AUTHORIZATION_ERROR). Create checks every
 * field at once (password and confirmation equal, consentement_rgpd true,
 * user name and email free), stores the user with a hashed password, and
 * appends user.created to the outbox in the same transaction. The role
 * gives the permission level of api/auth: admin -> admin, the others
 * (manager, dispatcher, technicien) -> write. */
#include "api/audit/audit_log.h"
#include "api/auth/password.h"
#include "api/fieldservice/fs_common.h"
#include "api/routes/routes.h"

#include "core/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_JSON                                                                                        \
    "json_build_object('id', id, 'nom_utilisateur', coalesce(username, email), 'email', email,"        \
    " 'nom', last_name, 'prenom', first_name, 'role', coalesce(role, permission),"                      \
    " 'consentement_rgpd', gdpr_consent_at IS NOT NULL, 'actif', active, 'date_creation', created_at)"

typedef struct role_row {
    const char *role;       /* the document's word */
    const char *permission; /* api_users.permission */
    const char *event_role; /* the UserRole symbol of user.created */
} role_row;

static const role_row roles[] = {
    {"admin", "admin", "ADMIN"},
    {"manager", "write", "MANAGER"},
    {"dispatcher", "write", "DISPATCHER"},
    {"technicien", "write", "TECHNICIAN"},
};

static const role_row *role_find(const char *role)
{
    for (size_t i = 0; role && i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(roles[i].role, role) == 0)
            return &roles[i];
    return NULL;
}

static int list_users(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    long page, size;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    bl_fs_page_read(req->http, &page, &size, errors);
    if (json_object_size(errors) > 0)
        return bl_fs_invalid(req, resp, errors);
    json_decref(errors);
    char limit[24], offset[24];
    snprintf(limit, sizeof limit, "%ld", size);
    snprintf(offset, sizeof offset, "%ld", (page - 1) * size);
    const char *params[] = {req->auth->org_id, limit, offset, "utilisateurs"};
    return bl_fs_answer_query(req, resp, 200,
                              "SELECT json_build_object($4::text, coalesce((SELECT json_agg(u.j ORDER BY u.c, u.i)"
                              "  FROM (SELECT " USER_JSON " AS j, created_at AS c, id AS i FROM api_users"
                              "        WHERE organization_id::text = $1 ORDER BY created_at, id"
                              "        LIMIT $2::bigint OFFSET $3::bigint) u), '[]'::json),"
                              " 'total', (SELECT count(*) FROM api_users WHERE organization_id::text = $1),"
                              " 'page', $3::bigint / $2::bigint + 1, 'size', $2::bigint,"
                              " 'pages', (SELECT (count(*) + $2::bigint - 1) / $2::bigint FROM api_users"
                              "           WHERE organization_id::text = $1))::text",
                              4, params);
}

static bool username_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 150)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
            return false;
    return true;
}

static bool email_ok(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@') || strlen(s) < 3 || strlen(s) > 320)
        return false;
    const char *dot = strrchr(at + 1, '.');
    if (!dot || dot == at + 1 || !dot[1])
        return false;
    for (; *s; s++)
        if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
            return false;
    return true;
}

typedef struct new_user {
    const char *org, *username, *email, *last_name, *first_name, *hash;
    const role_row *role;
    bl_fs_events *events;
    json_t *taken;  /* field errors when the name or email is taken */
    char id[BL_API_ID_MAX];
    bl_audit_actor who; /* the creation's audit row is the request caller's */
} new_user;

static int create_in_tx(PGconn *conn, void *arg, bl_err *err)
{
    new_user *u = arg;
    const char *check[] = {u->username, u->email};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT bool_or(lower(username) = lower($1)), bool_or(email = $2) FROM api_users"
                             " WHERE lower(username) = lower($1) OR email = $2",
                             2, check, err);
    if (!r)
        return -1;
    if (strcmp(PQgetvalue(r, 0, 0), "t") == 0)
        bl_fs_field_error(u->taken, "nom_utilisateur", "this user name is already taken");
    if (strcmp(PQgetvalue(r, 0, 1), "t") == 0)
        bl_fs_field_error(u->taken, "email", "a user with this email already exists");
    PQclear(r);
    if (json_object_size(u->taken) > 0)
        return 0;
    const char *params[] = {u->org, u->email, u->hash, u->role->permission, u->username,
                            u->last_name, u->first_name, u->role->role};
    r = bl_pg_exec(conn,
                   "INSERT INTO api_users (organization_id, email, password_hash, permission, username,"
                   " last_name, first_name, role, gdpr_consent_at)"
                   " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, now()) RETURNING id",
                   8, params, err);
    if (!r)
        return -1;
    snprintf(u->id, sizeof u->id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (bl_audit_created(conn, &u->who, "user", "api_users", u->id, err) != 0)
        return -1;
    char display[256];
    snprintf(display, sizeof display, "%s %s", u->first_name, u->last_name);
    json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:n}", "user_id", u->id, "email", u->email, "display_name",
                             display, "role", u->role->event_role, "phone");
    if (!data)
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    int rc = bl_fs_event_append(u->events, conn, "user.created", u->org, u->id, data, err);
    json_decref(data);
    return rc;
}

static const char *const user_fields[] = {"nom_utilisateur", "email", "nom", "prenom", "mot_de_passe",
                                          "confirmer_mot_de_passe", "role", "consentement_rgpd", NULL};

/* Reads and checks the body into u (lowered email in email_buf); every
 * problem goes into errors. */
static void read_user(const json_t *body, new_user *u, char *email_buf, size_t email_len,
                      const char **password, json_t *errors)
{
    bl_fs_unknown_fields(body, user_fields, errors);
    u->username = bl_fs_string(body, "nom_utilisateur", 150, true, errors);
    if (u->username && !username_ok(u->username))
        bl_fs_field_error(errors, "nom_utilisateur", "3 to 150 letters, digits, '.', '_' or '-'");
    const char *email = bl_fs_string(body, "email", 320, true, errors);
    if (email && !email_ok(email))
        bl_fs_field_error(errors, "email", "not a valid email address");
    else if (email) {
        size_t n = strlen(email);
        for (size_t i = 0; i <= n && i < email_len; i++)
            email_buf[i] = (char)tolower((unsigned char)email[i]);
        u->email = email_buf;
    }
    u->last_name = bl_fs_string(body, "nom", 100, true, errors);
    u->first_name = bl_fs_string(body, "prenom", 100, true, errors);
    *password = bl_fs_string(body, "mot_de_passe", BL_PASSWORD_MAX, true, errors);
    if (*password && strlen(*password) < 8)
        bl_fs_field_error(errors, "mot_de_passe", "at least 8 characters");
    const char *confirm = bl_fs_string(body, "confirmer_mot_de_passe", BL_PASSWORD_MAX, true, errors);
    if (*password && confirm && strcmp(*password, confirm) != 0)
        bl_fs_field_error(errors, "confirmer_mot_de_passe", "the passwords do not match");
    const char *role = bl_fs_string(body, "role", 32, false, errors);
    u->role = role_find(role ? role : "technicien");
    if (!u->role)
        bl_fs_field_error(errors, "role", "one of admin, manager, dispatcher, technicien");
    json_t *consent = json_object_get(body, "consentement_rgpd");
    if (!json_is_true(consent))
        bl_fs_field_error(errors, "consentement_rgpd", "consent to the processing of personal data is required");
}

static int create_user(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    json_t *errors = json_object();
    if (!errors)
        return -1;
    new_user u = {.org = req->auth->org_id, .events = ctx, .who = bl_audit_actor_of(req)};
    char email[321];
    const char *password = NULL;
    const json_t *body = bl_fs_body(req, errors);
    if (body)
        read_user(body, &u, email, sizeof email, &password, errors);
    if (json_object_size(errors) > 0)
        return bl_fs_invalid(req, resp, errors);
    char hash[BL_PASSWORD_HASH_SIZE];
    bl_err err = {0};
    if (bl_password_hash(password, 0, hash, &err) != 0) {
        json_decref(errors);
        return -1;
    }
    u.hash = hash;
    u.taken = errors;
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    int rc = conn ? bl_pg_transaction(conn, create_in_tx, &u, &err) : -1;
    if (conn)
        bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (rc != 0) {
        bl_log_error("api: user not created", BL_FS("request_id", bl_http_request_id(req->http)),
                     BL_FS("error", err.msg));
        json_decref(errors);
        return -1;
    }
    if (json_object_size(errors) > 0)
        return bl_fs_invalid(req, resp, errors);
    json_decref(errors);
    const char *params[] = {u.id};
    return bl_fs_answer_query(req, resp, 201, "SELECT " USER_JSON "::text FROM api_users WHERE id::text = $1", 1,
                              params);
}

static const bl_api_route routes[] = {
    {"GET", "/utilisateurs/", BL_API_ADMIN, list_users},
    {"POST", "/utilisateurs/", BL_API_ADMIN, create_user},
};

int bl_api_routes_fs_users(bl_api_server *s, bl_err *err)
{
    bl_fs_events *events = bl_fs_events_attach(s, err);
    if (!events)
        return -1;
    return bl_api_server_surface_routes(s, BL_API_SURFACE_FIELD_SERVICE, routes, sizeof routes / sizeof routes[0],
                                        events, err);
}
