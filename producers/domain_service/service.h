/* The loop every domain service runs (`busline pmo`, `busline fieldservice`):
 * consumes commands.<domain> in the group busline-<domain>, applies each
 * command with the domain's apply function (command.h) and appends the
 * events it derives to the outbox in the SAME transaction (the commands of
 * one poll share it, batch.c), then commits the offsets. A command already
 * processed (same id or idempotency key) changes nothing. A command that
 * cannot be applied (undecodable, unknown type, invalid field, failing
 * business rule) goes to the dead-letter topic with its reason in headers,
 * and the service goes on.
 * Every outcome is announced with NOTIFY busline_command_outcome, a JSON
 * payload {command_id, organization_id, domain, outcome: "applied", events}
 * (sent inside the apply transaction, so delivered at its commit; again for
 * a duplicate) or {..., outcome: "refused", error_class, reason} (after the
 * refusal is recorded in domain_command_refusals), for callers waiting on a
 * command (the API). */
#ifndef BUSLINE_PRODUCERS_DOMAIN_SERVICE_SERVICE_H
#define BUSLINE_PRODUCERS_DOMAIN_SERVICE_SERVICE_H

#include "core/err.h"
#include "producers/domain_service/command.h"

#include <stddef.h>

typedef struct bl_domain_service_opts {
    const bl_domain_rules *rules;   /* required: the domain (borrowed for the service's life) */
    const char *brokers;            /* required */
    const char *pg_url;             /* required */
    const char *group_id;           /* NULL: "busline-<domain>" */
    const char *commands_topic;     /* NULL: "commands.<domain>" */
    const char *dlq_topic;          /* NULL: <commands_topic>.dlq */
    const char *events_topic_prefix; /* prepended to each event topic (tests); NULL: none */
    const char *source;             /* event source; NULL: "busline/<domain>" */
    const char *schemas_dir;        /* NULL: bl_catalog_default_dir() */
    const char *registry_url;       /* required: the schema registry */
    int session_timeout_ms;         /* consumer group session (how soon a dead member's
                                       partitions are reassigned); 0: librdkafka's 45 s */
    const char *api_prefix;         /* handed to each command as api_prefix; NULL: none */
} bl_domain_service_opts;

typedef struct bl_domain_service bl_domain_service;

/* Registers the domain's topic schemas, connects to PostgreSQL and Kafka and
 * subscribes (strings are copied).
 * Returns the service (free with bl_domain_service_free) or NULL with err. */
bl_domain_service *bl_domain_service_new(const bl_domain_service_opts *opts, bl_err *err);

/* Waits up to timeout_ms for a command, takes with it the commands already
 * fetched (at most 256, never waiting for more) and handles them completely:
 * applied (or skipped as duplicates, or dead-lettered) in ONE transaction,
 * each under its own savepoint, then their offsets committed. A refused
 * command does not roll back the others; an infrastructure failure rolls
 * the batch back and its commands are handled one per transaction, each
 * retried with backoff (PostgreSQL down, DLQ produce failing) until it
 * passes or a stop is asked for. Returns how many commands were handled, 0
 * when none came, -1 with err when stopped before they all were (the
 * offsets of those not handled are not committed). */
int bl_domain_service_step(bl_domain_service *svc, int timeout_ms, bl_err *err);

/* Handles commands until a stop is asked for (SIGTERM: the current command
 * is finished and committed first). Returns 0, or -1 with err when a fatal
 * Kafka error or a stop during an unfinished command ended it. */
int bl_domain_service_run(bl_domain_service *svc, bl_err *err);

/* Fires at most limit of the domain's due timers (rules->fire_due) in one
 * transaction with their outbox events; bl_domain_service_run calls it
 * every second. Safe beside other replicas doing the same. Returns how many
 * fired (0 for a domain without timers), or -1 with err (nothing fired:
 * they stay due). */
int bl_domain_service_fire_due(bl_domain_service *svc, int limit, bl_err *err);

/* Counters since start, for logs and tests. */
typedef struct bl_domain_service_stats {
    long applied;      /* commands applied and committed */
    long duplicates;   /* commands skipped as already processed */
    long dead_letters; /* commands sent to the DLQ */
    long events;       /* events appended to the outbox */
    long timers;       /* timers fired */
} bl_domain_service_stats;

bl_domain_service_stats bl_domain_service_stats_get(const bl_domain_service *svc);

/* Partitions of the commands topic the service holds now (0 before its
 * first assignment, or when the group has more members than partitions).
 * Thread-safe; svc may be NULL (0). */
int bl_domain_service_assigned(const bl_domain_service *svc);

/* Readiness in the bl_ops_ready_fn shape (core/ops_server.h), ctx the
 * service: 1 while it holds a partition, else 0 with the reason. */
int bl_domain_service_ready(void *ctx, char *reason, size_t reason_len);

/* Leaves the group and frees everything. svc may be NULL. */
void bl_domain_service_free(bl_domain_service *svc);

#endif
