/* Calls to a provider's API as an integration: the bearer (or PAT) header,
 * the 401 -> refresh -> retry once rule, health checks through the "who am
 * I" endpoints, and disconnects with revocation (see oauth.h). */
#include "connectors/oauth/oauth_internal.h"

#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ANSWER_BODY_CAP (64 * 1024)

/* One answer with the headers a health check reads. */
typedef struct answer {
    bool done;
    bl_http_sync_result r;
    char scopes[512], rate_limit[32], rate_remaining[32];
} answer;

static void keep_header(answer *a, const bl_http_header *h)
{
    struct {
        const char *name;
        char *out;
        size_t cap;
    } want[] = {{"X-OAuth-Scopes", a->scopes, sizeof a->scopes},
                {"X-RateLimit-Limit", a->rate_limit, sizeof a->rate_limit},
                {"X-RateLimit-Remaining", a->rate_remaining, sizeof a->rate_remaining}};
    for (size_t i = 0; i < 3; i++)
        if (strcasecmp(h->name, want[i].name) == 0)
            snprintf(want[i].out, want[i].cap, "%s", h->value);
}

static void on_done(const bl_http_result *res, void *opaque)
{
    answer *a = opaque;
    a->done = true;
    a->r.transport = res->transport;
    a->r.status = res->status;
    a->r.duration_us = res->duration_us;
    a->r.body = malloc(res->body_len + 1);
    if (a->r.body) {
        memcpy(a->r.body, res->body, res->body_len);
        a->r.body[res->body_len] = '\0';
        a->r.body_len = res->body_len;
    }
    if (res->content_type)
        snprintf(a->r.content_type, sizeof a->r.content_type, "%s", res->content_type);
    if (res->retry_after)
        snprintf(a->r.retry_after, sizeof a->r.retry_after, "%s", res->retry_after);
    for (size_t i = 0; i < res->header_count; i++)
        keep_header(a, &res->headers[i]);
}

/* Runs one request to completion, keeping some headers. 0 when an answer
 * arrived, -1 with err otherwise. */
static int http_do(const bl_oauth_store *st, const char *method, const char *url, const char *const *headers,
                   size_t nh, const char *body, answer *a, bl_err *err)
{
    memset(a, 0, sizeof *a);
    bl_http_client_config hc = {.body_cap = ANSWER_BODY_CAP};
    bl_http_client *c = bl_http_client_new(&hc, err);
    if (!c)
        return -1;
    bl_http_call call = {.method = method, .url = url, .headers = headers, .header_count = nh, .body = body,
                         .body_len = body ? strlen(body) : 0, .timeout_ms = st->cfg.timeout_ms,
                         .on_done = on_done, .opaque = a};
    int rc = bl_http_client_submit(c, &call, err);
    while (rc == 0 && !a->done)
        if (bl_http_client_run(c, 100, err) < 0)
            rc = -1;
    bl_http_client_free(c);
    if (rc == 0 && a->r.transport != BL_HTTP_TRANSPORT_OK)
        rc = bl_err_set(err, BL_OAUTH_E_CONNECTION, "provider unreachable (%s)",
                        bl_http_transport_name(a->r.transport));
    return rc;
}

