/* The reports (rapports) of the field-service surface (SmartLeakPro document):
 *   GET  /rapports/               the stored reports, paged by page/size,
 *                                 {"rapports": [...], "total", "page", "size", "pages"}
 *   POST /rapports/generate       {intervention_id, type_rapport, format, template}:
 *                                 checked here (every bad field at once, 404 for an
 *                                 intervention not in the organization), then the
 *                                 command rapport.generate onto commands.fieldservice
 *                                 with a bounded wait: 201 with the stored report,
 *                                 202 with a status URL past the bound
 *   GET  /rapports/{id}           the report once stored, {id, statut: "en_cours"} (or "echec" with why)
 *                                 while its command is on its way
 *   GET  /rapports/{id}/download  the document with its Content-Type, as an attachment
 * The domain service renders and stores the report (producers/fieldservice/report.c). */
#include "api/command_bus.h"
#include "api/command_send.h"
#include "api/fieldservice/fs_api.h"
#include "api/routes/routes.h"
#include "core/crypto.h"
#include "core/log.h"
#include "producers/commands/command_envelope.h"
#include "producers/fieldservice/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOURCE "busline-api"
#define COMMAND_TYPE "rapport.generate"
#define PAGE_SIZE_DEFAULT 10
#define PAGE_SIZE_MAX 100
#define ID_MAX 200
#define TYPE_MAX 64

typedef struct rapports_ctx {
    bl_api_command_bus *bus;   /* the server's (api/command_send.h), borrowed */
    const bl_catalog_msg *msg; /* rapport.generate, borrowed from the bus's catalog */
} rapports_ctx;

static void rapports_ctx_free(void *arg)
{
    free(arg);
}

static void add_error(json_t *errors, const char *field, const char *message)
{
    json_object_set_new(errors, field, json_pack("[s]", message));
}

/* A stored report r as the document's list item; prefix the parameter
 * holding the surface's prefix ("/api"). */
#define REPORT_ITEM(prefix)                                                                     \
    "json_build_object('id', r.report_id, 'intervention_id', r.intervention_id,"               \
    " 'type_rapport', r.report_type, 'format', lower(r.format), 'template', r.template,"       \
    " 'titre', r.title, 'content_type', r.content_type, 'taille', r.size_bytes,"               \
    " 'sha256', r.sha256, 'statut', 'genere', 'date_creation',"                                \
    " to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"             \
    " 'download_url', " prefix "::text || '/rapports/' || r.report_id || '/download')"

/* ---- GET /rapports/ ---- */

static void read_long(const bl_http_request *h, const char *name, long max, long *out,
                      json_t *errors)
{
    const char *v = bl_http_request_query(h, name);
    if (!v)
        return;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < 1 || n > max) {
        char msg[64];
        snprintf(msg, sizeof msg, "an integer from 1 to %ld", max);
        add_error(errors, name, msg);
    } else {
        *out = n;
    }
}

static int rapports_list(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    const bl_http_request *h = req->http;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    long page = 1, size = PAGE_SIZE_DEFAULT;
    read_long(h, "page", 1000000, &page, errors);
    read_long(h, "size", PAGE_SIZE_MAX, &size, errors);
    const char *intervention = bl_http_request_query(h, "intervention_id");
    if (intervention && (!*intervention || strlen(intervention) > ID_MAX))
        add_error(errors, "intervention_id", "1 to 200 characters");
    const char *format = bl_http_request_query(h, "format");
    char upper[16] = "";
    for (size_t i = 0; format && format[i] && i + 1 < sizeof upper; i++)
        upper[i] = (char)(format[i] >= 'a' && format[i] <= 'z' ? format[i] - 32 : format[i]);
    if (format && !fs_report_content_type(upper))
        add_error(errors, "format", "one of pdf, html, markdown");
    if (json_object_size(errors) > 0)
        return bl_api_fail(h, resp, 422, "VALIDATION_ERROR", "invalid query parameters", errors);
    json_decref(errors);
    char limit[24], offset[24];
    snprintf(limit, sizeof limit, "%ld", size);
    snprintf(offset, sizeof offset, "%ld", (page - 1) * size);
    const char *params[] = {req->auth->org_id, intervention, format ? upper : NULL, limit, offset,
                            bl_api_server_surface_prefix(req->server, BL_API_SURFACE_FIELD_SERVICE)};
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    PGresult *res = bl_pg_exec(conn,
        "WITH f AS (SELECT * FROM fieldservice_reports WHERE organization_id = $1"
        " AND ($2::text IS NULL OR intervention_id = $2) AND ($3::text IS NULL OR format = $3))"
        " SELECT (SELECT count(*) FROM f), coalesce((SELECT json_agg(" REPORT_ITEM("$6")
        " ORDER BY r.created_at DESC, r.report_id) FROM (SELECT * FROM f"
        " ORDER BY created_at DESC, report_id LIMIT $4::bigint OFFSET $5::bigint) r), '[]')::text",
        6, params, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!res)
        return -1;
    long total = atol(PQgetvalue(res, 0, 0));
    json_t *items = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
    PQclear(res);
    json_t *out = items ? json_pack("{s:o, s:I, s:I, s:I, s:I}", "rapports", items, "total",
                                    (json_int_t)total, "page", (json_int_t)page, "size",
                                    (json_int_t)size, "pages", (json_int_t)((total + size - 1) / size))
                        : NULL;
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

/* ---- POST /rapports/generate ---- */

/* A string field of body: required or not, at most max bytes; the error named. */
static const char *body_string(const json_t *body, const char *name, bool required, size_t max,
                               json_t *errors)
{
    const json_t *v = json_object_get(body, name);
    if (!v || json_is_null(v)) {
        if (required)
            add_error(errors, name, "required");
        return NULL;
    }
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > max) {
        char msg[64];
        snprintf(msg, sizeof msg, "a string of 1 to %zu characters", max);
        add_error(errors, name, msg);
        return NULL;
    }
    return s;
}

