/* The audit trail of configuration changes through the HTTP API (real
 * PostgreSQL, real Kafka): a row for each kind of change (API keys,
 * webhooks, custom endpoints with versions and rollback, integration
 * settings, disconnection) with its before and after, who made it and the request id; no
 * secret anywhere in the audit table; UPDATE, DELETE and TRUNCATE of the
 * table refused by the database; GET /v1/audit's filters, paging and
 * errors; a refused change (422) writes no row; another organization sees
 * none of it. */
#include "api/audit/audit_log.h"
#include "api/auth/keys.h"
#include "core/crypto.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYRING "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define HOOK_URL "http://127.0.0.1:9/hook"
#define CUSTOM_API_BODY                                                                                        \
    "{\"name\":\"%s\",\"path\":\"%s\",\"method\":\"GET\",\"authentication\":{\"type\":\"none\"},"               \
    "\"transformations\":[{\"id\":\"t1\",\"name\":\"one\",\"type\":\"map\",\"rules\":[{\"operation\":\"set\","    \
    "\"source\":\"1\",\"target\":\"$.one\"}],\"testCases\":[{\"name\":\"one\",\"input\":{},\"expectedOutput\":"  \
    "{\"one\":%d}}]}]}"

static bl_test_api api;
static char admin_key_id[BL_API_ID_MAX];

/* ---- helpers ---- */

/* GET /v1/audit<query> as token; the reply's JSON is kept in r. */
static long audit(const char *query, const char *token, bl_test_reply *r)
{
    char path[512];
    snprintf(path, sizeof path, "/v1/audit%s", query);
    return bl_test_api_call(&api, "GET", path, token, NULL, NULL, r);
}

/* The rows of entity_type/entity_id, newest first (new reference). */
static json_t *rows_of(const char *entity_type, const char *entity_id)
{
    char q[256];
    snprintf(q, sizeof q, "?entity_type=%s&entity_id=%s&limit=100", entity_type, entity_id);
    bl_test_reply r;
    json_t *data = NULL;
    if (audit(q, api.admin_token, &r) == 200)
        data = json_incref(json_object_get(r.json, "data"));
    bl_test_reply_clear(&r);
    return data ? data : json_array();
}

static const char *str_at(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* The actions of rows, newest first, joined by "," into out. */
static const char *actions_of(const json_t *rows, char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(rows); i++)
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "",
                 str_at(json_array_get(rows, i), "action", NULL));
    return out;
}

static long audit_count(void)
{
    char n[32] = "";
    bl_test_sql_value(api.pool, "SELECT count(*) FROM audit_log", 0, NULL, n, sizeof n);
    return strtol(n, NULL, 10);
}

/* Whether needle appears anywhere in any row of the audit table. */
static bool audit_table_holds(const char *needle)
{
    char n[32] = "";
    const char *p[] = {needle};
    bl_test_sql_value(api.pool, "SELECT count(*) FROM audit_log a WHERE strpos(to_jsonb(a)::text, $1) > 0", 1, p, n,
                      sizeof n);
    return strcmp(n, "0") != 0;
}

/* Creates a webhook as the admin: its id and secret. Returns the status. */
static long create_webhook(const char *name, char id[64], char secret[128])
{
    char body[512];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"url\":\"" HOOK_URL "\",\"event_types\":[\"risk.*\"]}", name);
    bl_test_reply r;
    long st = bl_test_api_call(&api, "POST", "/v1/webhooks", api.admin_token, NULL, body, &r);
    snprintf(id, 64, "%s", str_at(r.json, "id", NULL));
    snprintf(secret, 128, "%s", str_at(r.json, "secret", NULL));
    bl_test_reply_clear(&r);
    return st;
}

/* ---- tests ---- */

