/* Reports (rapport.generate) and the planning of the field-service domain on
 * the real broker and PostgreSQL: commands applied by the shared domain loop
 * with bl_fieldservice_rules; a PDF report read back with pdftotext, HTML and
 * markdown escaping the rows, refused generations leaving no row and no
 * event, the report.generated outbox row; then the planning reads
 * (api/fieldservice/planning_query.h) over the same rows: a technician's
 * overlapping appointments named as conflicts, the calendar's shape. */
#include "api/fieldservice/planning_query.h"
#include "core/crypto.h"
#include "core/log.h"
#include "producers/fieldservice/domain.h"
#include "tests/support/domain_fixture.h"
#include "tests/support/pdf_text.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bl_test_domain fx;

/* 2026-01-05T09:00:00Z */
#define MONDAY_9H 1767603600000LL

#define CREATE_CLIENT                                                                          \
    "{\"type\":\"client.create\",\"organization_id\":\"%1$s\",\"data\":{\"client_id\":\"%1$s-C1\"," \
    "\"name\":\"Boulangerie Martin\",\"email\":\"m@example.fr\",\"phone\":\"+33100000000\","       \
    "\"address\":{\"street\":\"1 rue Haute\",\"postal_code\":\"75001\",\"city\":\"Paris\","        \
    "\"country\":\"FR\"}}}"

/* Creates intervention <org>-<suffix> for client <org>-C1 with title, by
 * technician tech (NULL: none) at start_ms for minutes. */
static int create_intervention(const char *suffix, const char *title, const char *tech,
                               long long start_ms, int minutes)
{
    char fmt[2048], tech_field[96] = "";
    if (tech)
        snprintf(tech_field, sizeof tech_field, "\"technician_id\":\"%s\",", tech);
    snprintf(fmt, sizeof fmt,
             "{\"type\":\"intervention.create\",\"organization_id\":\"%%1$s\",\"data\":{"
             "\"intervention_id\":\"%%1$s-%s\",\"client_id\":\"%%1$s-C1\",\"title\":\"%s\","
             "\"description\":\"Recherche de fuite sous dalle\",%s"
             "\"scheduled_at\":%lld,\"duration_minutes\":%d,"
             "\"site_address\":{\"street\":\"12 avenue des Tilleuls\",\"postal_code\":\"69003\","
             "\"city\":\"Lyon\",\"country\":\"FR\"}}}",
             suffix, title, tech_field, start_ms, minutes);
    return bl_test_domain_send(&fx, fmt, NULL);
}

static int generate(const char *report, const char *intervention, const char *format,
                    const char *tmpl)
{
    char fmt[1024];
    snprintf(fmt, sizeof fmt,
             "{\"type\":\"rapport.generate\",\"organization_id\":\"%%1$s\",\"data\":{"
             "\"rapport_id\":\"%%1$s-%s\",\"intervention_id\":\"%%1$s-%s\","
             "\"type_rapport\":\"inspection\",\"format\":\"%s\",\"template\":\"%s\"}}",
             report, intervention, format, tmpl);
    return bl_test_domain_send(&fx, fmt, NULL);
}

/* The stored report <org>-<suffix>: its content (malloc'd, NUL added) and
 * columns; NULL when there is no row. */
typedef struct stored {
    char *content;
    size_t len;
    char content_type[64], sha256[80], size[24], format[16], tmpl[32];
} stored;

static int load_report(const char *suffix, stored *out)
{
    char id[128];
    snprintf(id, sizeof id, "%s-%s", fx.org, suffix);
    const char *p[] = {id};
    PGresult *res = PQexecParams(fx.db,
        "SELECT content, content_type, sha256, size_bytes::text, format, template"
        " FROM fieldservice_reports WHERE report_id = $1", 1, NULL, p, NULL, NULL, 1);
    memset(out, 0, sizeof *out);
    int found = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    if (found) {
        out->len = (size_t)PQgetlength(res, 0, 0);
        out->content = malloc(out->len + 1);
        memcpy(out->content, PQgetvalue(res, 0, 0), out->len);
        out->content[out->len] = '\0';
        snprintf(out->content_type, sizeof out->content_type, "%s", PQgetvalue(res, 0, 1));
        snprintf(out->sha256, sizeof out->sha256, "%s", PQgetvalue(res, 0, 2));
        snprintf(out->size, sizeof out->size, "%s", PQgetvalue(res, 0, 3));
        snprintf(out->format, sizeof out->format, "%s", PQgetvalue(res, 0, 4));
        snprintf(out->tmpl, sizeof out->tmpl, "%s", PQgetvalue(res, 0, 5));
    }
    PQclear(res);
    return found ? 0 : -1;
}