/* "Authorization: Bearer <token>", or Basic ":<PAT>" for Azure DevOps. */
static int auth_header(const bl_oauth_provider *p, const char *token, char *out, size_t cap, bl_err *err)
{
    if (p->flow != BL_OAUTH_FLOW_PAT) {
        int n = snprintf(out, cap, "Authorization: Bearer %s", token);
        return n > 0 && (size_t)n < cap ? 0 : bl_err_set(err, BL_EINVAL, "oauth: token too long");
    }
    char pair[600];
    snprintf(pair, sizeof pair, ":%s", token);
    memcpy(out, "Authorization: Basic ", 21);
    int rc = bl_base64_encode(pair, strlen(pair), out + 21, cap - 21, err);
    memset(pair, 0, sizeof pair);
    return rc;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

/* The call of bl_oauth_call, keeping headers in *a. */
static int call_as(bl_oauth_store *st, const char *id, const char *method, const char *url, const char *body,
                   const char *content_type, answer *a, bl_err *err)
{
    char authz[1400], ctype[160], org[40] = "", provider[32] = "";
    memset(a, 0, sizeof *a);
    snprintf(ctype, sizeof ctype, "Content-Type: %s", content_type ? content_type : "application/json");
    for (int attempt = 0; attempt < 2; attempt++) {
        char *token = NULL;
        if (oauth_access_token_of(st, id, attempt > 0, &token, org, provider, err) != 0)
            return -1;
        const bl_oauth_provider *p = bl_oauth_provider_find(provider);
        int rc = auth_header(p, token, authz, sizeof authz, err);
        wipe_free(token);
        if (rc != 0)
            return -1;
        const char *headers[] = {authz, "Accept: application/json", ctype};
        if (attempt > 0)
            bl_http_sync_result_clear(&a->r);
        rc = http_do(st, method, url, headers, body ? 3 : 2, body, a, err);
        memset(authz, 0, sizeof authz);
        int code = oauth_classify(p, &a->r, rc);
        oauth_calls_record(st, org, id, provider, "api", code == 0, a->r.status, a->r.duration_us,
                           code ? code : 0);
        if (rc != 0)
            return -1;
        if (code != BL_OAUTH_E_CREDENTIALS)
            return 0; /* an answer; only a refused token is worth a refresh */
    }
    return 0;
}

int bl_oauth_call(bl_oauth_store *st, const char *integration_id, const char *method, const char *url,
                  const char *body, const char *content_type, bl_http_sync_result *out, bl_err *err)
{
    answer a;
    int rc = call_as(st, integration_id, method, url, body, content_type, &a, err);
    *out = a.r;
    return rc;
}

/* The integration's provider and settings, when it belongs to org_id. */
static PGresult *owned_row(bl_oauth_store *st, const char *org_id, const char *id, bl_err *err)
{
    PGconn *conn = bl_pg_pool_acquire(st->pool, 5000, err);
    if (!conn)
        return NULL;
    const char *params[] = {id, org_id};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT provider, settings::text, to_json(scopes)::text, account_name,"
                             " access_token_ciphertext, refresh_token_ciphertext"
                             " FROM integrations WHERE id::text = $1 AND organization_id::text = $2",
                             2, params, err);
    bl_pg_pool_release(st->pool, conn);
    if (r && PQntuples(r) != 1) {
        PQclear(r);
        bl_err_set(err, BL_OAUTH_E_NOT_FOUND, "no integration %s in this organization", id);
        return NULL;
    }
    return r;
}

/* The account a "who am I" answer names, per provider. */
static json_t *account_of(const json_t *me)
{
    static const char *const keys[] = {"email", "userPrincipalName", "displayName", "user", "mail", "name"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = json_string_value(json_object_get(me, keys[i]));
        if (v)
            return json_string(v);
    }
    const char *ado = json_string_value(
        json_object_get(json_object_get(me, "authenticatedUser"), "providerDisplayName"));
    return ado ? json_string(ado) : json_null();
}

json_t *bl_oauth_test(bl_oauth_store *st, const char *org_id, const char *integration_id, bl_err *err)
{
    PGresult *r = owned_row(st, org_id, integration_id, err);
    if (!r)
        return NULL;
    const bl_oauth_provider *p = bl_oauth_provider_find(PQgetvalue(r, 0, 0));
    json_t *settings = json_loads(PQgetvalue(r, 0, 1), 0, NULL);
    json_t *stored_scopes = json_loads(PQgetvalue(r, 0, 2), 0, NULL);
    PQclear(r);
    char url[BL_OAUTH_URL_MAX];
    json_t *out = NULL;
    answer a = {0};
    if (oauth_url(st, p, p->whoami_url, settings, url, sizeof url, err) != 0 ||
        call_as(st, integration_id, p->ok_field ? "POST" : "GET", url, NULL, NULL, &a, err) != 0)
        goto done;
    int code = oauth_classify(p, &a.r, 0);
    if (code != 0) {
        bl_err_set(err, code, "%s answered %ld: %.200s", p->name, a.r.status, a.r.body ? a.r.body : "");
        goto done;
    }
    json_t *me = a.r.body ? json_loadb(a.r.body, a.r.body_len, 0, NULL) : NULL;
    json_t *scopes = stored_scopes;
    if (a.scopes[0]) { /* what the provider says now beats what was granted then */
        scopes = json_array();
        char *save = NULL;
        for (char *s = strtok_r(a.scopes, ", ", &save); s && scopes; s = strtok_r(NULL, ", ", &save))
            json_array_append_new(scopes, json_string(s));
    } else {
        json_incref(scopes);
    }
    json_t *quota = a.rate_remaining[0]
                        ? json_pack("{s:I, s:I}", "limit", (json_int_t)atoll(a.rate_limit), "remaining",
                                    (json_int_t)atoll(a.rate_remaining))
                        : json_null();
    out = json_pack("{s:b, s:s, s:I, s:o, s:o, s:o, s:I}", "healthy", 1, "provider", p->name, "http_status",
                    (json_int_t)a.r.status, "account", account_of(me), "scopes", scopes ? scopes : json_array(),
                    "quota", quota, "duration_ms", (json_int_t)(a.r.duration_us / 1000));
    json_decref(me);
    if (!out)
        bl_err_set(err, BL_ENOMEM, "oauth: out of memory");
done:
    bl_http_sync_result_clear(&a.r);
    json_decref(settings);
    json_decref(stored_scopes);
    return out;
}

