/* The role `busline workflows`: the orchestrator of workflow executions.
 *
 * Two halves in one process, both scaled by running more replicas:
 *   - the trigger consumer (wf_trigger.c): a Kafka consumer group on the
 *     event topics; each event is matched against the organization's active
 *     workflows with an `event` trigger (type pattern + conditions), and an
 *     execution starts per (workflow, event id), idempotently, before the
 *     offset is committed;
 *   - the workers (wf_worker.c): threads that claim due timers in PostgreSQL
 *     (FOR UPDATE SKIP LOCKED, under a lease) and run the execution's
 *     current step, committing its state at every step boundary
 *     (wf_exec.h). A replica killed mid-step leaves its lease to run out;
 *     another replica then runs that step again from the last boundary, with
 *     the same idempotency key for an integration. */
#ifndef BUSLINE_CONNECTORS_WORKFLOWS_WF_ORCHESTRATOR_H
#define BUSLINE_CONNECTORS_WORKFLOWS_WF_ORCHESTRATOR_H

#include "connectors/calls/call.h"
#include "core/err.h"
#include "schemas/codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bl_wf_orchestrator_opts {
    const char *pg_url;               /* required */
    const char *brokers;              /* required for triggers */
    const char *group_id;             /* the trigger consumer group */
    const char *const *topics;        /* event topics (a "^..." entry is a regex); borrowed */
    size_t n_topics;
    bl_schema_cache *schemas;         /* decodes events; borrowed */
    bl_call_runner *runner;           /* integrations; borrowed */
    const bl_ssrf_allowlist *allow;   /* integration URLs; borrowed */
    int workers;                      /* worker threads; 0 = 4 */
    int64_t lease_ms;                 /* a claimed timer's lease; 0 = 30000 */
    int poll_ms;                      /* idle wait between claims; 0 = 200 */
    const char *owner;                /* this replica's lease name; NULL = host:pid:random */
} bl_wf_orchestrator_opts;

typedef struct bl_wf_orchestrator bl_wf_orchestrator;

/* Starts the consumer and the workers. Returns the orchestrator (free with
 * bl_wf_orchestrator_free) or NULL with err. */
bl_wf_orchestrator *bl_wf_orchestrator_new(const bl_wf_orchestrator_opts *opts, bl_err *err);

/* True once the trigger consumer has partitions (for /readyz and tests). */
bool bl_wf_orchestrator_ready(bl_wf_orchestrator *o);

/* Stops the threads (a step in progress finishes its call and commits) and
 * frees; accepts NULL. */
void bl_wf_orchestrator_free(bl_wf_orchestrator *o);

#endif
