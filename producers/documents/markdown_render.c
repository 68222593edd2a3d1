/* Report markdown as PDF or HTML (see markdown_render.h). Both walk the
 * text line by line through one classifier, so the two documents show the
 * same structure. */
#include "producers/documents/markdown_render.h"

#include "producers/documents/html_escape.h"
#include "producers/documents/pdf_pages.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CELLS_MAX 16
#define CELL_GAP 6.0

typedef enum line_kind { LINE_BLANK, LINE_TITLE, LINE_HEADING, LINE_ROW, LINE_RULE, LINE_ASIDE, LINE_TEXT } line_kind;

/* The line's kind and, for titles, headings and asides, its text without
 * the markup (in text, of cap bytes). */
static line_kind classify(const char *line, char *text, size_t cap)
{
    size_t n = strlen(line);
    const char *body = line;
    line_kind kind = LINE_TEXT;
    if (n == 0)
        return LINE_BLANK;
    if (strncmp(line, "## ", 3) == 0)
        body = line + 3, kind = LINE_HEADING;
    else if (strncmp(line, "# ", 2) == 0)
        body = line + 2, kind = LINE_TITLE;
    else if (line[0] == '|')
        return strspn(line, "|-: ") == n ? LINE_RULE : LINE_ROW;
    else if (n > 2 && line[0] == '_' && line[n - 1] == '_')
        kind = LINE_ASIDE;
    snprintf(text, cap, "%.*s", kind == LINE_ASIDE ? (int)(n - 2) : (int)strlen(body),
             kind == LINE_ASIDE ? line + 1 : body);
    return kind;
}

/* Splits a table row into its cells (unescaped, in place): returns how
 * many, at most CELLS_MAX. */
static size_t cells_of(char *row, char *cells[CELLS_MAX])
{
    size_t count = 0;
    char *p = row + 1, *w = p, *start = p;
    for (; *p; p++) {
        if (p[0] == '\\' && p[1] == '|') {
            *w++ = '|';
            p++;
        } else if (*p == '|') {
            *w = '\0';
            while (*start == ' ')
                start++;
            for (char *e = w; e > start && e[-1] == ' ';)
                *--e = '\0';
            if (count < CELLS_MAX)
                cells[count++] = start;
            start = w = p + 1;
        } else {
            *w++ = *p;
        }
    }
    return count;
}

/* Calls each(line, kind, text, ctx) for every line of md; a line is at
 * most 64 KiB (longer ones are cut). */
static int walk(const char *md, int (*each)(char *line, line_kind kind, const char *text, void *ctx), void *ctx)
{
    enum { LINE_MAX_BYTES = 65536 };
    char *line = malloc(LINE_MAX_BYTES), *text = malloc(LINE_MAX_BYTES);
    int rc = line && text ? 0 : -1;
    for (const char *p = md; rc == 0 && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        snprintf(line, LINE_MAX_BYTES, "%.*s", (int)(n < LINE_MAX_BYTES ? n : LINE_MAX_BYTES - 1), p);
        rc = each(line, classify(line, text, LINE_MAX_BYTES), text, ctx);
        p = nl ? nl + 1 : p + n;
    }
    free(line);
    free(text);
    return rc;
}

/* ---- PDF ---- */

typedef struct pdf_walk {
    bl_pdf_pages *w;
    bool header_next; /* the next row is a table's header */
} pdf_walk;

static void pdf_row(bl_pdf_pages *w, char *line, bool header)
{
    char *cells[CELLS_MAX];
    size_t n = cells_of(line, cells);
    if (n == 0)
        return;
    double col = BL_PDF_TEXT_W / (double)n, h = 0;
    bl_pdf_font font = header ? BL_PDF_BOLD : BL_PDF_CELL;
    for (size_t i = 0; i < n; i++) {
        double hi = bl_pdf_lay_out(w, cells[i], font, col - CELL_GAP);
        h = hi > h ? hi : h;
    }
    bl_pdf_make_room(w, h + CELL_GAP);
    double top = bl_pdf_y(w);
    bl_pdf_colour(w, 0.13, 0.13, 0.13);
    for (size_t i = 0; i < n; i++) {
        bl_pdf_lay_out(w, cells[i], font, col - CELL_GAP);
        bl_pdf_draw_at(w, BL_PDF_MARGIN + (double)i * col, top);
    }
    bl_pdf_colour(w, 0.8, 0.8, 0.8);
    bl_pdf_rule(w, BL_PDF_MARGIN, BL_PDF_PAGE_W - BL_PDF_MARGIN, top + h + CELL_GAP / 2);
    bl_pdf_set_y(w, top + h + CELL_GAP);
}

