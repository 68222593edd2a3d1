/* The runner: the shared state of every call of the process. One thread
 * drives core/http_client (libcurl multi: keep-alive connections shared by
 * every call); callers in any thread hand it a request and wait on their
 * own condition variable. Breakers per organization and call id, the
 * last-good cache, and for bus calls one idempotent producer whose delivery
 * reports a second thread serves. */
#include "connectors/calls/call_runner_internal.h"

#include "core/clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BREAKER_BUCKETS 256
#define MAX_DOMAINS 16
#define RUN_WAIT_MS 1000

typedef struct http_job {
    const bl_http_call *call;  /* the caller's, borrowed until done */
    bl_call_exchange *out;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    struct http_job *next;
} http_job;

typedef struct breaker_entry {
    char *key;
    bl_breaker b;
    struct breaker_entry *next;
} breaker_entry;

struct bl_call_bus_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    bool done;
    int err_code;
    char err_msg[BL_ERR_MSG_MAX];
    int32_t partition;
    int64_t offset;
};

struct bl_call_runner {
    bl_ssrf_allowlist allow;
    bl_breaker_config breaker_default;
    bl_http_client *client;
    pthread_t thread;
    bool thread_started;
    atomic_bool stopping;
    pthread_mutex_t queue_mu;
    http_job *queue_head, *queue_tail;

    pthread_mutex_t breaker_mu;
    breaker_entry *breakers[BREAKER_BUCKETS];

    bl_call_cache *last_good;
    bl_call_cache *produced;

    /* bus */
    char *registry_url, *schemas_dir, *topic_prefix;
    int linger_ms;
    pthread_mutex_t bus_mu;
    bl_kafka_producer *producer;
    pthread_t poller;
    bool poller_started;
    char *domain_names[MAX_DOMAINS];
    bl_domain_codec *codecs[MAX_DOMAINS];
    size_t n_domains;
};

/* ---- the HTTP thread ---- */

static void on_http_done(const bl_http_result *res, void *opaque)
{
    http_job *j = opaque;
    bl_call_exchange *x = j->out;
    x->transport = res->transport;
    x->status = res->status;
    x->truncated = res->body_truncated;
    x->connection_reused = res->connection_reused;
    snprintf(x->error, sizeof x->error, "%s", res->error ? res->error : "");
    snprintf(x->retry_after, sizeof x->retry_after, "%s", res->retry_after ? res->retry_after : "");
    snprintf(x->content_type, sizeof x->content_type, "%s", res->content_type ? res->content_type : "");
    if (res->body && (x->body = malloc(res->body_len + 1))) {
        memcpy(x->body, res->body, res->body_len);
        x->body[res->body_len] = '\0';
        x->body_len = res->body_len;
    }
    pthread_mutex_lock(&j->mu);
    j->done = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static void finish_unsent(http_job *j, const char *why)
{
    j->out->transport = BL_HTTP_TRANSPORT_OTHER;
    snprintf(j->out->error, sizeof j->out->error, "%s", why);
    pthread_mutex_lock(&j->mu);
    j->done = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static http_job *take_queue(bl_call_runner *r)
{
    pthread_mutex_lock(&r->queue_mu);
    http_job *j = r->queue_head;
    r->queue_head = r->queue_tail = NULL;
    pthread_mutex_unlock(&r->queue_mu);
    return j;
}

static void *http_thread(void *arg)
{
    bl_call_runner *r = arg;
    while (!atomic_load(&r->stopping)) {
        for (http_job *j = take_queue(r), *next; j; j = next) {
            next = j->next;
            bl_http_call call = *j->call;
            call.on_done = on_http_done;
            call.opaque = j;
            bl_err err = {0};
            if (bl_http_client_submit(r->client, &call, &err) != 0)
                finish_unsent(j, err.msg);
        }
        bl_err err = {0};
        if (bl_http_client_run(r->client, RUN_WAIT_MS, &err) < 0) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL); /* curl multi failed: do not spin */
        }
    }
    return NULL;
}

