/* Resources (one allocation of a person to a project for a period): create,
 * update, delete; resource.overallocated when a change makes the person's
 * peak load within the changed allocation's period pass 100 % FTE. */
#include "producers/pmo/internal.h"

#include "core/pg_pool.h"

#include <string.h>

/* A person's peak load over a window [$3, $4) ($4 NULL: open-ended), from the
 * allocations active at each instant one of them starts. Open-ended periods
 * end at 9999-12-31 in the event (its period_end is required). Returns no
 * row when the person has no allocation in the window. */
static const char peak_load_sql[] =
    "WITH mine AS ("
    "  SELECT r.*, p.name AS project_name FROM pmo_resources r"
    "  JOIN pmo_projects p USING (organization_id, project_id)"
    "  WHERE r.organization_id = $1 AND r.person_id = $2"
    "  AND r.start_date < coalesce($4::timestamptz, 'infinity')"
    "  AND coalesce(r.end_date, 'infinity') > $3::timestamptz),"
    " points AS (SELECT DISTINCT greatest(start_date, $3::timestamptz) AS t FROM mine),"
    " peak AS ("
    "  SELECT pt.t, sum(m.allocation_pct) AS total FROM points pt JOIN mine m"
    "  ON m.start_date <= pt.t AND coalesce(m.end_date, 'infinity') > pt.t"
    "  GROUP BY pt.t ORDER BY total DESC, pt.t LIMIT 1)"
    " SELECT peak.total, " BL_SQL_MS("peak.t") " AS start_ms, " BL_SQL_MS(
        "least(coalesce((SELECT min(m.end_date) FROM mine m WHERE m.start_date <= peak.t"
        "  AND coalesce(m.end_date, 'infinity') > peak.t), '9999-12-31Z'),"
        " coalesce((SELECT min(m.start_date) FROM mine m WHERE m.start_date > peak.t),"
        "  '9999-12-31Z'))") " AS end_ms,"
    " (SELECT m.person_name FROM mine m ORDER BY m.updated_at DESC LIMIT 1) AS person_name,"
    " (SELECT json_agg(json_build_object('project_id', a.project_id, 'project_name',"
    "   a.project_name, 'allocation_pct', a.pct) ORDER BY a.project_id) FROM ("
    "   SELECT m.project_id, m.project_name, sum(m.allocation_pct)::integer AS pct FROM mine m"
    "   WHERE m.start_date <= peak.t AND coalesce(m.end_date, 'infinity') > peak.t"
    "   GROUP BY m.project_id, m.project_name) a) AS assignments"
    " FROM peak";

/* The peak load in percent of person over [start, end) (end may be NULL);
 * *res (may be NULL) keeps the row for the event. Returns the load (0 when
 * none), or -1 with err. */
static int64_t peak_load(PGconn *conn, const char *org, const char *person, const char *start,
                         const char *end, PGresult **res_out, bl_err *err)
{
    const char *params[] = {org, person, start, end};
    PGresult *res = bl_pg_exec(conn, peak_load_sql, 4, params, err);
    if (!res)
        return -1;
    int64_t total = bl_col_int(res, "total");
    if (res_out && PQntuples(res) > 0)
        *res_out = res;
    else
        PQclear(res);
    return total;
}

static json_t *overallocated_data(const PGresult *peak, const char *person, bl_err *err)
{
    json_error_t jerr;
    json_t *assignments = json_loads(bl_col(peak, "assignments"), 0, &jerr);
    if (!assignments) {
        bl_err_set(err, BL_EINVAL, "pmo: assignments of %s: %s", person, jerr.text);
        return NULL;
    }
    json_t *data = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "person_id", person, "person_name",
                             bl_col(peak, "person_name"), "allocation_pct",
                             (json_int_t)bl_col_int(peak, "total"), "period_start",
                             (json_int_t)bl_col_int(peak, "start_ms"), "period_end",
                             (json_int_t)bl_col_int(peak, "end_ms"), "assignments", assignments);
    if (!data)
        bl_err_set(err, BL_ENOMEM, "pmo: out of memory");
    return data;
}

/* Runs change (an INSERT or UPDATE of one resource of person) and appends
 * resource.overallocated to out when it makes the person's peak load over
 * [start, end) cross from at most 100 % to above it. */
static int change_and_check_load(PGconn *conn, const bl_pmo_command *c, const char *resource_id,
                                 const char *person, const char *start, const char *end,
                                 const char *change_sql, int nparams, const char *const *params,
                                 bl_pmo_events *out, bl_err *err)
{
    int64_t before = peak_load(conn, c->organization_id, person, start, end, NULL, err);
    if (before < 0)
        return -1;
    PGresult *res = bl_pg_exec(conn, change_sql, nparams, params, err);
    if (!res)
        return -1;
    int changed = PQntuples(res) > 0;
    PQclear(res);
    if (!changed)
        return bl_err_set(err, BL_ECONFLICT, "pmo: resource %s already exists", resource_id);
    PGresult *peak = NULL;
    int64_t after = peak_load(conn, c->organization_id, person, start, end, &peak, err);
    if (after < 0)
        return -1;
    int rc = 0;
    if (before <= 100 && after > 100) {
        json_t *data = overallocated_data(peak, person, err);
        rc = data ? bl_domain_events_add(out, "resource.overallocated", person, data, err) : -1;
    }
    PQclear(peak);
    return rc;
}

