/* Reading PDFs back in tests, with poppler's pdftotext. */
#ifndef BUSLINE_TESTS_SUPPORT_PDF_TEXT_H
#define BUSLINE_TESTS_SUPPORT_PDF_TEXT_H

#include <stddef.h>

/* Runs pdftotext over the len bytes of pdf; returns its UTF-8 text
 * (malloc'd, the caller's), or NULL (pdftotext's complaint on stderr) when
 * it is not a PDF poppler reads. */
char *bl_test_pdf_text(const char *pdf, size_t len);

/* The number of pages poppler's pdfinfo reports for pdf, or -1. */
int bl_test_pdf_pages(const char *pdf, size_t len);

#endif
