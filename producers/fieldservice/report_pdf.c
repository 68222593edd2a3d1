/* A report as PDF: the document model drawn on A4 pages by the shared page
 * writer (producers/documents/pdf_pages.h): a title, a subtitle, and per
 * section a heading and its labelled lines. */
#include "producers/fieldservice/report.h"

#include "producers/documents/pdf_pages.h"

#define LABEL_W 170.0
#define GAP 6.0

/* A label and its value side by side; a blank (NULL value) is a ruled line
 * to write on. A value that fits on a page is kept on one. */
static void labelled(bl_pdf_pages *w, const fs_report_line *l)
{
    double value_w = BL_PDF_TEXT_W - LABEL_W;
    double hv = l->value ? bl_pdf_lay_out(w, l->value, BL_PDF_BODY, value_w) : 18.0;
    double hl = bl_pdf_lay_out(w, l->label, BL_PDF_BOLD, LABEL_W - GAP);
    double whole = hl > hv ? hl : hv;
    bl_pdf_make_room(w, whole <= BL_PDF_PAGE_H - 2 * BL_PDF_MARGIN ? whole : hl);
    double top = bl_pdf_y(w);
    int page = bl_pdf_page(w);
    bl_pdf_colour(w, 0.13, 0.13, 0.13);
    bl_pdf_draw_at(w, BL_PDF_MARGIN, top);
    if (l->value) {
        bl_pdf_lay_out(w, l->value, BL_PDF_BODY, value_w);
        bl_pdf_draw_lines(w, BL_PDF_MARGIN + LABEL_W);
        if (bl_pdf_page(w) == page && bl_pdf_y(w) < top + hl)
            bl_pdf_set_y(w, top + hl);
    } else {
        bl_pdf_colour(w, 0.5, 0.5, 0.5);
        bl_pdf_rule(w, BL_PDF_MARGIN + LABEL_W, BL_PDF_PAGE_W - BL_PDF_MARGIN, top + whole);
        bl_pdf_set_y(w, top + whole);
    }
    bl_pdf_set_y(w, bl_pdf_y(w) + GAP);
}

int fs_report_render_pdf(const fs_report_doc *doc, char **out, size_t *len, bl_err *err)
{
    *out = NULL;
    *len = 0;
    bl_pdf_pages *w = bl_pdf_pages_open(doc->title, "busline fieldservice", err);
    if (!w)
        return bl_err_wrap(err, "report");
    bl_pdf_block(w, doc->title, BL_PDF_TITLE, 0.12, 0.37, 0.6, 4);
    bl_pdf_block(w, doc->subtitle, BL_PDF_SMALL, 0.4, 0.4, 0.4, 10);
    for (size_t i = 0; i < doc->count; i++) {
        const fs_report_section *s = &doc->sections[i];
        bl_pdf_make_room(w, 60); /* a heading is not left alone at a page's foot */
        bl_pdf_set_y(w, bl_pdf_y(w) + 8);
        bl_pdf_block(w, s->heading, BL_PDF_HEADING, 0.12, 0.37, 0.6, 6);
        for (size_t j = 0; j < s->count; j++)
            labelled(w, &s->lines[j]);
    }
    return bl_pdf_pages_finish(w, out, len, err) == 0 ? 0 : bl_err_wrap(err, "report");
}