static void key_create_and_revoke_leave_rows_with_who_before_after_and_request_id(void)
{
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&api, "POST", "/v1/api-keys", api.admin_token, NULL,
                             "{\"name\":\"audited key\",\"permission\":\"write\"}", &r) == 201);
    char id[BL_API_ID_MAX], request_id[80];
    snprintf(id, sizeof id, "%s", str_at(r.json, "id", NULL));
    snprintf(request_id, sizeof request_id, "%s", r.request_id);
    bl_test_reply_clear(&r);
    char path[128];
    snprintf(path, sizeof path, "/v1/api-keys/%s", id);
    REQUIRE(bl_test_api_call(&api, "DELETE", path, api.admin_token, NULL, NULL, &r) == 204);
    bl_test_reply_clear(&r);

    json_t *rows = rows_of("api_key", id);
    char actions[128];
    CHECK_EQ_STR(actions_of(rows, actions, sizeof actions), "revoke,create");
    const json_t *revoke = json_array_get(rows, 0), *create = json_array_get(rows, 1);
    CHECK(json_is_null(json_object_get(create, "before")));
    CHECK_EQ_STR(str_at(create, "after", "name"), "audited key");
    CHECK_EQ_STR(str_at(create, "actor", "type"), "key");
    CHECK_EQ_STR(str_at(create, "actor", "key_id"), admin_key_id);
    CHECK_EQ_STR(str_at(create, "request_id", NULL), request_id);
    CHECK(json_is_true(json_object_get(json_object_get(revoke, "before"), "active")));
    CHECK(json_is_false(json_object_get(json_object_get(revoke, "after"), "active")));
    CHECK_EQ_STR(str_at(revoke, "after", "token_sha256"), BL_AUDIT_REDACTED);
    CHECK(strlen(str_at(revoke, "occurred_at", NULL)) > 0);
    json_decref(rows);
}

static void webhook_changes_leave_a_row_each(void)
{
    char id[64], secret[128], path[160];
    REQUIRE(create_webhook("audited hook", id, secret) == 201);
    bl_test_reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(bl_test_api_call(&api, "PUT", path, api.admin_token, NULL, "{\"name\":\"audited hook v2\"}", &r),
                 200);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/disable", id);
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", path, api.admin_token, NULL, "{\"reason\":\"audit\"}", &r), 200);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/enable", id);
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", path, api.admin_token, NULL, "{}", &r), 200);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s/rotate-secret", id);
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", path, api.admin_token, NULL, "{}", &r), 200);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(bl_test_api_call(&api, "DELETE", path, api.admin_token, NULL, NULL, &r), 204);
    bl_test_reply_clear(&r);

    json_t *rows = rows_of("webhook_endpoint", id);
    char actions[128];
    CHECK_EQ_STR(actions_of(rows, actions, sizeof actions), "delete,rotate,enable,disable,update,create");
    const json_t *del = json_array_get(rows, 0), *rot = json_array_get(rows, 1), *upd = json_array_get(rows, 4);
    const json_t *dis = json_array_get(rows, 3);
    CHECK(json_is_true(json_object_get(json_object_get(dis, "before"), "active")));
    CHECK(json_is_false(json_object_get(json_object_get(dis, "after"), "active")));
    CHECK_EQ_STR(str_at(upd, "before", "name"), "audited hook");
    CHECK_EQ_STR(str_at(upd, "after", "name"), "audited hook v2");
    CHECK_EQ_STR(str_at(rot, "after", "secret_sealed"), BL_AUDIT_REDACTED);
    CHECK_EQ_STR(str_at(rot, "after", "previous_secret_sealed"), BL_AUDIT_REDACTED);
    CHECK_EQ_STR(str_at(del, "before", "name"), "audited hook v2");
    CHECK(json_is_null(json_object_get(del, "after")));
    json_decref(rows);
}

