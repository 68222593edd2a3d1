/* The SmartLeakPro surface (/api) against real PostgreSQL (and Kafka for the
 * webhook path): login, refresh and logout in the document's shapes with
 * their 401s, users admin only with every invalid field listed and
 * user.created on the outbox, API keys' scopes and their per-minute, per-day
 * limits with the rate-limit headers and the 429 shape. Its webhooks and
 * integrations end to end are test_fieldservice_webhooks.c. */
#include "api/auth/orgs.h"
#include "api/auth/totp.h"
#include "api/server.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_USER_BODY(name, email)                                                                       \
    "{\"nom_utilisateur\":\"" name "\",\"email\":\"" email "\",\"nom\":\"Durand\",\"prenom\":\"Alice\","    \
    "\"mot_de_passe\":\"correct horse\",\"confirmer_mot_de_passe\":\"correct horse\",\"role\":\"admin\","  \
    "\"consentement_rgpd\":true}"

#define TEST_KEYS BL_WEBHOOK_TEST_KEYS

static bl_test_api api;

static const char *fs_code(const bl_test_reply *r)
{
    const char *c = json_string_value(json_object_get(r->json, "error_code"));
    return c ? c : "";
}

/* The document's error object: detail, error_code, field_errors (an object). */
static void check_error_shape(const bl_test_reply *r, const char *code)
{
    CHECK_EQ_STR(fs_code(r), code);
    CHECK(json_is_string(json_object_get(r->json, "detail")));
    CHECK(json_is_object(json_object_get(r->json, "field_errors")));
}

static long call(const char *method, const char *path, const char *token, const char *body, bl_test_reply *r)
{
    bl_test_reply_clear(r);
    return bl_test_api_call(&api, method, path, token, NULL, body, r);
}

/* Calls with the key in X-API-Key (the document's other credential). */
static long call_key(const char *method, const char *path, const char *key, const char *body, bl_test_reply *r)
{
    char header[160];
    snprintf(header, sizeof header, "X-API-Key: %s", key);
    bl_test_reply_clear(r);
    return bl_test_api_call(&api, method, path, NULL, header, body, r);
}

