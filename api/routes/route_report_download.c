/* GET /v1/reports/:id/download (Powalyze §6.2, "Télécharger PDF/Word"): an
 * executive report as a document to keep, rendered from its stored
 * markdown as ?format= asks (pdf, html or markdown; by default the format
 * the report was generated for), as an attachment. Rendering on download
 * keeps one stored text per report and every format in step with it. */
#include "api/routes/routes.h"

#include "api/server.h"
#include "core/log.h"
#include "producers/documents/markdown_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct download_format {
    const char *name, *stored, *content_type, *extension;
} download_format;

static const download_format formats[] = {
    {"pdf", "PDF", "application/pdf", "pdf"},
    {"html", "HTML", "text/html; charset=utf-8", "html"},
    {"markdown", "MARKDOWN", "text/markdown; charset=utf-8", "md"},
};
#define FORMAT_COUNT (sizeof formats / sizeof formats[0])

static const download_format *format_named(const char *name, int stored)
{
    for (size_t i = 0; name && i < FORMAT_COUNT; i++)
        if (strcasecmp(name, stored ? formats[i].stored : formats[i].name) == 0)
            return &formats[i];
    return NULL;
}

/* The report's file name: its id with anything but [A-Za-z0-9._-] as '_'. */
static void file_name(const char *id, const char *extension, char *out, size_t len)
{
    int n = snprintf(out, len, "report-");
    for (const char *p = id; *p && (size_t)n + 1 < len; p++, n++) {
        char ch = *p;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '.' || ch == '-' || ch == '_';
        out[n] = ok ? ch : '_';
    }
    snprintf(out + n, len - (size_t)n, ".%s", extension);
}

static int render(const download_format *f, const char *markdown, const char *title, char **out, size_t *len,
                  bl_err *err)
{
    if (strcmp(f->name, "pdf") == 0)
        return bl_markdown_render_pdf(markdown, title, out, len, err);
    if (strcmp(f->name, "html") == 0)
        return bl_markdown_render_html(markdown, title, out, len, err);
    *len = strlen(markdown);
    if (!(*out = strdup(markdown)))
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    return 0;
}

static int download_report(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *id = bl_http_request_param(req->http, "id");
    const char *asked = bl_http_request_query(req->http, "format");
    if (asked && !format_named(asked, 0))
        return bl_api_fail(req->http, resp, 400, NULL, "format must be pdf, html or markdown",
                           json_pack("{s:s}", "format", "one of pdf, html, markdown"));
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    const char *p[] = {req->auth->org_id, id};
    PGresult *res = PQexecParams(conn,
                                 "SELECT markdown, title, format FROM pmo_reports"
                                 " WHERE organization_id = $1 AND report_id = $2",
                                 2, NULL, p, NULL, NULL, 0);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    int rc = -1;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        bl_log_error("api: report download query failed", BL_FS("report_id", id),
                     BL_FS("error", PQresultErrorMessage(res)));
        goto done;
    }
    if (PQntuples(res) == 0) {
        rc = bl_api_fail(req->http, resp, 404, NULL, "no such report in this organization", NULL);
        goto done;
    }
    const download_format *f = asked ? format_named(asked, 0) : format_named(PQgetvalue(res, 0, 2), 1);
    if (!f)
        f = format_named("markdown", 0);
    char *body = NULL, name[160], disposition[200];
    size_t len = 0;
    if (render(f, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), &body, &len, &err) != 0) {
        bl_log_error("api: report rendering failed", BL_FS("report_id", id), BL_FS("format", f->name),
                     BL_FS("error", err.msg));
        goto done;
    }
    file_name(id, f->extension, name, sizeof name);
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", name);
    if (bl_http_response_header(resp, "Content-Disposition", disposition) != 0) {
        free(body);
        goto done;
    }
    rc = bl_http_response_body_owned(resp, body, len, f->content_type);
done:
    PQclear(res);
    return rc;
}

static const char operation[] =
    "{\"operationId\":\"download_report\",\"summary\":\"A report as a document to keep: PDF, HTML or markdown, "
    "as an attachment\",\"tags\":[\"reports\"],\"parameters\":["
    "{\"name\":\"format\",\"in\":\"query\",\"description\":\"pdf, html or "
    "markdown; by default the format the report was generated for\",\"schema\":{\"type\":\"string\",\"enum\":"
    "[\"pdf\",\"html\",\"markdown\"]}}],\"responses\":{\"200\":{\"description\":\"The document\",\"content\":{"
    "\"application/pdf\":{\"schema\":{\"type\":\"string\",\"format\":\"binary\"}},\"text/html\":{\"schema\":{"
    "\"type\":\"string\"}},\"text/markdown\":{\"schema\":{\"type\":\"string\"}}}},"
    "\"400\":{\"description\":\"an unknown format (bad_request)\"},"
    "\"404\":{\"description\":\"no such report (not_found)\"}}}";

static const bl_api_route routes[] = {
    {"GET", "/v1/reports/:id/download", BL_API_BY_METHOD, download_report},
};

int bl_api_routes_report_download(bl_api_server *s, bl_err *err)
{
    if (bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], NULL, err) != 0)
        return -1;
    json_error_t jerr;
    json_t *op = json_loads(operation, 0, &jerr);
    if (!op)
        return bl_err_set(err, BL_EINVAL, "report download: operation document: %s", jerr.text);
    return bl_api_server_document(s, "GET", "/v1/reports/:id/download", op, err);
}
