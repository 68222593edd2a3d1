/* Enabling and disabling webhook endpoints, and their health: a long run of
 * failed deliveries disables an endpoint. Each state change and its event
 * (webhook.disabled / webhook.enabled) commit in one transaction. */
#include "connectors/webhook/store/endpoint_store.h"
#include "connectors/webhook/store/endpoint_store_internal.h"

#include "core/time_format.h"
#include "core/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One health or state change: inputs, and what it did. */
typedef struct health_ctx {
    const bl_webhook_events *events;
    const char *id;
    const char *reason;  /* disable: the reason to store */
    int health_failures;
    int64_t health_window_ms;
    bool changed;        /* out: the endpoint changed state */
    const bl_webhook_store_opts *opts; /* its on_change runs around enable and disable */
} health_ctx;

/* The endpoint row's state as a transaction sees it. */
typedef struct endpoint_state {
    bool active;
    char organization_id[BL_WEBHOOK_ORG_MAX + 1];
    char name[BL_WEBHOOK_NAME_MAX + 1];
    char url[BL_SSRF_URL_MAX + 1];
    char reason[BL_WEBHOOK_REASON_MAX + 1];
    bool has_reason;
    int failures;
    int64_t failing_since_ms; /* 0: none */
    int64_t failing_for_ms;
} endpoint_state;

#define STATE_COLS                                                                        \
    "active, organization_id, name, url, disabled_reason, consecutive_failures, "       \
    BL_WEBHOOK_MS("failure_window_started_at") ", "                                     \
    "coalesce((extract(epoch from now() - failure_window_started_at) * 1000)::bigint, 0)"

static void copy_text(char *dst, size_t cap, const PGresult *res, int col)
{
    snprintf(dst, cap, "%s", PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col));
}

/* Reads the STATE_COLS row of res; BL_ENOTFOUND when there is none. */
static int read_state(PGresult *res, const char *id, endpoint_state *s, bl_err *err)
{
    if (PQntuples(res) == 0) {
        PQclear(res);
        return bl_err_set(err, BL_ENOTFOUND, "webhook endpoint %.64s not found", id);
    }
    s->active = PQgetvalue(res, 0, 0)[0] == 't';
    copy_text(s->organization_id, sizeof s->organization_id, res, 1);
    copy_text(s->name, sizeof s->name, res, 2);
    copy_text(s->url, sizeof s->url, res, 3);
    s->has_reason = !PQgetisnull(res, 0, 4);
    copy_text(s->reason, sizeof s->reason, res, 4);
    s->failures = atoi(PQgetvalue(res, 0, 5));
    s->failing_since_ms = PQgetisnull(res, 0, 6) ? 0 : strtoll(PQgetvalue(res, 0, 6), NULL, 10);
    s->failing_for_ms = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
    PQclear(res);
    return 0;
}

static int lock_state(PGconn *conn, const char *id, endpoint_state *s, bl_err *err)
{
    const char *params[] = {id};
    PGresult *res = bl_pg_exec(conn, "SELECT " STATE_COLS " FROM webhook_endpoints "
                               "WHERE id = $1 FOR UPDATE", 1, params, err);
    if (!res)
        return bl_err_wrap(err, "webhook store");
    return read_state(res, id, s, err);
}

/* Sets the endpoint inactive with reason and, when it was active, appends
 * webhook.disabled. Runs inside the caller's transaction. */
static int disable_in_tx(PGconn *conn, health_ctx *c, const endpoint_state *s, const char *reason,
                         bl_err *err)
{
    const char *params[] = {c->id, reason};
    if (bl_pg_exec_cmd(conn, "UPDATE webhook_endpoints SET active = false, disabled_reason = $2, "
                       "updated_at = now() WHERE id = $1", 2, params, err) != 0)
        return bl_err_wrap(err, "webhook store: disable");
    if (!s->active)
        return 0;
    c->changed = true;
    if (!c->events)
        return 0;
    json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:i}", "endpoint_id", c->id, "name", s->name,
                             "url", s->url, "reason", reason ? reason : "disabled",
                             "consecutive_failures", s->failures);
    if (!data)
        return bl_err_set(err, BL_ENOMEM, "webhook store: out of memory");
    json_object_set_new(data, "failing_since",
                        s->failing_since_ms ? json_integer(s->failing_since_ms) : json_null());
    int rc = bl_webhook_events_append(c->events, conn, "webhook.disabled", s->organization_id,
                                      c->id, data, err);
    json_decref(data);
    return rc;
}

/* The store's change hook of phase around an API's enable or disable. */
static int hook(PGconn *conn, const health_ctx *c, const char *action, int phase, bl_err *err)
{
    if (!c->opts || !c->opts->on_change)
        return 0;
    return c->opts->on_change(conn, action, c->id, phase, c->opts->change_ctx, err);
}

static int disable_tx(PGconn *conn, void *arg, bl_err *err)
{
    health_ctx *c = arg;
    endpoint_state s;
    if (lock_state(conn, c->id, &s, err) != 0 || hook(conn, c, "disable", 0, err) != 0)
        return -1;
    if (disable_in_tx(conn, c, &s, c->reason, err) != 0)
        return -1;
    return hook(conn, c, "disable", 1, err);
}