int bl_call_runner_http(bl_call_runner *r, const bl_http_call *call, bl_call_exchange *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    if (atomic_load(&r->stopping))
        return bl_err_set(err, BL_EINVAL, "calls: the runner is stopping");
    http_job j = {.call = call, .out = out};
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    pthread_mutex_lock(&r->queue_mu);
    if (r->queue_tail)
        r->queue_tail->next = &j;
    else
        r->queue_head = &j;
    r->queue_tail = &j;
    pthread_mutex_unlock(&r->queue_mu);
    bl_http_client_wakeup(r->client);
    pthread_mutex_lock(&j.mu);
    while (!j.done)
        pthread_cond_wait(&j.cv, &j.mu);
    pthread_mutex_unlock(&j.mu);
    pthread_cond_destroy(&j.cv);
    pthread_mutex_destroy(&j.mu);
    return 0;
}

void bl_call_exchange_clear(bl_call_exchange *x)
{
    if (!x)
        return;
    free(x->body);
    x->body = NULL;
}

const bl_ssrf_allowlist *bl_call_runner_allow(const bl_call_runner *r)
{
    return &r->allow;
}

/* ---- breakers ---- */

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Under breaker_mu. NULL when out of memory. */
static bl_breaker *breaker_of(bl_call_runner *r, const bl_call *c)
{
    breaker_entry **slot = &r->breakers[fnv(c->key) % BREAKER_BUCKETS];
    for (breaker_entry *e = *slot; e; e = e->next)
        if (strcmp(e->key, c->key) == 0)
            return &e->b;
    breaker_entry *e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(c->key))) {
        free(e);
        return NULL;
    }
    if (bl_breaker_init(&e->b, c->has_breaker ? &c->breaker : &r->breaker_default, NULL) != 0)
        bl_breaker_init(&e->b, NULL, NULL);
    e->next = *slot;
    *slot = e;
    return &e->b;
}

bl_breaker_permit bl_call_runner_breaker_allow(bl_call_runner *r, const bl_call *c, int64_t now_ms)
{
    bl_breaker_permit p = {.allowed = true};
    pthread_mutex_lock(&r->breaker_mu);
    bl_breaker *b = breaker_of(r, c);
    if (b)
        p = bl_breaker_allow(b, now_ms);
    pthread_mutex_unlock(&r->breaker_mu);
    return p;
}

void bl_call_runner_breaker_record(bl_call_runner *r, const bl_call *c, const bl_breaker_permit *p,
                                   bool success, int64_t now_ms)
{
    pthread_mutex_lock(&r->breaker_mu);
    bl_breaker *b = breaker_of(r, c);
    if (b)
        bl_breaker_record(b, p, success, now_ms);
    pthread_mutex_unlock(&r->breaker_mu);
}

bl_breaker_state bl_call_runner_breaker_state(bl_call_runner *r, const bl_call *c)
{
    pthread_mutex_lock(&r->breaker_mu);
    bl_breaker *b = breaker_of(r, c);
    bl_breaker_state s = b ? bl_breaker_state_at(b, bl_clock_mono_ms()) : BL_BREAKER_CLOSED;
    pthread_mutex_unlock(&r->breaker_mu);
    return s;
}

bl_call_cache *bl_call_runner_last_good(bl_call_runner *r) { return r->last_good; }
bl_call_cache *bl_call_runner_produced(bl_call_runner *r) { return r->produced; }

/* ---- the bus ---- */

static void wait_release(bl_call_bus_wait *w)
{
    pthread_mutex_lock(&w->mu);
    int left = --w->refs;
    pthread_mutex_unlock(&w->mu);
    if (left == 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
    }
}

