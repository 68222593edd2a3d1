/* Dispatch of PMO commands to their aggregate, the derived-event list, and
 * the field and column helpers of internal.h. */
#include "producers/pmo/internal.h"

#include "core/pg_pool.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const bl_domain_aggregate aggregates[] = {
    {"project", pmo_apply_project},   {"risk", pmo_apply_risk},
    {"decision", pmo_apply_decision}, {"resource", pmo_apply_resource},
    {"sprint", pmo_apply_sprint},     {"report", pmo_apply_report},
};

const bl_domain_rules bl_pmo_rules = {
    .domain = BL_PMO_DOMAIN,
    .processed_table = "pmo_processed_commands",
    .apply = bl_pmo_apply,
};

int bl_pmo_apply(PGconn *conn_in_tx, const bl_pmo_command *cmd, bl_pmo_events *out, bl_err *err)
{
    return bl_domain_dispatch(BL_PMO_DOMAIN, aggregates, sizeof aggregates / sizeof aggregates[0],
                              conn_in_tx, cmd, out, err);
}

PGresult *pmo_project_lookup(PGconn *conn, const bl_pmo_command *c, const char *project_id,
                             bl_err *err)
{
    const char *params[] = {c->organization_id, project_id};
    PGresult *res = bl_pg_exec(conn,
        "SELECT * FROM pmo_projects WHERE organization_id = $1 AND project_id = $2 FOR SHARE",
        2, params, err);
    if (res && bl_require_row(res, "project", project_id, err) != 0) {
        PQclear(res);
        return NULL;
    }
    return res;
}

int pmo_delete_row(PGconn *conn, const bl_pmo_command *c, const char *table, const char *what,
                   bl_err *err)
{
    char field[64], sql[256];
    const char *id = NULL, *reason = NULL;
    snprintf(field, sizeof field, "%s_id", what);
    if (bl_field_get_str(c, field, true, &id, err) < 0 ||
        bl_field_get_str(c, "reason", false, &reason, err) < 0)
        return -1;
    /* table and field come from this file's callers, never from input. */
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE organization_id = $1 AND %s = $2", table, field);
    const char *params[] = {c->organization_id, id};
    PGresult *res = bl_exec_one(conn, sql, 2, params, what, id, err);
    PQclear(res);
    return res ? 0 : -1;
}
