/* rapport.generate: renders a report of one intervention (its row and its
 * client's) with a template in a format, stores it in fieldservice_reports
 * and derives report.generated, all in the command's transaction: a refused
 * template, a missing intervention or a failed render leaves no row and no
 * event, and the command goes to the DLQ with the reason. */
#include "producers/fieldservice/internal.h"

#include "core/crypto.h"
#include "core/pg_pool.h"
#include "producers/fieldservice/report.h"
#include "producers/fieldservice/status_machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TITLE_MAX 320
/* Where the field-service surface serves a report (api/fieldservice/route_rapports.c). */
/* Under the command's api_prefix (the role's --field-service-prefix), so the
 * link works wherever the API mounts the surface. */
#define DEFAULT_API_PREFIX "/api"

static const char *const format_symbols[] = {"MARKDOWN", "HTML", "PDF", NULL};

static const char facts_sql[] =
    "SELECT i.intervention_id, i.client_id, i.title, i.description, i.status, i.status_note,"
    " i.intervention_type, i.street, i.postal_code, i.city, i.country,"
    " i.technician_id, coalesce(i.technician_name, i.technician_id) AS technician,"
    " to_char(i.scheduled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC' AS scheduled,"
    " i.duration_minutes || ' min' AS duration,"
    " c.name AS client_name, c.email AS client_email, c.phone AS client_phone,"
    " c.street || ', ' || c.postal_code || ' ' || c.city || ', ' || c.country AS client_address,"
    " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC' AS generated"
    " FROM fieldservice_interventions i JOIN fieldservice_clients c"
    " ON c.organization_id = i.organization_id AND c.client_id = i.client_id"
    " WHERE i.organization_id = $1 AND i.intervention_id = $2 AND i.deleted_at IS NULL"
    " FOR SHARE OF i";

/* The facts of row 0 of res (borrowed from it); status in the document's words. */
static void facts_of(const PGresult *res, const char *report_id, const char *report_type,
                     fs_report_facts *f)
{
    bl_intervention_status st;
    const char *status = bl_col(res, "status");
    *f = (fs_report_facts){
        .report_id = report_id,
        .report_type = report_type,
        .generated_at = bl_col(res, "generated"),
        .intervention_id = bl_col(res, "intervention_id"),
        .title = bl_col(res, "title"),
        .description = bl_col(res, "description"),
        .status = bl_intervention_status_parse(status, &st) == 0 ? bl_intervention_status_french(st)
                                                                   : status,
        .status_note = bl_col(res, "status_note"),
        .intervention_type = bl_col(res, "intervention_type"),
        .scheduled_at = bl_col(res, "scheduled"),
        .duration = bl_col(res, "duration"),
        .technician = bl_col(res, "technician"),
        .site_street = bl_col(res, "street"),
        .site_postal_code = bl_col(res, "postal_code"),
        .site_city = bl_col(res, "city"),
        .site_country = bl_col(res, "country"),
        .client_id = bl_col(res, "client_id"),
        .client_name = bl_col(res, "client_name"),
        .client_email = bl_col(res, "client_email"),
        .client_phone = bl_col(res, "client_phone"),
        .client_address = bl_col(res, "client_address"),
    };
}

static int render(const char *format, const fs_report_doc *doc, char **out, size_t *len,
                  bl_err *err)
{
    if (strcmp(format, "PDF") == 0)
        return fs_report_render_pdf(doc, out, len, err);
    if (strcmp(format, "HTML") == 0)
        return fs_report_render_html(doc, out, len, err);
    return fs_report_render_markdown(doc, out, len, err);
}

/* content as a bytea parameter in hex form ("\x..."), malloc'd. */
static char *bytea_hex(const char *content, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *hex = malloc(2 * len + 3);
    if (!hex)
        return NULL;
    hex[0] = '\\';
    hex[1] = 'x';
    for (size_t i = 0; i < len; i++) {
        hex[2 + 2 * i] = digits[(unsigned char)content[i] >> 4];
        hex[3 + 2 * i] = digits[(unsigned char)content[i] & 15];
    }
    hex[2 + 2 * len] = '\0';
    return hex;
}

typedef struct rendered {
    char *content, *hex;
    size_t len;
    char sha256[BL_SHA256_HEX_SIZE];
    char size_text[32];
} rendered;