static long events_of(const char *type, const char *suffix)
{
    char id[128], sql[256];
    snprintf(id, sizeof id, "%s-%s", fx.org, suffix);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM busline_outbox WHERE aggregate_id = $1 AND event_type = '%s'", type);
    return bl_test_domain_count(&fx, sql, id);
}

static void pdf_report_reads_back_the_intervention(void)
{
    bl_test_domain_new_org(&fx);
    REQUIRE(bl_test_domain_send(&fx, CREATE_CLIENT, NULL) == 0);
    REQUIRE(create_intervention("I1", "Fuite cuisine", "tech-1", MONDAY_9H, 90) == 0);
    REQUIRE(generate("R1", "I1", "PDF", "default") == 0);
    REQUIRE(bl_test_domain_run(&fx, 3) == 0);
    stored r;
    REQUIRE(load_report("R1", &r) == 0);
    CHECK(r.len > 800 && memcmp(r.content, "%PDF-", 5) == 0);
    CHECK_EQ_STR(r.content_type, "application/pdf");
    CHECK_EQ_STR(r.format, "PDF");
    CHECK_EQ_STR(r.tmpl, "default");
    char want_size[24], digest[BL_SHA256_HEX_SIZE];
    snprintf(want_size, sizeof want_size, "%zu", r.len);
    CHECK_EQ_STR(r.size, want_size);
    bl_err err = {0};
    CHECK(bl_sha256_hex(r.content, r.len, digest, &err) == 0);
    CHECK_EQ_STR(r.sha256, digest);
    char *text = bl_test_pdf_text(r.content, r.len);
    REQUIRE(text);
    CHECK(strstr(text, "Fuite cuisine") != NULL);
    CHECK(strstr(text, "Boulangerie Martin") != NULL);
    CHECK(strstr(text, "12 avenue des Tilleuls") != NULL);
    CHECK(strstr(text, "Lyon") != NULL);
    CHECK(strstr(text, "planifie") != NULL);
    CHECK(strstr(text, "2026-01-05 09:00 UTC") != NULL);
    CHECK(strstr(text, "90 min") != NULL);
    CHECK(strstr(text, "tech-1") != NULL);
    free(text);
    free(r.content);
    CHECK_EQ_INT(events_of("report.generated", "R1"), 1);
    char id[128];
    snprintf(id, sizeof id, "%s-R1", fx.org);
    /* its download url is under the service's field-service prefix, not a fixed /api */
    char url_sql[320];
    snprintf(url_sql, sizeof url_sql,
             "SELECT count(*) FROM busline_outbox WHERE aggregate_id = $1 AND event_type = 'report.generated'"
             " AND position(convert_to('/smartleak/v2/rapports/' || $1 || '/download', 'UTF8') IN payload) > 0");
    CHECK_EQ_INT(bl_test_domain_count(&fx, url_sql, id), 1);
    PGresult *res = bl_test_domain_query(&fx, "SELECT topic FROM busline_outbox WHERE aggregate_id = $1", id);
    REQUIRE(res && PQntuples(res) == 1);
    char topic[160];
    snprintf(topic, sizeof topic, "%sevents.fieldservice.report", fx.prefix);
    CHECK_EQ_STR(PQgetvalue(res, 0, 0), topic);
    PQclear(res);
}

