/* One calendar sync run (run.h). */
#include "connectors/calendar_sync/run.h"

#include "connectors/calendar_sync/google_sync.h"
#include "connectors/calendar_sync/mapping.h"
#include "core/clock.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const char *code_name(int code)
{
    const char *n = bl_oauth_code_name(code);
    return n ? n : code == BL_CALSYNC_E_NOT_FOUND ? "EVENT_NOT_FOUND" : "SYNC_FAILED";
}

static void item_error(run *r, const char *event_id, const bl_err *e)
{
    r->errors++;
    if (json_array_size(r->error_list) < ERRORS_KEPT)
        json_array_append_new(r->error_list, json_pack("{s:s?, s:s, s:s}", "eventId", event_id, "error", e->msg,
                                                       "code", code_name(e->code)));
    bl_log_warn("calendar sync: item failed", BL_FS("run_id", r->id), BL_FS("event_id", event_id ? event_id : ""),
                BL_FS("error", e->msg));
}

/* Beats the heartbeat now and then; false when the run is no longer ours. */
static bool beat(run *r, bl_err *err)
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

static PGresult *query(run *r, const char *sql, int n, const char *const *params, bl_err *err)
{
    return bl_pg_exec(r->conn, sql, n, params, err);
}

static json_t *row_of(run *r, const char *event_id, bl_err *err, int *failed)
{
    const char *p[] = {r->org, event_id};
    PGresult *res = query(r, "SELECT " ROW_JSON " FROM attendance_events e WHERE e.organization_id = $1"
                             " AND e.event_id = $2", 2, p, err);
    *failed = !res;
    json_t *row = res && PQntuples(res) == 1 ? json_loads(PQgetvalue(res, 0, 0), 0, NULL) : NULL;
    PQclear(res);
    return row;
}

