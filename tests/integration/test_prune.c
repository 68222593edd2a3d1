/* busline prune against a fresh, migrated database: in every table it trims,
 * an expired row goes and a recent one (or one its rule spares: a running
 * sync, a pending replay, a connector's issue mapping) stays; --dry-run
 * counts without deleting; batches smaller than the backlog still delete
 * all of it; a bad keep period is refused with a message. */
#include "core/migrations.h"
#include "core/pg_pool.h"
#include "tests/support/pg_test.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char url[512];
static PGconn *conn;

/* One old and one recent row per table, plus rows the rules spare. */
static const char *const seed[] = {
    "INSERT INTO api_organizations (id, name) VALUES ('00000000-0000-0000-0000-000000000001', 'org')",
    "INSERT INTO api_users (id, organization_id, email, password_hash) VALUES"
    " ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001', 'a@b.c', 'x')",
    "INSERT INTO integrations (id, organization_id, provider, type) VALUES"
    " ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-000000000001', 'jira', 'issue_tracker')",
    /* 1200 expired delivery log rows: more than one batch */
    "INSERT INTO webhook_deliveries (endpoint_id, organization_id, event_type, event_id, succeeded, duration_ms,"
    " attempt, delivered_at) SELECT 'ep', 'org', 'risk.created', 'old-' || i, true, 1, 1, now() - interval '40 days'"
    " FROM generate_series(1, 1200) i",
    "INSERT INTO webhook_deliveries (endpoint_id, organization_id, event_type, event_id, succeeded, duration_ms,"
    " attempt) VALUES ('ep', 'org', 'risk.created', 'new', true, 1, 1)",
    "INSERT INTO api_request_log (request_id, method, route, status, duration_us, created_at) VALUES"
    " ('old', 'GET', '/v1/x', 200, 1, now() - interval '40 days'), ('new', 'GET', '/v1/x', 200, 1, now())",
    "INSERT INTO integration_calls (organization_id, provider, operation, success, duration_us, created_at) VALUES"
    " ('00000000-0000-0000-0000-000000000001', 'jira', 'api', true, 1, now() - interval '40 days'),"
    " ('00000000-0000-0000-0000-000000000001', 'jira', 'api', true, 1, now())",
    "INSERT INTO integration_sync_runs (integration_id, status, direction, started_at) VALUES"
    " ('00000000-0000-0000-0000-0000000000b1', 'completed', 'both', now() - interval '100 days'),"
    " ('00000000-0000-0000-0000-0000000000b1', 'running', 'both', now() - interval '100 days'),"
    " ('00000000-0000-0000-0000-0000000000b1', 'completed', 'both', now())",
    "INSERT INTO api_commands (command_id, organization_id, command_type, topic, subject, request_sha256, state,"
    " created_at) SELECT gen_random_uuid(), '00000000-0000-0000-0000-000000000001', 'risk.create', 't', 's',"
    " repeat('a', 64), 'accepted', t FROM (VALUES (now() - interval '40 days'), (now())) v(t)",
    "INSERT INTO api_rate_counters (subject, window_kind, window_start, used, last_grant) VALUES"
    " ('key:a', 'day', now() - interval '3 days', 1, 1), ('key:a', 'day', date_trunc('day', now()), 1, 1)",
    "INSERT INTO oauth_states (state_sha256, organization_id, provider, redirect_uri, expires_at) VALUES"
    " (repeat('1', 64), '00000000-0000-0000-0000-000000000001', 'jira', 'http://x', now() - interval '2 days'),"
    " (repeat('2', 64), '00000000-0000-0000-0000-000000000001', 'jira', 'http://x', now() + interval '10 minutes')",
    "INSERT INTO api_refresh_tokens (user_id, family_id, token_sha256, expires_at) VALUES"
    " ('00000000-0000-0000-0000-0000000000a1', gen_random_uuid(), repeat('3', 64), now() - interval '2 days'),"
    " ('00000000-0000-0000-0000-0000000000a1', gen_random_uuid(), repeat('4', 64), now() + interval '1 day')",
    "INSERT INTO webhook_replay_requests (endpoint_id, organization_id, replay_since, requested_by, requested_at,"
    " replay_until, status) VALUES ('ep', 'org', now() - interval '41 days', 'key:a', now() - interval '40 days',"
    " now() - interval '40 days', 'completed'),"
    " ('ep', 'org', now() - interval '41 days', 'key:a', now() - interval '40 days', now() - interval '40 days',"
    " 'queued'), ('ep', 'org', now() - interval '1 day', 'key:a', now(), now(), 'completed')",
    "INSERT INTO connector_state (integration_id, key, value, updated_at) VALUES"
    " ('i', 'done/e1/r', '1', now() - interval '40 days'), ('i', 'done/e2/r', '1', now()),"
    " ('i', 'issue/risk-1', 'OPS-1', now() - interval '400 days')",
};

