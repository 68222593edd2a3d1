/* What the files of a calendar sync run share (run.c, run_items.c,
 * run_inbound.c, run_outbound.c): the run's state and the helpers over its
 * connection. Not for use outside connectors/calendar_sync. */
#ifndef BUSLINE_CONNECTORS_CALENDAR_SYNC_RUN_INTERNAL_H
#define BUSLINE_CONNECTORS_CALENDAR_SYNC_RUN_INTERNAL_H

#include "connectors/calendar_sync/mapping.h"
#include "connectors/calendar_sync/provider.h"
#include "connectors/calendar_sync/run.h"

#define ERRORS_KEPT 100

#define MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"
#define ROW_JSON                                                                                                   \
    "json_build_object('event_id', e.event_id, 'title', e.title, 'description', e.description, 'event_type',"     \
    " e.event_type, 'location', e.location, 'starts_at', " MS("e.starts_at") ", 'ends_at', " MS("e.ends_at")        \
    ", 'timezone', e.timezone, 'organizer', e.organizer, 'attendees', e.attendees, 'is_private', e.is_private,"    \
    " 'reminder_minutes', e.reminder_minutes, 'status', e.status, 'version', e.version, 'origin', e.origin,"       \
    " 'updated_at', " MS("e.updated_at") ")::text"
#define LINK_JSON                                                                                                  \
    "json_build_object('event_id', l.event_id, 'external_id', l.external_id, 'external_version',"                 \
    " l.external_version, 'event_version', l.event_version, 'removed', l.removed_at IS NOT NULL)::text"

typedef struct run {
    const bl_calsync_deps *deps;
    PGconn *conn;
    char id[40], integration_id[40], org[40], provider[32], type[16], direction[32];
    bool dry_run, force, has_range;
    char range_from[40], range_to[40];
    int64_t range_from_ms, range_to_ms, started_ms, last_beat;
    bl_calsync_mapping map;
    bl_calsync_provider *prov;
    long processed, created, updated, deleted, errors, conflicts, removed;
    json_t *error_list;
    json_t *touched; /* event ids the inbound pass handled: the outbound pass leaves them */
    bool lost, stopped;
    char fatal_code[40], fatal_msg[256];
} run;

/* The API code word of a provider error ("PERMISSION_DENIED", ...). */
const char *calsync_code_name(int code);
/* Counts and keeps (the first 100) an item's error. */
void calsync_item_error(run *r, const char *event_id, const bl_err *e);
/* Beats the heartbeat now and then; false when the run stops (lost, or stop()). */
bool calsync_beat(run *r, bl_err *err);
PGresult *calsync_query(run *r, const char *sql, int n, const char *const *params, bl_err *err);
/* The Attendance-X row of event_id (new) or NULL; *failed on a database error. */
json_t *calsync_row_of(run *r, const char *event_id, bl_err *err, int *failed);
/* Creates or replaces the link of event_id (event_version <= 0 keeps the old one). */
int calsync_link_put(run *r, const char *event_id, const char *external_id, const char *version, long event_version,
                     bl_err *err);
/* Moves a link's versions (NULL / <= 0 keeps one); removed marks the copy gone. */
int calsync_link_move(run *r, const char *event_id, const char *version, long event_version, bool removed,
                      bl_err *err);
/* The origin record of a command made from item (new). */
json_t *calsync_origin_of(run *r, const json_t *item);
/* Whether the row's last change was made by this integration's sync. */
bool calsync_origin_is_ours(run *r, const json_t *row);
/* Sends an attendance command about item with an id derived from it. */
int calsync_send_command(run *r, const char *type, const char *event_id, const json_t *item, const json_t *data,
                         bl_err *err);
/* Whether item falls within the run's dateRange (true without one). */
bool calsync_in_range(run *r, const json_t *item);

/* The passes: 0, or -1 when the database failed (item errors are counted). */
int calsync_inbound(run *r, bl_err *err);
int calsync_outbound(run *r, bl_err *err);
int calsync_cleanup(run *r, bl_err *err);
/* One Attendance-X event (row, its link or NULL) copied out per the rules. */
int calsync_outbound_event(run *r, const json_t *row, const json_t *link, bl_err *err);

#endif