static int enable_tx(PGconn *conn, void *arg, bl_err *err)
{
    health_ctx *c = arg;
    endpoint_state s;
    if (lock_state(conn, c->id, &s, err) != 0 || hook(conn, c, "enable", 0, err) != 0)
        return -1;
    const char *params[] = {c->id};
    if (bl_pg_exec_cmd(conn, "UPDATE webhook_endpoints SET active = true, disabled_reason = NULL, "
                       "consecutive_failures = 0, failure_window_started_at = NULL, "
                       "updated_at = now() WHERE id = $1", 1, params, err) != 0)
        return bl_err_wrap(err, "webhook store: enable");
    if (hook(conn, c, "enable", 1, err) != 0)
        return -1;
    if (s.active)
        return 0;
    c->changed = true;
    if (!c->events)
        return 0;
    json_t *data = json_pack("{s:s, s:s, s:s}", "endpoint_id", c->id, "name", s.name, "url", s.url);
    if (!data)
        return bl_err_set(err, BL_ENOMEM, "webhook store: out of memory");
    json_object_set_new(data, "previous_reason", s.has_reason ? json_string(s.reason) : json_null());
    int rc = bl_webhook_events_append(c->events, conn, "webhook.enabled", s.organization_id, c->id,
                                      data, err);
    json_decref(data);
    return rc;
}

/* A failure extends the run (its start is kept); the health columns change
 * without touching updated_at, and the trigger does not notify for them. */
static int failure_tx(PGconn *conn, void *arg, bl_err *err)
{
    health_ctx *c = arg;
    const char *params[] = {c->id};
    PGresult *res = bl_pg_exec(conn,
                               "UPDATE webhook_endpoints SET consecutive_failures = "
                               "consecutive_failures + 1, failure_window_started_at = "
                               "coalesce(failure_window_started_at, now()) WHERE id = $1 "
                               "RETURNING " STATE_COLS, 1, params, err);
    if (!res)
        return bl_err_wrap(err, "webhook store: record failure");
    endpoint_state s;
    if (read_state(res, c->id, &s, err) != 0)
        return -1;
    if (!s.active || s.failures < c->health_failures || s.failing_for_ms < c->health_window_ms)
        return 0;
    char since[BL_RFC3339_MS_SIZE] = "";
    if (bl_rfc3339_from_ms(s.failing_since_ms, since, NULL) != 0)
        snprintf(since, sizeof since, "?");
    char reason[BL_WEBHOOK_REASON_MAX + 1];
    snprintf(reason, sizeof reason, "%d consecutive failed deliveries since %s", s.failures, since);
    return disable_in_tx(conn, c, &s, reason, err);
}

/* ---- public calls ---- */

static int run(bl_webhook_store *st, bl_pg_tx_fn fn, health_ctx *c, bl_err *err)
{
    const bl_webhook_store_opts *o = bl_webhook_store_opts_of(st);
    c->events = o->events;
    c->health_failures = o->health_failures;
    c->health_window_ms = o->health_window_ms;
    PGconn *conn = bl_pg_pool_acquire(o->pool, o->acquire_timeout_ms, err);
    if (!conn)
        return bl_err_wrap(err, "webhook store");
    int rc = bl_pg_transaction(conn, fn, c, err);
    bl_pg_pool_release(o->pool, conn);
    return rc;
}

int bl_webhook_store_disable(bl_webhook_store *st, const char *id, const char *reason, bl_err *err)
{
    if (bl_webhook_id_check(id, err) != 0)
        return -1;
    if (reason && strlen(reason) > BL_WEBHOOK_REASON_MAX)
        return bl_err_set(err, BL_EINVAL, "reason: longer than %d bytes", BL_WEBHOOK_REASON_MAX);
    health_ctx c = {.id = id, .reason = reason, .opts = bl_webhook_store_opts_of(st)};
    return run(st, disable_tx, &c, err);
}

int bl_webhook_store_enable(bl_webhook_store *st, const char *id, bl_err *err)
{
    if (bl_webhook_id_check(id, err) != 0)
        return -1;
    health_ctx c = {.id = id, .opts = bl_webhook_store_opts_of(st)};
    return run(st, enable_tx, &c, err);
}

int bl_webhook_store_record_outcome(bl_webhook_store *st, const char *id, bool succeeded,
                                    bool *disabled, bl_err *err)
{
    if (disabled)
        *disabled = false;
    if (bl_webhook_id_check(id, err) != 0)
        return -1;
    health_ctx c = {.id = id};
    if (succeeded) {
        /* The common case writes nothing: only a run of failures is reset. */
        const bl_webhook_store_opts *o = bl_webhook_store_opts_of(st);
        PGconn *conn = bl_pg_pool_acquire(o->pool, o->acquire_timeout_ms, err);
        if (!conn)
            return bl_err_wrap(err, "webhook store");
        const char *params[] = {id};
        int rc = bl_pg_exec_cmd(conn, "UPDATE webhook_endpoints SET consecutive_failures = 0, "
                                "failure_window_started_at = NULL WHERE id = $1 AND "
                                "consecutive_failures <> 0", 1, params, err);
        bl_pg_pool_release(o->pool, conn);
        return rc == 0 ? 0 : bl_err_wrap(err, "webhook store: record success");
    }
    int rc = run(st, failure_tx, &c, err);
    if (rc == 0 && disabled)
        *disabled = c.changed;
    if (rc == 0 && c.changed)
        bl_log_warn("webhook endpoint disabled after failed deliveries", BL_FS("endpoint_id", id));
    return rc;
}