/* Revokes at providers documenting it: Google (form token=, the refresh
 * token revokes the grant), Zoom (Basic, token in the query), Slack
 * (auth.revoke with the token as bearer). Returns true when it answered 2xx. */
static bool revoke(bl_oauth_store *st, const bl_oauth_provider *p, const char *org_id, const char *id,
                   const json_t *settings, const char *access, const char *refresh)
{
    char url[BL_OAUTH_URL_MAX], form[2048] = "", authz[1400] = "", basic[800];
    bl_err err = {0};
    if (!p->revoke_url || oauth_url(st, p, p->revoke_url, settings, url, sizeof url, &err) != 0)
        return false;
    const char *headers[3] = {"Content-Type: application/x-www-form-urlencoded", NULL, NULL};
    size_t nh = 1;
    const bl_oauth_app *app = &st->cfg.apps[oauth_provider_index(p)];
    if (p->ok_field) { /* Slack */
        snprintf(authz, sizeof authz, "Authorization: Bearer %s", access);
        headers[nh++] = authz;
    } else if (p->basic_client_auth) { /* Zoom */
        char q[1600] = "";
        oauth_form_add(q, sizeof q, "token", access);
        size_t n = strlen(url);
        if (n + strlen(q) + 2 > sizeof url)
            return false;
        url[n] = '?';
        memcpy(url + n + 1, q, strlen(q) + 1);
        snprintf(form, sizeof form, "%s:%s", app->client_id, app->client_secret);
        memcpy(basic, "Authorization: Basic ", 21);
        if (bl_base64_encode(form, strlen(form), basic + 21, sizeof basic - 21, &err) != 0)
            return false;
        form[0] = '\0';
        headers[nh++] = basic;
    } else {
        oauth_form_add(form, sizeof form, "token", refresh ? refresh : access);
    }
    answer a;
    int rc = http_do(st, "POST", url, headers, nh, form, &a, &err);
    int code = oauth_classify(p, &a.r, rc);
    oauth_calls_record(st, org_id, id, p->name, "revoke", code == 0, a.r.status, a.r.duration_us, code);
    memset(form, 0, sizeof form);
    memset(authz, 0, sizeof authz);
    memset(basic, 0, sizeof basic);
    memset(url, 0, sizeof url);
    bl_http_sync_result_clear(&a.r);
    if (code != 0)
        bl_log_warn("oauth: revocation failed", BL_FS("integration_id", id), BL_FS("provider", p->name),
                    BL_FS("error", rc != 0 ? err.msg : "refused"));
    return code == 0;
}

/* Revokes the stored tokens of integration_id of org_id at the provider
 * (when it has an endpoint); *p gets the provider. */
static int revoke_stored(bl_oauth_store *st, const char *org_id, const char *integration_id, bool *revoked,
                         const bl_oauth_provider **pp, bl_err *err)
{
    *revoked = false;
    PGresult *r = owned_row(st, org_id, integration_id, err);
    if (!r)
        return -1;
    const bl_oauth_provider *p = bl_oauth_provider_find(PQgetvalue(r, 0, 0));
    json_t *settings = json_loads(PQgetvalue(r, 0, 1), 0, NULL);
    bl_err tmp = {0};
    char *access = NULL;
    uint8_t *plain = NULL, *plain_refresh = NULL;
    size_t len = 0;
    if (!PQgetisnull(r, 0, 4) && bl_keyring_open(st->kr, PQgetvalue(r, 0, 4), integration_id,
                                                  strlen(integration_id), &plain, &len, &tmp) == 0)
        access = (char *)plain;
    if (!PQgetisnull(r, 0, 5))
        bl_keyring_open(st->kr, PQgetvalue(r, 0, 5), integration_id, strlen(integration_id), &plain_refresh,
                        &len, &tmp);
    PQclear(r);
    if (access && p && p->flow != BL_OAUTH_FLOW_PAT)
        *revoked = revoke(st, p, org_id, integration_id, settings, access, (char *)plain_refresh);
    wipe_free(access);
    wipe_free((char *)plain_refresh);
    json_decref(settings);
    *pp = p;
    if (!p)
        return bl_err_set(err, BL_OAUTH_E_PROVIDER, "integration %s has an unknown provider", integration_id);
    return 0;
}

