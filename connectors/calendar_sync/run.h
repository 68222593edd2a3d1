/* One calendar sync run, executed by the worker (worker.h) that claimed it
 * from integration_sync_runs:
 *
 *   external -> attendance: the calendar's changes since the stored cursor
 *     (Google syncToken, Graph deltaLink; everything again after a 410, on
 *     forceUpdate or with a dateRange), page by page; each item becomes an attendance
 *     command (commands.h: derived ids) and its link is kept in
 *     integration_event_links. The cursor moves on only after a complete
 *     read without item errors and without a dateRange, so nothing is
 *     skipped on the next run.
 *   attendance -> external: every Attendance-X event of the organization
 *     whose version differs from the version its link last copied (all of
 *     them on forceUpdate) is inserted, patched or, once cancelled or no
 *     longer passing the filters, deleted in the calendar. Changes the sync
 *     itself brought in (origin = this integration) are never written back:
 *     the echo only moves the link's event_version.
 *
 * Conflict rule (both sides changed since the last sync: the item's
 * version differs from the link's and the event's version differs from the
 * link's, the event's last change not made by this sync): the side changed
 * last wins -- the item's `updated` against the event's updated_at; on a
 * tie Attendance-X wins. The loser's change is overwritten; each conflict
 * is counted in the run.
 *
 * dryRun lists and compares, counts what it would do, and writes nothing
 * (no command, no calendar call that changes, no link, no cursor).
 * Cleanup runs delete every linked copy (counting those really removed),
 * then revoke the tokens. */
#ifndef BUSLINE_CONNECTORS_CALENDAR_SYNC_RUN_H
#define BUSLINE_CONNECTORS_CALENDAR_SYNC_RUN_H

#include "connectors/calendar_sync/commands.h"
#include "connectors/calendar_sync/provider.h"
#include "connectors/oauth/oauth.h"
#include "core/pg_pool.h"

#include <stdbool.h>

typedef struct bl_calsync_deps {
    bl_pg_pool *pool;           /* borrowed */
    bl_oauth_store *store;      /* borrowed */
    bl_calsync_sender sender;   /* for the commands */
    const char *worker_id;      /* claimed_by */
    const char *google_base_url;/* NULL = Google's */
    const char *graph_base_url; /* NULL = Microsoft Graph v1.0 */
    int page_size;              /* 0 = the provider's default */
    int max_wait_ms;            /* longest rate-limit wait; 0 = 30 s */
    int heartbeat_ms;           /* how often a running run beats; 0 = 2000 */
    int (*stop)(void);          /* returns 1: the run stops where it is (resumed later); NULL: never */
} bl_calsync_deps;

/* The calendar of integration_id for provider ("google_calendar",
 * "microsoft_365"), per deps' base URLs and limits. Returns it (free with
 * bl_calsync_provider_free), or NULL with err: BL_OAUTH_E_PROVIDER for a
 * provider the sync does not know. */
bl_calsync_provider *bl_calsync_provider_open(const bl_calsync_deps *deps, const char *provider,
                                              const char *integration_id, bl_err *err);

/* Outcome of bl_calsync_run_execute. */
typedef enum bl_calsync_outcome {
    BL_CALSYNC_RECORDED = 0, /* finished and recorded */
    BL_CALSYNC_LOST,         /* another worker took the run over: nothing recorded */
    BL_CALSYNC_STOPPED,      /* stop() said so: the run is queued again for the next worker */
} bl_calsync_outcome;

/* Executes run run_id, claimed by deps->worker_id, to its end, records
 * startedAt/completedAt/status/statistics/errors/conflicts and appends
 * integration.sync_completed or integration.sync_failed in the same
 * transaction. *outcome says how it ended. Returns 0, or -1 with err when
 * the database failed (the run stays claimed; a takeover finishes it). */
int bl_calsync_run_execute(const bl_calsync_deps *deps, const char *run_id, bl_calsync_outcome *outcome, bl_err *err);

#endif
