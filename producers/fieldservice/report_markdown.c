/* A report as markdown: the title as a heading, each section a heading and
 * a list of "**label**: value" lines, blanks as underscores to fill in. Text
 * from the rows is escaped so it reads as text, never as markup. */
#include "producers/fieldservice/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes text with the punctuation that opens markdown inline markup
 * backslash-escaped and line breaks as spaces, so a value cannot open a
 * link, emphasis, code or raw HTML, nor start a block (values never start
 * a line: they follow a heading mark or a label). */
static void text(FILE *md, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '\n' || *p == '\r')
            fputc(' ', md);
        else if (strchr("\\`*_[]<>|~", *p))
            fprintf(md, "\\%c", *p);
        else
            fputc(*p, md);
    }
}

int fs_report_render_markdown(const fs_report_doc *doc, char **out, size_t *len, bl_err *err)
{
    *out = NULL;
    *len = 0;
    FILE *md = open_memstream(out, len);
    if (!md)
        return bl_err_set(err, BL_ENOMEM, "report: markdown: out of memory");
    fputs("# ", md);
    text(md, doc->title);
    fputs("\n\n_", md);
    text(md, doc->subtitle);
    fputs("_\n", md);
    for (size_t i = 0; i < doc->count; i++) {
        const fs_report_section *s = &doc->sections[i];
        fputs("\n## ", md);
        text(md, s->heading);
        fputs("\n\n", md);
        for (size_t j = 0; j < s->count; j++) {
            fputs("- **", md);
            text(md, s->lines[j].label);
            fputs("**: ", md);
            if (s->lines[j].value)
                text(md, s->lines[j].value);
            else
                fputs("\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_", md);
            fputc('\n', md);
        }
    }
    if (fclose(md) != 0) {
        free(*out);
        *out = NULL;
        return bl_err_set(err, BL_ENOMEM, "report: markdown: out of memory");
    }
    return 0;
}