static int store(PGconn *conn, const bl_domain_command *c, const char *id, const char *intervention,
                 const char *type, const char *format, const char *tmpl, const char *title,
                 rendered *r, bl_err *err)
{
    if (!(r->hex = bytea_hex(r->content, r->len)))
        return bl_err_set(err, BL_ENOMEM, "%s: out of memory", c->type);
    snprintf(r->size_text, sizeof r->size_text, "%zu", r->len);
    const char *params[] = {c->organization_id, id, intervention, type, format, tmpl, title,
                            r->hex, fs_report_content_type(format), r->size_text, r->sha256};
    PGresult *res = bl_pg_exec(conn,
        "INSERT INTO fieldservice_reports (organization_id, report_id, intervention_id,"
        " report_type, format, template, title, content, content_type, size_bytes, sha256)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bytea, $9, $10::bigint, $11)"
        " ON CONFLICT DO NOTHING RETURNING report_id", 11, params, err);
    if (!res)
        return -1;
    int inserted = PQntuples(res);
    PQclear(res);
    if (!inserted)
        return bl_err_set(err, BL_ECONFLICT, "%s: report %s already exists", c->type, id);
    return 0;
}

static int rapport_generate(PGconn *conn, const bl_domain_command *c, bl_domain_events *out,
                            bl_err *err)
{
    const char *id = NULL, *intervention = NULL, *format = NULL;
    const char *type = "inspection", *tmpl = "default";
    if (bl_field_get_str(c, "rapport_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "intervention_id", true, &intervention, err) < 0 ||
        bl_field_get_str(c, "type_rapport", false, &type, err) < 0 ||
        bl_field_get_enum(c, "format", true, format_symbols, &format, err) < 0 ||
        bl_field_get_str(c, "template", false, &tmpl, err) < 0)
        return -1;
    if (!fs_report_template_known(tmpl))
        return bl_err_set(err, BL_EINVAL,
                          "%s: data.template: '%.64s' is not known: use one of default, inspection",
                          c->type, tmpl);
    const char *key[] = {c->organization_id, intervention};
    PGresult *res = bl_pg_exec(conn, facts_sql, 2, key, err);
    if (!res || bl_require_row(res, "intervention", intervention, err) != 0) {
        PQclear(res);
        return bl_err_wrap(err, "%s", c->type);
    }
    fs_report_facts facts;
    facts_of(res, id, type, &facts);
    fs_report_doc doc;
    char title[TITLE_MAX], subtitle[TITLE_MAX], url[256];
    rendered r = {0};
    int rc = -1;
    if (fs_report_build(tmpl, &facts, &doc, title, subtitle, sizeof title, err) != 0 ||
        render(format, &doc, &r.content, &r.len, err) != 0) {
        bl_err_wrap(err, "%s: %s", c->type, id);
        goto done;
    }
    if (bl_sha256_hex(r.content, r.len, r.sha256, err) != 0 ||
        store(conn, c, id, intervention, type, format, tmpl, title, &r, err) != 0)
        goto done;
    const char *prefix = c->api_prefix && *c->api_prefix ? c->api_prefix : DEFAULT_API_PREFIX;
    size_t plen = strlen(prefix);
    while (plen > 0 && prefix[plen - 1] == '/') /* "/" mounts the surface at the root */
        plen--;
    if (snprintf(url, sizeof url, "%.*s/rapports/%s/download", (int)plen, prefix, id) >= (int)sizeof url) {
        bl_err_set(err, BL_EINVAL, "fieldservice: report %s: download url too long", id);
        goto done;
    }
    json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:n, s:n, s:s, s:s, s:s, s:s,"
                             " s:I}",
                             "report_id", id, "intervention_id", intervention, "client_id",
                             bl_col(res, "client_id"), "title", title, "format", format, "url", url,
                             "technician_id", bl_col_json_str(res, "technician_id"), "summary",
                             "signed_by", "template", tmpl, "report_type", type, "content_type",
                             fs_report_content_type(format), "sha256", r.sha256, "size_bytes",
                             (json_int_t)r.len);
    rc = bl_domain_events_add(out, "report.generated", id, data, err);
done:
    PQclear(res);
    free(r.content);
    free(r.hex);
    return rc;
}

int fs_apply_rapport(PGconn *conn, const bl_domain_command *c, const char *verb,
                     bl_domain_events *out, bl_err *err)
{
    if (strcmp(verb, "generate") == 0)
        return rapport_generate(conn, c, out, err);
    return bl_err_set(err, BL_EINVAL, "fieldservice: unknown command type '%s'", c->type);
}
