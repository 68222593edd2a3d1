/* Helpers shared by the apply_*.c files: reading the command's data
 * fields with clear errors, and reading result columns into JSON. Private to
 * the PMO domain. */
#ifndef BUSLINE_PRODUCERS_PMO_INTERNAL_H
#define BUSLINE_PRODUCERS_PMO_INTERNAL_H

#include "producers/domain_service/fields.h"
#include "producers/pmo/domain.h"

#include <stdbool.h>

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

/* What an executive report covers. Every pointer is borrowed. */
typedef struct pmo_report_spec {
    const char *organization_id;
    const char *project_ids;  /* JSON array text of project ids; NULL: the whole portfolio */
    const char *title;
    const char *period_start; /* timestamptz text, inclusive */
    const char *period_end;   /* timestamptz text, exclusive */
    bool include_risks, include_decisions;
} pmo_report_spec;

/* Builds the executive report's markdown for spec. Returns a new string
 * (caller frees), or NULL with err. */
char *pmo_report_markdown(PGconn *conn, const pmo_report_spec *spec, bl_err *err);

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

#endif
