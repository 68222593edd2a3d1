/* The orchestrator's set-up and shutdown (see wf_orchestrator.h). */
#include "connectors/workflows/wf_orchestrator_internal.h"

#include "core/log.h"
#include "core/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_assign(const rd_kafka_topic_partition_list_t *parts, int lost, void *user)
{
    (void)lost;
    bl_wf_orchestrator *o = user;
    if (parts->cnt > 0)
        atomic_store(&o->assigned, true);
}

static int start_consumer(bl_wf_orchestrator *o, bl_err *err)
{
    static const char *const extra[] = {"topic.metadata.refresh.interval.ms", "1000", NULL};
    bl_kafka_consumer_opts co = {.brokers = o->opts.brokers, .group_id = o->opts.group_id,
                                 .auto_offset_reset = "earliest", .extra = extra, .on_assign = on_assign, .user = o};
    if (!(o->consumer = bl_kafka_consumer_new(&co, err)) ||
        bl_kafka_consumer_subscribe(o->consumer, o->opts.topics, o->opts.n_topics, err) != 0)
        return -1;
    if (pthread_create(&o->trigger_thread, NULL, bl_wf_trigger_loop, o) != 0)
        return bl_err_set(err, BL_EIO, "workflows: cannot start the trigger consumer");
    o->trigger_running = true;
    return 0;
}

bl_wf_orchestrator *bl_wf_orchestrator_new(const bl_wf_orchestrator_opts *opts, bl_err *err)
{
    if (!opts->pg_url || !opts->brokers || !opts->group_id || opts->n_topics == 0 || !opts->schemas) {
        bl_err_set(err, BL_EINVAL, "workflows: a database, brokers, a group, topics and a schema cache are required");
        return NULL;
    }
    bl_wf_orchestrator *o = calloc(1, sizeof *o);
    if (!o) {
        bl_err_set(err, BL_ENOMEM, "workflows: out of memory");
        return NULL;
    }
    o->opts = *opts;
    if (o->opts.workers <= 0)
        o->opts.workers = 4;
    if (o->opts.workers > BL_WF_WORKERS_MAX)
        o->opts.workers = BL_WF_WORKERS_MAX;
    if (o->opts.lease_ms <= 0)
        o->opts.lease_ms = 30000;
    if (o->opts.poll_ms <= 0)
        o->opts.poll_ms = 200;
    pthread_mutex_init(&o->cache_mu, NULL);
    if (opts->owner) {
        snprintf(o->owner, sizeof o->owner, "%s", opts->owner);
    } else {
        char host[64] = "host", uuid[BL_UUID_SIZE];
        gethostname(host, sizeof host - 1);
        if (bl_uuid_random(uuid, err) != 0)
            goto fail;
        snprintf(o->owner, sizeof o->owner, "%s:%d:%.8s", host, (int)getpid(), uuid);
    }
    if (!(o->pool = bl_pg_pool_new(opts->pg_url, o->opts.workers + 1, err)) ||
        !(o->catalog = bl_catalog_load(bl_catalog_default_dir(), err)))
        goto fail;
    for (int i = 0; i < o->opts.workers; i++) {
        if (pthread_create(&o->workers[i], NULL, bl_wf_worker_loop, o) != 0) {
            bl_err_set(err, BL_EIO, "workflows: cannot start worker %d", i);
            goto fail;
        }
        o->n_workers++;
    }
    if (start_consumer(o, err) != 0)
        goto fail;
    bl_log_info("workflows: started", BL_FS("owner", o->owner), BL_FI("workers", o->opts.workers),
                BL_FI("lease_ms", o->opts.lease_ms));
    return o;
fail:
    bl_wf_orchestrator_free(o);
    return NULL;
}

bool bl_wf_orchestrator_ready(bl_wf_orchestrator *o)
{
    return o && atomic_load(&o->assigned);
}

void bl_wf_orchestrator_free(bl_wf_orchestrator *o)
{
    if (!o)
        return;
    atomic_store(&o->stopping, true);
    if (o->trigger_running)
        pthread_join(o->trigger_thread, NULL);
    for (int i = 0; i < o->n_workers; i++)
        pthread_join(o->workers[i], NULL);
    bl_err err = {0};
    if (o->consumer && bl_kafka_consumer_close(o->consumer, &err) != 0)
        bl_log_warn("workflows: trigger consumer did not leave its group", BL_FS("error", err.msg));
    bl_kafka_consumer_free(o->consumer);
    for (size_t i = 0; i < o->cache_n; i++)
        bl_wf_def_free(o->cache[i].def);
    bl_catalog_free(o->catalog);
    bl_pg_pool_free(o->pool);
    pthread_mutex_destroy(&o->cache_mu);
    free(o);
}
