/* The consumer on events.* that evicts cached custom answers. */
#include "api/custom/invalidation.h"

#include "core/kafka_consumer.h"
#include "core/log.h"
#include "core/uuid.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLL_MS 200

struct bl_custom_invalidator {
    bl_kafka_consumer *consumer;
    bl_custom_registry *registry;
    bl_custom_cache *cache;
    pthread_t thread;
    bool thread_running;
    atomic_bool stopping, assigned;
    atomic_uint_fast64_t evictions;
};

static void on_assign(const rd_kafka_topic_partition_list_t *parts, int lost, void *user)
{
    (void)lost;
    bl_custom_invalidator *v = user;
    if (parts->cnt > 0)
        atomic_store(&v->assigned, true);
}

static void evict(const bl_custom_def *d, void *ctx)
{
    bl_custom_invalidator *v = ctx;
    bl_custom_cache_evict(v->cache, d->id, d->cache_strategy == BL_CUSTOM_CACHE_DATABASE);
}

static void handle(bl_custom_invalidator *v, const bl_kafka_msg *m)
{
    const void *value = NULL;
    size_t len = 0;
    char type[256];
    if (bl_kafka_msg_header(m, "ce_type", &value, &len) != 0 || !value || len == 0 || len >= sizeof type)
        return;
    memcpy(type, value, len);
    type[len] = '\0';
    size_t n = bl_custom_registry_each_invalidated(v->registry, type, evict, v);
    if (n > 0) {
        atomic_fetch_add(&v->evictions, 1);
        bl_log_info("custom api: cached answers evicted by an event", BL_FS("ce_type", type),
                    BL_FS("topic", bl_kafka_msg_topic(m)));
    }
}

static void *consume_loop(void *arg)
{
    bl_custom_invalidator *v = arg;
    while (!atomic_load(&v->stopping)) {
        bl_kafka_msg *m = NULL;
        bl_err err = {0};
        int rc = bl_kafka_consumer_poll(v->consumer, POLL_MS, &m, &err);
        if (rc == 1) {
            handle(v, m);
            bl_kafka_msg_release(m);
        } else if (rc < 0 && bl_kafka_consumer_fatal(v->consumer, &err)) {
            bl_log_error("custom api: cache invalidation consumer stopped", BL_FS("error", err.msg));
            break;
        }
    }
    return NULL;
}

bl_custom_invalidator *bl_custom_invalidator_new(const char *brokers, const char *prefix,
                                                 bl_custom_registry *registry, bl_custom_cache *cache, bl_err *err)
{
    bl_custom_invalidator *v = calloc(1, sizeof *v);
    if (!v) {
        bl_err_set(err, BL_ENOMEM, "custom api: out of memory");
        return NULL;
    }
    v->registry = registry;
    v->cache = cache;
    char uuid[BL_UUID_SIZE], group[96], topic[256];
    if (bl_uuid_random(uuid, err) != 0)
        goto fail;
    snprintf(group, sizeof group, "busline-custom-cache-%s", uuid);
    /* the prefix is a test's "t-xxxx." and the like: its dots are escaped */
    size_t o = (size_t)snprintf(topic, sizeof topic, "^");
    for (const char *p = prefix ? prefix : ""; *p && o + 3 < sizeof topic; p++) {
        if (strchr(".^$*+?()[]{}|\\", *p))
            topic[o++] = '\\';
        topic[o++] = *p;
    }
    snprintf(topic + o, sizeof topic - o, "events\\..*");
    static const char *const extra[] = {"topic.metadata.refresh.interval.ms", "1000", NULL};
    bl_kafka_consumer_opts opts = {.brokers = brokers, .group_id = group, .auto_offset_reset = "latest",
                                   .extra = extra, .on_assign = on_assign, .user = v};
    const char *topics[] = {topic};
    if (!(v->consumer = bl_kafka_consumer_new(&opts, err)) ||
        bl_kafka_consumer_subscribe(v->consumer, topics, 1, err) != 0)
        goto fail;
    if (pthread_create(&v->thread, NULL, consume_loop, v) != 0) {
        bl_err_set(err, BL_EIO, "custom api: cannot start the cache invalidation consumer");
        goto fail;
    }
    v->thread_running = true;
    return v;
fail:
    bl_custom_invalidator_free(v);
    return NULL;
}

bool bl_custom_invalidator_ready(bl_custom_invalidator *v)
{
    return v && atomic_load(&v->assigned);
}

uint64_t bl_custom_invalidator_evictions(bl_custom_invalidator *v)
{
    return v ? atomic_load(&v->evictions) : 0;
}

void bl_custom_invalidator_free(bl_custom_invalidator *v)
{
    if (!v)
        return;
    if (v->thread_running) {
        atomic_store(&v->stopping, true);
        pthread_join(v->thread, NULL);
    }
    bl_err err = {0};
    if (v->consumer && bl_kafka_consumer_close(v->consumer, &err) != 0)
        bl_log_warn("custom api: cache invalidation consumer did not leave its group", BL_FS("error", err.msg));
    bl_kafka_consumer_free(v->consumer);
    free(v);
}
