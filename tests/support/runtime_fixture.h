/* Test support for the consumer runtime: a fake connector that completes
 * jobs from a second thread after random delays (so out of order), and
 * Kafka helpers (fresh topics, bulk produce, committed offsets, reading a
 * topic back). */
#ifndef BUSLINE_TEST_RUNTIME_FIXTURE_H
#define BUSLINE_TEST_RUNTIME_FIXTURE_H

#include "consumers/runtime.h"
#include "core/kafka_producer.h"

#include <pthread.h>
#include <stdint.h>

/* Decides a job's outcome at start (worker thread): returns it and sets
 * *delay_ms (random by default; < 0 holds the job until
 * fake_connector_release). */
typedef bl_outcome (*fake_decide_fn)(bl_runtime_job *job, int *delay_ms, void *user);
/* Told (completer thread) just before a job is completed. */
typedef void (*fake_completed_fn)(bl_runtime_job *job, bl_outcome o, void *user);

typedef struct fake_pending {
    bl_runtime_job *job;
    int64_t due_mono; /* INT64_MAX while held */
    bl_outcome outcome;
    char error[64];
} fake_pending;

typedef struct fake_connector {
    bl_runtime *rt;
    pthread_t thread;
    pthread_mutex_t lock;
    fake_pending *pending;
    size_t n, cap;
    int max_delay_ms;
    unsigned seed;
    int quit;
    fake_decide_fn decide;
    fake_completed_fn completed;
    void *user;
    int max_pending; /* most jobs held at once (observed) */
} fake_connector;

/* Starts the completer thread; delays are uniform in [0, max_delay_ms]. */
void fake_connector_init(fake_connector *fc, int max_delay_ms, fake_decide_fn decide,
                         fake_completed_fn completed, void *user);
/* The hooks to put in bl_runtime_opts.connector (pump polls the wake fds). */
bl_runtime_connector fake_connector_hooks(fake_connector *fc);
/* Makes held jobs due now. */
void fake_connector_release(fake_connector *fc);
/* The same, from inside a fake_completed_fn (which runs under the lock). */
void fake_connector_release_locked(fake_connector *fc);
/* Stops the thread; jobs still pending are dropped (not completed). */
void fake_connector_stop(fake_connector *fc);

/* Creates a runtime from o for fc (*rt_slot is set before it runs, so
 * callbacks can stop it), runs it to the end, fills st, stops fc and frees
 * the runtime (*rt_slot back to NULL). Returns 0, or -1 (printed). */
int fixture_run(const bl_runtime_opts *o, fake_connector *fc, bl_runtime **rt_slot, bl_runtime_stats *st);

/* The id a fixture message carries as its value ("42"), or -1. */
long fixture_msg_id(const bl_kafka_msg *m);

/* Creates topics (partitions each) and waits until visible. Returns 0. */
int fixture_topics_create(const char *const *names, size_t n, int partitions);
void fixture_topics_delete(const char *const *names, size_t n);

/* Produces ids [first, first+count) to topic: value = id, key =
 * "k<id % keys>", header ce_id = "id-<id>". Returns 0. */
int fixture_produce(const char *topic, long first, long count, int keys);

/* Sum over partitions of group's committed offsets on topic (-1 on error). */
int64_t fixture_committed_total(const char *group, const char *topic, int partitions);
/* Sum of end offsets (high watermarks) of topic. */
int64_t fixture_end_total(const char *topic, int partitions);

/* Reads want messages from topic with a fresh group (earliest), calling fn
 * for each; gives up after timeout_ms. Returns how many were read. */
typedef void (*fixture_msg_fn)(const bl_kafka_msg *m, void *user);
int fixture_read(const char *topic, int want, int timeout_ms, fixture_msg_fn fn, void *user);

#endif
