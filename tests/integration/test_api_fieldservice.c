/* The field-service surface's clients and interventions (SmartLeakPro
 * document) against the real bus (tests/support/fs_api_fixture.h: the API
 * in-process on fresh topics, the field-service domain service stepped on
 * a thread of the test). A create answers 201 with the created resource
 * once the domain applied it; a legal status change answers 200, an illegal
 * one the document's 422 with the status machine's reason (the row
 * unchanged, the refusal on the status URL); every invalid field is listed;
 * a create retried with its Idempotency-Key answers the same resource;
 * lists page and filter; unknown ids answer 404 NOT_FOUND. The bounded wait
 * itself (202 past the bound, outcomes missed by the listener) is in
 * test_api_fieldservice_waits.c. */
#include "core/kafka_admin.h"
#include "core/pg_pool.h"
#include "producers/domain_service/service.h"
#include "producers/fieldservice/domain.h"
#include "tests/support/api_fixture.h"
#include "tests/support/fs_api_fixture.h"
#include "tests/support/test.h"
#include "tests/support/webhook_domain_path.h"
#include "tests/support/webhook_sink.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* ---- clients ---- */

static void client_create_answers_201_with_the_created_client(void)
{
    bl_test_reply r;
    const char *body = "{\"nom\":\"Plomberie Durand\",\"email\":\"contact@durand.fr\","
                       "\"telephone\":\"+33 1 23 45 67 89\",\"adresse\":\"12 rue de la Paix, 75002 Paris\","
                       "\"statut\":\"prospect\"}";
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "POST", "/api/clients/", body, &r) == 201);
    CHECK(has_exactly(r.json, client_keys, 7));
    CHECK_EQ_INT(strlen(bl_test_fs_str(r.json, "id")), 36);
    CHECK_EQ_STR(bl_test_fs_str(r.json, "nom"), "Plomberie Durand");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "email"), "contact@durand.fr");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "telephone"), "+33 1 23 45 67 89");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "adresse"), "12 rue de la Paix, 75002 Paris");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "statut"), "prospect");
    CHECK(strlen(bl_test_fs_str(r.json, "date_creation")) == 20 && bl_test_fs_str(r.json, "date_creation")[19] == 'Z');
    const char *p[] = {bl_test_fs_str(r.json, "id")};
    char row[256];
    REQUIRE(bl_test_sql_value(bl_test_fs.api.pool,
                              "SELECT street || '|' || postal_code || '|' || city || '|' || country"
                              " FROM fieldservice_clients WHERE client_id = $1",
                              1, p, row, sizeof row) == 0);
    CHECK_EQ_STR(row, "12 rue de la Paix|75002|Paris|FR");
    bl_test_reply_clear(&r);
}

static void client_list_pages_and_filters(void)
{
    char ids[4][64];
    bl_test_fs_make_client("Zeta Fuites", "actif", "1 quai Est, 33000 Bordeaux", ids[0]);
    bl_test_fs_make_client("Zeta Réseaux", "inactif", "Zone artisanale", ids[1]);
    bl_test_fs_make_client("Alpha Eau", "actif", "5 place Nord, 59000 Lille", ids[2]);
    bl_test_fs_make_client("Beta Canalisations", "actif", "8 rue Sud, 13001 Marseille, ES", ids[3]);
    bl_test_reply r;
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", "/api/clients/?page=1&size=2", NULL, &r) == 200);
    long total = (long)json_integer_value(json_object_get(r.json, "total"));
    CHECK(total >= 5);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "clients")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "page")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "size")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "pages")), (total + 1) / 2);
    CHECK(has_exactly(json_array_get(json_object_get(r.json, "clients"), 0), client_keys, 7));
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", "/api/clients/", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "size")), 10);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "page")), 1);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", "/api/clients/?statut=inactif", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK_EQ_STR(bl_test_fs_str(json_array_get(json_object_get(r.json, "clients"), 0), "id"), ids[1]);
    CHECK_EQ_STR(bl_test_fs_str(json_array_get(json_object_get(r.json, "clients"), 0), "adresse"), "Zone artisanale");
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", "/api/clients/?search=zeta&statut=actif", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK_EQ_STR(bl_test_fs_str(json_array_get(json_object_get(r.json, "clients"), 0), "id"), ids[0]);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", "/api/clients/?search=Marseille", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK_EQ_STR(bl_test_fs_str(json_array_get(json_object_get(r.json, "clients"), 0), "adresse"),
                 "8 rue Sud, 13001 Marseille, ES");
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", "/api/clients/?page=0&size=500&statut=vip", NULL, &r) == 422);
    bl_test_fs_check_error(&r, 422, "VALIDATION_ERROR");
    const json_t *fe = json_object_get(r.json, "field_errors");
    CHECK(json_is_array(json_object_get(fe, "page")) && json_is_array(json_object_get(fe, "size")) &&
          json_is_array(json_object_get(fe, "statut")));
    bl_test_reply_clear(&r);
}

