/* What wf_orchestrator.c, wf_trigger.c and wf_worker.c share. */
#ifndef BUSLINE_CONNECTORS_WORKFLOWS_WF_ORCHESTRATOR_INTERNAL_H
#define BUSLINE_CONNECTORS_WORKFLOWS_WF_ORCHESTRATOR_INTERNAL_H

#include "connectors/workflows/wf_def.h"
#include "connectors/workflows/wf_orchestrator.h"
#include "core/kafka_consumer.h"
#include "core/pg_pool.h"

#include <pthread.h>
#include <stdatomic.h>

#define BL_WF_WORKERS_MAX 64
#define BL_WF_DEF_CACHE 128

/* A compiled workflow version, kept while the process runs. */
typedef struct bl_wf_cached_def {
    char workflow_id[64], version[32];
    bl_wf_def *def;
} bl_wf_cached_def;

struct bl_wf_orchestrator {
    bl_wf_orchestrator_opts opts;
    char owner[160];
    bl_pg_pool *pool;
    bl_catalog *catalog;
    bl_kafka_consumer *consumer;
    pthread_t trigger_thread, workers[BL_WF_WORKERS_MAX];
    int n_workers;
    bool trigger_running;
    atomic_bool stopping, assigned;
    pthread_mutex_t cache_mu;
    bl_wf_cached_def cache[BL_WF_DEF_CACHE];
    size_t cache_n;
};

/* The trigger consumer's thread (wf_trigger.c). */
void *bl_wf_trigger_loop(void *arg);

/* A worker thread (wf_worker.c). */
void *bl_wf_worker_loop(void *arg);

/* The compiled definition of (workflow_id, version) from def (borrowed),
 * cached; *owned is set when the caller must free it (the cache was full).
 * Returns NULL with the problems in err. */
const bl_wf_def *bl_wf_def_for(bl_wf_orchestrator *o, const char *org, const char *workflow_id,
                               const char *version, const json_t *def, bl_wf_def **owned, bl_err *err);

#endif