static void login_refresh_logout_in_the_documents_shapes(void)
{
    bl_test_reply r = {0};
    REQUIRE(call("POST", "/api/utilisateurs/", api.admin_token, ADMIN_USER_BODY("alice", "Alice@Example.com"), &r) ==
            201);
    REQUIRE(call("POST", "/api/auth/login", NULL, "{\"nom_utilisateur\":\"alice\",\"mot_de_passe\":\"correct horse\"}",
                 &r) == 200);
    json_t *j = r.json;
    CHECK_EQ_INT(json_object_size(j), 5);
    CHECK(json_string_length(json_object_get(j, "access_token")) > 20);
    CHECK(json_string_length(json_object_get(j, "refresh_token")) > 20);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "token_type")), "bearer");
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "expires_in")), 1800);
    json_t *u = json_object_get(j, "utilisateur");
    CHECK_EQ_INT(json_object_size(u), 4);
    CHECK(json_string_length(json_object_get(u, "id")) == 36);
    CHECK_EQ_STR(json_string_value(json_object_get(u, "nom_utilisateur")), "alice");
    CHECK_EQ_STR(json_string_value(json_object_get(u, "email")), "alice@example.com");
    CHECK_EQ_STR(json_string_value(json_object_get(u, "role")), "admin");
    char access[1024], refresh[128];
    snprintf(access, sizeof access, "%s", json_string_value(json_object_get(j, "access_token")));
    snprintf(refresh, sizeof refresh, "%s", json_string_value(json_object_get(j, "refresh_token")));

    /* the access token works on the surface: alice is an admin */
    CHECK_EQ_INT(call("GET", "/api/utilisateurs/", access, NULL, &r), 200);
    /* login by email too */
    CHECK_EQ_INT(call("POST", "/api/auth/login", NULL,
                      "{\"nom_utilisateur\":\"alice@example.com\",\"mot_de_passe\":\"correct horse\"}", &r),
                 200);
    CHECK_EQ_INT(call("POST", "/api/auth/login", NULL, "{\"nom_utilisateur\":\"alice\",\"mot_de_passe\":\"wrong\"}", &r),
                 401);
    check_error_shape(&r, "AUTHENTICATION_ERROR");
    CHECK_EQ_INT(call("POST", "/api/auth/login", NULL, "{\"nom_utilisateur\":\"nobody\",\"mot_de_passe\":\"x\"}", &r),
                 401);
    check_error_shape(&r, "AUTHENTICATION_ERROR");
    CHECK_EQ_INT(call("POST", "/api/auth/login", NULL, "{\"mot_de_passe\":3}", &r), 422);
    check_error_shape(&r, "VALIDATION_ERROR");
    CHECK(json_object_get(json_object_get(r.json, "field_errors"), "nom_utilisateur"));
    CHECK(json_object_get(json_object_get(r.json, "field_errors"), "mot_de_passe"));

    char body[256];
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}", refresh);
    REQUIRE(call("POST", "/api/auth/refresh", NULL, body, &r) == 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "token_type")), "bearer");
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "expires_in")), 1800);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r.json, "utilisateur"), "nom_utilisateur")),
                 "alice");
    char next[128];
    snprintf(next, sizeof next, "%s", json_string_value(json_object_get(r.json, "refresh_token")));
    /* a spent refresh token is refused */
    CHECK_EQ_INT(call("POST", "/api/auth/refresh", NULL, body, &r), 401);
    check_error_shape(&r, "AUTHENTICATION_ERROR");

    /* a new login, logged out by its refresh token */
    REQUIRE(call("POST", "/api/auth/login", NULL, "{\"nom_utilisateur\":\"alice\",\"mot_de_passe\":\"correct horse\"}",
                 &r) == 200);
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}",
             json_string_value(json_object_get(r.json, "refresh_token")));
    CHECK_EQ_INT(call("POST", "/api/auth/logout", NULL, body, &r), 204);
    CHECK_EQ_INT(call("POST", "/api/auth/refresh", NULL, body, &r), 401);
    /* logout with only the access token revokes every refresh token of the user */
    CHECK_EQ_INT(call("POST", "/api/auth/logout", access, NULL, &r), 204);
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}", next);
    CHECK_EQ_INT(call("POST", "/api/auth/refresh", NULL, body, &r), 401);
    CHECK_EQ_INT(call("POST", "/api/auth/logout", NULL, NULL, &r), 401);
    check_error_shape(&r, "AUTHENTICATION_ERROR");
    bl_test_reply_clear(&r);
}

static void a_user_with_a_second_factor_needs_code_2fa(void)
{
    char secret[BL_TOTP_SECRET_B32_SIZE], id[BL_API_ID_MAX], code[7];
    bl_err err = {0};
    REQUIRE(bl_totp_secret_new(secret, &err) == 0);
    PGconn *conn = bl_pg_pool_acquire(api.pool, 5000, &err);
    REQUIRE(conn);
    int rc = bl_api_user_create(conn, api.org, "tfa@example.com", "second factor", BL_API_PERM_WRITE, secret, id, &err);
    bl_pg_pool_release(api.pool, conn);
    REQUIRE(rc == 0);
    const char *p[] = {id};
    REQUIRE(bl_test_sql(api.pool, "UPDATE api_users SET username = 'bob' WHERE id::text = $1", 1, p) == 0);
    bl_test_reply r = {0};
    CHECK_EQ_INT(call("POST", "/api/auth/login", NULL, "{\"nom_utilisateur\":\"bob\",\"mot_de_passe\":\"second factor\"}",
                      &r),
                 401);
    check_error_shape(&r, "AUTHENTICATION_ERROR");
    CHECK_EQ_INT(call("POST", "/api/auth/login", NULL,
                      "{\"nom_utilisateur\":\"bob\",\"mot_de_passe\":\"second factor\",\"code_2fa\":\"000000\"}", &r),
                 401);
    REQUIRE(bl_totp_code(secret, time(NULL), code, &err) == 0);
    char body[160];
    snprintf(body, sizeof body, "{\"nom_utilisateur\":\"bob\",\"mot_de_passe\":\"second factor\",\"code_2fa\":\"%s\"}",
             code);
    CHECK_EQ_INT(call("POST", "/api/auth/login", NULL, body, &r), 200);
    /* a /v1 user has no role of its own: its permission stands for it */
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r.json, "utilisateur"), "role")), "write");
    bl_test_reply_clear(&r);
}

