/* Producers to webhook endpoints' Kafka destinations (see kafka_sink.h). */
#include "connectors/webhook/workers/kafka_sink.h"

#include "core/clock.h"
#include "core/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_PRODUCERS 32
#define DEFAULT_IDLE_MS 60000
#define MIN_MESSAGE_TIMEOUT_MS 1000

typedef struct sink_entry {
    bl_kafka_sink *sink;
    char endpoint_id[BL_WEBHOOK_ID_MAX + 1];
    int64_t updated_ms;        /* the endpoint's settings it was made with */
    bl_kafka_producer *p;
    size_t in_flight;
    int64_t used_mono;
    bool retired;              /* settings changed: closed once idle */
} sink_entry;

struct bl_kafka_sink {
    bl_kafka_sink_opts o;
    sink_entry **items;        /* max_producers slots, NULL: free */
    size_t in_flight;
};

bl_kafka_sink *bl_kafka_sink_new(const bl_kafka_sink_opts *opts, bl_err *err)
{
    if (!opts || !opts->report) {
        bl_err_set(err, BL_EINVAL, "kafka sink: a report callback is required");
        return NULL;
    }
    bl_kafka_sink *s = calloc(1, sizeof *s);
    if (!s) {
        bl_err_set(err, BL_ENOMEM, "kafka sink: out of memory");
        return NULL;
    }
    s->o = *opts;
    if (!s->o.max_producers)
        s->o.max_producers = DEFAULT_MAX_PRODUCERS;
    if (s->o.idle_ms <= 0)
        s->o.idle_ms = DEFAULT_IDLE_MS;
    if (!(s->items = calloc(s->o.max_producers, sizeof *s->items))) {
        free(s);
        bl_err_set(err, BL_ENOMEM, "kafka sink: out of memory");
        return NULL;
    }
    return s;
}

static void on_delivery(const bl_kafka_delivery *d, void *user)
{
    sink_entry *e = user;
    e->in_flight--;
    e->sink->in_flight--;
    e->sink->o.report(d->msg_opaque, d->err_code, d->err_msg, d->partition, d->offset, e->sink->o.ctx);
}

/* Closes slot i's producer: what it still holds is purged and reported. */
static void entry_close(bl_kafka_sink *s, size_t i)
{
    sink_entry *e = s->items[i];
    int undelivered = bl_kafka_producer_free(e->p, 0);
    if (undelivered > 0)
        bl_log_warn("kafka sink: producer closed with messages undelivered",
                    BL_FS("endpoint_id", e->endpoint_id), BL_FI("messages", undelivered));
    free(e);
    s->items[i] = NULL;
}

/* The librdkafka settings of endpoint e's destination (password borrowed). */
static size_t destination_conf(const bl_webhook_endpoint *e, const char *password, char *timeout, size_t timeout_len,
                               const char **kv)
{
    const bl_webhook_kafka *k = e->kafka;
    size_t n = 0;
    snprintf(timeout, timeout_len, "%d", e->timeout_ms > MIN_MESSAGE_TIMEOUT_MS ? e->timeout_ms : MIN_MESSAGE_TIMEOUT_MS);
    kv[n++] = "message.timeout.ms";
    kv[n++] = timeout;
    kv[n++] = "client.id";
    kv[n++] = "busline-webhooks";
    kv[n++] = "security.protocol";
    kv[n++] = k->security_protocol;
    if (bl_webhook_kafka_uses_sasl(k)) {
        kv[n++] = "sasl.mechanism";
        kv[n++] = k->sasl_mechanism;
        kv[n++] = "sasl.username";
        kv[n++] = k->sasl_username;
        kv[n++] = "sasl.password";
        kv[n++] = password ? password : "";
    }
    if (k->ssl_ca_pem) {
        kv[n++] = "ssl.ca.pem";
        kv[n++] = k->ssl_ca_pem;
    }
    kv[n] = NULL;
    return n;
}

/* A free slot, closing the least recently used idle producer when none is
 * free. Returns its index, or -1 when every producer is busy. */
