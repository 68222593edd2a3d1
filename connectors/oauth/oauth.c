/* The store, the token lifecycle (access token, refresh, the 401 retry,
 * INVALID_CREDENTIALS), health checks and disconnects (see oauth.h). */
#include "connectors/oauth/oauth_internal.h"

#include "core/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EVENTS_SOURCE "busline/integrations"

void bl_oauth_config_from_env(bl_oauth_config *cfg)
{
    static const char *const fields[] = {"CLIENT_ID", "CLIENT_SECRET", "BASE_URL"};
    for (size_t i = 0; bl_oauth_provider_at(i); i++) {
        char *out[] = {cfg->apps[i].client_id, cfg->apps[i].client_secret, cfg->apps[i].base_url};
        for (size_t f = 0; f < 3; f++) {
            char name[96];
            int n = snprintf(name, sizeof name, "BUSLINE_OAUTH_%s_%s", bl_oauth_provider_at(i)->name, fields[f]);
            for (int k = 0; k < n; k++)
                name[k] = (char)toupper((unsigned char)name[k]);
            const char *v = getenv(name);
            if (v)
                snprintf(out[f], BL_OAUTH_TEXT_MAX, "%s", v);
        }
    }
}

bl_oauth_store *bl_oauth_store_new(bl_pg_pool *pool, const bl_keyring *kr, const bl_oauth_config *cfg,
                                   bl_err *err)
{
    bl_oauth_store *st = calloc(1, sizeof *st);
    if (!st) {
        bl_err_set(err, BL_ENOMEM, "oauth: out of memory");
        return NULL;
    }
    st->pool = pool;
    st->kr = kr;
    st->cfg = *cfg;
    if (!st->cfg.refresh_margin_s)
        st->cfg.refresh_margin_s = 300;
    if (!st->cfg.state_ttl_s)
        st->cfg.state_ttl_s = 600;
    if (!st->cfg.timeout_ms)
        st->cfg.timeout_ms = 10000;
    if (!st->cfg.calls_batch)
        st->cfg.calls_batch = 64;
    st->cfg.schemas_dir = st->cfg.topic_prefix = NULL;
    pthread_mutex_init(&st->calls_lock, NULL);
    if (!(st->calls = calloc(st->cfg.calls_batch, sizeof *st->calls))) {
        bl_err_set(err, BL_ENOMEM, "oauth: out of memory");
        goto fail;
    }
    st->events = bl_domain_events_new(pool, cfg->schemas_dir, "integration", EVENTS_SOURCE,
                                      cfg->topic_prefix, err);
    if (!st->events)
        goto fail;
    return st;
fail:
    bl_oauth_store_free(st);
    return NULL;
}

void bl_oauth_store_free(bl_oauth_store *st)
{
    if (!st)
        return;
    bl_err err = {0};
    if (st->calls && bl_oauth_store_flush(st, &err) != 0)
        bl_log_warn("oauth: provider calls lost at stop", BL_FS("error", err.msg));
    bl_domain_events_free(st->events);
    free(st->calls);
    pthread_mutex_destroy(&st->calls_lock);
    free(st);
}

int bl_oauth_append_event(bl_oauth_store *st, PGconn *conn_in_tx, const char *type, const char *org_id,
                          const char *integration_id, const json_t *data, bl_err *err)
{
    return bl_domain_events_append(st->events, conn_in_tx, type, org_id, "integration", integration_id,
                                   data, err);
}

/* The row an access token is served from, locked for the transaction. */
typedef struct token_row {
    char org_id[40], provider[32], status[16];
    json_t *settings;
    char *access_sealed, *refresh_sealed;
    bool due;
} token_row;

static void token_row_clear(token_row *t)
{
    json_decref(t->settings);
    free(t->access_sealed);
    free(t->refresh_sealed);
    memset(t, 0, sizeof *t);
}

