/* The life of one message in the runtime once it is a job: started (or
 * queued behind its strict lane), completed, retried in place or parked,
 * and made durable: done, or copied to a retry tier or the dead-letter
 * topic (runtime_tier_send.c). Taking messages from a partition's backlog is
 * runtime_backlog.c. */
#include "consumers/runtime_internal.h"

#include "core/clock.h"
#include "core/hash.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

rt_partition *bl_rt_partition_find(bl_runtime *rt, const char *topic, int32_t partition)
{
    for (rt_partition *p = rt->parts; p; p = p->next)
        if (p->partition == partition && strcmp(p->topic, topic) == 0)
            return p;
    return NULL;
}

void bl_rt_partition_pause(bl_runtime *rt, rt_partition *p, int paused)
{
    if (p->paused == paused)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
    rd_kafka_t *rk = bl_kafka_consumer_handle(rt->consumer);
    rd_kafka_resp_err_t code = paused ? rd_kafka_pause_partitions(rk, l) : rd_kafka_resume_partitions(rk, l);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR && l->elems[0].err)
        code = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    if (code) {
        bl_log_warn(paused ? "runtime: pause failed" : "runtime: resume failed", BL_FS("topic", p->topic),
                    BL_FI("partition", p->partition), BL_FS("error", rd_kafka_err2str(code)));
        return;
    }
    p->paused = paused;
}

/* ---- job list membership ---- */

void bl_rt_job_list_push(bl_runtime_job **head, bl_runtime_job *job)
{
    job->list_prev = NULL;
    job->list_next = *head;
    if (*head)
        (*head)->list_prev = job;
    *head = job;
}

void bl_rt_job_list_unlink(bl_runtime_job **head, bl_runtime_job *job)
{
    if (job->list_prev)
        job->list_prev->list_next = job->list_next;
    else
        *head = job->list_next;
    if (job->list_next)
        job->list_next->list_prev = job->list_prev;
    job->list_prev = job->list_next = NULL;
}

static int is_busy(rt_job_state s)
{
    return s == RT_JOB_RUNNING || s == RT_JOB_PRODUCING;
}

void bl_rt_job_set_state(bl_runtime_job *job, rt_job_state s)
{
    rt_partition *p = job->part;
    if (p && is_busy(job->state) != is_busy(s)) {
        if (is_busy(s))
            p->n_busy++;
        else
            p->n_busy--;
    }
    if (job->state == RT_JOB_RETRY_WAIT && s != RT_JOB_RETRY_WAIT)
        job->rt->n_retry_wait--;
    if (job->state == RT_JOB_PRODUCING && job->needs_send) {
        job->needs_send = 0;
        job->rt->n_resend--;
    }
    job->state = s;
}

void bl_rt_job_free(bl_runtime *rt, bl_runtime_job *job)
{
    if (!job)
        return;
    bl_kafka_msg_release(job->msg);
    free(job->prev);
    free(job);
    (void)rt;
}

/* Detaches job from its partition (and lane) before it is freed or
 * orphaned. */
static void job_detach(bl_runtime *rt, bl_runtime_job *job)
{
    rt_partition *p = job->part;
    if (!p)
        return;
    bl_rt_job_set_state(job, RT_JOB_ORPHAN);
    bl_rt_job_list_unlink(&p->jobs, job);
    p->n_jobs--;
    job->part = NULL;
    rt->stats.in_flight--;
    if (rt->m_in_flight)
        bl_gauge_add(rt->m_in_flight, -1);
}

/* ---- strict lanes ---- */

static size_t lane_bucket(const char *name)
{
    return (size_t)(bl_fnv1a_str(BL_FNV1A_INIT, name) % RT_LANE_BUCKETS);
}

rt_lane *bl_rt_lane_get(rt_partition *p, const char *name)
{
    rt_lane **slot = &p->lanes[lane_bucket(name)];
    for (rt_lane *l = *slot; l; l = l->next)
        if (strcmp(l->name, name) == 0)
            return l;
    rt_lane *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->next = *slot;
    *slot = l;
    return l;
}