static void client_validation_lists_every_invalid_field(void)
{
    bl_test_reply r;
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "POST", "/api/clients/",
                 "{\"email\":\"pas-un-email\",\"telephone\":\"abc\",\"statut\":\"vip\"}", &r) == 422);
    bl_test_fs_check_error(&r, 422, "VALIDATION_ERROR");
    const json_t *fe = json_object_get(r.json, "field_errors");
    CHECK_EQ_INT(json_object_size(fe), 5);
    const char *fields[] = {"nom", "adresse", "email", "telephone", "statut"};
    for (size_t i = 0; i < 5; i++)
        CHECK(json_array_size(json_object_get(fe, fields[i])) == 1);
    bl_test_reply_clear(&r);
    char row[32];
    REQUIRE(bl_test_sql_value(bl_test_fs.api.pool, "SELECT count(*) FROM api_commands WHERE command_type = 'client.create'"
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
        bl_test_fs_call(bl_test_fs.patient, paths[i][0], paths[i][1], body, &r);
        bl_test_fs_check_error(&r, 404, "NOT_FOUND");
        bl_test_reply_clear(&r);
    }
}

static void client_update_keeps_other_fields_and_delete_answers_204(void)
{
    char id[64], path[128];
    bl_test_fs_make_client("Gamma", "actif", "2 rue Ouest, 44000 Nantes", id);
    snprintf(path, sizeof path, "/api/clients/%s", id);
    bl_test_reply r;
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "PUT", path, "{\"telephone\":\"02 40 00 00 00\",\"statut\":\"inactif\"}", &r) == 200);
    CHECK(has_exactly(r.json, client_keys, 7));
    CHECK_EQ_STR(bl_test_fs_str(r.json, "telephone"), "02 40 00 00 00");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "statut"), "inactif");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "nom"), "Gamma");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "adresse"), "2 rue Ouest, 44000 Nantes");
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "PUT", path, "{\"nom\":\"\",\"email\":\"x\"}", &r) == 422);
    CHECK(json_object_get(json_object_get(r.json, "field_errors"), "nom") &&
          json_object_get(json_object_get(r.json, "field_errors"), "email"));
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "DELETE", path, NULL, &r) == 204);
    bl_test_reply_clear(&r);
    bl_test_fs_call(bl_test_fs.patient, "GET", path, NULL, &r);
    bl_test_fs_check_error(&r, 404, "NOT_FOUND");
    bl_test_reply_clear(&r);
}

static void a_retried_create_with_its_idempotency_key_answers_the_same_client(void)
{
    char key[96], header[128];
    bl_test_unique_name(key, sizeof key, "fs-key");
    snprintf(header, sizeof header, "Idempotency-Key: %s", key);
    const char *body = "{\"nom\":\"Une seule fois\",\"adresse\":\"3 rue Unique, 75003 Paris\"}";
    bl_test_reply a, b;
    REQUIRE(bl_test_http_call(bl_api_server_port(bl_test_fs.patient), "POST", "/api/clients/", bl_test_fs.api.write_token, header, body,
                              &a) == 201);
    REQUIRE(bl_test_http_call(bl_api_server_port(bl_test_fs.patient), "POST", "/api/clients/", bl_test_fs.api.write_token, header, body,
                              &b) == 201);
    CHECK_EQ_STR(bl_test_fs_str(b.json, "id"), bl_test_fs_str(a.json, "id"));
    CHECK_EQ_STR(bl_test_fs_str(b.json, "nom"), "Une seule fois");
    char n[16];
    REQUIRE(bl_test_sql_value(bl_test_fs.api.pool, "SELECT count(*) FROM fieldservice_clients WHERE name = 'Une seule fois'", 0,
                              NULL, n, sizeof n) == 0);
    CHECK_EQ_STR(n, "1");
    bl_test_reply_clear(&b);
    REQUIRE(bl_test_http_call(bl_api_server_port(bl_test_fs.patient), "POST", "/api/clients/", bl_test_fs.api.write_token, header,
                              "{\"nom\":\"Autre\",\"adresse\":\"x\"}", &b) == 422);
    CHECK(json_object_get(json_object_get(b.json, "field_errors"), "Idempotency-Key") != NULL);
    bl_test_reply_clear(&a);
    bl_test_reply_clear(&b);
}

