/* Dispatch of PMO commands to their aggregate, the derived-event list, and
 * the field and column helpers of internal.h. */
#include "producers/pmo/internal.h"

#include "core/pg_pool.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*apply_fn)(PGconn *, const bl_pmo_command *, const char *, bl_pmo_events *, bl_err *);

static const struct {
    const char *entity;
    apply_fn apply;
} aggregates[] = {
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
    if (!cmd->type || !cmd->organization_id || !*cmd->organization_id)
        return bl_err_set(err, BL_EINVAL, "pmo: command without type or organization_id");
    if (!json_is_object(cmd->data))
        return bl_err_set(err, BL_EINVAL, "pmo: %s: data is not an object", cmd->type);
    const char *dot = strchr(cmd->type, '.');
    size_t entity_len = dot ? (size_t)(dot - cmd->type) : 0;
    for (size_t i = 0; dot && i < sizeof aggregates / sizeof aggregates[0]; i++) {
        if (strlen(aggregates[i].entity) == entity_len &&
            strncmp(aggregates[i].entity, cmd->type, entity_len) == 0)
            return aggregates[i].apply(conn_in_tx, cmd, dot + 1, out, err);
    }
    return bl_err_set(err, BL_EINVAL, "pmo: unknown command type '%s'", cmd->type);
}

/* Looks data.<field> up: 1 present, 0 absent/null (error when required). */
static int field_lookup(const bl_pmo_command *c, const char *field, bool required,
                        json_t **out, bl_err *err)
{
    json_t *v = json_object_get(c->data, field);
    if (!v || json_is_null(v)) {
        if (required)
            return bl_err_set(err, BL_EINVAL, "pmo: %s: data.%s: missing", c->type, field);
        return 0;
    }
    *out = v;
    return 1;
}

static bool is_id_field(const char *field)
{
    size_t n = strlen(field);
    return n >= 3 && strcmp(field + n - 3, "_id") == 0;
}

int pmo_get_str(const bl_pmo_command *c, const char *field, bool required, const char **out,
                bl_err *err)
{
    json_t *v = NULL;
    int found = field_lookup(c, field, required, &v, err);
    if (found <= 0)
        return found;
    if (!json_is_string(v))
        return bl_err_set(err, BL_EINVAL, "pmo: %s: data.%s: must be a string", c->type, field);
    if (is_id_field(field) && json_string_length(v) == 0)
        return bl_err_set(err, BL_EINVAL, "pmo: %s: data.%s: must not be empty", c->type, field);
    *out = json_string_value(v);
    return 1;
}

int pmo_get_int(const bl_pmo_command *c, const char *field, bool required, int64_t min,
                int64_t max, int64_t *out, char text[PMO_INT_TEXT_MAX], bl_err *err)
{
    json_t *v = NULL;
    int found = field_lookup(c, field, required, &v, err);
    if (found <= 0)
        return found;
    if (!json_is_integer(v))
        return bl_err_set(err, BL_EINVAL, "pmo: %s: data.%s: must be an integer", c->type, field);
    int64_t n = (int64_t)json_integer_value(v);
    if (n < min || n > max)
        return bl_err_set(err, BL_EINVAL, "pmo: %s: data.%s: %" PRId64 " is not in %" PRId64
                          "..%" PRId64, c->type, field, n, min, max);
    *out = n;
    snprintf(text, PMO_INT_TEXT_MAX, "%" PRId64, n);
    return 1;
}

int pmo_get_enum(const bl_pmo_command *c, const char *field, bool required,
                 const char *const *symbols, const char **out, bl_err *err)
{
    const char *s = NULL;
    int found = pmo_get_str(c, field, required, &s, err);
    if (found <= 0)
        return found;
    for (size_t i = 0; symbols[i]; i++) {
        if (strcmp(symbols[i], s) == 0) {
            *out = symbols[i];
            return 1;
        }
    }
    return bl_err_set(err, BL_EINVAL, "pmo: %s: data.%s: '%s' is not a known symbol", c->type,
                      field, s);
}

void pmo_millis_text(int64_t ms, char text[PMO_TIME_TEXT_MAX])
{
    int64_t secs = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(text, PMO_TIME_TEXT_MAX, "invalid");
        return;
    }
    snprintf(text, PMO_TIME_TEXT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
}

