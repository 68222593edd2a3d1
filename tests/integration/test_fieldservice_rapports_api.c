/* The planning and report routes of the field-service surface through HTTP,
 * with the field-service domain service stepped by the test on the API's
 * database and commands topic: POST /api/rapports/generate waits for the
 * service to render the PDF and answers 201 with it, the list and the
 * download show it
 * (Content-Type, Content-Disposition attachment; filename="rapport-<id>.pdf"),
 * another organization sees nothing; every bad field or query parameter is
 * named at once; the planning and calendar answer the documented shapes. */
#include "core/log.h"
#include "producers/domain_service/service.h"
#include "producers/fieldservice/domain.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bl_test_api api;
static bl_domain_service *svc;

/* Client C1 and interventions I1 (tech-1, 2026-01-05 09:00, 90 min) and I2
 * (tech-1, 10:00, 60 min: overlapping I1) of the API's organization. */
static int seed(void)
{
    const char *org[] = {api.org};
    return bl_test_sql(api.pool,
                       "INSERT INTO fieldservice_clients (organization_id, client_id, name, street,"
                       " postal_code, city, country) VALUES ($1, 'C1', 'Plomberie Durand',"
                       " '3 quai Ouest', '33000', 'Bordeaux', 'FR')", 1, org) != 0 ||
                   bl_test_sql(api.pool,
                       "INSERT INTO fieldservice_interventions (organization_id, intervention_id,"
                       " client_id, title, street, postal_code, city, country, scheduled_at,"
                       " duration_minutes, technician_id) VALUES"
                       " ($1, 'I1', 'C1', 'Fuite chaufferie', '8 rue du Port', '33000', 'Bordeaux',"
                       "  'FR', '2026-01-05T09:00:00Z', 90, 'tech-1'),"
                       " ($1, 'I2', 'C1', 'Contrôle compteur', '8 rue du Port', '33000', 'Bordeaux',"
                       "  'FR', '2026-01-05T10:00:00Z', 60, 'tech-1')", 1, org) != 0
               ? -1
               : 0;
}

/* The field errors of an error answer, in either error shape. */
static const json_t *field_errors(const bl_test_reply *r)
{
    const json_t *fe = json_object_get(r->json, "field_errors");
    return fe ? fe : json_object_get(json_object_get(r->json, "error"), "field_errors");
}

typedef struct download {
    long status;
    char content_type[128], disposition[256];
    char *body;
    size_t len;
} download;

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
    download *d = arg;
    size_t len = size * n;
    char text[512];
    snprintf(text, sizeof text, "%.*s", (int)(len < 511 ? len : 511), line);
    text[strcspn(text, "\r\n")] = '\0';
    if (strncasecmp(text, "Content-Type: ", 14) == 0)
        snprintf(d->content_type, sizeof d->content_type, "%.120s", text + 14);
    if (strncasecmp(text, "Content-Disposition: ", 21) == 0)
        snprintf(d->disposition, sizeof d->disposition, "%.250s", text + 21);
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    download *d = arg;
    char *grown = realloc(d->body, d->len + size * n + 1);
    if (!grown)
        return 0;
    memcpy(grown + d->len, data, size * n);
    d->body = grown;
    d->len += size * n;
    d->body[d->len] = '\0';
    return size * n;
}

