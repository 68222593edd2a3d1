/* The field-service surface's clients and interventions (SmartLeakPro
 * document) against the real bus: the API in-process on fresh topics, the
 * field-service domain service stepped on a thread of the test. A create
 * answers 201 with the created resource once the domain applied it; past
 * the bound (the service not running) 202 with a status URL, which shows
 * the outcome once the service ran; a legal status change answers 200, an
 * illegal one the document's 422 with the status machine's reason (the row
 * unchanged, the refusal on the status URL); every invalid field is listed;
 * a create retried with its Idempotency-Key answers the same resource;
 * lists page and filter; unknown ids answer 404 NOT_FOUND. */
#include "core/kafka_admin.h"
#include "core/pg_pool.h"
#include "producers/domain_service/service.h"
#include "producers/fieldservice/domain.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PATIENT_WAIT_MS 60000 /* the bound when the service runs: never reached */
#define HASTY_WAIT_MS 200     /* the bound when it does not: passes */

static bl_test_api api;
static bl_api_server *patient, *hasty;
static bl_domain_service *svc;
static pthread_t service_thread;
static atomic_int service_running;
static char dlq_topic[200];

/* ---- the domain service on a thread ---- */

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

static void service_resume(void)
{
    atomic_store(&service_running, 1);
    REQUIRE(pthread_create(&service_thread, NULL, step_service, NULL) == 0);
}

static void service_pause(void)
{
    atomic_store(&service_running, 0);
    pthread_join(service_thread, NULL);
}

static bl_api_server *server_waiting(int wait_ms)
{
    bl_err err = {0};
    bl_api_config cfg = {.jwt_secret = BL_TEST_API_JWT_SECRET, .kafka_brokers = bl_test_kafka_brokers(),
                         .registry_url = api.registry.base_url, .topic_prefix = api.prefix,
                         .command_wait_ms = wait_ms};
    bl_api_server *s = bl_api_server_new(&cfg, api.pool, &err);
    if (!s || bl_api_server_start(s, &err) != 0) {
        fprintf(stderr, "  server: %s\n", err.msg);
        bl_api_server_free(s);
        return NULL;
    }
    return s;
}

static int setup(void)
{
    bl_err err = {0};
    if (bl_test_api_start(&api, 1) != 0)
        return -1;
    snprintf(dlq_topic, sizeof dlq_topic, "%s.dlq", api.topics[1]);
    bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    bl_kafka_topic_spec spec = {.name = dlq_topic, .partitions = 1, .replication_factor = -1};
    const char *names[] = {dlq_topic};
    int rc = admin && bl_kafka_admin_create_topics(admin, &spec, 1, 30000, &err) == 0 &&
                     bl_kafka_admin_wait_visible(admin, names, 1, 30000, &err) == 0
                 ? 0
                 : -1;
    bl_kafka_admin_free(admin);
    char group[96];
    bl_test_unique_name(group, sizeof group, "fs-api");
    bl_domain_service_opts o = {.rules = &bl_fieldservice_rules, .brokers = bl_test_kafka_brokers(),
                                .pg_url = api.registry.pg_url, .group_id = group,
                                .commands_topic = api.topics[1], .dlq_topic = dlq_topic,
                                .events_topic_prefix = api.prefix, .registry_url = api.registry.base_url};
    if (rc != 0 || !(svc = bl_domain_service_new(&o, &err))) {
        fprintf(stderr, "  setup: %s\n", err.msg);
        return -1;
    }
    if (!(patient = server_waiting(PATIENT_WAIT_MS)) || !(hasty = server_waiting(HASTY_WAIT_MS)))
        return -1;
    service_resume();
    for (int i = 0; i < 600 && bl_domain_service_assigned(svc) == 0; i++)
        nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
    if (bl_domain_service_assigned(svc) == 0) {
        fprintf(stderr, "  setup: the service got no partition\n");
        return -1;
    }
    return 0;
}

