/* The runtime's private state, shared by runtime.c (loop, rebalance,
 * commits, stop), runtime_job.c (lanes, outcomes, durability),
 * runtime_backlog.c (taking messages), runtime_tier_send.c (tier and DLQ
 * copies) and runtime_metrics.c. Everything here runs on the worker thread
 * except the completion queue (done_lock) and the stop flag. */
#ifndef BUSLINE_CONSUMERS_RUNTIME_INTERNAL_H
#define BUSLINE_CONSUMERS_RUNTIME_INTERNAL_H

#include "consumers/offset_tracker.h"
#include "consumers/retry_tier.h"
#include "consumers/runtime.h"
#include "core/kafka_producer.h"

#include <pthread.h>
#include <stdatomic.h>

#define RT_LANE_BUCKETS 64

typedef struct rt_partition rt_partition;

typedef enum rt_job_state {
    RT_JOB_LANE_WAIT,  /* tracked, queued behind its strict lane's active job */
    RT_JOB_RUNNING,    /* handed to the connector */
    RT_JOB_RETRY_WAIT, /* in-place retry: restarts at retry_at_mono */
    RT_JOB_PRODUCING,  /* copy on its way to a tier or the DLQ */
    RT_JOB_ORPHAN,     /* abandoned while the connector or producer holds it */
} rt_job_state;

typedef struct rt_lane {
    char name[BL_RUNTIME_LANE_MAX];
    bl_runtime_job *active;            /* running, waiting to retry, or producing */
    bl_runtime_job *wait_head, *wait_tail; /* in offset order */
    struct rt_lane *next;
} rt_lane;

struct bl_runtime_job {
    bl_runtime *rt;
    rt_partition *part; /* NULL once orphaned */
    bl_kafka_msg *msg;
    int64_t offset;
    int attempt;
    bl_retry_headers *prev; /* headers it arrived with, NULL on attempt 1 */
    int64_t first_failure_wall; /* first in-place failure, 0 if none */
    rt_lane *lane;
    bl_runtime_job *lane_next;
    rt_job_state state;
    int64_t taken_mono;    /* when it was taken: latency start */
    int64_t retry_at_mono; /* RT_JOB_RETRY_WAIT */
    int target_tier;       /* RT_JOB_PRODUCING: tier index, -1 = DLQ */
    int needs_send;        /* RT_JOB_PRODUCING not yet accepted by the producer */
    int parked;            /* RT_JOB_PRODUCING a park: the copy keeps the attempt count */
    /* Set by bl_runtime_complete (any thread) under done_lock. */
    int done_queued;
    bl_outcome_kind out_kind;
    int64_t out_after_ms;
    char out_error[BL_RETRY_ERROR_MAX];
    bl_runtime_job *done_next;
    /* The partition's job list, or the runtime's orphan list. */
    bl_runtime_job *list_prev, *list_next;
    void *user;
};

struct rt_partition {
    char *topic;
    int32_t partition;
    int tier_idx;      /* index of the retry tier this topic is, -1 for a main topic */
    int paused;
    int closing;       /* revoking or stopping: start nothing new */
    int64_t resume_at_wall; /* head not due before this (unix ms), 0 = none */
    bl_kafka_msg **backlog; /* polled, not yet taken (window full or not due) */
    size_t bl_head, bl_len, bl_cap;
    bl_runtime_job *jobs;   /* every live job of this partition */
    size_t n_jobs;
    size_t n_busy;          /* RUNNING or PRODUCING */
    rt_lane *lanes[RT_LANE_BUCKETS];
    bl_counter *m_processed, *m_retried, *m_dead;
    bl_gauge *m_lag;
    rt_partition *next;
};

struct bl_runtime {
    char *group_id;
    char connector_name[BL_RETRY_CONNECTOR_MAX];
    char **topics;
    size_t n_topics;
    bl_retry_tiers tiers;
    int has_tiers;
    char tier_topics[BL_RETRY_TIERS_MAX][BL_TOPIC_NAME_MAX];
    char dlq_topic[BL_TOPIC_NAME_MAX];
    int max_attempts;
    size_t max_in_flight;
    int commit_interval_ms;
    size_t commit_every;
    int drain_timeout_ms;
    int revoke_timeout_ms;
    int lag_interval_ms;
    int max_wait_ms;
    bl_runtime_connector conn;
    const bl_runtime_metrics *metrics;
    bl_gauge *m_in_flight, *m_assigned;
    bl_histogram *m_latency;

