/* Projects: create, update (project.updated for changed attributes,
 * project.status_changed when the RAG status changes), delete. */
#include "producers/pmo/internal.h"

#include "core/pg_pool.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const rag_symbols[] = {"GREEN", "YELLOW", "RED", NULL};

static const char *const phase_symbols[] = {"PLANNED", "IN_PROGRESS", "ON_HOLD", "COMPLETED", "CANCELLED", NULL};

/* The budget in cents: budget_cents, else the document's budget in currency
 * units rounded to the cent, else 0. Returns 1 when one of them was given,
 * 0 when neither was, or -1 with err. */
static int budget_cents_of(const bl_pmo_command *c, int64_t *cents, char text[BL_FIELD_INT_TEXT_MAX], bl_err *err)
{
    int found = bl_field_get_int(c, "budget_cents", false, 0, INT64_MAX, cents, text, err);
    if (found != 0)
        return found;
    const json_t *units = json_object_get(c->data, "budget");
    *cents = 0;
    if (units && !json_is_null(units)) {
        double v = json_number_value(units);
        /* 9e13 units keeps the cents exact in a double and inside int64 */
        if (!json_is_number(units) || !isfinite(v) || v < 0 || v > 9e13)
            return bl_err_set(err, BL_EINVAL, "%s: data.budget: must be a number from 0 to 9e13", c->type);
        *cents = llround(v * 100.0);
        found = 1;
    }
    snprintf(text, BL_FIELD_INT_TEXT_MAX, "%" PRId64, *cents);
    return found;
}

static int project_create(PGconn *conn, const bl_pmo_command *c, bl_pmo_events *out, bl_err *err)
{
    const char *id = NULL, *name = NULL, *description = NULL, *owner = c->actor, *currency = "EUR";
    const char *phase = "PLANNED", *rag = "GREEN";
    int64_t budget = 0;
    char budget_text[BL_FIELD_INT_TEXT_MAX], start[BL_FIELD_TIME_TEXT_MAX], end[BL_FIELD_TIME_TEXT_MAX];
    int has_start, has_end;
    if (bl_field_get_str(c, "project_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "name", true, &name, err) < 0 ||
        bl_field_get_str(c, "description", false, &description, err) < 0 ||
        bl_field_get_str(c, "owner_id", false, &owner, err) < 0 ||
        budget_cents_of(c, &budget, budget_text, err) < 0 ||
        bl_field_get_str(c, "currency", false, &currency, err) < 0 ||
        bl_field_get_enum(c, "status", false, phase_symbols, &phase, err) < 0 ||
        bl_field_get_enum(c, "rag_status", false, rag_symbols, &rag, err) < 0 ||
        (has_start = bl_field_get_time(c, "start_date", false, start, err)) < 0 ||
        (has_end = bl_field_get_time(c, "end_date", false, end, err)) < 0)
        return -1;
    if (!owner || !*owner)
        return bl_err_set(err, BL_EINVAL, "%s: data.owner_id: missing, and the command names no actor", c->type);
    const char *params[] = {c->organization_id, id, name, description, owner, budget_text,
                            currency, has_start ? start : NULL, has_end ? end : NULL, phase, rag};
    PGresult *res = bl_pg_exec(conn,
        "INSERT INTO pmo_projects (organization_id, project_id, name, description, owner_id,"
        " budget_cents, currency, start_date, end_date, phase, status)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz, $10, $11)"
        " ON CONFLICT DO NOTHING"
        " RETURNING status, " BL_SQL_MS("start_date") " AS start_ms, " BL_SQL_MS("end_date") " AS end_ms",
        11, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return bl_err_set(err, BL_ECONFLICT, "pmo: project %s already exists", id);
    }
    json_t *data = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:I, s:s, s:o, s:o}", "project_id", id,
                             "name", name, "description", description, "owner_id", owner,
                             "status", bl_col(res, "status"), "budget_cents", (json_int_t)budget,
                             "currency", currency, "start_date", bl_col_json_int(res, "start_ms"),
                             "end_date", bl_col_json_int(res, "end_ms"));
    PQclear(res);
    return bl_domain_events_add(out, "project.created", id, data, err);
}