/* ---- interventions ---- */

static void intervention_create_answers_201_and_lists_filter(void)
{
    char client[64], other[64], second[64];
    bl_test_fs_make_client("Delta", "actif", "7 rue Haute, 67000 Strasbourg", client);
    bl_test_fs_make_client("Epsilon", "actif", "9 rue Basse, 31000 Toulouse", other);
    char body[640];
    snprintf(body, sizeof body,
             "{\"client_id\":\"%s\",\"date_intervention\":\"2024-01-01T10:00:00Z\","
             "\"type_intervention\":\"inspection\",\"statut\":\"planifie\",\"lieu\":\"3 avenue Foch, 69006 Lyon\","
             "\"description\":\"Recherche de fuite\",\"technicien_assigné\":\"tech-7\"}",
             client);
    bl_test_reply r;
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "POST", "/api/interventions/", body, &r) == 201);
    CHECK(has_exactly(r.json, intervention_keys, 8));
    CHECK_EQ_STR(bl_test_fs_str(r.json, "client_id"), client);
    CHECK_EQ_STR(bl_test_fs_str(r.json, "date_intervention"), "2024-01-01T10:00:00Z");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "type_intervention"), "inspection");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "statut"), "planifie");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "lieu"), "3 avenue Foch, 69006 Lyon");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "description"), "Recherche de fuite");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "technicien_assigné"), "tech-7");
    char first[64];
    snprintf(first, sizeof first, "%s", bl_test_fs_str(r.json, "id"));
    bl_test_reply_clear(&r);
    bl_test_fs_make_intervention(other, "2024-02-10", "reparation", second);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", "/api/interventions/", NULL, &r) == 200);
    CHECK(json_integer_value(json_object_get(r.json, "total")) >= 2);
    CHECK(has_exactly(json_array_get(json_object_get(r.json, "interventions"), 0), intervention_keys, 8));
    bl_test_reply_clear(&r);
    char path[256];
    snprintf(path, sizeof path, "/api/interventions/?client_id=%s", other);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", path, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    const json_t *it = json_array_get(json_object_get(r.json, "interventions"), 0);
    CHECK_EQ_STR(bl_test_fs_str(it, "id"), second);
    CHECK_EQ_STR(bl_test_fs_str(it, "lieu"), "9 rue Basse, 31000 Toulouse"); /* the client's address */
    CHECK_EQ_STR(bl_test_fs_str(it, "date_intervention"), "2024-02-10T00:00:00Z");
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", "/api/interventions/?date_debut=2024-01-01&date_fin=2024-01-31", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK_EQ_STR(bl_test_fs_str(json_array_get(json_object_get(r.json, "interventions"), 0), "id"), first);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", "/api/interventions/?type_intervention=reparation&statut=planifie", NULL, &r) ==
            200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", "/api/interventions/?search=fuite&size=1", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "pages")), 1);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", "/api/interventions/?date_debut=demain&statut=fini", NULL, &r) == 422);
    CHECK(json_object_get(json_object_get(r.json, "field_errors"), "date_debut") &&
          json_object_get(json_object_get(r.json, "field_errors"), "statut"));
    bl_test_reply_clear(&r);
}

static void intervention_validation_lists_every_invalid_field(void)
{
    bl_test_reply r;
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "POST", "/api/interventions/",
                 "{\"client_id\":\"00000000-0000-4000-8000-000000000000\",\"date_intervention\":\"demain\","
                 "\"statut\":\"termine\",\"lieu\":\"\",\"technicien_assigné\":42}",
                 &r) == 422);
    bl_test_fs_check_error(&r, 422, "VALIDATION_ERROR");
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
    return bl_test_sql_value(bl_test_fs.api.pool, "SELECT status FROM fieldservice_interventions WHERE intervention_id = $1",
                             1, p, out, len);
}