/* What each table holds after a prune with the default keep periods. */
static const struct {
    const char *table;
    long before, after;
} expect[] = {
    {"webhook_deliveries", 1201, 1}, {"api_request_log", 2, 1},  {"integration_calls", 2, 1},
    {"integration_sync_runs", 3, 2}, {"api_commands", 2, 1},     {"api_rate_counters", 2, 1},
    {"oauth_states", 2, 1},          {"api_refresh_tokens", 2, 1}, {"webhook_replay_requests", 3, 2},
    {"connector_state", 3, 2},
};

static long count(const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    bl_err err = {0};
    PGresult *r = bl_pg_exec(conn, sql, 0, NULL, &err);
    long n = r ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return n;
}

static int run_prune(const char *args, char *out, size_t len)
{
    char env[600];
    snprintf(env, sizeof env, "BUSLINE_PG_URL='%s'", url);
    return bl_test_run_busline(env, args, out, len);
}

static void dry_run_counts_and_deletes_nothing(void)
{
    char out[4096];
    CHECK_EQ_INT(run_prune("prune --dry-run", out, sizeof out), 0);
    CHECK(strstr(out, "webhook_deliveries\t1200 (dry run)") != NULL);
    CHECK(strstr(out, "connector_state\t1 (dry run)") != NULL);
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        CHECK_EQ_INT(count(expect[i].table), expect[i].before);
}

static void expired_rows_go_and_the_rest_stays(void)
{
    char out[4096];
    CHECK_EQ_INT(run_prune("prune --batch 500", out, sizeof out), 0);
    CHECK(strstr(out, "webhook_deliveries\t1200\n") != NULL);
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        long n = count(expect[i].table);
        if (n != expect[i].after)
            fprintf(stderr, "  %s: %ld rows, want %ld\n", expect[i].table, n, expect[i].after);
        CHECK_EQ_INT(n, expect[i].after);
    }
    /* the spared rows are the right ones */
    CHECK_EQ_INT(count("integration_sync_runs WHERE status = 'running'"), 1);
    CHECK_EQ_INT(count("webhook_replay_requests WHERE status = 'queued'"), 1);
    CHECK_EQ_INT(count("connector_state WHERE key = 'issue/risk-1'"), 1);
    /* a second run finds nothing more */
    CHECK_EQ_INT(run_prune("prune", out, sizeof out), 0);
    CHECK(strstr(out, "webhook_deliveries\t0\n") != NULL);
}

static void a_shorter_keep_period_takes_more(void)
{
    char out[4096];
    CHECK_EQ_INT(run_prune("prune --keep-deliveries 0s", out, sizeof out), 0);
    CHECK_EQ_INT(count("webhook_deliveries"), 0);
    CHECK_EQ_INT(count("api_request_log"), 1);
}

static void bad_keep_period_is_refused(void)
{
    char out[4096];
    CHECK(run_prune("prune --keep-commands soon", out, sizeof out) != 0);
    CHECK(strstr(out, "keep-commands") != NULL);
    CHECK(strstr(out, "not a duration") != NULL);
}

int main(void)
{
    bl_err err = {0};
    if (bl_test_pg_fresh_db(url, sizeof url, &err) != 0 || !(conn = bl_pg_connect(url, &err)) ||
        bl_migrations_apply(conn, BUSLINE_SOURCE_DIR "/migrations", &err) < 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 1;
    }
    int seeded = 1;
    for (size_t i = 0; i < sizeof seed / sizeof seed[0] && seeded; i++)
        if (bl_pg_exec_cmd(conn, seed[i], 0, NULL, &err) != 0) {
            fprintf(stderr, "seed %zu: %s\n", i, err.msg);
            seeded = 0;
        }
    if (seeded) {
        BL_RUN(dry_run_counts_and_deletes_nothing);
        BL_RUN(expired_rows_go_and_the_rest_stays);
        BL_RUN(a_shorter_keep_period_takes_more);
        BL_RUN(bad_keep_period_is_refused);
    }
    PQfinish(conn);
    bl_test_pg_drop_db(url);
    return seeded ? bl_test_summary() : 1;
}
