/* The run's shared helpers: errors, heartbeat, links, commands (run_internal.h). */
#include "connectors/calendar_sync/run_internal.h"

#include "core/clock.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *calsync_code_name(int code)
{
    const char *n = bl_oauth_code_name(code);
    return n ? n : code == BL_CALSYNC_E_NOT_FOUND ? "EVENT_NOT_FOUND" : "SYNC_FAILED";
}

void calsync_item_error(run *r, const char *event_id, const bl_err *e)
{
    r->errors++;
    if (json_array_size(r->error_list) < ERRORS_KEPT)
        json_array_append_new(r->error_list, json_pack("{s:s?, s:s, s:s}", "eventId", event_id, "error", e->msg,
                                                       "code", calsync_code_name(e->code)));
    bl_log_warn("calendar sync: item failed", BL_FS("run_id", r->id), BL_FS("event_id", event_id ? event_id : ""),
                BL_FS("error", e->msg));
}

/* Beats the heartbeat now and then; false when the run is no longer ours. */
bool calsync_beat(run *r, bl_err *err)
{
    if (r->deps->stop && r->deps->stop()) {
        r->stopped = true;
        return false;
    }
    int64_t now = bl_clock_mono_ms();
    int every = r->deps->heartbeat_ms > 0 ? r->deps->heartbeat_ms : 2000;
    if (now - r->last_beat < every)
        return true;
    const char *p[] = {r->id, r->deps->worker_id};
    PGresult *res = bl_pg_exec(r->conn, "UPDATE integration_sync_runs SET heartbeat_at = now() WHERE id = $1"
                                        " AND claimed_by = $2 AND status = 'running' RETURNING 1", 2, p, err);
    if (!res)
        return false;
    r->lost = PQntuples(res) != 1;
    PQclear(res);
    r->last_beat = now;
    return !r->lost;
}

PGresult *calsync_query(run *r, const char *sql, int n, const char *const *params, bl_err *err)
{
    return bl_pg_exec(r->conn, sql, n, params, err);
}

json_t *calsync_row_of(run *r, const char *event_id, bl_err *err, int *failed)
{
    const char *p[] = {r->org, event_id};
    PGresult *res = calsync_query(r, "SELECT " ROW_JSON " FROM attendance_events e WHERE e.organization_id = $1"
                             " AND e.event_id = $2", 2, p, err);
    *failed = !res;
    json_t *row = res && PQntuples(res) == 1 ? json_loads(PQgetvalue(res, 0, 0), 0, NULL) : NULL;
    PQclear(res);
    return row;
}

int calsync_link_put(run *r, const char *event_id, const char *external_id, const char *version, long event_version,
                    bl_err *err)
{
    char ev[24];
    snprintf(ev, sizeof ev, "%ld", event_version);
    const char *p[] = {r->integration_id, r->org, event_id, r->map.calendar_id, external_id, version,
                       event_version > 0 ? ev : NULL};
    return bl_pg_exec_cmd(r->conn,
                          "INSERT INTO integration_event_links (integration_id, organization_id, event_id,"
                          " calendar_id, external_id, external_version, event_version) VALUES ($1, $2, $3, $4, $5,"
                          " $6, $7::int) ON CONFLICT (integration_id, event_id) DO UPDATE SET external_id ="
                          " EXCLUDED.external_id, calendar_id = EXCLUDED.calendar_id, external_version ="
                          " EXCLUDED.external_version, event_version = coalesce(EXCLUDED.event_version,"
                          " integration_event_links.event_version), removed_at = NULL, updated_at = now()",
                          7, p, err);
}

/* Sets the link's versions (NULL / <= 0 keeps one) and, when removed, its removal. */
int calsync_link_move(run *r, const char *event_id, const char *version, long event_version, bool removed,
                     bl_err *err)
{
    char ev[24];
    snprintf(ev, sizeof ev, "%ld", event_version);
    const char *p[] = {r->integration_id, event_id, version, event_version > 0 ? ev : NULL, removed ? "t" : "f"};
    return bl_pg_exec_cmd(r->conn,
                          "UPDATE integration_event_links SET external_version = coalesce($3, external_version),"
                          " event_version = coalesce($4::int, event_version), removed_at = CASE WHEN $5::boolean"
                          " THEN coalesce(removed_at, now()) ELSE removed_at END, updated_at = now()"
                          " WHERE integration_id = $1 AND event_id = $2",
                          5, p, err);
}

json_t *calsync_origin_of(run *r, const json_t *item)
{
    return json_pack("{s:s, s:s, s:O, s:O?}", "integration_id", r->integration_id, "provider", r->provider,
                     "external_id", json_object_get(item, "id"), "external_version", json_object_get(item, "version"));
}

bool calsync_origin_is_ours(run *r, const json_t *row)
{
    const char *by = json_string_value(json_object_get(json_object_get(row, "origin"), "integration_id"));
    return by && strcmp(by, r->integration_id) == 0;
}

int calsync_send_command(run *r, const char *type, const char *event_id, const json_t *item, const json_t *data, bl_err *err)
{
    char seed[1600];
    snprintf(seed, sizeof seed, "calendar-sync/command/%s/%s/%s/%s", r->integration_id,
             json_string_value(json_object_get(item, "id")) ?: "", json_string_value(json_object_get(item, "version")) ?: "",
             type);
    return bl_calsync_send_command(&r->deps->sender, type, r->org, event_id, seed, data, NULL, err);
}

bool calsync_in_range(run *r, const json_t *item)
{
    if (!r->has_range)
        return true;
    json_int_t s = json_integer_value(json_object_get(item, "starts_at"));
    json_int_t e = json_integer_value(json_object_get(item, "ends_at"));
    return (r->range_from_ms < 0 || e >= r->range_from_ms) && (r->range_to_ms < 0 || s <= r->range_to_ms);
}
