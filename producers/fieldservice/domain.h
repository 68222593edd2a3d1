/* The field-service domain: applies one command to the fieldservice_* tables
 * (migrations/072_fieldservice.sql) and derives the events it causes. Pure
 * domain logic over a libpq connection and jansson values; the shared loop
 * (producers/domain_service/service.h) wraps it in a transaction with the
 * outbox writes and the processed-command row. Commands and events are in the
 * plain JSON shape of their Avro records (schemas/commands/fieldservice,
 * schemas/events/fieldservice). */
#ifndef BUSLINE_PRODUCERS_FIELDSERVICE_DOMAIN_H
#define BUSLINE_PRODUCERS_FIELDSERVICE_DOMAIN_H

#include "producers/domain_service/command.h"

#define BL_FIELDSERVICE_DOMAIN "fieldservice"

/* fieldservice as the shared loop sees it: "fieldservice",
 * fieldservice_processed_commands, bl_fieldservice_apply. */
extern const bl_domain_rules bl_fieldservice_rules;

/* Applies cmd on conn (inside the caller's open transaction) and appends its
 * events to out. Returns 0, or -1 with err: BL_EINVAL for an unknown type or
 * a bad field, BL_ENOTFOUND when the client or intervention acted on does not
 * exist (or is deleted), BL_ECONFLICT when the command contradicts its state
 * (an existing id, an illegal status move: the reason of
 * bl_intervention_transition_check), BL_EPG when PostgreSQL failed. */
int bl_fieldservice_apply(PGconn *conn_in_tx, const bl_domain_command *cmd, bl_domain_events *out,
                          bl_err *err);

#endif
