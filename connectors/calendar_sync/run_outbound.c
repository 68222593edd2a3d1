/* The attendance -> external pass and the cleanup of a run (run.h). */
#include "connectors/calendar_sync/run_internal.h"

#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* One Attendance-X event of the attendance -> external pass. */
int calsync_outbound_event(run *r, const json_t *row, const json_t *link, bl_err *err)
{
    const char *event_id = json_string_value(json_object_get(row, "event_id"));
    long version = (long)json_integer_value(json_object_get(row, "version"));
    if (json_object_get(r->touched, event_id))
        return 0;
    if (calsync_origin_is_ours(r, row)) {
        /* our own change read back: never an echo to the calendar */
        const char *from = json_string_value(json_object_get(json_object_get(row, "origin"), "external_version"));
        const char *known = json_string_value(json_object_get(link, "external_version"));
        if (!r->dry_run && link && from && known && strcmp(from, known) == 0)
            return calsync_link_move(r, event_id, NULL, version, false, err);
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
            return !r->dry_run && link ? calsync_link_move(r, event_id, NULL, version, false, err) : 0;
        r->processed++;
        if (r->dry_run) {
            r->deleted++;
            return 0;
        }
        int gone = r->prov->remove(r->prov->self, r->map.calendar_id, ext, &e);
        if (gone < 0) {
            calsync_item_error(r, event_id, &e);
            return 0;
        }
        r->deleted += gone;
        return calsync_link_move(r, event_id, NULL, version, true, err);
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
            calsync_item_error(r, event_id, &e);
            return 0;
        }
        r->created++;
        return calsync_link_put(r, event_id, id_out, version_out, version, err);
    }
    json_t *item = bl_calsync_mapping_to_item(&r->map, row, NULL, r->integration_id);
    int rc = item ? r->prov->patch(r->prov->self, r->map.calendar_id, ext, item, version_out, &e) : -1;
    json_decref(item);
    if (rc != 0 && e.code == BL_CALSYNC_E_NOT_FOUND) {
        r->processed--;
        return calsync_link_move(r, event_id, NULL, 0, true, err);
    }
    if (rc != 0) {
        calsync_item_error(r, event_id, &e);
        return 0;
    }
    r->updated++;
    return calsync_link_move(r, event_id, version_out, version, false, err);
}

int calsync_outbound(run *r, bl_err *err)
{
    const char *p[] = {r->integration_id, r->org, r->force ? "t" : "f", r->has_range ? r->range_from : NULL,
                       r->has_range ? r->range_to : NULL};
    PGresult *res = calsync_query(
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
        if (!calsync_beat(r, err)) {
            rc = r->lost || r->stopped ? 0 : -1;
            break;
        }
        json_t *row = json_loads(PQgetvalue(res, i, 0), 0, NULL);
        json_t *link = PQgetisnull(res, i, 1) ? NULL : json_loads(PQgetvalue(res, i, 1), 0, NULL);
        rc = row ? calsync_outbound_event(r, row, link, err) : 0;
        json_decref(row);
        json_decref(link);
        if (rc != 0)
            break;
    }
    PQclear(res);
    return rc;
}

/* Cleanup: every linked copy deleted, counting those really removed. */
int calsync_cleanup(run *r, bl_err *err)
{
    const char *p[] = {r->integration_id};
    PGresult *res = calsync_query(r, "SELECT event_id, calendar_id, external_id FROM integration_event_links"
                             " WHERE integration_id = $1 AND removed_at IS NULL ORDER BY event_id", 1, p, err);
    if (!res)
        return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        if (!calsync_beat(r, err)) {
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
            calsync_item_error(r, PQgetvalue(res, i, 0), &e);
            continue;
        }
        r->deleted += gone;
        rc = calsync_link_move(r, PQgetvalue(res, i, 0), NULL, 0, true, err);
    }
    PQclear(res);
    if (rc == 0 && !r->dry_run && !r->lost && !r->stopped && r->errors == 0) {
        bool revoked = false;
        bl_err e = {0};
        if (bl_oauth_revoke_tokens(r->deps->store, r->org, r->integration_id, &revoked, &e) != 0)
            calsync_item_error(r, NULL, &e);
    }
    return rc;
}
