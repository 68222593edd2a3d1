#include "api/command_bus.h"

#include "core/clock.h"
#include "schemas/avro_json.h"
#include "schemas/codec.h"
#include "schemas/registry_client.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One send waiting for its delivery report. Heap-allocated: a waiter that
 * gives up marks it abandoned and the report frees it. */
typedef struct pending {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done, abandoned;
    int err_code;
    char err_msg[160];
} pending;

typedef struct command_topic {
    const bl_catalog_topic *topic;
    char *deployed;
    int32_t schema_id;
    bl_avro_schema *schema;
} command_topic;

struct bl_api_command_bus {
    bl_catalog *catalog;
    command_topic *topics;
    size_t topic_count;
    bl_kafka_producer *producer;
    int ack_timeout_ms;
    /* One thread serves delivery reports and wakes each waiter at once
     * (several threads polling would each sleep out their poll timeout). */
    pthread_t poller;
    bool poller_running;
    volatile bool stopping;
};

static void pending_free(pending *pd)
{
    pthread_cond_destroy(&pd->cond);
    pthread_mutex_destroy(&pd->lock);
    free(pd);
}

static void on_delivery(const bl_kafka_delivery *d, void *user)
{
    (void)user;
    pending *pd = d->msg_opaque;
    pthread_mutex_lock(&pd->lock);
    pd->done = true;
    pd->err_code = d->err_code;
    snprintf(pd->err_msg, sizeof pd->err_msg, "%s", d->err_msg ? d->err_msg : "");
    bool abandoned = pd->abandoned;
    pthread_cond_signal(&pd->cond);
    pthread_mutex_unlock(&pd->lock);
    if (abandoned)
        pending_free(pd);
}

static void *serve_reports(void *arg)
{
    bl_api_command_bus *b = arg;
    while (!__atomic_load_n(&b->stopping, __ATOMIC_ACQUIRE))
        bl_kafka_producer_poll(b->producer, 50);
    return NULL;
}

static int prepare_topic(command_topic *ct, const bl_catalog_topic *t, const char *prefix,
                         bl_registry_client *rc, bl_err *err)
{
    ct->topic = t;
    size_t n = strlen(prefix) + strlen(t->name) + 1;
    if (!(ct->deployed = malloc(n)))
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    snprintf(ct->deployed, n, "%s%s", prefix, t->name);
    if (!(ct->schema = bl_avro_schema_parse(t->schema_json, strlen(t->schema_json), err)))
        return bl_err_wrap(err, "api: schema of %s", t->name);
    if (!rc)
        return 0;
    char subject[300];
    snprintf(subject, sizeof subject, "%s-value", ct->deployed);
    int id = 0;
    if (bl_registry_client_register(rc, subject, t->schema_json, &id, err) != 0)
        return bl_err_wrap(err, "api: register %s", subject);
    ct->schema_id = id;
    return 0;
}

bl_api_command_bus *bl_api_command_bus_new(const bl_api_command_bus_opts *opts, bl_err *err)
{
    bl_api_command_bus *b = calloc(1, sizeof *b);
    bl_registry_client *rc = NULL;
    if (!b) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        return NULL;
    }
    b->ack_timeout_ms = opts->ack_timeout_ms > 0 ? opts->ack_timeout_ms : 10000;
    b->catalog = bl_catalog_load(opts->schemas_dir ? opts->schemas_dir : bl_catalog_default_dir(), err);
    if (!b->catalog)
        goto fail;
    size_t n = bl_catalog_topic_count(b->catalog);
    if (!(b->topics = calloc(n ? n : 1, sizeof *b->topics))) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        goto fail;
    }
    if (opts->registry_url && opts->brokers &&
        !(rc = bl_registry_client_new(opts->registry_url, 0, err)))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const bl_catalog_topic *t = bl_catalog_topic_at(b->catalog, i);
        if (t->kind != BL_MSG_COMMAND)
            continue;
        if (prepare_topic(&b->topics[b->topic_count++], t, opts->topic_prefix ? opts->topic_prefix : "",
                          rc, err) != 0)
            goto fail;
    }
    if (rc) {
        /* Each request waits for its own ack, so a linger is pure latency
         * added to every command: with none, the messages produced while
         * the previous request is at the broker still travel together. */
        static const char *const api_producer[] = {"linger.ms", "0", NULL};
        if (!(b->producer = bl_kafka_producer_new(opts->brokers, api_producer, on_delivery, b, err)))
            goto fail;
        if (pthread_create(&b->poller, NULL, serve_reports, b) != 0) {
            bl_err_set(err, BL_EIO, "api: cannot start the delivery report thread");
            goto fail;
        }
        b->poller_running = true;
    }
    bl_registry_client_free(rc);
    return b;
