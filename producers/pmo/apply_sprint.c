/* Sprints: create, update (sprint.completed the first time completed points
 * are given, then sprint.velocity_drop when its velocity is at least
 * BL_PMO_VELOCITY_DROP_PCT below the average of the project's earlier
 * completed sprints), delete. */
#include "producers/pmo/internal.h"

#include "core/pg_pool.h"

#include <string.h>

static int sprint_create(PGconn *conn, const bl_pmo_command *c, bl_err *err)
{
    const char *id = NULL, *project = NULL, *name = NULL;
    int64_t committed = 0;
    char committed_text[BL_FIELD_INT_TEXT_MAX], starts[BL_FIELD_TIME_TEXT_MAX], ends[BL_FIELD_TIME_TEXT_MAX];
    if (bl_field_get_str(c, "sprint_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "project_id", true, &project, err) < 0 ||
        bl_field_get_str(c, "name", true, &name, err) < 0 ||
        bl_field_get_time(c, "starts_at", true, starts, err) < 0 ||
        bl_field_get_time(c, "ends_at", true, ends, err) < 0 ||
        bl_field_get_int(c, "committed_points", true, 0, INT32_MAX, &committed, committed_text, err) < 0)
        return -1;
    PGresult *proj = pmo_project_lookup(conn, c, project, err);
    if (!proj)
        return -1;
    PQclear(proj);
    const char *params[] = {c->organization_id, id, project, name, starts, ends, committed_text};
    PGresult *res = bl_pg_exec(conn,
        "INSERT INTO pmo_sprints (organization_id, sprint_id, project_id, name, starts_at,"
        " ends_at, committed_points) VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz, $7)"
        " ON CONFLICT DO NOTHING RETURNING sprint_id",
        7, params, err);
    if (!res)
        return -1;
    int created = PQntuples(res) > 0;
    PQclear(res);
    return created ? 0 : bl_err_set(err, BL_ECONFLICT, "pmo: sprint %s already exists", id);
}

/* Appends sprint.velocity_drop when the just completed sprint (row of res)
 * fell far enough below the average of the project's earlier sprints. */
static int check_velocity_drop(PGconn *conn, const bl_pmo_command *c, const PGresult *sprint,
                               bl_pmo_events *out, bl_err *err)
{
    const char *id = bl_col(sprint, "sprint_id");
    const char *params[] = {c->organization_id, bl_col(sprint, "project_id"), id,
                            bl_col(sprint, "starts_at")};
    PGresult *res = bl_pg_exec(conn,
        "SELECT count(*) AS n, coalesce(sum(completed_points), 0) AS total FROM pmo_sprints"
        " WHERE organization_id = $1 AND project_id = $2 AND sprint_id <> $3"
        " AND completed_points IS NOT NULL AND starts_at < $4::timestamptz",
        4, params, err);
    if (!res)
        return -1;
    int64_t n = bl_col_int(res, "n"), total = bl_col_int(res, "total");
    int64_t velocity = bl_col_int(sprint, "completed_points");
    PQclear(res);
    /* velocity <= average * (100 - drop) / 100, in integers so the threshold is exact. */
    if (n == 0 || total == 0 || velocity * n * 100 > total * (100 - BL_PMO_VELOCITY_DROP_PCT))
        return 0;
    double average = (double)total / (double)n;
    double drop_pct = (average - (double)velocity) * 100.0 / average;
    json_t *data = json_pack("{s:s, s:s, s:I, s:f, s:f, s:I}", "sprint_id", id, "project_id",
                             bl_col(sprint, "project_id"), "velocity", (json_int_t)velocity,
                             "average_velocity", average, "drop_pct", drop_pct, "window_sprints",
                             (json_int_t)n);
    return bl_domain_events_add(out, "sprint.velocity_drop", id, data, err);
}

static int sprint_update(PGconn *conn, const bl_pmo_command *c, bl_pmo_events *out, bl_err *err)
{
    const char *id = NULL, *name = NULL;
    int64_t committed = 0, completed = 0;
    char committed_text[BL_FIELD_INT_TEXT_MAX], completed_text[BL_FIELD_INT_TEXT_MAX];
    char starts[BL_FIELD_TIME_TEXT_MAX], ends[BL_FIELD_TIME_TEXT_MAX], when[BL_FIELD_TIME_TEXT_MAX];
    int has_committed, has_completed, has_starts, has_ends;
    if (bl_field_get_str(c, "sprint_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "name", false, &name, err) < 0 ||
        (has_starts = bl_field_get_time(c, "starts_at", false, starts, err)) < 0 ||
        (has_ends = bl_field_get_time(c, "ends_at", false, ends, err)) < 0 ||
        (has_committed = bl_field_get_int(c, "committed_points", false, 0, INT32_MAX, &committed,
                                     committed_text, err)) < 0 ||
        (has_completed = bl_field_get_int(c, "completed_points", false, 0, INT32_MAX, &completed,
                                     completed_text, err)) < 0)
        return -1;
    bl_field_millis_text(c->time_ms, when);
    const char *params[] = {c->organization_id, id, name, has_starts ? starts : NULL,
                            has_ends ? ends : NULL, has_committed ? committed_text : NULL,
                            has_completed ? completed_text : NULL, when};
    PGresult *res = bl_exec_one(conn,
        "WITH old AS (SELECT * FROM pmo_sprints WHERE organization_id = $1 AND sprint_id = $2"
        " FOR UPDATE)"
        " UPDATE pmo_sprints s SET name = coalesce($3, s.name),"
        " starts_at = coalesce($4::timestamptz, s.starts_at),"
        " ends_at = coalesce($5::timestamptz, s.ends_at),"
        " committed_points = coalesce($6::integer, s.committed_points),"
        " completed_points = coalesce($7::integer, s.completed_points),"
        " completed_at = CASE WHEN $7::integer IS NOT NULL THEN coalesce(s.completed_at,"
        " $8::timestamptz) ELSE s.completed_at END, updated_at = now()"
        " FROM old WHERE s.organization_id = old.organization_id AND s.sprint_id = old.sprint_id"
        " RETURNING s.sprint_id, s.project_id, s.name, s.committed_points, s.completed_points,"
        " s.starts_at, " BL_SQL_MS("s.starts_at") " AS starts_ms, " BL_SQL_MS("s.ends_at") " AS ends_ms,"
        " old.completed_at IS NULL AND s.completed_at IS NOT NULL AS just_completed",
        8, params, "sprint", id, err);
    if (!res)
        return -1;
    int rc = 0;
    if (strcmp(bl_col(res, "just_completed"), "t") == 0) {
        int64_t velocity = bl_col_int(res, "completed_points");
        json_t *data = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "sprint_id", id,
                                 "project_id", bl_col(res, "project_id"), "name",
                                 bl_col(res, "name"), "velocity", (json_int_t)velocity,
                                 "committed_points", (json_int_t)bl_col_int(res, "committed_points"),
                                 "completed_points", (json_int_t)velocity, "started_at",
                                 (json_int_t)bl_col_int(res, "starts_ms"), "ended_at",
                                 (json_int_t)bl_col_int(res, "ends_ms"));
        rc = bl_domain_events_add(out, "sprint.completed", id, data, err);
        if (rc == 0)
            rc = check_velocity_drop(conn, c, res, out, err);
    }
    PQclear(res);
    return rc;
}

int pmo_apply_sprint(PGconn *conn, const bl_pmo_command *c, const char *verb, bl_pmo_events *out,
                     bl_err *err)
{
    if (strcmp(verb, "create") == 0)
        return sprint_create(conn, c, err);
    if (strcmp(verb, "update") == 0)
        return sprint_update(conn, c, out, err);
    if (strcmp(verb, "delete") == 0)
        return pmo_delete_row(conn, c, "pmo_sprints", "sprint", err);
    return bl_err_set(err, BL_EINVAL, "pmo: unknown command type '%s'", c->type);
}
