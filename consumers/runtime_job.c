/* The life of one message in the runtime: taken from its partition's
 * backlog (when the window has room and, on a retry tier, when it is due),
 * started (or queued behind its strict lane), completed, and made durable:
 * done, or copied to a retry tier or the dead-letter topic. */
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

static void list_push(bl_runtime_job **head, bl_runtime_job *job)
{
    job->list_prev = NULL;
    job->list_next = *head;
    if (*head)
        (*head)->list_prev = job;
    *head = job;
}

static void list_unlink(bl_runtime_job **head, bl_runtime_job *job)
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

static void set_state(bl_runtime_job *job, rt_job_state s)
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
    set_state(job, RT_JOB_ORPHAN);
    list_unlink(&p->jobs, job);
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

static rt_lane *lane_get(rt_partition *p, const char *name)
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

static void job_start(bl_runtime *rt, bl_runtime_job *job)
{
    set_state(job, RT_JOB_RUNNING);
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
        job_start(rt, next);
    }
    lane_drop_if_idle(p, lane);
}

/* ---- durable, abandoned ---- */

typedef enum durable_kind { DURABLE_DONE, DURABLE_RETRIED, DURABLE_DEAD } durable_kind;

static void job_durable(bl_runtime *rt, bl_runtime_job *job, durable_kind kind)
{
    rt_partition *p = job->part;
    bl_err err = {0};
    if (bl_offset_tracker_done(rt->tracker, p->topic, p->partition, job->offset, &err) != 0)
        bl_log_error("runtime: offset not in flight", BL_FS("topic", p->topic),
                     BL_FI("partition", p->partition), BL_FI("offset", job->offset), BL_FS("error", err.msg));
    switch (kind) {
    case DURABLE_DONE:
        rt->stats.processed++;
        if (p->m_processed)
            bl_counter_inc(p->m_processed);
        break;
    case DURABLE_RETRIED:
        rt->stats.retried++;
        if (p->m_retried)
            bl_counter_inc(p->m_retried);
        break;
    case DURABLE_DEAD:
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
        list_push(&rt->orphans, job);
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

/* ---- produce to a tier or the DLQ ---- */

static void job_send(bl_runtime *rt, bl_runtime_job *job)
{
    rt_partition *p = job->part;
    const char *topic = job->target_tier >= 0 ? rt->tier_topics[job->target_tier] : rt->dlq_topic;
    int64_t now = bl_clock_wall_ms();
    int64_t delay = job->target_tier >= 0 ? job->out_after_ms : 0;
    bl_retry_headers h;
    bl_err err = {0};
    if (bl_retry_headers_for_failure(job->prev, p->topic, p->partition, job->offset, now, delay,
                                     job->out_error, &h, &err) != 0) {
        /* Attempt count past the cap: start a fresh record rather than lose it. */
        bl_retry_headers_for_failure(NULL, p->topic, p->partition, job->offset, now, delay, job->out_error,
                                     &h, &err);
    } else {
        h.attempt = job->parked ? job->attempt - 1 : job->attempt;
    }
    if (!job->prev && job->first_failure_wall)
        h.first_failure_at_ms = job->first_failure_wall;
    bl_retry_header_set set;
    bl_retry_headers_build(&h, &set);

    /* Original headers first (minus old busline-* ones), then ours. */
    bl_kafka_header hs[BL_KAFKA_MAX_HEADERS];
    size_t n = 0, total = bl_kafka_msg_header_count(job->msg);
    for (size_t i = 0; i < total && n < BL_KAFKA_MAX_HEADERS - BL_RETRY_HEADER_COUNT; i++) {
        const char *key;
        const void *value;
        size_t len;
        if (bl_kafka_msg_header_at(job->msg, i, &key, &value, &len) == 0 && strncmp(key, "busline-", 8) != 0)
            hs[n++] = (bl_kafka_header){key, value, len};
    }
    if (n < total && n == BL_KAFKA_MAX_HEADERS - BL_RETRY_HEADER_COUNT)
        bl_log_warn("runtime: headers cut on retry copy", BL_FS("topic", p->topic), BL_FI("offset", job->offset));
    memcpy(&hs[n], set.headers, sizeof set.headers);
    n += BL_RETRY_HEADER_COUNT;

    size_t klen = 0, vlen = 0;
    const void *key = bl_kafka_msg_key(job->msg, &klen);
    const void *value = bl_kafka_msg_value(job->msg, &vlen);
    int rc = bl_kafka_producer_send(rt->producer, topic, key, klen, value, vlen, hs, n, job, 0, &err);
    if (rc != 0 && !job->needs_send) {
        bl_log_warn("runtime: retry copy not queued, will resend", BL_FS("topic", topic),
                    BL_FS("error", err.msg));
        job->needs_send = 1;
        rt->n_resend++;
    } else if (rc == 0 && job->needs_send) {
        job->needs_send = 0;
        rt->n_resend--;
    }
}

static void job_produce(bl_runtime *rt, bl_runtime_job *job, int tier, int parked)
{
    set_state(job, RT_JOB_PRODUCING);
    job->target_tier = tier;
    job->parked = parked;
    job_send(rt, job);
}

void bl_rt_on_delivery(const bl_kafka_delivery *d, void *user)
{
    bl_runtime *rt = user;
    bl_runtime_job *job = d->msg_opaque;
    if (job->state == RT_JOB_ORPHAN) {
        list_unlink(&rt->orphans, job);
        bl_rt_job_free(rt, job);
        return;
    }
    if (d->err_code) {
        bl_log_warn("runtime: retry copy failed, will resend", BL_FS("topic", d->topic),
                    BL_FS("error", d->err_msg));
        job->needs_send = 1;
        rt->n_resend++;
        return;
    }
    job_durable(rt, job, job->target_tier >= 0 ? DURABLE_RETRIED : DURABLE_DEAD);
}

/* ---- outcomes ---- */

static void job_retry_in_place(bl_runtime *rt, bl_runtime_job *job, int64_t after_ms, int parked)
{
    if (!job->first_failure_wall && !parked)
        job->first_failure_wall = job->prev ? job->prev->first_failure_at_ms : bl_clock_wall_ms();
    set_state(job, RT_JOB_RETRY_WAIT);
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
        job_produce(rt, job, (int)bl_retry_tier_choose(&rt->tiers, job->out_after_ms), parked);
    }
}

static void job_apply(bl_runtime *rt, bl_runtime_job *job)
{
    switch (job->out_kind) {
    case BL_OUTCOME_DONE:
        job_durable(rt, job, DURABLE_DONE);
        return;
    case BL_OUTCOME_RETRY:
        if (job->attempt >= rt->max_attempts)
            job_produce(rt, job, -1, 0);
        else
            job_later(rt, job, 0);
        return;
    case BL_OUTCOME_PARK:
        job_later(rt, job, 1);
        return;
    case BL_OUTCOME_DEAD_LETTER:
    default:
        job_produce(rt, job, -1, 0);
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
            list_unlink(&rt->orphans, job);
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
                job_start(rt, job);
            else if (job->state == RT_JOB_PRODUCING && job->needs_send)
                job_send(rt, job);
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

/* ---- taking messages ---- */

static int backlog_push(rt_partition *p, bl_kafka_msg *m)
{
    if (p->bl_len == p->bl_cap) {
        size_t cap = p->bl_cap ? p->bl_cap * 2 : 64;
        bl_kafka_msg **b = malloc(cap * sizeof *b);
        if (!b)
            return -1;
        for (size_t i = 0; i < p->bl_len; i++)
            b[i] = p->backlog[(p->bl_head + i) % p->bl_cap];
        free(p->backlog);
        p->backlog = b;
        p->bl_cap = cap;
        p->bl_head = 0;
    }
    p->backlog[(p->bl_head + p->bl_len) % p->bl_cap] = m;
    p->bl_len++;
    return 0;
}

static void backlog_pop(rt_partition *p)
{
    p->bl_head = (p->bl_head + 1) % p->bl_cap;
    p->bl_len--;
}

/* Returns the retry headers m carries (new, caller frees), or NULL. */
static bl_retry_headers *retry_headers_of(const bl_kafka_msg *m, int from_tier)
{
    const void *v;
    size_t len;
    if (bl_kafka_msg_header(m, BL_HDR_ATTEMPT, &v, &len) != 0)
        return NULL;
    bl_retry_headers *h = malloc(sizeof *h);
    bl_err err = {0};
    if (h && bl_retry_headers_from_msg(m, h, &err) == 0)
        return h;
    if (from_tier)
        bl_log_warn("runtime: bad retry headers, taken as a first attempt", BL_FS("topic", bl_kafka_msg_topic(m)),
                    BL_FI("offset", bl_kafka_msg_offset(m)), BL_FS("error", h ? err.msg : "out of memory"));
    free(h);
    return NULL;
}

/* 1 when the head was taken (or dropped), 0 when it must wait. */
static int backlog_take_head(bl_runtime *rt, rt_partition *p)
{
    bl_kafka_msg *m = p->backlog[p->bl_head];
    if (p->resume_at_wall && bl_clock_wall_ms() < p->resume_at_wall)
        return 0;
    p->resume_at_wall = 0;
    bl_retry_headers *prev = retry_headers_of(m, p->tier_idx >= 0);
    if (prev && p->tier_idx >= 0) {
        int64_t wall = bl_clock_wall_ms();
        bl_retry_due due = bl_retry_due_decide(prev->due_at_ms, wall, rt->tiers.delay_ms[p->tier_idx]);
        if (!due.deliver_now) {
            p->resume_at_wall = due.resume_at_ms;
            free(prev);
            return 0;
        }
    }
    bl_err err = {0};
    int64_t offset = bl_kafka_msg_offset(m);
    int r = bl_offset_tracker_track(rt->tracker, p->topic, p->partition, offset, &err);
    if (r == BL_OFFSET_WINDOW_FULL) {
        free(prev);
        return 0;
    }
    backlog_pop(p);
    bl_runtime_job *job = r == BL_OFFSET_TRACKED ? calloc(1, sizeof *job) : NULL;
    if (!job) {
        /* A re-read of an offset already taken (after a seek) is a duplicate. */
        bl_log_warn("runtime: message dropped", BL_FS("topic", p->topic), BL_FI("partition", p->partition),
                    BL_FI("offset", offset), BL_FS("error", r == BL_OFFSET_TRACKED ? "out of memory" : err.msg));
        if (r == BL_OFFSET_TRACKED) {
            /* Tracked but no job: leave it unfinished so it is never committed past. */
            bl_log_error("runtime: partition stalls until revoke", BL_FS("topic", p->topic));
        }
        free(prev);
        bl_kafka_msg_release(m);
        return 1;
    }
    job->rt = rt;
    job->part = p;
    job->msg = m;
    job->offset = offset;
    job->prev = prev;
    job->attempt = prev ? prev->attempt + 1 : 1;
    job->taken_mono = bl_clock_mono_ms();
    job->target_tier = -1;
    job->state = RT_JOB_LANE_WAIT;
    list_push(&p->jobs, job);
    p->n_jobs++;
    rt->stats.in_flight++;
    if (rt->m_in_flight)
        bl_gauge_add(rt->m_in_flight, 1);

    char lane_name[BL_RUNTIME_LANE_MAX];
    if (rt->conn.strict_lane && rt->conn.strict_lane(job, lane_name, sizeof lane_name, rt->conn.ctx) == 1) {
        lane_name[sizeof lane_name - 1] = '\0';
        rt_lane *lane = lane_get(p, lane_name);
        if (lane) {
            job->lane = lane;
            if (lane->active) {
                if (lane->wait_tail)
                    lane->wait_tail->lane_next = job;
                else
                    lane->wait_head = job;
                lane->wait_tail = job;
                return 1;
            }
            lane->active = job;
        }
    }
    job_start(rt, job);
    return 1;
}

/* Whether p should stop fetching. A full window alone does not pause until
 * the backlog holds a window's worth, and a paused partition resumes once
 * half of that is left: a resume waits for a new fetch round trip, which
 * the remaining backlog covers instead of an idle worker. A head that is
 * not due yet (retry tier) pauses at once. */
static int should_pause(const bl_runtime *rt, const rt_partition *p)
{
    if (p->closing || (p->bl_len > 0 && p->resume_at_wall))
        return 1;
    size_t high = rt->max_in_flight;
    return p->paused ? p->bl_len > high / 2 : p->bl_len >= high;
}

void bl_rt_backlog_process(bl_runtime *rt, rt_partition *p)
{
    while (p->bl_len > 0 && !p->closing && backlog_take_head(rt, p))
        ;
    bl_rt_partition_pause(rt, p, should_pause(rt, p));
}

void bl_rt_take_message(bl_runtime *rt, bl_kafka_msg *m)
{
    rt_partition *p = bl_rt_partition_find(rt, bl_kafka_msg_topic(m), bl_kafka_msg_partition(m));
    if (!p || p->closing || backlog_push(p, m) != 0) {
        /* Not ours (any more) or no memory: not taken, so never committed. */
        bl_kafka_msg_release(m);
        return;
    }
    bl_rt_backlog_process(rt, p);
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