/* The body's fields, each checked; the errors of all of them at once. */
typedef struct generate_request {
    const char *intervention_id, *type_rapport, *tmpl;
    char format[16]; /* the Avro symbol */
} generate_request;

static void read_generate(const json_t *body, generate_request *g, json_t *errors)
{
    g->intervention_id = body_string(body, "intervention_id", true, ID_MAX, errors);
    g->type_rapport = body_string(body, "type_rapport", false, TYPE_MAX, errors);
    if (!g->type_rapport && !json_object_get(errors, "type_rapport"))
        g->type_rapport = "inspection";
    const char *format = body_string(body, "format", false, 15, errors);
    snprintf(g->format, sizeof g->format, "%s", format ? format : "pdf");
    for (char *c = g->format; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 32);
    if (!json_object_get(errors, "format") && !fs_report_content_type(g->format))
        add_error(errors, "format", "one of pdf, html, markdown");
    g->tmpl = body_string(body, "template", false, TYPE_MAX, errors);
    if (!g->tmpl && !json_object_get(errors, "template"))
        g->tmpl = "default";
    if (g->tmpl && !fs_report_template_known(g->tmpl))
        add_error(errors, "template", "unknown template: use one of default, inspection");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        if (strcmp(key, "intervention_id") != 0 && strcmp(key, "type_rapport") != 0 &&
            strcmp(key, "format") != 0 && strcmp(key, "template") != 0)
            add_error(errors, key, "unknown field");
    }
}

/* 1 when the intervention is live in org, 0 when not, -1 on error. */
static int intervention_exists(bl_api_server *s, const char *org, const char *id, bl_err *err)
{
    PGconn *conn = bl_api_acquire_pg(s, err);
    if (!conn)
        return -1;
    const char *p[] = {org, id};
    PGresult *res = bl_pg_exec(conn,
        "SELECT 1 FROM fieldservice_interventions WHERE organization_id = $1"
        " AND intervention_id = $2 AND deleted_at IS NULL", 2, p, err);
    bl_pg_pool_release(bl_api_server_pool(s), conn);
    if (!res)
        return -1;
    int found = PQntuples(res) > 0;
    PQclear(res);
    return found;
}

/* The report id of org as its item (statut "genere"), {id, statut:
 * "en_cours"} while its command is on its way, or {id, statut: "echec",
 * erreur, error_class, date_echec} when the service refused to generate it
 * (nothing was stored): the JSON text (malloc'd),
 * NULL with *found 0 when neither, NULL with err on failure. */
