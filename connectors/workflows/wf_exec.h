/* The durable state of workflow executions in PostgreSQL
 * (migrations/160_workflows.sql): starting one idempotently, claiming the
 * due timers under a lease, committing a step boundary, and the operator's
 * cancel and retry. Every change here is one transaction (or one
 * statement), so an execution is always at a step boundary in the
 * database, whatever happens to the process that ran it. */
#ifndef BUSLINE_CONNECTORS_WORKFLOWS_WF_EXEC_H
#define BUSLINE_CONNECTORS_WORKFLOWS_WF_EXEC_H

#include "core/err.h"
#include "core/pg_timer.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#define BL_WF_ID_MAX 64

/* Starts an execution of workflow_id at version for organization org,
 * triggered by trigger_id (the event id), with input (borrowed), its first
 * step first_step due now; unless that workflow already has an execution
 * for trigger_id. One statement. Returns 1 (started, its id in id_out, may
 * be NULL), 0 (it existed), or -1 with err. */
int bl_wf_exec_start(PGconn *conn, const char *org, const char *workflow_id, const char *version,
                     const char *first_step, const char *trigger_id, const json_t *input, char *id_out,
                     bl_err *err);

/* workflow_timers as a core/pg_timer.h timer (static). */
extern const bl_pg_timer bl_wf_timers;

/* Claims one due timer whose lease is free or ran out (bl_pg_timer_claim:
 * FOR UPDATE SKIP LOCKED, so replicas never claim the same row), leasing it
 * to owner for lease_ms. Returns 1 with the execution id in id_out, 0 when
 * none is due, or -1 with err. */
int bl_wf_exec_claim(PGconn *conn, const char *owner, int64_t lease_ms, char id_out[BL_WF_ID_MAX], bl_err *err);

/* What a claimed execution is at. Owned; clear with bl_wf_state_clear. */
typedef struct bl_wf_state {
    char org[BL_WF_ID_MAX], workflow_id[BL_WF_ID_MAX], version[32], status[16];
    char current_step[BL_WF_ID_MAX + 2]; /* "" once finished */
    int step_seq, attempts;
    bool waiting;        /* the current step (a delay) has begun waiting */
    bool wait_over;      /* ... and its end has come */
    json_t *context;     /* {"input", "steps"} */
    json_t *definition;  /* the workflow version it runs */
} bl_wf_state;

/* Reads execution id. Returns 0, or -1 with err (BL_ENOTFOUND). */
int bl_wf_exec_load(PGconn *conn, const char *id, bl_wf_state *out, bl_err *err);

void bl_wf_state_clear(bl_wf_state *s);

/* One step boundary: what the step run at seq gave, and where the
 * execution goes. All borrowed. */
typedef struct bl_wf_boundary {
    const char *step_id, *step_type;
    const char *step_status;     /* running (a delay begun), retrying, completed, failed */
    int step_attempts;           /* attempts of the step so far (this one included) */
    const json_t *input, *output;/* may be NULL */
    const char *step_error;      /* may be NULL */
    const json_t *context;       /* the execution's context after the step */
    const char *exec_status;     /* running, completed, failed */
    const char *next_step;       /* running: the step to run next (the same one to retry or wait) */
    bool advance;                /* next_step is a new step run: seq + 1, attempts 0 */
    int exec_attempts;           /* when not advancing: the failed attempts so far */
    int64_t due_in_ms;           /* running: the timer is due after this */
    int64_t wait_ms;             /* > 0: a delay begins, ending after this; else none */
    bool keep_lease;             /* due now and run on by this worker: the lease renewed */
    const char *error_message;   /* failed: why */
} bl_wf_boundary;

/* Commits b for execution id, run by owner at seq, in one transaction: the
 * step row, the execution, and its timer (moved, or deleted once the
 * execution ends). Nothing is written unless the execution is still running
 * at seq and owner still holds its timer (a replica that lost its lease, or
 * an execution cancelled meanwhile, changes nothing). Returns 1 when
 * committed, 0 when not (lost), -1 with err. */
int bl_wf_exec_commit(PGconn *conn, const char *id, const char *owner, int seq, int64_t lease_ms,
                      const bl_wf_boundary *b, bl_err *err);

/* The execution eid of workflow wid in org as the API shows it, its steps
 * in order (new reference), or NULL with err (BL_ENOTFOUND). */
json_t *bl_wf_exec_get(PGconn *conn, const char *org, const char *wid, const char *eid, bl_err *err);

/* Cancels a running execution: status cancelled, its timer deleted (a step
 * in progress commits nothing). Returns 0, or -1 with err (BL_ENOTFOUND;
 * BL_ECONFLICT when it is not running). */
int bl_wf_exec_cancel(PGconn *conn, const char *org, const char *wid, const char *eid, bl_err *err);

/* Runs a failed execution again from its last failed step (a new step run,
 * so a new idempotency key), with the context it had. Returns 0, or -1 with
 * err (BL_ENOTFOUND; BL_ECONFLICT when it is not failed at a step). */
int bl_wf_exec_retry(PGconn *conn, const char *org, const char *wid, const char *eid, bl_err *err);

#endif