static void no_secret_is_anywhere_in_the_audit_table(void)
{
    char id[64], secret[128], path[160];
    REQUIRE(create_webhook("secret keeper", id, secret) == 201);
    REQUIRE(strncmp(secret, "whsec_", 6) == 0);
    bl_test_reply r;
    snprintf(path, sizeof path, "/v1/webhooks/%s/rotate-secret", id);
    REQUIRE(bl_test_api_call(&api, "POST", path, api.admin_token, NULL, "{}", &r) == 200);
    char rotated[128];
    snprintf(rotated, sizeof rotated, "%s", str_at(r.json, "secret", NULL));
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_api_call(&api, "POST", "/v1/api-keys", api.admin_token, NULL, "{\"name\":\"secret key\"}", &r) ==
            201);
    char token[BL_API_TOKEN_SIZE], key_id[BL_API_ID_MAX];
    snprintf(token, sizeof token, "%s", str_at(r.json, "token", NULL));
    snprintf(key_id, sizeof key_id, "%s", str_at(r.json, "id", NULL));
    bl_test_reply_clear(&r);
    char sealed[512] = "", previous[512] = "", sha[80] = "";
    const char *wp[] = {id}, *kp[] = {key_id};
    REQUIRE(bl_test_sql_value(api.pool, "SELECT secret_sealed FROM webhook_endpoints WHERE id = $1", 1, wp, sealed,
                              sizeof sealed) == 0);
    REQUIRE(bl_test_sql_value(api.pool, "SELECT previous_secret_sealed FROM webhook_endpoints WHERE id = $1", 1, wp,
                              previous, sizeof previous) == 0);
    REQUIRE(bl_test_sql_value(api.pool, "SELECT token_sha256 FROM api_keys WHERE id = $1", 1, kp, sha, sizeof sha) ==
            0);
    json_t *rows = rows_of("webhook_endpoint", id); /* the rows exist ... */
    CHECK_EQ_INT(json_array_size(rows), 2);
    json_decref(rows);
    CHECK(audit_table_holds(id) && audit_table_holds(key_id));
    /* ... and hold none of the secrets, in any form */
    const char *secrets[] = {secret, secret + 6, rotated, rotated + 6, token, sealed, previous, sha};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        CHECK(strlen(secrets[i]) > 8);
        if (audit_table_holds(secrets[i])) {
            fprintf(stderr, "  secret %zu is in the audit table\n", i);
            bl_test_failures++;
        }
    }
    CHECK(audit_table_holds(BL_AUDIT_REDACTED));
}

static void custom_api_save_update_rollback_delete_leave_rows(void)
{
    char body[1024];
    snprintf(body, sizeof body, CUSTOM_API_BODY, "audited endpoint", "/audited", 1);
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&api, "POST", "/v1/custom-apis", api.admin_token, NULL, body, &r) == 201);
    char id[64], path[160];
    snprintf(id, sizeof id, "%s", str_at(r.json, "id", NULL));
    if (!*id) /* an answer under "data" */
        snprintf(id, sizeof id, "%s", str_at(json_object_get(r.json, "data"), "id", NULL));
    bl_test_reply_clear(&r);
    REQUIRE(*id);
    snprintf(path, sizeof path, "/v1/custom-apis/%s", id);
    snprintf(body, sizeof body, CUSTOM_API_BODY, "audited endpoint v2", "/audited", 1);
    CHECK_EQ_INT(bl_test_api_call(&api, "PUT", path, api.admin_token, NULL, body, &r), 200);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/custom-apis/%s/rollback", id);
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", path, api.admin_token, NULL, "{\"version\":\"1.0.0\"}", &r), 200);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/custom-apis/%s", id);
    long st = bl_test_api_call(&api, "DELETE", path, api.admin_token, NULL, NULL, &r);
    CHECK(st == 200 || st == 204);
    bl_test_reply_clear(&r);

    json_t *rows = rows_of("custom_api", id);
    char actions[128];
    CHECK_EQ_STR(actions_of(rows, actions, sizeof actions), "delete,rollback,update,create");
    const json_t *rollback = json_array_get(rows, 1), *update = json_array_get(rows, 2);
    CHECK_EQ_STR(str_at(update, "before", "name"), "audited endpoint");
    CHECK_EQ_STR(str_at(update, "after", "name"), "audited endpoint v2");
    CHECK_EQ_STR(str_at(rollback, "before", "name"), "audited endpoint v2");
    CHECK_EQ_STR(str_at(rollback, "after", "name"), "audited endpoint");
    CHECK_EQ_STR(str_at(rollback, "after", "version"), "1.0.0");
    json_decref(rows);
}

