/* The alert evaluator (see alerts.h): one query measures every rule where
 * it applies and joins the open alerts; each row is then opened, updated
 * or resolved, with its event appended to the outbox, all in the tick's
 * transaction. */
#include "api/alerts/alerts.h"

#include "core/log.h"
#include "core/ticker.h"
#include "producers/outbox/domain_events.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bl_alert_evaluator {
    bl_pg_pool *pool;
    bl_domain_events *events;
    bl_ticker *ticker;
};

/* Columns: 0 organization_id, 1 rule_id, 2 type, 3 subject, 4 custom_api_id,
 * 5 threshold, 6 severity, 7 window_seconds, 8 calls, 9 value, 10 firing,
 * 11 open alert id, 12 its opened_at (unix ms), 13 its current value,
 * 14 the rule's channels (JSON text), 15 its comparison. A measured row without an open alert, with one, or an
 * open alert nothing measures any more (its endpoint gone, its rule gone or
 * disabled: firing false, value NULL). Threshold and severity are the
 * rule's as it is now (an edit applies to the open alert), the alert's own
 * when nothing measures it. */
static const char evaluate_sql[] =
    "WITH er AS (SELECT DISTINCT ON (a.id, r.type) a.organization_id, r.id AS rule_id, r.type,"
    "  'custom_api:' || a.id AS subject, a.id AS custom_api_id, r.threshold, r.severity, r.window_seconds,"
    "  r.min_calls, r.enabled, r.comparison, r.channels"
    "  FROM custom_apis a JOIN alert_rules r ON r.type <> 'webhook-failure' AND r.organization_id = a.organization_id"
    "   AND (r.custom_api_id IS NULL OR r.custom_api_id = a.id)"
    "  WHERE a.is_active ORDER BY a.id, r.type, r.custom_api_id IS NULL),"
    " em AS (SELECT er.*, m.calls, CASE er.type WHEN 'high-latency' THEN m.p95"
    "   WHEN 'rate-limit' THEN m.limited_pct ELSE m.error_pct END AS value"
    "  FROM er, LATERAL (SELECT count(*) AS calls,"
    "   percentile_cont(0.95) WITHIN GROUP (ORDER BY k.response_time_ms) AS p95,"
    "   100.0 * count(*) FILTER (WHERE k.status_code >= 500) / nullif(count(*), 0) AS error_pct,"
    "   100.0 * count(*) FILTER (WHERE k.status_code = 429) / nullif(count(*), 0) AS limited_pct"
    "   FROM custom_api_metrics k WHERE k.custom_api_id = er.custom_api_id"
    "    AND k.recorded_at > now() - make_interval(secs => er.window_seconds)) m"
    "  WHERE er.enabled),"
    " wr AS (SELECT DISTINCT ON (o.id) o.id AS organization_id, r.id AS rule_id, r.type, 'webhooks' AS subject,"
    "  NULL::uuid AS custom_api_id, r.threshold, r.severity, r.window_seconds, r.min_calls, r.enabled, r.comparison,"
    "  r.channels FROM api_organizations o JOIN alert_rules r ON r.type = 'webhook-failure' AND r.organization_id = o.id"
    "  WHERE EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.organization_id = o.id::text)"
    "  ORDER BY o.id),"
    " wm AS (SELECT wr.*, m.calls, m.calls::float8 AS value FROM wr, LATERAL (SELECT count(*) AS calls"
    "   FROM webhook_deliveries d WHERE d.organization_id = wr.organization_id::text AND NOT d.succeeded"
    "    AND d.attempt > 3 AND d.delivered_at > now() - make_interval(secs => wr.window_seconds)) m"
    "  WHERE wr.enabled),"
    " ms AS (SELECT *, calls >= min_calls AND value IS NOT NULL AND CASE comparison"
    "   WHEN 'gt' THEN value > threshold WHEN 'gte' THEN value >= threshold WHEN 'lt' THEN value < threshold"
    "   ELSE value <= threshold END AS firing FROM (SELECT * FROM em UNION ALL SELECT * FROM wm) u),"
    " op AS (SELECT * FROM api_alerts WHERE resolved_at IS NULL)"
    " SELECT coalesce(ms.organization_id, op.organization_id), coalesce(ms.rule_id, op.rule_id),"
    "  coalesce(ms.type, op.type), coalesce(ms.subject, op.subject), coalesce(ms.custom_api_id, op.custom_api_id),"
    "  coalesce(ms.threshold, op.threshold), coalesce(ms.severity, op.severity), coalesce(ms.window_seconds, 0),"
    "  coalesce(ms.calls, 0), ms.value, coalesce(ms.firing, false), op.id,"
    "  (extract(epoch FROM op.created_at) * 1000)::bigint, op.current_value,"
    "  coalesce(ms.channels, r.channels, '[]')::text, ms.comparison"
    " FROM ms FULL JOIN op ON op.organization_id = ms.organization_id AND op.type = ms.type"
    "  AND op.subject = ms.subject LEFT JOIN alert_rules r ON r.id = op.rule_id"
    " WHERE coalesce(ms.firing, false) OR op.id IS NOT NULL";

