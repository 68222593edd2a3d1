/* GET lists and details of the domain service's read model (the pmo_*
 * tables of migrations/030_pmo.sql), always scoped to the caller's
 * organization: limit (default 50; over 100 is answered as 100), offset,
 * sort=field.asc|desc and filters, each whitelisted per resource (anything
 * else in them is a 400 naming what is accepted); envelope
 * {"data": [...], "pagination": {"total", "limit", "offset", "has_more"}}.
 * Each row carries "id" and, for projects, the Powalyze document's
 * "status" (the phase in lower case: "in_progress"; ?status= filters on it),
 * "rag_status" (the status column), "budget" and "spent" (currency units)
 * beside busline's own columns. */
#include "api/routes/routes.h"
#include "api/routes/webhook_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_DEFAULT 50
#define LIMIT_MAX 100
#define OFFSET_MAX 1000000000L
#define FILTER_VALUE_MAX 200
#define MAX_FILTERS 8

typedef struct filter {
    const char *param;  /* query name */
    const char *column; /* column it compares with equality */
} filter;

typedef struct resource {
    const char *collection; /* "projects" */
    const char *table;
    const char *id_column;
    const char *sorts[16];  /* NULL-ended; the first is the default (descending) */
    filter filters[MAX_FILTERS];
    const char *extra;      /* SQL jsonb of the document's fields over row f, or NULL */
} resource;

/* The document's names of some sort fields, and the column each sorts by. */
static const struct { const char *name, *column; } sort_aliases[] = {
    {"budget", "budget_cents"}, {"spent", "spent_cents"}, {"rag_status", "status"},
};

#define MONEY(col) "CASE WHEN f." col " % 100 = 0 THEN to_jsonb(f." col " / 100) ELSE to_jsonb(f." col " / 100.0) END"
#define PROJECT_EXTRA \
    "jsonb_build_object('status', lower(f.phase), 'rag_status', f.status, 'budget', " MONEY("budget_cents")  \
    ", 'spent', " MONEY("spent_cents") ")"

/* The document's report fields: "type" ("executive") and "content". */
#define REPORT_EXTRA "jsonb_build_object('type', lower(f.report_type), 'content', f.markdown)"

static const resource resources[] = {
    {"projects", "pmo_projects", "project_id",
     {"created_at", "updated_at", "name", "status", "rag_status", "progress", "budget", "spent", "budget_cents",
      "spent_cents", "start_date", "end_date", NULL},
     {{"status", "lower(phase)"}, {"rag_status", "status"}, {"owner_id", "owner_id"}, {"currency", "currency"}},
     PROJECT_EXTRA},
    {"risks", "pmo_risks", "risk_id",
     {"created_at", "updated_at", "title", "severity", "probability", "impact", "status", "resolved_at", NULL},
     {{"status", "status"}, {"severity", "severity"}, {"project_id", "project_id"}, {"owner_id", "owner_id"}}, NULL},
    {"decisions", "pmo_decisions", "decision_id",
     {"created_at", "updated_at", "title", "status", "due_at", "decided_at", NULL},
     {{"status", "status"}, {"project_id", "project_id"}, {"decision_maker", "decision_maker"}}, NULL},
    {"resources", "pmo_resources", "resource_id",
     {"created_at", "updated_at", "person_name", "allocation_pct", "start_date", "end_date", NULL},
     {{"project_id", "project_id"}, {"person_id", "person_id"}, {"role", "role"}}, NULL},
    {"sprints", "pmo_sprints", "sprint_id",
     {"starts_at", "created_at", "updated_at", "name", "ends_at", "committed_points", "completed_points", NULL},
     {{"project_id", "project_id"}}, NULL},
    {"reports", "pmo_reports", "report_id",
     {"generated_at", "title", "period_start", "period_end", "format", NULL},
     {{"project_id", "project_id"}, {"format", "format"}}, REPORT_EXTRA},
};

#define RESOURCE_COUNT (sizeof resources / sizeof resources[0])

