/* A worker of the orchestrator: claims a due timer, runs the execution's
 * current step, commits the boundary, and runs on while the next step is
 * due at once (keeping its lease). */
#include "connectors/workflows/wf_exec.h"
#include "connectors/workflows/wf_orchestrator_internal.h"
#include "connectors/workflows/wf_schedule.h"
#include "connectors/workflows/wf_step.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

const bl_wf_def *bl_wf_def_for(bl_wf_orchestrator *o, const char *org, const char *workflow_id,
                               const char *version, const json_t *def, bl_wf_def **owned, bl_err *err)
{
    *owned = NULL;
    pthread_mutex_lock(&o->cache_mu);
    for (size_t i = 0; i < o->cache_n; i++)
        if (strcmp(o->cache[i].workflow_id, workflow_id) == 0 && strcmp(o->cache[i].version, version) == 0) {
            const bl_wf_def *d = o->cache[i].def;
            pthread_mutex_unlock(&o->cache_mu);
            return d;
        }
    pthread_mutex_unlock(&o->cache_mu);
    json_t *problems = json_object();
    bl_wf_env env = {.allow = o->opts.allow, .catalog = o->catalog, .organization_id = org};
    bl_wf_def *d = problems ? bl_wf_def_compile(def, &env, problems) : NULL;
    if (!d) {
        char *text = problems ? json_dumps(problems, JSON_COMPACT) : NULL;
        bl_err_set(err, BL_EINVAL, "workflow %s version %s does not compile: %.200s", workflow_id, version,
                   text ? text : "out of memory");
        free(text);
        json_decref(problems);
        return NULL;
    }
    json_decref(problems);
    pthread_mutex_lock(&o->cache_mu);
    if (o->cache_n < BL_WF_DEF_CACHE) {
        bl_wf_cached_def *c = &o->cache[o->cache_n++];
        snprintf(c->workflow_id, sizeof c->workflow_id, "%s", workflow_id);
        snprintf(c->version, sizeof c->version, "%s", version);
        c->def = d;
    } else {
        *owned = d;
    }
    pthread_mutex_unlock(&o->cache_mu);
    return d;
}

/* The context with steps.<id> = output (stolen; NULL: JSON null). New reference. */
static json_t *context_with(const json_t *context, const char *step_id, json_t *output)
{
    json_t *c = json_deep_copy(context);
    json_t *steps = json_object_get(c, "steps");
    if (!json_is_object(steps)) {
        steps = json_object();
        json_object_set_new(c, "steps", steps);
    }
    json_object_set_new(steps, step_id, output ? output : json_null());
    return c;
}

/* Where a step run that ended goes: b filled from the result. */
static void decide(const bl_wf_step *s, const bl_wf_state *st, const bl_wf_step_result *res, bl_wf_boundary *b)
{
    int attempts = st->attempts + 1;
    b->step_attempts = attempts;
    b->output = res->output;
    if (res->ok) {
        b->step_status = "completed";
        b->next_step = res->next;
        b->exec_status = res->next ? "running" : "completed";
        b->advance = true;
        b->keep_lease = res->next != NULL;
        return;
    }
    b->step_error = res->error;
    if (attempts < s->retry.max_attempts) {
        b->step_status = "retrying";
        b->exec_status = "running";
        b->next_step = s->id;
        b->exec_attempts = attempts;
        b->due_in_ms = bl_wf_retry_backoff_ms(&s->retry, attempts);
        return;
    }
    b->step_status = "failed";
    b->advance = true;
    if (s->on_error) {
        b->exec_status = "running";
        b->next_step = s->on_error;
        b->keep_lease = true;
    } else {
        b->exec_status = "failed";
        b->error_message = res->error;
    }
}

/* Gives a timer back unrun until the delay's end (a claim before it). */
static void release_until_wait_end(PGconn *conn, const char *id, const char *owner)
{
    const char *p[] = {id, owner};
    bl_err err = {0};
    if (bl_pg_exec_cmd(conn,
                       "UPDATE workflow_timers t SET lease_owner = NULL, lease_until = NULL, due_at ="
                       " coalesce(e.waiting_until, now()) FROM workflow_executions e WHERE e.id = t.execution_id"
                       " AND t.execution_id = $1::uuid AND t.lease_owner = $2",
                       2, p, &err) != 0)
        bl_log_warn("workflows: timer not given back (its lease will run out)", BL_FS("execution_id", id),
                    BL_FS("error", err.msg));
}

/* Runs the current step of claimed execution id. Returns 1 when the next
 * step is due at once and still leased here, 0 when done with it, -1 on a
 * database error. */
