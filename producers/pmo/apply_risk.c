/* Risks: create, update (risk.escalated when the severity rises to HIGH or
 * CRITICAL), resolve, delete. */
#include "producers/pmo/internal.h"

#include "core/pg_pool.h"

#include <string.h>

static const char *const severity_symbols[] = {"LOW", "MEDIUM", "HIGH", "CRITICAL", NULL};

/* Position of a severity in severity_symbols (higher is worse), -1 if unknown. */
static int severity_rank(const char *s)
{
    for (int i = 0; s && severity_symbols[i]; i++)
        if (strcmp(severity_symbols[i], s) == 0)
            return i;
    return -1;
}

#define RISK_COLUMNS                                                                    \
    " r.risk_id, r.project_id, r.title, r.description, r.severity, r.probability,"     \
    " r.impact, r.mitigation, r.owner_id, r.status, r.resolution,"                    \
    " (SELECT name FROM pmo_projects p WHERE p.organization_id = r.organization_id"    \
    "  AND p.project_id = r.project_id) AS project_name"

/* The fields every risk event carries, from a row of RISK_COLUMNS. */
static json_t *risk_event_data(const PGresult *res)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "risk_id",
                     bl_col(res, "risk_id"), "project_id", bl_col(res, "project_id"),
                     "project_name", bl_col(res, "project_name"), "title", bl_col(res, "title"),
                     "description", bl_col(res, "description"), "severity",
                     bl_col(res, "severity"), "probability",
                     (json_int_t)bl_col_int(res, "probability"), "impact",
                     (json_int_t)bl_col_int(res, "impact"), "mitigation",
                     bl_col_json_str(res, "mitigation"));
}

