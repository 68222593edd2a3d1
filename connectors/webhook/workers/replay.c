/* Replay of one endpoint's missed events (see replay.h). */
#include "connectors/webhook/workers/replay.h"

#include "connectors/webhook/workers/delivery.h"
#include "connectors/webhook/store/endpoint_match.h"
#include "connectors/webhook/workers/event_reader.h"
#include "consumers/topic_scan.h"
#include "core/kafka_admin.h"
#include "core/clock.h"
#include "core/kafka_producer.h"
#include "core/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEND_TIMEOUT_MS 10000
#define LIST_TIMEOUT_MS 10000
#define EVENTS_PREFIX "events."
#define CHECKPOINT_EVERY 200
#define CHECKPOINT_MS 1000

/* One endpoint of the replay with its compiled conditions. */
typedef struct replay_target {
    const bl_webhook_endpoint *e;
    bl_event_filter *filter;
} replay_target;

typedef struct replay_walk {
    const bl_webhook_replay_opts *o;
    const bl_webhook_replay_window *w;
    replay_target *targets;
    size_t n_targets;
    bl_kafka_producer *producer;
    bl_replay_job_counts *counts;
    long enqueued_before;     /* counts->enqueued when the run began, plus pairs found already enqueued */
    long since_checkpoint;
    int64_t last_checkpoint_ms;
    int stopped;              /* the checkpoint callback said stop */
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

/* Waits for every queued delivery's acknowledgement and brings the
 * enqueued count up to date. Returns 0, or -1 with err (a refusal too). */
static int settle(replay_walk *w, bl_err *err)
{
    int flushed = bl_kafka_producer_flush(w->producer, SEND_TIMEOUT_MS, err);
    w->counts->enqueued = w->enqueued_before + atomic_load(&w->acked);
    if (flushed != 0)
        return -1;
    if (atomic_load(&w->refused) > 0)
        return bl_err_set(err, BL_EKAFKA, "replay: %ld deliveries not acknowledged: %s", atomic_load(&w->refused),
                          w->refusal);
    return 0;
}

/* Records that m is handled in the window's position. */
static int advance_position(replay_walk *w, const bl_kafka_msg *m, bl_err *err)
{
    json_t *pos = w->w->position;
    if (!pos)
        return 0;
    const char *topic = bl_kafka_msg_topic(m);
    json_t *parts = json_object_get(pos, topic);
    if (!parts && (json_object_set_new(pos, topic, json_object()) != 0 || !(parts = json_object_get(pos, topic))))
        return bl_err_set(err, BL_ENOMEM, "replay: out of memory");
    char key[16];
    snprintf(key, sizeof key, "%d", (int)bl_kafka_msg_partition(m));
    if (json_object_set_new(parts, key, json_integer(bl_kafka_msg_offset(m) + 1)) != 0)
        return bl_err_set(err, BL_ENOMEM, "replay: out of memory");
    return 0;
}

/* After each event: a checkpoint every so many events or so long. */
static int maybe_checkpoint(replay_walk *w, bl_err *err)
{
    const bl_webhook_replay_window *win = w->w;
    if (!win->checkpoint)
        return 0;
    int every = win->checkpoint_every > 0 ? win->checkpoint_every : CHECKPOINT_EVERY;
    int64_t now = bl_clock_mono_ms(), period = win->checkpoint_ms ? win->checkpoint_ms : CHECKPOINT_MS;
    if (++w->since_checkpoint < every && (period < 0 || now - w->last_checkpoint_ms < period))
        return 0;
    w->since_checkpoint = 0;
    w->last_checkpoint_ms = now;
    if (settle(w, err) != 0)
        return -1;
    int rc = win->checkpoint(win->user, win->position, w->counts, err);
    if (rc == 1) {
        w->stopped = 1;
        return bl_err_set(err, BL_ECONFLICT, "replay: stopped at a checkpoint");
    }
    return rc;
}

/* Produces ev's delivery to target t. Returns 0, or -1 with err. */
static int replay_to(replay_walk *w, const bl_webhook_event *ev, const bl_kafka_msg *m, const replay_target *t,
                     bl_err *err)
{
    const bl_webhook_replay_window *win = w->w;
    if (win->already_enqueued && ev->id && win->already_enqueued(win->user, t->e->id, ev->id)) {
        w->enqueued_before++; /* on the broker from the run that died */
        w->counts->enqueued++;
        return 0;
    }
    bl_webhook_delivery d = bl_webhook_event_delivery(ev, m, t->e->id);
    d.replay_job = win->job_id;
    char *own_body = NULL;
    int rc = 0;
    if (bl_webhook_event_body_for(ev, t->e, &d, &own_body, err) != 0) {
        w->counts->skipped++; /* the endpoint's format cannot carry this event */
        *err = (bl_err){0};
    } else {
        rc = bl_webhook_delivery_send(w->producer, w->o->deliveries_topic, &d, NULL, SEND_TIMEOUT_MS, err);
    }
    free(own_body);
    return rc;
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
        return advance_position(w, m, err) == 0 ? maybe_checkpoint(w, err) : -1;
    }
    int rc = 0, matched = 0;
    for (size_t i = 0; i < w->n_targets && rc == 0; i++) {
        const replay_target *t = &w->targets[i];
        if (!bl_webhook_endpoint_matches(t->e, t->filter, ev.org, ev.type, ev.envelope))
            continue;
        matched = 1;
        rc = replay_to(w, &ev, m, t, err);
    }
    w->counts->matched += matched;
    bl_webhook_event_clear(&ev);
    if (rc == 0)
        rc = advance_position(w, m, err);
    return rc == 0 ? maybe_checkpoint(w, err) : rc;
}