static int link_put(run *r, const char *event_id, const char *external_id, const char *version, long event_version,
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
static int link_move(run *r, const char *event_id, const char *version, long event_version, bool removed,
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

static json_t *origin_of(run *r, const json_t *item)
{
    return json_pack("{s:s, s:s, s:O, s:O?}", "integration_id", r->integration_id, "provider", r->provider,
                     "external_id", json_object_get(item, "id"), "external_version", json_object_get(item, "version"));
}

static bool origin_is_ours(run *r, const json_t *row)
{
    const char *by = json_string_value(json_object_get(json_object_get(row, "origin"), "integration_id"));
    return by && strcmp(by, r->integration_id) == 0;
}

static int send_command(run *r, const char *type, const char *event_id, const json_t *item, const json_t *data, bl_err *err)
{
    char seed[1600];
    snprintf(seed, sizeof seed, "calendar-sync/command/%s/%s/%s/%s", r->integration_id,
             json_string_value(json_object_get(item, "id")) ?: "", json_string_value(json_object_get(item, "version")) ?: "",
             type);
    return bl_calsync_send_command(&r->deps->sender, type, r->org, event_id, seed, data, NULL, err);
}

static bool in_range(run *r, const json_t *item)
{
    if (!r->has_range)
        return true;
    json_int_t s = json_integer_value(json_object_get(item, "starts_at"));
    json_int_t e = json_integer_value(json_object_get(item, "ends_at"));
    return (r->range_from_ms < 0 || e >= r->range_from_ms) && (r->range_to_ms < 0 || s <= r->range_to_ms);
}

/* One calendar item of the external -> attendance pass. Returns 0, or -1
 * when the database failed (item errors are recorded and return 0). */
static int inbound_item(run *r, const json_t *item, json_t *seen, bl_err *err)
{
    const char *ext = json_string_value(json_object_get(item, "id"));
    const char *version = json_string_value(json_object_get(item, "version")) ?: "";
    bool cancelled = json_is_true(json_object_get(item, "cancelled"));
    json_object_set_new(seen, ext, json_true());
    const char *p[] = {r->integration_id, r->map.calendar_id, ext};
    PGresult *res = query(r, "SELECT " LINK_JSON " FROM integration_event_links l WHERE l.integration_id = $1"
                             " AND l.calendar_id = $2 AND l.external_id = $3", 3, p, err);
    if (!res)
        return -1;
    json_t *link = PQntuples(res) == 1 ? json_loads(PQgetvalue(res, 0, 0), 0, NULL) : NULL;
    PQclear(res);
    int rc = 0;
    bl_err e = {0};
    json_t *row = NULL, *data = NULL, *origin = origin_of(r, item);
    const char *marker = json_string_value(json_object_get(item, "busline_integration_id"));
    const char *marked_event = json_string_value(json_object_get(item, "busline_event_id"));
    if (!link) {
        if (marker && marked_event && strcmp(marker, r->integration_id) == 0) {
            /* our own copy whose link was lost (a crash after the insert) */
            if (!r->dry_run && !cancelled)
                rc = link_put(r, marked_event, ext, version, 0, err);
            goto done;
        }
        if (cancelled || bl_calsync_mapping_skips_item(&r->map, item) || !in_range(r, item))
            goto done;
        char event_id[48];
        if (bl_calsync_event_id_for(r->integration_id, ext, event_id, err) != 0) {
            rc = -1;
            goto done;
        }
        r->processed++;
        if (!r->dry_run) {
            data = bl_calsync_mapping_create_data(&r->map, item, event_id, origin);
            if (!data || send_command(r, "event.create", event_id, item, data, &e) != 0) {
                item_error(r, event_id, &e);
                goto done;
            }
            if (link_put(r, event_id, ext, version, 0, err) != 0) {
                rc = -1;
                goto done;
            }
            json_object_set_new(r->touched, event_id, json_true());
        }
        r->created++;
        goto done;
    }
    const char *event_id = json_string_value(json_object_get(link, "event_id"));
    const char *known = json_string_value(json_object_get(link, "external_version"));
    if ((known && strcmp(known, version) == 0) || json_is_true(json_object_get(link, "removed")))
        goto done; /* unchanged, our own write read back, or a copy already removed */
    int failed = 0;
    row = row_of(r, event_id, err, &failed);
    if (failed) {
        rc = -1;
        goto done;
    }
    if (cancelled) {
        r->processed++;
        if (!r->dry_run) {
            if (row && strcmp(json_string_value(json_object_get(row, "status")) ?: "", "cancelled") != 0) {
                data = json_pack("{s:s, s:s, s:O}", "event_id", event_id, "reason",
                                 "deleted in the connected calendar", "origin", origin);
                if (!data || send_command(r, "event.cancel", event_id, item, data, &e) != 0) {
                    item_error(r, event_id, &e);
                    goto done;
                }
            }
            if (link_move(r, event_id, version, 0, true, err) != 0) {
                rc = -1;
                goto done;
            }
            json_object_set_new(r->touched, event_id, json_true());
        }
        r->deleted++;
        goto done;
    }
    long linked_version = (long)json_integer_value(json_object_get(link, "event_version"));
    long row_version = row ? (long)json_integer_value(json_object_get(row, "version")) : 0;
    if (row && row_version != linked_version && !origin_is_ours(r, row)) {
        r->conflicts++;
        json_int_t item_at = json_integer_value(json_object_get(item, "updated_at"));
        json_int_t row_at = json_integer_value(json_object_get(row, "updated_at"));
        bl_log_info("calendar sync: conflict", BL_FS("run_id", r->id), BL_FS("event_id", event_id),
                    BL_FS("winner", item_at > row_at ? "calendar" : "attendance"));
        if (item_at <= row_at)
            goto done; /* Attendance-X wins: the outbound pass overwrites the copy */
    }
    r->processed++;
    if (bl_calsync_mapping_skips_item(&r->map, item)) {
        r->processed--;
        goto done;
    }
    if (!r->dry_run) {
        data = row ? bl_calsync_mapping_update_data(&r->map, item, event_id, row_version, origin)
                   : bl_calsync_mapping_create_data(&r->map, item, event_id, origin);
        if (!data || send_command(r, row ? "event.update" : "event.create", event_id, item, data, &e) != 0) {
            item_error(r, event_id, &e);
            goto done;
        }
        if (link_move(r, event_id, version, 0, false, err) != 0) {
            rc = -1;
            goto done;
        }
        json_object_set_new(r->touched, event_id, json_true());
    }
    r->updated++;
done:
    json_decref(link);
    json_decref(row);
    json_decref(data);
    json_decref(origin);
    return rc;
}

static int cursor_get(run *r, char *out, size_t cap, bl_err *err)
{
    const char *p[] = {r->integration_id, r->map.calendar_id};
    PGresult *res = query(r, "SELECT cursor FROM integration_sync_cursors WHERE integration_id = $1"
                             " AND calendar_id = $2", 2, p, err);
    if (!res)
        return -1;
    snprintf(out, cap, "%s", PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return 0;
}

static int cursor_put(run *r, const char *cursor, bl_err *err)
{
    const char *p[] = {r->integration_id, r->map.calendar_id, cursor};
    return bl_pg_exec_cmd(r->conn, "INSERT INTO integration_sync_cursors (integration_id, calendar_id, cursor)"
                                   " VALUES ($1, $2, $3) ON CONFLICT (integration_id, calendar_id) DO UPDATE"
                                   " SET cursor = EXCLUDED.cursor, updated_at = now()", 3, p, err);
}

/* After a complete listing of everything: links whose copy was not listed
 * were deleted in the calendar while the cursor was unusable (a 410). */
static int vanished(run *r, const json_t *seen, bl_err *err)
{
    const char *p[] = {r->integration_id, r->map.calendar_id};
    PGresult *res = query(r, "SELECT l.event_id, l.external_id FROM integration_event_links l WHERE"
                             " l.integration_id = $1 AND l.calendar_id = $2 AND l.removed_at IS NULL"
                             " ORDER BY l.event_id", 2, p, err);
    if (!res)
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        if (json_object_get(seen, PQgetvalue(res, i, 1)))
            continue;
        json_t *item = json_pack("{s:s, s:s, s:b}", "id", PQgetvalue(res, i, 1), "version", "vanished", "cancelled", 1);
        rc = inbound_item(r, item, json_object(), err);
        json_decref(item);
    }
    PQclear(res);
    return rc;
}

static int inbound(run *r, bl_err *err)
{
    char cursor[BL_CALSYNC_CURSOR_MAX] = "", page[BL_CALSYNC_CURSOR_MAX] = "";
    if (!r->force && !r->has_range && cursor_get(r, cursor, sizeof cursor, err) != 0)
        return -1;
    bool full = cursor[0] == '\0';
    long errors_before = r->errors;
    json_t *seen = json_object();
    int rc = 0;
    for (;;) {
        if (!beat(r, err)) {
            rc = r->lost || r->stopped ? 0 : -1;
            goto done;
        }
        bl_calsync_page pg;
        bl_err e = {0};
        if (r->prov->list_page(r->prov->self, r->map.calendar_id, cursor, page, &pg, &e) != 0) {
            if (e.code == BL_CALSYNC_E_CURSOR_GONE && cursor[0]) {
                /* the documented answer to an expired sync token: list everything again */
                bl_log_info("calendar sync: sync token expired, full resync", BL_FS("run_id", r->id));
                cursor[0] = page[0] = '\0';
                full = true;
                json_object_clear(seen);
                continue;
            }
            item_error(r, NULL, &e);
            goto done;
        }
        size_t i;
        const json_t *item;
        json_array_foreach(pg.items, i, item) {
            if ((i % 16 == 0 && !beat(r, err)) || inbound_item(r, item, seen, err) != 0) {
                rc = r->lost || r->stopped ? 0 : -1;
                bl_calsync_page_clear(&pg);
                goto done;
            }
        }
        snprintf(page, sizeof page, "%s", pg.next_page);
        char next[BL_CALSYNC_CURSOR_MAX];
        snprintf(next, sizeof next, "%s", pg.next_cursor);
        bl_calsync_page_clear(&pg);
        if (page[0])
            continue;
        if (full && !r->has_range && r->errors == errors_before && vanished(r, seen, err) != 0)
            rc = -1;
        else if (!r->dry_run && !r->has_range && r->errors == errors_before && next[0])
            rc = cursor_put(r, next, err);
        break;
    }
done:
    json_decref(seen);
    return rc;
}

/* One Attendance-X event of the attendance -> external pass. */
static int outbound_event(run *r, const json_t *row, const json_t *link, bl_err *err)
{
    const char *event_id = json_string_value(json_object_get(row, "event_id"));
    long version = (long)json_integer_value(json_object_get(row, "version"));
    if (json_object_get(r->touched, event_id))
        return 0;
    if (origin_is_ours(r, row)) {
        /* our own change read back: never an echo to the calendar */
        const char *from = json_string_value(json_object_get(json_object_get(row, "origin"), "external_version"));
        const char *known = json_string_value(json_object_get(link, "external_version"));
        if (!r->dry_run && link && from && known && strcmp(from, known) == 0)
            return link_move(r, event_id, NULL, version, false, err);
        return 0;
    }
    bool cancelled = strcmp(json_string_value(json_object_get(row, "status")) ?: "", "cancelled") == 0;
    bool skip = bl_calsync_mapping_skips_event(&r->map, row) != NULL;
    bool removed = link && json_is_true(json_object_get(link, "removed"));
    const char *ext = json_string_value(json_object_get(link, "external_id"));
    char version_out[BL_CALSYNC_VERSION_MAX] = "", id_out[BL_CALSYNC_ID_MAX] = "";
    bl_err e = {0};
    if (cancelled || skip) {
        if (!link || removed)
            return !r->dry_run && link ? link_move(r, event_id, NULL, version, false, err) : 0;
        r->processed++;
        if (r->dry_run) {
            r->deleted++;
            return 0;
        }
        int gone = r->prov->remove(r->prov->self, r->map.calendar_id, ext, &e);
        if (gone < 0) {
            item_error(r, event_id, &e);
            return 0;
        }
        r->deleted += gone;
        return link_move(r, event_id, NULL, version, true, err);
    }
    if (removed)
        return 0; /* deleted in the calendar: its cancel is on its way to Attendance-X */
    r->processed++;
    if (r->dry_run) {
        if (link)
            r->updated++;
        else
            r->created++;
        return 0;
    }
    if (!link) {
        char copy_id[40];
        if (bl_calsync_external_id_for(r->integration_id, event_id, copy_id, err) != 0)
            return -1;
        json_t *item = bl_calsync_mapping_to_item(&r->map, row, copy_id, r->integration_id);
        int rc = item ? r->prov->insert(r->prov->self, r->map.calendar_id, item, id_out, version_out, &e) : -1;
        json_decref(item);
        if (rc != 0 && e.code == BL_CALSYNC_E_EXISTS) {
            /* made by a run that stopped before keeping the link */
            json_t *got = r->prov->get(r->prov->self, r->map.calendar_id, copy_id, &e);
            if (got) {
                snprintf(id_out, sizeof id_out, "%s", copy_id);
                snprintf(version_out, sizeof version_out, "%s",
                         json_string_value(json_object_get(got, "version")) ?: "");
                json_decref(got);
                rc = 0;
            }
        }
        if (rc != 0) {
            item_error(r, event_id, &e);
            return 0;
        }
        r->created++;
        return link_put(r, event_id, id_out, version_out, version, err);
    }
    json_t *item = bl_calsync_mapping_to_item(&r->map, row, NULL, r->integration_id);
    int rc = item ? r->prov->patch(r->prov->self, r->map.calendar_id, ext, item, version_out, &e) : -1;
    json_decref(item);
    if (rc != 0 && e.code == BL_CALSYNC_E_NOT_FOUND) {
        r->processed--;
        return link_move(r, event_id, NULL, 0, true, err);
    }
    if (rc != 0) {
        item_error(r, event_id, &e);
        return 0;
    }
    r->updated++;
    return link_move(r, event_id, version_out, version, false, err);
}

static int outbound(run *r, bl_err *err)
{
    const char *p[] = {r->integration_id, r->org, r->force ? "t" : "f", r->has_range ? r->range_from : NULL,
                       r->has_range ? r->range_to : NULL};
    PGresult *res = query(
        r,
        "SELECT " ROW_JSON ", CASE WHEN l.event_id IS NULL THEN NULL ELSE " LINK_JSON " END"
        " FROM attendance_events e LEFT JOIN integration_event_links l ON l.integration_id = $1"
        " AND l.event_id = e.event_id WHERE e.organization_id = $2 AND ($3::boolean OR l.event_id IS NULL"
        " OR l.event_version IS DISTINCT FROM e.version) AND NOT (l.event_id IS NULL AND e.status = 'cancelled')"
        " AND ($4::timestamptz IS NULL OR e.ends_at >= $4::timestamptz)"
        " AND ($5::timestamptz IS NULL OR e.starts_at <= $5::timestamptz) ORDER BY e.starts_at, e.event_id",
        5, p, err);
    if (!res)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        if (!beat(r, err)) {
            rc = r->lost || r->stopped ? 0 : -1;
            break;
        }
        json_t *row = json_loads(PQgetvalue(res, i, 0), 0, NULL);
        json_t *link = PQgetisnull(res, i, 1) ? NULL : json_loads(PQgetvalue(res, i, 1), 0, NULL);
        rc = row ? outbound_event(r, row, link, err) : 0;
        json_decref(row);
        json_decref(link);
        if (rc != 0)
            break;
    }
    PQclear(res);
    return rc;
}

/* Cleanup: every linked copy deleted, counting those really removed. */
static int cleanup(run *r, bl_err *err)
{
    const char *p[] = {r->integration_id};
    PGresult *res = query(r, "SELECT event_id, calendar_id, external_id FROM integration_event_links"
                             " WHERE integration_id = $1 AND removed_at IS NULL ORDER BY event_id", 1, p, err);
    if (!res)
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        if (!beat(r, err)) {
            rc = r->lost || r->stopped ? 0 : -1;
            break;
        }
        r->processed++;
        if (r->dry_run) {
            r->deleted++;
            continue;
        }
        bl_err e = {0};
        int gone = r->prov->remove(r->prov->self, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), &e);
        if (gone < 0) {
            item_error(r, PQgetvalue(res, i, 0), &e);
            continue;
        }
        r->deleted += gone;
        rc = link_move(r, PQgetvalue(res, i, 0), NULL, 0, true, err);
    }
    PQclear(res);
    if (rc == 0 && !r->dry_run && !r->lost && !r->stopped && r->errors == 0) {
        bool revoked = false;
        bl_err e = {0};
        if (bl_oauth_revoke_tokens(r->deps->store, r->org, r->integration_id, &revoked, &e) != 0)
            item_error(r, NULL, &e);
    }
    return rc;
}

