/* A4 PDF documents in memory (see pdf_pages.h). A private font map per
 * document, released with it, so a render keeps nothing behind. */
#include "producers/documents/pdf_pages.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Reports are a few pages; a larger one is a bug, not a document. */
#define PDF_MAX_BYTES (16u * 1024 * 1024)

typedef struct pdf_sink {
    unsigned char *data;
    size_t len, cap;
    bool overflow;
} pdf_sink;

struct bl_pdf_pages {
    pdf_sink sink;
    cairo_surface_t *surface;
    cairo_t *cr;
    PangoFontMap *map;
    PangoContext *ctx;
    PangoLayout *layout;
    PangoFontDescription *fonts[BL_PDF_FONT_COUNT];
    double y;
    int page;
};

static const char *const font_specs[BL_PDF_FONT_COUNT] = {
    [BL_PDF_BODY] = "DejaVu Sans 10.5",  [BL_PDF_BOLD] = "DejaVu Sans Bold 10.5",
    [BL_PDF_HEADING] = "DejaVu Sans Bold 14", [BL_PDF_TITLE] = "DejaVu Sans Bold 19",
    [BL_PDF_SMALL] = "DejaVu Sans Italic 9.5", [BL_PDF_MONO] = "DejaVu Sans Mono 8",
    [BL_PDF_CELL] = "DejaVu Sans 9",
};

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

bl_pdf_pages *bl_pdf_pages_open(const char *title, const char *creator, bl_err *err)
{
    bl_pdf_pages *w = calloc(1, sizeof *w);
    if (!w) {
        bl_err_set(err, BL_ENOMEM, "pdf: out of memory");
        return NULL;
    }
    w->surface = cairo_pdf_surface_create_for_stream(sink_write, &w->sink, BL_PDF_PAGE_W, BL_PDF_PAGE_H);
    if (cairo_surface_status(w->surface) != CAIRO_STATUS_SUCCESS) {
        bl_err_set(err, BL_ENOMEM, "pdf: %s", cairo_status_to_string(cairo_surface_status(w->surface)));
        bl_pdf_pages_free(w);
        return NULL;
    }
    cairo_pdf_surface_set_metadata(w->surface, CAIRO_PDF_METADATA_TITLE, title ? title : "");
    cairo_pdf_surface_set_metadata(w->surface, CAIRO_PDF_METADATA_CREATOR, creator ? creator : "busline");
    w->cr = cairo_create(w->surface);
    w->map = pango_cairo_font_map_new();
    if (cairo_status(w->cr) != CAIRO_STATUS_SUCCESS || !w->map) {
        bl_err_set(err, BL_ENOMEM, "pdf: cannot start drawing");
        bl_pdf_pages_free(w);
        return NULL;
    }
    w->ctx = pango_font_map_create_context(w->map);
    /* The surface's unit is the PDF point: sizes in points mean points. */
    pango_cairo_context_set_resolution(w->ctx, 72.0);
    pango_cairo_update_context(w->cr, w->ctx);
    w->layout = pango_layout_new(w->ctx);
    for (int i = 0; i < BL_PDF_FONT_COUNT; i++)
        w->fonts[i] = pango_font_description_from_string(font_specs[i]);
    w->y = BL_PDF_MARGIN;
    return w;
}

