/* What the Attendance-X integrations tests share (ax_integrations_fixture.h):
 * the API in-process on a fresh database beside a fake of Google's OAuth
 * endpoints, the callers, and the checks of document 001's shapes. */
#include "tests/support/ax_integrations_fixture.h"

#include "api/auth/keys.h"
#include "api/auth/orgs.h"
#include "core/crypto.h"
#include "core/migrations.h"
#include "tests/support/pg_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char ax_pg_url[512];
bl_pg_pool *ax_pool;
bl_api_server *ax_srv, *ax_srv_nowait, *ax_srv_moved;
fake_oauth ax_fake;
char ax_org[BL_API_ID_MAX], ax_other_org[BL_API_ID_MAX];
char ax_admin[BL_API_TOKEN_SIZE], ax_manager[BL_API_TOKEN_SIZE], ax_reader[BL_API_TOKEN_SIZE];
char ax_other_admin[BL_API_TOKEN_SIZE], ax_slow[BL_API_TOKEN_SIZE];
char ax_manager_id[BL_API_ID_MAX];

long ax_call_on(bl_api_server *s, const char *method, const char *path, const char *token, const char *body,
                    bl_test_reply *r)
{
    return bl_test_http_call(bl_api_server_port(s), method, path, token, NULL, body, r);
}

long ax_call(const char *method, const char *path, const char *token, const char *body, bl_test_reply *r)
{
    return ax_call_on(ax_srv, method, path, token, body, r);
}

const json_t *ax_data(const bl_test_reply *r)
{
    return json_object_get(r->json, "data");
}

/* The envelope of a success: {"success": true, "data": ...}. */
bool ax_enveloped(const bl_test_reply *r)
{
    return json_is_true(json_object_get(r->json, "success")) && json_object_get(r->json, "data");
}

/* The attendance error shape with code. */
bool ax_fails_with(const bl_test_reply *r, long status, const char *code)
{
    const json_t *e = json_object_get(r->json, "error");
    bool ok = r->status == status && json_is_false(json_object_get(r->json, "success")) &&
              json_is_string(json_object_get(e, "message")) && json_is_string(json_object_get(e, "request_id")) &&
              code && json_string_value(json_object_get(e, "code")) &&
              strcmp(json_string_value(json_object_get(e, "code")), code) == 0;
    if (!ok)
        fprintf(stderr, "  want %ld %s, got %ld %.400s\n", status, code, r->status, r->body);
    return ok;
}

bool ax_is_str(const json_t *o, const char *k)
{
    bool ok = json_is_string(json_object_get(o, k));
    if (!ok)
        fprintf(stderr, "  %s: not a string\n", k);
    return ok;
}
bool ax_is_int(const json_t *o, const char *k)
{
    bool ok = json_is_integer(json_object_get(o, k));
    if (!ok)
        fprintf(stderr, "  %s: not an integer\n", k);
    return ok;
}
bool ax_is_bool(const json_t *o, const char *k)
{
    bool ok = json_is_boolean(json_object_get(o, k));
    if (!ok)
        fprintf(stderr, "  %s: not a boolean\n", k);
    return ok;
}
bool ax_is_obj(const json_t *o, const char *k)
{
    bool ok = json_is_object(json_object_get(o, k));
    if (!ok)
        fprintf(stderr, "  %s: not an object\n", k);
    return ok;
}
bool ax_is_arr(const json_t *o, const char *k)
{
    bool ok = json_is_array(json_object_get(o, k));
    if (!ok)
        fprintf(stderr, "  %s: not an array\n", k);
    return ok;
}
/* present, a string or null */
bool ax_is_str_or_null(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    bool ok = v && (json_is_string(v) || json_is_null(v));
    if (!ok)
        fprintf(stderr, "  %s: absent, or neither a string nor null\n", k);
    return ok;
}

long ax_sql_long(const char *sql, const char *param)
{
    char out[64] = "";
    const char *p[] = {param};
    return bl_test_sql_value(ax_pool, sql, param ? 1 : 0, p, out, sizeof out) == 0 ? atol(out) : -1;
}

const char *ax_detail(const bl_test_reply *r, const char *path)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(r->json, "error"), "details"), path));
}

