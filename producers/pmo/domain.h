/* The PMO domain: applies one command to the pmo_* tables (migrations/
 * 030_pmo.sql) and derives the events it causes. Pure domain logic over a
 * libpq connection and jansson values: no Kafka, no Avro, no outbox; the
 * service (producers/pmo/service.h) wraps it in a transaction with the outbox writes.
 *
 * Commands and events are in the "plain" JSON shape of their Avro records
 * (schemas/commands/pmo, schemas/events/pmo): optional fields null or absent,
 * enums as symbols. Command timestamps may be RFC 3339 strings or epoch
 * milliseconds; event timestamps are epoch milliseconds. */
#ifndef BUSLINE_PRODUCERS_PMO_DOMAIN_H
#define BUSLINE_PRODUCERS_PMO_DOMAIN_H

#include "core/err.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* A command as the domain sees it. Every pointer is borrowed. */
typedef struct bl_pmo_command {
    const char *id;              /* command id (UUID) */
    const char *type;            /* e.g. "risk.create" */
    const char *organization_id; /* tenant */
    const char *actor;           /* who asked; may be NULL */
    int64_t time_ms;             /* when it was accepted */
    const json_t *data;          /* the command record, a JSON object */
} bl_pmo_command;

/* One derived event: its type (e.g. "risk.escalated"), the aggregate id it
 * is about (becomes subject and Kafka key) and its data record (owned). */
typedef struct bl_pmo_event {
    char *type;
    char *subject;
    json_t *data;
} bl_pmo_event;

/* The events one command caused, in order. Zero-initialise; free with
 * bl_pmo_events_clear. */
typedef struct bl_pmo_events {
    bl_pmo_event *items;
    size_t count;
    size_t cap;
} bl_pmo_events;

/* Appends an event; data is stolen (decref'd even on failure). Returns 0, or
 * -1 with err (BL_ENOMEM). */
int bl_pmo_events_add(bl_pmo_events *ev, const char *type, const char *subject, json_t *data,
                      bl_err *err);

/* Frees every event and empties the list (reusable afterwards). */
void bl_pmo_events_clear(bl_pmo_events *ev);

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

/* Whether an error from bl_pmo_apply is the command's fault (it will fail
 * the same way again: send it to the dead-letter topic) rather than the
 * infrastructure's (retry). PostgreSQL data errors (SQLSTATE classes 22 and
 * 23) count as the command's. Returns 1 or 0; *error_class gets a short
 * name for the DLQ header: "invalid", "not_found", "conflict" or "infra". */
int bl_pmo_error_is_permanent(const bl_err *err, const char **error_class);

#endif
