/* What the domain service's files share (service.c: one command at a time;
 * batch.c: a poll batch in one transaction). Not for other modules. */
#ifndef BUSLINE_PRODUCERS_DOMAIN_SERVICE_SERVICE_INTERNAL_H
#define BUSLINE_PRODUCERS_DOMAIN_SERVICE_SERVICE_INTERNAL_H

#include "core/kafka_consumer.h"
#include "core/kafka_producer.h"
#include "producers/domain_service/codec.h"
#include "producers/domain_service/service.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdatomic.h>

struct bl_domain_service {
    bl_domain_rules rules; /* borrowed strings: the domain's static data */
    char *insert_sql, *events_sql, *replayed_sql; /* on rules.processed_table */
    char *pg_url;
    char *dlq_topic;
    char *source;
    char *api_prefix; /* NULL: none */
    bl_domain_codec *codec;
    PGconn *conn;
    bl_kafka_consumer *consumer;
    bl_kafka_producer *dlq;
    bl_domain_service_stats stats;
    atomic_int assigned; /* partitions held; read by the ops server's thread */
};

/* Why a command was not applied: a permanent reason (error_class set) sends
 * it to the DLQ; error_class NULL is an infrastructure failure (retry). */
typedef struct bl_domain_refusal {
    const char *error_class;
    bl_err err;
} bl_domain_refusal;

/* Decodes msg's command into *env (owned by the caller, json_decref) and
 * cmd/key (borrowing from *env). Returns 0, or -1 with why (class
 * "invalid"; *env may still need freeing). */
int bl_domain_svc_decode(bl_domain_service *svc, const bl_kafka_msg *msg, json_t **env,
                         bl_domain_command *cmd, const char **key, bl_domain_refusal *why);

/* Applies cmd on svc->conn inside the caller's open transaction: its
 * processed-command row, the domain's apply, its events in the outbox and
 * the applied outcome's NOTIFY. Neither commits nor rolls back. Returns 0
 * when applied (*events: how many), 1 when already processed (nothing
 * written), -1 with why (the transaction is then to be rolled back). */
int bl_domain_svc_apply_open(bl_domain_service *svc, const bl_domain_command *cmd,
                             const char *idempotency_key, size_t *events, bl_domain_refusal *why);

/* Records and announces cmd's refusal (one statement, idempotent), inside
 * a transaction or not. Returns 0, or -1 with err. */
int bl_domain_svc_record_refusal(bl_domain_service *svc, const bl_domain_command *cmd,
                                 const bl_domain_refusal *why, bl_err *err);

/* Announces again the outcome of cmd, already processed. Returns 0, or -1. */
int bl_domain_svc_announce_duplicate(bl_domain_service *svc, const bl_domain_command *cmd, bl_err *err);

/* Sends msg to the DLQ with why in its headers and waits for the ack.
 * Returns 0, or -1 with err. */
int bl_domain_svc_dead_letter(bl_domain_service *svc, const bl_kafka_msg *msg, const bl_domain_refusal *why,
                              bl_err *err);

/* Handles msg alone up to a durable outcome (its own transaction), retrying
 * infrastructure failures with backoff until they pass or a stop is asked
 * for. Returns 0, or -1 with err when stopped first. */
int bl_domain_svc_handle_retrying(bl_domain_service *svc, const bl_kafka_msg *msg, bl_err *err);

/* Sends msg to the DLQ as bl_domain_svc_dead_letter, retrying with backoff
 * until it passes or a stop is asked for. Returns 0, or -1 with err. */
int bl_domain_svc_dead_letter_retrying(bl_domain_service *svc, const bl_kafka_msg *msg,
                                       const bl_domain_refusal *why, bl_err *err);

#endif