static int load(run *r, const char *run_id, bl_err *err)
{
    const char *p[] = {run_id, r->deps->worker_id};
    PGresult *res = query(r,
                          "SELECT s.integration_id, i.organization_id, i.provider, s.type, s.direction, s.dry_run,"
                          " s.force_update, s.range_from, s.range_to, " MS("s.range_from") ", " MS("s.range_to")
                          ", i.settings::text, " MS("s.started_at") " FROM integration_sync_runs s JOIN integrations i"
                          " ON i.id = s.integration_id WHERE s.id = $1 AND s.claimed_by = $2 AND s.status = 'running'",
                          2, p, err);
    if (!res)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        r->lost = true;
        return 0;
    }
    snprintf(r->id, sizeof r->id, "%s", run_id);
    snprintf(r->integration_id, sizeof r->integration_id, "%s", PQgetvalue(res, 0, 0));
    snprintf(r->org, sizeof r->org, "%s", PQgetvalue(res, 0, 1));
    snprintf(r->provider, sizeof r->provider, "%s", PQgetvalue(res, 0, 2));
    snprintf(r->type, sizeof r->type, "%s", PQgetvalue(res, 0, 3));
    const char *dir = PQgetvalue(res, 0, 4);
    snprintf(r->direction, sizeof r->direction, "%s",
             !strcmp(dir, "inbound")    ? "external_to_attendance"
             : !strcmp(dir, "outbound") ? "attendance_to_external"
             : !strcmp(dir, "both")     ? "bidirectional"
                                        : dir);
    r->dry_run = PQgetvalue(res, 0, 5)[0] == 't';
    r->force = PQgetvalue(res, 0, 6)[0] == 't';
    r->has_range = !PQgetisnull(res, 0, 7) || !PQgetisnull(res, 0, 8);
    snprintf(r->range_from, sizeof r->range_from, "%s", PQgetvalue(res, 0, 7));
    snprintf(r->range_to, sizeof r->range_to, "%s", PQgetvalue(res, 0, 8));
    r->range_from_ms = PQgetisnull(res, 0, 9) ? -1 : atoll(PQgetvalue(res, 0, 9));
    r->range_to_ms = PQgetisnull(res, 0, 10) ? -1 : atoll(PQgetvalue(res, 0, 10));
    json_t *settings = json_loads(PQgetvalue(res, 0, 11), 0, NULL);
    r->started_ms = atoll(PQgetvalue(res, 0, 12));
    PQclear(res);
    bl_err e = {0};
    int rc = bl_calsync_mapping_load(settings, &r->map, &e);
    json_decref(settings);
    if (rc != 0) {
        snprintf(r->fatal_code, sizeof r->fatal_code, "SYNC_FAILED");
        snprintf(r->fatal_msg, sizeof r->fatal_msg, "%s", e.msg);
        return 0;
    }
    if (strcmp(r->provider, "google_calendar") != 0) {
        snprintf(r->fatal_code, sizeof r->fatal_code, "PROVIDER_NOT_SUPPORTED");
        snprintf(r->fatal_msg, sizeof r->fatal_msg, "calendar sync: %s is not a calendar this worker syncs",
                 r->provider);
        return 0;
    }
    bl_calsync_google_opts go = {.store = r->deps->store, .integration_id = r->integration_id,
                                 .base_url = r->deps->google_base_url, .page_size = r->deps->page_size,
                                 .max_wait_ms = r->deps->max_wait_ms};
    r->prov = bl_calsync_google_new(&go, err);
    return r->prov ? 0 : -1;
}

