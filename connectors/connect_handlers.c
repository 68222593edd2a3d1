/* The connector host's handler threads: a queue of decoded events fed by
 * the consumer runtime's hooks, worked off by cfg.handlers threads (or
 * inline when there are none); and the host's making and freeing. */
#include "connectors/connect_internal.h"

#include "core/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void work_free(work *w)
{
    json_decref(w->event);
    free(w);
}

/* Finishes w: completes its job unless the runtime abandoned it. */
static void work_finish(bl_connect *c, work *w, bl_outcome o)
{
    pthread_mutex_lock(&c->lock);
    if (w->job)
        bl_runtime_complete(w->rt, w->job, o);
    pthread_mutex_unlock(&c->lock);
    work_free(w);
}

static bl_outcome work_run(bl_connect *c, size_t index, work *w, char *msg, size_t cap)
{
    if (!w->event) {
        snprintf(msg, cap, "%s", w->error);
        return bl_outcome_dead_letter(msg);
    }
    return bl_connect_process_on(c, index, w->event, w->attempt, msg, cap);
}

static void *handler_main(void *arg)
{
    handler *h = arg;
    bl_connect *c = h->c;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        while (!c->quit && !c->head)
            pthread_cond_wait(&c->cond, &c->lock);
        if (c->quit) {
            pthread_mutex_unlock(&c->lock);
            return NULL;
        }
        work *w = c->head;
        c->head = w->next;
        if (!c->head)
            c->tail = NULL;
        w->running = 1;
        pthread_mutex_unlock(&c->lock);
        char msg[BL_CONNECTOR_MESSAGE_MAX + 64];
        bl_outcome o = work_run(c, h->index, w, msg, sizeof msg);
        work_finish(c, w, o);
    }
}

static void connect_start(bl_runtime_job *job, void *ctx)
{
    bl_connect *c = ctx;
    work *w = calloc(1, sizeof *w);
    if (!w) {
        bl_runtime_complete(bl_runtime_job_runtime(job), job, bl_outcome_retry(1000, "out of memory"));
        return;
    }
    w->job = job;
    w->rt = bl_runtime_job_runtime(job);
    w->attempt = bl_runtime_job_attempt(job);
    size_t len = 0;
    const void *value = bl_kafka_msg_value(bl_runtime_job_msg(job), &len);
    bl_err err = {0};
    w->event = bl_connect_decode(c, value, len, &err);
    if (!w->event)
        snprintf(w->error, sizeof w->error, "%s", err.msg);
    if (c->cfg.handlers == 0) {
        char msg[BL_CONNECTOR_MESSAGE_MAX + 64];
        bl_outcome o = work_run(c, 0, w, msg, sizeof msg);
        bl_runtime_complete(w->rt, job, o);
        work_free(w);
        return;
    }
    bl_runtime_job_set_user(job, w);
    pthread_mutex_lock(&c->lock);
    if (c->tail)
        c->tail->next = w;
    else
        c->head = w;
    c->tail = w;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static void connect_abandon(bl_runtime_job *job, void *ctx)
{
    bl_connect *c = ctx;
    work *w = bl_runtime_job_user(job);
    if (!w)
        return;
    pthread_mutex_lock(&c->lock);
    if (w->running) {
        w->job = NULL; /* the handler finishes the call and drops the result */
        pthread_mutex_unlock(&c->lock);
        return;
    }
    for (work **p = &c->head, *prev = NULL; *p; prev = *p, p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            if (c->tail == w)
                c->tail = prev;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    work_free(w);
}

/* One aggregate at a time: the message key is the lane. */
static int connect_strict_lane(const bl_runtime_job *job, char *lane, size_t cap, void *ctx)
{
    (void)ctx;
    size_t len = 0;
    const char *key = bl_kafka_msg_key(bl_runtime_job_msg(job), &len);
    if (!key || len == 0 || len >= cap)
        return 0;
    memcpy(lane, key, len);
    lane[len] = '\0';
    return 1;
}

bl_runtime_connector bl_connect_hooks(bl_connect *c)
{
    return (bl_runtime_connector){.start = connect_start,
                                  .strict_lane = connect_strict_lane,
                                  .abandon = connect_abandon,
                                  .ctx = c};
}

bl_connect *bl_connect_new(const bl_connect_config *cfg, bl_err *err)
{
    if (!cfg->connector || !cfg->state || !json_is_array(cfg->integrations)) {
        bl_err_set(err, BL_EINVAL, "connect: connector, state and an integrations array are required");
        return NULL;
    }
    if (json_array_size(cfg->integrations) > BL_CONNECT_MAX_INTEGRATIONS || cfg->handlers < 0 ||
        cfg->handlers > BL_CONNECT_MAX_HANDLERS) {
        bl_err_set(err, BL_EINVAL, "connect: at most %d integrations and %d handlers", BL_CONNECT_MAX_INTEGRATIONS,
                   BL_CONNECT_MAX_HANDLERS);
        return NULL;
    }
    bl_connect *c = calloc(1, sizeof *c);
    if (!c) {
        bl_err_set(err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    c->cfg.integrations = NULL;
    if (c->cfg.max_backoff_ms <= 0)
        c->cfg.max_backoff_ms = 300000;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->lib = bl_connector_open(cfg->connector, cfg->connector_dir, err);
    if (!c->lib)
        goto fail;
    c->table = bl_connector_lib_table(c->lib);
    c->cfg.connector = c->table->name;
    c->n_sets = cfg->handlers > 0 ? (size_t)cfg->handlers : 1;
    c->handlers = calloc(c->n_sets, sizeof *c->handlers);
    if (!c->handlers) {
        bl_err_set(err, BL_ENOMEM, "out of memory");
        goto fail;
    }
    if (!(c->set = bl_connect_set_build(c, cfg->integrations, err)))
        goto fail;
    for (size_t s = 0; cfg->handlers > 0 && s < c->n_sets; s++) {
        c->handlers[s].c = c;
        c->handlers[s].index = s;
        if (pthread_create(&c->handlers[s].thread, NULL, handler_main, &c->handlers[s]) != 0) {
            bl_err_set(err, BL_EIO, "connect: cannot start a handler thread");
            goto fail;
        }
        c->handlers[s].started = 1;
    }
    bl_log_info("connect: ready", BL_FS("connector", c->table->name), BL_FS("version", c->table->version),
                BL_FI("external", bl_connector_lib_external(c->lib)), BL_FI("integrations", c->set->n_ints),
                BL_FI("handlers", cfg->handlers));
    return c;
fail:
    bl_connect_free(c);
    return NULL;
}

void bl_connect_free(bl_connect *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->quit = 1;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    for (size_t s = 0; c->handlers && s < c->n_sets; s++)
        if (c->handlers[s].started)
            pthread_join(c->handlers[s].thread, NULL);
    while (c->head) {
        work *w = c->head;
        c->head = w->next;
        work_free(w);
    }
    bl_connect_set_free(c, c->set);
    free(c->handlers);
    bl_connector_lib_close(c->lib);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