static int resource_create(PGconn *conn, const bl_pmo_command *c, bl_pmo_events *out, bl_err *err)
{
    const char *id = NULL, *person = NULL, *person_name = NULL, *project = NULL, *role = NULL;
    int64_t pct = 0;
    char pct_text[BL_FIELD_INT_TEXT_MAX], start[BL_FIELD_TIME_TEXT_MAX], end[BL_FIELD_TIME_TEXT_MAX];
    int has_end;
    if (bl_field_get_str(c, "resource_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "person_id", true, &person, err) < 0 ||
        bl_field_get_str(c, "person_name", true, &person_name, err) < 0 ||
        bl_field_get_str(c, "project_id", true, &project, err) < 0 ||
        bl_field_get_int(c, "allocation_pct", true, 0, 1000, &pct, pct_text, err) < 0 ||
        bl_field_get_str(c, "role", false, &role, err) < 0 ||
        bl_field_get_time(c, "start_date", true, start, err) < 0 ||
        (has_end = bl_field_get_time(c, "end_date", false, end, err)) < 0)
        return -1;
    PGresult *proj = pmo_project_lookup(conn, c, project, err);
    if (!proj)
        return -1;
    PQclear(proj);
    const char *params[] = {c->organization_id, id, person, person_name, project, pct_text, role,
                            start, has_end ? end : NULL};
    return change_and_check_load(conn, c, id, person, start, has_end ? end : NULL,
        "INSERT INTO pmo_resources (organization_id, resource_id, person_id, person_name,"
        " project_id, allocation_pct, role, start_date, end_date)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz)"
        " ON CONFLICT DO NOTHING RETURNING resource_id",
        9, params, out, err);
}

static int resource_update(PGconn *conn, const bl_pmo_command *c, bl_pmo_events *out, bl_err *err)
{
    const char *id = NULL, *role = NULL;
    int64_t pct = 0;
    char pct_text[BL_FIELD_INT_TEXT_MAX], start[BL_FIELD_TIME_TEXT_MAX], end[BL_FIELD_TIME_TEXT_MAX];
    int has_pct, has_start, has_end;
    if (bl_field_get_str(c, "resource_id", true, &id, err) < 0 ||
        (has_pct = bl_field_get_int(c, "allocation_pct", false, 0, 1000, &pct, pct_text, err)) < 0 ||
        bl_field_get_str(c, "role", false, &role, err) < 0 ||
        (has_start = bl_field_get_time(c, "start_date", false, start, err)) < 0 ||
        (has_end = bl_field_get_time(c, "end_date", false, end, err)) < 0)
        return -1;
    const char *lookup[] = {c->organization_id, id};
    PGresult *old = bl_pg_exec(conn,
        "SELECT person_id, start_date, end_date FROM pmo_resources"
        " WHERE organization_id = $1 AND resource_id = $2 FOR UPDATE",
        2, lookup, err);
    if (!old)
        return -1;
    int rc = bl_require_row(old, "resource", id, err);
    if (rc == 0) {
        /* The window checked is the allocation's period after the change. */
        const char *win_start = has_start ? start : bl_col(old, "start_date");
        const char *win_end = has_end ? end : bl_col(old, "end_date");
        const char *params[] = {c->organization_id, id, has_pct ? pct_text : NULL, role,
                                win_start, win_end};
        rc = change_and_check_load(conn, c, id, bl_col(old, "person_id"), win_start, win_end,
            "UPDATE pmo_resources r SET allocation_pct = coalesce($3::integer, r.allocation_pct),"
            " role = coalesce($4, r.role), start_date = $5::timestamptz,"
            " end_date = $6::timestamptz, updated_at = now()"
            " WHERE organization_id = $1 AND resource_id = $2 RETURNING resource_id",
            6, params, out, err);
    }
    PQclear(old);
    return rc;
}

int pmo_apply_resource(PGconn *conn, const bl_pmo_command *c, const char *verb,
                       bl_pmo_events *out, bl_err *err)
{
    if (strcmp(verb, "create") == 0)
        return resource_create(conn, c, out, err);
    if (strcmp(verb, "update") == 0)
        return resource_update(conn, c, out, err);
    if (strcmp(verb, "delete") == 0)
        return pmo_delete_row(conn, c, "pmo_resources", "resource", err);
    return bl_err_set(err, BL_EINVAL, "pmo: unknown command type '%s'", c->type);
}