static void on_delivery(const bl_kafka_delivery *d, void *user)
{
    (void)user;
    bl_call_bus_wait *w = d->msg_opaque;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    w->err_code = d->err_code;
    snprintf(w->err_msg, sizeof w->err_msg, "%s", d->err_msg ? d->err_msg : "");
    w->partition = d->partition;
    w->offset = d->offset;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    wait_release(w);
}

static void *poll_thread(void *arg)
{
    bl_call_runner *r = arg;
    while (!atomic_load(&r->stopping))
        bl_kafka_producer_poll(r->producer, 100);
    return NULL;
}

bl_domain_codec *bl_call_runner_codec(bl_call_runner *r, const char *domain, bl_err *err)
{
    if (!r->producer || !r->registry_url) {
        bl_err_set(err, BL_EINVAL, "calls: bus calls need the runner's brokers and registry");
        return NULL;
    }
    bl_domain_codec *codec = NULL;
    pthread_mutex_lock(&r->bus_mu);
    for (size_t i = 0; i < r->n_domains; i++)
        if (strcmp(r->domain_names[i], domain) == 0)
            codec = r->codecs[i];
    if (!codec && r->n_domains == MAX_DOMAINS) {
        bl_err_set(err, BL_EINVAL, "calls: more than %d bus domains", MAX_DOMAINS);
    } else if (!codec) {
        char commands[256];
        snprintf(commands, sizeof commands, "%scommands.%s", r->topic_prefix ? r->topic_prefix : "", domain);
        bl_domain_codec_opts o = {.domain = domain, .registry_url = r->registry_url,
                                  .schemas_dir = r->schemas_dir, .commands_topic = commands,
                                  .events_prefix = r->topic_prefix};
        codec = bl_domain_codec_new(&o, err);
        char *name = codec ? strdup(domain) : NULL;
        if (codec && !name) {
            bl_domain_codec_free(codec);
            codec = NULL;
            bl_err_set(err, BL_ENOMEM, "calls: out of memory");
        }
        if (codec) {
            r->domain_names[r->n_domains] = name;
            r->codecs[r->n_domains++] = codec;
        }
    }
    pthread_mutex_unlock(&r->bus_mu);
    return codec;
}