static int risk_create(PGconn *conn, const bl_pmo_command *c, bl_pmo_events *out, bl_err *err)
{
    const char *id = NULL, *project = NULL, *title = NULL, *description = NULL, *severity = NULL,
               *mitigation = NULL, *owner = NULL;
    int64_t probability = 0, impact = 0;
    char probability_text[BL_FIELD_INT_TEXT_MAX], impact_text[BL_FIELD_INT_TEXT_MAX];
    if (bl_field_get_str(c, "risk_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "project_id", true, &project, err) < 0 ||
        bl_field_get_str(c, "title", true, &title, err) < 0 ||
        bl_field_get_str(c, "description", true, &description, err) < 0 ||
        bl_field_get_enum(c, "severity", true, severity_symbols, &severity, err) < 0 ||
        bl_field_get_int(c, "probability", true, 0, 100, &probability, probability_text, err) < 0 ||
        bl_field_get_int(c, "impact", true, 0, 100, &impact, impact_text, err) < 0 ||
        bl_field_get_str(c, "mitigation", false, &mitigation, err) < 0 ||
        bl_field_get_str(c, "owner_id", false, &owner, err) < 0)
        return -1;
    PGresult *proj = pmo_project_lookup(conn, c, project, err);
    if (!proj)
        return -1;
    PQclear(proj);
    const char *params[] = {c->organization_id, id, project, title, description, severity,
                            probability_text, impact_text, mitigation, owner};
    PGresult *res = bl_pg_exec(conn,
        "INSERT INTO pmo_risks AS r (organization_id, risk_id, project_id, title, description,"
        " severity, probability, impact, mitigation, owner_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING"
        " RETURNING" RISK_COLUMNS,
        10, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return bl_err_set(err, BL_ECONFLICT, "pmo: risk %s already exists", id);
    }
    json_t *data = bl_json_with(risk_event_data(res), "owner_id", bl_col_json_str(res, "owner_id"));
    PQclear(res);
    return bl_domain_events_add(out, "risk.created", id, data, err);
}

/* Locks the open risk id for update and returns its row; NULL with err:
 * BL_ENOTFOUND, or BL_ECONFLICT when it is already resolved. */
static PGresult *open_risk_for_update(PGconn *conn, const bl_pmo_command *c, const char *id,
                                      bl_err *err)
{
    const char *params[] = {c->organization_id, id};
    PGresult *res = bl_pg_exec(conn,
        "SELECT" RISK_COLUMNS " FROM pmo_risks r WHERE organization_id = $1 AND risk_id = $2"
        " FOR UPDATE",
        2, params, err);
    if (res && bl_require_row(res, "risk", id, err) != 0) {
        PQclear(res);
        return NULL;
    }
    if (res && strcmp(bl_col(res, "status"), "OPEN") != 0) {
        PQclear(res);
        bl_err_set(err, BL_ECONFLICT, "pmo: risk %s is already resolved", id);
        return NULL;
    }
    return res;
}

static int risk_update(PGconn *conn, const bl_pmo_command *c, bl_pmo_events *out, bl_err *err)
{
    const char *id = NULL, *title = NULL, *description = NULL, *severity = NULL,
               *mitigation = NULL, *owner = NULL;
    int64_t probability = 0, impact = 0;
    char probability_text[BL_FIELD_INT_TEXT_MAX], impact_text[BL_FIELD_INT_TEXT_MAX];
    int has_probability, has_impact;
    if (bl_field_get_str(c, "risk_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "title", false, &title, err) < 0 ||
        bl_field_get_str(c, "description", false, &description, err) < 0 ||
        bl_field_get_enum(c, "severity", false, severity_symbols, &severity, err) < 0 ||
        (has_probability = bl_field_get_int(c, "probability", false, 0, 100, &probability,
                                       probability_text, err)) < 0 ||
        (has_impact = bl_field_get_int(c, "impact", false, 0, 100, &impact, impact_text, err)) < 0 ||
        bl_field_get_str(c, "mitigation", false, &mitigation, err) < 0 ||
        bl_field_get_str(c, "owner_id", false, &owner, err) < 0)
        return -1;
    PGresult *old = open_risk_for_update(conn, c, id, err);
    if (!old)
        return -1;
    int previous_rank = severity_rank(bl_col(old, "severity"));
    json_t *previous = json_string(bl_col(old, "severity"));
    PQclear(old);
    const char *params[] = {c->organization_id, id, title, description, severity,
                            has_probability ? probability_text : NULL,
                            has_impact ? impact_text : NULL, mitigation, owner};
    PGresult *res = bl_pg_exec(conn,
        "UPDATE pmo_risks r SET title = coalesce($3, r.title),"
        " description = coalesce($4, r.description), severity = coalesce($5, r.severity),"
        " probability = coalesce($6::integer, r.probability),"
        " impact = coalesce($7::integer, r.impact), mitigation = coalesce($8, r.mitigation),"
        " owner_id = coalesce($9, r.owner_id), updated_at = now()"
        " WHERE organization_id = $1 AND risk_id = $2 RETURNING" RISK_COLUMNS,
        9, params, err);
    if (!res) {
        json_decref(previous);
        return -1;
    }
    int rc = 0;
    int rank = severity_rank(bl_col(res, "severity"));
    /* Only a rise that lands on HIGH or CRITICAL is an escalation. */
    if (rank > previous_rank && rank >= severity_rank("HIGH")) {
        json_t *data = bl_json_with(bl_json_with(risk_event_data(res), "previous_severity", json_incref(previous)),
                            "reason", json_null());
        rc = bl_domain_events_add(out, "risk.escalated", id, data, err);
    }
    json_decref(previous);
    PQclear(res);
    return rc;
}

static int risk_resolve(PGconn *conn, const bl_pmo_command *c, bl_pmo_events *out, bl_err *err)
{
    const char *id = NULL, *resolution = NULL;
    if (bl_field_get_str(c, "risk_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "resolution", true, &resolution, err) < 0)
        return -1;
    PGresult *old = open_risk_for_update(conn, c, id, err);
    if (!old)
        return -1;
    PQclear(old);
    char when[BL_FIELD_TIME_TEXT_MAX];
    bl_field_millis_text(c->time_ms, when);
    const char *params[] = {c->organization_id, id, resolution, when};
    PGresult *res = bl_pg_exec(conn,
        "UPDATE pmo_risks r SET status = 'RESOLVED', resolution = $3,"
        " resolved_at = $4::timestamptz, updated_at = now()"
        " WHERE organization_id = $1 AND risk_id = $2 RETURNING" RISK_COLUMNS,
        4, params, err);
    if (!res)
        return -1;
    json_t *data = bl_json_with(risk_event_data(res), "resolution", bl_col_json_str(res, "resolution"));
    PQclear(res);
    return bl_domain_events_add(out, "risk.resolved", id, data, err);
}

int pmo_apply_risk(PGconn *conn, const bl_pmo_command *c, const char *verb, bl_pmo_events *out,
                   bl_err *err)
{
    if (strcmp(verb, "create") == 0)
        return risk_create(conn, c, out, err);
    if (strcmp(verb, "update") == 0)
        return risk_update(conn, c, out, err);
    if (strcmp(verb, "resolve") == 0)
        return risk_resolve(conn, c, out, err);
    if (strcmp(verb, "delete") == 0)
        return pmo_delete_row(conn, c, "pmo_risks", "risk", err);
    return bl_err_set(err, BL_EINVAL, "pmo: unknown command type '%s'", c->type);
}
