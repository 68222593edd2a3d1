/* The durable state of workflow executions (see wf_exec.h). */
#include "connectors/workflows/wf_exec.h"

#include "core/pg_pool.h"
#include "core/pg_timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bl_wf_exec_start(PGconn *conn, const char *org, const char *workflow_id, const char *version,
                     const char *first_step, const char *trigger_id, const json_t *input, char *id_out,
                     bl_err *err)
{
    char *text = json_dumps(input, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return bl_err_set(err, BL_ENOMEM, "workflows: out of memory");
    const char *p[] = {workflow_id, org, version, trigger_id, text, first_step};
    PGresult *r = bl_pg_exec(conn,
                             "WITH e AS (INSERT INTO workflow_executions (workflow_id, organization_id,"
                             " workflow_version, trigger_id, input, context, current_step) VALUES ($1, $2, $3, $4,"
                             " $5::jsonb, jsonb_build_object('input', $5::jsonb, 'steps', '{}'::jsonb), $6)"
                             " ON CONFLICT (workflow_id, trigger_id) DO NOTHING RETURNING id)"
                             " INSERT INTO workflow_timers (execution_id, due_at) SELECT id, now() FROM e"
                             " RETURNING execution_id::text",
                             6, p, err);
    free(text);
    if (!r)
        return -1;
    int started = PQntuples(r) == 1;
    if (started && id_out)
        snprintf(id_out, BL_WF_ID_MAX, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return started;
}

const bl_pg_timer bl_wf_timers = {"workflow_timers", "execution_id", "uuid"};

int bl_wf_exec_claim(PGconn *conn, const char *owner, int64_t lease_ms, char id_out[BL_WF_ID_MAX], bl_err *err)
{
    return bl_pg_timer_claim(conn, &bl_wf_timers, owner, lease_ms, id_out, BL_WF_ID_MAX, err);
}

int bl_wf_exec_load(PGconn *conn, const char *id, bl_wf_state *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    const char *p[] = {id};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT e.organization_id, e.workflow_id, e.workflow_version, e.status,"
                             " coalesce(e.current_step, ''), e.step_seq, e.attempts, e.waiting_until IS NOT NULL,"
                             " coalesce(e.waiting_until <= now(), false), e.context::text, v.definition::text"
                             " FROM workflow_executions e JOIN workflow_versions v ON v.workflow_id = e.workflow_id"
                             " AND v.version = e.workflow_version WHERE e.id::text = $1",
                             1, p, err);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return bl_err_set(err, BL_ENOTFOUND, "workflows: execution %s not found", id);
    }
    snprintf(out->org, sizeof out->org, "%s", PQgetvalue(r, 0, 0));
    snprintf(out->workflow_id, sizeof out->workflow_id, "%s", PQgetvalue(r, 0, 1));
    snprintf(out->version, sizeof out->version, "%s", PQgetvalue(r, 0, 2));
    snprintf(out->status, sizeof out->status, "%s", PQgetvalue(r, 0, 3));
    snprintf(out->current_step, sizeof out->current_step, "%s", PQgetvalue(r, 0, 4));
    out->step_seq = atoi(PQgetvalue(r, 0, 5));
    out->attempts = atoi(PQgetvalue(r, 0, 6));
    out->waiting = PQgetvalue(r, 0, 7)[0] == 't';
    out->wait_over = PQgetvalue(r, 0, 8)[0] == 't';
    out->context = json_loads(PQgetvalue(r, 0, 9), 0, NULL);
    out->definition = json_loads(PQgetvalue(r, 0, 10), 0, NULL);
    PQclear(r);
    if (!out->context || !out->definition) {
        bl_wf_state_clear(out);
        return bl_err_set(err, BL_ENOMEM, "workflows: cannot read execution %s", id);
    }
    return 0;
}

void bl_wf_state_clear(bl_wf_state *s)
{
    json_decref(s->context);
    json_decref(s->definition);
    s->context = s->definition = NULL;
}

/* Locks the execution and its timer; 1 when still running at seq and held by owner. */
static int still_ours(PGconn *conn, const char *id, const char *owner, int seq, bl_err *err)
{
    char s[16];
    snprintf(s, sizeof s, "%d", seq);
    const char *p[] = {id, owner, s};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT 1 FROM workflow_executions e JOIN workflow_timers t ON t.execution_id = e.id"
                             " WHERE e.id = $1::uuid AND e.status = 'running' AND e.step_seq = $3::int"
                             " AND t.lease_owner = $2 FOR UPDATE",
                             3, p, err);
    if (!r)
        return -1;
    int ours = PQntuples(r) == 1;
    PQclear(r);
    return ours;
}