static void teardown(void)
{
    if (atomic_load(&service_running))
        service_pause();
    bl_api_server_free(patient);
    bl_api_server_free(hasty);
    bl_domain_service_free(svc);
    bl_err err = {0};
    bl_kafka_admin *admin = dlq_topic[0] ? bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err) : NULL;
    const char *names[] = {dlq_topic};
    if (admin)
        bl_kafka_admin_delete_topics(admin, names, 1, 30000, &err);
    bl_kafka_admin_free(admin);
    bl_test_api_stop(&api);
}

/* ---- calls ---- */

static long call(bl_api_server *s, const char *method, const char *path, const char *body, bl_test_reply *r)
{
    const char *token = strcmp(method, "DELETE") == 0 ? api.admin_token : api.write_token;
    return bl_test_http_call(bl_api_server_port(s), method, path, token, NULL, body, r);
}

static const char *str(const json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));
    return v ? v : "";
}

/* The document's error object: detail, error_code, field_errors, request_id. */
static void check_error(const bl_test_reply *r, long status, const char *code)
{
    CHECK_EQ_INT(r->status, status);
    CHECK_EQ_STR(str(r->json, "error_code"), code);
    CHECK(json_is_string(json_object_get(r->json, "detail")) && str(r->json, "detail")[0]);
    CHECK(json_is_object(json_object_get(r->json, "field_errors")));
    CHECK_EQ_STR(str(r->json, "request_id"), r->request_id);
}

/* Whether obj has exactly the keys of names (n of them). */
static bool has_exactly(const json_t *obj, const char *const *names, size_t n)
{
    if (!json_is_object(obj) || json_object_size(obj) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!json_object_get(obj, names[i]))
            return false;
    return true;
}

static const char *const client_keys[] = {"id", "nom", "email", "telephone", "adresse", "statut",
                                          "date_creation"};
static const char *const intervention_keys[] = {"id", "client_id", "date_intervention", "type_intervention",
                                                "statut", "lieu", "description", "technicien_assigné"};

/* Creates a client through the API (201 expected); id gets its id. */
static void make_client(const char *nom, const char *statut, const char *adresse, char id[64])
{
    char body[512];
    snprintf(body, sizeof body, "{\"nom\":\"%s\",\"adresse\":\"%s\",\"statut\":\"%s\"}", nom, adresse, statut);
    bl_test_reply r;
    REQUIRE(call(patient, "POST", "/api/clients/", body, &r) == 201);
    snprintf(id, 64, "%s", str(r.json, "id"));
    bl_test_reply_clear(&r);
}

static void make_intervention(const char *client, const char *date, const char *type, char id[64])
{
    char body[512], path[] = "/api/interventions/";
    snprintf(body, sizeof body,
             "{\"client_id\":\"%s\",\"date_intervention\":\"%s\",\"type_intervention\":\"%s\"}", client,
             date, type);
    bl_test_reply r;
    REQUIRE(call(patient, "POST", path, body, &r) == 201);
    snprintf(id, 64, "%s", str(r.json, "id"));
    bl_test_reply_clear(&r);
}

/* ---- clients ---- */

static void client_create_answers_201_with_the_created_client(void)
{
    bl_test_reply r;
    const char *body = "{\"nom\":\"Plomberie Durand\",\"email\":\"contact@durand.fr\","
                       "\"telephone\":\"+33 1 23 45 67 89\",\"adresse\":\"12 rue de la Paix, 75002 Paris\","
                       "\"statut\":\"prospect\"}";
    REQUIRE(call(patient, "POST", "/api/clients/", body, &r) == 201);
    CHECK(has_exactly(r.json, client_keys, 7));
    CHECK_EQ_INT(strlen(str(r.json, "id")), 36);
    CHECK_EQ_STR(str(r.json, "nom"), "Plomberie Durand");
    CHECK_EQ_STR(str(r.json, "email"), "contact@durand.fr");
    CHECK_EQ_STR(str(r.json, "telephone"), "+33 1 23 45 67 89");
    CHECK_EQ_STR(str(r.json, "adresse"), "12 rue de la Paix, 75002 Paris");
    CHECK_EQ_STR(str(r.json, "statut"), "prospect");
    CHECK(strlen(str(r.json, "date_creation")) == 20 && str(r.json, "date_creation")[19] == 'Z');
    const char *p[] = {str(r.json, "id")};
    char row[256];
    REQUIRE(bl_test_sql_value(api.pool,
                              "SELECT street || '|' || postal_code || '|' || city || '|' || country"
                              " FROM fieldservice_clients WHERE client_id = $1",
                              1, p, row, sizeof row) == 0);
    CHECK_EQ_STR(row, "12 rue de la Paix|75002|Paris|FR");
    bl_test_reply_clear(&r);
}