fail:
    bl_registry_client_free(rc);
    bl_api_command_bus_free(b);
    return NULL;
}

void bl_api_command_bus_free(bl_api_command_bus *b)
{
    if (!b)
        return;
    if (b->poller_running) {
        __atomic_store_n(&b->stopping, true, __ATOMIC_RELEASE);
        pthread_join(b->poller, NULL);
    }
    bl_kafka_producer_free(b->producer, 5000); /* serves the last reports here */
    for (size_t i = 0; i < b->topic_count; i++) {
        free(b->topics[i].deployed);
        bl_avro_schema_free(b->topics[i].schema);
    }
    free(b->topics);
    bl_catalog_free(b->catalog);
    free(b);
}

const bl_catalog *bl_api_command_bus_catalog(const bl_api_command_bus *b)
{
    return b->catalog;
}

bool bl_api_command_bus_can_send(const bl_api_command_bus *b)
{
    return b->producer != NULL;
}

static const command_topic *topic_of(const bl_api_command_bus *b, const bl_catalog_msg *msg)
{
    for (size_t i = 0; i < b->topic_count; i++)
        if (strcmp(b->topics[i].topic->name, msg->topic) == 0)
            return &b->topics[i];
    return NULL;
}

const char *bl_api_command_bus_topic(const bl_api_command_bus *b, const bl_catalog_msg *msg)
{
    const command_topic *ct = topic_of(b, msg);
    return ct ? ct->deployed : NULL;
}

const json_t *bl_api_command_bus_schema_json(const bl_api_command_bus *b, const bl_catalog_msg *msg)
{
    const command_topic *ct = topic_of(b, msg);
    return ct ? bl_avro_schema_json(ct->schema) : NULL;
}

int bl_api_command_bus_encode(bl_api_command_bus *b, const bl_catalog_msg *msg,
                              const json_t *envelope, uint8_t **bytes, size_t *len, bl_err *err)
{
    const command_topic *ct = topic_of(b, msg);
    if (!ct)
        return bl_err_set(err, BL_ENOTFOUND, "api: no command topic for %s", msg->type);
    avro_value_t value;
    if (bl_avro_value_new(ct->schema, &value, err) != 0)
        return -1;
    bl_avro_json_opts opts = {.mode = BL_AVRO_JSON_PLAIN, .union_hint = msg->record_name};
    int rc = bl_avro_from_json(ct->schema, envelope, &opts, &value, err);
    if (rc != 0)
        err->code = BL_EINVAL;
    else
        rc = bl_codec_encode(ct->schema_id, &value, bytes, len, err);
    avro_value_decref(&value);
    return rc;
}

int bl_api_command_bus_send(bl_api_command_bus *b, const bl_catalog_msg *msg, const char *key,
                            const uint8_t *bytes, size_t len, const bl_kafka_header *headers,
                            size_t n_headers, bl_err *err)
{
    const command_topic *ct = topic_of(b, msg);
    if (!b->producer || !ct)
        return bl_err_set(err, BL_EINVAL, "api: commands cannot be sent (no brokers or registry)");
    pending *pd = calloc(1, sizeof *pd);
    if (!pd)
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    pthread_mutex_init(&pd->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&pd->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (bl_kafka_producer_send(b->producer, ct->deployed, key, strlen(key), bytes, len, headers, n_headers, pd,
                               b->ack_timeout_ms, err) != 0) {
        pending_free(pd);
        return -1;
    }
    struct timespec until = bl_clock_deadline_after_ms(CLOCK_MONOTONIC, (unsigned)b->ack_timeout_ms);
    pthread_mutex_lock(&pd->lock);
    while (!pd->done)
        if (pthread_cond_timedwait(&pd->cond, &pd->lock, &until) == ETIMEDOUT)
            break;
    if (!pd->done) {
        pd->abandoned = true; /* the report frees it */
        pthread_mutex_unlock(&pd->lock);
        return bl_err_set(err, BL_ETIMEOUT, "kafka: produce to %s: no ack within %d ms", ct->deployed,
                          b->ack_timeout_ms);
    }
    pthread_mutex_unlock(&pd->lock);
    int rc = pd->err_code ? bl_err_set(err, BL_EKAFKA, "kafka: produce to %s: %s", ct->deployed, pd->err_msg)
                          : 0;
    pending_free(pd);
    return rc;
}