static int lock_row(bl_oauth_store *st, PGconn *conn, const char *id, token_row *row, bl_err *err)
{
    char margin[24];
    snprintf(margin, sizeof margin, "%d", st->cfg.refresh_margin_s);
    const char *params[] = {id, margin};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT organization_id, provider, status, settings::text, access_token_ciphertext,"
                             " refresh_token_ciphertext, coalesce(token_expires_at <= now()"
                             " + make_interval(secs => $2::int), false)"
                             " FROM integrations WHERE id::text = $1 FOR UPDATE",
                             2, params, err);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return bl_err_set(err, BL_OAUTH_E_NOT_FOUND, "integration %s not found", id);
    }
    snprintf(row->org_id, sizeof row->org_id, "%s", PQgetvalue(r, 0, 0));
    snprintf(row->provider, sizeof row->provider, "%s", PQgetvalue(r, 0, 1));
    snprintf(row->status, sizeof row->status, "%s", PQgetvalue(r, 0, 2));
    row->settings = json_loads(PQgetvalue(r, 0, 3), 0, NULL);
    row->access_sealed = PQgetisnull(r, 0, 4) ? NULL : strdup(PQgetvalue(r, 0, 4));
    row->refresh_sealed = PQgetisnull(r, 0, 5) ? NULL : strdup(PQgetvalue(r, 0, 5));
    row->due = strcmp(PQgetvalue(r, 0, 6), "t") == 0;
    PQclear(r);
    return 0;
}

static char *open_text(const bl_oauth_store *st, const char *sealed, const char *id, bl_err *err)
{
    uint8_t *plain = NULL;
    size_t len = 0;
    if (!sealed) {
        bl_err_set(err, BL_OAUTH_E_CREDENTIALS, "integration %s holds no token", id);
        return NULL;
    }
    if (bl_keyring_open(st->kr, sealed, id, strlen(id), &plain, &len, err) != 0)
        return NULL;
    return (char *)plain;
}

/* Marks the integration `error` with INVALID_CREDENTIALS and appends
 * integration.disconnected, in the transaction open on conn. */
static int mark_invalid(bl_oauth_store *st, PGconn *conn, const char *id, const token_row *row,
                        const char *why, bl_err *err)
{
    const char *params[] = {id, why};
    if (bl_pg_exec_cmd(conn,
                       "UPDATE integrations SET status = 'error', error_count = error_count + 1,"
                       " last_error_code = 'INVALID_CREDENTIALS', last_error_message = $2, updated_at = now()"
                       " WHERE id::text = $1",
                       2, params, err) != 0)
        return -1;
    char reason[300];
    snprintf(reason, sizeof reason, "token refresh refused: %s", why);
    json_t *data = json_pack("{s:s, s:s, s:s, s:n}", "integration_id", id, "provider", row->provider,
                             "reason", reason, "disconnected_by");
    int rc = data ? bl_oauth_append_event(st, conn, "integration.disconnected", row->org_id, id, data, err)
                  : bl_err_set(err, BL_ENOMEM, "oauth: out of memory");
    json_decref(data);
    return rc;
}

/* Asks the provider for a new access token. 0, or -1 with err. */
static int refresh_tokens(bl_oauth_store *st, const bl_oauth_provider *p, const char *id, const token_row *row,
                          oauth_tokens *t, bl_err *err)
{
    if (p->flow == BL_OAUTH_FLOW_PAT)
        return bl_err_set(err, BL_OAUTH_E_CREDENTIALS, "the personal access token was refused");
    const char *mode = json_string_value(json_object_get(row->settings, "mode"));
    if (p->flow == BL_OAUTH_FLOW_ACCOUNT_CREDENTIALS || (mode && strcmp(mode, "client_credentials") == 0))
        return oauth_grant_direct(st, p, row->settings, row->org_id, id, BL_OAUTH_E_CREDENTIALS, t, err);
    char *refresh = open_text(st, row->refresh_sealed, id, err);
    if (!refresh)
        return -1;
    char url[BL_OAUTH_URL_MAX];
    int rc = oauth_url(st, p, p->token_url, row->settings, url, sizeof url, err);
    if (rc == 0) {
        const char *params[] = {"grant_type", "refresh_token", "refresh_token", refresh, NULL};
        rc = oauth_token_request(st, p, url, params, row->org_id, id, "refresh", BL_OAUTH_E_CREDENTIALS, t, err);
    }
    memset(refresh, 0, strlen(refresh));
    free(refresh);
    return rc;
}

