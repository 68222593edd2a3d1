/* Reports (rapports) of one intervention: a template turns the intervention
 * and client rows into a document model (a title and sections of labelled
 * lines), and one renderer per format writes that model as PDF (cairo's PDF
 * surface with pango text layout), HTML or markdown, in memory. The command
 * rapport.generate (report.c) stores the result in fieldservice_reports. */
#ifndef BUSLINE_PRODUCERS_FIELDSERVICE_REPORT_H
#define BUSLINE_PRODUCERS_FIELDSERVICE_REPORT_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

#define FS_REPORT_LINES_MAX 16
#define FS_REPORT_SECTIONS_MAX 6

/* One labelled line; value NULL is a blank for the technician to fill in
 * (inspection checklists). Strings are borrowed from the caller. */
typedef struct fs_report_line {
    const char *label;
    const char *value;
} fs_report_line;

typedef struct fs_report_section {
    const char *heading;
    fs_report_line lines[FS_REPORT_LINES_MAX];
    size_t count;
} fs_report_section;

/* A rendered document's content; every string borrowed. */
typedef struct fs_report_doc {
    const char *title;    /* "Rapport d'inspection : Recherche de fuite" */
    const char *subtitle; /* "Rapport R-1 · modèle inspection · généré le ..." */
    fs_report_section sections[FS_REPORT_SECTIONS_MAX];
    size_t count;
} fs_report_doc;

/* What a template reads: the intervention, its client and the request.
 * Every string borrowed, NULL when unknown. */
typedef struct fs_report_facts {
    const char *report_id, *report_type, *generated_at;
    const char *intervention_id, *title, *description, *status, *status_note, *intervention_type;
    const char *scheduled_at, *duration, *technician;
    const char *site_street, *site_postal_code, *site_city, *site_country;
    const char *client_id, *client_name, *client_email, *client_phone, *client_address;
} fs_report_facts;

/* The templates, ended by NULL: "default", "inspection". */
extern const char *const fs_report_templates[];

/* Whether name is one of fs_report_templates. */
bool fs_report_template_known(const char *name);

/* Fills doc from facts with template name; title_buf and subtitle_buf (each
 * of len bytes) hold the formatted title and subtitle doc points at.
 * Returns 0, or -1 with err (BL_EINVAL naming the known templates) for an
 * unknown template. */
int fs_report_build(const char *name, const fs_report_facts *facts, fs_report_doc *doc,
                    char *title_buf, char *subtitle_buf, size_t len, bl_err *err);

/* Renderers: write doc into *out (malloc'd, caller frees; *len bytes, no
 * terminating NUL counted). Return 0, or -1 with err (BL_ENOMEM, or
 * BL_EINVAL with the renderer's reason). */
int fs_report_render_markdown(const fs_report_doc *doc, char **out, size_t *len, bl_err *err);
int fs_report_render_html(const fs_report_doc *doc, char **out, size_t *len, bl_err *err);
int fs_report_render_pdf(const fs_report_doc *doc, char **out, size_t *len, bl_err *err);

/* The media type of a format symbol ("PDF" -> "application/pdf"), and its
 * file extension ("pdf", "html", "md"); NULL for an unknown format. */
const char *fs_report_content_type(const char *format);
const char *fs_report_extension(const char *format);

#endif
