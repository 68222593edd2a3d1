/* Copies of a job to a retry tier or the dead-letter topic: produced with
 * their retry headers, re-sent when the producer refuses, and made durable
 * by the delivery report. */
#include "consumers/runtime_internal.h"

#include "core/clock.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

void bl_rt_job_send(bl_runtime *rt, bl_runtime_job *job)
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

void bl_rt_job_produce(bl_runtime *rt, bl_runtime_job *job, int tier, int parked)
{
    bl_rt_job_set_state(job, RT_JOB_PRODUCING);
    job->target_tier = tier;
    job->parked = parked;
    bl_rt_job_send(rt, job);
}

void bl_rt_on_delivery(const bl_kafka_delivery *d, void *user)
{
    bl_runtime *rt = user;
    bl_runtime_job *job = d->msg_opaque;
    if (job->state == RT_JOB_ORPHAN) {
        bl_rt_job_list_unlink(&rt->orphans, job);
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
    bl_rt_job_durable(rt, job, job->target_tier >= 0 ? RT_DURABLE_RETRIED : RT_DURABLE_DEAD);
}