static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

static int write_boundary(PGconn *conn, const char *id, const char *owner, int seq, int64_t lease_ms,
                          const bl_wf_boundary *b, bl_err *err)
{
    char s[16], attempts[16], exec_attempts[16], due[32], wait[32], lease[32];
    snprintf(s, sizeof s, "%d", seq);
    snprintf(attempts, sizeof attempts, "%d", b->step_attempts);
    snprintf(exec_attempts, sizeof exec_attempts, "%d", b->advance ? 0 : b->exec_attempts);
    snprintf(due, sizeof due, "%lld", (long long)b->due_in_ms);
    snprintf(wait, sizeof wait, "%lld", (long long)b->wait_ms);
    snprintf(lease, sizeof lease, "%lld", (long long)lease_ms);
    char *input = dump(b->input), *output = dump(b->output), *context = dump(b->context);
    int rc = -1;
    if ((b->input && !input) || (b->output && !output) || !context) {
        bl_err_set(err, BL_ENOMEM, "workflows: out of memory");
        goto done;
    }
    const char *sp[] = {id, s, b->step_id, b->step_type, b->step_status, attempts, input, output, b->step_error};
    if (bl_pg_exec_cmd(conn,
                       "INSERT INTO workflow_execution_steps (execution_id, seq, step_id, step_type, status,"
                       " attempts, input, output, error, finished_at) VALUES ($1, $2::int, $3, $4, $5, $6::int,"
                       " $7::jsonb, $8::jsonb, $9, CASE WHEN $5 IN ('completed', 'failed') THEN now() END)"
                       " ON CONFLICT (execution_id, seq) DO UPDATE SET status = EXCLUDED.status, attempts ="
                       " EXCLUDED.attempts, output = EXCLUDED.output, error = EXCLUDED.error, finished_at ="
                       " EXCLUDED.finished_at",
                       9, sp, err) != 0)
        goto done;
    bool running = strcmp(b->exec_status, "running") == 0;
    const char *ep[] = {id, b->exec_status, running ? b->next_step : NULL, b->advance ? "1" : "0", exec_attempts,
                        wait, context, b->error_message};
    if (bl_pg_exec_cmd(conn,
                       "UPDATE workflow_executions SET status = $2, current_step = $3, step_seq = step_seq +"
                       " $4::int, attempts = $5::int, waiting_until = CASE WHEN $6::bigint > 0 THEN now() +"
                       " $6::bigint * interval '1 millisecond' END, context = $7::jsonb, error_message = $8,"
                       " completed_at = CASE WHEN $2 <> 'running' THEN now() END, updated_at = now()"
                       " WHERE id = $1::uuid",
                       8, ep, err) != 0)
        goto done;
    const char *tp[] = {id, due, b->keep_lease ? owner : NULL, lease};
    rc = running ? bl_pg_exec_cmd(conn,
                                  "UPDATE workflow_timers SET due_at = now() + $2::bigint * interval '1 millisecond',"
                                  " lease_owner = $3, lease_until = CASE WHEN $3::text IS NOT NULL THEN now() +"
                                  " $4::bigint * interval '1 millisecond' END WHERE execution_id = $1::uuid",
                                  4, tp, err)
                 : bl_pg_exec_cmd(conn, "DELETE FROM workflow_timers WHERE execution_id = $1::uuid", 1, tp, err);
done:
    free(input);
    free(output);
    free(context);
    return rc;
}

int bl_wf_exec_commit(PGconn *conn, const char *id, const char *owner, int seq, int64_t lease_ms,
                      const bl_wf_boundary *b, bl_err *err)
{
    if (bl_pg_begin(conn, err) != 0)
        return -1;
    int ours = still_ours(conn, id, owner, seq, err);
    int rc = ours == 1 ? write_boundary(conn, id, owner, seq, lease_ms, b, err) : ours;
    if (rc == 0 && bl_pg_commit(conn, err) == 0)
        return 1;
    bl_err keep = *err;
    bl_pg_rollback(conn, err);
    *err = keep;
    return rc < 0 ? -1 : 0;
}

