/* Schedule triggers: the due rows of workflow_schedules
 * (migrations/185_workflow_schedules.sql) fired by whichever replica takes
 * them, and the row kept beside a saved workflow. */
#ifndef BUSLINE_CONNECTORS_WORKFLOWS_WF_SCHEDULE_H
#define BUSLINE_CONNECTORS_WORKFLOWS_WF_SCHEDULE_H

#include "core/err.h"

#include <jansson.h>
#include <libpq-fe.h>

/* Fires one due schedule, in one transaction: takes its row (FOR UPDATE
 * SKIP LOCKED), starts the workflow's execution for that fire time (trigger
 * id "schedule:<time>", idempotent), and moves the row to the first fire
 * after now, so fires missed while no replica ran collapse into this one
 * (the catch-up rule). Returns 1 when one was fired, 0 when none is due,
 * -1 with err (nothing changed). */
int bl_wf_schedule_fire_due(PGconn *conn, bl_err *err);

/* Keeps workflow id's schedule row in step with its saved definition def
 * (borrowed, already checked) inside the caller's transaction: a schedule
 * trigger of an active workflow keeps its next fire when cron and timezone
 * are unchanged, else starts from now; any other trigger, or an inactive
 * workflow, has no row. Returns 0, or -1 with err. */
int bl_wf_schedule_sync(PGconn *conn, const char *org, const char *id, const json_t *def, bl_err *err);

#endif
