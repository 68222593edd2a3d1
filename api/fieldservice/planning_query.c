/* The planning reads: one SQL over the interventions and their clients,
 * the overlap of one technician's appointments found by a lateral
 * self-join on the technician index of migration 073. */
#include "api/fieldservice/planning_query.h"

#include "core/pg_pool.h"
#include "core/time_format.h"
#include "producers/fieldservice/status_machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

int bl_fs_date_param(const char *text, bool end_of_day, int64_t *ms)
{
    int y, m, d, used = 0;
    if (text && strlen(text) == 10 && sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &used) == 3 &&
        used == 10 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m)) {
        *ms = bl_days_from_civil(y, m, d) * DAY_MS + (end_of_day ? DAY_MS : 0);
        return 0;
    }
    return text && bl_rfc3339_parse_millis(text, ms) == 0 ? 0 : -1;
}

const char *bl_fs_status_param(const char *text)
{
    bl_intervention_status s;
    if (bl_intervention_status_parse(text, &s) == 0)
        return bl_intervention_status_name(s);
    for (int i = 0; text && i < BL_INTERVENTION_STATUS_COUNT; i++)
        if (strcmp(bl_intervention_status_french((bl_intervention_status)i), text) == 0)
            return bl_intervention_status_name((bl_intervention_status)i);
    return NULL;
}

/* $1 org, $2 from ms, $3 to ms, $4 client, $5 status (each NULL = any). */
#define APPOINTMENTS                                                                            \
    "WITH a AS (SELECT i.intervention_id, i.client_id, c.name AS client_name, i.title, i.status," \
    " coalesce(i.technician_name, i.technician_id) AS technician, i.technician_id,"              \
    " i.scheduled_at AS starts, i.scheduled_at + make_interval(mins => i.duration_minutes) AS ends," \
    " i.duration_minutes, i.street || ', ' || i.postal_code || ' ' || i.city AS lieu"            \
    " FROM fieldservice_interventions i JOIN fieldservice_clients c"                            \
    " ON c.organization_id = i.organization_id AND c.client_id = i.client_id"                   \
    " WHERE i.organization_id = $1 AND i.deleted_at IS NULL AND i.scheduled_at IS NOT NULL"      \
    " AND ($2::bigint IS NULL OR i.scheduled_at + make_interval(mins => i.duration_minutes)"     \
    "      > to_timestamp($2::bigint / 1000.0))"                                                 \
    " AND ($3::bigint IS NULL OR i.scheduled_at < to_timestamp($3::bigint / 1000.0))"            \
    " AND ($4::text IS NULL OR i.client_id = $4) AND ($5::text IS NULL OR i.status = $5))"

/* The document's word for a status column (as bl_intervention_status_french). */
#define FRENCH_STATUS(col)                                                                      \
    "CASE " col " WHEN 'SCHEDULED' THEN 'planifie' WHEN 'EN_ROUTE' THEN 'en_route'"             \
    " WHEN 'IN_PROGRESS' THEN 'en_cours' WHEN 'ON_HOLD' THEN 'en_attente'"                     \
    " WHEN 'COMPLETED' THEN 'termine' ELSE 'annule' END"