/* One row of evaluate_sql, borrowed from its result. */
typedef struct measured {
    const char *org, *rule_id, *type, *subject, *custom_api_id, *severity, *channels, *comparison;
    double threshold, value;
    bool has_value, firing;
    int window_s;
    long calls;
    const char *open_id;
    int64_t opened_ms;
    double open_value;
} measured;

static const char *col(PGresult *r, int i, int c)
{
    return PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
}

static measured row_at(PGresult *r, int i)
{
    measured m = {.org = col(r, i, 0), .rule_id = col(r, i, 1), .type = col(r, i, 2), .subject = col(r, i, 3),
                  .custom_api_id = col(r, i, 4), .threshold = atof(PQgetvalue(r, i, 5)),
                  .severity = col(r, i, 6), .window_s = atoi(PQgetvalue(r, i, 7)), .calls = atol(PQgetvalue(r, i, 8)),
                  .has_value = !PQgetisnull(r, i, 9), .firing = PQgetvalue(r, i, 10)[0] == 't',
                  .open_id = col(r, i, 11), .channels = PQgetvalue(r, i, 14), .comparison = col(r, i, 15)};
    m.value = m.has_value ? atof(PQgetvalue(r, i, 9)) : 0;
    if (m.open_id) {
        m.opened_ms = atoll(PQgetvalue(r, i, 12));
        m.open_value = atof(PQgetvalue(r, i, 13));
    }
    return m;
}

/* How the value met the threshold, in words (the rule's comparison). */
static const char *compared(const measured *m)
{
    static const char *const words[][2] = {{"gte", "at or above"}, {"lt", "below"}, {"lte", "at or below"}};
    for (size_t i = 0; m->comparison && i < sizeof words / sizeof words[0]; i++)
        if (strcmp(m->comparison, words[i][0]) == 0)
            return words[i][1];
    return "above";
}

/* The alert in words, into out. */
static void describe(const measured *m, char *out, size_t len)
{
    if (strcmp(m->type, "high-latency") == 0)
        snprintf(out, len, "p95 response time %.1f ms over the last %d s is %s %.0f ms (%ld calls)", m->value,
                 m->window_s, compared(m), m->threshold, m->calls);
    else if (strcmp(m->type, "error-rate") == 0)
        snprintf(out, len, "%.1f %% of the calls over the last %d s failed (500 or more), %s %.1f %% (%ld calls)",
                 m->value, m->window_s, compared(m), m->threshold, m->calls);
    else if (strcmp(m->type, "rate-limit") == 0)
        snprintf(out, len, "%.1f %% of the calls over the last %d s were refused by the rate limit, %s %.1f %%"
                 " (%ld calls)", m->value, m->window_s, compared(m), m->threshold, m->calls);
    else if (strcmp(m->type, "downtime") == 0)
        snprintf(out, len, "down: %.1f %% of the calls over the last %d s failed (%ld calls)", m->value, m->window_s,
                 m->calls);
    else
        snprintf(out, len, "%ld webhook deliveries failed after more than 3 attempts over the last %d s, %s %.0f",
                 m->calls, m->window_s, compared(m), m->threshold);
}

