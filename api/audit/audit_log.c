/* The audit trail of configuration changes (see audit_log.h). */
#include "api/audit/audit_log.h"

#include "api/auth/keys.h"
#include "core/pg_pool.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

/* The tables whose rows are audited, each with its id column: only these
 * names ever reach SQL text. */
static const struct {
    const char *table, *id_column;
} audited[] = {
    {"api_keys", "id"},
    {"webhook_endpoints", "id"},
    {"custom_apis", "id"},
    {"workflows", "id"},
    {"integrations", "id"},
    {"api_users", "id"},
    {"fieldservice_integrations", "id"},
    {"alert_rules", "id"},
};

static const char *id_column_of(const char *table)
{
    for (size_t i = 0; table && i < sizeof audited / sizeof audited[0]; i++)
        if (strcmp(audited[i].table, table) == 0)
            return audited[i].id_column;
    return NULL;
}

bl_audit_actor bl_audit_actor_of(const bl_api_request *req)
{
    bl_audit_actor a = {.request_id = bl_http_request_id(req->http)};
    if (req->auth) {
        a.org_id = req->auth->org_id;
        a.key_id = req->auth->key_id;
        a.user_id = req->auth->user_id;
        a.session_id = req->auth->session_id;
    }
    return a;
}

/* Parts of a field name that mark its value as a secret. */
static const char *const secret_words[] = {
    "secret", "token", "password", "passwd", "sealed", "credential", "private_key", "privatekey",
    "sha256", "authorization", "api_key", "apikey", "api-key", "signing_key", "cookie", NULL,
};

bool bl_audit_field_is_secret(const char *name)
{
    char lower[128];
    size_t n = 0;
    for (; name && name[n] && n + 1 < sizeof lower; n++)
        lower[n] = (char)tolower((unsigned char)name[n]);
    lower[n] = '\0';
    for (size_t i = 0; secret_words[i]; i++)
        if (strstr(lower, secret_words[i]))
            return true;
    return false;
}

/* A keyring-sealed value ("v1.<key id>.<base64>"), a webhook secret or an API key token. */
static bool secret_shaped(const char *s)
{
    if (strncmp(s, "whsec_", 6) == 0 || strncmp(s, BL_API_KEY_PREFIX, strlen(BL_API_KEY_PREFIX)) == 0)
        return true;
    if (strncmp(s, "v1.", 3) != 0)
        return false;
    const char *dot = strchr(s + 3, '.');
    if (!dot || dot == s + 3 || strlen(dot + 1) < 16)
        return false;
    for (const char *p = dot + 1; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '+' && *p != '/' && *p != '=' && *p != '-' && *p != '_')
            return false;
    return true;
}