static void change_status_legal_200_illegal_422_row_unchanged(void)
{
    char client[64], id[64], path[160], status[32];
    bl_test_fs_make_client("Zeta Contrôle", "actif", "4 rue Neuve, 35000 Rennes", client);
    bl_test_fs_make_intervention(client, "2024-03-01T08:30:00Z", "inspection", id);
    snprintf(path, sizeof path, "/api/interventions/%s/change-status", id);
    bl_test_reply r;
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "POST", path, "{\"nouveau_statut\":\"en_cours\",\"commentaire\":\"sur place\"}", &r) ==
            200);
    CHECK(has_exactly(r.json, intervention_keys, 8));
    CHECK_EQ_STR(bl_test_fs_str(r.json, "statut"), "en_cours");
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "POST", path, "{\"nouveau_statut\":\"termine\"}", &r) == 200);
    CHECK_EQ_STR(bl_test_fs_str(r.json, "statut"), "termine");
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "POST", path, "{\"nouveau_statut\":\"en_cours\"}", &r) == 422);
    bl_test_fs_check_error(&r, 422, "VALIDATION_ERROR");
    const json_t *why = json_array_get(json_object_get(json_object_get(r.json, "field_errors"), "nouveau_statut"), 0);
    CHECK(json_is_string(why) && strstr(json_string_value(why), "final") != NULL);
    CHECK(strstr(bl_test_fs_str(r.json, "detail"), "cannot become IN_PROGRESS") != NULL);
    bl_test_reply_clear(&r);
    REQUIRE(intervention_status_row(id, status, sizeof status) == 0);
    CHECK_EQ_STR(status, "COMPLETED");
    /* the refusal is on the command's status URL too */
    const char *p[] = {id};
    char command[64], status_path[128];
    REQUIRE(bl_test_sql_value(bl_test_fs.api.pool,
                              "SELECT command_id FROM api_commands WHERE subject = $1"
                              " AND command_type = 'intervention.change_status' ORDER BY created_at DESC LIMIT 1",
                              1, p, command, sizeof command) == 0);
    snprintf(status_path, sizeof status_path, "/v1/commands/%s", command);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", status_path, NULL, &r) == 200);
    CHECK_EQ_STR(bl_test_fs_str(r.json, "status"), "refused");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "error_class"), "conflict");
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "POST", path, "{\"nouveau_statut\":\"fini\",\"commentaire\":7}", &r) == 422);
    CHECK(json_object_get(json_object_get(r.json, "field_errors"), "nouveau_statut") &&
          json_object_get(json_object_get(r.json, "field_errors"), "commentaire"));
    bl_test_reply_clear(&r);
    /* PUT does not change the status */
    snprintf(path, sizeof path, "/api/interventions/%s", id);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "PUT", path, "{\"statut\":\"planifie\",\"description\":\"x\"}", &r) == 422);
    CHECK(json_object_get(json_object_get(r.json, "field_errors"), "statut") != NULL);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "PUT", path, "{\"description\":\"fuite réparée\",\"date_intervention\":\"2024-03-02\"}",
                 &r) == 200);
    CHECK_EQ_STR(bl_test_fs_str(r.json, "description"), "fuite réparée");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "date_intervention"), "2024-03-02T00:00:00Z");
    CHECK_EQ_STR(bl_test_fs_str(r.json, "statut"), "termine");
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "DELETE", path, NULL, &r) == 204);
    bl_test_reply_clear(&r);
    bl_test_fs_call(bl_test_fs.patient, "GET", path, NULL, &r);
    bl_test_fs_check_error(&r, 404, "NOT_FOUND");
    bl_test_reply_clear(&r);
}

/* GET /planning/ with the document's client_id and statut filters: only
 * that client's appointments, only those in that status. */
