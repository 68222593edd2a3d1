/* Each partition's backlog: polled messages queued in offset order and
 * taken into jobs when the window has room and, on a retry tier, when the
 * head is due; the partition paused while it cannot take more. */
#include "consumers/runtime_internal.h"

#include "core/clock.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

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
    bl_rt_job_list_push(&p->jobs, job);
    p->n_jobs++;
    rt->stats.in_flight++;
    if (rt->m_in_flight)
        bl_gauge_add(rt->m_in_flight, 1);

    char lane_name[BL_RUNTIME_LANE_MAX];
    if (rt->conn.strict_lane && rt->conn.strict_lane(job, lane_name, sizeof lane_name, rt->conn.ctx) == 1) {
        lane_name[sizeof lane_name - 1] = '\0';
        rt_lane *lane = bl_rt_lane_get(p, lane_name);
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
    bl_rt_job_start(rt, job);
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
