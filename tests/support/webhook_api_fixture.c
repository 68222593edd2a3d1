/* The /v1/webhooks tests' fixture (webhook_api_fixture.h). */
#include "tests/support/webhook_api_fixture.h"

#include "api/auth/orgs.h"
#include "core/migrations.h"
#include "tests/support/pg_test.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_KEYS "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

bl_test_wh_fixture bl_test_wh;

static void answer_sink_status(size_t n, const char *path, const char *id, int *status, int *retry_after_s,
                               int *sleep_ms, void *user)
{
    (void)n, (void)path, (void)id, (void)retry_after_s, (void)sleep_ms, (void)user;
    *status = atomic_load(&bl_test_wh.sink_status);
}

long bl_test_wh_call(const char *method, const char *path, const char *token, const char *body, bl_test_reply *r)
{
    return bl_test_http_call(bl_api_server_port(bl_test_wh.srv), method, path, token, NULL, body, r);
}

const json_t *bl_test_wh_field_errors(const bl_test_reply *r)
{
    return json_object_get(json_object_get(r->json, "error"), "field_errors");
}

const char *bl_test_wh_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

void bl_test_wh_sink_url(char *out, size_t len)
{
    webhook_sink_url(&bl_test_wh.sink, "/hook", out, len);
}

long bl_test_wh_create(const char *token, const char *name, char id[64], char secret[BL_WEBHOOK_SECRET_TEXT_MAX])
{
    char url[128], body[512];
    bl_test_wh_sink_url(url, sizeof url);
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"url\":\"%s\",\"event_types\":[\"risk.*\",\"project.created\"],"
             "\"headers\":{\"X-Tenant\":\"acme\"},\"conditions\":[{\"field\":\"data.severity\","
             "\"operator\":\"in\",\"value\":[\"high\",\"critical\"]}]}",
             name, url);
    bl_test_reply r;
    long st = bl_test_wh_call("POST", "/v1/webhooks", token, body, &r);
    snprintf(id, 64, "%s", bl_test_wh_str(r.json, "id"));
    if (secret)
        snprintf(secret, BL_WEBHOOK_SECRET_TEXT_MAX, "%s", bl_test_wh_str(r.json, "secret"));
    bl_test_reply_clear(&r);
    return st;
}

void bl_test_wh_key_of(const char *org, bl_api_perm perm, char token[BL_API_TOKEN_SIZE])
{
    bl_api_key_spec spec = {.org_id = org, .name = "k", .perm = perm, .rate_per_hour = 100000};
    bl_test_make_key(bl_test_wh.pool, &spec, token, NULL);
}

void bl_test_wh_expect_field_error(const char *body, const char *field, const char *needle)
{
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_wh_call("POST", "/v1/webhooks", bl_test_wh.admin, body, &r), 422);
    const char *msg = json_string_value(json_object_get(bl_test_wh_field_errors(&r), field));
    CHECK(msg != NULL);
    if (msg && needle && !strstr(msg, needle)) {
        fprintf(stderr, "  %s: %s lacks %s\n", field, msg, needle);
        bl_test_failures++;
    }
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "validation_failed");
    bl_test_reply_clear(&r);
}

int bl_test_wh_setup(void)
{
    bl_err err = {0};
    atomic_store(&bl_test_wh.sink_status, 202);
    setenv("BUSLINE_ENCRYPTION_KEYS", TEST_KEYS, 1);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    if (bl_test_pg_fresh_db(bl_test_wh.pg_url, sizeof bl_test_wh.pg_url, &err) != 0)
        goto fail;
    PGconn *conn = bl_pg_connect(bl_test_wh.pg_url, &err);
    int ok = conn && bl_migrations_apply(conn, BUSLINE_SOURCE_DIR "/migrations", &err) >= 0 &&
             bl_api_org_create(conn, "pro", BL_API_PLAN_PRO, bl_test_wh.org_pro, &err) == 0 &&
             bl_api_org_create(conn, "other", BL_API_PLAN_PRO, bl_test_wh.org_other, &err) == 0 &&
             bl_api_org_create(conn, "demo", BL_API_PLAN_DEMO, bl_test_wh.org_demo, &err) == 0 &&
             bl_api_org_create(conn, "stats", BL_API_PLAN_ENTERPRISE, bl_test_wh.org_stats, &err) == 0 &&
             bl_api_org_create(conn, "list", BL_API_PLAN_PRO, bl_test_wh.org_list, &err) == 0;
    PQfinish(conn);
    if (!ok || !(bl_test_wh.pool = bl_pg_pool_new(bl_test_wh.pg_url, 8, &err)))
        goto fail;
    bl_test_wh_key_of(bl_test_wh.org_pro, BL_API_PERM_ADMIN, bl_test_wh.admin);
    bl_test_wh_key_of(bl_test_wh.org_other, BL_API_PERM_ADMIN, bl_test_wh.other_admin);
    if (webhook_sink_start(&bl_test_wh.sink, answer_sink_status, NULL) != 0)
        goto fail;
    bl_api_config cfg = {0};
    if (!(bl_test_wh.srv = bl_api_server_new(&cfg, bl_test_wh.pool, &err)) ||
        bl_api_server_start(bl_test_wh.srv, &err) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "setup: %s\n", err.msg);
    return -1;
}

void bl_test_wh_teardown(void)
{
    bl_api_server_free(bl_test_wh.srv);
    webhook_sink_stop(&bl_test_wh.sink);
    bl_pg_pool_free(bl_test_wh.pool);
    if (bl_test_wh.pg_url[0])
        bl_test_pg_drop_db(bl_test_wh.pg_url);
}