/* Parses a whole decimal number in [min, max]. */
static int parse_long(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (!*text || *end || errno || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static const char *sort_column(const resource *r, const char *field)
{
    for (size_t i = 0; r->sorts[i]; i++) {
        if (strcmp(r->sorts[i], field) != 0)
            continue;
        for (size_t a = 0; a < sizeof sort_aliases / sizeof sort_aliases[0]; a++)
            if (strcmp(sort_aliases[a].name, field) == 0)
                return sort_aliases[a].column;
        return r->sorts[i];
    }
    return NULL;
}

static int list(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    const resource *r = arg;
    const bl_http_request *h = req->http;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    long limit = LIMIT_DEFAULT, offset = 0;
    const char *v;
    if ((v = bl_http_request_query(h, "limit")) && parse_long(v, 1, OFFSET_MAX, &limit) != 0)
        json_object_set_new(errors, "limit", json_string("an integer from 1 (over 100 counts as 100)"));
    if (limit > LIMIT_MAX)
        limit = LIMIT_MAX;
    if ((v = bl_http_request_query(h, "offset")) && parse_long(v, 0, OFFSET_MAX, &offset) != 0)
        json_object_set_new(errors, "offset", json_string("an integer from 0"));
    const char *column = r->sorts[0], *direction = "DESC";
    if ((v = bl_http_request_query(h, "sort"))) {
        const char *dot = strrchr(v, '.');
        char field[64];
        snprintf(field, sizeof field, "%.*s", dot ? (int)(dot - v) : (int)strlen(v), v);
        column = sort_column(r, field);
        if (!column || !dot || (strcmp(dot, ".asc") != 0 && strcmp(dot, ".desc") != 0)) {
            char msg[400] = "field.asc or field.desc with field one of:";
            for (size_t i = 0; r->sorts[i]; i++)
                snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " %s", r->sorts[i]);
            json_object_set_new(errors, "sort", json_string(msg));
        } else {
            direction = strcmp(dot, ".asc") == 0 ? "ASC" : "DESC";
        }
    }
    const char *params[MAX_FILTERS + 3] = {req->auth->org_id};
    int n = 1;
    char where[1024] = "organization_id = $1";
    for (size_t i = 0; i < MAX_FILTERS && r->filters[i].param; i++) {
        if (!(v = bl_http_request_query(h, r->filters[i].param)))
            continue;
        if (strlen(v) > FILTER_VALUE_MAX) {
            json_object_set_new(errors, r->filters[i].param, json_string("at most 200 characters"));
            continue;
        }
        params[n++] = v;
        snprintf(where + strlen(where), sizeof where - strlen(where), " AND %s = $%d", r->filters[i].column, n);
    }
    if (json_object_size(errors) > 0)
        return bl_api_fail(h, resp, 400, NULL, "bad query parameters", errors);
    json_decref(errors);
    char limit_text[24], offset_text[24], sql[4096];
    snprintf(limit_text, sizeof limit_text, "%ld", limit);
    snprintf(offset_text, sizeof offset_text, "%ld", offset);
    params[n++] = limit_text;
    params[n++] = offset_text;
    /* The page is cut before its rows become JSON, so only the rows shown
     * are converted; the text is one of few variants per resource (sort,
     * direction, filters given), so it is prepared once per connection. */
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM %s t WHERE %s),"
             " coalesce((SELECT json_agg(to_jsonb(f) - 'organization_id'"
             "  || jsonb_build_object('id', f.%s) || %s ORDER BY f.%s %s NULLS LAST, f.%s)"
             "  FROM (SELECT * FROM %s t WHERE %s ORDER BY %s %s NULLS LAST, %s LIMIT $%d OFFSET $%d) f), '[]')::text",
             r->table, where, r->id_column, r->extra ? r->extra : "'{}'::jsonb", column, direction, r->id_column,
             r->table, where, column, direction, r->id_column, n - 1, n);
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    PGresult *res = bl_pg_exec_prepared(conn, sql, n, params, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!res)
        return -1;
    long total = atol(PQgetvalue(res, 0, 0));
    json_t *data = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
    PQclear(res);
    json_t *out = bl_api_page_envelope(data, total, limit, offset);
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

json_t *bl_api_v1_read_row(bl_api_server *s, const char *collection, const char *org, const char *id,
                           bl_err *err)
{
    const resource *r = NULL;
    for (size_t i = 0; i < RESOURCE_COUNT && !r; i++)
        if (strcmp(resources[i].collection, collection) == 0)
            r = &resources[i];
    if (!r) {
        bl_err_set(err, BL_EINVAL, "api: no read model for %s", collection);
        return NULL;
    }
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT (to_jsonb(f) - 'organization_id' || jsonb_build_object('id', f.%s) || %s)::text FROM %s f"
             " WHERE organization_id = $1 AND %s = $2",
             r->id_column, r->extra ? r->extra : "'{}'::jsonb", r->table, r->id_column);
    const char *params[] = {org, id};
    PGconn *conn = bl_api_acquire_pg(s, err);
    if (!conn)
        return NULL;
    PGresult *res = bl_pg_exec_prepared(conn, sql, 2, params, err);
    bl_pg_pool_release(bl_api_server_pool(s), conn);
    if (!res)
        return NULL;
    json_t *row = NULL;
    if (PQntuples(res) == 0)
        bl_err_set(err, BL_ENOTFOUND, "api: %s %s not found", collection, id);
    else if (!(row = json_loads(PQgetvalue(res, 0, 0), 0, NULL)))
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
    PQclear(res);
    return row;
}

