/* /v1/integrations in-process on a fresh database against a local fake of
 * Google's OAuth endpoints: connect -> callback with PKCE, tokens sealed at
 * rest, the connected event; single-use states; refresh before expiry; a
 * 401 refreshed and retried once; a refused refresh -> error
 * INVALID_CREDENTIALS + integration.disconnected; delete revokes; the
 * error codes; organization isolation; exact analytics; mapping rules
 * checked when settings are saved (422 naming the rule). */
#include "api/auth/keys.h"
#include "api/auth/orgs.h"
#include "connectors/calendar_sync/worker.h"
#include "api/server.h"
#include "connectors/oauth/oauth.h"
#include "connectors/providers.h"
#include "core/migrations.h"
#include "tests/support/fake_oauth.h"
#include "tests/support/pg_test.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define REDIRECT "https://app.example.com/oauth/google"
#define KEYS "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

static char pg_url[512];
static bl_pg_pool *pool;
static bl_api_server *srv;
static fake_oauth fake;
static char org[BL_API_ID_MAX], other_org[BL_API_ID_MAX];
static char admin[BL_API_TOKEN_SIZE], reader[BL_API_TOKEN_SIZE], other_admin[BL_API_TOKEN_SIZE];

/* Calls the API; *json gets the answer (json_decref it). Returns the status. */
static long call(const char *method, const char *path, const char *token, const char *body, json_t **json)
{
    bl_test_reply full;
    long status = bl_test_http_call(bl_api_server_port(srv), method, path, token, NULL, body, &full);
    *json = full.json; /* ownership moves to the caller */
    full.json = NULL;
    bl_test_reply_clear(&full);
    return status;
}

static const char *error_code(const json_t *j)
{
    return json_string_value(json_object_get(json_object_get(j, "error"), "code"));
}

static long count(const char *sql, const char *param)
{
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(pool, 5000, &err);
    const char *p[] = {param};
    PGresult *r = conn ? bl_pg_exec(conn, sql, param ? 1 : 0, p, &err) : NULL;
    long n = r ? atol(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    bl_pg_pool_release(pool, conn);
    return n;
}

static void exec_sql(const char *sql, const char *param)
{
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(pool, 5000, &err);
    const char *p[] = {param};
    if (!conn || bl_pg_exec_cmd(conn, sql, 1, p, &err) != 0)
        fprintf(stderr, "  sql: %s\n", err.msg);
    bl_pg_pool_release(pool, conn);
}

/* Starts connect; returns the state and tells the fake the challenge. */
static int start_connect(char *state, size_t cap)
{
    json_t *j;
    long s = call("POST", "/v1/integrations/google_calendar/connect", admin,
                  "{\"redirectUri\":\"" REDIRECT "\"}", &j);
    const char *url = json_string_value(json_object_get(j, "authorizationUrl"));
    const char *st = json_string_value(json_object_get(j, "state"));
    int ok = s == 200 && url && st && json_is_true(json_object_get(j, "pkce"));
    const char *ch = url ? strstr(url, "code_challenge=") : NULL;
    if (ok && ch) {
        snprintf(fake.challenge, sizeof fake.challenge, "%.*s", (int)strcspn(ch + 15, "&"), ch + 15);
        snprintf(state, cap, "%s", st);
        ok = strstr(url, "access_type=offline") && strstr(url, "code_challenge_method=S256") &&
             strstr(url, "response_type=code") && strstr(url, "client_id=google-client");
    }
    json_decref(j);
    return ok ? 0 : -1;
}

/* Connects a Google integration; writes its id. */
static int connect_google(char id[64])
{
    char state[64], body[256];
    if (start_connect(state, sizeof state) != 0)
        return -1;
    snprintf(body, sizeof body, "{\"state\":\"%s\",\"code\":\"4/good-code\"}", state);
    json_t *j;
    long s = call("POST", "/v1/integrations/google_calendar/callback", admin, body, &j);
    const char *v = json_string_value(json_object_get(j, "id"));
    if (s == 201 && v)
        snprintf(id, 64, "%s", v);
    else
        fprintf(stderr, "  callback %ld: %s\n", s, fake.last_error);
    json_decref(j);
    return s == 201 ? 0 : -1;
}

static long events(const char *type, const char *id)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM busline_outbox WHERE event_type = '%s' AND aggregate_id = $1", type);
    return count(sql, id);
}