static void users_are_admin_only_and_every_invalid_field_is_listed(void)
{
    bl_test_reply r = {0};
    CHECK_EQ_INT(call("GET", "/api/utilisateurs/", api.write_token, NULL, &r), 403);
    check_error_shape(&r, "AUTHORIZATION_ERROR");
    CHECK_EQ_INT(call("POST", "/api/utilisateurs/", api.write_token, ADMIN_USER_BODY("eve", "eve@example.com"), &r),
                 403);
    check_error_shape(&r, "AUTHORIZATION_ERROR");
    CHECK_EQ_INT(call("GET", "/api/utilisateurs/", NULL, NULL, &r), 401);
    check_error_shape(&r, "AUTHENTICATION_ERROR");

    CHECK_EQ_INT(call("POST", "/api/utilisateurs/", api.admin_token,
                      "{\"nom_utilisateur\":\"a b\",\"email\":\"not-an-email\",\"prenom\":\"\","
                      "\"mot_de_passe\":\"short\",\"confirmer_mot_de_passe\":\"other\",\"role\":\"king\","
                      "\"consentement_rgpd\":false,\"age\":3}",
                      &r),
                 422);
    check_error_shape(&r, "VALIDATION_ERROR");
    json_t *fe = json_object_get(r.json, "field_errors");
    const char *expected[] = {"nom_utilisateur", "email", "nom", "prenom", "mot_de_passe",
                              "confirmer_mot_de_passe", "role", "consentement_rgpd", "age"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        json_t *msgs = json_object_get(fe, expected[i]);
        if (!json_is_array(msgs) || json_array_size(msgs) == 0 || !json_is_string(json_array_get(msgs, 0)))
            fprintf(stderr, "  missing field error: %s\n", expected[i]);
        CHECK(json_is_array(msgs) && json_array_size(msgs) > 0);
    }
    CHECK_EQ_INT(json_object_size(fe), sizeof expected / sizeof expected[0]);
    /* consent must be true, not merely present */
    CHECK_EQ_INT(call("POST", "/api/utilisateurs/", api.admin_token,
                      "{\"nom_utilisateur\":\"carol\",\"email\":\"carol@example.com\",\"nom\":\"N\",\"prenom\":\"C\","
                      "\"mot_de_passe\":\"long enough\",\"confirmer_mot_de_passe\":\"long enough\","
                      "\"consentement_rgpd\":\"yes\"}",
                      &r),
                 422);
    CHECK_EQ_INT(json_object_size(json_object_get(r.json, "field_errors")), 1);
    CHECK(json_object_get(json_object_get(r.json, "field_errors"), "consentement_rgpd"));

    REQUIRE(call("POST", "/api/utilisateurs/", api.admin_token,
                 "{\"nom_utilisateur\":\"dave\",\"email\":\"dave@example.com\",\"nom\":\"Martin\",\"prenom\":\"Dave\","
                 "\"mot_de_passe\":\"long enough\",\"confirmer_mot_de_passe\":\"long enough\",\"role\":\"technicien\","
                 "\"consentement_rgpd\":true}",
                 &r) == 201);
    json_t *u = r.json;
    CHECK(json_string_length(json_object_get(u, "id")) == 36);
    CHECK_EQ_STR(json_string_value(json_object_get(u, "nom_utilisateur")), "dave");
    CHECK_EQ_STR(json_string_value(json_object_get(u, "email")), "dave@example.com");
    CHECK_EQ_STR(json_string_value(json_object_get(u, "nom")), "Martin");
    CHECK_EQ_STR(json_string_value(json_object_get(u, "prenom")), "Dave");
    CHECK_EQ_STR(json_string_value(json_object_get(u, "role")), "technicien");
    CHECK(json_is_true(json_object_get(u, "consentement_rgpd")));
    CHECK(!json_object_get(u, "mot_de_passe") && !json_object_get(u, "confirmer_mot_de_passe"));
    CHECK(!strstr(r.body, "long enough") && !strstr(r.body, "pbkdf2"));
    char id[BL_API_ID_MAX];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(u, "id")));

    /* user.created is on the outbox, about that user */
    char n[16];
    const char *p[] = {id};
    REQUIRE(bl_test_sql_value(api.pool,
                              "SELECT count(*) FROM busline_outbox WHERE event_type = 'user.created'"
                              " AND aggregate_type = 'user' AND aggregate_id = $1 AND topic LIKE '%events.fieldservice%'",
                              1, p, n, sizeof n) == 0);
    CHECK_EQ_STR(n, "1");

    /* a technician may not manage users */
    CHECK_EQ_INT(call("POST", "/api/auth/login", NULL, "{\"nom_utilisateur\":\"dave\",\"mot_de_passe\":\"long enough\"}",
                      &r),
                 200);
    char access[1024];
    snprintf(access, sizeof access, "%s", json_string_value(json_object_get(r.json, "access_token")));
    CHECK_EQ_INT(call("GET", "/api/utilisateurs/", access, NULL, &r), 403);
    check_error_shape(&r, "AUTHORIZATION_ERROR");

    /* taken name and email are field errors, and nothing more is stored */
    CHECK_EQ_INT(call("POST", "/api/utilisateurs/", api.admin_token,
                      "{\"nom_utilisateur\":\"DAVE\",\"email\":\"dave@example.com\",\"nom\":\"M\",\"prenom\":\"D\","
                      "\"mot_de_passe\":\"long enough\",\"confirmer_mot_de_passe\":\"long enough\","
                      "\"consentement_rgpd\":true}",
                      &r),
                 422);
    fe = json_object_get(r.json, "field_errors");
    CHECK(json_object_get(fe, "nom_utilisateur") && json_object_get(fe, "email"));
    REQUIRE(bl_test_sql_value(api.pool, "SELECT count(*) FROM busline_outbox WHERE event_type = 'user.created'", 0, NULL,
                              n, sizeof n) == 0);
    CHECK_EQ_STR(n, "2"); /* alice's and dave's */

    REQUIRE(call("GET", "/api/utilisateurs/?size=2", api.admin_token, NULL, &r) == 200);
    CHECK(json_is_array(json_object_get(r.json, "utilisateurs")));
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "utilisateurs")), 2);
    CHECK(json_integer_value(json_object_get(r.json, "total")) >= 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "page")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "size")), 2);
    CHECK(json_integer_value(json_object_get(r.json, "pages")) >= 2);
    /* another organization sees none of them */
    REQUIRE(call("GET", "/api/utilisateurs/", api.other_token, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 0);
    bl_test_reply_clear(&r);
}