/* The attributes that project.updated reports, with their result columns. */
static const struct {
    const char *field;
    bool is_int;
} updated_attrs[] = {
    {"name", false},        {"description", false}, {"owner_id", false},
    {"budget_cents", true}, {"currency", false},    {"start_date", true},
    {"end_date", true},
};

static json_t *project_updated_data(const PGresult *res, const char *id)
{
    json_t *data = json_pack("{s:s}", "project_id", id);
    json_t *changed = json_array();
    if (!data || !changed)
        goto fail;
    for (size_t i = 0; i < sizeof updated_attrs / sizeof updated_attrs[0]; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "%s_changed", updated_attrs[i].field);
        const char *f = updated_attrs[i].field;
        bool did = strcmp(bl_col(res, flag), "t") == 0;
        json_t *v = !did ? json_null()
                    : updated_attrs[i].is_int ? bl_col_json_int(res, f)
                                              : bl_col_json_str(res, f);
        if (json_object_set_new(data, f, v) != 0 || (did && json_array_append_new(changed, json_string(f)) != 0))
            goto fail;
    }
    if (strcmp(bl_col(res, "progress_changed"), "t") == 0 &&
        json_array_append_new(changed, json_string("progress")) != 0)
        goto fail;
    if (json_array_size(changed) == 0) {
        json_decref(changed);
        json_decref(data);
        return json_null(); /* nothing to report */
    }
    if (json_object_set_new(data, "changed_fields", changed) != 0) {
        json_decref(data);
        return NULL;
    }
    return data;
fail:
    json_decref(changed);
    json_decref(data);
    return NULL;
}

static json_t *status_changed_data(const PGresult *res, const char *id)
{
    int64_t budget = bl_col_int(res, "budget_cents"), spent = bl_col_int(res, "spent_cents");
    double consumed = budget > 0 ? (double)spent * 100.0 / (double)budget : 0.0;
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:f, s:n}", "project_id", id,
                     "project_name", bl_col(res, "name"), "previous_status",
                     bl_col(res, "old_status"), "new_status", bl_col(res, "status"),
                     "progress", (json_int_t)bl_col_int(res, "progress"), "budget_cents",
                     (json_int_t)budget, "spent_cents", (json_int_t)spent, "currency",
                     bl_col(res, "currency"), "budget_consumed_pct", consumed, "reason");
}

