/* Rows of webhook_replay_requests (see replay_request_rows.h). */
#include "connectors/webhook/store/replay_request_rows.h"

#include <stdio.h>
#include <stdlib.h>

#define ACQUIRE_TIMEOUT_MS 5000

static const char claim_sql[] =
    "UPDATE webhook_replay_requests SET status = 'running', started_at = now()"
    " WHERE id = (SELECT id FROM webhook_replay_requests"
    "  WHERE status = 'pending' OR (status = 'running' AND started_at < now() - make_interval(secs => $1::int))"
    "  ORDER BY requested_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " RETURNING id, endpoint_id, organization_id, (extract(epoch FROM replay_since) * 1000)::bigint";

static const char finish_sql[] =
    "UPDATE webhook_replay_requests SET status = $2, completed_at = now(), error = $3,"
    " events_scanned = $4::bigint, events_replayed = $5::bigint WHERE id = $1::bigint";

int bl_replay_request_claim(bl_pg_pool *pool, int stale_after_s, bl_replay_request_row *c, bl_err *err)
{
    char stale[16];
    snprintf(stale, sizeof stale, "%d", stale_after_s);
    const char *params[] = {stale};
    PGconn *conn = bl_pg_pool_acquire(pool, ACQUIRE_TIMEOUT_MS, err);
    if (!conn)
        return -1;
    PGresult *r = bl_pg_exec(conn, claim_sql, 1, params, err);
    bl_pg_pool_release(pool, conn);
    if (!r)
        return bl_err_wrap(err, "replay requests: claim");
    int got = PQntuples(r) == 1;
    if (got) {
        snprintf(c->id, sizeof c->id, "%s", PQgetvalue(r, 0, 0));
        snprintf(c->endpoint_id, sizeof c->endpoint_id, "%s", PQgetvalue(r, 0, 1));
        snprintf(c->organization_id, sizeof c->organization_id, "%s", PQgetvalue(r, 0, 2));
        c->since_ms = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
    }
    PQclear(r);
    return got;
}

int bl_replay_request_finish(bl_pg_pool *pool, const bl_replay_request_row *c, const char *error, long scanned,
                             long replayed, bl_err *err)
{
    char scanned_text[24], replayed_text[24];
    snprintf(scanned_text, sizeof scanned_text, "%ld", scanned);
    snprintf(replayed_text, sizeof replayed_text, "%ld", replayed);
    const char *params[] = {c->id, error ? "failed" : "done", error, scanned_text, replayed_text};
    PGconn *conn = bl_pg_pool_acquire(pool, ACQUIRE_TIMEOUT_MS, err);
    if (!conn)
        return -1;
    int rc = bl_pg_exec_cmd(conn, finish_sql, 5, params, err);
    bl_pg_pool_release(pool, conn);
    return rc == 0 ? 0 : bl_err_wrap(err, "replay requests: mark %s", c->id);
}
