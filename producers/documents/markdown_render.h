/* The markdown the domains' reports are written in, rendered as a PDF or a
 * standalone HTML page: what a report's download serves when asked for a
 * document rather than its text. The subset the report writers emit:
 * "# " a title, "## " a heading, "|"-delimited tables (a header row, a
 * "|---|" rule, rows; "\|" an escaped bar), "_text_" an aside, blank lines,
 * and any other line a paragraph. */
#ifndef BUSLINE_PRODUCERS_DOCUMENTS_MARKDOWN_RENDER_H
#define BUSLINE_PRODUCERS_DOCUMENTS_MARKDOWN_RENDER_H

#include "core/err.h"

#include <stddef.h>

/* Renders md (NUL-terminated) as an A4 PDF. Returns 0 with *out (malloc'd,
 * the caller's) and *len, or -1 with err. */
int bl_markdown_render_pdf(const char *md, const char *title, char **out, size_t *len, bl_err *err);

/* Renders md as one HTML page (UTF-8, inline style, every text escaped).
 * Returns 0 with *out (malloc'd, NUL-terminated, the caller's) and *len,
 * or -1 with err. */
int bl_markdown_render_html(const char *md, const char *title, char **out, size_t *len, bl_err *err);

#endif