double bl_pdf_lay_out(bl_pdf_pages *w, const char *text, bl_pdf_font font, double width)
{
    pango_layout_set_font_description(w->layout, w->fonts[font]);
    pango_layout_set_width(w->layout, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(w->layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_text(w->layout, text ? text : "", -1);
    int pw = 0, ph = 0;
    pango_layout_get_size(w->layout, &pw, &ph);
    return (double)ph / PANGO_SCALE;
}

static void new_page(bl_pdf_pages *w)
{
    cairo_show_page(w->cr);
    w->page++;
    w->y = BL_PDF_MARGIN;
}

void bl_pdf_make_room(bl_pdf_pages *w, double h)
{
    if (w->y + h > BL_PDF_PAGE_H - BL_PDF_MARGIN && w->y > BL_PDF_MARGIN)
        new_page(w);
}

double bl_pdf_y(const bl_pdf_pages *w)
{
    return w->y;
}

int bl_pdf_page(const bl_pdf_pages *w)
{
    return w->page;
}

void bl_pdf_set_y(bl_pdf_pages *w, double y)
{
    w->y = y;
}

void bl_pdf_colour(bl_pdf_pages *w, double r, double g, double b)
{
    cairo_set_source_rgb(w->cr, r, g, b);
}

void bl_pdf_draw_at(bl_pdf_pages *w, double x, double y)
{
    cairo_move_to(w->cr, x, y);
    pango_cairo_show_layout(w->cr, w->layout);
}

void bl_pdf_draw_lines(bl_pdf_pages *w, double x)
{
    PangoLayoutIter *it = pango_layout_get_iter(w->layout);
    double origin = w->y; /* the layout's top, in this page's coordinates */
    do {
        PangoRectangle r;
        pango_layout_iter_get_line_extents(it, NULL, &r);
        double line_top = (double)r.y / PANGO_SCALE, h = (double)r.height / PANGO_SCALE;
        if (origin + line_top + h > BL_PDF_PAGE_H - BL_PDF_MARGIN && origin + line_top > BL_PDF_MARGIN) {
            new_page(w);
            origin = BL_PDF_MARGIN - line_top;
        }
        cairo_move_to(w->cr, x, origin + (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE);
        pango_cairo_show_layout_line(w->cr, pango_layout_iter_get_line_readonly(it));
        w->y = origin + line_top + h;
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
}

void bl_pdf_block(bl_pdf_pages *w, const char *text, bl_pdf_font font, double r, double g, double b,
                  double after)
{
    double h = bl_pdf_lay_out(w, text, font, BL_PDF_TEXT_W);
    bl_pdf_make_room(w, h <= BL_PDF_PAGE_H - 2 * BL_PDF_MARGIN ? h : 0);
    bl_pdf_colour(w, r, g, b);
    bl_pdf_draw_lines(w, BL_PDF_MARGIN);
    w->y += after;
}

void bl_pdf_rule(bl_pdf_pages *w, double x0, double x1, double y)
{
    cairo_set_line_width(w->cr, 0.5);
    cairo_move_to(w->cr, x0, y);
    cairo_line_to(w->cr, x1, y);
    cairo_stroke(w->cr);
}

int bl_pdf_pages_finish(bl_pdf_pages *w, char **out, size_t *len, bl_err *err)
{
    *out = NULL;
    *len = 0;
    cairo_show_page(w->cr);
    cairo_status_t drawn = cairo_status(w->cr);
    cairo_destroy(w->cr);
    w->cr = NULL;
    cairo_surface_finish(w->surface);
    cairo_status_t finished = cairo_surface_status(w->surface);
    int rc = 0;
    if (drawn != CAIRO_STATUS_SUCCESS || finished != CAIRO_STATUS_SUCCESS) {
        cairo_status_t bad = drawn != CAIRO_STATUS_SUCCESS ? drawn : finished;
        if (w->sink.overflow)
            bl_err_set(err, BL_EINVAL, "pdf: larger than %u bytes", PDF_MAX_BYTES);
        else
            bl_err_set(err, bad == CAIRO_STATUS_NO_MEMORY ? BL_ENOMEM : BL_EINVAL, "pdf: %s",
                       cairo_status_to_string(bad));
        rc = -1;
    } else {
        *out = (char *)w->sink.data;
        *len = w->sink.len;
        w->sink.data = NULL;
    }
    bl_pdf_pages_free(w);
    return rc;
}

void bl_pdf_pages_free(bl_pdf_pages *w)
{
    if (!w)
        return;
    for (int i = 0; i < BL_PDF_FONT_COUNT; i++)
        pango_font_description_free(w->fonts[i]);
    if (w->layout)
        g_object_unref(w->layout);
    if (w->ctx)
        g_object_unref(w->ctx);
    if (w->cr)
        cairo_destroy(w->cr);
    if (w->surface)
        cairo_surface_destroy(w->surface);
    if (w->map)
        g_object_unref(w->map);
    free(w->sink.data);
    free(w);
}