static void connect_exchanges_code_with_pkce_and_seals_tokens(void)
{
    char id[64];
    REQUIRE(connect_google(id) == 0);
    CHECK_EQ_INT(fake.bad_requests, 0);
    CHECK_EQ_INT(count("SELECT count(*) FROM integrations WHERE id::text = $1 AND status = 'connected'"
                       " AND access_token_ciphertext LIKE 'v1.k1.%' AND refresh_token_ciphertext LIKE 'v1.k1.%'"
                       " AND token_expires_at > now()", id), 1);
    /* no plaintext token anywhere in the row */
    CHECK_EQ_INT(count("SELECT count(*) FROM integrations i WHERE row_to_json(i)::text LIKE '%ya29%'"
                       " OR row_to_json(i)::text LIKE '%refresh-%'", NULL), 0);
    CHECK_EQ_INT(events("integration.connected", id), 1);
    json_t *j;
    CHECK_EQ_INT(call("GET", "/v1/integrations?provider=google_calendar&status=connected", reader, NULL, &j), 200);
    CHECK(json_array_size(json_object_get(j, "data")) >= 1);
    char *text = json_dumps(j, 0);
    CHECK(text && !strstr(text, "ciphertext") && !strstr(text, "ya29"));
    free(text);
    json_decref(j);
}

static void state_is_single_use_and_expires(void)
{
    char state[64], body[256], id[64];
    REQUIRE(connect_google(id) == 0);
    REQUIRE(start_connect(state, sizeof state) == 0);
    snprintf(body, sizeof body, "{\"state\":\"%s\",\"code\":\"4/good-code\"}", state);
    json_t *j;
    CHECK_EQ_INT(call("POST", "/v1/integrations/google_calendar/callback", admin, body, &j), 201);
    json_decref(j);
    CHECK_EQ_INT(call("POST", "/v1/integrations/google_calendar/callback", admin, body, &j), 400);
    CHECK_EQ_STR(error_code(j), "OAUTH_ERROR");
    json_decref(j);
    REQUIRE(start_connect(state, sizeof state) == 0);
    exec_sql("UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE used_at IS NULL"
             " AND provider = $1", "google_calendar");
    snprintf(body, sizeof body, "{\"state\":\"%s\",\"code\":\"4/good-code\"}", state);
    CHECK_EQ_INT(call("POST", "/v1/integrations/google_calendar/callback", admin, body, &j), 400);
    CHECK(strstr(json_string_value(json_object_get(json_object_get(j, "error"), "message")), "expired") != NULL);
    json_decref(j);
    /* a state of this organization is not valid for another */
    REQUIRE(start_connect(state, sizeof state) == 0);
    snprintf(body, sizeof body, "{\"state\":\"%s\",\"code\":\"4/good-code\"}", state);
    CHECK_EQ_INT(call("POST", "/v1/integrations/google_calendar/callback", other_admin, body, &j), 400);
    json_decref(j);
    /* a wrong code is refused by the provider */
    snprintf(body, sizeof body, "{\"state\":\"%s\",\"code\":\"4/bad\"}", state);
    CHECK_EQ_INT(call("POST", "/v1/integrations/google_calendar/callback", admin, body, &j), 400);
    CHECK_EQ_STR(error_code(j), "OAUTH_ERROR");
    json_decref(j);
}

static void token_is_refreshed_before_expiry(void)
{
    char id[64], path[160];
    REQUIRE(connect_google(id) == 0);
    int before = fake.refreshes;
    snprintf(path, sizeof path, "/v1/integrations/%s/test", id);
    json_t *j;
    CHECK_EQ_INT(call("POST", path, admin, NULL, &j), 200);
    json_decref(j);
    CHECK_EQ_INT(fake.refreshes, before); /* far from expiry: no refresh */
    exec_sql("UPDATE integrations SET token_expires_at = now() + interval '30 seconds' WHERE id::text = $1", id);
    CHECK_EQ_INT(call("POST", path, admin, NULL, &j), 200);
    CHECK(json_is_true(json_object_get(j, "healthy")));
    CHECK_EQ_STR(json_string_value(json_object_get(j, "account")), "planner@example.com");
    json_decref(j);
    CHECK_EQ_INT(fake.refreshes, before + 1);
    CHECK_EQ_INT(count("SELECT count(*) FROM integrations WHERE id::text = $1"
                       " AND token_expires_at > now() + interval '50 minutes'", id), 1);
}