#define UTC_TEXT(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const char list_sql[] =
    APPOINTMENTS ", page AS (SELECT * FROM a ORDER BY starts, intervention_id"
    " LIMIT $6::bigint OFFSET $7::bigint)"
    " SELECT json_build_object('total', (SELECT count(*) FROM a), 'rendez_vous',"
    " coalesce((SELECT json_agg(json_build_object('id', p.intervention_id,"
    " 'intervention_id', p.intervention_id, 'titre', p.title, 'client_id', p.client_id,"
    " 'client', p.client_name, 'date_debut', " UTC_TEXT("p.starts") ", 'date_fin', "
    UTC_TEXT("p.ends") ", 'duree_minutes', p.duration_minutes, 'technicien_assigné',"
    " p.technician, 'statut', " FRENCH_STATUS("p.status") ", 'lieu', p.lieu, 'conflits', coalesce(("
    "   SELECT json_agg(o.intervention_id ORDER BY o.scheduled_at, o.intervention_id)"
    "   FROM fieldservice_interventions o WHERE p.status <> 'CANCELLED'"
    "   AND o.organization_id = $1 AND o.technician_id = p.technician_id"
    "   AND o.intervention_id <> p.intervention_id AND o.deleted_at IS NULL"
    "   AND o.status <> 'CANCELLED' AND o.scheduled_at < p.ends"
    "   AND o.scheduled_at + make_interval(mins => o.duration_minutes) > p.starts),"
    "   '[]'::json)) ORDER BY p.starts, p.intervention_id) FROM page p), '[]'::json))::text";

static const char calendar_sql[] =
    APPOINTMENTS " SELECT coalesce(json_agg(json_build_object('id', e.intervention_id,"
    " 'title', e.title, 'start', " UTC_TEXT("e.starts") ", 'end', " UTC_TEXT("e.ends") ","
    " 'color', CASE e.status WHEN 'SCHEDULED' THEN '#3b82f6' WHEN 'EN_ROUTE' THEN '#8b5cf6'"
    " WHEN 'IN_PROGRESS' THEN '#f59e0b' WHEN 'ON_HOLD' THEN '#6b7280'"
    " WHEN 'COMPLETED' THEN '#10b981' ELSE '#ef4444' END,"
    " 'client', e.client_name, 'intervention_id', e.intervention_id)"
    " ORDER BY e.starts, e.intervention_id), '[]'::json)::text"
    " FROM (SELECT * FROM a ORDER BY starts, intervention_id LIMIT $6::bigint) e";

/* Runs sql with f's window and filters (+ extra params) and parses its one
 * JSON text. */
static json_t *run(PGconn *conn, const char *sql, const bl_fs_planning_filter *f,
                   const char *limit, const char *offset, bl_err *err)
{
    char from[24], to[24];
    snprintf(from, sizeof from, "%lld", (long long)f->from_ms);
    snprintf(to, sizeof to, "%lld", (long long)f->to_ms);
    const char *params[] = {f->organization_id, f->has_from ? from : NULL, f->has_to ? to : NULL,
                            f->client_id, f->status, limit, offset};
    PGresult *res = bl_pg_exec(conn, sql, offset ? 7 : 6, params, err);
    if (!res)
        return NULL;
    json_error_t jerr;
    json_t *out = PQntuples(res) == 1 ? json_loads(PQgetvalue(res, 0, 0), 0, &jerr) : NULL;
    PQclear(res);
    if (!out)
        bl_err_set(err, BL_EINVAL, "planning: unexpected query result");
    return out;
}

json_t *bl_fs_planning_list(PGconn *conn, const bl_fs_planning_filter *f, bl_err *err)
{
    long page = f->page > 0 ? f->page : 1, size = f->size > 0 ? f->size : 10;
    char limit[24], offset[24];
    snprintf(limit, sizeof limit, "%ld", size);
    snprintf(offset, sizeof offset, "%lld", (long long)(page - 1) * size);
    json_t *out = run(conn, list_sql, f, limit, offset, err);
    if (!out)
        return NULL;
    json_int_t total = json_integer_value(json_object_get(out, "total"));
    json_object_set_new(out, "page", json_integer(page));
    json_object_set_new(out, "size", json_integer(size));
    json_object_set_new(out, "pages", json_integer((total + size - 1) / size));
    return out;
}

json_t *bl_fs_planning_calendar(PGconn *conn, const bl_fs_planning_filter *f, bl_err *err)
{
    char limit[24];
    snprintf(limit, sizeof limit, "%d", BL_FS_CALENDAR_MAX);
    return run(conn, calendar_sql, f, limit, NULL, err);
}
