/* A report as PDF: cairo's PDF surface written to memory
 * (cairo_pdf_surface_create_for_stream), text laid out and wrapped by pango
 * on A4 pages, a new page when the next block would not fit. A private font
 * map per document, released with it, so a render keeps nothing behind. */
#include "producers/fieldservice/report.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_W 595.0 /* A4 in points */
#define PAGE_H 842.0
#define MARGIN 56.0
#define LABEL_W 170.0
#define GAP 6.0
/* Reports are a few pages; a larger one is a bug, not a document. */
#define PDF_MAX_BYTES (16u * 1024 * 1024)

typedef struct pdf_sink {
    unsigned char *data;
    size_t len, cap;
    bool overflow;
} pdf_sink;

static cairo_status_t sink_write(void *arg, const unsigned char *bytes, unsigned int n)
{
    pdf_sink *s = arg;
    if (s->len + n > PDF_MAX_BYTES) {
        s->overflow = true;
        return CAIRO_STATUS_WRITE_ERROR;
    }
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 16384;
        while (cap < s->len + n)
            cap *= 2;
        unsigned char *data = realloc(s->data, cap);
        if (!data)
            return CAIRO_STATUS_NO_MEMORY;
        s->data = data;
        s->cap = cap;
    }
    memcpy(s->data + s->len, bytes, n);
    s->len += n;
    return CAIRO_STATUS_SUCCESS;
}

typedef struct page_writer {
    cairo_t *cr;
    PangoContext *ctx;
    PangoLayout *layout;
    PangoFontDescription *body, *bold, *heading, *title, *small;
    double y;
    int page; /* pages finished so far */
} page_writer;

static void new_page(page_writer *w)
{
    cairo_show_page(w->cr);
    w->page++;
    w->y = MARGIN;
}

