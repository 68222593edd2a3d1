#include "tests/support/runtime_fixture.h"

#include "core/clock.h"
#include "core/kafka_admin.h"
#include "core/kafka_consumer.h"
#include "tests/support/test.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FIXTURE_TIMEOUT_MS 15000

static void *completer(void *arg)
{
    fake_connector *fc = arg;
    for (;;) {
        pthread_mutex_lock(&fc->lock);
        if (fc->quit) {
            pthread_mutex_unlock(&fc->lock);
            return NULL;
        }
        int64_t now = bl_clock_mono_ms();
        /* Complete whatever is due, in no particular order. */
        for (size_t i = 0; i < fc->n;) {
            if (fc->pending[i].due_mono <= now) {
                fake_pending p = fc->pending[i];
                fc->pending[i] = fc->pending[--fc->n];
                p.outcome.error = p.error;
                if (fc->completed)
                    fc->completed(p.job, p.outcome, fc->user);
                bl_runtime_complete(fc->rt, p.job, p.outcome);
            } else {
                i++;
            }
        }
        pthread_mutex_unlock(&fc->lock);
        usleep(1000);
    }
}

static void fake_start(bl_runtime_job *job, void *ctx)
{
    fake_connector *fc = ctx;
    int delay = fc->max_delay_ms > 0 ? (int)(rand_r(&fc->seed) % (unsigned)(fc->max_delay_ms + 1)) : 0;
    bl_outcome o = fc->decide ? fc->decide(job, &delay, fc->user) : bl_outcome_done();
    pthread_mutex_lock(&fc->lock);
    if (fc->n == fc->cap) {
        fc->cap = fc->cap ? fc->cap * 2 : 256;
        fc->pending = realloc(fc->pending, fc->cap * sizeof *fc->pending);
    }
    fake_pending *p = &fc->pending[fc->n++];
    p->job = job;
    p->due_mono = delay < 0 ? INT64_MAX : bl_clock_mono_ms() + delay;
    p->outcome = o;
    snprintf(p->error, sizeof p->error, "%s", o.error ? o.error : "");
    if ((int)fc->n > fc->max_pending)
        fc->max_pending = (int)fc->n;
    pthread_mutex_unlock(&fc->lock);
}