static int pdf_line(char *line, line_kind kind, const char *text, void *ctx)
{
    pdf_walk *pw = ctx;
    bl_pdf_pages *w = pw->w;
    switch (kind) {
    case LINE_BLANK: pw->header_next = true; bl_pdf_set_y(w, bl_pdf_y(w) + 4); break;
    case LINE_TITLE: bl_pdf_block(w, text, BL_PDF_TITLE, 0.12, 0.37, 0.6, 8); break;
    case LINE_HEADING:
        bl_pdf_make_room(w, 60); /* a heading is not left alone at a page's foot */
        bl_pdf_block(w, text, BL_PDF_HEADING, 0.12, 0.37, 0.6, 6);
        break;
    case LINE_ROW: pdf_row(w, line, pw->header_next); pw->header_next = false; break;
    case LINE_RULE: break;
    case LINE_ASIDE: bl_pdf_block(w, text, BL_PDF_SMALL, 0.4, 0.4, 0.4, 4); break;
    case LINE_TEXT: bl_pdf_block(w, text, BL_PDF_BODY, 0.13, 0.13, 0.13, 2); break;
    }
    return 0;
}

int bl_markdown_render_pdf(const char *md, const char *title, char **out, size_t *len, bl_err *err)
{
    *out = NULL;
    *len = 0;
    bl_pdf_pages *w = bl_pdf_pages_open(title, "busline", err);
    if (!w)
        return -1;
    pdf_walk pw = {.w = w, .header_next = true};
    if (walk(md, pdf_line, &pw) != 0) {
        bl_pdf_pages_free(w);
        return bl_err_set(err, BL_ENOMEM, "pdf: out of memory");
    }
    return bl_pdf_pages_finish(w, out, len, err);
}

/* ---- HTML ---- */

typedef struct html_walk {
    FILE *html;
    int rows; /* rows of the open table, -1 when none is open */
} html_walk;

static void close_table(html_walk *hw)
{
    if (hw->rows >= 0)
        fputs("</table>\n", hw->html);
    hw->rows = -1;
}

static int html_line(char *line, line_kind kind, const char *text, void *ctx)
{
    html_walk *hw = ctx;
    FILE *html = hw->html;
    if (kind != LINE_ROW && kind != LINE_RULE)
        close_table(hw);
    const char *tag = kind == LINE_TITLE ? "h1" : kind == LINE_HEADING ? "h2" : kind == LINE_ASIDE ? "em" : "p";
    if (kind == LINE_ROW) {
        if (hw->rows < 0) {
            fputs("<table>\n", html);
            hw->rows = 0;
        }
        char *cells[CELLS_MAX];
        size_t n = cells_of(line, cells);
        const char *cell = hw->rows++ == 0 ? "th" : "td";
        fputs("<tr>", html);
        for (size_t i = 0; i < n; i++) {
            fprintf(html, "<%s>", cell);
            bl_html_write_escaped(html, cells[i]);
            fprintf(html, "</%s>", cell);
        }
        fputs("</tr>\n", html);
    } else if (kind != LINE_BLANK && kind != LINE_RULE) {
        fprintf(html, kind == LINE_ASIDE ? "<p><%s>" : "<%s>", tag);
        bl_html_write_escaped(html, text);
        fprintf(html, kind == LINE_ASIDE ? "</%s></p>\n" : "</%s>\n", tag);
    }
    return 0;
}

static const char style[] =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:2em auto;max-width:60em;color:#222}"
    "h1{font-size:1.5em;border-bottom:2px solid #1f5f99;padding-bottom:.3em}"
    "h2{font-size:1.15em;color:#1f5f99;margin-top:1.5em}"
    "table{border-collapse:collapse;width:100%}th{text-align:left;padding:.3em}"
    "td{padding:.3em;border-bottom:1px solid #ddd}em{color:#666}";

int bl_markdown_render_html(const char *md, const char *title, char **out, size_t *len, bl_err *err)
{
    *out = NULL;
    *len = 0;
    FILE *html = open_memstream(out, len);
    if (!html)
        return bl_err_set(err, BL_ENOMEM, "html: out of memory");
    fputs("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>", html);
    bl_html_write_escaped(html, title);
    fprintf(html, "</title>\n<style>%s</style>\n</head>\n<body>\n", style);
    html_walk hw = {.html = html, .rows = -1};
    int rc = walk(md, html_line, &hw);
    close_table(&hw);
    fputs("</body>\n</html>\n", html);
    if (fclose(html) != 0 || rc != 0) {
        free(*out);
        *out = NULL;
        *len = 0;
        return bl_err_set(err, BL_ENOMEM, "html: out of memory");
    }
    return 0;
}
