/* Interventions: create, update, change_status (through the status machine
 * of status_machine.c), soft delete. */
#include "producers/fieldservice/internal.h"

#include "core/pg_pool.h"
#include "producers/fieldservice/status_machine.h"

#include <stdio.h>
#include <string.h>

#define INTERVENTION_COLUMNS                                                                    \
    "intervention_id, client_id, title, description, status, street, postal_code, city,"      \
    " country, technician_id, technician_name, duration_minutes, intervention_type,"           \
    " " BL_SQL_MS("scheduled_at") " AS scheduled_ms"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int intervention_create(PGconn *conn, const bl_domain_command *c, bl_domain_events *out,
                               bl_err *err)
{
    const char *id = NULL, *client = NULL, *title = NULL, *description = NULL, *tech = NULL;
    const char *kind = NULL, *addr[4] = {0};
    char when[BL_FIELD_TIME_TEXT_MAX], minutes[BL_FIELD_INT_TEXT_MAX] = "60";
    int64_t duration = 60;
    int has_when;
    if (bl_field_get_str(c, "intervention_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "client_id", true, &client, err) < 0 ||
        bl_field_get_int(c, "duration_minutes", false, 1, 1440, &duration, minutes, err) < 0 ||
        bl_field_get_str(c, "title", true, &title, err) < 0 ||
        bl_field_get_str(c, "description", false, &description, err) < 0 ||
        bl_field_get_str(c, "intervention_type", false, &kind, err) < 0 ||
        bl_field_get_str(c, "technician_id", false, &tech, err) < 0 ||
        fs_get_address(c, "site_address", true, addr, err) < 0 ||
        (has_when = bl_field_get_time(c, "scheduled_at", false, when, err)) < 0)
        return -1;
    const char *check[] = {c->organization_id, client};
    PGresult *res = bl_pg_exec(conn,
        "SELECT 1 FROM fieldservice_clients WHERE organization_id = $1 AND client_id = $2"
        " AND deleted_at IS NULL FOR SHARE", 2, check, err);
    if (!res || bl_require_row(res, "client", client, err) != 0) {
        PQclear(res);
        return -1;
    }
    PQclear(res);
    const char *params[] = {c->organization_id, id, client, title, description, addr[0], addr[1],
                            addr[2], addr[3], has_when ? when : NULL, tech, kind, minutes};
    res = bl_pg_exec(conn,
        "INSERT INTO fieldservice_interventions (organization_id, intervention_id, client_id,"
        " title, description, street, postal_code, city, country, scheduled_at, technician_id,"
        " intervention_type, duration_minutes)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::integer)"
        " ON CONFLICT DO NOTHING RETURNING " INTERVENTION_COLUMNS, 13, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return bl_err_set(err, BL_ECONFLICT, "fieldservice: intervention %s already exists", id);
    }
    json_t *data = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o}", "intervention_id", id,
                             "client_id", client, "title", title, "description",
                             str_or_null(description), "status", "SCHEDULED", "technician_id",
                             str_or_null(tech), "technician_name", json_null(), "site_address",
                             fs_address_json(res), "scheduled_at",
                             bl_col_json_int(res, "scheduled_ms"));
    data = bl_json_with(data, "duration_minutes", bl_col_json_int(res, "duration_minutes"));
    data = bl_json_with(data, "intervention_type", bl_col_json_str(res, "intervention_type"));
    PQclear(res);
    return bl_domain_events_add(out, "intervention.created", id, data, err);
}

static int intervention_update(PGconn *conn, const bl_domain_command *c, bl_domain_events *out,
                               bl_err *err)
{
    const char *id = NULL, *title = NULL, *description = NULL, *tech = NULL, *addr[4] = {0};
    const char *kind = NULL;
    char when[BL_FIELD_TIME_TEXT_MAX], minutes[BL_FIELD_INT_TEXT_MAX];
    int64_t duration = 0;
    int has_when, has_addr, has_duration;
    if (bl_field_get_str(c, "intervention_id", true, &id, err) < 0 ||
        (has_duration = bl_field_get_int(c, "duration_minutes", false, 1, 1440, &duration, minutes,
                                         err)) < 0 ||
        bl_field_get_str(c, "title", false, &title, err) < 0 ||
        bl_field_get_str(c, "description", false, &description, err) < 0 ||
        bl_field_get_str(c, "intervention_type", false, &kind, err) < 0 ||
        bl_field_get_str(c, "technician_id", false, &tech, err) < 0 ||
        (has_addr = fs_get_address(c, "site_address", false, addr, err)) < 0 ||
        (has_when = bl_field_get_time(c, "scheduled_at", false, when, err)) < 0)
        return -1;
    const char *params[] = {c->organization_id, id, title, description, addr[0], addr[1],
                            addr[2], addr[3], has_when ? when : NULL, tech, kind,
                            has_duration == 1 ? minutes : NULL};
    PGresult *res = bl_exec_one(conn,
        "UPDATE fieldservice_interventions SET title = COALESCE($3, title),"
        " description = COALESCE($4, description), street = COALESCE($5, street),"
        " postal_code = COALESCE($6, postal_code), city = COALESCE($7, city),"
        " country = COALESCE($8, country), scheduled_at = COALESCE($9::timestamptz, scheduled_at),"
        " technician_id = COALESCE($10, technician_id),"
        " intervention_type = COALESCE($11, intervention_type),"
        " duration_minutes = COALESCE($12::integer, duration_minutes), updated_at = now()"
        " WHERE organization_id = $1 AND intervention_id = $2 AND deleted_at IS NULL"
        " RETURNING " INTERVENTION_COLUMNS, 12, params, "intervention", id, err);
    if (!res)
        return -1;
    json_t *changed = json_array();
    const struct { const char *name; int given; } fields[] = {
        {"title", title != NULL},        {"description", description != NULL},
        {"technician_id", tech != NULL}, {"site_address", has_addr == 1},
        {"scheduled_at", has_when == 1}, {"intervention_type", kind != NULL},
        {"duration_minutes", has_duration == 1},
    };
    for (size_t i = 0; changed && i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i].given && json_array_append_new(changed, json_string(fields[i].name)) != 0) {
            json_decref(changed);
            changed = NULL;
        }
    }
    json_t *data = changed ? json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                                       "intervention_id", id, "client_id",
                                       bl_col(res, "client_id"), "title", str_or_null(title),
                                       "description", str_or_null(description), "technician_id",
                                       str_or_null(tech), "technician_name", json_null(),
                                       "site_address",
                                       has_addr == 1 ? fs_address_json(res) : json_null(),
                                       "scheduled_at",
                                       has_when == 1 ? bl_col_json_int(res, "scheduled_ms")
                                                     : json_null(),
                                       "changed_fields", changed)
                           : NULL;
    data = data ? bl_json_with(data, "intervention_type", str_or_null(kind)) : NULL;
    PQclear(res);
    return bl_domain_events_add(out, "intervention.updated", id, data, err);
}