static void a_401_is_refreshed_and_retried_once(void)
{
    char id[64], path[160];
    REQUIRE(connect_google(id) == 0);
    int before = fake.refreshes;
    snprintf(path, sizeof path, "/v1/integrations/%s/test", id);
    fake.reject_next_401 = 1;
    json_t *j;
    CHECK_EQ_INT(call("POST", path, admin, NULL, &j), 200);
    json_decref(j);
    CHECK_EQ_INT(fake.refreshes, before + 1);
    /* two 401s in a row: one retry only, then INVALID_CREDENTIALS */
    fake.reject_next_401 = 2;
    CHECK_EQ_INT(call("POST", path, admin, NULL, &j), 409);
    CHECK_EQ_STR(error_code(j), "INVALID_CREDENTIALS");
    json_decref(j);
    CHECK_EQ_INT(fake.refreshes, before + 2);
    fake.reject_next_401 = 0;
}

static void refused_refresh_marks_error_and_publishes_disconnected(void)
{
    char id[64], path[160];
    REQUIRE(connect_google(id) == 0);
    fake.refuse_refresh = true;
    exec_sql("UPDATE integrations SET token_expires_at = now() WHERE id::text = $1", id);
    snprintf(path, sizeof path, "/v1/integrations/%s/test", id);
    json_t *j;
    CHECK_EQ_INT(call("POST", path, admin, NULL, &j), 409);
    CHECK_EQ_STR(error_code(j), "INVALID_CREDENTIALS");
    json_decref(j);
    fake.refuse_refresh = false;
    CHECK_EQ_INT(count("SELECT count(*) FROM integrations WHERE id::text = $1 AND status = 'error'"
                       " AND last_error_code = 'INVALID_CREDENTIALS'", id), 1);
    CHECK_EQ_INT(events("integration.disconnected", id), 1);
    /* a sync of an integration in error is refused */
    snprintf(path, sizeof path, "/v1/integrations/%s/sync", id);
    CHECK_EQ_INT(call("POST", path, admin, "{}", &j), 409);
    CHECK_EQ_STR(error_code(j), "SYNC_FAILED");
    json_decref(j);
}

static const char *field_error(const json_t *j, const char *field)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(j, "error"), "field_errors"), field));
}

static void settings_rules_are_validated_on_save(void)
{
    char id[64], path[160];
    REQUIRE(connect_google(id) == 0);
    snprintf(path, sizeof path, "/v1/integrations/%s/settings", id);
#define GOOD_RULE                                                                                                  \
    "{\"events\":[\"event.reminder_due\"],\"action\":\"create_event\",\"template\":{\"summary\":\"{eventName}\","     \
    "\"start\":\"{data.starts_at}\"}}"
    json_t *j;
    /* rule 2 asks for an action Google Calendar does not have */
    CHECK_EQ_INT(call("PUT", path, admin,
                      "{\"settings\":{\"calendar_id\":\"team\",\"rules\":[" GOOD_RULE ",{\"events\":[\"event.reminder_due\"],"
                      "\"action\":\"book_room\",\"template\":{}}]}}",
                      &j),
                 422);
    const char *why = field_error(j, "settings.rules[1]");
    CHECK(why && strstr(why, "rule 2") && strstr(why, "book_room"));
    json_decref(j);
    /* rule 1: a placeholder of no field of the event; a required field missing */
    CHECK_EQ_INT(call("PUT", path, admin,
                      "{\"settings\":{\"rules\":[{\"events\":[\"event.reminder_due\"],\"action\":\"create_event\","
                      "\"template\":{\"summary\":\"{data.no_such_field}\",\"start\":\"{data.starts_at}\"}}]}}",
                      &j),
                 422);
    why = field_error(j, "settings.rules[0]");
    CHECK(why && strstr(why, "rule 1") && strstr(why, "no_such_field"));
    json_decref(j);
    CHECK_EQ_INT(call("PUT", path, admin,
                      "{\"settings\":{\"rules\":[{\"events\":[\"event.reminder_due\"],\"action\":\"create_event\","
                      "\"template\":{\"start\":\"{data.starts_at}\"}}]}}",
                      &j),
                 422);
    why = field_error(j, "settings.rules[0]");
    CHECK(why && strstr(why, "summary"));
    json_decref(j);
    CHECK_EQ_INT(call("PUT", path, admin, "{\"settings\":{\"rules\":{}}}", &j), 422);
    CHECK(field_error(j, "settings.rules") != NULL);
    json_decref(j);
    /* nothing refused was saved; valid rules are */
    CHECK_EQ_INT(count("SELECT count(*) FROM integrations WHERE id::text = $1 AND settings ? 'rules'", id), 0);
    CHECK_EQ_INT(call("PUT", path, admin, "{\"settings\":{\"calendar_id\":\"team\",\"rules\":[" GOOD_RULE "]}}", &j),
                 200);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(j, "settings"),
                                                                                  "rules"), 0), "action")),
                 "create_event");
    json_decref(j);