static void client_list_pages_and_filters(void)
{
    char ids[4][64];
    make_client("Zeta Fuites", "actif", "1 quai Est, 33000 Bordeaux", ids[0]);
    make_client("Zeta Réseaux", "inactif", "Zone artisanale", ids[1]);
    make_client("Alpha Eau", "actif", "5 place Nord, 59000 Lille", ids[2]);
    make_client("Beta Canalisations", "actif", "8 rue Sud, 13001 Marseille, ES", ids[3]);
    bl_test_reply r;
    REQUIRE(call(patient, "GET", "/api/clients/?page=1&size=2", NULL, &r) == 200);
    long total = (long)json_integer_value(json_object_get(r.json, "total"));
    CHECK(total >= 5);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "clients")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "page")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "size")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "pages")), (total + 1) / 2);
    CHECK(has_exactly(json_array_get(json_object_get(r.json, "clients"), 0), client_keys, 7));
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "GET", "/api/clients/", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "size")), 10);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "page")), 1);
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "GET", "/api/clients/?statut=inactif", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK_EQ_STR(str(json_array_get(json_object_get(r.json, "clients"), 0), "id"), ids[1]);
    CHECK_EQ_STR(str(json_array_get(json_object_get(r.json, "clients"), 0), "adresse"), "Zone artisanale");
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "GET", "/api/clients/?search=zeta&statut=actif", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK_EQ_STR(str(json_array_get(json_object_get(r.json, "clients"), 0), "id"), ids[0]);
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "GET", "/api/clients/?search=Marseille", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK_EQ_STR(str(json_array_get(json_object_get(r.json, "clients"), 0), "adresse"),
                 "8 rue Sud, 13001 Marseille, ES");
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "GET", "/api/clients/?page=0&size=500&statut=vip", NULL, &r) == 422);
    check_error(&r, 422, "VALIDATION_ERROR");
    const json_t *fe = json_object_get(r.json, "field_errors");
    CHECK(json_is_array(json_object_get(fe, "page")) && json_is_array(json_object_get(fe, "size")) &&
          json_is_array(json_object_get(fe, "statut")));
    bl_test_reply_clear(&r);
}

static void client_validation_lists_every_invalid_field(void)
{
    bl_test_reply r;
    REQUIRE(call(patient, "POST", "/api/clients/",
                 "{\"email\":\"pas-un-email\",\"telephone\":\"abc\",\"statut\":\"vip\"}", &r) == 422);
    check_error(&r, 422, "VALIDATION_ERROR");
    const json_t *fe = json_object_get(r.json, "field_errors");
    CHECK_EQ_INT(json_object_size(fe), 5);
    const char *fields[] = {"nom", "adresse", "email", "telephone", "statut"};
    for (size_t i = 0; i < 5; i++)
        CHECK(json_array_size(json_object_get(fe, fields[i])) == 1);
    bl_test_reply_clear(&r);
    char row[32];
    REQUIRE(bl_test_sql_value(api.pool, "SELECT count(*) FROM api_commands WHERE command_type = 'client.create'"
                              " AND subject NOT IN (SELECT client_id FROM fieldservice_clients)", 0, NULL, row,
                              sizeof row) == 0);
    CHECK_EQ_STR(row, "0"); /* nothing was sent */
}