static int record(run *r, bl_err *err)
{
    long done_n = r->created + r->updated + r->deleted;
    const char *status = r->fatal_code[0] || (r->errors > 0 && done_n == 0) ? "error"
                         : r->errors > 0                                     ? "partial"
                                                                             : "success";
    bool failed = strcmp(status, "error") == 0;
    const char *code = r->fatal_code[0] ? r->fatal_code
                       : failed         ? json_string_value(json_object_get(json_array_get(r->error_list, 0), "code"))
                                        : NULL;
    const char *msg = r->fatal_code[0] ? r->fatal_msg
                      : failed         ? json_string_value(json_object_get(json_array_get(r->error_list, 0), "error"))
                                       : NULL;
    json_t *stats = json_pack("{s:I, s:I, s:I, s:I, s:I}", "eventsProcessed", (json_int_t)r->processed,
                              "eventsCreated", (json_int_t)r->created, "eventsUpdated", (json_int_t)r->updated,
                              "eventsDeleted", (json_int_t)r->deleted, "errors", (json_int_t)r->errors);
    char *stats_text = stats ? json_dumps(stats, JSON_COMPACT) : NULL;
    char *errors_text = json_dumps(r->error_list, JSON_COMPACT);
    int64_t ms = bl_clock_wall_ms() - r->started_ms;
    char duration[24], conflicts[24], items[24];
    snprintf(duration, sizeof duration, "%lld", (long long)(ms > 0 ? ms : 0));
    snprintf(conflicts, sizeof conflicts, "%ld", r->conflicts);
    snprintf(items, sizeof items, "%ld", done_n);
    json_t *data = failed ? json_pack("{s:s, s:s, s:s, s:s, s:b, s:i}", "integration_id", r->integration_id,
                                      "provider", r->provider, "error_code", code ? code : "SYNC_FAILED",
                                      "error_message", msg ? msg : "the sync failed", "retryable", 1, "attempt", 1)
                          : json_pack("{s:s, s:s, s:I, s:I, s:I}", "integration_id", r->integration_id, "provider",
                                      r->provider, "items_synced", (json_int_t)done_n, "duration_ms",
                                      (json_int_t)(ms > 0 ? ms : 0), "started_at", (json_int_t)r->started_ms);
    int rc = -1;
    if (!stats_text || !errors_text || !data) {
        bl_err_set(err, BL_ENOMEM, "calendar sync: out of memory");
        goto done;
    }
    const char *p[] = {r->id, r->deps->worker_id, status, duration, stats_text, errors_text, conflicts, items, code,
                       msg, r->integration_id};
    if (bl_pg_begin(r->conn, err) != 0)
        goto done;
    PGresult *res = bl_pg_exec(r->conn,
                               "UPDATE integration_sync_runs SET status = $3, finished_at = now(), duration_ms ="
                               " $4::bigint, statistics = $5::jsonb, errors = $6::jsonb, conflicts = $7::int,"
                               " items_synced = $8::bigint, error_code = $9, error_message = $10,"
                               " heartbeat_at = now() WHERE id = $1 AND claimed_by = $2 AND status = 'running'"
                               " RETURNING 1",
                               10, p, err);
    bool ours = res && PQntuples(res) == 1;
    PQclear(res);
    if (!res || !ours) {
        r->lost = res != NULL;
        bl_err tmp = {0};
        bl_pg_rollback(r->conn, &tmp);
        rc = res ? 0 : -1;
        goto done;
    }
    if ((!r->dry_run &&
         bl_pg_exec_cmd(r->conn,
                        failed ? "UPDATE integrations SET error_count = error_count + 1, updated_at = now()"
                                 " WHERE id = $1"
                               : "UPDATE integrations SET last_sync_at = now(), updated_at = now() WHERE id = $1",
                        1, p + 10, err) != 0) ||
        bl_oauth_append_event(r->deps->store, r->conn,
                              failed ? "integration.sync_failed" : "integration.sync_completed", r->org,
                              r->integration_id, data, err) != 0 ||
        bl_pg_commit(r->conn, err) != 0) {
        bl_err tmp = {0};
        bl_pg_rollback(r->conn, &tmp);
        goto done;
    }
    bl_log_info("calendar sync: run recorded", BL_FS("run_id", r->id), BL_FS("integration_id", r->integration_id),
                BL_FS("status", status), BL_FI("processed", r->processed), BL_FI("created", r->created),
                BL_FI("updated", r->updated), BL_FI("deleted", r->deleted), BL_FI("errors", r->errors),
                BL_FI("conflicts", r->conflicts));
    rc = 0;
done:
    json_decref(stats);
    json_decref(data);
    free(stats_text);
    free(errors_text);
    return rc;
}