static void planning_filters_on_client_id_and_statut(void)
{
    char a[64], b[64], ia[64], ib[64], path[256];
    bl_test_fs_make_client("Eta Fuites", "actif", "1 quai Ouest, 44000 Nantes", a);
    bl_test_fs_make_client("Theta Eaux", "actif", "2 quai Est, 44000 Nantes", b);
    bl_test_fs_make_intervention(a, "2031-05-12T08:00:00Z", "inspection", ia);
    bl_test_fs_make_intervention(b, "2031-05-12T14:00:00Z", "inspection", ib);
    bl_test_reply r;
    snprintf(path, sizeof path, "/api/interventions/%s/change-status", ia);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "POST", path, "{\"nouveau_statut\":\"en_cours\"}", &r) == 200);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/api/planning/?client_id=%s", b);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", path, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    const json_t *row = json_array_get(json_object_get(r.json, "rendez_vous"), 0);
    CHECK_EQ_STR(bl_test_fs_str(row, "id"), ib);
    CHECK_EQ_STR(bl_test_fs_str(row, "client"), "Theta Eaux");
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET",
                            "/api/planning/?date_debut=2031-05-12&date_fin=2031-05-12&statut=en_cours", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    row = json_array_get(json_object_get(r.json, "rendez_vous"), 0);
    CHECK_EQ_STR(bl_test_fs_str(row, "id"), ia);
    CHECK_EQ_STR(bl_test_fs_str(row, "statut"), "en_cours");
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/api/planning/?client_id=%s&statut=en_cours", b);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", path, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 0);
    bl_test_reply_clear(&r);
}

/* The document's 500: a failure inside the API (the clients' table renamed
 * away under it) is answered {detail, error_code: INTERNAL_ERROR,
 * field_errors}, and the same request works again once it is back. */
static void an_internal_failure_answers_500_internal_error(void)
{
    bl_test_reply r;
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", "/api/clients/", NULL, &r) == 200);
    bl_test_reply_clear(&r);
    bl_test_fs_service_pause();
    REQUIRE(bl_test_sql(bl_test_fs.api.pool, "ALTER TABLE fieldservice_clients RENAME TO fieldservice_clients_away", 0,
                        NULL) == 0);
    long status = bl_test_fs_call(bl_test_fs.patient, "GET", "/api/clients/", NULL, &r);
    CHECK(bl_test_sql(bl_test_fs.api.pool, "ALTER TABLE fieldservice_clients_away RENAME TO fieldservice_clients", 0,
                      NULL) == 0);
    bl_test_fs_service_resume();
    CHECK_EQ_INT(status, 500);
    bl_test_fs_check_error(&r, 500, "INTERNAL_ERROR");
    CHECK_EQ_INT(json_object_size(json_object_get(r.json, "field_errors")), 0);
    CHECK(!strstr(r.body ? r.body : "", "fieldservice_clients")); /* nothing of the database's words leaks */
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", "/api/clients/", NULL, &r) == 200);
    bl_test_reply_clear(&r);
}

typedef struct resource_hit {
    const char *path, *resource_id;
    sink_hit found; /* its body borrowed from the sink */
} resource_hit;

static int has_resource_hit(webhook_sink *s, void *user)
{
    resource_hit *want = user;
    sink_hit hits[8];
    size_t n = webhook_sink_hits_to(s, want->path, hits, 8);
    for (size_t i = 0; i < n; i++)
        if (strstr(hits[i].body, want->resource_id)) {
            want->found = hits[i];
            return 1;
        }
    return 0;
}

/* Creates the document's example webhook (its body as written) at url with
 * the condition's value. Returns the status. */
static long make_example_webhook(const char *url, const char *value)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\n  \"nom\": \"string\",\n  \"description\": \"string\",\n  \"url\": \"%s\",\n"
             "  \"type_webhook\": \"intervention_created\",\n  \"secret\": \"string\",\n  \"conditions\": [\n"
             "    {\n      \"field\": \"data.statut\",\n      \"operator\": \"equals\",\n"
             "      \"value\": \"%s\"\n    }\n  ]\n}",
             url, value);
    bl_test_reply r;
    long status = bl_test_api_call(&bl_test_fs.api, "POST", "/api/webhooks/", bl_test_fs.api.admin_token, NULL, body,
                                   &r);
    bl_test_reply_clear(&r);
    return status;
}

/* The document's own webhook example (type_webhook intervention_created,
 * condition data.statut equals en_cours), its body as written, end to end
 * over HTTP. An intervention is always created planifie here (the status
 * machine), so the example as written never matches a creation: beside it
 * the same webhook with the value planifie receives the intervention, in the
 * document's payload signed X-Webhook-Signature, and the en_cours one gets
 * nothing. */