json_t *bl_audit_redact(const json_t *v)
{
    if (!v)
        return json_null();
    if (json_is_string(v))
        return secret_shaped(json_string_value(v)) ? json_string(BL_AUDIT_REDACTED) : json_deep_copy(v);
    if (json_is_array(v)) {
        json_t *out = json_array();
        for (size_t i = 0; out && i < json_array_size(v); i++)
            if (json_array_append_new(out, bl_audit_redact(json_array_get(v, i))) != 0) {
                json_decref(out);
                return NULL;
            }
        return out;
    }
    if (!json_is_object(v))
        return json_deep_copy(v);
    json_t *out = json_object();
    const char *k;
    json_t *item;
    json_object_foreach((json_t *)v, k, item)
    {
        if (!out)
            break;
        json_t *copy = bl_audit_field_is_secret(k) && !json_is_null(item) && !json_is_boolean(item)
                           ? json_string(BL_AUDIT_REDACTED)
                           : bl_audit_redact(item);
        if (json_object_set_new(out, k, copy) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

int bl_audit_snapshot(PGconn *conn, const char *table, const char *id, json_t **out, bl_err *err)
{
    *out = NULL;
    const char *col = id_column_of(table);
    if (!col)
        return bl_err_set(err, BL_EINVAL, "audit: %.64s is not an audited table", table ? table : "");
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT to_jsonb(t)::text FROM %s t WHERE t.%s::text = $1", table, col);
    const char *params[] = {id};
    PGresult *r = bl_pg_exec(conn, sql, 1, params, err);
    if (!r)
        return bl_err_wrap(err, "audit: snapshot");
    json_t *row = PQntuples(r) ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : json_null();
    PQclear(r);
    *out = row ? bl_audit_redact(row) : NULL;
    json_decref(row);
    return *out ? 0 : bl_err_set(err, BL_ENOMEM, "audit: out of memory");
}

int bl_audit_change_begin(PGconn *conn, bl_audit_change *ch, bl_err *err)
{
    json_decref(ch->before);
    ch->before = NULL;
    return bl_audit_snapshot(conn, ch->table, ch->entity_id, &ch->before, err);
}

int bl_audit_change_end(PGconn *conn, const bl_audit_actor *who, bl_audit_change *ch, bl_err *err)
{
    json_t *after = NULL;
    int rc = bl_audit_snapshot(conn, ch->table, ch->entity_id, &after, err);
    if (rc == 0)
        rc = bl_audit_append(conn, who, ch->entity_type, ch->entity_id, ch->action, ch->before, after, err);
    json_decref(after);
    bl_audit_change_clear(ch);
    return rc;
}

void bl_audit_change_clear(bl_audit_change *ch)
{
    json_decref(ch->before);
    ch->before = NULL;
}

static const char *or_null(const char *s)
{
    return s && *s ? s : NULL;
}

/* JSON text of v redacted, or "null"; caller frees. */
static char *redacted_text(const json_t *v)
{
    json_t *r = bl_audit_redact(v);
    char *text = r ? json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(r);
    return text;
}

int bl_audit_append(PGconn *conn, const bl_audit_actor *who, const char *entity_type, const char *entity_id,
                    const char *action, const json_t *before, const json_t *after, bl_err *err)
{
    if (!who || !or_null(who->org_id))
        return bl_err_set(err, BL_EINVAL, "audit: a change without an organization");
    char *b = redacted_text(before), *a = redacted_text(after);
    int rc = -1;
    if (!b || !a) {
        bl_err_set(err, BL_ENOMEM, "audit: out of memory");
        goto done;
    }
    const char *key = or_null(who->key_id), *user = or_null(who->user_id);
    const char *params[] = {who->org_id, key ? "key" : user ? "user" : "system", key ? key : user, key, user,
                            or_null(who->session_id), entity_type, entity_id, action, b, a,
                            or_null(who->request_id)};
    rc = bl_pg_exec_cmd(conn,
                        "INSERT INTO audit_log (organization_id, actor_type, actor_id, key_id, user_id,"
                        " session_id, entity_type, entity_id, action, before, after, request_id)"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12)",
                        12, params, err);
    if (rc != 0)
        bl_err_wrap(err, "audit: append");
done:
    free(b);
    free(a);
    return rc;
}

int bl_audit_created(PGconn *conn, const bl_audit_actor *who, const char *entity_type, const char *table,
                     const char *id, bl_err *err)
{
    bl_audit_change ch = {.entity_type = entity_type, .table = table, .entity_id = id, .action = "create"};
    return bl_audit_change_end(conn, who, &ch, err);
}

int bl_audit_key_create(PGconn *conn, const bl_audit_actor *who, const bl_api_key_spec *spec,
                        char token[BL_API_TOKEN_SIZE], char id[BL_API_ID_MAX], bl_err *err)
{
    if (bl_pg_begin(conn, err) != 0)
        return -1;
    if (bl_api_key_create(conn, spec, token, id, err) == 0 &&
        bl_audit_created(conn, who, "api_key", "api_keys", id, err) == 0 && bl_pg_commit(conn, err) == 0)
        return 0;
    bl_pg_rollback(conn, &(bl_err){0});
    memset(token, 0, BL_API_TOKEN_SIZE);
    return -1;
}

int bl_audit_hook_fn(PGconn *conn, const char *action, const char *id, int phase, void *ctx, bl_err *err)
{
    bl_audit_hook *h = ctx;
    if (phase == 1)
        return bl_audit_change_end(conn, &h->who, &h->change, err);
    bl_audit_change_clear(&h->change);
    snprintf(h->id, sizeof h->id, "%s", id);
    h->change = (bl_audit_change){.entity_type = h->entity_type, .table = h->table, .entity_id = h->id,
                                  .action = action};
    return bl_audit_change_begin(conn, &h->change, err);
}

void bl_audit_hook_clear(bl_audit_hook *hook)
{
    bl_audit_change_clear(&hook->change);
}

int bl_audit_exec(PGconn *conn, const bl_audit_actor *who, bl_audit_change *ch, const char *sql, int n,
                  const char *const *params, PGresult **res_out, bl_err *err)
{
    if (res_out)
        *res_out = NULL;
    if (bl_pg_begin(conn, err) != 0)
        return -1;
    PGresult *r = NULL;
    if (bl_audit_change_begin(conn, ch, err) != 0)
        goto fail;
    if (!(r = bl_pg_exec(conn, sql, n, params, err)))
        goto fail;
    if (PQntuples(r) == 0) {
        bl_err_set(err, BL_ENOTFOUND, "audit: no %.64s %.64s", ch->entity_type, ch->entity_id);
        goto fail;
    }
    if (bl_audit_change_end(conn, who, ch, err) != 0 || bl_pg_commit(conn, err) != 0)
        goto fail;
    if (res_out)
        *res_out = r;
    else
        PQclear(r);
    return 0;
fail:
    PQclear(r);
    bl_audit_change_clear(ch);
    bl_pg_rollback(conn, &(bl_err){0});
    return -1;
}
