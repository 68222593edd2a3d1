/* Batched deletes of expired rows (see retention.h). */
#include "core/retention.h"

#include "core/pg_pool.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* Each rule's time column has an index (migrations/070_retention.sql). */
static const bl_retention_rule rules[] = {
    {"deliveries", "keep-deliveries", "BUSLINE_KEEP_DELIVERIES", "webhook_deliveries", "delivered_at", NULL,
     "30d", "webhook delivery log rows"},
    {"request_log", "keep-request-log", "BUSLINE_KEEP_REQUEST_LOG", "api_request_log", "created_at", NULL, "30d",
     "API request log rows"},
    {"custom_api_metrics", "keep-custom-api-metrics", "BUSLINE_KEEP_CUSTOM_API_METRICS", "custom_api_metrics",
     "recorded_at", NULL, "30d", "custom endpoint call metrics (APIMetric rows)"},
    {"integration_calls", "keep-integration-calls", "BUSLINE_KEEP_INTEGRATION_CALLS", "integration_calls",
     "created_at", NULL, "30d", "SaaS provider call log rows"},
    {"sync_runs", "keep-sync-runs", "BUSLINE_KEEP_SYNC_RUNS", "integration_sync_runs", "started_at",
     "status <> 'running'", "90d", "finished sync runs"},
    {"commands", "keep-commands", "BUSLINE_KEEP_COMMANDS", "api_commands", "created_at", NULL, "30d",
     "API command records (status URLs, Idempotency-Keys)"},
    {"command_refusals", "keep-command-refusals", "BUSLINE_KEEP_COMMAND_REFUSALS", "domain_command_refusals",
     "refused_at", NULL, "30d", "domain services' refused commands (the status URL's reason)"},
    {"rate_counters", "keep-rate-counters", "BUSLINE_KEEP_RATE_COUNTERS", "api_rate_counters", "window_start",
     NULL, "2d", "API rate-limit windows, counted from their start"},
    {"oauth_states", "keep-oauth-states", "BUSLINE_KEEP_OAUTH_STATES", "oauth_states", "expires_at", NULL, "1d",
     "OAuth states, counted from their expiry"},
    {"refresh_tokens", "keep-refresh-tokens", "BUSLINE_KEEP_REFRESH_TOKENS", "api_refresh_tokens", "expires_at",
     NULL, "1d", "refresh tokens, counted from their expiry"},
    {"replay_requests", "keep-replay-requests", "BUSLINE_KEEP_REPLAY_REQUESTS", "webhook_replay_requests",
     "requested_at", "status IN ('completed', 'cancelled', 'failed')", "30d",
     "finished webhook replay jobs"},
    {"connector_marks", "keep-connector-marks", "BUSLINE_KEEP_CONNECTOR_MARKS", "connector_state", "updated_at",
     "key LIKE 'done/%'", "30d", "connectors' handled-event marks (keep longer than the topics' retention)"},
    {0},
};

const bl_retention_rule *bl_retention_rules(void)
{
    return rules;
}

int64_t bl_retention_prune(PGconn *conn, const bl_retention_rule *rule, int64_t keep_ms, int batch, int dry_run,
                           bl_err *err)
{
    if (!conn || !rule || !rule->table || keep_ms < 0 || batch < 1)
        return bl_err_set(err, BL_EINVAL, "retention: a connection, a rule, keep >= 0 and batch >= 1 are needed");
    char where[512], sql[1024], keep[32], limit[32];
    snprintf(where, sizeof where, "%s < now() - make_interval(secs => $1::bigint / 1000.0)%s%s",
             rule->time_column, rule->condition ? " AND " : "", rule->condition ? rule->condition : "");
    snprintf(keep, sizeof keep, "%" PRId64, keep_ms);
    snprintf(limit, sizeof limit, "%d", batch);
    const char *params[] = {keep, limit};
    if (dry_run) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE %s", rule->table, where);
        PGresult *r = bl_pg_exec(conn, sql, 1, params, err);
        if (!r)
            return bl_err_wrap(err, "retention: %s", rule->table);
        int64_t n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        return n;
    }
    /* ctid: any table, whatever its key; each batch commits on its own */
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE ctid = ANY (ARRAY(SELECT ctid FROM %s WHERE %s LIMIT $2))",
             rule->table, rule->table, where);
    int64_t total = 0;
    for (;;) {
        PGresult *r = bl_pg_exec(conn, sql, 2, params, err);
        if (!r)
            return bl_err_wrap(err, "retention: %s (after %" PRId64 " rows)", rule->table, total);
        int64_t n = strtoll(PQcmdTuples(r), NULL, 10);
        PQclear(r);
        total += n;
        if (n < batch)
            return total;
    }
}
