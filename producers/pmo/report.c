/* report.generate: renders the executive report (the portfolio's projects,
 * risks and decisions, or those of the projects asked for) as markdown,
 * stores it in pmo_reports with how long rendering took and derives
 * report.generated. Without a period it covers the 30 days before the
 * command was accepted. */
#include "producers/pmo/internal.h"

#include "core/clock.h"
#include "core/pg_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows shown per section; the rest are counted in a closing line. */
#define REPORT_SECTION_ROWS 500

static const char *const format_symbols[] = {"MARKDOWN", "HTML", "PDF", NULL};

/* Writes text as one markdown table cell: '|' escaped, line breaks as spaces. */
static void cell(FILE *md, const char *text)
{
    fputs("| ", md);
    for (const char *p = text ? text : ""; *p; p++) {
        if (*p == '|')
            fputs("\\|", md);
        else if (*p == '\n' || *p == '\r')
            fputc(' ', md);
        else
            fputc(*p, md);
    }
    fputc(' ', md);
}

/* Runs one section's query (params: org, project ids as a JSON array or
 * NULL, period start, period end) and writes a table with the given header, one row per result
 * row, all columns as cells; or "_None._". */
static int section(FILE *md, PGconn *conn, const char *heading, const char *header,
                   const char *sql, const char *const *params, bl_err *err)
{
    PGresult *res = bl_pg_exec(conn, sql, 4, params, err);
    if (!res)
        return bl_err_wrap(err, "pmo: report section %s", heading);
    int rows = PQntuples(res), cols = PQnfields(res);
    fprintf(md, "\n## %s (%d)\n\n", heading, rows);
    if (rows == 0)
        fputs("_None._\n", md);
    else
        fprintf(md, "%s\n", header);
    for (int r = 0; r < rows && r < REPORT_SECTION_ROWS; r++) {
        for (int col = 0; col < cols; col++)
            cell(md, PQgetisnull(res, r, col) ? "-" : PQgetvalue(res, r, col));
        fputs("|\n", md);
    }
    if (rows > REPORT_SECTION_ROWS)
        fprintf(md, "\n_%d more not shown._\n", rows - REPORT_SECTION_ROWS);
    PQclear(res);
    return 0;
}

static const char projects_sql[] =
    "SELECT p.name || ' (' || p.project_id || ')', p.status, p.progress || ' %',"
    " to_char(p.budget_cents / 100.0, 'FM999999999999990.00') || ' ' || p.currency,"
    " (SELECT count(*) FROM pmo_risks r WHERE r.organization_id = p.organization_id"
    "  AND r.project_id = p.project_id AND r.status = 'OPEN'),"
    " (SELECT count(*) FROM pmo_decisions d WHERE d.organization_id = p.organization_id"
    "  AND d.project_id = p.project_id AND d.status = 'PENDING')"
    " FROM pmo_projects p WHERE p.organization_id = $1"
    " AND ($2::jsonb IS NULL OR p.project_id IN (SELECT jsonb_array_elements_text($2::jsonb)))"
    " AND $3::timestamptz IS NOT NULL AND $4::timestamptz IS NOT NULL"
    " ORDER BY CASE p.status WHEN 'RED' THEN 0 WHEN 'YELLOW' THEN 1 ELSE 2 END, p.name";

/* Open risks, and those resolved within the period. */
static const char risks_sql[] =
    "SELECT r.title || ' (' || r.risk_id || ')', p.name, r.severity, r.probability || ' %',"
    " r.impact, r.status, r.owner_id, r.mitigation"
    " FROM pmo_risks r JOIN pmo_projects p USING (organization_id, project_id)"
    " WHERE r.organization_id = $1"
    " AND ($2::jsonb IS NULL OR r.project_id IN (SELECT jsonb_array_elements_text($2::jsonb)))"
    " AND (r.status = 'OPEN' OR r.resolved_at >= $3::timestamptz AND r.resolved_at < $4::timestamptz)"
    " ORDER BY r.status, CASE r.severity WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1"
    " WHEN 'MEDIUM' THEN 2 ELSE 3 END, r.probability * r.impact DESC, r.risk_id";