static int append_event(bl_alert_evaluator *ev, PGconn *conn, const char *event_type, const measured *m,
                        const char *alert_id, double value, const char *message, int64_t opened_ms,
                        int64_t resolved_ms, bl_err *err)
{
    json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:s, s:I}", "alert_id", alert_id, "alert_type", m->type,
                             "subject", m->subject, "severity", m->severity, "threshold", m->threshold,
                             "current_value", value, "message", message, "opened_at", (json_int_t)opened_ms);
    if (!data)
        return bl_err_set(err, BL_ENOMEM, "alerts: out of memory");
    json_object_set_new(data, "custom_api_id", m->custom_api_id ? json_string(m->custom_api_id) : json_null());
    json_t *channels = json_loads(m->channels, 0, NULL);
    json_object_set_new(data, "channels", json_is_array(channels) ? channels : json_array());
    if (!json_is_array(channels))
        json_decref(channels);
    if (resolved_ms)
        json_object_set_new(data, "resolved_at", json_integer(resolved_ms));
    else
        json_object_set_new(data, "window_seconds", json_integer(m->window_s));
    int rc = bl_domain_events_append(ev->events, conn, event_type, m->org, "alert", alert_id, data, err);
    json_decref(data);
    return rc;
}

/* Opens m's alert unless one is open already (another evaluator's tick).
 * Returns 1 when it opened, 0, or -1 with err. */
static int open_alert(bl_alert_evaluator *ev, PGconn *conn, const measured *m, bl_err *err)
{
    char message[400], threshold[40], value[40];
    describe(m, message, sizeof message);
    snprintf(threshold, sizeof threshold, "%.17g", m->threshold);
    snprintf(value, sizeof value, "%.17g", m->value);
    const char *p[] = {m->org, m->rule_id, m->custom_api_id, m->subject, m->type, threshold, value, m->severity,
                       message};
    PGresult *r = bl_pg_exec(conn,
                             "INSERT INTO api_alerts (organization_id, rule_id, custom_api_id, subject, type, threshold,"
                             " current_value, severity, message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                             " ON CONFLICT (organization_id, type, subject) WHERE resolved_at IS NULL DO NOTHING"
                             " RETURNING id, (extract(epoch FROM created_at) * 1000)::bigint",
                             9, p, err);
    if (!r)
        return bl_err_wrap(err, "alerts: open");
    int rc = 0;
    if (PQntuples(r) == 1) {
        rc = append_event(ev, conn, "alert.opened", m, PQgetvalue(r, 0, 0), m->value, message,
                          atoll(PQgetvalue(r, 0, 1)), 0, err) == 0 ? 1 : -1;
        if (rc == 1)
            bl_log_info("alert opened", BL_FS("alert_id", PQgetvalue(r, 0, 0)), BL_FS("type", m->type),
                        BL_FS("subject", m->subject), BL_FS("message", message));
    }
    PQclear(r);
    return rc;
}

/* Updates m's open alert: its current value, and its rule's threshold and
 * severity as they are now. */
static int update_alert(PGconn *conn, const measured *m, bl_err *err)
{
    char message[400], value[40], threshold[40];
    describe(m, message, sizeof message);
    snprintf(value, sizeof value, "%.17g", m->value);
    snprintf(threshold, sizeof threshold, "%.17g", m->threshold);
    const char *p[] = {m->open_id, value, message, threshold, m->severity, m->rule_id};
    return bl_pg_exec_cmd(conn, "UPDATE api_alerts SET current_value = $2, message = $3, threshold = $4,"
                                " severity = $5, rule_id = $6, updated_at = now() WHERE id = $1 AND resolved_at IS NULL",
                          6, p, err);
}

/* Resolves m's open alert. Returns 1 when it did, 0 (already resolved), or -1 with err. */
static int resolve_alert(bl_alert_evaluator *ev, PGconn *conn, const measured *m, bl_err *err)
{
    char message[400], value[40];
    if (!m->has_value)
        snprintf(message, sizeof message,
                 "resolved: nothing to measure any more (its endpoint is gone, or its rule is gone or disabled)");
    else if (m->calls == 0)
        snprintf(message, sizeof message, "resolved: no calls over the last %d s", m->window_s);
    else
        snprintf(message, sizeof message, "resolved: %s now %.1f against a threshold of %.1f over the last %d s (%ld calls)",
                 m->type, m->value, m->threshold, m->window_s, m->calls);
    double v = m->has_value ? m->value : m->open_value;
    snprintf(value, sizeof value, "%.17g", v);
    const char *p[] = {m->open_id, value};
    PGresult *r = bl_pg_exec(conn,
                             "UPDATE api_alerts SET resolved_at = now(), updated_at = now(), current_value = $2"
                             " WHERE id = $1 AND resolved_at IS NULL"
                             " RETURNING (extract(epoch FROM resolved_at) * 1000)::bigint",
                             2, p, err);
    if (!r)
        return bl_err_wrap(err, "alerts: resolve");
    int rc = 0;
    if (PQntuples(r) == 1) {
        rc = append_event(ev, conn, "alert.resolved", m, m->open_id, v, message, m->opened_ms,
                          atoll(PQgetvalue(r, 0, 0)), err) == 0 ? 1 : -1;
        if (rc == 1)
            bl_log_info("alert resolved", BL_FS("alert_id", m->open_id), BL_FS("type", m->type),
                        BL_FS("subject", m->subject));
    }
    PQclear(r);
    return rc;
}