static void a_long_description_flows_over_pages(void)
{
    bl_test_domain_new_org(&fx);
    REQUIRE(bl_test_domain_send(&fx, CREATE_CLIENT, NULL) == 0);
    /* Longer than the fixture's send buffer: prepared and produced here. */
    static char cmd[16384];
    int n = snprintf(cmd, sizeof cmd,
                     "{\"type\":\"intervention.create\",\"organization_id\":\"%1$s\",\"data\":{"
                     "\"intervention_id\":\"%1$s-L1\",\"client_id\":\"%1$s-C1\",\"title\":\"Réseau\","
                     "\"site_address\":{\"street\":\"1 rue\",\"postal_code\":\"1\",\"city\":\"Nice\","
                     "\"country\":\"FR\"},\"description\":\"DEBUTDUTEXTE ", fx.org);
    for (int i = 0; i < 150; i++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, "Canalisation %d inspectée, aucune trace. ", i);
    snprintf(cmd + n, sizeof cmd - (size_t)n, "FINDUTEXTE\"}}");
    json_t *input = json_loads(cmd, 0, NULL);
    bl_domain_sender sender = {.source = "test", .actor = "tester"};
    bl_domain_prepared prepared;
    bl_err err = {0};
    REQUIRE(input && bl_domain_command_prepare(fx.codec, input, &sender, &prepared, &err) == 0);
    json_decref(input);
    int sent = bl_test_domain_produce(&fx, prepared.subject, prepared.wire.bytes, prepared.wire.len);
    bl_domain_prepared_clear(&prepared);
    REQUIRE(sent == 0);
    REQUIRE(generate("P1", "L1", "PDF", "inspection") == 0);
    REQUIRE(bl_test_domain_run(&fx, 3) == 0);
    stored r;
    REQUIRE(load_report("P1", &r) == 0);
    char *text = bl_test_pdf_text(r.content, r.len);
    free(r.content);
    REQUIRE(text);
    int pages = 1;
    for (const char *p = text; *p; p++)
        pages += *p == '\f' && p[1] != '\0';
    CHECK(pages >= 2);
    CHECK(strstr(text, "DEBUTDUTEXTE") != NULL);
    CHECK(strstr(text, "Canalisation 149") != NULL);
    CHECK(strstr(text, "FINDUTEXTE") != NULL);
    CHECK(strstr(text, "Représentant du client") != NULL); /* the last line of the template */
    free(text);
}