static void unknown_ids_answer_404_not_found(void)
{
    const char *paths[][2] = {
        {"GET", "/api/clients/00000000-0000-4000-8000-000000000000"},
        {"PUT", "/api/clients/00000000-0000-4000-8000-000000000000"},
        {"DELETE", "/api/clients/00000000-0000-4000-8000-000000000000"},
        {"GET", "/api/interventions/00000000-0000-4000-8000-000000000000"},
        {"POST", "/api/interventions/00000000-0000-4000-8000-000000000000/change-status"},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        bl_test_reply r;
        const char *body = strcmp(paths[i][0], "PUT") == 0 ? "{\"nom\":\"X\"}"
                           : strcmp(paths[i][0], "POST") == 0 ? "{\"nouveau_statut\":\"en_cours\"}"
                                                               : NULL;
        call(patient, paths[i][0], paths[i][1], body, &r);
        check_error(&r, 404, "NOT_FOUND");
        bl_test_reply_clear(&r);
    }
}

static void client_update_keeps_other_fields_and_delete_answers_204(void)
{
    char id[64], path[128];
    make_client("Gamma", "actif", "2 rue Ouest, 44000 Nantes", id);
    snprintf(path, sizeof path, "/api/clients/%s", id);
    bl_test_reply r;
    REQUIRE(call(patient, "PUT", path, "{\"telephone\":\"02 40 00 00 00\",\"statut\":\"inactif\"}", &r) == 200);
    CHECK(has_exactly(r.json, client_keys, 7));
    CHECK_EQ_STR(str(r.json, "telephone"), "02 40 00 00 00");
    CHECK_EQ_STR(str(r.json, "statut"), "inactif");
    CHECK_EQ_STR(str(r.json, "nom"), "Gamma");
    CHECK_EQ_STR(str(r.json, "adresse"), "2 rue Ouest, 44000 Nantes");
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "PUT", path, "{\"nom\":\"\",\"email\":\"x\"}", &r) == 422);
    CHECK(json_object_get(json_object_get(r.json, "field_errors"), "nom") &&
          json_object_get(json_object_get(r.json, "field_errors"), "email"));
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "DELETE", path, NULL, &r) == 204);
    bl_test_reply_clear(&r);
    call(patient, "GET", path, NULL, &r);
    check_error(&r, 404, "NOT_FOUND");
    bl_test_reply_clear(&r);
}

static void a_retried_create_with_its_idempotency_key_answers_the_same_client(void)
{
    char key[96], header[128];
    bl_test_unique_name(key, sizeof key, "fs-key");
    snprintf(header, sizeof header, "Idempotency-Key: %s", key);
    const char *body = "{\"nom\":\"Une seule fois\",\"adresse\":\"3 rue Unique, 75003 Paris\"}";
    bl_test_reply a, b;
    REQUIRE(bl_test_http_call(bl_api_server_port(patient), "POST", "/api/clients/", api.write_token, header, body,
                              &a) == 201);
    REQUIRE(bl_test_http_call(bl_api_server_port(patient), "POST", "/api/clients/", api.write_token, header, body,
                              &b) == 201);
    CHECK_EQ_STR(str(b.json, "id"), str(a.json, "id"));
    CHECK_EQ_STR(str(b.json, "nom"), "Une seule fois");
    char n[16];
    REQUIRE(bl_test_sql_value(api.pool, "SELECT count(*) FROM fieldservice_clients WHERE name = 'Une seule fois'", 0,
                              NULL, n, sizeof n) == 0);
    CHECK_EQ_STR(n, "1");
    bl_test_reply_clear(&b);
    REQUIRE(bl_test_http_call(bl_api_server_port(patient), "POST", "/api/clients/", api.write_token, header,
                              "{\"nom\":\"Autre\",\"adresse\":\"x\"}", &b) == 422);
    CHECK(json_object_get(json_object_get(b.json, "field_errors"), "Idempotency-Key") != NULL);
    bl_test_reply_clear(&a);
    bl_test_reply_clear(&b);
}