#undef GOOD_RULE
}

static void delete_revokes_and_publishes_disconnected(void)
{
    char id[64], path[160];
    REQUIRE(connect_google(id) == 0);
    int before = fake.revokes;
    snprintf(path, sizeof path, "/v1/integrations/%s", id);
    json_t *j;
    CHECK_EQ_INT(call("DELETE", path, reader, NULL, &j), 403); /* admin only */
    json_decref(j);
    CHECK_EQ_INT(call("DELETE", path, other_admin, NULL, &j), 404);
    CHECK_EQ_STR(error_code(j), "INTEGRATION_NOT_FOUND");
    json_decref(j);
    CHECK_EQ_INT(call("DELETE", path, admin, NULL, &j), 200);
    CHECK(json_is_true(json_object_get(j, "tokensRevoked")));
    json_decref(j);
    CHECK_EQ_INT(fake.revokes, before + 1);
    CHECK_EQ_INT(count("SELECT count(*) FROM integrations WHERE id::text = $1", id), 0);
    CHECK_EQ_INT(events("integration.disconnected", id), 1);
}

static void sync_records_a_run_and_its_event(void)
{
    char id[64], path[160];
    REQUIRE(connect_google(id) == 0);
    snprintf(path, sizeof path, "/v1/integrations/%s/sync", id);
    json_t *j;
    CHECK_EQ_INT(call("POST", path, admin, "{\"direction\":\"sideways\"}", &j), 422);
    json_decref(j);
    CHECK_EQ_INT(call("POST", path, admin,
                      "{\"dryRun\":true,\"direction\":\"outbound\",\"dateRange\":{\"from\":\"2025-01-01T00:00:00Z\","
                      "\"to\":\"2025-02-01T00:00:00Z\"}}", &j), 202);
    const char *status_url = json_string_value(json_object_get(j, "statusUrl"));
    char url[200];
    snprintf(url, sizeof url, "%s", status_url ? status_url : "/none");
    json_decref(j);
    CHECK_EQ_INT(call("GET", url, reader, NULL, &j), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "status")), "queued");
    CHECK(json_is_true(json_object_get(j, "dry_run")));
    CHECK_EQ_STR(json_string_value(json_object_get(j, "direction")), "attendance_to_external");
    json_decref(j);
    /* one active run per integration */
    CHECK_EQ_INT(call("POST", path, admin, "{}", &j), 409);
    CHECK_EQ_STR(error_code(j), "SYNC_FAILED");
    json_decref(j);
    /* the calendar sync worker executes it (connectors/calendar_sync) */
    bl_err err = {0};
    bl_keyring *kr = bl_keyring_from_env(&err);
    bl_oauth_config oc = {0};
    bl_oauth_config_from_env(&oc);
    bl_oauth_store *st = kr ? bl_oauth_store_new(pool, kr, &oc, &err) : NULL;
    REQUIRE(st != NULL);
    bl_calsync_worker_opts wo = {.deps = {.pool = pool, .store = st, .worker_id = "test"}};
    CHECK_EQ_INT(bl_calsync_worker_step(&wo, &err), 1);
    bl_oauth_store_free(st);
    bl_keyring_free(kr);
    CHECK_EQ_INT(call("GET", url, reader, NULL, &j), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "status")), "success");
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(j, "statistics"), "eventsProcessed")), 0);
    json_decref(j);
    CHECK_EQ_INT(events("integration.sync_completed", id), 1);
    snprintf(path, sizeof path, "/v1/integrations/%s/history", id);
    CHECK_EQ_INT(call("GET", path, reader, NULL, &j), 200);
    CHECK_EQ_INT(json_array_size(json_object_get(j, "data")), 1);
    json_decref(j);
    CHECK_EQ_INT(call("GET", path, other_admin, NULL, &j), 404);
    json_decref(j);
}

