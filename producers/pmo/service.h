/* The PMO domain service (`busline pmo`): consumes commands.pmo in the group
 * busline-pmo, applies each command to the pmo_* tables and appends the
 * events it derives to the outbox in the SAME transaction, then commits the
 * offset. A command already processed (same id or idempotency key) changes
 * nothing. A command that cannot be applied (undecodable, unknown type,
 * invalid field, failing business rule) goes to the dead-letter topic with
 * its reason in headers, and the service goes on. */
#ifndef BUSLINE_PRODUCERS_PMO_SERVICE_H
#define BUSLINE_PRODUCERS_PMO_SERVICE_H

#include "core/err.h"

#include <stddef.h>

typedef struct bl_pmo_service_opts {
    const char *brokers;            /* required */
    const char *pg_url;             /* required */
    const char *group_id;           /* NULL: "busline-pmo" */
    const char *commands_topic;     /* NULL: "commands.pmo" */
    const char *dlq_topic;          /* NULL: <commands_topic>.dlq */
    const char *events_topic_prefix; /* prepended to each event topic (tests); NULL: none */
    const char *source;             /* event source; NULL: "busline/pmo" */
    const char *schemas_dir;        /* NULL: bl_catalog_default_dir() */
    const char *registry_url;       /* required: the schema registry */
} bl_pmo_service_opts;

typedef struct bl_pmo_service bl_pmo_service;

/* Registers the pmo topic schemas, connects to PostgreSQL and Kafka and
 * subscribes (strings are copied).
 * Returns the service (free with bl_pmo_service_free) or NULL with err. */
bl_pmo_service *bl_pmo_service_new(const bl_pmo_service_opts *opts, bl_err *err);

/* Waits up to timeout_ms for one command and handles it completely: applied
 * (or skipped as a duplicate, or dead-lettered) and its offset committed.
 * Infrastructure failures (PostgreSQL down, DLQ produce failing) are retried
 * with backoff on the same command until they pass or a stop is asked for.
 * Returns 1 when a command was handled, 0 when none came, -1 with err when
 * stopped before the command could be handled (its offset not committed). */
int bl_pmo_service_step(bl_pmo_service *svc, int timeout_ms, bl_err *err);

/* Handles commands until a stop is asked for (SIGTERM: the current command
 * is finished and committed first). Returns 0, or -1 with err when a fatal
 * Kafka error or a stop during an unfinished command ended it. */
int bl_pmo_service_run(bl_pmo_service *svc, bl_err *err);

/* Counters since start, for logs and tests. */
typedef struct bl_pmo_service_stats {
    long applied;      /* commands applied and committed */
    long duplicates;   /* commands skipped as already processed */
    long dead_letters; /* commands sent to the DLQ */
    long events;       /* events appended to the outbox */
} bl_pmo_service_stats;

bl_pmo_service_stats bl_pmo_service_stats_get(const bl_pmo_service *svc);

/* Partitions of the commands topic the service holds now (0 before its
 * first assignment, or when the group has more members than partitions).
 * Thread-safe; svc may be NULL (0). */
int bl_pmo_service_assigned(const bl_pmo_service *svc);

/* Readiness in the bl_ops_ready_fn shape (core/ops_server.h), ctx the
 * service: 1 while it holds a partition, else 0 with the reason. */
int bl_pmo_service_ready(void *ctx, char *reason, size_t reason_len);

/* Leaves the group and frees everything. svc may be NULL. */
void bl_pmo_service_free(bl_pmo_service *svc);

#endif
