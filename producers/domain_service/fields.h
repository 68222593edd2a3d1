/* Helpers of every domain's apply files: reading the command's data fields
 * with clear errors ("risk.create: data.title: missing"), running a statement
 * that must touch a row, and reading result columns into JSON. */
#ifndef BUSLINE_PRODUCERS_DOMAIN_SERVICE_FIELDS_H
#define BUSLINE_PRODUCERS_DOMAIN_SERVICE_FIELDS_H

#include "producers/domain_service/command.h"

#include <stdbool.h>

/* Room for a timestamp parameter: "YYYY-MM-DDTHH:MM:SS.mmmZ" or a caller's
 * RFC 3339 text (longer ones are refused). */
#define BL_FIELD_TIME_TEXT_MAX 48
/* Room for an integer parameter. */
#define BL_FIELD_INT_TEXT_MAX 24

/* SQL for a timestamptz column as epoch milliseconds. */
#define BL_SQL_MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"

/* Field readers over cmd->data. Each returns 1 when the field is present and
 * valid (*out set), 0 when it is absent or null and not required, or -1 with
 * err (BL_EINVAL, "pmo: risk.create: data.title: missing"). */
int bl_field_get_str(const bl_domain_command *c, const char *field, bool required, const char **out,
                bl_err *err);
/* An integer in min..max; text gets its decimal form for a SQL parameter. */
int bl_field_get_int(const bl_domain_command *c, const char *field, bool required, int64_t min,
                int64_t max, int64_t *out, char text[BL_FIELD_INT_TEXT_MAX], bl_err *err);
/* One of symbols (NULL-terminated). */
int bl_field_get_enum(const bl_domain_command *c, const char *field, bool required,
                 const char *const *symbols, const char **out, bl_err *err);
/* A timestamp (RFC 3339 text or epoch milliseconds) as text for a
 * timestamptz parameter. */
int bl_field_get_time(const bl_domain_command *c, const char *field, bool required,
                 char text[BL_FIELD_TIME_TEXT_MAX], bl_err *err);

/* Formats epoch milliseconds as RFC 3339 UTC into text. */
void bl_field_millis_text(int64_t ms, char text[BL_FIELD_TIME_TEXT_MAX]);

/* Sets data[key] = value (both stolen) and returns data; when anything is
 * NULL or fails, releases both and returns NULL. For chaining after
 * json_pack. */
json_t *bl_json_with(json_t *data, const char *key, json_t *value);

/* Fails with BL_ENOTFOUND ("pmo: project P-1 not found") when res has no
 * row. Returns 0 or -1. */
int bl_require_row(const PGresult *res, const char *what, const char *id, bl_err *err);

/* Column values of row 0 (by column name, which must exist in res). */
const char *bl_col(const PGresult *res, const char *name);        /* NULL when SQL NULL */
json_t *bl_col_json_str(const PGresult *res, const char *name);   /* string or null */
json_t *bl_col_json_int(const PGresult *res, const char *name);   /* integer or null */
int64_t bl_col_int(const PGresult *res, const char *name);        /* 0 when NULL */

/* Runs sql and returns the result when it affected or returned rows; a
 * statement that touched none fails with BL_ENOTFOUND naming what/id. */
PGresult *bl_exec_one(PGconn *conn, const char *sql, int n, const char *const *params,
                       const char *what, const char *id, bl_err *err);

#endif
