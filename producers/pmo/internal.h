/* Helpers shared by the apply_*.c files: reading the command's data
 * fields with clear errors, and reading result columns into JSON. Private to
 * the PMO domain. */
#ifndef BUSLINE_PRODUCERS_PMO_INTERNAL_H
#define BUSLINE_PRODUCERS_PMO_INTERNAL_H

#include "producers/pmo/domain.h"

#include <stdbool.h>

/* Room for a timestamp parameter: "YYYY-MM-DDTHH:MM:SS.mmmZ" or a caller's
 * RFC 3339 text (longer ones are refused). */
#define PMO_TIME_TEXT_MAX 48
/* Room for an integer parameter. */
#define PMO_INT_TEXT_MAX 24

/* SQL for a timestamptz column as epoch milliseconds. */
#define PMO_MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"

/* Field readers over cmd->data. Each returns 1 when the field is present and
 * valid (*out set), 0 when it is absent or null and not required, or -1 with
 * err (BL_EINVAL, "pmo: risk.create: data.title: missing"). */
int pmo_get_str(const bl_pmo_command *c, const char *field, bool required, const char **out,
                bl_err *err);
/* An integer in min..max; text gets its decimal form for a SQL parameter. */
int pmo_get_int(const bl_pmo_command *c, const char *field, bool required, int64_t min,
                int64_t max, int64_t *out, char text[PMO_INT_TEXT_MAX], bl_err *err);
/* One of symbols (NULL-terminated). */
int pmo_get_enum(const bl_pmo_command *c, const char *field, bool required,
                 const char *const *symbols, const char **out, bl_err *err);
/* A timestamp (RFC 3339 text or epoch milliseconds) as text for a
 * timestamptz parameter. */
int pmo_get_time(const bl_pmo_command *c, const char *field, bool required,
                 char text[PMO_TIME_TEXT_MAX], bl_err *err);

/* Formats epoch milliseconds as RFC 3339 UTC into text. */
void pmo_millis_text(int64_t ms, char text[PMO_TIME_TEXT_MAX]);

/* Sets data[key] = value (both stolen) and returns data; when anything is
 * NULL or fails, releases both and returns NULL. For chaining after
 * json_pack. */
json_t *pmo_json_with(json_t *data, const char *key, json_t *value);

/* Fails with BL_ENOTFOUND ("pmo: project P-1 not found") when res has no
 * row. Returns 0 or -1. */
int pmo_require_row(const PGresult *res, const char *what, const char *id, bl_err *err);

/* Column values of row 0 (by column name, which must exist in res). */
const char *pmo_col(const PGresult *res, const char *name);        /* NULL when SQL NULL */
json_t *pmo_col_json_str(const PGresult *res, const char *name);   /* string or null */
json_t *pmo_col_json_int(const PGresult *res, const char *name);   /* integer or null */
int64_t pmo_col_int(const PGresult *res, const char *name);        /* 0 when NULL */

/* The apply function of each aggregate; same contract as bl_pmo_apply for
 * the types of their entity. */
int pmo_apply_project(PGconn *conn, const bl_pmo_command *c, const char *verb, bl_pmo_events *out,
                      bl_err *err);
int pmo_apply_risk(PGconn *conn, const bl_pmo_command *c, const char *verb, bl_pmo_events *out,
                   bl_err *err);
int pmo_apply_decision(PGconn *conn, const bl_pmo_command *c, const char *verb,
                       bl_pmo_events *out, bl_err *err);
int pmo_apply_resource(PGconn *conn, const bl_pmo_command *c, const char *verb,
                       bl_pmo_events *out, bl_err *err);
int pmo_apply_sprint(PGconn *conn, const bl_pmo_command *c, const char *verb, bl_pmo_events *out,
                     bl_err *err);
int pmo_apply_report(PGconn *conn, const bl_pmo_command *c, const char *verb, bl_pmo_events *out,
                     bl_err *err);

/* Builds the executive report's markdown for the organization (one project
 * when project_id is not NULL). Returns a new string (caller frees), or NULL
 * with err. */
char *pmo_report_markdown(PGconn *conn, const char *organization_id, const char *project_id,
                          const char *title, const char *period_start, const char *period_end,
                          bl_err *err);

/* Finds project_id of c's organization (FOR SHARE, so it cannot vanish
 * before the transaction ends). Returns a result whose row has its columns
 * (name among them; caller PQclear's), or NULL with err (BL_ENOTFOUND). */
PGresult *pmo_project_lookup(PGconn *conn, const bl_pmo_command *c, const char *project_id,
                             bl_err *err);

/* Deletes the row of table (a pmo_* table name) whose <what>_id is the
 * command's data.<what>_id in its organization; derives no event. Returns 0,
 * or -1 with err (BL_ENOTFOUND when there is none). */
int pmo_delete_row(PGconn *conn, const bl_pmo_command *c, const char *table, const char *what,
                   bl_err *err);

/* Runs sql and returns the result when it affected or returned rows; a
 * statement that touched none fails with BL_ENOTFOUND naming what/id. */
PGresult *pmo_exec_one(PGconn *conn, const char *sql, int n, const char *const *params,
                       const char *what, const char *id, bl_err *err);

#endif
