/* API keys are authenticated from memory once seen, and every change to
 * what a key may do reaches every replica: two API servers on one database
 * (replicas A and B). A repeated key costs no query (the cache's counts); a
 * key revoked on A is refused on A at once and on B once its NOTIFY is in;
 * a revocation, an expiry or a plan change made in SQL by anyone reaches
 * both; the usage counters written in batches do not empty the cache. */
#include "api/server.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bl_test_api a; /* replica A: the fixture's server */
static bl_test_api b; /* replica B: a second server on A's database */

static long get_projects(const bl_test_api *t, const char *token, char *error_message, size_t len)
{
    bl_test_reply r;
    long status = bl_test_api_call(t, "GET", "/v1/projects", token, NULL, NULL, &r);
    if (error_message)
        snprintf(error_message, len, "%s",
                 json_string_value(json_object_get(json_object_get(r.json, "error"), "message")) ?: "");
    bl_test_reply_clear(&r);
    return status;
}

/* A replica learns a change made elsewhere from PostgreSQL's NOTIFY,
 * asynchronously: ask until the answer is no longer 200 (bounded, so a
 * broken listener fails the test). */
static long get_until_refused(const bl_test_api *t, const char *token, char *msg, size_t len)
{
    long status = 0;
    for (int i = 0; i < 200 && (status = get_projects(t, token, msg, len)) == 200; i++)
        usleep(50 * 1000);
    return status;
}

static void counts(const bl_test_api *t, uint64_t *hits, uint64_t *misses)
{
    bl_api_server_key_cache_counts(t->server, hits, misses);
}

/* Makes a fresh read key of a's organization into token (and its id). */
static int read_key(char token[BL_API_TOKEN_SIZE], char id[BL_API_ID_MAX])
{
    bl_api_key_spec spec = {.org_id = a.org, .name = "cached", .perm = BL_API_PERM_READ, .rate_per_hour = 100000};
    return bl_test_make_key(a.pool, &spec, token, id);
}

static void a_repeated_key_is_answered_from_memory(void)
{
    char token[BL_API_TOKEN_SIZE], id[BL_API_ID_MAX];
    REQUIRE(read_key(token, id) == 0);
    uint64_t h0, m0, h1, m1;
    counts(&a, &h0, &m0);
    CHECK_EQ_INT(get_projects(&a, token, NULL, 0), 200);
    counts(&a, &h1, &m1);
    CHECK_EQ_INT(m1 - m0, 1); /* the first request reads the key */
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(get_projects(&a, token, NULL, 0), 200);
    counts(&a, &h1, &m1);
    CHECK_EQ_INT(m1 - m0, 1);
    CHECK_EQ_INT(h1 - h0, 5);
    /* the usage flush updates the key's row (usage_count, last_used_at):
     * that is no change to what it may do, and the entry stays */
    bl_err err = {0};
    REQUIRE(bl_api_server_flush_usage(a.server, &err) == 0);
    const char *p[] = {id};
    char used[32];
    REQUIRE(bl_test_sql_value(a.pool, "SELECT usage_count FROM api_keys WHERE id = $1", 1, p, used,
                              sizeof used) == 0);
    CHECK(atoi(used) >= 6);
    usleep(300 * 1000); /* time for a NOTIFY, had the flush sent one */
    CHECK_EQ_INT(get_projects(&a, token, NULL, 0), 200);
    uint64_t h2, m2;
    counts(&a, &h2, &m2);
    CHECK_EQ_INT(m2 - m1, 0);
    CHECK_EQ_INT(h2 - h1, 1);
}

static void a_key_revoked_on_one_replica_is_refused_on_both(void)
{
    char token[BL_API_TOKEN_SIZE], id[BL_API_ID_MAX];
    REQUIRE(read_key(token, id) == 0);
    CHECK_EQ_INT(get_projects(&a, token, NULL, 0), 200);
    CHECK_EQ_INT(get_projects(&b, token, NULL, 0), 200);
    CHECK_EQ_INT(get_projects(&b, token, NULL, 0), 200); /* now kept by both */
    char path[128], msg[128];
    snprintf(path, sizeof path, "/v1/api-keys/%s", id);
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&a, "DELETE", path, a.admin_token, NULL, NULL, &r) == 204);
    bl_test_reply_clear(&r);
    /* on the replica that answered the revocation: the very next request */
    CHECK_EQ_INT(get_projects(&a, token, msg, sizeof msg), 401);
    CHECK(strstr(msg, "revoked") != NULL);
    CHECK_EQ_INT(get_until_refused(&b, token, msg, sizeof msg), 401);
    CHECK(strstr(msg, "revoked") != NULL);
}

