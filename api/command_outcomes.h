/* The outcomes of commands, as the domain services announce them (NOTIFY
 * busline_command_outcome, see producers/domain_service/service.h): one
 * listener thread with its own PostgreSQL connection, and a registry of
 * waiters by command id, so a request can wait, bounded, for the domain's
 * answer to the command it sent without polling a table (the tables are
 * read only after the listener reconnected, for the waiters left). Register BEFORE
 * sending: an outcome announced before its waiter exists is not kept. */
#ifndef BUSLINE_API_COMMAND_OUTCOMES_H
#define BUSLINE_API_COMMAND_OUTCOMES_H

#include "core/err.h"

#define BL_API_OUTCOME_REASON_MAX 256
#define BL_API_OUTCOME_ID_MAX 64 /* command ids a waiter takes (UUIDs) */

typedef enum bl_api_outcome_kind {
    BL_API_OUTCOME_PENDING = 0, /* no answer yet (the bound passed) */
    BL_API_OUTCOME_APPLIED,     /* applied: events derived */
    BL_API_OUTCOME_REFUSED,     /* refused: error_class and reason */
} bl_api_outcome_kind;

typedef struct bl_api_command_outcome {
    bl_api_outcome_kind kind;
    long events;
    char error_class[32]; /* "invalid", "not_found", "conflict", ... */
    char reason[BL_API_OUTCOME_REASON_MAX];
} bl_api_command_outcome;

typedef struct bl_api_outcomes bl_api_outcomes;
typedef struct bl_api_outcome_waiter bl_api_outcome_waiter;

/* Reads the outcome recorded for command_id (the domains' tables) into
 * *out. Returns 1 when one is recorded, 0 when none is yet, -1 on failure.
 * Called on the listener thread. */
typedef int (*bl_api_outcome_recheck_fn)(void *ctx, const char *command_id, bl_api_command_outcome *out);

/* Connects to conninfo, LISTENs (before returning, so every outcome
 * announced afterwards reaches a registered waiter) and starts the listener
 * thread, which reconnects after a lost connection: LISTENing again, it
 * then asks recheck (may be NULL) for every waiter still unsettled, so an
 * outcome announced while the connection was down still reaches it.
 * Returns the registry (free with bl_api_outcomes_free) or NULL with err. */
bl_api_outcomes *bl_api_outcomes_new(const char *conninfo, bl_api_outcome_recheck_fn recheck, void *recheck_ctx,
                                     bl_err *err);

/* Stops the thread and frees. Every waiter must have been released.
 * Accepts NULL. */
void bl_api_outcomes_free(bl_api_outcomes *o);

/* Registers a waiter for command_id (copied). Returns it (give it back with
 * bl_api_outcomes_release) or NULL with err (BL_ENOMEM, BL_EINVAL for an id
 * longer than 63 bytes). */
bl_api_outcome_waiter *bl_api_outcomes_register(bl_api_outcomes *o, const char *command_id, bl_err *err);

/* Waits up to timeout_ms for w's outcome. Returns 1 with *out filled, or 0
 * when the bound passed first (out->kind PENDING). */
int bl_api_outcomes_wait(bl_api_outcomes *o, bl_api_outcome_waiter *w, int timeout_ms,
                         bl_api_command_outcome *out);

/* Hands outcome (copied) to every waiter of command_id and wakes them: the
 * listener's path, and a caller's with an outcome read from the tables. */
void bl_api_outcomes_settle(bl_api_outcomes *o, const char *command_id, const bl_api_command_outcome *outcome);

/* Unregisters and frees w. Accepts NULL. */
void bl_api_outcomes_release(bl_api_outcomes *o, bl_api_outcome_waiter *w);

#endif