/* Creates a key through /api/api-keys/ with body; its token into token. */
static int make_fs_key(const char *body, char *token, size_t len, bl_test_reply *r)
{
    if (call("POST", "/api/api-keys/", api.admin_token, body, r) != 201)
        return -1;
    snprintf(token, len, "%s", json_string_value(json_object_get(r->json, "cle_api")));
    return 0;
}

static void api_keys_carry_scopes_and_limits(void)
{
    bl_test_reply r = {0};
    REQUIRE(call("POST", "/api/api-keys/", api.admin_token,
                 "{\"nom\":\"zap\",\"description\":\"for zapier\",\"scopes\":[\"read\",\"write\"],"
                 "\"limite_requetes_par_minute\":100,\"limite_requetes_par_jour\":1000,"
                 "\"limite_requetes_par_mois\":30000}",
                 &r) == 201);
    json_t *k = r.json;
    CHECK(strncmp(json_string_value(json_object_get(k, "cle_api")), "bl_live_", 8) == 0);
    CHECK_EQ_STR(json_string_value(json_object_get(k, "nom")), "zap");
    CHECK_EQ_STR(json_string_value(json_object_get(k, "description")), "for zapier");
    CHECK_EQ_INT(json_array_size(json_object_get(k, "scopes")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(k, "limite_requetes_par_minute")), 100);
    CHECK_EQ_INT(json_integer_value(json_object_get(k, "limite_requetes_par_jour")), 1000);
    CHECK_EQ_INT(json_integer_value(json_object_get(k, "limite_requetes_par_mois")), 30000);

    CHECK_EQ_INT(call("POST", "/api/api-keys/", api.admin_token,
                      "{\"scopes\":[\"read\",\"root\"],\"limite_requetes_par_minute\":0,\"limite_requetes_par_jour\":\"x\"}",
                      &r),
                 422);
    json_t *fe = json_object_get(r.json, "field_errors");
    CHECK(json_object_get(fe, "nom") && json_object_get(fe, "scopes") &&
          json_object_get(fe, "limite_requetes_par_minute") && json_object_get(fe, "limite_requetes_par_jour"));
    CHECK_EQ_INT(call("POST", "/api/api-keys/", api.write_token, "{\"nom\":\"x\"}", &r), 403);
    check_error_shape(&r, "AUTHORIZATION_ERROR");

    REQUIRE(call("GET", "/api/api-keys/", api.admin_token, NULL, &r) == 200);
    CHECK(json_is_array(json_object_get(r.json, "api_keys")));
    CHECK(!strstr(r.body, "cle_api"));

    /* scopes: read may GET, not POST; write may POST */
    char reader[BL_API_TOKEN_SIZE], writer[BL_API_TOKEN_SIZE];
    REQUIRE(make_fs_key("{\"nom\":\"reader\",\"scopes\":[\"read\"]}", reader, sizeof reader, &r) == 0);
    REQUIRE(make_fs_key("{\"nom\":\"writer\",\"scopes\":[\"write\"]}", writer, sizeof writer, &r) == 0);
    CHECK_EQ_INT(call_key("GET", "/api/webhooks/", reader, NULL, &r), 200);
    CHECK_EQ_INT(call_key("POST", "/api/webhooks/", reader, "{}", &r), 403);
    check_error_shape(&r, "AUTHORIZATION_ERROR");
    CHECK_EQ_INT(call_key("POST", "/api/webhooks/", writer, "{}", &r), 422);
    CHECK_EQ_INT(call_key("GET", "/api/utilisateurs/", writer, NULL, &r), 403);
    bl_test_reply_clear(&r);
}