static void changes_made_in_sql_reach_every_replica(void)
{
    char token[BL_API_TOKEN_SIZE], id[BL_API_ID_MAX], msg[128];
    REQUIRE(read_key(token, id) == 0);
    CHECK_EQ_INT(get_projects(&a, token, NULL, 0), 200);
    CHECK_EQ_INT(get_projects(&b, token, NULL, 0), 200);
    const char *p[] = {id};
    REQUIRE(bl_test_sql(a.pool, "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", 1,
                        p) == 0);
    CHECK_EQ_INT(get_until_refused(&a, token, msg, sizeof msg), 401);
    CHECK(strstr(msg, "expired") != NULL);
    CHECK_EQ_INT(get_until_refused(&b, token, msg, sizeof msg), 401);
    CHECK(strstr(msg, "expired") != NULL);
    /* and back: the key is let in again (the refusal was not kept either) */
    REQUIRE(bl_test_sql(a.pool, "UPDATE api_keys SET expires_at = NULL WHERE id = $1", 1, p) == 0);
    long status = 0;
    for (int i = 0; i < 200 && (status = get_projects(&b, token, NULL, 0)) != 200; i++)
        usleep(50 * 1000);
    CHECK_EQ_INT(status, 200);
    /* deleted: not recognised on both */
    REQUIRE(bl_test_sql(a.pool, "DELETE FROM api_keys WHERE id = $1", 1, p) == 0);
    CHECK_EQ_INT(get_until_refused(&a, token, msg, sizeof msg), 401);
    CHECK_EQ_INT(get_until_refused(&b, token, msg, sizeof msg), 401);
    CHECK(strstr(msg, "not recognised") != NULL);
}

static void an_organizations_plan_change_reaches_its_cached_keys(void)
{
    char token[BL_API_TOKEN_SIZE];
    bl_api_key_spec spec = {.org_id = a.org, .name = "writer", .perm = BL_API_PERM_ADMIN, .rate_per_hour = 100000};
    REQUIRE(bl_test_make_key(a.pool, &spec, token, NULL) == 0);
    bl_test_reply r;
    const char *body = "{\"name\":\"cache probe\",\"url\":\"http://127.0.0.1:9/x\",\"events\":[\"risk.created\"]}";
    /* kept while the organization is pro, and let write */
    CHECK_EQ_INT(bl_test_api_call(&b, "POST", "/v1/webhooks", token, NULL, body, &r), 201);
    bl_test_reply_clear(&r);
    const char *p[] = {a.org};
    REQUIRE(bl_test_sql(a.pool, "UPDATE api_organizations SET plan = 'demo' WHERE id = $1", 1, p) == 0);
    long status = 0;
    for (int i = 0; i < 200; i++) {
        status = bl_test_api_call(&b, "POST", "/v1/webhooks", token, NULL, body, &r);
        const char *code = bl_test_reply_error_code(&r);
        bool demo = status == 403 && strcmp(code, "plan_required") == 0;
        bl_test_reply_clear(&r);
        if (demo)
            break;
        usleep(50 * 1000);
    }
    CHECK_EQ_INT(status, 403);
    REQUIRE(bl_test_sql(a.pool, "UPDATE api_organizations SET plan = 'pro' WHERE id = $1", 1, p) == 0);
}

int main(void)
{
    int rc = 1;
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    setenv("BUSLINE_ENCRYPTION_KEYS", "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 1);
    if (bl_test_api_start(&a, 0) == 0 && bl_test_api_replica(&a, &b) == 0) {
        BL_RUN(a_repeated_key_is_answered_from_memory);
        BL_RUN(a_key_revoked_on_one_replica_is_refused_on_both);
        BL_RUN(changes_made_in_sql_reach_every_replica);
        BL_RUN(an_organizations_plan_change_reaches_its_cached_keys);
        rc = bl_test_summary();
    }
    bl_api_server_free(b.server);
    bl_test_api_stop(&a);
    return rc;
}