/* A connected Google Calendar integration of the organization with settings
 * (JSON text) and a really sealed access token: its id and the sealed text
 * (caller frees; NULL on failure). */
static char *make_integration(const char *settings, char id[64])
{
    const char *p[] = {api.org, settings};
    if (bl_test_sql_value(api.pool,
                          "INSERT INTO integrations (id, organization_id, provider, type, status, settings)"
                          " VALUES (gen_random_uuid(), $1, 'google_calendar', 'calendar', 'connected', $2::jsonb)"
                          " RETURNING id",
                          2, p, id, 64) != 0)
        return NULL;
    bl_err err = {0};
    bl_keyring *kr = bl_keyring_from_env(&err);
    char *sealed = kr ? bl_keyring_seal(kr, "audit-access-token", 18, id, strlen(id), &err) : NULL;
    bl_keyring_free(kr);
    const char *tp[] = {id, sealed};
    if (sealed && bl_test_sql(api.pool, "UPDATE integrations SET access_token_ciphertext = $2,"
                                        " token_expires_at = now() + interval '1 day' WHERE id = $1", 2, tp) == 0)
        return sealed;
    free(sealed);
    return NULL;
}

static void integration_settings_change_leaves_a_row(void)
{
    char id[64];
    char *sealed = make_integration("{\"calendar_id\":\"primary\"}", id);
    REQUIRE(sealed);
    char path[160];
    snprintf(path, sizeof path, "/v1/integrations/%s/settings", id);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&api, "PUT", path, api.admin_token, NULL,
                                  "{\"settings\":{\"calendar_id\":\"team\"}}", &r), 200);
    bl_test_reply_clear(&r);
    json_t *rows = rows_of("integration", id);
    CHECK_EQ_INT(json_array_size(rows), 1);
    const json_t *row = json_array_get(rows, 0);
    CHECK_EQ_STR(str_at(row, "action", NULL), "update");
    CHECK_EQ_STR(str_at(json_object_get(row, "before"), "settings", "calendar_id"), "primary");
    CHECK_EQ_STR(str_at(json_object_get(row, "after"), "settings", "calendar_id"), "team");
    CHECK_EQ_STR(str_at(row, "after", "access_token_ciphertext"), BL_AUDIT_REDACTED);
    CHECK(!audit_table_holds(sealed));
    free(sealed);
    json_decref(rows);
}

static void integration_disconnect_leaves_a_row_without_its_tokens(void)
{
    char id[64];
    char *sealed = make_integration("{}", id);
    REQUIRE(sealed);
    char path[160];
    snprintf(path, sizeof path, "/v1/integrations/%s", id);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&api, "DELETE", path, api.admin_token, NULL, NULL, &r), 200);
    bl_test_reply_clear(&r);
    json_t *rows = rows_of("integration", id);
    CHECK_EQ_INT(json_array_size(rows), 1);
    const json_t *row = json_array_get(rows, 0);
    CHECK_EQ_STR(str_at(row, "action", NULL), "disconnect");
    CHECK_EQ_STR(str_at(row, "before", "provider"), "google_calendar");
    CHECK_EQ_STR(str_at(row, "before", "access_token_ciphertext"), BL_AUDIT_REDACTED);
    CHECK(json_is_null(json_object_get(row, "after")));
    CHECK(!audit_table_holds(sealed));
    free(sealed);
    json_decref(rows);
}