/* ---- interventions ---- */

static void intervention_create_answers_201_and_lists_filter(void)
{
    char client[64], other[64], second[64];
    make_client("Delta", "actif", "7 rue Haute, 67000 Strasbourg", client);
    make_client("Epsilon", "actif", "9 rue Basse, 31000 Toulouse", other);
    char body[640];
    snprintf(body, sizeof body,
             "{\"client_id\":\"%s\",\"date_intervention\":\"2024-01-01T10:00:00Z\","
             "\"type_intervention\":\"inspection\",\"statut\":\"planifie\",\"lieu\":\"3 avenue Foch, 69006 Lyon\","
             "\"description\":\"Recherche de fuite\",\"technicien_assigné\":\"tech-7\"}",
             client);
    bl_test_reply r;
    REQUIRE(call(patient, "POST", "/api/interventions/", body, &r) == 201);
    CHECK(has_exactly(r.json, intervention_keys, 8));
    CHECK_EQ_STR(str(r.json, "client_id"), client);
    CHECK_EQ_STR(str(r.json, "date_intervention"), "2024-01-01T10:00:00Z");
    CHECK_EQ_STR(str(r.json, "type_intervention"), "inspection");
    CHECK_EQ_STR(str(r.json, "statut"), "planifie");
    CHECK_EQ_STR(str(r.json, "lieu"), "3 avenue Foch, 69006 Lyon");
    CHECK_EQ_STR(str(r.json, "description"), "Recherche de fuite");
    CHECK_EQ_STR(str(r.json, "technicien_assigné"), "tech-7");
    char first[64];
    snprintf(first, sizeof first, "%s", str(r.json, "id"));
    bl_test_reply_clear(&r);
    make_intervention(other, "2024-02-10", "reparation", second);
    REQUIRE(call(patient, "GET", "/api/interventions/", NULL, &r) == 200);
    CHECK(json_integer_value(json_object_get(r.json, "total")) >= 2);
    CHECK(has_exactly(json_array_get(json_object_get(r.json, "interventions"), 0), intervention_keys, 8));
    bl_test_reply_clear(&r);
    char path[256];
    snprintf(path, sizeof path, "/api/interventions/?client_id=%s", other);
    REQUIRE(call(patient, "GET", path, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    const json_t *it = json_array_get(json_object_get(r.json, "interventions"), 0);
    CHECK_EQ_STR(str(it, "id"), second);
    CHECK_EQ_STR(str(it, "lieu"), "9 rue Basse, 31000 Toulouse"); /* the client's address */
    CHECK_EQ_STR(str(it, "date_intervention"), "2024-02-10T00:00:00Z");
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "GET", "/api/interventions/?date_debut=2024-01-01&date_fin=2024-01-31", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK_EQ_STR(str(json_array_get(json_object_get(r.json, "interventions"), 0), "id"), first);
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "GET", "/api/interventions/?type_intervention=reparation&statut=planifie", NULL, &r) ==
            200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "GET", "/api/interventions/?search=fuite&size=1", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "pages")), 1);
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "GET", "/api/interventions/?date_debut=demain&statut=fini", NULL, &r) == 422);
    CHECK(json_object_get(json_object_get(r.json, "field_errors"), "date_debut") &&
          json_object_get(json_object_get(r.json, "field_errors"), "statut"));
    bl_test_reply_clear(&r);
}