/* Refuses an illegal move with the status machine's reason (BL_ECONFLICT:
 * the command goes to the DLQ with error_class conflict); the row stays. */
static int intervention_change_status(PGconn *conn, const bl_domain_command *c,
                                      bl_domain_events *out, bl_err *err)
{
    static const char *const symbols[] = {"SCHEDULED", "EN_ROUTE",  "IN_PROGRESS", "ON_HOLD",
                                          "COMPLETED", "CANCELLED", NULL};
    const char *id = NULL, *target = NULL, *note = NULL;
    if (bl_field_get_str(c, "intervention_id", true, &id, err) < 0 ||
        bl_field_get_enum(c, "status", true, symbols, &target, err) < 0 ||
        bl_field_get_str(c, "note", false, &note, err) < 0)
        return -1;
    const char *key[] = {c->organization_id, id};
    PGresult *res = bl_pg_exec(conn,
        "SELECT status FROM fieldservice_interventions WHERE organization_id = $1"
        " AND intervention_id = $2 AND deleted_at IS NULL FOR UPDATE", 2, key, err);
    if (!res || bl_require_row(res, "intervention", id, err) != 0) {
        PQclear(res);
        return -1;
    }
    bl_intervention_status from, to;
    int known = bl_intervention_status_parse(bl_col(res, "status"), &from) == 0 &&
                bl_intervention_status_parse(target, &to) == 0;
    PQclear(res);
    char reason[160];
    if (!known)
        return bl_err_set(err, BL_EINVAL, "%s: intervention %s: unknown status", c->type, id);
    if (!bl_intervention_transition_check(from, to, reason, sizeof reason))
        return bl_err_set(err, BL_ECONFLICT, "%s: %s: %s", c->type, id, reason);
    const char *params[] = {c->organization_id, id, target, note};
    res = bl_exec_one(conn,
        "UPDATE fieldservice_interventions SET status = $3, status_note = $4,"
        " status_changed_at = now(), updated_at = now()"
        " WHERE organization_id = $1 AND intervention_id = $2 RETURNING " INTERVENTION_COLUMNS,
        4, params, "intervention", id, err);
    if (!res)
        return -1;
    json_t *data = json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "intervention_id", id,
                             "client_id", bl_col_json_str(res, "client_id"), "previous_status",
                             bl_intervention_status_name(from), "status", target, "technician_id",
                             bl_col_json_str(res, "technician_id"), "technician_name",
                             bl_col_json_str(res, "technician_name"), "site_address",
                             fs_address_json(res), "scheduled_at",
                             bl_col_json_int(res, "scheduled_ms"), "note", str_or_null(note));
    PQclear(res);
    return bl_domain_events_add(out, "intervention.status_changed", id, data, err);
}

static int intervention_delete(PGconn *conn, const bl_domain_command *c, bl_domain_events *out,
                               bl_err *err)
{
    const char *id = NULL, *reason = NULL;
    if (bl_field_get_str(c, "intervention_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "reason", false, &reason, err) < 0)
        return -1;
    const char *params[] = {c->organization_id, id, reason};
    PGresult *res = bl_exec_one(conn,
        "UPDATE fieldservice_interventions SET deleted_at = now(), delete_reason = $3,"
        " updated_at = now() WHERE organization_id = $1 AND intervention_id = $2"
        " AND deleted_at IS NULL RETURNING client_id", 3, params, "intervention", id, err);
    if (!res)
        return -1;
    json_t *data = json_pack("{s:s, s:o, s:o}", "intervention_id", id, "client_id",
                             bl_col_json_str(res, "client_id"), "reason", str_or_null(reason));
    PQclear(res);
    return bl_domain_events_add(out, "intervention.deleted", id, data, err);
}

int fs_apply_intervention(PGconn *conn, const bl_domain_command *c, const char *verb,
                          bl_domain_events *out, bl_err *err)
{
    if (strcmp(verb, "create") == 0)
        return intervention_create(conn, c, out, err);
    if (strcmp(verb, "update") == 0)
        return intervention_update(conn, c, out, err);
    if (strcmp(verb, "change_status") == 0)
        return intervention_change_status(conn, c, out, err);
    if (strcmp(verb, "delete") == 0)
        return intervention_delete(conn, c, out, err);
    return bl_err_set(err, BL_EINVAL, "fieldservice: unknown command type '%s'", c->type);
}