static void errors_and_isolation(void)
{
    json_t *j;
    CHECK_EQ_INT(call("POST", "/v1/integrations/myspace/connect", admin, "{}", &j), 400);
    CHECK_EQ_STR(error_code(j), "PROVIDER_NOT_SUPPORTED");
    json_decref(j);
    CHECK_EQ_INT(call("POST", "/v1/integrations/google_calendar/connect", reader,
                      "{\"redirectUri\":\"" REDIRECT "\"}", &j), 403);
    json_decref(j);
    CHECK_EQ_INT(call("GET", "/v1/integrations", other_admin, NULL, &j), 200);
    CHECK_EQ_INT(json_array_size(json_object_get(j, "data")), 0);
    json_decref(j);
    CHECK_EQ_INT(call("PUT", "/v1/integrations/00000000-0000-0000-0000-000000000000/settings", admin,
                      "{\"settings\":{\"calendar_id\":\"primary\"}}", &j), 404);
    CHECK_EQ_STR(error_code(j), "INTEGRATION_NOT_FOUND");
    json_decref(j);
    CHECK_EQ_INT(call("PUT", "/v1/integrations/00000000-0000-0000-0000-000000000000/settings", admin,
                      "{\"settings\":{\"tenant\":\"a/b\"}}", &j), 422);
    json_decref(j);
}

static void providers_are_listed_from_the_connectors_table(void)
{
    json_t *j;
    CHECK_EQ_INT(call("GET", "/v1/integrations/providers", reader, NULL, &j), 200);
    json_t *data = json_object_get(j, "data");
    CHECK_EQ_INT(json_array_size(data), bl_saas_provider_count());
    json_t *azure = NULL;
    for (size_t i = 0; i < json_array_size(data); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(data, i), "name")), "azure_devops") == 0)
            azure = json_array_get(data, i);
    REQUIRE(azure != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(azure, "label")), "Azure DevOps");
    CHECK_EQ_STR(json_string_value(json_object_get(azure, "type")), "work_items");
    CHECK_EQ_STR(json_string_value(json_object_get(azure, "flow")), "pat");
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(azure, "settings"), 1)), "project");
    json_decref(j);
    CHECK_EQ_INT(call("GET", "/v1/integrations/providers", NULL, NULL, &j), 401);
    json_decref(j);
}

static void analytics_figures_are_exact(void)
{
    exec_sql("DELETE FROM integration_calls WHERE organization_id::text = $1", other_org);
    /* other_org connects once: one token call, then one whoami test */
    json_t *j;
    CHECK_EQ_INT(call("GET", "/v1/integrations/analytics", other_admin, NULL, &j), 200);
    CHECK_EQ_INT(json_array_size(json_object_get(j, "data")), 0);
    json_decref(j);
    exec_sql("INSERT INTO integration_calls (organization_id, provider, operation, success, http_status,"
             " duration_us, error_code) VALUES ($1, 'zoom', 'api', true, 200, 10000, NULL),"
             " ($1, 'zoom', 'api', true, 200, 20000, NULL), ($1, 'zoom', 'api', false, 429, 30000,"
             " 'RATE_LIMIT_EXCEEDED'), ($1, 'zoom', 'api', false, 401, 40000, 'INVALID_CREDENTIALS'),"
             " ($1, 'zoom', 'api', false, 429, 50000, 'RATE_LIMIT_EXCEEDED')", other_org);
    CHECK_EQ_INT(call("GET", "/v1/integrations/analytics", other_admin, NULL, &j), 200);
    json_t *zoom = json_array_get(json_object_get(j, "data"), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(zoom, "provider")), "zoom");
    CHECK_EQ_INT(json_integer_value(json_object_get(zoom, "calls")), 5);
    CHECK_EQ_INT(json_integer_value(json_object_get(zoom, "successful")), 2);
    CHECK(json_number_value(json_object_get(zoom, "success_rate")) == 40.0);
    CHECK(json_number_value(json_object_get(zoom, "average_response_ms")) == 30.0);
    json_t *top = json_array_get(json_object_get(zoom, "common_errors"), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(top, "code")), "RATE_LIMIT_EXCEEDED");
    CHECK_EQ_INT(json_integer_value(json_object_get(top, "count")), 2);
    json_decref(j);
    /* the main organization's calls were recorded in batches by the store */
    CHECK_EQ_INT(call("GET", "/v1/integrations/analytics", admin, NULL, &j), 200);
    json_t *google = json_array_get(json_object_get(j, "data"), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(google, "provider")), "google_calendar");
    CHECK(json_integer_value(json_object_get(google, "calls")) > 0);
    json_decref(j);
}