static void intervention_validation_lists_every_invalid_field(void)
{
    bl_test_reply r;
    REQUIRE(call(patient, "POST", "/api/interventions/",
                 "{\"client_id\":\"00000000-0000-4000-8000-000000000000\",\"date_intervention\":\"demain\","
                 "\"statut\":\"termine\",\"lieu\":\"\",\"technicien_assigné\":42}",
                 &r) == 422);
    check_error(&r, 422, "VALIDATION_ERROR");
    const json_t *fe = json_object_get(r.json, "field_errors");
    const char *fields[] = {"client_id", "date_intervention", "statut", "lieu", "technicien_assigné"};
    CHECK_EQ_INT(json_object_size(fe), 5);
    for (size_t i = 0; i < 5; i++)
        CHECK(json_array_size(json_object_get(fe, fields[i])) == 1);
    bl_test_reply_clear(&r);
}

static long intervention_status_row(const char *id, char *out, size_t len)
{
    const char *p[] = {id};
    return bl_test_sql_value(api.pool, "SELECT status FROM fieldservice_interventions WHERE intervention_id = $1",
                             1, p, out, len);
}

static void change_status_legal_200_illegal_422_row_unchanged(void)
{
    char client[64], id[64], path[160], status[32];
    make_client("Zeta Contrôle", "actif", "4 rue Neuve, 35000 Rennes", client);
    make_intervention(client, "2024-03-01T08:30:00Z", "inspection", id);
    snprintf(path, sizeof path, "/api/interventions/%s/change-status", id);
    bl_test_reply r;
    REQUIRE(call(patient, "POST", path, "{\"nouveau_statut\":\"en_cours\",\"commentaire\":\"sur place\"}", &r) ==
            200);
    CHECK(has_exactly(r.json, intervention_keys, 8));
    CHECK_EQ_STR(str(r.json, "statut"), "en_cours");
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "POST", path, "{\"nouveau_statut\":\"termine\"}", &r) == 200);
    CHECK_EQ_STR(str(r.json, "statut"), "termine");
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "POST", path, "{\"nouveau_statut\":\"en_cours\"}", &r) == 422);
    check_error(&r, 422, "VALIDATION_ERROR");
    const json_t *why = json_array_get(json_object_get(json_object_get(r.json, "field_errors"), "nouveau_statut"), 0);
    CHECK(json_is_string(why) && strstr(json_string_value(why), "final") != NULL);
    CHECK(strstr(str(r.json, "detail"), "cannot become IN_PROGRESS") != NULL);
    bl_test_reply_clear(&r);
    REQUIRE(intervention_status_row(id, status, sizeof status) == 0);
    CHECK_EQ_STR(status, "COMPLETED");
    /* the refusal is on the command's status URL too */
    const char *p[] = {id};
    char command[64], status_path[128];
    REQUIRE(bl_test_sql_value(api.pool,
                              "SELECT command_id FROM api_commands WHERE subject = $1"
                              " AND command_type = 'intervention.change_status' ORDER BY created_at DESC LIMIT 1",
                              1, p, command, sizeof command) == 0);
    snprintf(status_path, sizeof status_path, "/v1/commands/%s", command);
    REQUIRE(call(patient, "GET", status_path, NULL, &r) == 200);
    CHECK_EQ_STR(str(r.json, "status"), "refused");
    CHECK_EQ_STR(str(r.json, "error_class"), "conflict");
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "POST", path, "{\"nouveau_statut\":\"fini\",\"commentaire\":7}", &r) == 422);
    CHECK(json_object_get(json_object_get(r.json, "field_errors"), "nouveau_statut") &&
          json_object_get(json_object_get(r.json, "field_errors"), "commentaire"));
    bl_test_reply_clear(&r);
    /* PUT does not change the status */
    snprintf(path, sizeof path, "/api/interventions/%s", id);
    REQUIRE(call(patient, "PUT", path, "{\"statut\":\"planifie\",\"description\":\"x\"}", &r) == 422);
    CHECK(json_object_get(json_object_get(r.json, "field_errors"), "statut") != NULL);
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "PUT", path, "{\"description\":\"fuite réparée\",\"date_intervention\":\"2024-03-02\"}",
                 &r) == 200);
    CHECK_EQ_STR(str(r.json, "description"), "fuite réparée");
    CHECK_EQ_STR(str(r.json, "date_intervention"), "2024-03-02T00:00:00Z");
    CHECK_EQ_STR(str(r.json, "statut"), "termine");
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "DELETE", path, NULL, &r) == 204);
    bl_test_reply_clear(&r);
    call(patient, "GET", path, NULL, &r);
    check_error(&r, 404, "NOT_FOUND");
    bl_test_reply_clear(&r);
}

