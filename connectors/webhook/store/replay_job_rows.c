/* Rows of webhook_replay_requests, the replay jobs (see replay_job_rows.h). */
#include "connectors/webhook/store/replay_job_rows.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACQUIRE_TIMEOUT_MS 5000
#define MS(col) "coalesce((extract(epoch FROM " col ") * 1000)::bigint, 0)"

/* The columns every read returns, in the order job_from_row reads them. */
#define JOB_COLUMNS                                                                                          \
    "id, organization_id, coalesce(endpoint_id, ''), status, " MS("replay_since") ", " MS("replay_until")   \
    ", events_scanned, events_matched, events_enqueued, events_skipped, requested_by, " MS("requested_at")  \
    ", " MS("started_at") ", " MS("finished_at") ", coalesce(error, ''), attempts"
#define JOB_NCOLS 16

static void copy_text(char *out, size_t cap, const PGresult *r, int row, int col)
{
    snprintf(out, cap, "%s", PQgetvalue(r, row, col));
}

static void job_from_row(const PGresult *r, int row, int col, bl_replay_job *j)
{
    memset(j, 0, sizeof *j);
    copy_text(j->id, sizeof j->id, r, row, col + 0);
    copy_text(j->organization_id, sizeof j->organization_id, r, row, col + 1);
    copy_text(j->endpoint_id, sizeof j->endpoint_id, r, row, col + 2);
    copy_text(j->status, sizeof j->status, r, row, col + 3);
    j->since_ms = strtoll(PQgetvalue(r, row, col + 4), NULL, 10);
    j->until_ms = strtoll(PQgetvalue(r, row, col + 5), NULL, 10);
    j->counts.scanned = strtol(PQgetvalue(r, row, col + 6), NULL, 10);
    j->counts.matched = strtol(PQgetvalue(r, row, col + 7), NULL, 10);
    j->counts.enqueued = strtol(PQgetvalue(r, row, col + 8), NULL, 10);
    j->counts.skipped = strtol(PQgetvalue(r, row, col + 9), NULL, 10);
    copy_text(j->requested_by, sizeof j->requested_by, r, row, col + 10);
    j->requested_ms = strtoll(PQgetvalue(r, row, col + 11), NULL, 10);
    j->started_ms = strtoll(PQgetvalue(r, row, col + 12), NULL, 10);
    j->finished_ms = strtoll(PQgetvalue(r, row, col + 13), NULL, 10);
    copy_text(j->error, sizeof j->error, r, row, col + 14);
    j->attempts = (int)strtol(PQgetvalue(r, row, col + 15), NULL, 10);
}

/* Runs sql with params on a connection of pool. Returns the result (caller
 * clears) or NULL with err. */
static PGresult *run(bl_pg_pool *pool, const char *sql, int n, const char *const *params, bl_err *err)
{
    PGconn *conn = bl_pg_pool_acquire(pool, ACQUIRE_TIMEOUT_MS, err);
    if (!conn)
        return NULL;
    PGresult *r = bl_pg_exec(conn, sql, n, params, err);
    bl_pg_pool_release(pool, conn);
    if (!r)
        bl_err_wrap(err, "replay jobs");
    return r;
}

int bl_replay_job_create(bl_pg_pool *pool, const char *organization_id, const char *endpoint_id, int64_t since_ms,
                         int64_t until_ms, const char *requested_by, bl_replay_job *out, bl_err *err)
{
    char since[24], until[24];
    snprintf(since, sizeof since, "%" PRId64, since_ms);
    snprintf(until, sizeof until, "%" PRId64, until_ms);
    const char *params[] = {organization_id, endpoint_id, since, until, requested_by};
    PGresult *r = run(pool,
                      "INSERT INTO webhook_replay_requests (organization_id, endpoint_id, replay_since, replay_until,"
                      " requested_by) VALUES ($1, $2, to_timestamp($3::bigint / 1000.0),"
                      " to_timestamp($4::bigint / 1000.0), $5) RETURNING " JOB_COLUMNS,
                      5, params, err);
    if (!r)
        return -1;
    job_from_row(r, 0, 0, out);
    PQclear(r);
    return 0;
}