static void lane_drop_if_idle(rt_partition *p, rt_lane *lane)
{
    if (lane->active || lane->wait_head)
        return;
    rt_lane **slot = &p->lanes[lane_bucket(lane->name)];
    for (; *slot; slot = &(*slot)->next) {
        if (*slot == lane) {
            *slot = lane->next;
            free(lane);
            return;
        }
    }
}

void bl_rt_job_start(bl_runtime *rt, bl_runtime_job *job)
{
    bl_rt_job_set_state(job, RT_JOB_RUNNING);
    rt->stats.started++;
    rt->conn.start(job, rt->conn.ctx);
}

/* job leaves its lane (durable or abandoned): the next one may start. */
static void lane_leave(bl_runtime *rt, bl_runtime_job *job)
{
    rt_lane *lane = job->lane;
    rt_partition *p = job->part;
    if (!lane || !p)
        return;
    job->lane = NULL;
    if (lane->active == job) {
        lane->active = NULL;
    } else {
        bl_runtime_job **link = &lane->wait_head, *prev = NULL;
        for (; *link && *link != job; link = &(*link)->lane_next)
            prev = *link;
        if (*link) {
            *link = job->lane_next;
            if (lane->wait_tail == job)
                lane->wait_tail = prev;
        }
    }
    job->lane_next = NULL;
    if (!lane->active && lane->wait_head && !p->closing) {
        bl_runtime_job *next = lane->wait_head;
        lane->wait_head = next->lane_next;
        if (!lane->wait_head)
            lane->wait_tail = NULL;
        next->lane_next = NULL;
        lane->active = next;
        bl_rt_job_start(rt, next);
    }
    lane_drop_if_idle(p, lane);
}

/* ---- durable, abandoned ---- */

void bl_rt_job_durable(bl_runtime *rt, bl_runtime_job *job, rt_durable_kind kind)
{
    rt_partition *p = job->part;
    bl_err err = {0};
    if (bl_offset_tracker_done(rt->tracker, p->topic, p->partition, job->offset, &err) != 0)
        bl_log_error("runtime: offset not in flight", BL_FS("topic", p->topic),
                     BL_FI("partition", p->partition), BL_FI("offset", job->offset), BL_FS("error", err.msg));
    switch (kind) {
    case RT_DURABLE_DONE:
        rt->stats.processed++;
        if (p->m_processed)
            bl_counter_inc(p->m_processed);
        break;
    case RT_DURABLE_RETRIED:
        rt->stats.retried++;
        if (p->m_retried)
            bl_counter_inc(p->m_retried);
        break;
    case RT_DURABLE_DEAD:
        rt->stats.dead_lettered++;
        if (p->m_dead)
            bl_counter_inc(p->m_dead);
        break;
    }
    if (rt->m_latency)
        bl_histogram_observe(rt->m_latency, (double)(bl_clock_mono_ms() - job->taken_mono) / 1000.0);
    rt->done_since_commit++;
    lane_leave(rt, job);
    job_detach(rt, job);
    bl_rt_job_free(rt, job);
    /* Room in the window: take what waited. */
    if (p->bl_len > 0)
        bl_rt_backlog_process(rt, p);
}

/* Removes a queued completion of job (the connector completed it before
 * being told to abandon it). */
static void done_queue_remove(bl_runtime *rt, bl_runtime_job *job)
{
    pthread_mutex_lock(&rt->done_lock);
    if (job->done_queued) {
        bl_runtime_job **link = &rt->done_head, *prev = NULL;
        for (; *link && *link != job; link = &(*link)->done_next)
            prev = *link;
        if (*link) {
            *link = job->done_next;
            if (rt->done_tail == job)
                rt->done_tail = prev;
        }
        job->done_queued = 0;
    }
    pthread_mutex_unlock(&rt->done_lock);
}