/* Where a job's position says partition (topic, partition) resumes. */
static int64_t resume_at(void *user, const char *topic, int32_t partition)
{
    const json_t *pos = user;
    char key[16];
    snprintf(key, sizeof key, "%d", (int)partition);
    json_t *v = json_object_get(json_object_get(pos, topic), key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
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

/* Scans and produces; the targets are already loaded and checked. */
static int scan_and_produce(replay_walk *w, bl_err *err)
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
    if (n_topics == 0 || w->n_targets == 0) {
        rc = 0; /* no event topic yet, or no endpoint to replay to */
        goto done;
    }
    if (!(w->producer = bl_kafka_producer_new(o->brokers, NULL, on_replayed, w, err)))
        goto done;
    w->last_checkpoint_ms = bl_clock_mono_ms();
    bl_topic_scan_opts so = {.brokers = o->brokers, .topics = topics, .n_topics = n_topics,
                             .since_ms = w->w->since_ms, .until_ms = w->w->until_ms, .timeout_ms = o->timeout_ms,
                             .start_at = w->w->position ? resume_at : NULL, .start_user = w->w->position};
    long scanned = bl_topic_scan(&so, replay_one, w, err);
    /* settle what was queued even after a failure, so the counts are true */
    bl_err ferr = {0};
    int settled = settle(w, &ferr);
    if (w->stopped) {
        *err = (bl_err){0};
        rc = settled == 0 ? 1 : -1;
        if (settled != 0)
            *err = ferr;
        goto done;
    }
    if (scanned < 0)
        goto done;
    if (settled != 0) {
        *err = ferr;
        goto done;
    }
    rc = 0;
done:
    bl_kafka_producer_free(w->producer, SEND_TIMEOUT_MS);
    w->producer = NULL;
    bl_kafka_topic_names_free(listed, n_listed);
    return rc;
}

/* The endpoints w replays to into *list (one, or the organization's active
 * ones). Returns 0, or -1 with err. */
static int load_endpoints(const bl_webhook_replay_opts *o, const bl_webhook_replay_window *w,
                          bl_webhook_endpoint_list *list, bl_err *err)
{
    if (!w->endpoint_id)
        return bl_webhook_store_list(o->store, w->organization_id, true, list, err);
    bl_webhook_endpoint *e = bl_webhook_store_get(o->store, w->endpoint_id, err);
    if (!e)
        return -1;
    if (w->organization_id && strcmp(e->organization_id, w->organization_id) != 0) {
        bl_webhook_endpoint_free(e);
        return bl_err_set(err, BL_ENOTFOUND, "replay: endpoint %s is not of organization %s", w->endpoint_id,
                          w->organization_id);
    }
    if (!e->active) {
        bl_webhook_endpoint_free(e);
        return bl_err_set(err, BL_ECONFLICT, "replay: endpoint %s is disabled: enable it first", w->endpoint_id);
    }
    if (!(list->items = calloc(1, sizeof *list->items))) {
        bl_webhook_endpoint_free(e);
        return bl_err_set(err, BL_ENOMEM, "replay: out of memory");
    }
    list->items[0] = e;
    list->count = 1;
    return 0;
}

int bl_webhook_replay_run(const bl_webhook_replay_opts *o, const bl_webhook_replay_window *w,
                          bl_replay_job_counts *counts, bl_err *err)
{
    replay_walk walk = {.o = o, .w = w, .counts = counts, .enqueued_before = counts->enqueued};
    atomic_init(&walk.acked, 0);
    atomic_init(&walk.refused, 0);
    bl_webhook_endpoint_list list = {0};
    int rc = -1;
    if (!o->brokers || !o->store || !o->schemas || (!w->endpoint_id && !w->organization_id)) {
        bl_err_set(err, BL_EINVAL, "replay: brokers, store, schemas and an endpoint or organization are required");
        goto done;
    }
    if (w->since_ms <= 0 || (w->until_ms != 0 && w->until_ms < w->since_ms)) {
        bl_err_set(err, BL_EINVAL, "replay: since must be a time after 1970, and until not before it");
        goto done;
    }
    if (load_endpoints(o, w, &list, err) != 0)
        goto done;
    if (list.count && !(walk.targets = calloc(list.count, sizeof *walk.targets))) {
        bl_err_set(err, BL_ENOMEM, "replay: out of memory");
        goto done;
    }
    for (size_t i = 0; i < list.count; i++) {
        walk.targets[i].e = list.items[i];
        if (!(walk.targets[i].filter = bl_event_filter_new(list.items[i]->conditions, err))) {
            bl_err_wrap(err, "replay: endpoint %s conditions", list.items[i]->id);
            goto done;
        }
        walk.n_targets++;
    }
    rc = scan_and_produce(&walk, err);
    bl_log_info(rc == 1 ? "replay: stopped" : "replay: finished",
                BL_FS("job_id", w->job_id ? w->job_id : ""),
                BL_FS("endpoint_id", w->endpoint_id ? w->endpoint_id : "*"), BL_FI("since_ms", w->since_ms),
                BL_FI("until_ms", w->until_ms), BL_FI("endpoints", (long)walk.n_targets),
                BL_FI("scanned", counts->scanned), BL_FI("matched", counts->matched),
                BL_FI("enqueued", counts->enqueued), BL_FI("skipped", counts->skipped),
                BL_FS("error", rc < 0 ? err->msg : ""));
done:
    for (size_t i = 0; i < walk.n_targets; i++)
        bl_event_filter_free(walk.targets[i].filter);
    free(walk.targets);
    bl_webhook_endpoint_list_free(&list);
    return rc;
}

int bl_webhook_replay(const bl_webhook_replay_opts *o, const char *endpoint_id, int64_t since_ms,
                      bl_replay_job_counts *out, bl_err *err)
{
    bl_replay_job_counts counts = {0};
    if (!endpoint_id) {
        if (out)
            *out = counts;
        return bl_err_set(err, BL_EINVAL, "replay: an endpoint id is required");
    }
    bl_webhook_replay_window w = {.endpoint_id = endpoint_id, .since_ms = since_ms};
    int rc = bl_webhook_replay_run(o, &w, &counts, err);
    if (out)
        *out = counts;
    return rc == 0 ? 0 : -1;
}
