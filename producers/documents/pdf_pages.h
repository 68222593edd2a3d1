/* A4 PDF documents written to memory: cairo's PDF surface
 * (cairo_pdf_surface_create_for_stream) with pango laying text out and
 * wrapping it, a cursor moving down the page and a new page when the next
 * block would not fit. What the domains' reports share; each draws its own
 * shapes (labelled lines, tables) with these steps. */
#ifndef BUSLINE_PRODUCERS_DOCUMENTS_PDF_PAGES_H
#define BUSLINE_PRODUCERS_DOCUMENTS_PDF_PAGES_H

#include "core/err.h"

#include <stddef.h>

#define BL_PDF_PAGE_W 595.0 /* A4 in points */
#define BL_PDF_PAGE_H 842.0
#define BL_PDF_MARGIN 56.0
#define BL_PDF_TEXT_W (BL_PDF_PAGE_W - 2 * BL_PDF_MARGIN)

typedef enum bl_pdf_font {
    BL_PDF_BODY,
    BL_PDF_BOLD,
    BL_PDF_HEADING,
    BL_PDF_TITLE,
    BL_PDF_SMALL,
    BL_PDF_MONO,
    BL_PDF_CELL, /* table cells */
    BL_PDF_FONT_COUNT
} bl_pdf_font;

typedef struct bl_pdf_pages bl_pdf_pages;

/* Starts a document titled title (metadata) made by creator. Returns it
 * (free with bl_pdf_pages_finish or bl_pdf_pages_free), or NULL with err. */
bl_pdf_pages *bl_pdf_pages_open(const char *title, const char *creator, bl_err *err);

/* Lays text out in font, width points wide, as the current layout; returns
 * its height in points. */
double bl_pdf_lay_out(bl_pdf_pages *w, const char *text, bl_pdf_font font, double width);

/* Starts a new page when a block of height h does not fit on this one. */
void bl_pdf_make_room(bl_pdf_pages *w, double h);

/* The cursor (points from the page's top) and the pages finished so far. */
double bl_pdf_y(const bl_pdf_pages *w);
int bl_pdf_page(const bl_pdf_pages *w);
void bl_pdf_set_y(bl_pdf_pages *w, double y);

/* Sets the colour of what is drawn next. */
void bl_pdf_colour(bl_pdf_pages *w, double r, double g, double b);

/* Draws the current layout whole with its top-left corner at x, y. */
void bl_pdf_draw_at(bl_pdf_pages *w, double x, double y);

/* Draws the current layout's lines at x from the cursor down, a new page
 * when the next line would cross the bottom margin (so text longer than a
 * page flows on); leaves the cursor below the last line. */
void bl_pdf_draw_lines(bl_pdf_pages *w, double x);

/* A full-width block of text in font and colour, then after points of
 * space; kept on one page when it fits on one, else it flows on. */
void bl_pdf_block(bl_pdf_pages *w, const char *text, bl_pdf_font font, double r, double g, double b,
                  double after);

/* A thin horizontal rule from x0 to x1 at y. */
void bl_pdf_rule(bl_pdf_pages *w, double x0, double x1, double y);

/* Ends the document and frees w. Returns 0 with *out (malloc'd, the
 * caller's) and *len, or -1 with err (nothing in *out). */
int bl_pdf_pages_finish(bl_pdf_pages *w, char **out, size_t *len, bl_err *err);

/* Frees an unfinished document. NULL is a no-op. */
void bl_pdf_pages_free(bl_pdf_pages *w);

#endif