static void field_service_key_and_user_creations_leave_rows(void)
{
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&api, "POST", "/api/api-keys/", api.admin_token, NULL,
                             "{\"nom\":\"fs audited key\",\"scopes\":[\"read\"]}", &r) == 201);
    char key_id[64], token[BL_API_TOKEN_SIZE];
    snprintf(key_id, sizeof key_id, "%s", str_at(r.json, "id", NULL));
    snprintf(token, sizeof token, "%s", str_at(r.json, "cle_api", NULL));
    bl_test_reply_clear(&r);
    json_t *rows = rows_of("api_key", key_id);
    CHECK_EQ_INT(json_array_size(rows), 1);
    CHECK_EQ_STR(str_at(json_array_get(rows, 0), "after", "name"), "fs audited key");
    json_decref(rows);
    CHECK(strlen(token) > 8 && !audit_table_holds(token));
    REQUIRE(bl_test_api_call(&api, "POST", "/api/utilisateurs/", api.admin_token, NULL,
                             "{\"nom_utilisateur\":\"audited.user\",\"email\":\"audited@example.com\","
                             "\"nom\":\"Audit\",\"prenom\":\"Ada\",\"mot_de_passe\":\"Pass-of-audit-42\","
                             "\"confirmer_mot_de_passe\":\"Pass-of-audit-42\",\"consentement_rgpd\":true}",
                             &r) == 201);
    bl_test_reply_clear(&r);
    const char *p[] = {"audited@example.com"};
    char user_id[64];
    REQUIRE(bl_test_sql_value(api.pool, "SELECT id FROM api_users WHERE email = $1", 1, p, user_id, sizeof user_id) ==
            0);
    rows = rows_of("user", user_id);
    CHECK_EQ_INT(json_array_size(rows), 1);
    CHECK_EQ_STR(str_at(json_array_get(rows, 0), "after", "email"), "audited@example.com");
    CHECK_EQ_STR(str_at(json_array_get(rows, 0), "after", "password_hash"), BL_AUDIT_REDACTED);
    json_decref(rows);
    CHECK(!audit_table_holds("Pass-of-audit-42"));
}

static void refused_changes_write_no_row(void)
{
    long before = audit_count();
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/v1/webhooks", api.admin_token, NULL,
                                  "{\"name\":\"bad\",\"url\":\"not a url\",\"event_types\":[\"risk.*\"]}", &r), 422);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/v1/api-keys", api.admin_token, NULL, "{\"permission\":\"x\"}", &r),
                 422);
    bl_test_reply_clear(&r);
    char body[1024];
    snprintf(body, sizeof body, CUSTOM_API_BODY, "failing test case", "/failing", 2); /* expects 2, gets 1 */
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/v1/custom-apis", api.admin_token, NULL, body, &r), 422);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "DELETE", "/v1/api-keys/00000000-0000-0000-0000-000000000000",
                                  api.admin_token, NULL, NULL, &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(audit_count(), before);
}

static void rows_cannot_be_updated_deleted_or_truncated(void)
{
    char id[64], secret[128];
    REQUIRE(create_webhook("append only", id, secret) == 201);
    long n = audit_count();
    REQUIRE(n > 0);
    fprintf(stderr, "  (three refusals from PostgreSQL expected below)\n");
    CHECK(bl_test_sql(api.pool, "UPDATE audit_log SET action = 'forged'", 0, NULL) != 0);
    CHECK(bl_test_sql(api.pool, "DELETE FROM audit_log", 0, NULL) != 0);
    CHECK(bl_test_sql(api.pool, "TRUNCATE audit_log", 0, NULL) != 0);
    CHECK_EQ_INT(audit_count(), n);
    CHECK(!audit_table_holds("forged"));
}