bl_call_bus_wait *bl_call_runner_produce(bl_call_runner *r, const char *topic, const char *key,
                                         const uint8_t *bytes, size_t len, const bl_kafka_header *headers,
                                         size_t n_headers, bl_err *err)
{
    bl_call_bus_wait *w = calloc(1, sizeof *w);
    if (!w) {
        bl_err_set(err, BL_ENOMEM, "calls: out of memory");
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->refs = 2;
    if (bl_kafka_producer_send(r->producer, topic, key, strlen(key), bytes, len, headers, n_headers, w, 1000,
                               err) != 0) {
        w->refs = 1;
        wait_release(w);
        return NULL;
    }
    return w;
}

int bl_call_bus_wait_for(bl_call_bus_wait *w, int timeout_ms, int32_t *partition, int64_t *offset, bl_err *err)
{
    struct timespec deadline = bl_clock_deadline_after_ms(CLOCK_REALTIME, timeout_ms);
    int rc = 0;
    pthread_mutex_lock(&w->mu);
    while (!w->done && rc == 0)
        rc = pthread_cond_timedwait(&w->cv, &w->mu, &deadline);
    if (!w->done)
        rc = bl_err_set(err, BL_ETIMEOUT, "bus: no acknowledgement within %d ms (it may still land)", timeout_ms);
    else if (w->err_code != 0)
        rc = bl_err_set(err, BL_EKAFKA, "bus: %s", w->err_msg);
    else {
        *partition = w->partition;
        *offset = w->offset;
        rc = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

void bl_call_bus_wait_release(bl_call_bus_wait *w)
{
    if (w)
        wait_release(w);
}

/* ---- life ---- */

static char *dup_opt(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

bl_call_runner *bl_call_runner_new(const bl_call_runner_opts *opts, bl_err *err)
{
    bl_call_runner_opts o = opts ? *opts : (bl_call_runner_opts){0};
    bl_call_runner *r = calloc(1, sizeof *r);
    if (!r) {
        bl_err_set(err, BL_ENOMEM, "calls: out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->queue_mu, NULL);
    pthread_mutex_init(&r->breaker_mu, NULL);
    pthread_mutex_init(&r->bus_mu, NULL);
    if (o.allow)
        r->allow = *o.allow;
    r->breaker_default = o.breaker.failure_threshold ? o.breaker : bl_breaker_config_default();
    if (bl_breaker_config_check(&r->breaker_default, err) != 0) {
        bl_err_wrap(err, "calls: breaker");
        goto fail;
    }
    bl_http_client_config hc = {.max_host_connections = o.max_host_connections,
                                .body_cap = o.body_cap ? o.body_cap : 1024 * 1024,
                                .user_agent = "busline-calls"};
    if (!(r->client = bl_http_client_new(&hc, err)))
        goto fail;
    if (!(r->last_good = bl_call_cache_new(o.cache_entries ? o.cache_entries : 1024,
                                           o.cache_entry_max ? o.cache_entry_max : 64 * 1024, err)) ||
        !(r->produced = bl_call_cache_new(4096, 1024, err)))
        goto fail;
    r->registry_url = dup_opt(o.registry_url);
    r->schemas_dir = dup_opt(o.schemas_dir);
    r->topic_prefix = dup_opt(o.topic_prefix);
    if (o.brokers && *o.brokers) {
        char linger[16];
        snprintf(linger, sizeof linger, "%d", o.bus_linger_ms > 0 ? o.bus_linger_ms : 5);
        const char *extra[] = {"linger.ms", linger, "message.timeout.ms", "30000", NULL};
        if (!(r->producer = bl_kafka_producer_new(o.brokers, extra, on_delivery, r, err)))
            goto fail;
        if (pthread_create(&r->poller, NULL, poll_thread, r) != 0) {
            bl_err_set(err, BL_EIO, "calls: cannot start the producer's poll thread");
            goto fail;
        }
        r->poller_started = true;
    }
    if (pthread_create(&r->thread, NULL, http_thread, r) != 0) {
        bl_err_set(err, BL_EIO, "calls: cannot start the HTTP thread");
        goto fail;
    }
    r->thread_started = true;
    return r;
fail:
    bl_call_runner_free(r);
    return NULL;
}

void bl_call_runner_free(bl_call_runner *r)
{
    if (!r)
        return;
    atomic_store(&r->stopping, true);
    if (r->thread_started) {
        bl_http_client_wakeup(r->client);
        pthread_join(r->thread, NULL);
    }
    for (http_job *j = take_queue(r), *next; j; j = next) {
        next = j->next;
        finish_unsent(j, "cancelled: the runner stopped");
    }
    bl_http_client_free(r->client); /* reports what was in flight as cancelled */
    if (r->poller_started)
        pthread_join(r->poller, NULL);
    bl_kafka_producer_free(r->producer, 5000); /* reports the rest, releasing their waits */
    for (size_t i = 0; i < r->n_domains; i++) {
        bl_domain_codec_free(r->codecs[i]);
        free(r->domain_names[i]);
    }
    for (size_t i = 0; i < BREAKER_BUCKETS; i++)
        for (breaker_entry *e = r->breakers[i], *next; e; e = next) {
            next = e->next;
            free(e->key);
            free(e);
        }
    bl_call_cache_free(r->last_good);
    bl_call_cache_free(r->produced);
    free(r->registry_url);
    free(r->schemas_dir);
    free(r->topic_prefix);
    pthread_mutex_destroy(&r->queue_mu);
    pthread_mutex_destroy(&r->breaker_mu);
    pthread_mutex_destroy(&r->bus_mu);
    free(r);
}