static long free_slot(bl_kafka_sink *s)
{
    long lru = -1;
    for (size_t i = 0; i < s->o.max_producers; i++) {
        sink_entry *e = s->items[i];
        if (!e)
            return (long)i;
        if (e->in_flight == 0 && (lru < 0 || e->used_mono < s->items[lru]->used_mono))
            lru = (long)i;
    }
    if (lru >= 0)
        entry_close(s, (size_t)lru);
    return lru;
}

static sink_entry *entry_for(bl_kafka_sink *s, const bl_webhook_snapshot *snap, bl_err *err)
{
    const bl_webhook_endpoint *e = snap->endpoint;
    for (size_t i = 0; i < s->o.max_producers; i++) {
        sink_entry *x = s->items[i];
        if (!x || strcmp(x->endpoint_id, e->id) != 0)
            continue;
        if (x->updated_ms == e->updated_ms && !x->retired)
            return x;
        x->retired = true; /* settings changed: a new producer takes over */
        if (x->in_flight == 0)
            entry_close(s, i);
    }
    /* the brokers again through the guard: names may resolve elsewhere now */
    if (bl_webhook_kafka_check(e->kafka, snap->kafka_sasl_password != NULL, s->o.allow, err) != 0)
        return NULL;
    long slot = free_slot(s);
    if (slot < 0) {
        bl_err_set(err, BL_ECONFLICT, "kafka sink: all %zu destination producers are busy", s->o.max_producers);
        return NULL;
    }
    sink_entry *x = calloc(1, sizeof *x);
    if (!x) {
        bl_err_set(err, BL_ENOMEM, "kafka sink: out of memory");
        return NULL;
    }
    x->sink = s;
    snprintf(x->endpoint_id, sizeof x->endpoint_id, "%s", e->id);
    x->updated_ms = e->updated_ms;
    const char *kv[16];
    char timeout[16];
    destination_conf(e, snap->kafka_sasl_password, timeout, sizeof timeout, kv);
    if (!(x->p = bl_kafka_producer_new(e->kafka->brokers, kv, on_delivery, x, err))) {
        free(x);
        err->code = BL_EINVAL; /* librdkafka refused a setting */
        bl_err_wrap(err, "kafka destination of %s", e->id);
        return NULL;
    }
    s->items[slot] = x;
    return x;
}

int bl_kafka_sink_send(bl_kafka_sink *s, const bl_webhook_snapshot *snap, const void *key, size_t key_len,
                       const void *value, size_t value_len, const bl_kafka_header *headers, size_t n_headers,
                       void *opaque, bl_err *err)
{
    if (!snap->endpoint->kafka)
        return bl_err_set(err, BL_EINVAL, "kafka sink: endpoint %s has no Kafka destination", snap->endpoint->id);
    sink_entry *x = entry_for(s, snap, err);
    if (!x)
        return -1;
    x->used_mono = bl_clock_mono_ms();
    if (bl_kafka_producer_send(x->p, snap->endpoint->kafka->topic, key, key_len, value, value_len, headers,
                               n_headers, opaque, 0, err) != 0)
        return -1;
    x->in_flight++;
    s->in_flight++;
    return 0;
}

void bl_kafka_sink_poll(bl_kafka_sink *s)
{
    int64_t now = bl_clock_mono_ms();
    for (size_t i = 0; i < s->o.max_producers; i++) {
        sink_entry *x = s->items[i];
        if (!x)
            continue;
        if (x->in_flight)
            bl_kafka_producer_poll(x->p, 0);
        if (x->in_flight == 0 && (x->retired || now - x->used_mono >= s->o.idle_ms))
            entry_close(s, i);
    }
}

size_t bl_kafka_sink_in_flight(const bl_kafka_sink *s)
{
    return s->in_flight;
}

size_t bl_kafka_sink_producers(const bl_kafka_sink *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->o.max_producers; i++)
        n += s->items[i] != NULL;
    return n;
}

void bl_kafka_sink_free(bl_kafka_sink *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->o.max_producers; i++)
        if (s->items[i])
            entry_close(s, i);
    free(s->items);
    free(s);
}