int bl_oauth_revoke_tokens(bl_oauth_store *st, const char *org_id, const char *integration_id, bool *revoked,
                           bl_err *err)
{
    const bl_oauth_provider *p = NULL;
    if (revoke_stored(st, org_id, integration_id, revoked, &p, err) != 0)
        return -1;
    PGconn *conn = bl_pg_pool_acquire(st->pool, 5000, err);
    if (!conn)
        return -1;
    const char *params[] = {integration_id, org_id};
    int rc = bl_pg_exec_cmd(conn, "UPDATE integrations SET status = 'disconnected', access_token_ciphertext = NULL,"
                                  " refresh_token_ciphertext = NULL, token_expires_at = NULL, updated_at = now()"
                                  " WHERE id::text = $1 AND organization_id::text = $2", 2, params, err);
    bl_pg_pool_release(st->pool, conn);
    return rc;
}

/* Revokes, then deletes the row (keep false) or keeps it disconnected with
 * its tokens cleared (keep true), appending integration.disconnected. */
static int disconnect(bl_oauth_store *st, const char *org_id, const char *integration_id, const char *actor,
                      bool keep, bool *revoked, const bl_oauth_change *change, bl_err *err)
{
    const bl_oauth_provider *p = NULL;
    if (revoke_stored(st, org_id, integration_id, revoked, &p, err) != 0)
        return -1;
    bl_err tmp = {0};

    PGconn *conn = bl_pg_pool_acquire(st->pool, 5000, err);
    if (!conn)
        return -1;
    int rc = -1;
    const char *params[] = {integration_id, org_id};
    json_t *data = json_pack("{s:s, s:s, s:s, s:s?}", "integration_id", integration_id, "provider", p->name,
                             "reason", *revoked ? "disconnected by a user; tokens revoked" : "disconnected by a user",
                             "disconnected_by", actor);
    if (data && bl_pg_begin(conn, err) == 0) {
        PGresult *d = change && change->fn(conn, "disconnect", integration_id, 0, change->ctx, err) != 0
                          ? NULL
                          : bl_pg_exec(conn,
                                 keep ? "UPDATE integrations SET status = 'disconnected', access_token_ciphertext = NULL,"
                                        " refresh_token_ciphertext = NULL, token_expires_at = NULL, auto_sync = false,"
                                        " next_sync_at = NULL, disconnected_at = now(), updated_at = now()"
                                        " WHERE id::text = $1 AND organization_id::text = $2 RETURNING id"
                                      : "DELETE FROM integrations WHERE id::text = $1 AND organization_id::text = $2"
                                        " RETURNING id",
                                 2, params, err);
        int found = d && PQntuples(d) == 1;
        PQclear(d);
        if (d && !found)
            bl_err_set(err, BL_OAUTH_E_NOT_FOUND, "no integration %s in this organization", integration_id);
        if (found && bl_oauth_append_event(st, conn, "integration.disconnected", org_id, integration_id, data,
                                           err) == 0 &&
            (!change || change->fn(conn, "disconnect", integration_id, 1, change->ctx, err) == 0) &&
            bl_pg_commit(conn, err) == 0)
            rc = 0;
        else
            bl_pg_rollback(conn, &tmp);
    }
    json_decref(data);
    bl_pg_pool_release(st->pool, conn);
    return rc;
}

int bl_oauth_disconnect(bl_oauth_store *st, const char *org_id, const char *integration_id, const char *actor,
                        bool *revoked, const bl_oauth_change *change, bl_err *err)
{
    return disconnect(st, org_id, integration_id, actor, false, revoked, change, err);
}

int bl_oauth_disconnect_keep(bl_oauth_store *st, const char *org_id, const char *integration_id, const char *actor,
                             bool *revoked, const bl_oauth_change *change, bl_err *err)
{
    return disconnect(st, org_id, integration_id, actor, true, revoked, change, err);
}