int bl_calsync_run_execute(const bl_calsync_deps *deps, const char *run_id, bl_calsync_outcome *outcome, bl_err *err)
{
    run r;
    memset(&r, 0, sizeof r);
    r.deps = deps;
    r.last_beat = bl_clock_mono_ms();
    r.error_list = json_array();
    r.touched = json_object();
    *outcome = BL_CALSYNC_RECORDED;
    int rc = -1;
    if (!r.error_list || !r.touched) {
        bl_err_set(err, BL_ENOMEM, "calendar sync: out of memory");
        goto done;
    }
    if (!(r.conn = bl_pg_pool_acquire(deps->pool, 10000, err)) || load(&r, run_id, err) != 0)
        goto done;
    if (!r.lost && !r.fatal_code[0]) {
        bool in = !strcmp(r.direction, "bidirectional") || !strcmp(r.direction, "external_to_attendance");
        bool out = !strcmp(r.direction, "bidirectional") || !strcmp(r.direction, "attendance_to_external");
        int step = 0;
        if (!strcmp(r.type, "cleanup"))
            step = cleanup(&r, err);
        else {
            /* inbound first: its conflicts decide what the outbound pass may overwrite */
            if (in)
                step = inbound(&r, err);
            if (step == 0 && out && !r.lost && !r.stopped)
                step = outbound(&r, err);
        }
        if (step != 0)
            goto done;
    }
    if (r.stopped) {
        /* handed back at once rather than left for the stale takeover */
        const char *p[] = {run_id, deps->worker_id};
        *outcome = BL_CALSYNC_STOPPED;
        rc = bl_pg_exec_cmd(r.conn, "UPDATE integration_sync_runs SET status = 'queued', claimed_by = NULL"
                                    " WHERE id = $1 AND claimed_by = $2 AND status = 'running'", 2, p, err);
        goto done;
    }
    if (!r.lost && record(&r, err) != 0)
        goto done;
    *outcome = r.lost ? BL_CALSYNC_LOST : BL_CALSYNC_RECORDED;
    rc = 0;
done:
    bl_calsync_provider_free(r.prov);
    if (r.conn)
        bl_pg_pool_release(deps->pool, r.conn);
    json_decref(r.error_list);
    json_decref(r.touched);
    return rc;
}