/* Connects Google through connect and callback with the document's bodies;
 * id gets the integration id. Returns 0 or -1. */
int ax_connect_google(char id[64], bl_test_reply *callback_reply)
{
    bl_test_reply r;
    ax_call("POST", BASE "/google/connect", ax_manager,
         "{\"scopes\":[\"calendar.read\",\"calendar.write\",\"events.manage\"],"
         "\"settings\":{\"syncDirection\":\"bidirectional\",\"autoSync\":true,\"syncInterval\":300},"
         "\"redirectUri\":\"" REDIRECT "\"}",
         &r);
    const char *url = json_string_value(json_object_get(ax_data(&r), "authUrl"));
    const char *state = json_string_value(json_object_get(ax_data(&r), "state"));
    const char *ch = url ? strstr(url, "code_challenge=") : NULL;
    char st[96] = "";
    if (r.status == 200 && ch && state) {
        snprintf(ax_fake.challenge, sizeof ax_fake.challenge, "%.*s", (int)strcspn(ch + 15, "&"), ch + 15);
        snprintf(st, sizeof st, "%s", state);
    }
    bl_test_reply_clear(&r);
    if (!st[0])
        return -1;
    char body[256];
    snprintf(body, sizeof body, "{\"code\":\"4/good-code\",\"state\":\"%s\"}", st);
    bl_test_reply local, *cb = callback_reply ? callback_reply : &local;
    ax_call("POST", BASE "/google/callback", ax_manager, body, cb);
    const char *v = json_string_value(json_object_get(ax_data(cb), "integrationId"));
    int rc = cb->status == 200 && v ? 0 : -1;
    if (rc == 0)
        snprintf(id, 64, "%s", v);
    else
        fprintf(stderr, "  callback %ld: %s (%s)\n", cb->status, cb->body, ax_fake.last_error);
    if (!callback_reply)
        bl_test_reply_clear(cb);
    return rc;
}

/* An integration of provider made directly in the database (a connection
 * of that provider has no fake here), with a sealed token. */
int ax_make_integration(const char *provider, const char *type, const char *o, char id[64])
{
    const char *p[] = {o, provider, type};
    if (bl_test_sql_value(ax_pool, "INSERT INTO integrations (id, organization_id, provider, type, status, scopes,"
                                " account_name) VALUES (gen_random_uuid(), $1, $2, $3, 'connected',"
                                " '{chat:write}', 'workspace') RETURNING id",
                          3, p, id, 64) != 0)
        return -1;
    bl_err err = {0};
    bl_keyring *kr = bl_keyring_from_env(&err);
    char *sealed = kr ? bl_keyring_seal(kr, "token-x", 7, id, strlen(id), &err) : NULL;
    bl_keyring_free(kr);
    const char *tp[] = {id, sealed};
    int rc = sealed ? bl_test_sql(ax_pool, "UPDATE integrations SET access_token_ciphertext = $2,"
                                        " token_expires_at = now() + interval '1 day' WHERE id = $1", 2, tp)
                    : -1;
    free(sealed);
    return rc;
}

/* Ends the queued run of integration id as the worker would (a status,
 * the statistics it counted). */
int ax_end_run(const char *id, const char *status, const char *statistics)
{
    const char *p[] = {id, status, statistics};
    return bl_test_sql(ax_pool, "UPDATE integration_sync_runs SET status = $2, statistics = $3::jsonb,"
                             " finished_at = now(), duration_ms = 1500 WHERE integration_id::text = $1"
                             " AND status IN ('queued', 'running')", 3, p);
}

long ax_put_settings(const char *id, const char *body, bl_test_reply *r)
{
    char path[160];
    snprintf(path, sizeof path, BASE "/%s/settings", id);
    return ax_call("PUT", path, ax_manager, body, r);
}


static int ax_make_key(const char *o, bl_api_perm perm, int64_t rate, char token[BL_API_TOKEN_SIZE], char *id,
                    PGconn *conn, bl_err *err)
{
    char local[BL_API_ID_MAX];
    bl_api_key_spec spec = {.org_id = o, .name = "attendance manager", .perm = perm, .rate_per_hour = rate};
    return bl_api_key_create(conn, &spec, token, id ? id : local, err);
}

