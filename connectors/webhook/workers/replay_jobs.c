/* Carrying out webhook replay jobs (see replay_jobs.h); their rows are
 * claimed, checkpointed and ended through store/replay_job_rows.h. */
#include "connectors/webhook/workers/replay_jobs.h"

#include "connectors/webhook/workers/delivery.h"
#include "consumers/topic_scan.h"
#include "core/log.h"
#include "core/ticker.h"
#include "core/uuid.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_STALE_S 60
#define DEFAULT_INTERVAL_MS 2000
#define DEDUP_MARGIN_MS 60000 /* clock skew between the database and a worker */
#define JOB_SCAN_TIMEOUT_MS (6 * 3600 * 1000)

/* One job being carried out. */
typedef struct job_run {
    const bl_webhook_replay_jobs_opts *o;
    const char *worker;
    bl_replay_job_claim claim;
    json_t *already; /* "endpoint_id event_id" -> true: this job's deliveries already on the broker */
    int died;        /* the fault injection ended it */
    int gave_back;   /* *o->stop: given back at a checkpoint */
} job_run;

static int checkpoint(void *user, const json_t *position, const bl_replay_job_counts *counts, bl_err *err)
{
    job_run *r = user;
    if (r->o->before_checkpoint && r->o->before_checkpoint(r->o->seam_user, counts)) {
        r->died = 1;
        return 1;
    }
    int running = bl_replay_job_checkpoint(r->o->pool, r->claim.job.id, r->worker, position, counts, err);
    if (running < 0)
        return -1;
    if (running == 0)
        return 1; /* cancelled, or no longer ours */
    if (r->o->stop && atomic_load(r->o->stop)) {
        r->gave_back = 1;
        return 1;
    }
    return 0;
}

static void pair_key(char *out, size_t cap, const char *endpoint_id, const char *event_id)
{
    snprintf(out, cap, "%s %s", endpoint_id, event_id);
}

static int already_enqueued(void *user, const char *endpoint_id, const char *event_id)
{
    job_run *r = user;
    char key[BL_WEBHOOK_ID_MAX + BL_WEBHOOK_MSG_ID_MAX + 2];
    pair_key(key, sizeof key, endpoint_id, event_id);
    return r->already && json_object_get(r->already, key) != NULL;
}

static int note_delivery(const bl_kafka_msg *m, void *user, bl_err *err)
{
    job_run *r = user;
    bl_webhook_delivery_view v;
    bl_err perr = {0};
    if (bl_webhook_delivery_parse(m, &v, &perr) != 0 || strcmp(v.replay_job, r->claim.job.id) != 0)
        return 0;
    char key[BL_WEBHOOK_ID_MAX + BL_WEBHOOK_MSG_ID_MAX + 2];
    pair_key(key, sizeof key, v.endpoint_id, v.event_id);
    if (json_object_set_new(r->already, key, json_true()) != 0)
        return bl_err_set(err, BL_ENOMEM, "replay job: out of memory");
    return 0;
}

/* A job held before: reads what its earlier holder put on the deliveries
 * topic after it last checkpointed. Returns 0, or -1 with err. */
static int find_already_enqueued(job_run *r, bl_err *err)
{
    if (r->claim.last_heartbeat_ms <= 0)
        return 0; /* never held: nothing of it is on the broker */
    if (!(r->already = json_object()))
        return bl_err_set(err, BL_ENOMEM, "replay job: out of memory");
    const char *topic = r->o->replay.deliveries_topic ? r->o->replay.deliveries_topic : BL_WEBHOOK_DELIVERIES_TOPIC;
    const char *topics[] = {topic};
    int64_t since = r->claim.last_heartbeat_ms - DEDUP_MARGIN_MS;
    bl_topic_scan_opts so = {.brokers = r->o->replay.brokers, .topics = topics, .n_topics = 1,
                             .since_ms = since > 0 ? since : 1, .timeout_ms = r->o->replay.timeout_ms};
    if (bl_topic_scan(&so, note_delivery, r, err) < 0)
        return bl_err_wrap(err, "replay job %s: reading what was enqueued before", r->claim.job.id);
    bl_log_info("replay job: resuming", BL_FS("job_id", r->claim.job.id), BL_FI("attempt", r->claim.job.attempts),
                BL_FI("already_enqueued", (long)json_object_size(r->already)));
    return 0;
}

/* Carries out the claimed job. Returns 0, or -1 with err when its end
 * could not be recorded. */