static char *report_text(bl_api_server *s, const char *org, const char *id, int *found, bl_err *err)
{
    *found = 0;
    const char *p[] = {org, id, bl_api_server_surface_prefix(s, BL_API_SURFACE_FIELD_SERVICE)};
    PGconn *conn = bl_api_acquire_pg(s, err);
    if (!conn)
        return NULL;
    PGresult *res = bl_pg_exec(conn,
        "SELECT coalesce((SELECT " REPORT_ITEM("$3") "::text FROM fieldservice_reports r"
        " WHERE r.organization_id = $1 AND r.report_id = $2),"
        " (SELECT (CASE WHEN f.command_id IS NULL THEN json_build_object('id', c.subject, 'statut', 'en_cours')"
        "   ELSE json_build_object('id', c.subject, 'statut', 'echec', 'erreur', f.reason,"
        "   'error_class', f.error_class, 'date_echec', f.refused_at) END)::text"
        "  FROM api_commands c LEFT JOIN domain_command_refusals f ON f.command_id = c.command_id::text"
        "  WHERE c.organization_id::text = $1 AND c.subject = $2"
        "  AND c.command_type = 'rapport.generate' ORDER BY c.created_at DESC LIMIT 1))", 3, p, err);
    bl_pg_pool_release(bl_api_server_pool(s), conn);
    if (!res)
        return NULL;
    char *text = NULL;
    if (!PQgetisnull(res, 0, 0)) {
        *found = 1;
        if (!(text = strdup(PQgetvalue(res, 0, 0))))
            bl_err_set(err, BL_ENOMEM, "api: out of memory");
    }
    PQclear(res);
    return text;
}

/* Sends rapport.generate and waits, bounded, for the domain service's
 * outcome (api/fieldservice/fs_api.h): 201 with the stored report once it
 * rendered it; past the bound 202 with the status URL; a refusal as the
 * document's error (404 NOT_FOUND, else 422 VALIDATION_ERROR). */
static int rapports_generate(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    const bl_http_request *h = req->http;
    bl_err err = {0};
    bl_api_commands *commands = bl_api_server_commands(req->server, &err);
    if (!commands)
        return -1;
    if (!json_is_object(req->body))
        return bl_api_fail(h, resp, 422, "VALIDATION_ERROR", "the body must be a JSON object",
                           json_pack("{s:[s]}", "body", "expected a JSON object"));
    json_t *errors = json_object();
    if (!errors)
        return -1;
    generate_request g = {0};
    read_generate(req->body, &g, errors);
    if (json_object_size(errors) > 0)
        return bl_api_fail(h, resp, 422, "VALIDATION_ERROR", "the report request is not valid",
                           errors);
    json_decref(errors);
    int exists = intervention_exists(req->server, req->auth->org_id, g.intervention_id, &err);
    if (exists < 0)
        return -1;
    if (!exists)
        return bl_api_fail(h, resp, 404, "NOT_FOUND", "no such intervention in this organization",
                           NULL);
    char report_id[BL_UUID_SIZE] = "", applied[BL_FSAPI_ID_MAX];
    if (bl_uuid_random(report_id, &err) != 0)
        return -1;
    json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:s}", "rapport_id", report_id,
                             "intervention_id", g.intervention_id, "type_rapport", g.type_rapport,
                             "format", g.format, "template", g.tmpl);
    if (!data)
        return -1;
    bl_api_wait_result sent = bl_fsapi_send(commands, req, resp, COMMAND_TYPE, report_id, data,
                                         "template", applied);
    json_decref(data);
    if (sent != BL_API_WAIT_APPLIED)
        return sent == BL_API_WAIT_ANSWERED ? 0 : -1;
    int found = 0;
    char *text = report_text(req->server, req->auth->org_id, applied, &found, &err);
    if (!text)
        return -1;
    char location[320];
    snprintf(location, sizeof location, "%s/rapports/%s",
             bl_api_server_surface_prefix(req->server, BL_API_SURFACE_FIELD_SERVICE), applied);
    bl_http_response_header(resp, "Location", location);
    bl_http_response_status(resp, 201);
    return bl_http_response_body_owned(resp, text, strlen(text), "application/json");
}

/* ---- GET /rapports/{id} and /rapports/{id}/download ---- */

static int rapports_get(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    bl_err err = {0};
    int found = 0;
    char *text = report_text(req->server, req->auth->org_id, bl_http_request_param(req->http, "id"),
                             &found, &err);
    if (!found)
        return err.code ? -1
                        : bl_api_fail(req->http, resp, 404, "NOT_FOUND",
                                      "no such report in this organization", NULL);
    if (!text)
        return -1;
    return bl_http_response_body_owned(resp, text, strlen(text), "application/json");
}

/* id with anything but letters, digits, '.', '-' and '_' as '_': a file name
 * that needs no quoting rules. */
