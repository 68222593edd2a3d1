/* Text written into HTML documents. */
#ifndef BUSLINE_PRODUCERS_DOCUMENTS_HTML_ESCAPE_H
#define BUSLINE_PRODUCERS_DOCUMENTS_HTML_ESCAPE_H

#include <stdio.h>

/* Writes s (NULL: nothing) to html escaped for element content and quoted
 * attribute values (& < > " '). */
void bl_html_write_escaped(FILE *html, const char *s);

#endif
