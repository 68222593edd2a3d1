/* Durable timers in PostgreSQL, one shape shared by every table of them
 * (workflow_timers of migration 160, slack_report_timers of migration 177):
 *
 *   <key> PRIMARY KEY, due_at timestamptz NOT NULL, lease_owner text,
 *   lease_until timestamptz
 *
 * A replica claims one due row FOR UPDATE SKIP LOCKED and holds it by a
 * lease (lease_owner until lease_until), so two replicas never run the same
 * timer at once, and one killed mid-work loses its lease when it runs out:
 * whichever replica claims the row next does the work again. The row is
 * the timer, so it survives restarts. Moving due_at (and clearing the
 * lease) when the work is done is the owner's own statement, usually in the
 * transaction that records the work. */
#ifndef BUSLINE_CORE_PG_TIMER_H
#define BUSLINE_CORE_PG_TIMER_H

#include "core/err.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bl_pg_timer {
    const char *table;    /* static SQL name: "workflow_timers" */
    const char *key;      /* its key column: "execution_id" */
    const char *key_type; /* the key column's type for the casts: "uuid", "text" */
} bl_pg_timer;

/* Claims the oldest row of t due now and not leased (or its lease run out)
 * for owner until now + lease_ms; key_out (cap bytes) gets its key as text.
 * Returns 1 when claimed, 0 when none is due, -1 with err. */
int bl_pg_timer_claim(PGconn *conn, const bl_pg_timer *t, const char *owner, int64_t lease_ms, char *key_out,
                      size_t cap, bl_err *err);

/* Gives the lease of key back when owner still holds it (due_at kept: due
 * again at once). Returns 0, or -1 with err. */
int bl_pg_timer_give_back(PGconn *conn, const bl_pg_timer *t, const char *key, const char *owner, bl_err *err);

#endif