/* GET path with token, keeping the headers a download is judged by. */
static void fetch(const char *path, const char *token, download *d)
{
    memset(d, 0, sizeof *d);
    char url[512], auth[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", bl_api_server_port(api.server), path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, auth);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, d);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &d->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static atomic_int service_running;

static void *step_service(void *arg)
{
    (void)arg;
    while (atomic_load(&service_running)) {
        bl_err err = {0};
        if (bl_domain_service_step(svc, 100, &err) < 0)
            fprintf(stderr, "  service: %s\n", err.msg);
    }
    return NULL;
}

static void a_generated_pdf_is_listed_and_downloaded(void)
{
    bl_test_reply r;
    char path[192];
    download d;
    /* The service runs beside the API: the create waits for its outcome. */
    pthread_t service;
    atomic_store(&service_running, 1);
    REQUIRE(pthread_create(&service, NULL, step_service, NULL) == 0);
    long status = bl_test_api_call(&api, "POST", "/api/rapports/generate", api.write_token, NULL,
                                   "{\"intervention_id\":\"I1\",\"type_rapport\":\"inspection\","
                                   "\"format\":\"pdf\",\"template\":\"default\"}", &r);
    atomic_store(&service_running, 0);
    pthread_join(service, NULL);
    REQUIRE(status == 201);
    char id[64], status_url[128];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(r.json, "id")));
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "statut")), "genere");
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "format")), "pdf");
    CHECK_EQ_INT(strlen(id), 36);
    bl_test_reply_clear(&r);
    snprintf(status_url, sizeof status_url, "/api/rapports/%s", id);
    snprintf(path, sizeof path, "/api/rapports/%s/download", id);
    CHECK_EQ_INT(bl_domain_service_stats_get(svc).applied, 1);
    REQUIRE(bl_test_api_call(&api, "GET", "/api/rapports/", api.write_token, NULL, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "page")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "size")), 10);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "pages")), 1);
    const json_t *item = json_array_get(json_object_get(r.json, "rapports"), 0);
    REQUIRE(item);
    CHECK_EQ_STR(json_string_value(json_object_get(item, "id")), id);
    CHECK_EQ_STR(json_string_value(json_object_get(item, "intervention_id")), "I1");
    CHECK_EQ_STR(json_string_value(json_object_get(item, "format")), "pdf");
    CHECK_EQ_STR(json_string_value(json_object_get(item, "template")), "default");
    CHECK_EQ_STR(json_string_value(json_object_get(item, "type_rapport")), "inspection");
    CHECK_EQ_STR(json_string_value(json_object_get(item, "download_url")), path);
    json_int_t size = json_integer_value(json_object_get(item, "taille"));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", status_url, api.write_token, NULL, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "statut")), "genere");
    bl_test_reply_clear(&r);
    fetch(path, api.write_token, &d);
    CHECK_EQ_INT(d.status, 200);
    CHECK_EQ_STR(d.content_type, "application/pdf");
    char want[128];
    snprintf(want, sizeof want, "attachment; filename=\"rapport-%s.pdf\"", id);
    CHECK_EQ_STR(d.disposition, want);
    CHECK_EQ_INT(d.len, size);
    CHECK(d.len > 5 && memcmp(d.body, "%PDF-", 5) == 0);
    free(d.body);
    /* Another organization sees neither the report nor its download. */
    fetch(path, api.other_token, &d);
    CHECK_EQ_INT(d.status, 404);
    free(d.body);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/api/rapports/", api.other_token, NULL, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 0);
    bl_test_reply_clear(&r);
}

static void a_bad_generate_request_names_every_field(void)
{
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/api/rapports/generate", api.write_token, NULL,
                                  "{\"format\":\"docx\",\"template\":\"brochure\",\"couleur\":1}", &r),
                 422);
    const json_t *fe = field_errors(&r);
    CHECK(json_object_get(fe, "intervention_id") != NULL);
    CHECK(json_object_get(fe, "format") != NULL);
    CHECK(json_object_get(fe, "template") != NULL);
    CHECK(json_object_get(fe, "couleur") != NULL);
    CHECK(strstr(r.body, "VALIDATION_ERROR") != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/api/rapports/generate", api.write_token, NULL,
                                  "{\"intervention_id\":\"I404\",\"format\":\"html\"}", &r), 404);
    CHECK(strstr(r.body, "NOT_FOUND") != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/api/rapports/?size=0&format=odt", api.write_token,
                                  NULL, NULL, &r), 422);
    fe = field_errors(&r);
    CHECK(json_object_get(fe, "size") != NULL);
    CHECK(json_object_get(fe, "format") != NULL);
    bl_test_reply_clear(&r);
    /* None of them reached the bus. */
    char sent[24] = "";
    CHECK(bl_test_sql_value(api.pool, "SELECT count(*) FROM api_commands WHERE command_type = 'rapport.generate'",
                            0, NULL, sent, sizeof sent) == 0);
    CHECK_EQ_STR(sent, "0");
}

