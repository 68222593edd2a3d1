/* A report as one standalone HTML page (UTF-8, a small inline style sheet,
 * no script, nothing fetched), every value HTML-escaped. */
#include "producers/fieldservice/report.h"

#include "producers/documents/html_escape.h"

#include <stdio.h>
#include <stdlib.h>

static const char style[] =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:2em auto;max-width:50em;color:#222}"
    "h1{font-size:1.5em;border-bottom:2px solid #1f5f99;padding-bottom:.3em}"
    "h2{font-size:1.15em;color:#1f5f99;margin-top:1.5em}"
    "table{border-collapse:collapse;width:100%}"
    "th{text-align:left;width:35%;padding:.3em;vertical-align:top}"
    "td{padding:.3em;border-bottom:1px solid #ddd}"
    "td.blank{height:2em;border-bottom:1px solid #888}"
    ".subtitle{color:#666;font-style:italic}";

int fs_report_render_html(const fs_report_doc *doc, char **out, size_t *len, bl_err *err)
{
    *out = NULL;
    *len = 0;
    FILE *html = open_memstream(out, len);
    if (!html)
        return bl_err_set(err, BL_ENOMEM, "report: html: out of memory");
    fputs("<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n<title>", html);
    bl_html_write_escaped(html, doc->title);
    fprintf(html, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", style);
    bl_html_write_escaped(html, doc->title);
    fputs("</h1>\n<p class=\"subtitle\">", html);
    bl_html_write_escaped(html, doc->subtitle);
    fputs("</p>\n", html);
    for (size_t i = 0; i < doc->count; i++) {
        const fs_report_section *s = &doc->sections[i];
        fputs("<h2>", html);
        bl_html_write_escaped(html, s->heading);
        fputs("</h2>\n<table>\n", html);
        for (size_t j = 0; j < s->count; j++) {
            fputs("<tr><th>", html);
            bl_html_write_escaped(html, s->lines[j].label);
            if (s->lines[j].value) {
                fputs("</th><td>", html);
                bl_html_write_escaped(html, s->lines[j].value);
            } else {
                fputs("</th><td class=\"blank\">", html);
            }
            fputs("</td></tr>\n", html);
        }
        fputs("</table>\n", html);
    }
    fputs("</body>\n</html>\n", html);
    if (fclose(html) != 0) {
        free(*out);
        *out = NULL;
        return bl_err_set(err, BL_ENOMEM, "report: html: out of memory");
    }
    return 0;
}
