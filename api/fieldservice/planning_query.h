/* The planning of the field-service surface, read from the interventions
 * (migrations/072, 073): an appointment is an intervention with a
 * scheduled_at, from then for duration_minutes, with its client and
 * technician. An appointment whose technician has another live (not
 * deleted, not cancelled) appointment overlapping it lists those
 * intervention ids in "conflits". Reads only; the routes are
 * api/fieldservice/route_planning.c. */
#ifndef BUSLINE_API_FIELDSERVICE_PLANNING_QUERY_H
#define BUSLINE_API_FIELDSERVICE_PLANNING_QUERY_H

#include "core/err.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* The calendar array holds at most this many events (the earliest). */
#define BL_FS_CALENDAR_MAX 1000

/* What a planning read is narrowed to; strings borrowed, NULL = any. The
 * window keeps appointments that overlap [from_ms, to_ms). */
typedef struct bl_fs_planning_filter {
    const char *organization_id;
    bool has_from, has_to;
    int64_t from_ms, to_ms;
    const char *client_id;
    const char *status; /* an Avro symbol: SCHEDULED, ... */
    long page, size;    /* 1-based page of size rows */
} bl_fs_planning_filter;

/* Parses a date parameter: "YYYY-MM-DD" (that day's start in UTC, or with
 * end_of_day the next day's start, so a date ending a window includes its
 * day) or an RFC 3339 date-time. Returns 0 with *ms, or -1. */
int bl_fs_date_param(const char *text, bool end_of_day, int64_t *ms);

/* Parses a status filter: the document's French word (planifie, en_cours,
 * termine, annule, en_route, en_attente) or the Avro symbol. Returns the
 * static Avro symbol, or NULL when it is neither. */
const char *bl_fs_status_param(const char *text);

/* {"rendez_vous": [{id, intervention_id, titre, client_id, client,
 * date_debut, date_fin, duree_minutes, technicien_assigné, statut, lieu,
 * conflits}], "total", "page", "size", "pages"}, sorted by start. Returns
 * a new object, or NULL with err. */
json_t *bl_fs_planning_list(PGconn *conn, const bl_fs_planning_filter *f, bl_err *err);

/* The calendar: [{id, title, start, end, color, client, intervention_id}]
 * for f's window (page and size ignored), colour by status. Returns a new
 * array, or NULL with err. */
json_t *bl_fs_planning_calendar(PGconn *conn, const bl_fs_planning_filter *f, bl_err *err);

#endif