static void the_planning_marks_conflicts_and_the_calendar_has_its_fields(void)
{
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&api, "GET", "/api/planning/?date_debut=2026-01-05&date_fin=2026-01-05",
                             api.write_token, NULL, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 2);
    const json_t *first = json_array_get(json_object_get(r.json, "rendez_vous"), 0);
    REQUIRE(first);
    CHECK_EQ_STR(json_string_value(json_object_get(first, "id")), "I1");
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(first, "conflits"), 0)), "I2");
    CHECK_EQ_STR(json_string_value(json_object_get(first, "client")), "Plomberie Durand");
    CHECK_EQ_STR(json_string_value(json_object_get(first, "statut")), "planifie");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/api/planning/?date_debut=lundi&size=0&statut=perdu",
                                  api.write_token, NULL, NULL, &r), 422);
    const json_t *fe = field_errors(&r);
    CHECK(json_object_get(fe, "date_debut") != NULL);
    CHECK(json_object_get(fe, "size") != NULL);
    CHECK(json_object_get(fe, "statut") != NULL);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_api_call(&api, "GET", "/api/planning/calendar?start=2026-01-05&end=2026-01-06",
                             api.write_token, NULL, NULL, &r) == 200);
    REQUIRE(json_is_array(r.json));
    CHECK_EQ_INT(json_array_size(r.json), 2);
    const json_t *e = json_array_get(r.json, 1);
    REQUIRE(e);
    static const char *const fields[] = {"id", "title", "start", "end", "color", "client",
                                         "intervention_id"};
    for (size_t i = 0; i < 7; i++)
        CHECK(json_is_string(json_object_get(e, fields[i])));
    CHECK_EQ_INT(json_object_size(e), 7);
    CHECK_EQ_STR(json_string_value(json_object_get(e, "title")), "Contrôle compteur");
    CHECK_EQ_STR(json_string_value(json_object_get(e, "start")), "2026-01-05T10:00:00Z");
    CHECK_EQ_STR(json_string_value(json_object_get(e, "end")), "2026-01-05T11:00:00Z");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/api/planning/calendar?start=2026-01-06&end=2026-01-05",
                                  api.write_token, NULL, NULL, &r), 422);
    CHECK(json_object_get(field_errors(&r), "end") != NULL);
    bl_test_reply_clear(&r);
}

int main(void)
{
    bl_log_init("test_fieldservice_rapports_api", BL_LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 1;
    if (bl_test_api_start(&api, 1) == 0 && seed() == 0) {
        char group[96];
        bl_test_unique_name(group, sizeof group, "g_rapports");
        bl_domain_service_opts o = {.rules = &bl_fieldservice_rules,
                                    .brokers = bl_test_kafka_brokers(),
                                    .pg_url = api.registry.pg_url,
                                    .group_id = group,
                                    .commands_topic = api.topics[1],
                                    .events_topic_prefix = api.prefix,
                                    .registry_url = api.registry.base_url};
        bl_err err = {0};
        if ((svc = bl_domain_service_new(&o, &err))) {
            BL_RUN(a_bad_generate_request_names_every_field);
            BL_RUN(a_generated_pdf_is_listed_and_downloaded);
            BL_RUN(the_planning_marks_conflicts_and_the_calendar_has_its_fields);
            rc = bl_test_summary();
        } else {
            fprintf(stderr, "setup: %s\n", err.msg);
        }
    }
    bl_domain_service_free(svc);
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return rc;
}