static int make_key(const char *o, bl_api_perm perm, char token[BL_API_TOKEN_SIZE], PGconn *conn, bl_err *err)
{
    char id[BL_API_ID_MAX];
    bl_api_key_spec spec = {.org_id = o, .name = "t", .perm = perm, .rate_per_hour = 100000};
    return bl_api_key_create(conn, &spec, token, id, err);
}

static int setup(void)
{
    bl_err err = {0};
    if (fake_oauth_start(&fake, "google-client", "google-secret") != 0)
        return -1;
    snprintf(fake.redirect_uri, sizeof fake.redirect_uri, "%s", REDIRECT);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", fake_oauth_port(&fake));
    setenv("BUSLINE_ENCRYPTION_KEYS", KEYS, 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_CLIENT_ID", "google-client", 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_CLIENT_SECRET", "google-secret", 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_BASE_URL", base, 1);
    if (bl_test_pg_fresh_db(pg_url, sizeof pg_url, &err) != 0)
        goto fail;
    PGconn *conn = bl_pg_connect(pg_url, &err);
    int ok = conn && bl_migrations_apply(conn, BUSLINE_SOURCE_DIR "/migrations", &err) >= 0 &&
             bl_api_org_create(conn, "pro", BL_API_PLAN_PRO, org, &err) == 0 &&
             bl_api_org_create(conn, "other", BL_API_PLAN_PRO, other_org, &err) == 0 &&
             make_key(org, BL_API_PERM_ADMIN, admin, conn, &err) == 0 &&
             make_key(org, BL_API_PERM_READ, reader, conn, &err) == 0 &&
             make_key(other_org, BL_API_PERM_ADMIN, other_admin, conn, &err) == 0;
    PQfinish(conn);
    if (!ok || !(pool = bl_pg_pool_new(pg_url, 8, &err)))
        goto fail;
    bl_api_config cfg = {0};
    if (!(srv = bl_api_server_new(&cfg, pool, &err)) || bl_api_server_start(srv, &err) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "setup: %s\n", err.msg);
    return -1;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (setup() == 0) {
        BL_RUN(connect_exchanges_code_with_pkce_and_seals_tokens);
        BL_RUN(state_is_single_use_and_expires);
        BL_RUN(token_is_refreshed_before_expiry);
        BL_RUN(a_401_is_refreshed_and_retried_once);
        BL_RUN(refused_refresh_marks_error_and_publishes_disconnected);
        BL_RUN(settings_rules_are_validated_on_save);
        BL_RUN(delete_revokes_and_publishes_disconnected);
        BL_RUN(sync_records_a_run_and_its_event);
        BL_RUN(errors_and_isolation);
        BL_RUN(analytics_figures_are_exact);
        BL_RUN(providers_are_listed_from_the_connectors_table);
    } else {
        bl_test_failures++;
    }
    bl_api_server_free(srv);
    bl_pg_pool_free(pool);
    if (pg_url[0])
        bl_test_pg_drop_db(pg_url);
    fake_oauth_stop(&fake);
    curl_global_cleanup();
    return bl_test_summary();
}
