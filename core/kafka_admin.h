/* Kafka topic administration over librdkafka's Admin API: idempotent create,
 * delete, wait-until-visible and list. Every call takes a timeout. */
#ifndef BUSLINE_CORE_KAFKA_ADMIN_H
#define BUSLINE_CORE_KAFKA_ADMIN_H

#include "core/err.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* A topic to create; configs is a NULL-terminated key/value array such as
 * {"retention.ms", "604800000", "cleanup.policy", "compact", NULL}, may be
 * NULL. replication_factor -1 takes the broker default. Borrowed. */
typedef struct bl_kafka_topic_spec {
    const char *name;
    int partitions;
    int replication_factor;
    const char *const *configs;
} bl_kafka_topic_spec;

typedef struct bl_kafka_admin bl_kafka_admin;

/* Creates an admin client for brokers; extra as in bl_kafka_conf_apply.
 * Returns NULL with err. Free with bl_kafka_admin_free. */
bl_kafka_admin *bl_kafka_admin_new(const char *brokers, const char *const *extra, bl_err *err);

/* Creates n topics. A topic that already exists counts as created when its
 * partition count (and replication factor, unless -1) match the spec;
 * otherwise BL_ECONFLICT. Does not wait for metadata (see wait_visible).
 * Returns 0, or -1 with err naming the first failing topic and the broker's
 * message (BL_EINVAL for a bad name or spec, BL_ETIMEOUT, BL_EKAFKA). */
int bl_kafka_admin_create_topics(bl_kafka_admin *a, const bl_kafka_topic_spec *specs, size_t n,
                                 int timeout_ms, bl_err *err);

/* Deletes n topics; one that does not exist counts as deleted. Returns 0, or
 * -1 with err naming the first failing topic. */
int bl_kafka_admin_delete_topics(bl_kafka_admin *a, const char *const *names, size_t n,
                                 int timeout_ms, bl_err *err);

/* Waits up to timeout_ms until each of the n topics is in the cluster
 * metadata with a leader for every partition. Returns 0, or -1 with err
 * (BL_ETIMEOUT naming a topic still missing). */
int bl_kafka_admin_wait_visible(bl_kafka_admin *a, const char *const *names, size_t n,
                                int timeout_ms, bl_err *err);

/* Lists every topic in the cluster (internal ones included). On success
 * *names is a new array of *n new strings: free with bl_kafka_topic_names_free.
 * Returns 0, or -1 with err. */
int bl_kafka_admin_list_topics(bl_kafka_admin *a, int timeout_ms, char ***names, size_t *n, bl_err *err);

/* The number of partitions of topic name: > 0, 0 when the topic is not in
 * the cluster metadata, or -1 with err. */
int bl_kafka_admin_partition_count(bl_kafka_admin *a, const char *name, int timeout_ms, bl_err *err);

/* Starts one admin request (e.g. rd_kafka_DescribeConsumerGroups) with the
 * given objects, options and result queue. */
typedef void (*bl_kafka_admin_launch_fn)(rd_kafka_t *rk, void *objs, size_t n, const rd_kafka_AdminOptions_t *opts,
                                         rd_kafka_queue_t *q);

/* Runs one admin request of kind op through launch with both timeouts set
 * and waits for its result. what names it in errors. Returns the result
 * event (caller destroys it with rd_kafka_event_destroy), or NULL with err
 * (BL_ETIMEOUT, or BL_EKAFKA carrying the request-level error). */
rd_kafka_event_t *bl_kafka_admin_call(bl_kafka_admin *a, rd_kafka_admin_op_t op, bl_kafka_admin_launch_fn launch,
                                      void *objs, size_t n, int timeout_ms, const char *what, bl_err *err);

/* Frees what bl_kafka_admin_list_topics returned. names may be NULL. */
void bl_kafka_topic_names_free(char **names, size_t n);

/* The underlying handle, borrowed; do not destroy. */
rd_kafka_t *bl_kafka_admin_handle(bl_kafka_admin *a);

/* Destroys the admin client. a may be NULL. */
void bl_kafka_admin_free(bl_kafka_admin *a);

#endif
