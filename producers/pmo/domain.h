/* The PMO domain: applies one command to the pmo_* tables (migrations/
 * 030_pmo.sql) and derives the events it causes. Pure domain logic over a
 * libpq connection and jansson values: no Kafka, no Avro, no outbox; the
 * service (producers/domain_service/service.h) wraps it in a transaction with the outbox writes.
 *
 * Commands and events are in the "plain" JSON shape of their Avro records
 * (schemas/commands/pmo, schemas/events/pmo): optional fields null or absent,
 * enums as symbols. Command timestamps may be RFC 3339 strings or epoch
 * milliseconds; event timestamps are epoch milliseconds. */
#ifndef BUSLINE_PRODUCERS_PMO_DOMAIN_H
#define BUSLINE_PRODUCERS_PMO_DOMAIN_H

#include "core/err.h"
#include "producers/domain_service/command.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#define BL_PMO_DOMAIN "pmo"

/* The shared loop's types under the domain's names. */
typedef bl_domain_command bl_pmo_command;
typedef bl_domain_event bl_pmo_event;
typedef bl_domain_events bl_pmo_events;

/* pmo as the shared loop sees it: "pmo", pmo_processed_commands, bl_pmo_apply. */
extern const bl_domain_rules bl_pmo_rules;

/* A velocity drop is reported when a sprint's velocity is at least this many
 * percent below the average velocity of the project's previous sprints. */
#define BL_PMO_VELOCITY_DROP_PCT 20

/* Reports whose markdown is longer than this are stored but not inlined in
 * report.generated (its markdown is then null). */
#define BL_PMO_REPORT_INLINE_MAX (256 * 1024)

/* Applies cmd on conn (borrowed, inside the caller's open transaction) and
 * appends the events it causes to out. Does not record the command as
 * processed (the service does, in the same transaction). Returns 0, or -1
 * with err: BL_EINVAL for an unknown type or a missing / mistyped / invalid
 * field, BL_ENOTFOUND when the aggregate acted on does not exist,
 * BL_ECONFLICT when the command contradicts its state (creating an existing
 * id, approving a decided decision), BL_EPG when PostgreSQL failed (the
 * transaction is then aborted). */
int bl_pmo_apply(PGconn *conn_in_tx, const bl_pmo_command *cmd, bl_pmo_events *out, bl_err *err);

#endif
