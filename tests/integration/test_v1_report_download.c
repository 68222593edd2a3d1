/* GET /v1/reports/:id/download (Powalyze §6.2): an executive report's
 * stored markdown served as the document asked for — a PDF poppler reads
 * back with the report's text (a long table flowing over pages), an HTML
 * page with its tables and every text escaped, or the markdown itself — as
 * an attachment; the documented errors for an unknown format, another
 * organization's report and no key. */
#include "tests/support/api_fixture.h"
#include "tests/support/pdf_text.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bl_test_api api;

static const char report_md[] =
    "# Executive report Q3\n\n"
    "Organization: acme\nPeriod: 2026-07-01 to 2026-09-30\n\n"
    "## Projects (2)\n\n"
    "| Project | RAG | Budget |\n|---|---|---|\n"
    "| Harbour \\| Bridge | RED | 120000 |\n"
    "| <script>alert(1)</script> | GREEN | 5000 |\n\n"
    "## Decisions (0)\n\n_None._\n";

/* Stores report id with markdown md in the API's organization, as the
 * PMO service's report.generate does. */
static int store_report(const char *id, const char *format, const char *md)
{
    const char *p[] = {api.org, id, format, md};
    return bl_test_sql(api.pool,
                       "INSERT INTO pmo_reports (organization_id, report_id, format, title, markdown, period_start,"
                       " period_end) VALUES ($1, $2, $3, 'Executive report Q3', $4, now() - interval '90 days', now())",
                       4, p);
}

static void pdf_download_reads_back_the_report(void)
{
    REQUIRE(store_report("report_pdf", "PDF", report_md) == 0);
    bl_test_reply r = {0};
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/reports/report_pdf/download", api.write_token, NULL, NULL, &r),
                 200);
    CHECK_EQ_STR(r.content_type, "application/pdf");
    CHECK_EQ_STR(r.disposition, "attachment; filename=\"report-report_pdf.pdf\"");
    CHECK(r.len > 4 && memcmp(r.body, "%PDF", 4) == 0);
    char *text = bl_test_pdf_text(r.body, r.len);
    REQUIRE(text);
    CHECK(strstr(text, "Executive report Q3") != NULL);
    CHECK(strstr(text, "Projects (2)") != NULL);
    CHECK(strstr(text, "Harbour | Bridge") != NULL);
    CHECK(strstr(text, "120000") != NULL);
    CHECK(strstr(text, "None.") != NULL);
    CHECK(strstr(text, "|---") == NULL); /* the table's rule is not text */
    free(text);
    bl_test_reply_clear(&r);
}

static void a_long_table_flows_over_pages(void)
{
    char *md = NULL;
    size_t cap = 0;
    FILE *f = open_memstream(&md, &cap);
    REQUIRE(f);
    fputs("# Portfolio\n\n## Risks (300)\n\n| Risk | Severity | Owner |\n|---|---|---|\n", f);
    for (int i = 1; i <= 300; i++)
        fprintf(f, "| Risk number %d of the portfolio | HIGH | owner-%d |\n", i, i);
    fclose(f);
    REQUIRE(store_report("report_long", "PDF", md) == 0);
    free(md);
    bl_test_reply r = {0};
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/reports/report_long/download?format=pdf", api.write_token, NULL,
                                  NULL, &r),
                 200);
    CHECK(bl_test_pdf_pages(r.body, r.len) > 3);
    char *text = bl_test_pdf_text(r.body, r.len);
    REQUIRE(text);
    CHECK(strstr(text, "Risk number 1 ") != NULL);
    CHECK(strstr(text, "Risk number 300 ") != NULL); /* the last row, pages on */
    CHECK(strstr(text, "owner-300") != NULL);
    free(text);
    bl_test_reply_clear(&r);
}

static void html_and_markdown_downloads(void)
{
    REQUIRE(store_report("report_md", "MARKDOWN", report_md) == 0);
    bl_test_reply r = {0};
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/reports/report_md/download?format=html", api.write_token, NULL,
                                  NULL, &r),
                 200);
    CHECK_EQ_STR(r.content_type, "text/html; charset=utf-8");
    CHECK_EQ_STR(r.disposition, "attachment; filename=\"report-report_md.html\"");
    CHECK(strstr(r.body, "<h1>Executive report Q3</h1>") != NULL);
    CHECK(strstr(r.body, "<tr><th>Project</th><th>RAG</th><th>Budget</th></tr>") != NULL);
    CHECK(strstr(r.body, "<td>Harbour | Bridge</td>") != NULL);
    CHECK(strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
    CHECK(strstr(r.body, "<script>") == NULL);
    bl_test_reply_clear(&r);
    /* the report's own format by default */
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/reports/report_md/download", api.write_token, NULL, NULL, &r), 200);
    CHECK_EQ_STR(r.content_type, "text/markdown; charset=utf-8");
    CHECK_EQ_STR(r.disposition, "attachment; filename=\"report-report_md.md\"");
    CHECK_EQ_STR(r.body, report_md);
    bl_test_reply_clear(&r);
}

static void the_documented_errors(void)
{
    bl_test_reply r = {0};
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/reports/report_md/download?format=docx", api.write_token, NULL,
                                  NULL, &r),
                 400);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "bad_request");
    CHECK(json_is_string(json_object_get(json_object_get(r.json, "error"), "message")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/reports/report_gone/download", api.write_token, NULL, NULL, &r),
                 404);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "not_found");
    bl_test_reply_clear(&r);
    /* another organization's key does not see this one's report */
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/reports/report_md/download", api.other_token, NULL, NULL, &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/reports/report_md/download", NULL, NULL, NULL, &r), 401);
    bl_test_reply_clear(&r);
}

int main(void)
{
    if (bl_test_api_start(&api, 0) != 0) {
        bl_test_api_stop(&api);
        return 1;
    }
    BL_RUN(pdf_download_reads_back_the_report);
    BL_RUN(a_long_table_flows_over_pages);
    BL_RUN(html_and_markdown_downloads);
    BL_RUN(the_documented_errors);
    bl_test_api_stop(&api);
    return bl_test_summary();
}
