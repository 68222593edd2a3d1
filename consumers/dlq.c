/* Listing and replaying dead letters (see dlq.h). */
#include "consumers/dlq.h"

#include "consumers/topic_scan.h"
#include "core/kafka_producer.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define KEY_MAX 512
#define SEND_TIMEOUT_MS 10000

typedef struct dlq_walk {
    const bl_dlq_opts *o;
    bl_dlq_entry_fn fn;
    void *user;
    bl_kafka_producer *producer; /* replay only */
    atomic_long failed;          /* replay: sends the broker refused */
    size_t replayed, skipped;
    char failure[256];
} dlq_walk;

/* The key as text; 0 when it does not match o->key. */
static int key_matches(const bl_kafka_msg *m, const char *want, char *out)
{
    size_t len = 0;
    const void *k = bl_kafka_msg_key(m, &len);
    if (len >= KEY_MAX)
        len = KEY_MAX - 1;
    if (k)
        memcpy(out, k, len);
    out[k ? len : 0] = '\0';
    return !want || strcmp(out, want) == 0;
}

static int list_one(const bl_kafka_msg *m, void *user, bl_err *err)
{
    (void)err;
    dlq_walk *w = user;
    char key[KEY_MAX];
    if (!key_matches(m, w->o->key, key))
        return 0;
    bl_retry_headers h;
    bl_err perr = {0};
    int ok = bl_retry_headers_from_msg(m, &h, &perr) == 0;
    bl_dlq_entry e = {.msg = m, .headers = ok ? &h : NULL, .key = key};
    w->fn(&e, w->user);
    w->replayed++;
    return 0;
}

static int dlq_topic(const bl_dlq_opts *o, char *out, size_t len, bl_err *err)
{
    if (!o->brokers || !o->connector)
        return bl_err_set(err, BL_EINVAL, "dlq: brokers and connector are required");
    bl_retry_tiers t;
    if (bl_retry_tiers_parse(&t, o->connector, "1s", err) != 0)
        return -1;
    return bl_retry_dlq_topic(&t, out, len, err);
}

static long scan(const bl_dlq_opts *o, bl_topic_scan_fn fn, dlq_walk *w, bl_err *err)
{
    char topic[BL_TOPIC_NAME_MAX];
    if (dlq_topic(o, topic, sizeof topic, err) != 0)
        return -1;
    const char *topics[] = {topic};
    bl_topic_scan_opts so = {.brokers = o->brokers, .topics = topics, .n_topics = 1,
                             .since_ms = o->since_ms, .until_ms = o->until_ms, .timeout_ms = o->timeout_ms};
    return bl_topic_scan(&so, fn, w, err) < 0 ? -1 : (long)w->replayed;
}

long bl_dlq_list(const bl_dlq_opts *o, bl_dlq_entry_fn fn, void *user, bl_err *err)
{
    dlq_walk w = {.o = o, .fn = fn, .user = user};
    return scan(o, list_one, &w, err);
}

static void on_replayed(const bl_kafka_delivery *d, void *user)
{
    dlq_walk *w = user;
    if (d->err_code != 0 && atomic_fetch_add(&w->failed, 1) == 0)
        snprintf(w->failure, sizeof w->failure, "%s", d->err_msg ? d->err_msg : "unknown error");
}

static int replay_one(const bl_kafka_msg *m, void *user, bl_err *err)
{
    dlq_walk *w = user;
    char key[KEY_MAX];
    if (!key_matches(m, w->o->key, key))
        return 0;
    bl_retry_headers h;
    bl_err perr = {0};
    if (bl_retry_headers_from_msg(m, &h, &perr) != 0) {
        w->skipped++;
        return 0;
    }
    bl_kafka_header hs[BL_KAFKA_MAX_HEADERS];
    size_t n = 0;
    for (size_t i = 0; i < bl_kafka_msg_header_count(m) && n < BL_KAFKA_MAX_HEADERS; i++) {
        const char *name;
        const void *value;
        size_t len;
        if (bl_kafka_msg_header_at(m, i, &name, &value, &len) == 0 && strncmp(name, "busline-", 8) != 0)
            hs[n++] = (bl_kafka_header){.key = name, .value = value, .len = len};
    }
    size_t klen = 0, vlen = 0;
    const void *k = bl_kafka_msg_key(m, &klen);
    const void *v = bl_kafka_msg_value(m, &vlen);
    if (bl_kafka_producer_send(w->producer, h.original_topic, k, klen, v, vlen, hs, n, NULL, SEND_TIMEOUT_MS,
                               err) != 0)
        return bl_err_wrap(err, "dlq: replay to %s", h.original_topic);
    w->replayed++;
    return 0;
}

long bl_dlq_replay(const bl_dlq_opts *o, size_t *skipped, bl_err *err)
{
    dlq_walk w = {.o = o};
    atomic_init(&w.failed, 0);
    if (!o->brokers) {
        bl_err_set(err, BL_EINVAL, "dlq: brokers are required");
        return -1;
    }
    if (!(w.producer = bl_kafka_producer_new(o->brokers, NULL, on_replayed, &w, err)))
        return -1;
    long n = scan(o, replay_one, &w, err);
    if (n >= 0 && bl_kafka_producer_flush(w.producer, SEND_TIMEOUT_MS, err) != 0)
        n = -1;
    if (n >= 0 && atomic_load(&w.failed) > 0) {
        bl_err_set(err, BL_EKAFKA, "dlq: %ld replayed messages not acknowledged: %s", atomic_load(&w.failed),
                   w.failure);
        n = -1;
    }
    bl_kafka_producer_free(w.producer, SEND_TIMEOUT_MS);
    if (skipped)
        *skipped = w.skipped;
    return n;
}