static void the_documents_webhook_example_delivers_only_matching_interventions(void)
{
    wh_domain_path p = {0};
    webhook_sink sink = {0};
    bl_test_reply r = {0};
    char topic[200], url[160], client[64], id[64];
    snprintf(topic, sizeof topic, "%sevents.fieldservice.intervention", bl_test_fs.api.prefix);
    if (wh_domain_path_open(&p, bl_test_fs.api.registry.pg_url, topic) != 0 ||
        webhook_sink_start(&sink, NULL, NULL) != 0) {
        CHECK(!"the webhook path started");
        goto done;
    }
    webhook_sink_url(&sink, "/en_cours", url, sizeof url);
    REQUIRE(make_example_webhook(url, "en_cours") == 201);
    webhook_sink_url(&sink, "/planifie", url, sizeof url);
    REQUIRE(make_example_webhook(url, "planifie") == 201);
    CHECK_EQ_INT(wh_e2e_wait_cache(&p.wh, 2), 0);
    bl_test_fs_make_client("Iota Fuites", "actif", "5 rue du Port, 13002 Marseille", client);
    bl_test_fs_make_intervention(client, "2031-06-02T09:00:00Z", "inspection", id);
    resource_hit want = {.path = "/planifie", .resource_id = id};
    if (!webhook_sink_wait(&sink, has_resource_hit, &want, 30000)) {
        CHECK(!"the matching webhook received the intervention");
        goto done;
    }
    json_t *j = json_loadb(want.found.body, want.found.body_len, 0, NULL);
    CHECK_EQ_INT(json_object_size(j), 4);
    CHECK_EQ_STR(bl_test_fs_str(j, "type"), "intervention_created");
    CHECK(json_string_length(json_object_get(j, "timestamp")) >= 20);
    CHECK_EQ_STR(bl_test_fs_str(j, "resource_id"), id);
    const json_t *data = json_object_get(j, "data");
    CHECK_EQ_STR(bl_test_fs_str(data, "id"), id);
    CHECK_EQ_STR(bl_test_fs_str(data, "client_id"), client);
    CHECK_EQ_STR(bl_test_fs_str(data, "statut"), "planifie");
    json_decref(j);
    char python[128];
    wh_python_verify("text-keyed string", want.found.body, python, sizeof python);
    CHECK(strncmp(want.found.webhook_sig, "sha256=", 7) == 0);
    CHECK_EQ_STR(want.found.webhook_sig, python);
    /* the fan-out matched both endpoints on the same event: the en_cours one got nothing */
    sink_hit none[4];
    CHECK_EQ_INT(webhook_sink_hits_to(&sink, "/en_cours", none, 4), 0);
done:
    bl_test_reply_clear(&r);
    webhook_sink_stop(&sink);
    wh_domain_path_close(&p);
}

/* ---- past the bound ---- */

/* Reads path until its status is no longer "accepted" (the service runs);
 * status gets the last one. */

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    setenv("BUSLINE_ENCRYPTION_KEYS", BL_WEBHOOK_TEST_KEYS, 1); /* the webhooks' secrets */
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);          /* the local sink */
    if (bl_test_fs_setup() == 0) {
        BL_RUN(client_create_answers_201_with_the_created_client);
        BL_RUN(client_list_pages_and_filters);
        BL_RUN(client_validation_lists_every_invalid_field);
        BL_RUN(unknown_ids_answer_404_not_found);
        BL_RUN(client_update_keeps_other_fields_and_delete_answers_204);
        BL_RUN(a_retried_create_with_its_idempotency_key_answers_the_same_client);
        BL_RUN(intervention_create_answers_201_and_lists_filter);
        BL_RUN(intervention_validation_lists_every_invalid_field);
        BL_RUN(change_status_legal_200_illegal_422_row_unchanged);
        BL_RUN(planning_filters_on_client_id_and_statut);
        BL_RUN(an_internal_failure_answers_500_internal_error);
        BL_RUN(the_documents_webhook_example_delivers_only_matching_interventions);
    } else {
        bl_test_failures++;
    }
    bl_test_fs_teardown();
    curl_global_cleanup();
    return bl_test_summary();
}