static void job_abandon(bl_runtime *rt, bl_runtime_job *job)
{
    rt_job_state was = job->state;
    int unsent = was == RT_JOB_PRODUCING && job->needs_send;
    rt->stats.abandoned++;
    /* Out of the lane first (with the partition closing nothing starts). */
    lane_leave(rt, job);
    job_detach(rt, job);
    if (was == RT_JOB_RUNNING && rt->conn.abandon) {
        rt->conn.abandon(job, rt->conn.ctx);
        done_queue_remove(rt, job);
        bl_rt_job_free(rt, job);
    } else if (was == RT_JOB_RUNNING || (was == RT_JOB_PRODUCING && !unsent)) {
        /* The connector or the producer still holds it: its late result is dropped. */
        bl_rt_job_list_push(&rt->orphans, job);
    } else {
        bl_rt_job_free(rt, job);
    }
}

void bl_rt_partition_abandon(bl_runtime *rt, rt_partition *p, int busy_too)
{
    p->closing = 1;
    for (size_t i = 0; i < p->bl_len; i++)
        bl_kafka_msg_release(p->backlog[(p->bl_head + i) % p->bl_cap]);
    p->bl_head = p->bl_len = 0;
    p->resume_at_wall = 0;
    bl_runtime_job *job = p->jobs;
    while (job) {
        bl_runtime_job *next = job->list_next;
        if (busy_too || !is_busy(job->state))
            job_abandon(rt, job);
        job = next;
    }
}

/* ---- outcomes ---- */

static void job_retry_in_place(bl_runtime *rt, bl_runtime_job *job, int64_t after_ms, int parked)
{
    if (!job->first_failure_wall && !parked)
        job->first_failure_wall = job->prev ? job->prev->first_failure_at_ms : bl_clock_wall_ms();
    bl_rt_job_set_state(job, RT_JOB_RETRY_WAIT);
    job->retry_at_mono = bl_clock_mono_ms() + (after_ms > 0 ? after_ms : 0);
    job->attempt += !parked;
    rt->n_retry_wait++;
    rt->stats.retried_in_place++;
}

/* Retries job later: in place (strict lane, no tiers) or through the tier
 * for its delay; a park keeps its attempt count. */
static void job_later(bl_runtime *rt, bl_runtime_job *job, int parked)
{
    if (job->lane || !rt->has_tiers) {
        if (job->part->closing)
            job_abandon(rt, job); /* not restarted while draining: the next owner retries */
        else
            job_retry_in_place(rt, job, job->out_after_ms, parked);
    } else {
        bl_rt_job_produce(rt, job, (int)bl_retry_tier_choose(&rt->tiers, job->out_after_ms), parked);
    }
}

static void job_apply(bl_runtime *rt, bl_runtime_job *job)
{
    switch (job->out_kind) {
    case BL_OUTCOME_DONE:
        bl_rt_job_durable(rt, job, RT_DURABLE_DONE);
        return;
    case BL_OUTCOME_RETRY:
        if (job->attempt >= rt->max_attempts)
            bl_rt_job_produce(rt, job, -1, 0);
        else
            job_later(rt, job, 0);
        return;
    case BL_OUTCOME_PARK:
        job_later(rt, job, 1);
        return;
    case BL_OUTCOME_DEAD_LETTER:
    default:
        bl_rt_job_produce(rt, job, -1, 0);
        return;
    }
}

void bl_rt_handle_completions(bl_runtime *rt)
{
    pthread_mutex_lock(&rt->done_lock);
    bl_runtime_job *job = rt->done_head;
    rt->done_head = rt->done_tail = NULL;
    for (bl_runtime_job *j = job; j; j = j->done_next)
        j->done_queued = 0;
    pthread_mutex_unlock(&rt->done_lock);
    while (job) {
        bl_runtime_job *next = job->done_next;
        job->done_next = NULL;
        if (job->state == RT_JOB_ORPHAN) {
            bl_rt_job_list_unlink(&rt->orphans, job);
            bl_rt_job_free(rt, job);
        } else if (job->state != RT_JOB_RUNNING) {
            bl_log_error("runtime: completion for a job not running (ignored)", BL_FI("offset", job->offset));
        } else {
            job_apply(rt, job);
        }
        job = next;
    }
}