#define EXEC_JSON                                                                                              \
    "json_build_object('id', e.id, 'workflowId', e.workflow_id, 'workflowVersion', e.workflow_version,"        \
    " 'status', e.status, 'triggerId', e.trigger_id, 'input', e.input, 'context', e.context, 'currentStep',"   \
    " e.current_step, 'attempts', e.attempts, 'waitingUntil', e.waiting_until, 'errorMessage', e.error_message," \
    " 'startedAt', e.started_at, 'updatedAt', e.updated_at, 'completedAt', e.completed_at, 'steps',"           \
    " coalesce((SELECT json_agg(json_build_object('seq', s.seq, 'stepId', s.step_id, 'type', s.step_type,"     \
    " 'status', s.status, 'attempts', s.attempts, 'input', s.input, 'output', s.output, 'error', s.error,"     \
    " 'startedAt', s.started_at, 'finishedAt', s.finished_at) ORDER BY s.seq) FROM workflow_execution_steps s" \
    " WHERE s.execution_id = e.id), '[]'))::text"

json_t *bl_wf_exec_get(PGconn *conn, const char *org, const char *wid, const char *eid, bl_err *err)
{
    const char *p[] = {org, wid, eid};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT " EXEC_JSON " FROM workflow_executions e WHERE e.organization_id::text = $1"
                             " AND e.workflow_id::text = $2 AND e.id::text = $3",
                             3, p, err);
    if (!r)
        return NULL;
    json_t *j = PQntuples(r) == 1 ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : NULL;
    if (!j)
        bl_err_set(err, PQntuples(r) == 1 ? BL_ENOMEM : BL_ENOTFOUND, "no such execution of this workflow");
    PQclear(r);
    return j;
}

/* Runs a one-row counting statement; 1 when it changed a row, 0 when not. */
static int counted(PGconn *conn, const char *sql, const char *org, const char *wid, const char *eid, bl_err *err)
{
    const char *p[] = {org, wid, eid};
    PGresult *r = bl_pg_exec(conn, sql, 3, p, err);
    if (!r)
        return -1;
    int n = PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return n > 0;
}

/* After a refused change: BL_ENOTFOUND, or BL_ECONFLICT with why. */
static int refused(PGconn *conn, const char *org, const char *wid, const char *eid, const char *why, bl_err *err)
{
    json_t *e = bl_wf_exec_get(conn, org, wid, eid, err);
    if (!e)
        return -1;
    bl_err_set(err, BL_ECONFLICT, "the execution is %s: %s", json_string_value(json_object_get(e, "status")), why);
    json_decref(e);
    return -1;
}

int bl_wf_exec_cancel(PGconn *conn, const char *org, const char *wid, const char *eid, bl_err *err)
{
    int n = counted(conn,
                    "WITH e AS (UPDATE workflow_executions SET status = 'cancelled', completed_at = now(),"
                    " waiting_until = NULL, updated_at = now() WHERE organization_id::text = $1 AND"
                    " workflow_id::text = $2 AND id::text = $3 AND status = 'running' RETURNING id),"
                    " d AS (DELETE FROM workflow_timers t USING e WHERE t.execution_id = e.id RETURNING 1)"
                    " SELECT count(*) FROM e",
                    org, wid, eid, err);
    return n == 1 ? 0 : n < 0 ? -1 : refused(conn, org, wid, eid, "only a running execution can be cancelled", err);
}

int bl_wf_exec_retry(PGconn *conn, const char *org, const char *wid, const char *eid, bl_err *err)
{
    int n = counted(conn,
                    "WITH f AS (SELECT e.id, s.step_id, (SELECT max(seq) FROM workflow_execution_steps"
                    " WHERE execution_id = e.id) AS top FROM workflow_executions e JOIN workflow_execution_steps s"
                    " ON s.execution_id = e.id WHERE e.organization_id::text = $1 AND e.workflow_id::text = $2"
                    " AND e.id::text = $3 AND e.status = 'failed' AND s.status = 'failed' ORDER BY s.seq DESC"
                    " LIMIT 1),"
                    " u AS (UPDATE workflow_executions e SET status = 'running', current_step = f.step_id,"
                    " step_seq = f.top + 1, attempts = 0, error_message = NULL, completed_at = NULL,"
                    " waiting_until = NULL, updated_at = now() FROM f WHERE e.id = f.id RETURNING e.id),"
                    " t AS (INSERT INTO workflow_timers (execution_id, due_at) SELECT id, now() FROM u"
                    " ON CONFLICT (execution_id) DO UPDATE SET due_at = now(), lease_owner = NULL,"
                    " lease_until = NULL RETURNING 1)"
                    " SELECT count(*) FROM u",
                    org, wid, eid, err);
    return n == 1 ? 0
           : n < 0 ? -1
                   : refused(conn, org, wid, eid, "only an execution failed at a step can be retried from it", err);
}