/* The sample commands of examples/fieldservice, as `busline fieldservice send` sends them. */
static void the_example_commands_make_a_pdf_report(void)
{
    static const char *const files[] = {"1-client.create.json", "2-intervention.create.json",
                                        "3-rapport.generate.json"};
    for (size_t i = 0; i < 3; i++) {
        char path[512], text[2048];
        snprintf(path, sizeof path, "%s/examples/fieldservice/%s", BUSLINE_SOURCE_DIR, files[i]);
        FILE *f = fopen(path, "r");
        REQUIRE(f);
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        REQUIRE(strchr(text, '%') == NULL); /* sent as a format: no conversions in it */
        REQUIRE(bl_test_domain_send(&fx, text, NULL) == 0);
    }
    REQUIRE(bl_test_domain_run(&fx, 3) == 0);
    PGresult *res = PQexecParams(fx.db, "SELECT content FROM fieldservice_reports"
                                        " WHERE organization_id = 'org-demo' AND report_id = 'R-100'",
                                 0, NULL, NULL, NULL, NULL, 1);
    REQUIRE(res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1);
    char *text = bl_test_pdf_text(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    REQUIRE(text);
    CHECK(strstr(text, "Recherche de fuite chaufferie") != NULL);
    CHECK(strstr(text, "Résidence Les Tilleuls") != NULL);
    CHECK(strstr(text, "Constatations") != NULL);
    free(text);
}

static void html_and_markdown_reports_escape_the_rows(void)
{
    bl_test_domain_new_org(&fx);
    REQUIRE(bl_test_domain_send(&fx, CREATE_CLIENT, NULL) == 0);
    REQUIRE(create_intervention("I1", "Vanne <b>&amp; [lien](x) *gras*", NULL, MONDAY_9H, 60) == 0);
    REQUIRE(generate("H1", "I1", "HTML", "inspection") == 0);
    REQUIRE(generate("M1", "I1", "MARKDOWN", "default") == 0);
    REQUIRE(bl_test_domain_run(&fx, 4) == 0);
    stored h, m;
    REQUIRE(load_report("H1", &h) == 0);
    CHECK_EQ_STR(h.content_type, "text/html; charset=utf-8");
    CHECK(strncmp(h.content, "<!DOCTYPE html>", 15) == 0);
    CHECK(strstr(h.content, "Vanne &lt;b&gt;&amp;amp; [lien](x) *gras*") != NULL);
    CHECK(strstr(h.content, "<b>") == NULL);
    CHECK(strstr(h.content, "Boulangerie Martin") != NULL);
    CHECK(strstr(h.content, "12 avenue des Tilleuls") != NULL);
    CHECK(strstr(h.content, "<h2>Constatations</h2>") != NULL); /* the inspection template */
    CHECK(strstr(h.content, "planifie") != NULL);
    free(h.content);
    REQUIRE(load_report("M1", &m) == 0);
    CHECK_EQ_STR(m.content_type, "text/markdown; charset=utf-8");
    CHECK(strncmp(m.content, "# Rapport inspection : ", 23) == 0);
    CHECK(strstr(m.content, "Vanne \\<b\\>&amp; \\[lien\\](x) \\*gras\\*") != NULL);
    CHECK(strstr(m.content, "- **Nom**: Boulangerie Martin\n") != NULL);
    CHECK(strstr(m.content, "- **Statut**: planifie\n") != NULL);
    CHECK(strstr(m.content, "Constatations") == NULL); /* not in the default template */
    free(m.content);
    CHECK_EQ_INT(events_of("report.generated", "H1"), 1);
    CHECK_EQ_INT(events_of("report.generated", "M1"), 1);
}

static void refused_generations_leave_no_report_and_say_why(void)
{
    bl_test_domain_new_org(&fx);
    REQUIRE(bl_test_domain_send(&fx, CREATE_CLIENT, NULL) == 0);
    REQUIRE(create_intervention("I1", "Compteur", NULL, MONDAY_9H, 60) == 0);
    REQUIRE(bl_test_domain_run(&fx, 2) == 0);
    bl_domain_service_stats before = bl_domain_service_stats_get(fx.svc);
    REQUIRE(generate("X1", "I1", "PDF", "brochure") == 0);
    REQUIRE(generate("X2", "NOPE", "PDF", "default") == 0);
    REQUIRE(bl_test_domain_run(&fx, 2) == 0);
    bl_domain_service_stats after = bl_domain_service_stats_get(fx.svc);
    CHECK_EQ_INT(after.applied - before.applied, 0);
    CHECK_EQ_INT(after.dead_letters - before.dead_letters, 2);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM fieldservice_reports"
                                           " WHERE organization_id = $1", fx.org), 0);
    CHECK_EQ_INT(events_of("report.generated", "X1"), 0);
    CHECK_EQ_INT(events_of("report.generated", "X2"), 0);
    bl_test_dlq_seen seen[2];
    memset(seen, 0, sizeof seen);
    REQUIRE(bl_test_domain_read_dlq(&fx, seen, 2) == 2);
    CHECK_EQ_STR(seen[0].error_class, "invalid");
    CHECK(strstr(seen[0].error, "data.template: 'brochure' is not known: use one of default, inspection") != NULL);
    CHECK_EQ_STR(seen[1].error_class, "not_found");
    CHECK(strstr(seen[1].error, "rapport.generate") != NULL);
    CHECK(strstr(seen[1].error, "NOPE not found") != NULL);
}

static json_t *find_by_id(const json_t *array, const char *suffix)
{
    char id[128];
    snprintf(id, sizeof id, "%s-%s", fx.org, suffix);
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
        if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
            return v;
    return NULL;
}

/* The conflicts of appointment suffix, as "A,B" of id suffixes. */
static void conflicts_of(const json_t *list, const char *suffix, char *out, size_t len)
{
    const json_t *a = find_by_id(json_object_get(list, "rendez_vous"), suffix);
    size_t i, prefix = strlen(fx.org) + 1;
    json_t *v;
    out[0] = '\0';
    if (!a) {
        snprintf(out, len, "<absent>");
        return;
    }
    json_array_foreach(json_object_get(a, "conflits"), i, v)
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "",
                 json_string_value(v) + prefix);
}