    bl_kafka_consumer *consumer;
    bl_kafka_producer *producer;
    rd_kafka_queue_t *consumer_q, *producer_q;
    bl_offset_tracker *tracker;
    rt_partition *parts;
    bl_runtime_job *orphans;
    int wake[2]; /* pipe: Kafka queues and completions write, the loop reads */

    pthread_mutex_t done_lock;
    bl_runtime_job *done_head, *done_tail;

    atomic_int stop;
    atomic_int assigned;
    int stopping;   /* the drain has begun */
    int ran;        /* bl_runtime_run finished its close */
    int fatal;
    bl_err fatal_err;

    size_t done_since_commit;
    int64_t next_commit_mono, next_lag_mono;
    size_t n_retry_wait, n_resend;
    bl_runtime_stats stats;
};

/* runtime_job.c */
/* How a job became durable: done, copied to a retry tier, or dead-lettered. */
typedef enum rt_durable_kind { RT_DURABLE_DONE, RT_DURABLE_RETRIED, RT_DURABLE_DEAD } rt_durable_kind;
/* Puts job at the head of the list *head / takes it out of it. */
void bl_rt_job_list_push(bl_runtime_job **head, bl_runtime_job *job);
void bl_rt_job_list_unlink(bl_runtime_job **head, bl_runtime_job *job);
/* Moves job to state s, keeping the partition's busy count and the
 * runtime's retry-wait and resend counts in step. */
void bl_rt_job_set_state(bl_runtime_job *job, rt_job_state s);
/* p's strict lane called name, made when missing; NULL out of memory.
 * Owned by p. */
rt_lane *bl_rt_lane_get(rt_partition *p, const char *name);
/* Hands job to the connector (state running). */
void bl_rt_job_start(bl_runtime *rt, bl_runtime_job *job);
/* Marks job's offset done, counts it as kind, lets its lane go on, frees
 * it, and takes from the backlog what waited for room. */
void bl_rt_job_durable(bl_runtime *rt, bl_runtime_job *job, rt_durable_kind kind);
/* The assigned partition topic/partition, or NULL. Owned by rt. */
rt_partition *bl_rt_partition_find(bl_runtime *rt, const char *topic, int32_t partition);
/* Acts on every queued completion. */
void bl_rt_handle_completions(bl_runtime *rt);
/* Restarts in-place retries that are due and re-sends refused produces. */
void bl_rt_handle_timers(bl_runtime *rt);
/* Monotonic ms of the next in-place retry or due head, or INT64_MAX. */
int64_t bl_rt_next_timer_mono(bl_runtime *rt);
/* Gives up every job of p that is not busy (lane and retry waits) and its
 * backlog; with busy_too, the running and producing ones as well. */
void bl_rt_partition_abandon(bl_runtime *rt, rt_partition *p, int busy_too);
/* Sets p's pause state (no-op when already so). */
void bl_rt_partition_pause(bl_runtime *rt, rt_partition *p, int paused);
/* Frees job (its retry headers too) and releases its message. Accepts NULL. */
void bl_rt_job_free(bl_runtime *rt, bl_runtime_job *job);

/* runtime_backlog.c */
/* Takes what it can from p's backlog and pauses or resumes p to match. */
void bl_rt_backlog_process(bl_runtime *rt, rt_partition *p);
/* Appends a polled message to its partition's backlog (releases it when the
 * partition is not ours) and processes the backlog. */
void bl_rt_take_message(bl_runtime *rt, bl_kafka_msg *m);

/* runtime_tier_send.c */
/* Producer delivery report for a job's tier or DLQ copy. */
void bl_rt_on_delivery(const bl_kafka_delivery *d, void *user);
/* Produces job's copy to retry tier `tier` (-1: the dead-letter topic) with
 * its retry headers (state producing); parked: a park, not a failure. */
void bl_rt_job_produce(bl_runtime *rt, bl_runtime_job *job, int tier, int parked);
/* (Re)sends the copy bl_rt_job_produce set up; a refused send is retried by
 * the timers. */
void bl_rt_job_send(bl_runtime *rt, bl_runtime_job *job);

/* runtime_metrics.c */
void bl_rt_metrics_bind_runtime(bl_runtime *rt);
void bl_rt_metrics_bind_partition(bl_runtime *rt, rt_partition *p);
void bl_rt_metrics_refresh_lag(bl_runtime *rt);

#endif