int ax_setup(void)
{
    bl_err err = {0};
    if (fake_oauth_start(&ax_fake, "google-client", "google-secret") != 0)
        return -1;
    snprintf(ax_fake.redirect_uri, sizeof ax_fake.redirect_uri, "%s", REDIRECT);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", fake_oauth_port(&ax_fake));
    setenv("BUSLINE_ENCRYPTION_KEYS", KEYS, 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_CLIENT_ID", "google-client", 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_CLIENT_SECRET", "google-secret", 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_BASE_URL", base, 1);
    /* Slack has no fake here: its calls go to a closed loopback port, never out */
    setenv("BUSLINE_OAUTH_SLACK_BASE_URL", "http://127.0.0.1:9", 1);
    setenv("BUSLINE_OAUTH_MICROSOFT_365_CLIENT_ID", "ms-client", 1);
    setenv("BUSLINE_OAUTH_MICROSOFT_365_CLIENT_SECRET", "ms-secret", 1);
    setenv("BUSLINE_OAUTH_MICROSOFT_365_BASE_URL", "http://127.0.0.1:9", 1);
    setenv("BUSLINE_OAUTH_ZOOM_CLIENT_ID", "zoom-client", 1);
    setenv("BUSLINE_OAUTH_ZOOM_CLIENT_SECRET", "zoom-secret", 1);
    setenv("BUSLINE_OAUTH_ZOOM_BASE_URL", "http://127.0.0.1:9", 1);
    unsetenv("BUSLINE_WEBHOOK_ALLOW");
    if (bl_test_pg_fresh_db(ax_pg_url, sizeof ax_pg_url, &err) != 0)
        goto fail;
    PGconn *conn = bl_pg_connect(ax_pg_url, &err);
    int ok = conn && bl_migrations_apply(conn, BUSLINE_SOURCE_DIR "/migrations", &err) >= 0 &&
             bl_api_org_create(conn, "techcorp", BL_API_PLAN_PRO, ax_org, &err) == 0 &&
             bl_api_org_create(conn, "other", BL_API_PLAN_PRO, ax_other_org, &err) == 0 &&
             ax_make_key(ax_org, BL_API_PERM_ADMIN, 100000, ax_admin, NULL, conn, &err) == 0 &&
             ax_make_key(ax_org, BL_API_PERM_WRITE, 100000, ax_manager, ax_manager_id, conn, &err) == 0 &&
             ax_make_key(ax_org, BL_API_PERM_READ, 100000, ax_reader, NULL, conn, &err) == 0 &&
             ax_make_key(ax_org, BL_API_PERM_WRITE, 1, ax_slow, NULL, conn, &err) == 0 &&
             ax_make_key(ax_other_org, BL_API_PERM_ADMIN, 100000, ax_other_admin, NULL, conn, &err) == 0;
    PQfinish(conn);
    if (!ok || !(ax_pool = bl_pg_pool_new(ax_pg_url, 8, &err)))
        goto fail;
    bl_api_config cfg = {.command_wait_ms = 30000};
    if (!(ax_srv = bl_api_server_new(&cfg, ax_pool, &err)) || bl_api_server_start(ax_srv, &err) != 0)
        goto fail;
    bl_api_config moved = {.attendance_prefix = "/ax/v2"};
    if (!(ax_srv_moved = bl_api_server_new(&moved, ax_pool, &err)) || bl_api_server_start(ax_srv_moved, &err) != 0)
        goto fail;
    bl_api_config nowait = {.command_wait_ms = -1};
    if (!(ax_srv_nowait = bl_api_server_new(&nowait, ax_pool, &err)) || bl_api_server_start(ax_srv_nowait, &err) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "setup: %s\n", err.msg);
    return -1;
}


void ax_teardown(void)
{
    bl_api_server_free(ax_srv);
    bl_api_server_free(ax_srv_nowait);
    bl_api_server_free(ax_srv_moved);
    bl_pg_pool_free(ax_pool);
    if (ax_pg_url[0])
        bl_test_pg_drop_db(ax_pg_url);
    fake_oauth_stop(&ax_fake);
}