static void a_technician_booked_twice_is_reported_in_the_planning(void)
{
    bl_test_domain_new_org(&fx);
    REQUIRE(bl_test_domain_send(&fx, CREATE_CLIENT, NULL) == 0);
    const long long h = 3600000;
    /* tech-1: A 9:00-10:30 overlaps B 10:00-11:00; C 11:00-12:00 only touches B. */
    REQUIRE(create_intervention("A", "A", "tech-1", MONDAY_9H, 90) == 0);
    REQUIRE(create_intervention("B", "B", "tech-1", MONDAY_9H + h, 60) == 0);
    REQUIRE(create_intervention("C", "C", "tech-1", MONDAY_9H + 2 * h, 60) == 0);
    /* Another technician at the same time as A; a cancelled one over A. */
    REQUIRE(create_intervention("D", "D", "tech-2", MONDAY_9H, 60) == 0);
    REQUIRE(create_intervention("E", "E", "tech-1", MONDAY_9H, 30) == 0);
    REQUIRE(bl_test_domain_send(&fx, "{\"type\":\"intervention.change_status\",\"organization_id\":"
                                     "\"%1$s\",\"data\":{\"intervention_id\":\"%1$s-E\",\"status\":\"CANCELLED\"}}",
                                NULL) == 0);
    /* The next day, not in a one-day window. */
    REQUIRE(create_intervention("F", "F", "tech-1", MONDAY_9H + 24 * h, 60) == 0);
    REQUIRE(bl_test_domain_run(&fx, 8) == 0);
    bl_err err = {0};
    bl_fs_planning_filter f = {.organization_id = fx.org, .page = 1, .size = 50};
    CHECK(bl_fs_date_param("2026-01-05", false, &f.from_ms) == 0);
    CHECK(bl_fs_date_param("2026-01-05", true, &f.to_ms) == 0);
    f.has_from = f.has_to = true;
    json_t *list = bl_fs_planning_list(fx.db, &f, &err);
    REQUIRE(list);
    CHECK_EQ_INT(json_integer_value(json_object_get(list, "total")), 5);
    CHECK_EQ_INT(json_integer_value(json_object_get(list, "pages")), 1);
    char v[256];
    conflicts_of(list, "A", v, sizeof v);
    CHECK_EQ_STR(v, "B");
    conflicts_of(list, "B", v, sizeof v);
    CHECK_EQ_STR(v, "A");
    conflicts_of(list, "C", v, sizeof v);
    CHECK_EQ_STR(v, "");
    conflicts_of(list, "D", v, sizeof v);
    CHECK_EQ_STR(v, "");
    conflicts_of(list, "E", v, sizeof v);
    CHECK_EQ_STR(v, "");
    conflicts_of(list, "F", v, sizeof v);
    CHECK_EQ_STR(v, "<absent>");
    const json_t *a = find_by_id(json_object_get(list, "rendez_vous"), "A");
    REQUIRE(a);
    CHECK_EQ_STR(json_string_value(json_object_get(a, "date_debut")), "2026-01-05T09:00:00Z");
    CHECK_EQ_STR(json_string_value(json_object_get(a, "date_fin")), "2026-01-05T10:30:00Z");
    CHECK_EQ_STR(json_string_value(json_object_get(a, "statut")), "planifie");
    CHECK_EQ_STR(json_string_value(json_object_get(a, "client")), "Boulangerie Martin");
    CHECK_EQ_INT(json_integer_value(json_object_get(a, "duree_minutes")), 90);
    json_decref(list);
    /* A status filter in the document's words, a page of one. */
    f.status = bl_fs_status_param("annule");
    CHECK_EQ_STR(f.status, "CANCELLED");
    f.size = 1;
    list = bl_fs_planning_list(fx.db, &f, &err);
    REQUIRE(list);
    CHECK_EQ_INT(json_integer_value(json_object_get(list, "total")), 1);
    CHECK(find_by_id(json_object_get(list, "rendez_vous"), "E") != NULL);
    json_decref(list);
    CHECK(bl_fs_status_param("perdu") == NULL);
    CHECK(bl_fs_date_param("05/01/2026", false, &f.from_ms) != 0);
    CHECK(bl_fs_date_param("2026-02-29", false, &f.from_ms) != 0);
    CHECK(bl_fs_date_param("2028-02-29", false, &f.from_ms) == 0);
    CHECK(bl_fs_date_param("2026-01-05T09:00:00+01:00", false, &f.from_ms) == 0);
    CHECK_EQ_INT(f.from_ms, MONDAY_9H - 3600000);
}