int pmo_get_time(const bl_pmo_command *c, const char *field, bool required,
                 char text[PMO_TIME_TEXT_MAX], bl_err *err)
{
    json_t *v = NULL;
    int found = field_lookup(c, field, required, &v, err);
    if (found <= 0)
        return found;
    if (json_is_integer(v)) {
        pmo_millis_text((int64_t)json_integer_value(v), text);
        return 1;
    }
    /* PostgreSQL parses the text and refuses a bad one (SQLSTATE 22007). */
    if (json_is_string(v) && json_string_length(v) > 0 &&
        json_string_length(v) < PMO_TIME_TEXT_MAX) {
        memcpy(text, json_string_value(v), json_string_length(v) + 1);
        return 1;
    }
    return bl_err_set(err, BL_EINVAL, "pmo: %s: data.%s: must be a timestamp", c->type, field);
}

int pmo_require_row(const PGresult *res, const char *what, const char *id, bl_err *err)
{
    if (PQntuples(res) > 0)
        return 0;
    return bl_err_set(err, BL_ENOTFOUND, "pmo: %s %s not found", what, id);
}

PGresult *pmo_exec_one(PGconn *conn, const char *sql, int n, const char *const *params,
                       const char *what, const char *id, bl_err *err)
{
    PGresult *res = bl_pg_exec(conn, sql, n, params, err);
    if (!res)
        return NULL;
    const char *affected = PQcmdTuples(res);
    if (PQntuples(res) == 0 && (!*affected || strcmp(affected, "0") == 0)) {
        PQclear(res);
        bl_err_set(err, BL_ENOTFOUND, "pmo: %s %s not found", what, id);
        return NULL;
    }
    return res;
}

const char *pmo_col(const PGresult *res, const char *name)
{
    int col = PQfnumber(res, name);
    if (col < 0 || PQntuples(res) == 0 || PQgetisnull(res, 0, col))
        return NULL;
    return PQgetvalue(res, 0, col);
}

json_t *pmo_col_json_str(const PGresult *res, const char *name)
{
    const char *v = pmo_col(res, name);
    return v ? json_string(v) : json_null();
}

json_t *pmo_col_json_int(const PGresult *res, const char *name)
{
    const char *v = pmo_col(res, name);
    return v ? json_integer((json_int_t)strtoll(v, NULL, 10)) : json_null();
}

int64_t pmo_col_int(const PGresult *res, const char *name)
{
    const char *v = pmo_col(res, name);
    return v ? (int64_t)strtoll(v, NULL, 10) : 0;
}

PGresult *pmo_project_lookup(PGconn *conn, const bl_pmo_command *c, const char *project_id,
                             bl_err *err)
{
    const char *params[] = {c->organization_id, project_id};
    PGresult *res = bl_pg_exec(conn,
        "SELECT * FROM pmo_projects WHERE organization_id = $1 AND project_id = $2 FOR SHARE",
        2, params, err);
    if (res && pmo_require_row(res, "project", project_id, err) != 0) {
        PQclear(res);
        return NULL;
    }
    return res;
}

json_t *pmo_json_with(json_t *data, const char *key, json_t *value)
{
    if (!data || !value) {
        json_decref(data);
        json_decref(value);
        return NULL;
    }
    if (json_object_set_new(data, key, value) != 0) { /* value is released by jansson */
        json_decref(data);
        return NULL;
    }
    return data;
}

int pmo_delete_row(PGconn *conn, const bl_pmo_command *c, const char *table, const char *what,
                   bl_err *err)
{
    char field[64], sql[256];
    const char *id = NULL, *reason = NULL;
    snprintf(field, sizeof field, "%s_id", what);
    if (pmo_get_str(c, field, true, &id, err) < 0 ||
        pmo_get_str(c, "reason", false, &reason, err) < 0)
        return -1;
    /* table and field come from this file's callers, never from input. */
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE organization_id = $1 AND %s = $2", table, field);
    const char *params[] = {c->organization_id, id};
    PGresult *res = pmo_exec_one(conn, sql, 2, params, what, id, err);
    PQclear(res);
    return res ? 0 : -1;
}