/* Lays text out in font, width points wide; returns its height in points. */
static double lay_out(page_writer *w, const char *text, const PangoFontDescription *font,
                      double width)
{
    pango_layout_set_font_description(w->layout, font);
    pango_layout_set_width(w->layout, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(w->layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_text(w->layout, text ? text : "", -1);
    int pw = 0, ph = 0;
    pango_layout_get_size(w->layout, &pw, &ph);
    return (double)ph / PANGO_SCALE;
}

static void draw_at(page_writer *w, double x, double y)
{
    cairo_move_to(w->cr, x, y);
    pango_cairo_show_layout(w->cr, w->layout);
}

/* Starts a new page when a block of height h does not fit on this one. */
static void make_room(page_writer *w, double h)
{
    if (w->y + h > PAGE_H - MARGIN && w->y > MARGIN)
        new_page(w);
}

static void block(page_writer *w, const char *text, const PangoFontDescription *font, double r,
                  double g, double b, double after)
{
    double h = lay_out(w, text, font, PAGE_W - 2 * MARGIN);
    make_room(w, h);
    cairo_set_source_rgb(w->cr, r, g, b);
    draw_at(w, MARGIN, w->y);
    w->y += h + after;
}

/* Draws w->layout's lines at x from w->y down, a new page when the next
 * line would cross the bottom margin, so a value longer than a page flows
 * on; leaves w->y below the last line. */
static void draw_lines(page_writer *w, double x)
{
    PangoLayoutIter *it = pango_layout_get_iter(w->layout);
    double origin = w->y; /* the layout's top, in this page's coordinates */
    do {
        PangoRectangle r;
        pango_layout_iter_get_line_extents(it, NULL, &r);
        double line_top = (double)r.y / PANGO_SCALE, h = (double)r.height / PANGO_SCALE;
        if (origin + line_top + h > PAGE_H - MARGIN && origin + line_top > MARGIN) {
            new_page(w);
            origin = MARGIN - line_top;
        }
        cairo_move_to(w->cr, x, origin + (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE);
        pango_cairo_show_layout_line(w->cr, pango_layout_iter_get_line_readonly(it));
        w->y = origin + line_top + h;
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
}

/* A label and its value side by side; a blank (NULL value) is a ruled line
 * to write on. A value that fits on a page is kept on one. */
static void labelled(page_writer *w, const fs_report_line *l)
{
    double value_w = PAGE_W - 2 * MARGIN - LABEL_W;
    double hv = l->value ? lay_out(w, l->value, w->body, value_w) : 18.0;
    double hl = lay_out(w, l->label, w->bold, LABEL_W - GAP);
    double whole = hl > hv ? hl : hv;
    make_room(w, whole <= PAGE_H - 2 * MARGIN ? whole : hl);
    double top = w->y;
    int page = w->page;
    cairo_set_source_rgb(w->cr, 0.13, 0.13, 0.13);
    draw_at(w, MARGIN, top);
    if (l->value) {
        lay_out(w, l->value, w->body, value_w);
        draw_lines(w, MARGIN + LABEL_W);
        if (w->page == page && w->y < top + hl)
            w->y = top + hl;
    } else {
        cairo_set_source_rgb(w->cr, 0.5, 0.5, 0.5);
        cairo_set_line_width(w->cr, 0.5);
        cairo_move_to(w->cr, MARGIN + LABEL_W, top + whole);
        cairo_line_to(w->cr, PAGE_W - MARGIN, top + whole);
        cairo_stroke(w->cr);
        w->y = top + whole;
    }
    w->y += GAP;
}

static void draw_doc(page_writer *w, const fs_report_doc *doc)
{
    w->y = MARGIN;
    block(w, doc->title, w->title, 0.12, 0.37, 0.6, 4);
    block(w, doc->subtitle, w->small, 0.4, 0.4, 0.4, 10);
    for (size_t i = 0; i < doc->count; i++) {
        const fs_report_section *s = &doc->sections[i];
        make_room(w, 60); /* a heading is not left alone at a page's foot */
        w->y += 8;
        block(w, s->heading, w->heading, 0.12, 0.37, 0.6, 6);
        for (size_t j = 0; j < s->count; j++)
            labelled(w, &s->lines[j]);
    }
}

static PangoFontDescription *font(const char *spec)
{
    return pango_font_description_from_string(spec);
}

int fs_report_render_pdf(const fs_report_doc *doc, char **out, size_t *len, bl_err *err)
{
    *out = NULL;
    *len = 0;
    pdf_sink sink = {0};
    page_writer w = {0};
    PangoFontMap *map = NULL;
    int rc = -1;
    cairo_surface_t *surface = cairo_pdf_surface_create_for_stream(sink_write, &sink, PAGE_W, PAGE_H);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
        bl_err_set(err, BL_ENOMEM, "report: pdf: %s", cairo_status_to_string(cairo_surface_status(surface)));
        goto done;
    }
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, doc->title ? doc->title : "");
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "busline fieldservice");
    w.cr = cairo_create(surface);
    map = pango_cairo_font_map_new();
    if (cairo_status(w.cr) != CAIRO_STATUS_SUCCESS || !map) {
        bl_err_set(err, BL_ENOMEM, "report: pdf: cannot start drawing");
        goto done;
    }
    w.ctx = pango_font_map_create_context(map);
    /* The surface's unit is the PDF point: sizes in points mean points. */
    pango_cairo_context_set_resolution(w.ctx, 72.0);
    pango_cairo_update_context(w.cr, w.ctx);
    w.layout = pango_layout_new(w.ctx);
    w.body = font("DejaVu Sans 10.5");
    w.bold = font("DejaVu Sans Bold 10.5");
    w.heading = font("DejaVu Sans Bold 14");
    w.title = font("DejaVu Sans Bold 19");
    w.small = font("DejaVu Sans Italic 9.5");
    draw_doc(&w, doc);
    cairo_show_page(w.cr);
    cairo_status_t drawn = cairo_status(w.cr);
    cairo_destroy(w.cr);
    w.cr = NULL;
    cairo_surface_finish(surface);
    cairo_status_t finished = cairo_surface_status(surface);
    if (drawn != CAIRO_STATUS_SUCCESS || finished != CAIRO_STATUS_SUCCESS) {
        cairo_status_t bad = drawn != CAIRO_STATUS_SUCCESS ? drawn : finished;
        if (sink.overflow)
            bl_err_set(err, BL_EINVAL, "report: pdf: larger than %u bytes", PDF_MAX_BYTES);
        else
            bl_err_set(err, bad == CAIRO_STATUS_NO_MEMORY ? BL_ENOMEM : BL_EINVAL,
                       "report: pdf: %s", cairo_status_to_string(bad));
        goto done;
    }
    *out = (char *)sink.data;
    *len = sink.len;
    sink.data = NULL;
    rc = 0;
done:
    pango_font_description_free(w.body);
    pango_font_description_free(w.bold);
    pango_font_description_free(w.heading);
    pango_font_description_free(w.title);
    pango_font_description_free(w.small);
    if (w.layout)
        g_object_unref(w.layout);
    if (w.ctx)
        g_object_unref(w.ctx);
    if (w.cr)
        cairo_destroy(w.cr);
    cairo_surface_destroy(surface);
    if (map)
        g_object_unref(map);
    free(sink.data);
    return rc;
}