static void the_calendar_has_the_documented_fields_only(void)
{
    bl_test_domain_new_org(&fx);
    REQUIRE(bl_test_domain_send(&fx, CREATE_CLIENT, NULL) == 0);
    REQUIRE(create_intervention("K1", "Inspection réseau", "tech-1", MONDAY_9H, 45) == 0);
    REQUIRE(create_intervention("K2", "Suivi", "tech-1", MONDAY_9H + 7 * 86400000LL, 60) == 0);
    REQUIRE(bl_test_domain_send(&fx, "{\"type\":\"intervention.change_status\",\"organization_id\":"
                                     "\"%1$s\",\"data\":{\"intervention_id\":\"%1$s-K1\",\"status\":\"IN_PROGRESS\"}}",
                                NULL) == 0);
    REQUIRE(bl_test_domain_run(&fx, 4) == 0);
    bl_err err = {0};
    bl_fs_planning_filter f = {.organization_id = fx.org, .has_from = true, .has_to = true};
    CHECK(bl_fs_date_param("2026-01-05T00:00:00Z", false, &f.from_ms) == 0);
    CHECK(bl_fs_date_param("2026-01-06", true, &f.to_ms) == 0);
    json_t *cal = bl_fs_planning_calendar(fx.db, &f, &err);
    REQUIRE(cal && json_is_array(cal));
    CHECK_EQ_INT(json_array_size(cal), 1);
    json_t *e = json_array_get(cal, 0);
    REQUIRE(e);
    CHECK_EQ_INT(json_object_size(e), 7);
    char id[128];
    snprintf(id, sizeof id, "%s-K1", fx.org);
    CHECK_EQ_STR(json_string_value(json_object_get(e, "id")), id);
    CHECK_EQ_STR(json_string_value(json_object_get(e, "intervention_id")), id);
    CHECK_EQ_STR(json_string_value(json_object_get(e, "title")), "Inspection réseau");
    CHECK_EQ_STR(json_string_value(json_object_get(e, "start")), "2026-01-05T09:00:00Z");
    CHECK_EQ_STR(json_string_value(json_object_get(e, "end")), "2026-01-05T09:45:00Z");
    CHECK_EQ_STR(json_string_value(json_object_get(e, "color")), "#f59e0b"); /* en_cours */
    CHECK_EQ_STR(json_string_value(json_object_get(e, "client")), "Boulangerie Martin");
    json_decref(cal);
    f.has_to = false; /* open-ended: both */
    cal = bl_fs_planning_calendar(fx.db, &f, &err);
    REQUIRE(cal);
    CHECK_EQ_INT(json_array_size(cal), 2);
    json_decref(cal);
}

int main(void)
{
    bl_log_init("test_fieldservice_reports", BL_LOG_WARN);
    int rc = 1;
    fx.api_prefix = "/smartleak/v2/"; /* as --field-service-prefix may be written */
    if (bl_test_domain_start(&fx, "fieldservice", &bl_fieldservice_rules) == 0) {
        /* First to dead-letter: it reads the DLQ from its start. */
        BL_RUN(refused_generations_leave_no_report_and_say_why);
        BL_RUN(pdf_report_reads_back_the_intervention);
        BL_RUN(a_long_description_flows_over_pages);
        BL_RUN(the_example_commands_make_a_pdf_report);
        BL_RUN(html_and_markdown_reports_escape_the_rows);
        BL_RUN(a_technician_booked_twice_is_reported_in_the_planning);
        BL_RUN(the_calendar_has_the_documented_fields_only);
        rc = bl_test_summary();
    }
    bl_test_domain_stop(&fx);
    return rc;
}