int bl_replay_job_request(bl_pg_pool *pool, bl_webhook_store *store, const char *organization_id,
                          const char *endpoint_id, int64_t since_ms, int64_t until_ms, int64_t now_ms,
                          const char *requested_by, bl_replay_job *out, bl_err *err)
{
    if (since_ms <= 0)
        return bl_err_set(err, BL_EINVAL, "since: a time after 1970 is required");
    if (since_ms >= now_ms)
        return bl_err_set(err, BL_EINVAL, "since: must be in the past");
    if (until_ms <= 0 || until_ms > now_ms)
        until_ms = now_ms;
    if (until_ms <= since_ms)
        return bl_err_set(err, BL_EINVAL, "until: must be later than since");
    if (!endpoint_id && !organization_id)
        return bl_err_set(err, BL_EINVAL, "organization_id: required to replay to every endpoint");
    char org[BL_WEBHOOK_ORG_MAX + 1] = "";
    if (endpoint_id) {
        bl_webhook_endpoint *e = bl_webhook_store_get(store, endpoint_id, err);
        if (!e)
            return -1;
        int other = organization_id && strcmp(e->organization_id, organization_id) != 0, active = e->active;
        snprintf(org, sizeof org, "%s", e->organization_id);
        bl_webhook_endpoint_free(e);
        if (other) /* another organization's endpoint is not found */
            return bl_err_set(err, BL_ENOTFOUND, "webhook endpoint %s not found", endpoint_id);
        if (!active)
            return bl_err_set(err, BL_ECONFLICT, "endpoint %s is disabled: enable it first", endpoint_id);
        organization_id = org;
    }
    return bl_replay_job_create(pool, organization_id, endpoint_id, since_ms, until_ms, requested_by, out, err);
}

int bl_replay_job_get(bl_pg_pool *pool, const char *organization_id, const char *id, bl_replay_job *out,
                      bl_err *err)
{
    char *end = NULL;
    if (!id || !*id || (strtoll(id, &end, 10), *end != '\0') || strlen(id) > 18)
        return 0; /* not a job id: no such job */
    const char *params[] = {id, organization_id};
    PGresult *r = run(pool,
                      "SELECT " JOB_COLUMNS " FROM webhook_replay_requests WHERE id = $1::bigint"
                      " AND ($2::text IS NULL OR organization_id = $2)",
                      2, params, err);
    if (!r)
        return -1;
    int got = PQntuples(r) == 1;
    if (got)
        job_from_row(r, 0, 0, out);
    PQclear(r);
    return got;
}

