/* The life cycle of a field intervention: which status may follow which.
 * The one table of legal moves lives in status_machine.c; the service
 * (to come) refuses any other move with the reason given here, and never
 * applies it. Statuses are the symbols of the Avro enum InterventionStatus
 * (schemas/commands/fieldservice/intervention.change_status.avsc); the
 * field-service document's French statuses map onto them
 * (bl_intervention_status_from_french). */
#ifndef BUSLINE_PRODUCERS_FIELDSERVICE_STATUS_MACHINE_H
#define BUSLINE_PRODUCERS_FIELDSERVICE_STATUS_MACHINE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum bl_intervention_status {
    BL_INTERVENTION_SCHEDULED,
    BL_INTERVENTION_EN_ROUTE,
    BL_INTERVENTION_IN_PROGRESS,
    BL_INTERVENTION_ON_HOLD,
    BL_INTERVENTION_COMPLETED,
    BL_INTERVENTION_CANCELLED,
    BL_INTERVENTION_STATUS_COUNT
} bl_intervention_status;

/* The Avro symbol of s ("SCHEDULED"...), or NULL for a value out of range.
 * Returns a static string. */
const char *bl_intervention_status_name(bl_intervention_status s);

/* Parses an Avro symbol (exact case). Returns 0 with *out set, or -1 when
 * name is NULL or no status. */
int bl_intervention_status_parse(const char *name, bl_intervention_status *out);

/* Parses a status of the field-service document: planifie, en_cours,
 * termine, annule (exact case). Returns 0 with *out set, or -1 for any other
 * text (the document has no EN_ROUTE nor ON_HOLD). */
int bl_intervention_status_from_french(const char *name, bl_intervention_status *out);

/* The field-service document's word for s: planifie, en_cours, termine,
 * annule, and for the two it does not name en_route and en_attente (ON_HOLD).
 * Returns a static string, or NULL for a value out of range. */
const char *bl_intervention_status_french(bl_intervention_status s);

/* Whether no move leaves s (COMPLETED, CANCELLED). */
bool bl_intervention_status_is_final(bl_intervention_status s);

/* Whether from -> to is a legal move. Staying in the same status is not a
 * move and is refused too. Out-of-range values are refused. */
bool bl_intervention_transition_allowed(bl_intervention_status from, bl_intervention_status to);

/* Checks from -> to. Returns 1 when legal (reason untouched), else 0 with a
 * sentence in reason (reason_len bytes; may be NULL) saying why, e.g.
 * "intervention is COMPLETED, a final status: it cannot become IN_PROGRESS". */
int bl_intervention_transition_check(bl_intervention_status from, bl_intervention_status to,
                                     char *reason, size_t reason_len);

#endif