static int detail(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    const resource *r = arg;
    bl_err err = {0};
    json_t *row = bl_api_v1_read_row(req->server, r->collection, req->auth->org_id,
                                     bl_http_request_param(req->http, "id"), &err);
    if (!row && err.code == BL_ENOTFOUND)
        return bl_api_fail(req->http, resp, 404, NULL, "not found in this organization", NULL);
    json_t *out = row ? json_pack("{s:o}", "data", row) : NULL;
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

static json_t *query_param(const char *name, const char *description, json_t *schema)
{
    return json_pack("{s:s, s:s, s:s, s:o}", "name", name, "in", "query", "description", description,
                     "schema", schema);
}

static json_t *list_operation(const resource *r)
{
    json_t *sorts = json_array();
    for (size_t i = 0; r->sorts[i]; i++) {
        char a[80], d[80];
        snprintf(a, sizeof a, "%s.asc", r->sorts[i]);
        snprintf(d, sizeof d, "%s.desc", r->sorts[i]);
        json_array_append_new(sorts, json_string(a));
        json_array_append_new(sorts, json_string(d));
    }
    json_t *params = json_pack(
        "[o, o, o]",
        query_param("limit", "page size (default 50, max 100: more counts as 100)",
                    json_pack("{s:s, s:i, s:i}", "type", "integer", "minimum", 1, "default", LIMIT_DEFAULT)),
        query_param("offset", "rows to skip", json_pack("{s:s, s:i}", "type", "integer", "minimum", 0)),
        query_param("sort", "field and direction (default created_at.desc; another field is a 400)",
                    json_pack("{s:s, s:o}", "type", "string", "enum", sorts)));
    for (size_t i = 0; params && i < MAX_FILTERS && r->filters[i].param; i++)
        json_array_append_new(params, query_param(r->filters[i].param, "equality filter",
                                                  json_pack("{s:s, s:i}", "type", "string", "maxLength",
                                                            FILTER_VALUE_MAX)));
    char op_id[64], summary[96];
    snprintf(op_id, sizeof op_id, "list_%s", r->collection);
    snprintf(summary, sizeof summary, "List %s of the caller's organization", r->collection);
    return params ? json_pack("{s:s, s:s, s:[s], s:o, s:{s:{s:s, s:{s:{s:{s:s}}}}}}", "operationId", op_id,
                              "summary", summary, "tags", "reads", "parameters", params, "responses", "200",
                              "description", "One page", "content", "application/json", "schema", "$ref",
                              "#/components/schemas/Page")
                  : NULL;
}

static json_t *detail_operation(const resource *r)
{
    char op_id[64], summary[96];
    snprintf(op_id, sizeof op_id, "get_%s", r->collection);
    snprintf(summary, sizeof summary, "One of the %s by id", r->collection);
    return json_pack("{s:s, s:s, s:[s], s:{s:{s:s, s:{s:{s:{s:s, s:{s:{s:s}}}}}}}}", "operationId", op_id,
                     "summary", summary, "tags", "reads", "responses", "200", "description", "Found",
                     "content", "application/json", "schema", "type", "object", "properties", "data",
                     "type", "object");
}

int bl_api_routes_reads(bl_api_server *s, bl_err *err)
{
    for (size_t i = 0; i < RESOURCE_COUNT; i++) {
        const resource *r = &resources[i];
        char list_path[80], detail_path[96];
        snprintf(list_path, sizeof list_path, "/v1/%s", r->collection);
        snprintf(detail_path, sizeof detail_path, "/v1/%s/:id", r->collection);
        bl_api_route table[] = {{"GET", list_path, BL_API_BY_METHOD, list},
                                {"GET", detail_path, BL_API_BY_METHOD, detail}};
        if (bl_api_server_routes(s, table, 2, (void *)r, err) != 0 ||
            bl_api_server_document(s, "GET", list_path, list_operation(r), err) != 0 ||
            bl_api_server_document(s, "GET", detail_path, detail_operation(r), err) != 0)
            return -1;
    }
    return 0;
}