static int carry_out(job_run *r, bl_err *err)
{
    bl_replay_job *j = &r->claim.job;
    bl_replay_job_counts counts = j->counts;
    bl_err rerr = {0};
    int rc = find_already_enqueued(r, &rerr);
    if (rc == 0) {
        bl_webhook_replay_opts ro = r->o->replay;
        if (ro.timeout_ms <= 0)
            ro.timeout_ms = JOB_SCAN_TIMEOUT_MS;
        bl_webhook_replay_window w = {
            .organization_id = j->organization_id,
            .endpoint_id = j->endpoint_id[0] ? j->endpoint_id : NULL,
            .since_ms = j->since_ms,
            .until_ms = j->until_ms,
            .job_id = j->id,
            .position = r->claim.position,
            .checkpoint = checkpoint,
            .already_enqueued = already_enqueued,
            .user = r,
            .checkpoint_every = r->o->checkpoint_every,
            .checkpoint_ms = r->o->checkpoint_ms,
        };
        rc = bl_webhook_replay_run(&ro, &w, &counts, &rerr);
    }
    if (r->died)
        return 0; /* as if this worker had died: nothing more is written */
    const char *status = rc == 0 ? "completed" : rc < 0 ? "failed" : r->gave_back ? "queued" : "cancelled";
    bl_log_info("replay job handled", BL_FS("job_id", j->id), BL_FS("status", status),
                BL_FI("scanned", counts.scanned), BL_FI("matched", counts.matched),
                BL_FI("enqueued", counts.enqueued), BL_FS("error", rc < 0 ? rerr.msg : ""));
    /* a cancelled (or taken over) job keeps its status: finish only adds the counts */
    if (bl_replay_job_finish(r->o->pool, j->id, r->worker, status, rc < 0 ? rerr.msg : NULL, r->claim.position,
                             &counts, err) != 0) {
        if (err->code == BL_ECONFLICT) {
            *err = (bl_err){0}; /* another worker took it over: its end is not ours to record */
            return 0;
        }
        return -1;
    }
    return 0;
}

int bl_webhook_replay_jobs_run_one(const bl_webhook_replay_jobs_opts *o, bl_err *err)
{
    if (!o->pool)
        return bl_err_set(err, BL_EINVAL, "replay jobs: a pool is required");
    char own[BL_REPLAY_JOB_WORKER_MAX], uuid[BL_UUID_SIZE], host[32] = "";
    const char *worker = o->worker;
    if (!worker) {
        if (bl_uuid_random(uuid, err) != 0)
            return -1;
        gethostname(host, sizeof host - 1);
        snprintf(own, sizeof own, "%s:%d:%.8s", host, (int)getpid(), uuid);
        worker = own;
    }
    job_run r = {.o = o, .worker = worker};
    int got = bl_replay_job_claim_next(o->pool, worker, o->stale_after_s > 0 ? o->stale_after_s : DEFAULT_STALE_S,
                                       &r.claim, err);
    if (got <= 0)
        return got;
    int rc = carry_out(&r, err);
    json_decref(r.already);
    json_decref(r.claim.position);
    return rc == 0 ? 1 : -1;
}

long bl_webhook_replay_jobs_run(const bl_webhook_replay_jobs_opts *o, long max, bl_err *err)
{
    long handled = 0;
    while ((max <= 0 || handled < max) && !(o->stop && atomic_load(o->stop))) {
        int rc = bl_webhook_replay_jobs_run_one(o, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            break;
        handled++;
    }
    return handled;
}

struct bl_webhook_replay_poller {
    bl_webhook_replay_jobs_opts o;
    atomic_int stop;
    bl_ticker *ticker;
};

static void poll_jobs(void *arg)
{
    bl_webhook_replay_poller *p = arg;
    bl_err err = {0};
    if (bl_webhook_replay_jobs_run(&p->o, 0, &err) < 0)
        bl_log_warn("replay jobs: not handled", BL_FS("error", err.msg));
}

bl_webhook_replay_poller *bl_webhook_replay_poller_start(const bl_webhook_replay_jobs_opts *o, int interval_ms,
                                                         bl_err *err)
{
    if (!o->pool) {
        bl_err_set(err, BL_EINVAL, "replay poller: a pool is required");
        return NULL;
    }
    bl_webhook_replay_poller *p = calloc(1, sizeof *p);
    if (!p) {
        bl_err_set(err, BL_ENOMEM, "replay poller: out of memory");
        return NULL;
    }
    p->o = *o;
    atomic_init(&p->stop, 0);
    p->o.stop = &p->stop;
    p->ticker = bl_ticker_start(interval_ms > 0 ? (unsigned)interval_ms : DEFAULT_INTERVAL_MS, BL_TICKER_AT_ONCE,
                                poll_jobs, p, "replay poller", err);
    if (!p->ticker) {
        free(p);
        return NULL;
    }
    return p;
}

void bl_webhook_replay_poller_stop(bl_webhook_replay_poller *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, 1);
    bl_ticker_stop(p->ticker);
    free(p);
}
