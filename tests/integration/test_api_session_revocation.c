/* Logout revokes at once on every replica: two API servers on one database
 * (replicas A and B); a session logged out on A has its access token
 * refused on A at once and on B as soon as B's listener has the NOTIFY (no
 * query per request), its refresh token refused on both, and a replica
 * started afterwards refuses it from its first request (the set is loaded
 * at start). Another session of the same user stays valid when only one is
 * logged out with its refresh token. */
#include "api/server.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define USER_BODY                                                                                         \
    "{\"nom_utilisateur\":\"rita\",\"email\":\"rita@example.com\",\"nom\":\"Rossi\",\"prenom\":\"Rita\","   \
    "\"mot_de_passe\":\"correct horse\",\"confirmer_mot_de_passe\":\"correct horse\",\"role\":\"admin\","   \
    "\"consentement_rgpd\":true}"
#define LOGIN_BODY "{\"nom_utilisateur\":\"rita\",\"mot_de_passe\":\"correct horse\"}"

static bl_test_api a;      /* replica A: the fixture's server */
static bl_test_api b;      /* replica B: a second server on A's database */

typedef struct tokens {
    char access[1024], refresh[128];
} tokens;

static int login(const bl_test_api *t, tokens *out)
{
    bl_test_reply r;
    long status = bl_test_api_call(t, "POST", "/api/auth/login", NULL, NULL, LOGIN_BODY, &r);
    snprintf(out->access, sizeof out->access, "%s", json_string_value(json_object_get(r.json, "access_token")) ?: "");
    snprintf(out->refresh, sizeof out->refresh, "%s", json_string_value(json_object_get(r.json, "refresh_token")) ?: "");
    bl_test_reply_clear(&r);
    return status == 200 && out->access[0] && out->refresh[0] ? 0 : -1;
}

static long get_users(const bl_test_api *t, const char *access)
{
    bl_test_reply r;
    long status = bl_test_api_call(t, "GET", "/api/utilisateurs/", access, NULL, NULL, &r);
    bl_test_reply_clear(&r);
    return status;
}

/* B learns a revocation from PostgreSQL's NOTIFY, asynchronously: ask until
 * it refuses (bounded, so a broken listener fails the test). */
static long get_users_until_refused(const bl_test_api *t, const char *access)
{
    long status = 0;
    for (int i = 0; i < 200 && (status = get_users(t, access)) == 200; i++)
        usleep(50 * 1000);
    return status;
}

static long refresh_with(const bl_test_api *t, const char *refresh)
{
    char body[256];
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}", refresh);
    bl_test_reply r;
    long status = bl_test_api_call(t, "POST", "/api/auth/refresh", NULL, NULL, body, &r);
    bl_test_reply_clear(&r);
    return status;
}

static void logout_with_the_refresh_token_revokes_its_access_token_everywhere(void)
{
    tokens one, two;
    REQUIRE(login(&a, &one) == 0 && login(&b, &two) == 0);
    /* both sessions work on both replicas */
    CHECK_EQ_INT(get_users(&a, one.access), 200);
    CHECK_EQ_INT(get_users(&b, one.access), 200);
    CHECK_EQ_INT(get_users(&a, two.access), 200);
    char body[256];
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}", one.refresh);
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&a, "POST", "/api/auth/logout", one.access, NULL, body, &r) == 204);
    bl_test_reply_clear(&r);
    /* on the replica that logged out: at once */
    CHECK_EQ_INT(get_users(&a, one.access), 401);
    /* on the other: once its listener has the announcement */
    CHECK_EQ_INT(get_users_until_refused(&b, one.access), 401);
    REQUIRE(bl_test_api_call(&b, "GET", "/api/utilisateurs/", one.access, NULL, NULL, &r) == 401);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "error_code")) ?: "", "AUTHENTICATION_ERROR");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(refresh_with(&b, one.refresh), 401);
    /* the other session of the same user is untouched */
    CHECK_EQ_INT(get_users(&b, two.access), 200);
    CHECK_EQ_INT(get_users(&a, two.access), 200);
    /* a replica started afterwards refuses it from its first request */
    bl_test_api c;
    REQUIRE(bl_test_api_replica(&a, &c) == 0);
    CHECK_EQ_INT(get_users(&c, one.access), 401);
    CHECK_EQ_INT(get_users(&c, two.access), 200);
    bl_api_server_free(c.server);
}

/* Logging out on one device ends that session, not the user's others. */
static void logout_with_an_access_token_only_ends_that_session(void)
{
    tokens one, two;
    REQUIRE(login(&a, &one) == 0 && login(&a, &two) == 0);
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&b, "POST", "/api/auth/logout", one.access, NULL, NULL, &r) == 204);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(get_users(&b, one.access), 401);
    CHECK_EQ_INT(get_users_until_refused(&a, one.access), 401);
    CHECK_EQ_INT(refresh_with(&a, one.refresh), 401);
    CHECK_EQ_INT(get_users(&b, two.access), 200);
    CHECK_EQ_INT(get_users(&a, two.access), 200);
    CHECK_EQ_INT(refresh_with(&a, two.refresh), 200);
}

/* A refreshed session keeps its id: its new access token is revoked with it. */
static void a_refreshed_session_is_revoked_as_one(void)
{
    tokens one;
    REQUIRE(login(&a, &one) == 0);
    char body[256];
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}", one.refresh);
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&b, "POST", "/api/auth/refresh", NULL, NULL, body, &r) == 200);
    char access2[1024], refresh2[128];
    snprintf(access2, sizeof access2, "%s", json_string_value(json_object_get(r.json, "access_token")) ?: "");
    snprintf(refresh2, sizeof refresh2, "%s", json_string_value(json_object_get(r.json, "refresh_token")) ?: "");
    bl_test_reply_clear(&r);
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}", refresh2);
    REQUIRE(bl_test_api_call(&b, "POST", "/api/auth/logout", NULL, NULL, body, &r) == 204);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(get_users(&b, access2), 401);
    CHECK_EQ_INT(get_users(&b, one.access), 401);
    CHECK_EQ_INT(get_users_until_refused(&a, access2), 401);
}

int main(void)
{
    int rc = 1;
    if (bl_test_api_start(&a, 0) == 0 && bl_test_api_replica(&a, &b) == 0) {
        bl_test_reply r;
        if (bl_test_api_call(&a, "POST", "/api/utilisateurs/", a.admin_token, NULL, USER_BODY, &r) == 201) {
            BL_RUN(logout_with_the_refresh_token_revokes_its_access_token_everywhere);
            BL_RUN(logout_with_an_access_token_only_ends_that_session);
            BL_RUN(a_refreshed_session_is_revoked_as_one);
            rc = bl_test_summary();
        } else {
            fprintf(stderr, "setup: user not created: %s\n", r.body ? r.body : "");
        }
        bl_test_reply_clear(&r);
    }
    bl_api_server_free(b.server);
    bl_test_api_stop(&a);
    return rc;
}