int bl_replay_job_list(bl_pg_pool *pool, const char *organization_id, long limit, long offset, bl_replay_job **out,
                       size_t *n, long *total, bl_err *err)
{
    char lim[24], off[24];
    snprintf(lim, sizeof lim, "%ld", limit);
    snprintf(off, sizeof off, "%ld", offset);
    const char *params[] = {organization_id, lim, off};
    *out = NULL;
    *n = 0;
    PGresult *r = run(pool,
                      "SELECT " JOB_COLUMNS ", count(*) OVER () FROM webhook_replay_requests"
                      " WHERE ($1::text IS NULL OR organization_id = $1)"
                      " ORDER BY requested_at DESC, id DESC LIMIT $2::bigint OFFSET $3::bigint",
                      3, params, err);
    if (!r)
        return -1;
    int rows = PQntuples(r);
    long all = 0;
    if (rows > 0) {
        if (!(*out = calloc((size_t)rows, sizeof **out))) {
            PQclear(r);
            return bl_err_set(err, BL_ENOMEM, "replay jobs: out of memory");
        }
        for (int i = 0; i < rows; i++)
            job_from_row(r, i, 0, &(*out)[i]);
        all = strtol(PQgetvalue(r, 0, JOB_NCOLS), NULL, 10);
        *n = (size_t)rows;
    } else if (offset > 0) {
        /* past the end: the total still says how many there are */
        PQclear(r);
        const char *cparams[] = {organization_id};
        if (!(r = run(pool, "SELECT count(*) FROM webhook_replay_requests WHERE ($1::text IS NULL OR"
                            " organization_id = $1)", 1, cparams, err)))
            return -1;
        all = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    if (total)
        *total = all;
    return 0;
}

int bl_replay_job_cancel(bl_pg_pool *pool, const char *organization_id, const char *id, bl_replay_job *out,
                         bl_err *err)
{
    int got = bl_replay_job_get(pool, organization_id, id, out, err);
    if (got <= 0)
        return got;
    const char *params[] = {out->id};
    PGresult *r = run(pool,
                      "UPDATE webhook_replay_requests SET status = 'cancelled', finished_at = now()"
                      " WHERE id = $1::bigint AND status IN ('queued', 'running') RETURNING " JOB_COLUMNS,
                      1, params, err);
    if (!r)
        return -1;
    int cancelled = PQntuples(r) == 1;
    if (cancelled)
        job_from_row(r, 0, 0, out);
    PQclear(r);
    if (!cancelled) {
        /* it ended meanwhile: answer what it is now */
        if (bl_replay_job_get(pool, organization_id, id, out, err) < 0)
            return -1;
        return bl_err_set(err, BL_ECONFLICT, "replay job %s has already ended (%s)", id, out->status);
    }
    return 1;
}

int bl_replay_job_claim_next(bl_pg_pool *pool, const char *worker, int stale_after_s, bl_replay_job_claim *out,
                             bl_err *err)
{
    char stale[16];
    snprintf(stale, sizeof stale, "%d", stale_after_s);
    const char *params[] = {worker, stale};
    memset(out, 0, sizeof *out);
    PGresult *r = run(pool,
                      "WITH c AS (SELECT id AS cid, heartbeat_at AS prev FROM webhook_replay_requests"
                      "  WHERE status = 'queued' OR (status = 'running' AND"
                      "   coalesce(heartbeat_at, started_at) < now() - make_interval(secs => $2::int))"
                      "  ORDER BY requested_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
                      " UPDATE webhook_replay_requests t SET status = 'running', claimed_by = $1,"
                      "  attempts = t.attempts + 1, started_at = coalesce(t.started_at, now()), heartbeat_at = now()"
                      " FROM c WHERE t.id = c.cid RETURNING " JOB_COLUMNS ", t.position::text, " MS("c.prev"),
                      2, params, err);
    if (!r)
        return -1;
    int got = PQntuples(r) == 1;
    if (got) {
        job_from_row(r, 0, 0, &out->job);
        json_error_t je;
        out->position = json_loads(PQgetvalue(r, 0, JOB_NCOLS), 0, &je);
        if (!json_is_object(out->position)) {
            json_decref(out->position);
            out->position = json_object();
        }
        out->last_heartbeat_ms = strtoll(PQgetvalue(r, 0, JOB_NCOLS + 1), NULL, 10);
    }
    PQclear(r);
    if (got && !out->position)
        return bl_err_set(err, BL_ENOMEM, "replay jobs: out of memory");
    return got;
}

/* The four counts as text params. */
typedef struct counts_text {
    char v[4][24];
} counts_text;

static counts_text counts_params(const bl_replay_job_counts *c)
{
    counts_text t;
    snprintf(t.v[0], sizeof t.v[0], "%ld", c->scanned);
    snprintf(t.v[1], sizeof t.v[1], "%ld", c->matched);
    snprintf(t.v[2], sizeof t.v[2], "%ld", c->enqueued);
    snprintf(t.v[3], sizeof t.v[3], "%ld", c->skipped);
    return t;
}

int bl_replay_job_checkpoint(bl_pg_pool *pool, const char *id, const char *worker, const json_t *position,
                             const bl_replay_job_counts *counts, bl_err *err)
{
    char *pos = json_dumps(position, JSON_COMPACT);
    if (!pos)
        return bl_err_set(err, BL_ENOMEM, "replay jobs: out of memory");
    counts_text t = counts_params(counts);
    const char *params[] = {id, worker, pos, t.v[0], t.v[1], t.v[2], t.v[3]};
    /* a cancelled job's counts are still recorded (the worker stops next) */
    PGresult *r = run(pool,
                      "UPDATE webhook_replay_requests SET position = $3::jsonb, events_scanned = $4::bigint,"
                      " events_matched = $5::bigint, events_enqueued = $6::bigint, events_skipped = $7::bigint,"
                      " heartbeat_at = now() WHERE id = $1::bigint AND claimed_by = $2"
                      " AND status IN ('running', 'cancelled') RETURNING status",
                      7, params, err);
    free(pos);
    if (!r)
        return -1;
    int running = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "running") == 0;
    PQclear(r);
    return running;
}

int bl_replay_job_finish(bl_pg_pool *pool, const char *id, const char *worker, const char *status,
                         const char *error, const json_t *position, const bl_replay_job_counts *counts,
                         bl_err *err)
{
    char *pos = json_dumps(position, JSON_COMPACT);
    if (!pos)
        return bl_err_set(err, BL_ENOMEM, "replay jobs: out of memory");
    counts_text t = counts_params(counts);
    const char *params[] = {id, worker, status, error, pos, t.v[0], t.v[1], t.v[2], t.v[3]};
    PGresult *r = run(pool,
                      "UPDATE webhook_replay_requests SET"
                      " status = CASE WHEN status = 'running' THEN $3 ELSE status END,"
                      " finished_at = CASE WHEN status = 'running' AND $3 <> 'queued' THEN now() ELSE finished_at END,"
                      " error = CASE WHEN status = 'running' THEN $4 ELSE error END,"
                      " claimed_by = NULL, position = $5::jsonb, events_scanned = $6::bigint,"
                      " events_matched = $7::bigint, events_enqueued = $8::bigint, events_skipped = $9::bigint"
                      " WHERE id = $1::bigint AND claimed_by = $2 RETURNING status",
                      9, params, err);
    free(pos);
    if (!r)
        return -1;
    int held = PQntuples(r) == 1;
    PQclear(r);
    return held ? 0 : bl_err_set(err, BL_ECONFLICT, "replay job %s is no longer held by %s", id, worker);
}