static void fake_pump(int timeout_ms, const int *fds, size_t n, void *ctx)
{
    (void)ctx;
    struct pollfd pfds[4];
    for (size_t i = 0; i < n && i < 4; i++)
        pfds[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    (void)poll(pfds, (nfds_t)(n < 4 ? n : 4), timeout_ms);
}

static void fake_abandon(bl_runtime_job *job, void *ctx)
{
    fake_connector *fc = ctx;
    pthread_mutex_lock(&fc->lock);
    for (size_t i = 0; i < fc->n; i++) {
        if (fc->pending[i].job == job) {
            fc->pending[i] = fc->pending[--fc->n];
            break;
        }
    }
    pthread_mutex_unlock(&fc->lock);
}

void fake_connector_init(fake_connector *fc, int max_delay_ms, fake_decide_fn decide,
                         fake_completed_fn completed, void *user)
{
    memset(fc, 0, sizeof *fc);
    fc->max_delay_ms = max_delay_ms;
    fc->seed = (unsigned)getpid();
    fc->decide = decide;
    fc->completed = completed;
    fc->user = user;
    pthread_mutex_init(&fc->lock, NULL);
    pthread_create(&fc->thread, NULL, completer, fc);
}

bl_runtime_connector fake_connector_hooks(fake_connector *fc)
{
    return (bl_runtime_connector){.start = fake_start, .pump = fake_pump, .abandon = fake_abandon, .ctx = fc};
}

void fake_connector_release_locked(fake_connector *fc)
{
    for (size_t i = 0; i < fc->n; i++)
        if (fc->pending[i].due_mono == INT64_MAX)
            fc->pending[i].due_mono = 0;
}

void fake_connector_release(fake_connector *fc)
{
    pthread_mutex_lock(&fc->lock);
    fake_connector_release_locked(fc);
    pthread_mutex_unlock(&fc->lock);
}

void fake_connector_stop(fake_connector *fc)
{
    pthread_mutex_lock(&fc->lock);
    fc->quit = 1;
    pthread_mutex_unlock(&fc->lock);
    pthread_join(fc->thread, NULL);
    pthread_mutex_destroy(&fc->lock);
    free(fc->pending);
    fc->pending = NULL;
    fc->n = fc->cap = 0;
}

int fixture_run(const bl_runtime_opts *o, fake_connector *fc, bl_runtime **rt_slot, bl_runtime_stats *st)
{
    bl_err err = {0};
    bl_runtime *rt = bl_runtime_new(o, &err);
    *rt_slot = rt;
    fc->rt = rt;
    int rc = rt ? bl_runtime_run(rt, &err) : -1;
    if (rc != 0)
        fprintf(stderr, "  runtime: %s\n", err.msg);
    if (rt && st)
        bl_runtime_get_stats(rt, st);
    fake_connector_stop(fc);
    *rt_slot = NULL;
    bl_runtime_free(rt);
    return rc;
}

long fixture_msg_id(const bl_kafka_msg *m)
{
    size_t len;
    const char *v = bl_kafka_msg_value(m, &len);
    char buf[32];
    if (!v || len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return strtol(buf, NULL, 10);
}

int fixture_topics_create(const char *const *names, size_t n, int partitions)
{
    bl_err err = {0};
    bl_kafka_admin *a = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    if (!a)
        goto fail;
    bl_kafka_topic_spec specs[8];
    for (size_t i = 0; i < n && i < 8; i++)
        specs[i] = (bl_kafka_topic_spec){names[i], partitions, 1, NULL};
    int rc = bl_kafka_admin_create_topics(a, specs, n, FIXTURE_TIMEOUT_MS, &err) == 0 &&
                     bl_kafka_admin_wait_visible(a, names, n, FIXTURE_TIMEOUT_MS, &err) == 0
                 ? 0
                 : -1;
    bl_kafka_admin_free(a);
    if (rc == 0)
        return 0;
fail:
    fprintf(stderr, "  fixture: create topics: %s\n", err.msg);
    return -1;
}

void fixture_topics_delete(const char *const *names, size_t n)
{
    bl_err err = {0};
    bl_kafka_admin *a = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    if (a && bl_kafka_admin_delete_topics(a, names, n, FIXTURE_TIMEOUT_MS, &err) != 0)
        fprintf(stderr, "  fixture: delete topics: %s\n", err.msg);
    bl_kafka_admin_free(a);
}

int fixture_produce(const char *topic, long first, long count, int keys)
{
    bl_err err = {0};
    bl_kafka_producer *p = bl_kafka_producer_new(bl_test_kafka_brokers(), NULL, NULL, NULL, &err);
    if (!p)
        goto fail;
    for (long id = first; id < first + count; id++) {
        char key[32], value[32], ce_id[40];
        snprintf(key, sizeof key, "k%ld", id % (keys > 0 ? keys : 1));
        snprintf(value, sizeof value, "%ld", id);
        snprintf(ce_id, sizeof ce_id, "id-%ld", id);
        bl_kafka_header h = {"ce_id", ce_id, strlen(ce_id)};
        if (bl_kafka_producer_send(p, topic, key, strlen(key), value, strlen(value), &h, 1, NULL, 5000, &err) != 0)
            goto fail;
    }
    if (bl_kafka_producer_flush(p, FIXTURE_TIMEOUT_MS, &err) != 0)
        goto fail;
    bl_kafka_producer_free(p, 0);
    return 0;
fail:
    fprintf(stderr, "  fixture: produce: %s\n", err.msg);
    bl_kafka_producer_free(p, 0);
    return -1;
}

static bl_kafka_consumer *plain_consumer(const char *group)
{
    bl_err err = {0};
    bl_kafka_consumer_opts o = {.brokers = bl_test_kafka_brokers(), .group_id = group};
    bl_kafka_consumer *c = bl_kafka_consumer_new(&o, &err);
    if (!c)
        fprintf(stderr, "  fixture: consumer: %s\n", err.msg);
    return c;
}

int64_t fixture_committed_total(const char *group, const char *topic, int partitions)
{
    bl_kafka_consumer *c = plain_consumer(group);
    if (!c)
        return -1;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(partitions);
    for (int i = 0; i < partitions; i++)
        rd_kafka_topic_partition_list_add(l, topic, i);
    int64_t total = -1;
    if (rd_kafka_committed(bl_kafka_consumer_handle(c), l, FIXTURE_TIMEOUT_MS) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        total = 0;
        for (int i = 0; i < l->cnt; i++)
            total += l->elems[i].offset > 0 ? l->elems[i].offset : 0;
    }
    rd_kafka_topic_partition_list_destroy(l);
    bl_kafka_consumer_free(c);
    return total;
}

int64_t fixture_end_total(const char *topic, int partitions)
{
    char group[96];
    bl_test_unique_name(group, sizeof group, "fixture_end");
    bl_kafka_consumer *c = plain_consumer(group);
    if (!c)
        return -1;
    int64_t total = 0;
    for (int i = 0; i < partitions && total >= 0; i++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(bl_kafka_consumer_handle(c), topic, i, &lo, &hi,
                                             FIXTURE_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
            total = -1;
        else
            total += hi;
    }
    bl_kafka_consumer_free(c);
    return total;
}

int fixture_read(const char *topic, int want, int timeout_ms, fixture_msg_fn fn, void *user)
{
    char group[96];
    bl_test_unique_name(group, sizeof group, "fixture_read");
    bl_kafka_consumer *c = plain_consumer(group);
    bl_err err = {0};
    int got = 0;
    if (!c || bl_kafka_consumer_subscribe(c, &topic, 1, &err) != 0)
        goto done;
    int64_t deadline = bl_clock_mono_ms() + timeout_ms;
    while (got < want && bl_clock_mono_ms() < deadline) {
        bl_kafka_msg *m = NULL;
        if (bl_kafka_consumer_poll(c, 100, &m, &err) == 1) {
            if (fn)
                fn(m, user);
            got++;
            bl_kafka_msg_release(m);
        }
    }
done:
    bl_kafka_consumer_free(c);
    return got;
}