static int store_refreshed(bl_oauth_store *st, PGconn *conn, const char *id, const oauth_tokens *t, bl_err *err)
{
    char *access = bl_keyring_seal(st->kr, t->access_token, strlen(t->access_token), id, strlen(id), err);
    char *refresh = t->refresh_token
                        ? bl_keyring_seal(st->kr, t->refresh_token, strlen(t->refresh_token), id, strlen(id), err)
                        : NULL;
    char expires[24];
    snprintf(expires, sizeof expires, "%ld", t->expires_in);
    const char *params[] = {id, access, refresh, expires};
    int rc = access && (refresh || !t->refresh_token)
                 ? bl_pg_exec_cmd(conn,
                                  "UPDATE integrations SET access_token_ciphertext = $2,"
                                  " refresh_token_ciphertext = coalesce($3, refresh_token_ciphertext),"
                                  " token_expires_at = CASE WHEN $4::bigint > 0 THEN now()"
                                  " + make_interval(secs => $4::bigint) END, updated_at = now()"
                                  " WHERE id::text = $1",
                                  4, params, err)
                 : -1;
    free(access);
    free(refresh);
    return rc;
}

/* bl_oauth_access_token, also giving the row's organization and provider. */
static int access_token(bl_oauth_store *st, const char *id, bool force, char **out, token_row *row, bl_err *err)
{
    *out = NULL;
    PGconn *conn = bl_pg_pool_acquire(st->pool, 5000, err);
    if (!conn)
        return -1;
    int rc = -1;
    bool in_tx = false;
    oauth_tokens t = {0};
    if (bl_pg_begin(conn, err) != 0)
        goto done;
    in_tx = true;
    if (lock_row(st, conn, id, row, err) != 0)
        goto done;
    const bl_oauth_provider *p = bl_oauth_provider_find(row->provider);
    if (strcmp(row->status, "connected") != 0) {
        bl_err_set(err, BL_OAUTH_E_CREDENTIALS, "integration %s is %s: connect it again", id, row->status);
        goto done;
    }
    if (!force && !row->due) {
        *out = open_text(st, row->access_sealed, id, err);
        rc = *out && bl_pg_commit(conn, err) == 0 ? 0 : -1;
        in_tx = rc != 0;
        goto done;
    }
    if (refresh_tokens(st, p, id, row, &t, err) != 0) {
        if (err->code != BL_OAUTH_E_CREDENTIALS)
            goto done; /* unreachable or rate limited: keep the integration as it is */
        bl_err refused = *err;
        if (mark_invalid(st, conn, id, row, refused.msg, err) == 0 && bl_pg_commit(conn, err) == 0) {
            in_tx = false;
            *err = refused;
            bl_log_warn("oauth: refresh refused, integration marked error", BL_FS("integration_id", id),
                        BL_FS("provider", row->provider));
        }
        goto done;
    }
    if (store_refreshed(st, conn, id, &t, err) != 0 || bl_pg_commit(conn, err) != 0)
        goto done;
    in_tx = false;
    *out = t.access_token;
    t.access_token = NULL;
    rc = 0;
done:
    if (in_tx) {
        bl_err tmp = {0};
        bl_pg_rollback(conn, &tmp);
    }
    bl_pg_pool_release(st->pool, conn);
    oauth_tokens_clear(&t);
    return rc;
}

int oauth_access_token_of(bl_oauth_store *st, const char *id, bool force, char **out, char org_out[40],
                          char provider_out[32], bl_err *err)
{
    token_row row = {0};
    int rc = access_token(st, id, force, out, &row, err);
    if (org_out)
        snprintf(org_out, 40, "%s", row.org_id);
    if (provider_out)
        snprintf(provider_out, 32, "%s", row.provider);
    token_row_clear(&row);
    return rc;
}

int bl_oauth_access_token(bl_oauth_store *st, const char *integration_id, bool force_refresh, char **out,
                          bl_err *err)
{
    return oauth_access_token_of(st, integration_id, force_refresh, out, NULL, NULL, err);
}