static int run_one_step(bl_wf_orchestrator *o, PGconn *conn, const char *id)
{
    bl_err err = {0};
    bl_wf_state st;
    if (bl_wf_exec_load(conn, id, &st, &err) != 0) {
        bl_log_warn("workflows: claimed execution not readable", BL_FS("execution_id", id), BL_FS("error", err.msg));
        return -1;
    }
    bl_wf_def *owned = NULL;
    const bl_wf_def *d = bl_wf_def_for(o, st.org, st.workflow_id, st.version, st.definition, &owned, &err);
    const bl_wf_step *s = d ? bl_wf_def_step(d, st.current_step) : NULL;
    bl_wf_step_result res = {0};
    bl_wf_boundary b = {.step_id = st.current_step, .step_type = s ? bl_wf_step_type_name(s->type) : "unknown",
                        .input = NULL, .exec_status = "failed"};
    json_t *context = NULL;
    int rc = 0;
    if (!s) {
        snprintf(res.error, sizeof res.error, "%s", d ? "the step is not in the workflow's version" : err.msg);
        b.step_status = "failed";
        b.step_error = b.error_message = res.error;
        b.advance = true;
    } else if (s->type == BL_WF_DELAY && st.waiting && !st.wait_over) {
        release_until_wait_end(conn, id, o->owner);
        goto done;
    } else if (s->type == BL_WF_DELAY && !st.waiting) {
        b.step_status = "running";
        b.exec_status = "running";
        b.next_step = s->id;
        b.due_in_ms = b.wait_ms = s->delay_ms;
    } else {
        if (s->type == BL_WF_DELAY) {
            res.ok = true;
            res.output = json_pack("{s:I}", "waitedMs", (json_int_t)s->delay_ms);
            res.next = s->on_success;
        } else {
            char key[BL_WF_ID_MAX + BL_WF_STEP_ID_MAX + 24];
            snprintf(key, sizeof key, "%s:%s:%d", id, s->id, st.step_seq);
            b.input = st.context;
            bl_wf_step_run(s, st.context, o->opts.runner, key, &res);
        }
        decide(s, &st, &res, &b);
    }
    if (res.ok)
        context = context_with(st.context, st.current_step, json_incref(res.output));
    else if (b.advance) /* failed for good: the error is what onError's step sees */
        context = context_with(st.context, st.current_step, json_pack("{s:s}", "error", res.error));
    else
        context = json_incref(st.context);
    b.context = context;
    int committed = bl_wf_exec_commit(conn, id, o->owner, st.step_seq, o->opts.lease_ms, &b, &err);
    if (committed < 0) {
        bl_log_warn("workflows: step boundary not committed (run again once the lease runs out)",
                    BL_FS("execution_id", id), BL_FS("step", st.current_step), BL_FS("error", err.msg));
        rc = -1;
    } else if (committed == 0) {
        bl_log_info("workflows: step result dropped (cancelled, or taken over by another replica)",
                    BL_FS("execution_id", id), BL_FS("step", st.current_step));
    } else {
        bl_log_debug("workflows: step boundary", BL_FS("execution_id", id), BL_FS("step", st.current_step),
                     BL_FS("step_status", b.step_status), BL_FS("execution_status", b.exec_status));
        rc = b.keep_lease ? 1 : 0;
    }
done:
    json_decref(context);
    bl_wf_step_result_clear(&res);
    bl_wf_def_free(owned);
    bl_wf_state_clear(&st);
    return rc;
}

void *bl_wf_worker_loop(void *arg)
{
    bl_wf_orchestrator *o = arg;
    while (!atomic_load(&o->stopping)) {
        bl_err err = {0};
        PGconn *conn = bl_pg_pool_acquire(o->pool, 5000, &err);
        if (!conn) {
            bl_log_warn("workflows: no database connection", BL_FS("error", err.msg));
            usleep((useconds_t)o->opts.poll_ms * 1000);
            continue;
        }
        int fired = bl_wf_schedule_fire_due(conn, &err);
        if (fired < 0)
            bl_log_warn("workflows: schedule not fired (tried again)", BL_FS("error", err.msg));
        char id[BL_WF_ID_MAX];
        int got = bl_wf_exec_claim(conn, o->owner, o->opts.lease_ms, id, &err);
        bool worked = got == 1 || fired == 1;
        if (got < 0)
            bl_log_warn("workflows: claim failed", BL_FS("error", err.msg));
        while (got == 1 && !atomic_load(&o->stopping))
            got = run_one_step(o, conn, id);
        if (got == 1) { /* stopping between two steps: the next replica need not wait for the lease */
            if (bl_pg_timer_give_back(conn, &bl_wf_timers, id, o->owner, &err) != 0)
                bl_log_warn("workflows: lease not given back on stop (it runs out)", BL_FS("execution_id", id),
                            BL_FS("error", err.msg));
        }
        bl_pg_pool_release(o->pool, conn);
        if (!worked && !atomic_load(&o->stopping))
            usleep((useconds_t)o->opts.poll_ms * 1000);
    }
    return NULL;
}
