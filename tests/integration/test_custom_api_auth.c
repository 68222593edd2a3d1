/* Each authentication type of a custom endpoint, allowed and refused:
 * none, api-key (the bus's keys, with roles), jwt (the bus's session
 * tokens, with roles) and oauth2 (RFC 7662 introspection against a local
 * fake authorization server). */
#include "api/auth/orgs.h"
#include "tests/support/custom_api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEYRING "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static bl_test_custom t;
static bl_test_fake introspection;
static char user_token[1200];

#define AUTHED(path, auth)                                                                                     \
    "{\"name\":\"authed\",\"path\":\"" path "\",\"method\":\"GET\",\"authentication\":" auth "}"

static long call(const char *path, const char *token, bl_test_reply *keep)
{
    bl_test_reply r;
    long st = bl_test_custom_call(&t, NULL, "GET", path, token, NULL, &r);
    if (keep)
        *keep = r;
    else
        bl_test_reply_clear(&r);
    return st;
}

/* The error's type on the /custom surface is document 002's APIErrorType. */
static void check_refused(const char *path, const char *token, long status, const char *type)
{
    bl_test_reply r;
    CHECK_EQ_INT(call(path, token, &r), status);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "type")), type);
    CHECK(json_is_string(json_object_get(r.json, "requestId")));
    bl_test_reply_clear(&r);
}

static void none_lets_anyone_in(void)
{
    REQUIRE(bl_test_custom_create(&t, AUTHED("/open", "{\"type\":\"none\"}"), NULL) == 201);
    CHECK_EQ_INT(call("/open", NULL, NULL), 200);
}

static void api_key_lets_in_the_organizations_keys_of_its_roles(void)
{
    REQUIRE(bl_test_custom_create(&t, AUTHED("/keyed", "{\"type\":\"api-key\"}"), NULL) == 201);
    REQUIRE(bl_test_custom_create(&t, AUTHED("/admins", "{\"type\":\"api-key\",\"roles\":[\"admin\"]}"), NULL) == 201);
    CHECK_EQ_INT(call("/keyed", t.api.write_token, NULL), 200);
    check_refused("/keyed", NULL, 401, "AUTHENTICATION_ERROR");
    check_refused("/keyed", "bl_live_notakeyatallnotakeyatallnotakeyatall12", 401, "AUTHENTICATION_ERROR");
    check_refused("/keyed", t.api.other_token, 401, "AUTHENTICATION_ERROR"); /* another organization's */
    check_refused("/keyed", user_token, 401, "AUTHENTICATION_ERROR");        /* a session is no key */
    CHECK_EQ_INT(call("/admins", t.api.admin_token, NULL), 200);
    check_refused("/admins", t.api.write_token, 403, "AUTHORIZATION_ERROR");
}

static void jwt_lets_in_the_organizations_sessions_of_its_roles(void)
{
    REQUIRE(bl_test_custom_create(&t, AUTHED("/session", "{\"type\":\"jwt\",\"roles\":[\"write\",\"admin\"]}"), NULL) ==
            201);
    REQUIRE(bl_test_custom_create(&t, AUTHED("/session-admins", "{\"type\":\"jwt\",\"roles\":[\"admin\"]}"), NULL) == 201);
    CHECK_EQ_INT(call("/session", user_token, NULL), 200);
    check_refused("/session", NULL, 401, "AUTHENTICATION_ERROR");
    check_refused("/session", t.api.admin_token, 401, "AUTHENTICATION_ERROR"); /* a key is no session */
    check_refused("/session", "eyJhbGciOiJIUzI1NiJ9.e30.forged", 401, "AUTHENTICATION_ERROR");
    check_refused("/session-admins", user_token, 403, "AUTHORIZATION_ERROR"); /* the user writes, is no admin */
}

