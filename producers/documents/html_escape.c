#include "producers/documents/html_escape.h"

void bl_html_write_escaped(FILE *html, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", html); break;
        case '<': fputs("&lt;", html); break;
        case '>': fputs("&gt;", html); break;
        case '"': fputs("&quot;", html); break;
        case '\'': fputs("&#39;", html); break;
        default: fputc(*p, html);
        }
    }
}