/* Pending decisions, and those decided within the period. */
static const char decisions_sql[] =
    "SELECT d.title || ' (' || d.decision_id || ')', p.name, d.status, d.decision_maker,"
    " to_char(d.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), d.rationale"
    " FROM pmo_decisions d JOIN pmo_projects p USING (organization_id, project_id)"
    " WHERE d.organization_id = $1"
    " AND ($2::jsonb IS NULL OR d.project_id IN (SELECT jsonb_array_elements_text($2::jsonb)))"
    " AND (d.status = 'PENDING' OR d.decided_at >= $3::timestamptz AND d.decided_at < $4::timestamptz)"
    " ORDER BY d.status DESC, d.due_at NULLS LAST, d.decision_id";

char *pmo_report_markdown(PGconn *conn, const pmo_report_spec *spec, bl_err *err)
{
    const char *params[] = {spec->organization_id, spec->project_ids, spec->period_start, spec->period_end};
    PGresult *period = bl_pg_exec(conn,
        "SELECT to_char($3::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS start_day,"
        " to_char($4::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS end_day, $1::text,"
        " (SELECT string_agg(p, ', ') FROM jsonb_array_elements_text($2::jsonb) p) AS projects",
        4, params, err);
    if (!period)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *md = open_memstream(&text, &len);
    if (!md) {
        PQclear(period);
        bl_err_set(err, BL_ENOMEM, "pmo: report: out of memory");
        return NULL;
    }
    fprintf(md, "# %s\n\nOrganization: %s\nPeriod: %s to %s\n", spec->title, spec->organization_id,
            bl_col(period, "start_day"), bl_col(period, "end_day"));
    if (bl_col(period, "projects"))
        fprintf(md, "Project: %s\n", bl_col(period, "projects"));
    PQclear(period);
    int rc = section(md, conn, "Projects",
                     "| Project | Status | Progress | Budget | Open risks | Pending decisions |\n"
                     "|---|---|---|---|---|---|",
                     projects_sql, params, err);
    if (rc == 0 && spec->include_risks)
        rc = section(md, conn, "Risks",
                     "| Risk | Project | Severity | Probability | Impact | Status | Owner | Mitigation |\n"
                     "|---|---|---|---|---|---|---|---|",
                     risks_sql, params, err);
    if (rc == 0 && spec->include_decisions)
        rc = section(md, conn, "Decisions",
                     "| Decision | Project | Status | Decision maker | Due | Rationale |\n"
                     "|---|---|---|---|---|---|",
                     decisions_sql, params, err);
    if (fclose(md) != 0 && rc == 0)
        rc = bl_err_set(err, BL_ENOMEM, "pmo: report: out of memory");
    if (rc != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static const char *const kind_symbols[] = {"EXECUTIVE", NULL};

/* The projects to report on as a JSON array text (project_ids, else
 * project_id), each checked to exist; *ids NULL for the whole portfolio.
 * Returns 0 or -1 with err (BL_ENOTFOUND for an unknown project). */
static int report_projects(PGconn *conn, const bl_pmo_command *c, char **ids, bl_err *err)
{
    const char *single = NULL;
    const json_t *list = json_object_get(c->data, "project_ids");
    *ids = NULL;
    if (bl_field_get_str(c, "project_id", false, &single, err) < 0)
        return -1;
    json_t *chosen = json_array();
    if (!chosen)
        return bl_err_set(err, BL_ENOMEM, "pmo: report: out of memory");
    if (list && !json_is_null(list) && !json_is_array(list)) {
        json_decref(chosen);
        return bl_err_set(err, BL_EINVAL, "%s: data.project_ids: must be an array of strings", c->type);
    }
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
        if (!json_is_string(v) || json_array_append(chosen, (json_t *)v) != 0) {
            json_decref(chosen);
            return bl_err_set(err, BL_EINVAL, "%s: data.project_ids[%zu]: must be a string", c->type, i);
        }
    if (json_array_size(chosen) == 0 && single)
        json_array_append_new(chosen, json_string(single));
    json_array_foreach(chosen, i, v)
    {
        PGresult *proj = pmo_project_lookup(conn, c, json_string_value(v), err);
        if (!proj) {
            json_decref(chosen);
            return -1;
        }
        PQclear(proj);
    }
    if (json_array_size(chosen) > 0 && !(*ids = json_dumps(chosen, JSON_COMPACT))) {
        json_decref(chosen);
        return bl_err_set(err, BL_ENOMEM, "pmo: report: out of memory");
    }
    json_decref(chosen);
    return 0;
}

/* A boolean field with its default (the schema's). */
static bool flag(const bl_pmo_command *c, const char *field, bool when_absent)
{
    const json_t *v = json_object_get(c->data, field);
    return json_is_boolean(v) ? json_is_true(v) : when_absent;
}

#define REPORT_DEFAULT_PERIOD_MS (30LL * 24 * 3600 * 1000)

static int report_generate(PGconn *conn, const bl_pmo_command *c, bl_pmo_events *out, bl_err *err)
{
    const char *id = NULL, *project = NULL, *format = NULL, *title = "Executive report", *kind = "EXECUTIVE";
    char start[BL_FIELD_TIME_TEXT_MAX], end[BL_FIELD_TIME_TEXT_MAX];
    int has_start, has_end;
    if (bl_field_get_str(c, "report_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "project_id", false, &project, err) < 0 ||
        bl_field_get_enum(c, "format", true, format_symbols, &format, err) < 0 ||
        bl_field_get_enum(c, "type", false, kind_symbols, &kind, err) < 0 ||
        bl_field_get_str(c, "title", false, &title, err) < 0 ||
        (has_start = bl_field_get_time(c, "period_start", false, start, err)) < 0 ||
        (has_end = bl_field_get_time(c, "period_end", false, end, err)) < 0)
        return -1;
    if (has_end && !has_start)
        return bl_err_set(err, BL_EINVAL, "%s: data.period_start: required with period_end", c->type);
    /* from the command's own time, so a redelivery renders the same period */
    if (!has_end)
        bl_field_millis_text(c->time_ms, end);
    if (!has_start)
        bl_field_millis_text(c->time_ms - REPORT_DEFAULT_PERIOD_MS, start);
    char *ids = NULL;
    if (report_projects(conn, c, &ids, err) != 0)
        return -1;
    pmo_report_spec spec = {.organization_id = c->organization_id, .project_ids = ids, .title = title,
                            .period_start = start, .period_end = end,
                            .include_risks = flag(c, "include_risks", true),
                            .include_decisions = flag(c, "include_decisions", true)};
    int64_t began = bl_clock_mono_ms();
    char *markdown = pmo_report_markdown(conn, &spec, err);
    PGresult *res = NULL;
    int rc = -1;
    if (!markdown)
        goto done;
    char duration[BL_FIELD_INT_TEXT_MAX];
    snprintf(duration, sizeof duration, "%lld", (long long)(bl_clock_mono_ms() - began));
    const char *params[] = {c->organization_id, id, project, format, title, markdown, start, end, kind, ids,
                            spec.include_risks ? "t" : "f", spec.include_decisions ? "t" : "f", duration};
    res = bl_pg_exec(conn,
        "INSERT INTO pmo_reports (organization_id, report_id, project_id, format, title, markdown,"
        " period_start, period_end, report_type, project_ids, include_risks, include_decisions, duration_ms)"
        " VALUES ($1, $2, coalesce($3, $10::jsonb ->> 0), $4, $5, $6, $7::timestamptz, $8::timestamptz, $9,"
        " $10::jsonb, $11::boolean, $12::boolean, $13::integer)"
        " ON CONFLICT DO NOTHING RETURNING project_id, " BL_SQL_MS("period_start") " AS start_ms, "
        BL_SQL_MS("period_end") " AS end_ms",
        13, params, err);
    if (!res)
        goto done;
    if (PQntuples(res) == 0) {
        rc = bl_err_set(err, BL_ECONFLICT, "pmo: report %s already exists", id);
        goto done;
    }
    /* The markdown is always stored; the event inlines it only when small. */
    const char *inline_md = strlen(markdown) <= BL_PMO_REPORT_INLINE_MAX ? markdown : NULL;
    json_t *data = json_pack("{s:s, s:s?, s:s, s:s, s:s?, s:n, s:I, s:I}", "report_id", id,
                             "project_id", bl_col(res, "project_id"), "format", format, "title", title,
                             "markdown", inline_md, "url", "period_start",
                             (json_int_t)bl_col_int(res, "start_ms"), "period_end",
                             (json_int_t)bl_col_int(res, "end_ms"));
    rc = bl_domain_events_add(out, "report.generated", id, data, err);
done:
    PQclear(res);
    free(markdown);
    free(ids);
    return rc;
}

int pmo_apply_report(PGconn *conn, const bl_pmo_command *c, const char *verb, bl_pmo_events *out,
                     bl_err *err)
{
    if (strcmp(verb, "generate") == 0)
        return report_generate(conn, c, out, err);
    return bl_err_set(err, BL_EINVAL, "pmo: unknown command type '%s'", c->type);
}