/* ---- past the bound ---- */

/* Reads path until its status is no longer "accepted" (the service runs);
 * status gets the last one. */
static void status_once_handled(const char *path, char *status, size_t len, json_t **last)
{
    for (int i = 0; i < 600; i++) {
        bl_test_reply r;
        call(patient, "GET", path, NULL, &r);
        snprintf(status, len, "%s", str(r.json, "status"));
        if (strcmp(status, "accepted") != 0 || i == 599) {
            *last = json_incref(r.json);
            bl_test_reply_clear(&r);
            return;
        }
        bl_test_reply_clear(&r);
        nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
    }
}

static void past_the_bound_202_then_the_status_url_shows_the_outcome(void)
{
    char client[64], done_id[64], path[160];
    make_client("Omega", "actif", "6 rue Vieille, 21000 Dijon", client);
    make_intervention(client, "2024-04-01", "inspection", done_id);
    snprintf(path, sizeof path, "/api/interventions/%s/change-status", done_id);
    bl_test_reply r;
    REQUIRE(call(patient, "POST", path, "{\"nouveau_statut\":\"annule\"}", &r) == 200);
    bl_test_reply_clear(&r);
    service_pause();
    REQUIRE(call(hasty, "POST", "/api/clients/", "{\"nom\":\"En attente\",\"adresse\":\"1 rue Lente, 75011 Paris\"}",
                 &r) == 202);
    char id[64], created_url[160], refused_url[160];
    snprintf(id, sizeof id, "%s", str(r.json, "id"));
    snprintf(created_url, sizeof created_url, "%s", str(r.json, "status_url"));
    CHECK_EQ_STR(str(r.json, "status"), "accepted");
    CHECK(strncmp(created_url, "/api/commands/", 14) == 0 && str(r.json, "command_id")[0]);
    bl_test_reply_clear(&r);
    REQUIRE(call(hasty, "POST", path, "{\"nouveau_statut\":\"en_cours\"}", &r) == 202); /* illegal: annule is final */
    snprintf(refused_url, sizeof refused_url, "%s", str(r.json, "status_url"));
    bl_test_reply_clear(&r);
    REQUIRE(call(patient, "GET", created_url, NULL, &r) == 200);
    CHECK_EQ_STR(str(r.json, "status"), "accepted");
    bl_test_reply_clear(&r);
    call(patient, "GET", "/api/commands/00000000-0000-4000-8000-000000000000", NULL, &r);
    check_error(&r, 404, "NOT_FOUND");
    bl_test_reply_clear(&r);
    char client_path[128];
    snprintf(client_path, sizeof client_path, "/api/clients/%s", id);
    call(patient, "GET", client_path, NULL, &r);
    CHECK_EQ_INT(r.status, 404);
    bl_test_reply_clear(&r);
    service_resume();
    char status[32];
    json_t *last = NULL;
    status_once_handled(created_url, status, sizeof status, &last);
    CHECK_EQ_STR(status, "processed");
    CHECK_EQ_INT(json_integer_value(json_object_get(last, "events")), 1);
    json_decref(last);
    status_once_handled(refused_url, status, sizeof status, &last);
    CHECK_EQ_STR(status, "refused");
    CHECK(strstr(str(last, "reason"), "CANCELLED") != NULL);
    json_decref(last);
    REQUIRE(call(patient, "GET", client_path, NULL, &r) == 200);
    CHECK_EQ_STR(str(r.json, "nom"), "En attente");
    bl_test_reply_clear(&r);
}

