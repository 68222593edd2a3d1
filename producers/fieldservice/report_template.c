/* The report templates: which sections of the intervention and client a
 * report shows. Every renderer draws the same model, so the PDF, the HTML and
 * the markdown of one report say the same thing. */
#include "producers/fieldservice/report.h"

#include <stdio.h>
#include <string.h>

const char *const fs_report_templates[] = {"default", "inspection", NULL};

bool fs_report_template_known(const char *name)
{
    for (size_t i = 0; name && fs_report_templates[i]; i++)
        if (strcmp(fs_report_templates[i], name) == 0)
            return true;
    return false;
}

/* Opens the next section; the templates below stay within
 * FS_REPORT_SECTIONS_MAX, and past it lines go on in the last one rather
 * than out of bounds. */
static fs_report_section *section(fs_report_doc *doc, const char *heading)
{
    if (doc->count == FS_REPORT_SECTIONS_MAX)
        return &doc->sections[FS_REPORT_SECTIONS_MAX - 1];
    fs_report_section *s = &doc->sections[doc->count++];
    s->heading = heading;
    s->count = 0;
    return s;
}

/* Adds a line; a known-empty fact shows as "-", not as a blank to fill. */
static void line(fs_report_section *s, const char *label, const char *value)
{
    if (s->count < FS_REPORT_LINES_MAX)
        s->lines[s->count++] = (fs_report_line){label, value ? value : "-"};
}

static void blank(fs_report_section *s, const char *label)
{
    if (s->count < FS_REPORT_LINES_MAX)
        s->lines[s->count++] = (fs_report_line){label, NULL};
}

static void common_sections(fs_report_doc *doc, const fs_report_facts *f)
{
    fs_report_section *s = section(doc, "Intervention");
    line(s, "Référence", f->intervention_id);
    line(s, "Titre", f->title);
    line(s, "Type", f->intervention_type);
    line(s, "Statut", f->status);
    if (f->status_note)
        line(s, "Commentaire de statut", f->status_note);
    line(s, "Date prévue", f->scheduled_at);
    line(s, "Durée", f->duration);
    line(s, "Technicien", f->technician);
    line(s, "Description", f->description);
    s = section(doc, "Lieu");
    line(s, "Adresse", f->site_street);
    line(s, "Code postal", f->site_postal_code);
    line(s, "Ville", f->site_city);
    line(s, "Pays", f->site_country);
    s = section(doc, "Client");
    line(s, "Nom", f->client_name);
    line(s, "Référence client", f->client_id);
    line(s, "E-mail", f->client_email);
    line(s, "Téléphone", f->client_phone);
    line(s, "Adresse", f->client_address);
}

int fs_report_build(const char *name, const fs_report_facts *facts, fs_report_doc *doc,
                    char *title_buf, char *subtitle_buf, size_t len, bl_err *err)
{
    if (!fs_report_template_known(name))
        return bl_err_set(err, BL_EINVAL,
                          "template '%.64s' is not known: use one of default, inspection",
                          name ? name : "");
    memset(doc, 0, sizeof *doc);
    snprintf(title_buf, len, "Rapport %.64s : %.160s", facts->report_type ? facts->report_type : "",
             facts->title ? facts->title : "");
    snprintf(subtitle_buf, len, "Rapport %.80s - modèle %.32s - généré le %.40s",
             facts->report_id ? facts->report_id : "", name,
             facts->generated_at ? facts->generated_at : "");
    doc->title = title_buf;
    doc->subtitle = subtitle_buf;
    common_sections(doc, facts);
    if (strcmp(name, "inspection") == 0) {
        fs_report_section *s = section(doc, "Constatations");
        blank(s, "Fuite détectée (oui / non)");
        blank(s, "Localisation de la fuite");
        blank(s, "Méthode de détection");
        blank(s, "Débit ou pression mesurés");
        blank(s, "Recommandations");
        s = section(doc, "Signatures");
        blank(s, "Technicien");
        blank(s, "Représentant du client");
    }
    return 0;
}

const char *fs_report_content_type(const char *format)
{
    if (!format)
        return NULL;
    if (strcmp(format, "PDF") == 0)
        return "application/pdf";
    if (strcmp(format, "HTML") == 0)
        return "text/html; charset=utf-8";
    if (strcmp(format, "MARKDOWN") == 0)
        return "text/markdown; charset=utf-8";
    return NULL;
}

const char *fs_report_extension(const char *format)
{
    if (!format)
        return NULL;
    if (strcmp(format, "PDF") == 0)
        return "pdf";
    if (strcmp(format, "HTML") == 0)
        return "html";
    if (strcmp(format, "MARKDOWN") == 0)
        return "md";
    return NULL;
}
