/* Decisions: create (decision.created), update, approve / reject
 * (decision.approved / decision.rejected; only a pending decision), delete. */
#include "producers/pmo/internal.h"

#include "core/pg_pool.h"

#include <string.h>

#define DECISION_COLUMNS                                                                   \
    " decision_id, project_id, title, description, decision_maker, status, rationale, "    \
    BL_SQL_MS("due_at") " AS due_ms, " BL_SQL_MS("decided_at") " AS decided_ms"

static json_t *decision_event_data(const PGresult *res)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "decision_id", bl_col(res, "decision_id"),
                     "project_id", bl_col(res, "project_id"), "title", bl_col(res, "title"),
                     "description", bl_col(res, "description"), "decision_maker",
                     bl_col(res, "decision_maker"));
}

static int decision_create(PGconn *conn, const bl_pmo_command *c, bl_pmo_events *out, bl_err *err)
{
    const char *id = NULL, *project = NULL, *title = NULL, *description = NULL, *maker = NULL;
    char due[BL_FIELD_TIME_TEXT_MAX];
    int has_due;
    if (bl_field_get_str(c, "decision_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "project_id", true, &project, err) < 0 ||
        bl_field_get_str(c, "title", true, &title, err) < 0 ||
        bl_field_get_str(c, "description", true, &description, err) < 0 ||
        bl_field_get_str(c, "decision_maker", true, &maker, err) < 0 ||
        (has_due = bl_field_get_time(c, "due_at", false, due, err)) < 0)
        return -1;
    PGresult *proj = pmo_project_lookup(conn, c, project, err);
    if (!proj)
        return -1;
    PQclear(proj);
    const char *params[] = {c->organization_id, id, project, title, description, maker,
                            has_due ? due : NULL};
    PGresult *res = bl_pg_exec(conn,
        "INSERT INTO pmo_decisions (organization_id, decision_id, project_id, title, description,"
        " decision_maker, due_at) VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz)"
        " ON CONFLICT DO NOTHING RETURNING" DECISION_COLUMNS,
        7, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return bl_err_set(err, BL_ECONFLICT, "pmo: decision %s already exists", id);
    }
    json_t *data = bl_json_with(bl_json_with(decision_event_data(res), "rationale", json_null()),
                                 "due_at", bl_col_json_int(res, "due_ms"));
    PQclear(res);
    return bl_domain_events_add(out, "decision.created", id, data, err);
}

/* Locks the pending decision id; NULL with err: BL_ENOTFOUND, or
 * BL_ECONFLICT when it was already decided. */
static int lock_pending_decision(PGconn *conn, const bl_pmo_command *c, const char *id, bl_err *err)
{
    const char *params[] = {c->organization_id, id};
    PGresult *res = bl_pg_exec(conn,
        "SELECT status FROM pmo_decisions WHERE organization_id = $1 AND decision_id = $2"
        " FOR UPDATE",
        2, params, err);
    if (!res)
        return -1;
    int rc = bl_require_row(res, "decision", id, err);
    if (rc == 0 && strcmp(bl_col(res, "status"), "PENDING") != 0)
        rc = bl_err_set(err, BL_ECONFLICT, "pmo: decision %s is already %s", id,
                        bl_col(res, "status"));
    PQclear(res);
    return rc;
}

static int decision_update(PGconn *conn, const bl_pmo_command *c, bl_err *err)
{
    const char *id = NULL, *title = NULL, *description = NULL, *maker = NULL;
    char due[BL_FIELD_TIME_TEXT_MAX];
    int has_due;
    if (bl_field_get_str(c, "decision_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "title", false, &title, err) < 0 ||
        bl_field_get_str(c, "description", false, &description, err) < 0 ||
        bl_field_get_str(c, "decision_maker", false, &maker, err) < 0 ||
        (has_due = bl_field_get_time(c, "due_at", false, due, err)) < 0)
        return -1;
    if (lock_pending_decision(conn, c, id, err) != 0)
        return -1;
    const char *params[] = {c->organization_id, id, title, description, maker,
                            has_due ? due : NULL};
    return bl_pg_exec_cmd(conn,
        "UPDATE pmo_decisions d SET title = coalesce($3, d.title),"
        " description = coalesce($4, d.description),"
        " decision_maker = coalesce($5, d.decision_maker),"
        " due_at = coalesce($6::timestamptz, d.due_at), updated_at = now()"
        " WHERE organization_id = $1 AND decision_id = $2",
        6, params, err);
}

/* Approves or rejects (status "APPROVED" / "REJECTED") a pending decision. */
static int decision_decide(PGconn *conn, const bl_pmo_command *c, const char *status,
                           const char *event_type, bl_pmo_events *out, bl_err *err)
{
    const char *id = NULL, *rationale = NULL;
    if (bl_field_get_str(c, "decision_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "rationale", true, &rationale, err) < 0)
        return -1;
    if (lock_pending_decision(conn, c, id, err) != 0)
        return -1;
    char when[BL_FIELD_TIME_TEXT_MAX];
    bl_field_millis_text(c->time_ms, when);
    const char *params[] = {c->organization_id, id, status, rationale, when};
    PGresult *res = bl_pg_exec(conn,
        "UPDATE pmo_decisions SET status = $3, rationale = $4, decided_at = $5::timestamptz,"
        " updated_at = now() WHERE organization_id = $1 AND decision_id = $2"
        " RETURNING" DECISION_COLUMNS,
        5, params, err);
    if (!res)
        return -1;
    json_t *data = bl_json_with(bl_json_with(decision_event_data(res), "rationale",
                                               json_string(rationale)),
                                 "decided_at", bl_col_json_int(res, "decided_ms"));
    PQclear(res);
    return bl_domain_events_add(out, event_type, id, data, err);
}

int pmo_apply_decision(PGconn *conn, const bl_pmo_command *c, const char *verb,
                       bl_pmo_events *out, bl_err *err)
{
    if (strcmp(verb, "create") == 0)
        return decision_create(conn, c, out, err);
    if (strcmp(verb, "update") == 0)
        return decision_update(conn, c, err);
    if (strcmp(verb, "approve") == 0)
        return decision_decide(conn, c, "APPROVED", "decision.approved", out, err);
    if (strcmp(verb, "reject") == 0)
        return decision_decide(conn, c, "REJECTED", "decision.rejected", out, err);
    if (strcmp(verb, "delete") == 0)
        return pmo_delete_row(conn, c, "pmo_decisions", "decision", err);
    return bl_err_set(err, BL_EINVAL, "pmo: unknown command type '%s'", c->type);
}
