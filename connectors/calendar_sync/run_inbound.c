/* The external -> attendance pass of a run (run.h). */
#include "connectors/calendar_sync/run_internal.h"

#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* One calendar item of the external -> attendance pass. Returns 0, or -1
 * when the database failed (item errors are recorded and return 0). */
static int inbound_item(run *r, const json_t *item, json_t *seen, bl_err *err)
{
    const char *ext = json_string_value(json_object_get(item, "id"));
    const char *version = json_string_value(json_object_get(item, "version")) ?: "";
    bool cancelled = json_is_true(json_object_get(item, "cancelled"));
    json_object_set_new(seen, ext, json_true());
    const char *p[] = {r->integration_id, r->map.calendar_id, ext};
    PGresult *res = calsync_query(r, "SELECT " LINK_JSON " FROM integration_event_links l WHERE l.integration_id = $1"
                             " AND l.calendar_id = $2 AND l.external_id = $3", 3, p, err);
    if (!res)
        return -1;
    json_t *link = PQntuples(res) == 1 ? json_loads(PQgetvalue(res, 0, 0), 0, NULL) : NULL;
    PQclear(res);
    int rc = 0;
    bl_err e = {0};
    json_t *row = NULL, *data = NULL, *origin = calsync_origin_of(r, item);
    const char *marker = json_string_value(json_object_get(item, "busline_integration_id"));
    const char *marked_event = json_string_value(json_object_get(item, "busline_event_id"));
    if (!link) {
        if (marker && marked_event && strcmp(marker, r->integration_id) == 0) {
            /* our own copy whose link was lost (a crash after the insert) */
            if (!r->dry_run && !cancelled)
                rc = calsync_link_put(r, marked_event, ext, version, 0, err);
            goto done;
        }
        if (cancelled || bl_calsync_mapping_skips_item(&r->map, item) || !calsync_in_range(r, item))
            goto done;
        char event_id[48];
        if (bl_calsync_event_id_for(r->integration_id, ext, event_id, err) != 0) {
            rc = -1;
            goto done;
        }
        r->processed++;
        if (!r->dry_run) {
            data = bl_calsync_mapping_create_data(&r->map, item, event_id, origin);
            if (!data || calsync_send_command(r, "event.create", event_id, item, data, &e) != 0) {
                calsync_item_error(r, event_id, &e);
                goto done;
            }
            if (calsync_link_put(r, event_id, ext, version, 0, err) != 0) {
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
    row = calsync_row_of(r, event_id, err, &failed);
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
                if (!data || calsync_send_command(r, "event.cancel", event_id, item, data, &e) != 0) {
                    calsync_item_error(r, event_id, &e);
                    goto done;
                }
            }
            if (calsync_link_move(r, event_id, version, 0, true, err) != 0) {
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
    if (row && row_version != linked_version && !calsync_origin_is_ours(r, row)) {
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
        if (!data || calsync_send_command(r, row ? "event.update" : "event.create", event_id, item, data, &e) != 0) {
            calsync_item_error(r, event_id, &e);
            goto done;
        }
        if (calsync_link_move(r, event_id, version, 0, false, err) != 0) {
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
    PGresult *res = calsync_query(r, "SELECT cursor FROM integration_sync_cursors WHERE integration_id = $1"
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
    PGresult *res = calsync_query(r, "SELECT l.event_id, l.external_id FROM integration_event_links l WHERE"
                             " l.integration_id = $1 AND l.calendar_id = $2 AND l.removed_at IS NULL"
                             " ORDER BY l.event_id", 2, p, err);
    if (!res)
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        if (json_object_get(seen, PQgetvalue(res, i, 1)))
            continue;
        json_t *item = json_pack("{s:s, s:s, s:b}", "id", PQgetvalue(res, i, 1), "version", "vanished", "cancelled", 1);
        json_t *ignored = json_object();
        rc = item && ignored ? inbound_item(r, item, ignored, err) : -1;
        json_decref(item);
        json_decref(ignored);
    }
    PQclear(res);
    return rc;
}

int calsync_inbound(run *r, bl_err *err)
{
    char cursor[BL_CALSYNC_CURSOR_MAX] = "", page[BL_CALSYNC_CURSOR_MAX] = "";
    if (!r->force && !r->has_range && cursor_get(r, cursor, sizeof cursor, err) != 0)
        return -1;
    bool full = cursor[0] == '\0';
    long errors_before = r->errors;
    json_t *seen = json_object();
    int rc = 0;
    for (;;) {
        if (!calsync_beat(r, err)) {
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
            calsync_item_error(r, NULL, &e);
            goto done;
        }
        size_t i;
        const json_t *item;
        json_array_foreach(pg.items, i, item) {
            if ((i % 16 == 0 && !calsync_beat(r, err)) || inbound_item(r, item, seen, err) != 0) {
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