typedef struct pending_create {
    pthread_t thread;
    long status;
    bl_test_reply r;
} pending_create;

static void *create_waiting(void *arg)
{
    pending_create *p = arg;
    p->status = call(patient, "POST", "/api/clients/", "{\"nom\":\"Sans fil\",\"adresse\":\"3 rue Coupee, 69002 Lyon\"}",
                     &p->r);
    return NULL;
}

static long sql_count(const char *sql)
{
    char v[32] = "";
    return bl_test_sql_value(api.pool, sql, 0, NULL, v, sizeof v) == 0 ? atol(v) : -1;
}

/* Lets the test's database take new connections or not; from the server's
 * postgres database, since a database cannot refuse its own. */
static int allow_connections(bool allow)
{
    char db[128] = "";
    if (bl_test_sql_value(api.pool, "SELECT current_database()", 0, NULL, db, sizeof db) != 0)
        return -1;
    const char *keys[] = {"dbname", "dbname", NULL};
    const char *values[] = {bl_pg_pool_conninfo(api.pool), "postgres", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    char sql[256];
    snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS %s", db, allow ? "true" : "false");
    PGresult *r = PQstatus(conn) == CONNECTION_OK ? PQexec(conn, sql) : NULL;
    int rc = r && PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "  %s: %s\n", sql, PQerrorMessage(conn));
    PQclear(r);
    PQfinish(conn);
    return rc;
}

/* The outcome is announced while the API's LISTEN connection is down (its
 * backend killed, the database refusing new connections until the service
 * applied the command): on reconnect the listener re-checks the waiting
 * command against the tables, so the create still answers 201. */
static void an_outcome_missed_while_the_listener_was_down_still_answers(void)
{
    service_pause();
    long before = sql_count("SELECT count(*) FROM api_commands WHERE state = 'accepted'");
    long applied = (long)bl_domain_service_stats_get(svc).applied;
    pending_create p = {0};
    REQUIRE(pthread_create(&p.thread, NULL, create_waiting, &p) == 0);
    /* accepted on the bus means its waiter is registered (before producing) */
    for (int i = 0; i < 600 && sql_count("SELECT count(*) FROM api_commands WHERE state = 'accepted'") <= before; i++)
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    CHECK(allow_connections(false) == 0);
    CHECK(sql_count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND query = 'LISTEN busline_command_outcome'") >= 1);
    service_resume(); /* its connection is open already: it applies and announces to nobody of ours */
    for (int i = 0; i < 600 && (long)bl_domain_service_stats_get(svc).applied == applied; i++)
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    CHECK_EQ_INT((long)bl_domain_service_stats_get(svc).applied, applied + 1);
    CHECK(allow_connections(true) == 0);
    pthread_join(p.thread, NULL);
    CHECK_EQ_INT(p.status, 201);
    CHECK_EQ_STR(str(p.r.json, "nom"), "Sans fil");
    bl_test_reply_clear(&p.r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (setup() == 0) {
        BL_RUN(client_create_answers_201_with_the_created_client);
        BL_RUN(client_list_pages_and_filters);
        BL_RUN(client_validation_lists_every_invalid_field);
        BL_RUN(unknown_ids_answer_404_not_found);
        BL_RUN(client_update_keeps_other_fields_and_delete_answers_204);
        BL_RUN(a_retried_create_with_its_idempotency_key_answers_the_same_client);
        BL_RUN(intervention_create_answers_201_and_lists_filter);
        BL_RUN(intervention_validation_lists_every_invalid_field);
        BL_RUN(change_status_legal_200_illegal_422_row_unchanged);
        BL_RUN(past_the_bound_202_then_the_status_url_shows_the_outcome);
        BL_RUN(an_outcome_missed_while_the_listener_was_down_still_answers);
    } else {
        bl_test_failures++;
    }
    teardown();
    curl_global_cleanup();
    return bl_test_summary();
}