typedef struct tick_ctx {
    bl_alert_evaluator *ev;
    bl_alert_tick *out;
} tick_ctx;

static int tick_tx(PGconn *conn, void *arg, bl_err *err)
{
    tick_ctx *c = arg;
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)BL_ALERTS_LOCK_KEY);
    const char *kp[] = {key};
    PGresult *r = bl_pg_exec(conn, "SELECT pg_try_advisory_xact_lock($1::bigint)", 1, kp, err);
    if (!r)
        return bl_err_wrap(err, "alerts: lock");
    bool mine = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!mine) {
        c->out->skipped = 1;
        return 0;
    }
    if (!(r = bl_pg_exec(conn, evaluate_sql, 0, NULL, err)))
        return bl_err_wrap(err, "alerts: evaluate");
    int rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        measured m = row_at(r, i);
        int did = 0;
        if (m.firing && !m.open_id) {
            if ((did = open_alert(c->ev, conn, &m, err)) > 0)
                c->out->opened++;
        } else if (m.firing) {
            if ((did = update_alert(conn, &m, err)) == 0 && m.value != m.open_value)
                c->out->updated++;
        } else if ((did = resolve_alert(c->ev, conn, &m, err)) > 0) {
            c->out->resolved++;
        }
        rc = did < 0 ? -1 : 0;
    }
    PQclear(r);
    return rc;
}

int bl_alert_evaluate(bl_alert_evaluator *ev, bl_alert_tick *out, bl_err *err)
{
    bl_alert_tick local;
    tick_ctx c = {.ev = ev, .out = out ? out : &local};
    memset(c.out, 0, sizeof *c.out);
    PGconn *conn = bl_pg_pool_acquire(ev->pool, 5000, err);
    if (!conn)
        return -1;
    int rc = bl_pg_transaction(conn, tick_tx, &c, err);
    bl_pg_pool_release(ev->pool, conn);
    if (rc != 0)
        memset(c.out, 0, sizeof *c.out);
    return rc;
}

static void tick(void *arg)
{
    bl_err err = {0};
    if (bl_alert_evaluate(arg, NULL, &err) != 0)
        bl_log_warn("alerts: evaluation failed, next tick retries", BL_FS("error", err.msg));
}

bl_alert_evaluator *bl_alert_evaluator_new(bl_pg_pool *pool, const char *schemas_dir, const char *topic_prefix,
                                           bl_err *err)
{
    bl_alert_evaluator *ev = calloc(1, sizeof *ev);
    if (!ev) {
        bl_err_set(err, BL_ENOMEM, "alerts: out of memory");
        return NULL;
    }
    ev->pool = pool;
    if (!(ev->events = bl_domain_events_new(pool, schemas_dir, BL_ALERTS_DOMAIN, BL_ALERTS_SOURCE, topic_prefix,
                                            err))) {
        bl_err_wrap(err, "alerts");
        free(ev);
        return NULL;
    }
    return ev;
}

int bl_alert_evaluator_start(bl_alert_evaluator *ev, unsigned period_ms, bl_err *err)
{
    ev->ticker = bl_ticker_start(period_ms, BL_TICKER_AFTER_A_PERIOD, tick, ev, "alerts: the evaluator", err);
    return ev->ticker ? 0 : -1;
}

const char *bl_alert_evaluator_topic(const bl_alert_evaluator *ev)
{
    return bl_domain_events_topic(ev->events);
}

void bl_alert_evaluator_free(bl_alert_evaluator *ev)
{
    if (!ev)
        return;
    bl_ticker_stop(ev->ticker);
    bl_domain_events_free(ev->events);
    free(ev);
}