void bl_runtime_complete(bl_runtime *rt, bl_runtime_job *job, bl_outcome outcome)
{
    if (!rt || !job)
        return;
    pthread_mutex_lock(&rt->done_lock);
    job->out_kind = outcome.kind;
    job->out_after_ms = outcome.retry_after_ms;
    snprintf(job->out_error, sizeof job->out_error, "%s", outcome.error ? outcome.error : "");
    job->done_queued = 1;
    job->done_next = NULL;
    if (rt->done_tail)
        rt->done_tail->done_next = job;
    else
        rt->done_head = job;
    rt->done_tail = job;
    pthread_mutex_unlock(&rt->done_lock);
    char one = 1;
    ssize_t w = write(rt->wake[1], &one, 1); /* a full pipe already wakes the loop */
    (void)w;
}

/* ---- timers ---- */

void bl_rt_handle_timers(bl_runtime *rt)
{
    int64_t now = bl_clock_mono_ms(), wall = bl_clock_wall_ms();
    for (rt_partition *p = rt->parts; p; p = p->next) {
        if (p->bl_len > 0 && p->resume_at_wall && p->resume_at_wall <= wall) {
            p->resume_at_wall = 0;
            bl_rt_backlog_process(rt, p);
        }
    }
    if (rt->n_retry_wait == 0 && rt->n_resend == 0)
        return;
    for (rt_partition *p = rt->parts; p; p = p->next) {
        for (bl_runtime_job *job = p->jobs; job; job = job->list_next) {
            if (job->state == RT_JOB_RETRY_WAIT && job->retry_at_mono <= now && !p->closing)
                bl_rt_job_start(rt, job);
            else if (job->state == RT_JOB_PRODUCING && job->needs_send)
                bl_rt_job_send(rt, job);
        }
    }
}

int64_t bl_rt_next_timer_mono(bl_runtime *rt)
{
    int64_t next = INT64_MAX, now = bl_clock_mono_ms(), wall = bl_clock_wall_ms();
    for (rt_partition *p = rt->parts; p; p = p->next) {
        if (p->bl_len > 0 && p->resume_at_wall) {
            int64_t at = now + (p->resume_at_wall - wall);
            if (at < next)
                next = at;
        }
        if (rt->n_retry_wait == 0 && rt->n_resend == 0)
            continue;
        for (bl_runtime_job *job = p->jobs; job; job = job->list_next) {
            if (job->state == RT_JOB_RETRY_WAIT && job->retry_at_mono < next)
                next = job->retry_at_mono;
            else if (job->state == RT_JOB_PRODUCING && job->needs_send && now + 100 < next)
                next = now + 100; /* the producer queue was full: try again soon */
        }
    }
    return next;
}

/* ---- accessors ---- */

bl_outcome bl_outcome_done(void)
{
    return (bl_outcome){BL_OUTCOME_DONE, 0, NULL};
}

bl_outcome bl_outcome_retry(int64_t after_ms, const char *error)
{
    return (bl_outcome){BL_OUTCOME_RETRY, after_ms, error};
}

bl_outcome bl_outcome_dead_letter(const char *error)
{
    return (bl_outcome){BL_OUTCOME_DEAD_LETTER, 0, error};
}

bl_outcome bl_outcome_park(int64_t after_ms, const char *reason)
{
    return (bl_outcome){BL_OUTCOME_PARK, after_ms, reason};
}

const bl_kafka_msg *bl_runtime_job_msg(const bl_runtime_job *job)
{
    return job->msg;
}

int bl_runtime_job_attempt(const bl_runtime_job *job)
{
    return job->attempt;
}

const bl_retry_headers *bl_runtime_job_retry_headers(const bl_runtime_job *job)
{
    return job->prev;
}

void bl_runtime_job_set_user(bl_runtime_job *job, void *user)
{
    job->user = user;
}

void *bl_runtime_job_user(const bl_runtime_job *job)
{
    return job->user;
}

bl_runtime *bl_runtime_job_runtime(const bl_runtime_job *job)
{
    return job->rt;
}