static time_t pinned_now = 1767225600; /* 2026-01-01T00:00:00Z */
static time_t pinned_clock(void *ctx)
{
    (void)ctx;
    return pinned_now;
}

static void rate_limits_on(unsigned short port);

static void rate_limits_answer_headers_and_429(void)
{
    /* a server of its own whose clock stands still, so no window ends mid-test */
    bl_api_config cfg = {.jwt_secret = BL_TEST_API_JWT_SECRET, .clock = pinned_clock, .topic_prefix = api.prefix};
    bl_err err = {0};
    bl_api_server *srv = bl_api_server_new(&cfg, api.pool, &err);
    if (srv && bl_api_server_start(srv, &err) == 0)
        rate_limits_on(bl_api_server_port(srv));
    else
        CHECK(!"server started");
    bl_api_server_free(srv);
}

static void rate_limits_on(unsigned short port)
{
    bl_test_reply r = {0};
    char minute_key[BL_API_TOKEN_SIZE], day_key[BL_API_TOKEN_SIZE], header[160];
    REQUIRE(make_fs_key("{\"nom\":\"m\",\"scopes\":[\"read\"],\"limite_requetes_par_minute\":3}", minute_key,
                        sizeof minute_key, &r) == 0);
    REQUIRE(make_fs_key("{\"nom\":\"d\",\"scopes\":[\"read\"],\"limite_requetes_par_minute\":50,"
                        "\"limite_requetes_par_jour\":2}",
                        day_key, sizeof day_key, &r) == 0);
    char reset[24];
    snprintf(reset, sizeof reset, "%lld", (long long)pinned_now + 60);
    snprintf(header, sizeof header, "X-API-Key: %s", minute_key);
    for (int i = 0; i < 3; i++) {
        bl_test_reply_clear(&r);
        CHECK_EQ_INT(bl_test_http_call(port, "GET", "/api/webhooks/", NULL, header, NULL, &r), 200);
        CHECK_EQ_STR(r.rl_limit, "3");
        char want[8];
        snprintf(want, sizeof want, "%d", 2 - i);
        CHECK_EQ_STR(r.rl_remaining, want);
        CHECK_EQ_STR(r.rl_reset, reset);
    }
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_http_call(port, "GET", "/api/webhooks/", NULL, header, NULL, &r), 429);
    check_error_shape(&r, "RATE_LIMIT_EXCEEDED");
    CHECK_EQ_STR(r.rl_limit, "3");
    CHECK_EQ_STR(r.rl_remaining, "0");
    CHECK_EQ_STR(r.rl_reset, reset);
    CHECK_EQ_STR(r.retry_after, "60");

    /* the day's limit binds although the minute's is far: the limit shown
     * is still the per-minute one, the reset the day's end */
    snprintf(header, sizeof header, "X-API-Key: %s", day_key);
    snprintf(reset, sizeof reset, "%lld", (long long)pinned_now + 86400);
    for (int i = 0; i < 2; i++) {
        bl_test_reply_clear(&r);
        CHECK_EQ_INT(bl_test_http_call(port, "GET", "/api/webhooks/", NULL, header, NULL, &r), 200);
        CHECK_EQ_STR(r.rl_limit, "50");
    }
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_http_call(port, "GET", "/api/webhooks/", NULL, header, NULL, &r), 429);
    check_error_shape(&r, "RATE_LIMIT_EXCEEDED");
    CHECK_EQ_STR(r.rl_limit, "50");
    CHECK_EQ_STR(r.rl_remaining, "0");
    CHECK_EQ_STR(r.rl_reset, reset);

    /* the month is the calendar month (UTC): January's ends on February 1st */
    char month_key[BL_API_TOKEN_SIZE];
    REQUIRE(make_fs_key("{\"nom\":\"mo\",\"scopes\":[\"read\"],\"limite_requetes_par_minute\":50,"
                        "\"limite_requetes_par_jour\":40,\"limite_requetes_par_mois\":2}",
                        month_key, sizeof month_key, &r) == 0);
    snprintf(header, sizeof header, "X-API-Key: %s", month_key);
    for (int i = 0; i < 2; i++) {
        bl_test_reply_clear(&r);
        CHECK_EQ_INT(bl_test_http_call(port, "GET", "/api/webhooks/", NULL, header, NULL, &r), 200);
    }
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_http_call(port, "GET", "/api/webhooks/", NULL, header, NULL, &r), 429);
    check_error_shape(&r, "RATE_LIMIT_EXCEEDED");
    CHECK_EQ_STR(r.rl_limit, "50");
    CHECK_EQ_STR(r.rl_reset, "1769904000"); /* 2026-02-01T00:00:00Z */

    /* a user without limits of their own gets the surface's 100 per minute */
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_http_call(port, "POST", "/api/auth/login", NULL, NULL,
                              "{\"nom_utilisateur\":\"alice\",\"mot_de_passe\":\"correct horse\"}", &r) == 200);
    char access[1024];
    snprintf(access, sizeof access, "%s", json_string_value(json_object_get(r.json, "access_token")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_http_call(port, "GET", "/api/webhooks/", access, NULL, NULL, &r), 200);
    CHECK_EQ_STR(r.rl_limit, "100");
    CHECK_EQ_STR(r.rl_remaining, "99");
    bl_test_reply_clear(&r);
}

int main(void)
{
    setenv("BUSLINE_ENCRYPTION_KEYS", TEST_KEYS, 1);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    if (bl_test_api_start(&api, 0) != 0) {
        bl_test_api_stop(&api);
        return 1;
    }
    BL_RUN(login_refresh_logout_in_the_documents_shapes);
    BL_RUN(a_user_with_a_second_factor_needs_code_2fa);
    BL_RUN(users_are_admin_only_and_every_invalid_field_is_listed);
    BL_RUN(api_keys_carry_scopes_and_limits);
    BL_RUN(rate_limits_answer_headers_and_429);
    bl_test_api_stop(&api);
    return bl_test_summary();
}
