/* Connecting: connect with a single-use state and PKCE, the callback's code
 * exchange, browserless connects, and storing a connected integration with
 * its tokens sealed and its integration.connected event (see oauth.h). */
#include "connectors/oauth/oauth_internal.h"

#include "core/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 7636 S256: base64url(SHA-256(verifier)) without padding. */
static int pkce_challenge(const char *verifier, char *out, size_t cap, bl_err *err)
{
    uint8_t digest[BL_SHA256_LEN];
    if (bl_sha256(verifier, strlen(verifier), digest, err) != 0 ||
        bl_base64_encode(digest, sizeof digest, out, cap, err) != 0)
        return -1;
    for (char *c = out; *c; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    out[strcspn(out, "=")] = '\0';
    return 0;
}

static bool url_shaped(const char *u)
{
    return u && strlen(u) < 1024 && (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0) &&
           !strpbrk(u, " \r\n\t");
}

static const bl_oauth_provider *provider_for(const bl_oauth_store *st, const char *name, bl_err *err)
{
    const bl_oauth_provider *p = bl_oauth_provider_find(name);
    if (!p) {
        bl_err_set(err, BL_OAUTH_E_PROVIDER, "provider '%s' is not supported", name ? name : "");
        return NULL;
    }
    if (p->flow != BL_OAUTH_FLOW_PAT && !st->cfg.apps[oauth_provider_index(p)].client_id[0]) {
        bl_err_set(err, BL_OAUTH_E_PROVIDER, "provider '%s' has no OAuth app configured", name);
        return NULL;
    }
    return p;
}

int bl_oauth_begin(bl_oauth_store *st, const char *provider, const char *org_id,
                   const char *redirect_uri, const char *scopes, const json_t *settings,
                   bl_oauth_begin_result *out, bl_err *err)
{
    const bl_oauth_provider *p = provider_for(st, provider, err);
    if (!p)
        return -1;
    if (p->flow != BL_OAUTH_FLOW_CODE)
        return bl_err_set(err, BL_OAUTH_E_PROVIDER, "%s connects without a browser: send its credentials",
                          p->name);
    if (!url_shaped(redirect_uri))
        return bl_err_set(err, BL_EINVAL, "redirect_uri must be an http(s) URL");
    memset(out, 0, sizeof *out);
    char hash[BL_SHA256_HEX_SIZE], verifier[64] = "", challenge[64] = "", url[BL_OAUTH_URL_MAX];
    char *sealed = NULL, *settings_text = NULL;
    int rc = -1;
    if (bl_random_token("st_", 32, out->state, sizeof out->state, err) != 0 ||
        bl_sha256_hex(out->state, strlen(out->state), hash, err) != 0 ||
        oauth_url(st, p, p->authorize_url, settings, url, sizeof url, err) != 0)
        goto done;
    if (p->pkce) {
        if (bl_random_token("", 32, verifier, sizeof verifier, err) != 0 ||
            pkce_challenge(verifier, challenge, sizeof challenge, err) != 0 ||
            !(sealed = bl_keyring_seal(st->kr, verifier, strlen(verifier), hash, strlen(hash), err)))
            goto done;
    }
    settings_text = settings ? json_dumps(settings, JSON_COMPACT) : strdup("{}");
    PGconn *conn = bl_pg_pool_acquire(st->pool, 5000, err);
    if (!conn || !settings_text)
        goto done;
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%d", st->cfg.state_ttl_s);
    const char *params[] = {hash, org_id, p->name, redirect_uri, sealed, settings_text, ttl};
    PGresult *r = bl_pg_exec(conn,
                             "INSERT INTO oauth_states (state_sha256, organization_id, provider, redirect_uri,"
                             " code_verifier_ciphertext, settings, expires_at) VALUES ($1, $2, $3, $4, $5,"
                             " $6::jsonb, now() + make_interval(secs => $7::int))"
                             " RETURNING extract(epoch FROM expires_at)::bigint",
                             7, params, err);
    bl_pg_pool_release(st->pool, conn);
    if (!r)
        goto done;
    out->expires_at = (time_t)atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    char query[BL_OAUTH_URL_MAX] = "";
    const bl_oauth_app *app = &st->cfg.apps[oauth_provider_index(p)];
    int bad = oauth_form_add(query, sizeof query, "client_id", app->client_id) |
              oauth_form_add(query, sizeof query, "response_type", "code") |
              oauth_form_add(query, sizeof query, "redirect_uri", redirect_uri) |
              oauth_form_add(query, sizeof query, "scope", scopes && *scopes ? scopes : p->scopes) |
              oauth_form_add(query, sizeof query, "state", out->state);
    if (p->pkce)
        bad |= oauth_form_add(query, sizeof query, "code_challenge", challenge) |
               oauth_form_add(query, sizeof query, "code_challenge_method", "S256");
    int n = snprintf(out->authorization_url, sizeof out->authorization_url, "%s?%s%s%s", url, query,
                     p->authorize_extra ? "&" : "", p->authorize_extra ? p->authorize_extra : "");
    if (bad || n < 0 || (size_t)n >= sizeof out->authorization_url) {
        bl_err_set(err, BL_EINVAL, "oauth: authorization URL too long");
        goto done;
    }
    out->pkce = p->pkce;
    rc = 0;
done:
    memset(verifier, 0, sizeof verifier);
    free(sealed);
    free(settings_text);
    return rc;
}

/* Scopes as a Postgres text[] literal built by string_to_array in SQL. */
static int store_connected(bl_oauth_store *st, const bl_oauth_provider *p, const char *org_id,
                           const char *settings_text, const oauth_tokens *t, const char *actor,
                           char *id_out, const bl_oauth_change *change, bl_err *err)
{
    char id[BL_UUID_SIZE], expires[24], sep[2] = {p->scope_separator, '\0'};
    char *access = NULL, *refresh = NULL;
    PGconn *conn = NULL;
    int rc = -1;
    if (bl_uuid_random(id, err) != 0 ||
        !(access = bl_keyring_seal(st->kr, t->access_token, strlen(t->access_token), id, strlen(id), err)) ||
        (t->refresh_token &&
         !(refresh = bl_keyring_seal(st->kr, t->refresh_token, strlen(t->refresh_token), id, strlen(id), err))) ||
        !(conn = bl_pg_pool_acquire(st->pool, 5000, err)))
        goto done;
    snprintf(expires, sizeof expires, "%ld", t->expires_in);
    const char *params[] = {id, org_id, p->name, p->type, settings_text, access, refresh, expires,
                            t->scope ? t->scope : "", sep, t->account, actor};
    if (bl_pg_begin(conn, err) != 0)
        goto done;
    if (change && change->fn(conn, "connect", id, 0, change->ctx, err) != 0) {
        bl_pg_rollback(conn, &(bl_err){0});
        goto done;
    }
    PGresult *r = bl_pg_exec(conn,
                             "INSERT INTO integrations (id, organization_id, provider, type, status, settings,"
                             " access_token_ciphertext, refresh_token_ciphertext, token_expires_at, scopes,"
                             " account_name, connected_by) VALUES ($1, $2, $3, $4, 'connected', $5::jsonb, $6, $7,"
                             " CASE WHEN $8::bigint > 0 THEN now() + make_interval(secs => $8::bigint) END,"
                             " array_remove(string_to_array($9, $10), ''), $11, $12) RETURNING to_json(scopes)::text",
                             12, params, err);
    json_t *scopes = r ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    json_t *data = scopes ? json_pack("{s:s, s:s, s:s?, s:s?, s:o}", "integration_id", id, "provider", p->name,
                                      "account_name", t->account, "connected_by", actor, "scopes", scopes)
                          : NULL;
    if (!data || bl_oauth_append_event(st, conn, "integration.connected", org_id, id, data, err) != 0 ||
        (change && change->fn(conn, "connect", id, 1, change->ctx, err) != 0) || bl_pg_commit(conn, err) != 0) {
        json_decref(data);
        bl_err tmp = {0};
        bl_pg_rollback(conn, &tmp);
        if (!err->msg[0])
            bl_err_set(err, BL_ENOMEM, "oauth: out of memory");
        goto done;
    }
    json_decref(data);
    snprintf(id_out, BL_UUID_SIZE, "%s", id);
    rc = 0;
done:
    bl_pg_pool_release(st->pool, conn);
    free(access);
    free(refresh);
    return rc;
}

/* Consumes a state: returns its row (redirect_uri, sealed verifier,
 * settings) or NULL with err OAUTH_ERROR saying why. */
static PGresult *consume_state(bl_oauth_store *st, PGconn *conn, const char *hash, const char *org_id,
                               const char *provider, bl_err *err)
{
    const char *params[] = {hash, org_id, provider};
    PGresult *r = bl_pg_exec(conn,
                             "UPDATE oauth_states SET used_at = now() WHERE state_sha256 = $1"
                             " AND organization_id = $2 AND provider = $3 AND used_at IS NULL"
                             " AND expires_at > now()"
                             " RETURNING redirect_uri, code_verifier_ciphertext, settings::text",
                             3, params, err);
    if (!r || PQntuples(r) == 1)
        return r;
    PQclear(r);
    r = bl_pg_exec(conn,
                   "SELECT used_at IS NOT NULL, expires_at <= now() FROM oauth_states WHERE state_sha256 = $1"
                   " AND organization_id = $2 AND provider = $3",
                   3, params, err);
    if (!r)
        return NULL;
    const char *why = PQntuples(r) == 0                        ? "the state is unknown"
                      : strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? "the state was already used"
                                                               : "the state has expired";
    PQclear(r);
    (void)st;
    bl_err_set(err, BL_OAUTH_E_OAUTH, "%s: start again with connect", why);
    return NULL;
}

int bl_oauth_complete(bl_oauth_store *st, const char *provider, const char *org_id,
                      const char *state, const char *code, const char *actor, char *id_out,
                      const bl_oauth_change *change, bl_err *err)
{
    const bl_oauth_provider *p = provider_for(st, provider, err);
    if (!p)
        return -1;
    if (!state || !*state || !code || !*code || strlen(code) > 2048)
        return bl_err_set(err, BL_EINVAL, "state and code are required");
    char hash[BL_SHA256_HEX_SIZE], url[BL_OAUTH_URL_MAX];
    if (bl_sha256_hex(state, strlen(state), hash, err) != 0)
        return -1;
    PGconn *conn = bl_pg_pool_acquire(st->pool, 5000, err);
    if (!conn)
        return -1;
    PGresult *r = consume_state(st, conn, hash, org_id, p->name, err);
    bl_pg_pool_release(st->pool, conn);
    if (!r)
        return -1;
    uint8_t *verifier = NULL;
    size_t vlen = 0;
    int rc = -1;
    oauth_tokens t = {0};
    json_t *settings = json_loads(PQgetvalue(r, 0, 2), 0, NULL);
    if (!PQgetisnull(r, 0, 1) &&
        bl_keyring_open(st->kr, PQgetvalue(r, 0, 1), hash, strlen(hash), &verifier, &vlen, err) != 0)
        goto done;
    if (oauth_url(st, p, p->token_url, settings, url, sizeof url, err) != 0)
        goto done;
    const char *params[] = {"grant_type", "authorization_code", "code", code, "redirect_uri",
                            PQgetvalue(r, 0, 0), verifier ? "code_verifier" : NULL, (char *)verifier, NULL};
    if (oauth_token_request(st, p, url, params, org_id, NULL, "token", BL_OAUTH_E_OAUTH, &t, err) != 0)
        goto done;
    rc = store_connected(st, p, org_id, PQgetvalue(r, 0, 2), &t, actor, id_out, change, err);
done:
    if (verifier) {
        memset(verifier, 0, vlen);
        free(verifier);
    }
    oauth_tokens_clear(&t);
    json_decref(settings);
    PQclear(r);
    return rc;
}

/* The token request of a browserless flow (also its "refresh"). */
int oauth_grant_direct(bl_oauth_store *st, const bl_oauth_provider *p, const json_t *settings,
                       const char *org_id, const char *integration_id, int refused_code,
                       oauth_tokens *t, bl_err *err)
{
    char url[BL_OAUTH_URL_MAX];
    if (oauth_url(st, p, p->token_url, settings, url, sizeof url, err) != 0)
        return -1;
    if (p->flow == BL_OAUTH_FLOW_ACCOUNT_CREDENTIALS) { /* Zoom: the grant rides in the query */
        const char *account = json_string_value(json_object_get(settings, "account_id"));
        size_t n = strlen(url);
        char q[BL_OAUTH_URL_MAX] = "";
        if (!account || oauth_form_add(q, sizeof q, "grant_type", "account_credentials") != 0 ||
            oauth_form_add(q, sizeof q, "account_id", account) != 0 || n + strlen(q) + 2 > sizeof url)
            return bl_err_set(err, BL_EINVAL, "settings.account_id is required");
        url[n] = '?';
        memcpy(url + n + 1, q, strlen(q) + 1);
        const char *params[] = {NULL};
        return oauth_token_request(st, p, url, params, org_id, integration_id, "token", refused_code, t, err);
    }
    const char *params[] = {"grant_type", "client_credentials", "scope", p->app_scopes, NULL};
    return oauth_token_request(st, p, url, params, org_id, integration_id, "token", refused_code, t, err);
}

int bl_oauth_connect_direct(bl_oauth_store *st, const char *provider, const char *org_id,
                            const json_t *settings, const char *secret, const char *actor,
                            char *id_out, const bl_oauth_change *change, bl_err *err)
{
    const bl_oauth_provider *p = provider_for(st, provider, err);
    if (!p)
        return -1;
    const char *mode = json_string_value(json_object_get(settings, "mode"));
    bool app_only = p->client_credentials && mode && strcmp(mode, "client_credentials") == 0;
    if (p->flow == BL_OAUTH_FLOW_CODE && !app_only)
        return bl_err_set(err, BL_OAUTH_E_PROVIDER, "%s connects through its authorization URL", p->name);
    oauth_tokens t = {0};
    if (p->flow == BL_OAUTH_FLOW_PAT) {
        if (!secret || !*secret || strlen(secret) > 512)
            return bl_err_set(err, BL_EINVAL, "a personal access token (pat) is required");
        char probe[BL_OAUTH_URL_MAX];
        if (oauth_url(st, p, p->whoami_url, settings, probe, sizeof probe, err) != 0)
            return -1;
        if (!(t.access_token = strdup(secret)))
            return bl_err_set(err, BL_ENOMEM, "oauth: out of memory");
    } else if (oauth_grant_direct(st, p, settings, org_id, NULL, BL_OAUTH_E_OAUTH, &t, err) != 0) {
        return -1;
    }
    char *settings_text = settings ? json_dumps(settings, JSON_COMPACT) : strdup("{}");
    int rc = settings_text ? store_connected(st, p, org_id, settings_text, &t, actor, id_out, change, err)
                           : bl_err_set(err, BL_ENOMEM, "oauth: out of memory");
    free(settings_text);
    oauth_tokens_clear(&t);
    return rc;
}
