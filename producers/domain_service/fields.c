/* Reading a command's data fields with clear errors, and result columns
 * into JSON: what every domain's apply files share. */
#include "producers/domain_service/fields.h"

#include "core/pg_pool.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Looks data.<field> up: 1 present, 0 absent/null (error when required). */
static int field_lookup(const bl_domain_command *c, const char *field, bool required,
                        json_t **out, bl_err *err)
{
    json_t *v = json_object_get(c->data, field);
    if (!v || json_is_null(v)) {
        if (required)
            return bl_err_set(err, BL_EINVAL, "%s: data.%s: missing", c->type, field);
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

int bl_field_get_str(const bl_domain_command *c, const char *field, bool required, const char **out,
                bl_err *err)
{
    json_t *v = NULL;
    int found = field_lookup(c, field, required, &v, err);
    if (found <= 0)
        return found;
    if (!json_is_string(v))
        return bl_err_set(err, BL_EINVAL, "%s: data.%s: must be a string", c->type, field);
    if (is_id_field(field) && json_string_length(v) == 0)
        return bl_err_set(err, BL_EINVAL, "%s: data.%s: must not be empty", c->type, field);
    *out = json_string_value(v);
    return 1;
}

int bl_field_get_int(const bl_domain_command *c, const char *field, bool required, int64_t min,
                int64_t max, int64_t *out, char text[BL_FIELD_INT_TEXT_MAX], bl_err *err)
{
    json_t *v = NULL;
    int found = field_lookup(c, field, required, &v, err);
    if (found <= 0)
        return found;
    if (!json_is_integer(v))
        return bl_err_set(err, BL_EINVAL, "%s: data.%s: must be an integer", c->type, field);
    int64_t n = (int64_t)json_integer_value(v);
    if (n < min || n > max)
        return bl_err_set(err, BL_EINVAL, "%s: data.%s: %" PRId64 " is not in %" PRId64
                          "..%" PRId64, c->type, field, n, min, max);
    *out = n;
    snprintf(text, BL_FIELD_INT_TEXT_MAX, "%" PRId64, n);
    return 1;
}

int bl_field_get_enum(const bl_domain_command *c, const char *field, bool required,
                 const char *const *symbols, const char **out, bl_err *err)
{
    const char *s = NULL;
    int found = bl_field_get_str(c, field, required, &s, err);
    if (found <= 0)
        return found;
    for (size_t i = 0; symbols[i]; i++) {
        if (strcmp(symbols[i], s) == 0) {
            *out = symbols[i];
            return 1;
        }
    }
    return bl_err_set(err, BL_EINVAL, "%s: data.%s: '%s' is not a known symbol", c->type,
                      field, s);
}

void bl_field_millis_text(int64_t ms, char text[BL_FIELD_TIME_TEXT_MAX])
{
    int64_t secs = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(text, BL_FIELD_TIME_TEXT_MAX, "invalid");
        return;
    }
    snprintf(text, BL_FIELD_TIME_TEXT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
}

int bl_field_get_time(const bl_domain_command *c, const char *field, bool required,
                 char text[BL_FIELD_TIME_TEXT_MAX], bl_err *err)
{
    json_t *v = NULL;
    int found = field_lookup(c, field, required, &v, err);
    if (found <= 0)
        return found;
    if (json_is_integer(v)) {
        bl_field_millis_text((int64_t)json_integer_value(v), text);
        return 1;
    }
    /* PostgreSQL parses the text and refuses a bad one (SQLSTATE 22007). */
    if (json_is_string(v) && json_string_length(v) > 0 &&
        json_string_length(v) < BL_FIELD_TIME_TEXT_MAX) {
        memcpy(text, json_string_value(v), json_string_length(v) + 1);
        return 1;
    }
    return bl_err_set(err, BL_EINVAL, "%s: data.%s: must be a timestamp", c->type, field);
}

int bl_require_row(const PGresult *res, const char *what, const char *id, bl_err *err)
{
    if (PQntuples(res) > 0)
        return 0;
    return bl_err_set(err, BL_ENOTFOUND, "%s %s not found", what, id);
}

PGresult *bl_exec_one(PGconn *conn, const char *sql, int n, const char *const *params,
                       const char *what, const char *id, bl_err *err)
{
    PGresult *res = bl_pg_exec(conn, sql, n, params, err);
    if (!res)
        return NULL;
    const char *affected = PQcmdTuples(res);
    if (PQntuples(res) == 0 && (!*affected || strcmp(affected, "0") == 0)) {
        PQclear(res);
        bl_err_set(err, BL_ENOTFOUND, "%s %s not found", what, id);
        return NULL;
    }
    return res;
}

const char *bl_col(const PGresult *res, const char *name)
{
    int col = PQfnumber(res, name);
    if (col < 0 || PQntuples(res) == 0 || PQgetisnull(res, 0, col))
        return NULL;
    return PQgetvalue(res, 0, col);
}

json_t *bl_col_json_str(const PGresult *res, const char *name)
{
    const char *v = bl_col(res, name);
    return v ? json_string(v) : json_null();
}

json_t *bl_col_json_int(const PGresult *res, const char *name)
{
    const char *v = bl_col(res, name);
    return v ? json_integer((json_int_t)strtoll(v, NULL, 10)) : json_null();
}

int64_t bl_col_int(const PGresult *res, const char *name)
{
    const char *v = bl_col(res, name);
    return v ? (int64_t)strtoll(v, NULL, 10) : 0;
}

json_t *bl_json_with(json_t *data, const char *key, json_t *value)
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

