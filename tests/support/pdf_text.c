#include "tests/support/pdf_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs tool (pdftotext or pdfinfo, with its arguments before the file) over
 * pdf written to a temporary file; returns its output (malloc'd) or NULL. */
static char *run_over(const char *tool, const char *after, const char *pdf, size_t len)
{
    char path[] = "/tmp/bl_pdf_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    int wrote = write(fd, pdf, len) == (ssize_t)len;
    close(fd);
    char cmd[256], *text = NULL;
    snprintf(cmd, sizeof cmd, "%s %s %s 2>&1", tool, path, after);
    FILE *p = wrote ? popen(cmd, "r") : NULL;
    if (p) {
        size_t cap = 0, n = 0;
        FILE *mem = open_memstream(&text, &cap);
        char buf[4096];
        while (mem && (n = fread(buf, 1, sizeof buf, p)) > 0)
            fwrite(buf, 1, n, mem);
        if (mem)
            fclose(mem);
        if (pclose(p) != 0) {
            fprintf(stderr, "  %s: %s\n", tool, text ? text : "");
            free(text);
            text = NULL;
        }
    }
    unlink(path);
    return text;
}

char *bl_test_pdf_text(const char *pdf, size_t len)
{
    return run_over("pdftotext -enc UTF-8", "-", pdf, len);
}

int bl_test_pdf_pages(const char *pdf, size_t len)
{
    char *info = run_over("pdfinfo", "", pdf, len);
    const char *line = info ? strstr(info, "\nPages:") : NULL;
    int pages = line ? atoi(line + strlen("\nPages:")) : -1;
    free(info);
    return pages;
}