static int project_update(PGconn *conn, const bl_pmo_command *c, bl_pmo_events *out, bl_err *err)
{
    const char *id = NULL, *name = NULL, *description = NULL, *owner = NULL, *currency = NULL,
               *status = NULL;
    int64_t progress = 0, budget = 0;
    char progress_text[BL_FIELD_INT_TEXT_MAX], budget_text[BL_FIELD_INT_TEXT_MAX];
    char start[BL_FIELD_TIME_TEXT_MAX], end[BL_FIELD_TIME_TEXT_MAX];
    int has_progress, has_budget, has_start, has_end;
    if (bl_field_get_str(c, "project_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "name", false, &name, err) < 0 ||
        bl_field_get_str(c, "description", false, &description, err) < 0 ||
        bl_field_get_str(c, "owner_id", false, &owner, err) < 0 ||
        bl_field_get_enum(c, "status", false, rag_symbols, &status, err) < 0 ||
        (has_progress = bl_field_get_int(c, "progress", false, 0, 100, &progress, progress_text, err)) < 0 ||
        (has_budget = budget_cents_of(c, &budget, budget_text, err)) < 0 ||
        bl_field_get_str(c, "currency", false, &currency, err) < 0 ||
        (has_start = bl_field_get_time(c, "start_date", false, start, err)) < 0 ||
        (has_end = bl_field_get_time(c, "end_date", false, end, err)) < 0)
        return -1;
    const char *params[] = {c->organization_id, id, name, description, owner, status,
                            has_progress ? progress_text : NULL, has_budget ? budget_text : NULL,
                            currency, has_start ? start : NULL, has_end ? end : NULL};
    /* One statement updates and returns both sides, so "changed" is judged
     * by PostgreSQL on the stored values (timestamps included). */
    PGresult *res = bl_exec_one(conn,
        "WITH old AS (SELECT * FROM pmo_projects WHERE organization_id = $1 AND project_id = $2"
        " FOR UPDATE)"
        " UPDATE pmo_projects p SET name = coalesce($3, p.name),"
        " description = coalesce($4, p.description), owner_id = coalesce($5, p.owner_id),"
        " status = coalesce($6, p.status), progress = coalesce($7::integer, p.progress),"
        " budget_cents = coalesce($8::bigint, p.budget_cents), currency = coalesce($9, p.currency),"
        " start_date = coalesce($10::timestamptz, p.start_date),"
        " end_date = coalesce($11::timestamptz, p.end_date), updated_at = now()"
        " FROM old WHERE p.organization_id = old.organization_id AND p.project_id = old.project_id"
        " RETURNING p.name, p.description, p.owner_id, p.status, p.progress, p.budget_cents,"
        " p.spent_cents, p.currency, " BL_SQL_MS("p.start_date") " AS start_date, "
        BL_SQL_MS("p.end_date") " AS end_date, old.status AS old_status,"
        " p.name IS DISTINCT FROM old.name AS name_changed,"
        " p.description IS DISTINCT FROM old.description AS description_changed,"
        " p.owner_id IS DISTINCT FROM old.owner_id AS owner_id_changed,"
        " p.budget_cents IS DISTINCT FROM old.budget_cents AS budget_cents_changed,"
        " p.currency IS DISTINCT FROM old.currency AS currency_changed,"
        " p.start_date IS DISTINCT FROM old.start_date AS start_date_changed,"
        " p.end_date IS DISTINCT FROM old.end_date AS end_date_changed,"
        " p.progress IS DISTINCT FROM old.progress AS progress_changed",
        11, params, "project", id, err);
    if (!res)
        return -1;
    int rc = 0;
    json_t *updated = project_updated_data(res, id);
    if (!updated)
        rc = bl_err_set(err, BL_ENOMEM, "pmo: out of memory");
    else if (json_is_null(updated))
        json_decref(updated);
    else
        rc = bl_domain_events_add(out, "project.updated", id, updated, err);
    if (rc == 0 && strcmp(bl_col(res, "status"), bl_col(res, "old_status")) != 0)
        rc = bl_domain_events_add(out, "project.status_changed", id, status_changed_data(res, id), err);
    PQclear(res);
    return rc;
}

static int project_delete(PGconn *conn, const bl_pmo_command *c, bl_pmo_events *out, bl_err *err)
{
    const char *id = NULL, *reason = NULL;
    if (bl_field_get_str(c, "project_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "reason", false, &reason, err) < 0)
        return -1;
    const char *params[] = {c->organization_id, id};
    PGresult *res = bl_exec_one(conn,
        "DELETE FROM pmo_projects WHERE organization_id = $1 AND project_id = $2 RETURNING name",
        2, params, "project", id, err);
    if (!res)
        return -1;
    json_t *data = json_pack("{s:s, s:s, s:s?, s:s?}", "project_id", id, "name",
                             bl_col(res, "name"), "deleted_by", c->actor, "reason", reason);
    PQclear(res);
    return bl_domain_events_add(out, "project.deleted", id, data, err);
}

int pmo_apply_project(PGconn *conn, const bl_pmo_command *c, const char *verb, bl_pmo_events *out,
                      bl_err *err)
{
    if (strcmp(verb, "create") == 0)
        return project_create(conn, c, out, err);
    if (strcmp(verb, "update") == 0)
        return project_update(conn, c, out, err);
    if (strcmp(verb, "delete") == 0)
        return project_delete(conn, c, out, err);
    return bl_err_set(err, BL_EINVAL, "pmo: unknown command type '%s'", c->type);
}