static void oauth2_introspects_the_bearer_token(void)
{
    char def[1024];
    snprintf(def, sizeof def,
             AUTHED("/oauth", "{\"type\":\"oauth2\",\"roles\":[\"orders:read\"],\"settings\":{\"introspectionUrl\":"
                              "\"%s/introspect\",\"clientId\":\"busline-rs\",\"clientSecret\":\"s3cret\"}}"),
             introspection.url);
    char id[40];
    REQUIRE(bl_test_custom_create(&t, def, id) == 201);
    snprintf(def, sizeof def,
             AUTHED("/oauth-write", "{\"type\":\"oauth2\",\"roles\":[\"orders:write\"],\"settings\":{\"introspectionUrl\":"
                                    "\"%s/introspect\",\"clientId\":\"busline-rs\",\"clientSecret\":\"s3cret\"}}"),
             introspection.url);
    REQUIRE(bl_test_custom_create(&t, def, NULL) == 201);
    CHECK_EQ_INT(call("/oauth", "token-of-ada", NULL), 200);
    /* RFC 7662: the token in a form, the client's credentials in Basic */
    CHECK_EQ_STR(introspection.last_body, "token=token-of-ada&token_type_hint=access_token");
    CHECK_EQ_STR(introspection.last_authz, "Basic YnVzbGluZS1yczpzM2NyZXQ="); /* busline-rs:s3cret */
    check_refused("/oauth-write", "token-of-ada", 403, "AUTHORIZATION_ERROR"); /* scope lacks orders:write */
    check_refused("/oauth", NULL, 401, "AUTHENTICATION_ERROR");
    snprintf(introspection.body, sizeof introspection.body, "{\"active\":false}");
    check_refused("/oauth", "token-of-ada", 401, "AUTHENTICATION_ERROR");
    /* the client secret is kept sealed and never shown */
    char path[128];
    snprintf(path, sizeof path, "/v1/custom-apis/%s", id);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&t.api, "GET", path, t.api.admin_token, NULL, NULL, &r), 200);
    CHECK(strstr(r.body, "s3cret") == NULL);
    CHECK(json_is_true(json_object_get(
        json_object_get(json_object_get(r.json, "authentication"), "settings"), "clientSecretSet")));
    bl_test_reply_clear(&r);
    const char *p[] = {id};
    char config[2048] = "";
    bl_test_sql_value(t.api.pool, "SELECT config::text FROM custom_apis WHERE id = $1", 1, p, config, sizeof config);
    CHECK(strstr(config, "s3cret") == NULL && strstr(config, "clientSecretSealed") != NULL);
}

static void oauth2_needs_a_client_secret(void)
{
    char def[1024];
    snprintf(def, sizeof def,
             AUTHED("/oauth-nosecret", "{\"type\":\"oauth2\",\"settings\":{\"introspectionUrl\":\"%s/introspect\","
                                       "\"clientId\":\"busline-rs\"}}"),
             introspection.url);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&t.api, "POST", "/v1/custom-apis", t.api.admin_token, NULL, def, &r), 422);
    CHECK(json_object_get(json_object_get(json_object_get(r.json, "error"), "field_errors"),
                          "authentication.settings.clientSecret") != NULL);
    bl_test_reply_clear(&r);
}

static int login(void)
{
    bl_err err = {0};
    char user_id[BL_API_ID_MAX];
    PGconn *conn = bl_pg_pool_acquire(t.api.pool, 5000, &err);
    int rc = conn ? bl_api_user_create(conn, t.api.org, "writer@example.com", "a password of the writer",
                                       BL_API_PERM_WRITE, NULL, user_id, &err)
                  : -1;
    bl_pg_pool_release(t.api.pool, conn);
    if (rc != 0)
        return -1;
    bl_test_reply r;
    long st = bl_test_api_call(&t.api, "POST", "/v1/auth/login", NULL, NULL,
                               "{\"email\":\"writer@example.com\",\"password\":\"a password of the writer\"}", &r);
    const char *access = json_string_value(json_object_get(r.json, "access_token"));
    snprintf(user_token, sizeof user_token, "%s", access ? access : "");
    bl_test_reply_clear(&r);
    return st == 200 && user_token[0] ? 0 : -1;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    setenv("BUSLINE_ENCRYPTION_KEYS", KEYRING, 1);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    if (bl_test_fake_start(&introspection, 200, "{\"active\":true,\"scope\":\"profile orders:read\",\"sub\":\"ada\"}") ==
            0 &&
        bl_test_custom_start(&t, 0, 0, 0) == 0 && login() == 0) {
        BL_RUN(none_lets_anyone_in);
        BL_RUN(api_key_lets_in_the_organizations_keys_of_its_roles);
        BL_RUN(jwt_lets_in_the_organizations_sessions_of_its_roles);
        BL_RUN(oauth2_introspects_the_bearer_token);
        BL_RUN(oauth2_needs_a_client_secret);
    } else {
        bl_test_failures++;
    }
    bl_test_custom_stop(&t);
    bl_test_fake_stop(&introspection);
    curl_global_cleanup();
    return bl_test_summary();
}
