/* Replay of one endpoint's missed events (see replay.h). */
#include "connectors/webhook/workers/replay.h"

#include "connectors/webhook/workers/delivery.h"
#include "connectors/webhook/store/endpoint_match.h"
#include "connectors/webhook/workers/event_reader.h"
#include "consumers/topic_scan.h"
#include "core/kafka_admin.h"
#include "core/kafka_producer.h"
#include "core/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEND_TIMEOUT_MS 10000
#define LIST_TIMEOUT_MS 10000
#define EVENTS_PREFIX "events."

typedef struct replay_walk {
    const bl_webhook_replay_opts *o;
    const bl_webhook_endpoint *endpoint;
    const bl_event_filter *filter;
    bl_kafka_producer *producer;
    bl_webhook_replay_counts *counts;
    atomic_long acked, refused;
    char refusal[256]; /* the first refusal's reason */
} replay_walk;

static void on_replayed(const bl_kafka_delivery *d, void *user)
{
    replay_walk *w = user;
    if (d->err_code == 0)
        atomic_fetch_add(&w->acked, 1);
    else if (atomic_fetch_add(&w->refused, 1) == 0)
        snprintf(w->refusal, sizeof w->refusal, "%s", d->err_msg ? d->err_msg : "unknown error");
}

static int replay_one(const bl_kafka_msg *m, void *user, bl_err *err)
{
    replay_walk *w = user;
    bl_webhook_event ev;
    w->counts->scanned++;
    if (bl_webhook_event_read(w->o->schemas, m, &ev, err) != 0) {
        if (err->code != BL_EINVAL && err->code != BL_ENOTFOUND)
            return -1; /* the registry may answer later: fail rather than skip */
        bl_log_warn("replay: event skipped", BL_FS("topic", bl_kafka_msg_topic(m)),
                    BL_FI("partition", bl_kafka_msg_partition(m)), BL_FI("offset", bl_kafka_msg_offset(m)),
                    BL_FS("error", err->msg));
        w->counts->skipped++;
        *err = (bl_err){0};
        return 0;
    }
    int rc = 0;
    if (bl_webhook_endpoint_matches(w->endpoint, w->filter, ev.org, ev.type, ev.envelope)) {
        bl_webhook_delivery d = bl_webhook_event_delivery(&ev, m, w->endpoint->id);
        char *own_body = NULL;
        w->counts->matched++;
        if (bl_webhook_event_body_for(&ev, w->endpoint, &d, &own_body, err) != 0) {
            w->counts->skipped++; /* the endpoint's format cannot carry this event */
            *err = (bl_err){0};
        } else {
            rc = bl_webhook_delivery_send(w->producer, w->o->deliveries_topic, &d, NULL, SEND_TIMEOUT_MS, err);
        }
        free(own_body);
    }
    bl_webhook_event_clear(&ev);
    return rc;
}

/* Every events.* topic on the broker into *names (free with
 * bl_kafka_topic_names_free). Returns 0 or -1 with err. */
static int list_event_topics(const char *brokers, char ***names, size_t *n, bl_err *err)
{
    bl_kafka_admin *a = bl_kafka_admin_new(brokers, NULL, err);
    if (!a)
        return -1;
    int rc = bl_kafka_admin_list_topics(a, LIST_TIMEOUT_MS, names, n, err);
    bl_kafka_admin_free(a);
    if (rc != 0)
        return -1;
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++) {
        if (strncmp((*names)[i], EVENTS_PREFIX, strlen(EVENTS_PREFIX)) == 0)
            (*names)[kept++] = (*names)[i];
        else
            free((*names)[i]);
    }
    *n = kept;
    return 0;
}

/* Scans and produces; the endpoint is already loaded and checked. */
static int scan_and_produce(replay_walk *w, int64_t since_ms, bl_err *err)
{
    const bl_webhook_replay_opts *o = w->o;
    char **listed = NULL;
    size_t n_listed = 0;
    const char *const *topics = o->topics;
    size_t n_topics = o->n_topics;
    int rc = -1;
    if (!topics) {
        if (list_event_topics(o->brokers, &listed, &n_listed, err) != 0)
            return -1;
        topics = (const char *const *)listed;
        n_topics = n_listed;
    }
    if (n_topics == 0) {
        rc = 0; /* no event topic yet: nothing was missed */
        goto done;
    }
    if (!(w->producer = bl_kafka_producer_new(o->brokers, NULL, on_replayed, w, err)))
        goto done;
    bl_topic_scan_opts so = {.brokers = o->brokers, .topics = topics, .n_topics = n_topics,
                             .since_ms = since_ms, .timeout_ms = o->timeout_ms};
    long scanned = bl_topic_scan(&so, replay_one, w, err);
    /* flush what was queued even after a failure, so the counts are true */
    bl_err ferr = {0};
    int flushed = bl_kafka_producer_flush(w->producer, SEND_TIMEOUT_MS, &ferr);
    w->counts->produced = atomic_load(&w->acked);
    if (scanned < 0)
        goto done;
    if (flushed != 0) {
        *err = ferr;
        goto done;
    }
    if (atomic_load(&w->refused) > 0) {
        bl_err_set(err, BL_EKAFKA, "replay: %ld deliveries not acknowledged: %s", atomic_load(&w->refused),
                   w->refusal);
        goto done;
    }
    rc = 0;
done:
    bl_kafka_producer_free(w->producer, SEND_TIMEOUT_MS);
    w->producer = NULL;
    bl_kafka_topic_names_free(listed, n_listed);
    return rc;
}

int bl_webhook_replay(const bl_webhook_replay_opts *o, const char *endpoint_id, int64_t since_ms,
                      bl_webhook_replay_counts *out, bl_err *err)
{
    bl_webhook_replay_counts counts = {0};
    replay_walk w = {.o = o, .counts = &counts};
    atomic_init(&w.acked, 0);
    atomic_init(&w.refused, 0);
    bl_webhook_endpoint *e = NULL;
    bl_event_filter *filter = NULL;
    int rc = -1;
    if (!o->brokers || !o->store || !o->schemas || !endpoint_id) {
        bl_err_set(err, BL_EINVAL, "replay: brokers, store, schemas and an endpoint id are required");
        goto done;
    }
    if (since_ms <= 0) {
        bl_err_set(err, BL_EINVAL, "replay: since must be a time after 1970");
        goto done;
    }
    if (!(e = bl_webhook_store_get(o->store, endpoint_id, err)))
        goto done;
    if (!e->active) {
        bl_err_set(err, BL_ECONFLICT, "replay: endpoint %s is disabled: enable it first", endpoint_id);
        goto done;
    }
    if (!(filter = bl_event_filter_new(e->conditions, err))) {
        bl_err_wrap(err, "replay: endpoint %s conditions", endpoint_id);
        goto done;
    }
    w.endpoint = e;
    w.filter = filter;
    rc = scan_and_produce(&w, since_ms, err);
    bl_log_info("replay: finished", BL_FS("endpoint_id", endpoint_id), BL_FI("since_ms", since_ms),
                BL_FI("scanned", counts.scanned), BL_FI("matched", counts.matched),
                BL_FI("produced", counts.produced), BL_FI("skipped", counts.skipped),
                BL_FS("error", rc == 0 ? "" : err->msg));
done:
    if (out)
        *out = counts;
    bl_event_filter_free(filter);
    bl_webhook_endpoint_free(e);
    return rc;
}