static void safe_name(const char *id, char *out, size_t len)
{
    size_t i = 0;
    for (; id[i] && i + 1 < len; i++) {
        char ch = id[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '.' || ch == '-' || ch == '_';
        out[i] = ok ? ch : '_';
    }
    out[i] = '\0';
}

static int rapports_download(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    const char *id = bl_http_request_param(req->http, "id");
    const char *p[] = {req->auth->org_id, id};
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    /* Binary results: the document's bytes as they are, not bytea's hex text. */
    PGresult *res = PQexecParams(conn,
        "SELECT content, content_type, format FROM fieldservice_reports"
        " WHERE organization_id = $1 AND report_id = $2", 2, NULL, p, NULL, NULL, 1);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        bl_log_error("api: report download query failed", BL_FS("report_id", id),
                     BL_FS("error", PQresultErrorMessage(res)));
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    int rc = -1;
    if (!ok)
        goto done;
    if (PQntuples(res) == 0) {
        rc = bl_api_fail(req->http, resp, 404, "NOT_FOUND", "no such report in this organization",
                         NULL);
        goto done;
    }
    char format[16], content_type[64], name[ID_MAX + 1], disposition[ID_MAX + 64];
    snprintf(format, sizeof format, "%.*s", PQgetlength(res, 0, 2), PQgetvalue(res, 0, 2));
    snprintf(content_type, sizeof content_type, "%.*s", PQgetlength(res, 0, 1),
             PQgetvalue(res, 0, 1));
    safe_name(id, name, sizeof name);
    const char *ext = fs_report_extension(format);
    snprintf(disposition, sizeof disposition, "attachment; filename=\"rapport-%s.%s\"", name,
             ext ? ext : "bin");
    if (bl_http_response_header(resp, "Content-Disposition", disposition) != 0)
        goto done;
    rc = bl_http_response_body_copy(resp, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0),
                                    content_type);
done:
    PQclear(res);
    return rc;
}

/* ---- documentation and install ---- */

static json_t *operation(const char *id, const char *summary, const char *status,
                         const char *description)
{
    return json_pack("{s:s, s:s, s:[s], s:{s:{s:s}}}", "operationId", id, "summary", summary,
                     "tags", "field-service", "responses", status, "description", description);
}

static json_t *generate_operation(void)
{
    json_t *op = operation("fs_rapports_generate",
                           "Generate a report of an intervention (rendered by busline fieldservice); "
                           "202 with a status URL when the rendering outlasts the API's wait",
                           "201", "The stored report (statut: genere)");
    json_t *body = json_pack(
        "{s:b, s:{s:{s:{s:s, s:[s], s:{s:{s:s}, s:{s:s}, s:{s:s, s:[s, s, s]}, s:{s:s, s:[s, s]}}}}}}",
        "required", 1, "content", "application/json", "schema", "type", "object", "required",
        "intervention_id", "properties", "intervention_id", "type", "string", "type_rapport", "type",
        "string", "format", "type", "string", "enum", "pdf", "html", "markdown", "template", "type",
        "string", "enum", "default", "inspection");
    if (op && body)
        json_object_set_new(op, "requestBody", body);
    else
        json_decref(body);
    return op;
}

static const bl_api_route routes[] = {
    {"GET", "/rapports/", BL_API_BY_METHOD, rapports_list},
    {"POST", "/rapports/generate", BL_API_BY_METHOD, rapports_generate},
    {"GET", "/rapports/:id", BL_API_BY_METHOD, rapports_get},
    {"GET", "/rapports/:id/download", BL_API_BY_METHOD, rapports_download},
};

int bl_api_routes_fs_rapports(bl_api_server *s, bl_err *err)
{
    bl_api_commands *commands = bl_api_server_commands(s, err);
    if (!commands)
        return -1;
    rapports_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    c->bus = bl_api_commands_bus(commands);
    if (bl_api_server_on_free(s, rapports_ctx_free, c, err) != 0)
        return -1;
    if (!(c->msg = bl_catalog_find(bl_api_command_bus_catalog(c->bus), BL_MSG_COMMAND,
                                   "fieldservice", COMMAND_TYPE, err)))
        return -1;
    const bl_api_surface fs = BL_API_SURFACE_FIELD_SERVICE;
    if (bl_api_server_surface_routes(s, fs, routes, sizeof routes / sizeof routes[0], c, err) != 0)
        return -1;
    json_t *ops[] = {
        operation("fs_rapports_list", "Stored reports, newest first (page, size, intervention_id, format)",
                  "200", "{\"rapports\": [...], \"total\", \"page\", \"size\", \"pages\"}"),
        generate_operation(),
        operation("fs_rapports_get", "A report, or its generation still under way", "200",
                  "The report, or {\"id\", \"statut\": \"en_cours\"} while it is made, or {\"id\", \"statut\": "
                  "\"echec\", \"erreur\", \"error_class\", \"date_echec\"} when its generation was refused"),
        operation("fs_rapports_download", "The report's document as an attachment", "200",
                  "application/pdf, text/html or text/markdown"),
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (rc == 0)
            rc = bl_api_server_surface_document(s, fs, routes[i].method, routes[i].pattern, ops[i],
                                                err);
        else
            json_decref(ops[i]);
    }
    return rc;
}