static void list_filters_pages_and_refuses_bad_queries(void)
{
    char a[64], b[64], secret[128];
    REQUIRE(create_webhook("page one", a, secret) == 201);
    REQUIRE(create_webhook("page two", b, secret) == 201);
    bl_test_reply r;
    /* newest first, paged */
    REQUIRE(audit("?entity_type=webhook_endpoint&limit=1", api.admin_token, &r) == 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 1);
    CHECK_EQ_STR(str_at(json_array_get(json_object_get(r.json, "data"), 0), "entity_id", NULL), b);
    const json_t *page = json_object_get(r.json, "pagination");
    long total = (long)json_integer_value(json_object_get(page, "total"));
    CHECK(total >= 2);
    CHECK(json_is_true(json_object_get(page, "has_more")));
    CHECK_EQ_INT(json_integer_value(json_object_get(page, "limit")), 1);
    bl_test_reply_clear(&r);
    REQUIRE(audit("?entity_type=webhook_endpoint&limit=1&offset=1", api.admin_token, &r) == 200);
    CHECK_EQ_STR(str_at(json_array_get(json_object_get(r.json, "data"), 0), "entity_id", NULL), a);
    bl_test_reply_clear(&r);
    /* entity_type alone keeps other kinds out */
    REQUIRE(audit("?entity_type=api_key&limit=100", api.admin_token, &r) == 200);
    const json_t *data = json_object_get(r.json, "data");
    for (size_t i = 0; i < json_array_size(data); i++)
        CHECK_EQ_STR(str_at(json_array_get(data, i), "entity_type", NULL), "api_key");
    bl_test_reply_clear(&r);
    /* actor: the admin key made them all; nobody else made any */
    char q[256];
    snprintf(q, sizeof q, "?actor=%s&entity_id=%s", admin_key_id, a);
    REQUIRE(audit(q, api.admin_token, &r) == 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 1);
    bl_test_reply_clear(&r);
    REQUIRE(audit("?actor=00000000-0000-0000-0000-000000000000", api.admin_token, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")), 0);
    bl_test_reply_clear(&r);
    /* since / until */
    REQUIRE(audit("?since=2999-01-01T00:00:00Z", api.admin_token, &r) == 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 0);
    bl_test_reply_clear(&r);
    REQUIRE(audit("?until=2000-01-01T00:00:00Z", api.admin_token, &r) == 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 0);
    bl_test_reply_clear(&r);
    snprintf(q, sizeof q, "?since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z&entity_id=%s", b);
    REQUIRE(audit(q, api.admin_token, &r) == 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 1);
    bl_test_reply_clear(&r);
    /* bad input: the /v1 error object naming each field */
    REQUIRE(audit("?since=yesterday&limit=0", api.admin_token, &r) == 400);
    const json_t *error = json_object_get(r.json, "error");
    CHECK_EQ_STR(str_at(error, "code", NULL), "bad_request");
    CHECK(strlen(str_at(error, "request_id", NULL)) > 0);
    CHECK(json_object_get(json_object_get(error, "field_errors"), "since") != NULL);
    CHECK(json_object_get(json_object_get(error, "field_errors"), "limit") != NULL);
    bl_test_reply_clear(&r);
}

static void only_admins_of_the_organization_see_its_rows(void)
{
    char id[64], secret[128], q[160];
    REQUIRE(create_webhook("private", id, secret) == 201);
    bl_test_reply r;
    CHECK_EQ_INT(audit("", api.write_token, &r), 403);
    bl_test_reply_clear(&r);
    snprintf(q, sizeof q, "?entity_id=%s", id);
    REQUIRE(audit(q, api.other_token, &r) == 200);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "data")), 0);
    CHECK(!strstr(r.body, id));
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    setenv("BUSLINE_ENCRYPTION_KEYS", KEYRING, 1);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_CLIENT_ID", "audit-client", 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_CLIENT_SECRET", "audit-client-secret", 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_BASE_URL", "http://127.0.0.1:9", 1);
    if (bl_test_api_start(&api, 1) == 0) {
        const char *p[] = {api.admin_token};
        if (bl_test_sql_value(api.pool, "SELECT id FROM api_keys WHERE token_sha256 = encode(sha256($1::bytea), 'hex')",
                              1, p, admin_key_id, sizeof admin_key_id) != 0)
            bl_test_failures++;
        BL_RUN(key_create_and_revoke_leave_rows_with_who_before_after_and_request_id);
        BL_RUN(webhook_changes_leave_a_row_each);
        BL_RUN(no_secret_is_anywhere_in_the_audit_table);
        BL_RUN(custom_api_save_update_rollback_delete_leave_rows);
        BL_RUN(integration_settings_change_leaves_a_row);
        BL_RUN(integration_disconnect_leaves_a_row_without_its_tokens);
        BL_RUN(field_service_key_and_user_creations_leave_rows);
        BL_RUN(refused_changes_write_no_row);
        BL_RUN(rows_cannot_be_updated_deleted_or_truncated);
        BL_RUN(list_filters_pages_and_refuses_bad_queries);
        BL_RUN(only_admins_of_the_organization_see_its_rows);
    } else {
        bl_test_failures++;
    }
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return bl_test_summary();
}
