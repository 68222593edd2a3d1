/* The field-service surface's bounded wait for a command's outcome against
 * the real bus (tests/support/fs_api_fixture.h): past the bound (the
 * service not running) a create answers 202 with a status URL, which shows
 * the outcome once the service ran; an outcome announced while the API's
 * listener was down still answers the request waiting for it. */
#include "core/kafka_admin.h"
#include "core/pg_pool.h"
#include "producers/domain_service/service.h"
#include "producers/fieldservice/domain.h"
#include "tests/support/api_fixture.h"
#include "tests/support/fs_api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void status_once_handled(const char *path, char *status, size_t len, json_t **last)
{
    for (int i = 0; i < 600; i++) {
        bl_test_reply r;
        bl_test_fs_call(bl_test_fs.patient, "GET", path, NULL, &r);
        snprintf(status, len, "%s", bl_test_fs_str(r.json, "status"));
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
    bl_test_fs_make_client("Omega", "actif", "6 rue Vieille, 21000 Dijon", client);
    bl_test_fs_make_intervention(client, "2024-04-01", "inspection", done_id);
    snprintf(path, sizeof path, "/api/interventions/%s/change-status", done_id);
    bl_test_reply r;
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "POST", path, "{\"nouveau_statut\":\"annule\"}", &r) == 200);
    bl_test_reply_clear(&r);
    bl_test_fs_service_pause();
    REQUIRE(bl_test_fs_call(bl_test_fs.hasty, "POST", "/api/clients/", "{\"nom\":\"En attente\",\"adresse\":\"1 rue Lente, 75011 Paris\"}",
                 &r) == 202);
    char id[64], created_url[160], refused_url[160];
    snprintf(id, sizeof id, "%s", bl_test_fs_str(r.json, "id"));
    snprintf(created_url, sizeof created_url, "%s", bl_test_fs_str(r.json, "status_url"));
    CHECK_EQ_STR(bl_test_fs_str(r.json, "status"), "accepted");
    CHECK(strncmp(created_url, "/api/commands/", 14) == 0 && bl_test_fs_str(r.json, "command_id")[0]);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.hasty, "POST", path, "{\"nouveau_statut\":\"en_cours\"}", &r) == 202); /* illegal: annule is final */
    snprintf(refused_url, sizeof refused_url, "%s", bl_test_fs_str(r.json, "status_url"));
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", created_url, NULL, &r) == 200);
    CHECK_EQ_STR(bl_test_fs_str(r.json, "status"), "accepted");
    bl_test_reply_clear(&r);
    bl_test_fs_call(bl_test_fs.patient, "GET", "/api/commands/00000000-0000-4000-8000-000000000000", NULL, &r);
    bl_test_fs_check_error(&r, 404, "NOT_FOUND");
    bl_test_reply_clear(&r);
    char client_path[128];
    snprintf(client_path, sizeof client_path, "/api/clients/%s", id);
    bl_test_fs_call(bl_test_fs.patient, "GET", client_path, NULL, &r);
    CHECK_EQ_INT(r.status, 404);
    bl_test_reply_clear(&r);
    bl_test_fs_service_resume();
    char status[32];
    json_t *last = NULL;
    status_once_handled(created_url, status, sizeof status, &last);
    CHECK_EQ_STR(status, "processed");
    CHECK_EQ_INT(json_integer_value(json_object_get(last, "events")), 1);
    json_decref(last);
    status_once_handled(refused_url, status, sizeof status, &last);
    CHECK_EQ_STR(status, "refused");
    CHECK(strstr(bl_test_fs_str(last, "reason"), "CANCELLED") != NULL);
    json_decref(last);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", client_path, NULL, &r) == 200);
    CHECK_EQ_STR(bl_test_fs_str(r.json, "nom"), "En attente");
    bl_test_reply_clear(&r);
}

/* A report whose intervention is gone by the time the service renders it:
 * the API answered 202 past its bound, the service refuses, and the
 * report's own URL then says why (statut "echec", erreur) instead of
 * en_cours for ever; nothing was stored. */
static void a_refused_report_says_why_on_its_own_url(void)
{
    char client[64], intervention[64], path[160];
    bl_test_fs_make_client("Rho", "actif", "4 rue Basse, 21000 Dijon", client);
    bl_test_fs_make_intervention(client, "2024-05-02", "inspection", intervention);
    bl_test_fs_service_pause();
    char body[256];
    snprintf(body, sizeof body, "{\"intervention_id\":\"%s\",\"type_rapport\":\"inspection\",\"format\":\"pdf\"}",
             intervention);
    bl_test_reply r;
    REQUIRE(bl_test_fs_call(bl_test_fs.hasty, "POST", "/api/rapports/generate", body, &r) == 202);
    snprintf(path, sizeof path, "/api/rapports/%s", bl_test_fs_str(r.json, "id"));
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "GET", path, NULL, &r) == 200);
    CHECK_EQ_STR(bl_test_fs_str(r.json, "statut"), "en_cours");
    bl_test_reply_clear(&r);
    /* the intervention is deleted before the service gets to the command */
    const char *p[] = {intervention};
    REQUIRE(bl_test_sql(bl_test_fs.api.pool,
                        "UPDATE fieldservice_interventions SET deleted_at = now() WHERE intervention_id = $1", 1, p) == 0);
    bl_test_fs_service_resume();
    char statut[32] = "";
    for (int i = 0; i < 600 && (!*statut || strcmp(statut, "en_cours") == 0); i++) {
        bl_test_reply_clear(&r);
        bl_test_fs_call(bl_test_fs.patient, "GET", path, NULL, &r);
        snprintf(statut, sizeof statut, "%s", bl_test_fs_str(r.json, "statut"));
        if (strcmp(statut, "en_cours") == 0)
            nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
    }
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(statut, "echec");
    CHECK(strlen(bl_test_fs_str(r.json, "erreur")) > 0);
    CHECK(json_is_string(json_object_get(r.json, "date_echec")));
    bl_test_reply_clear(&r);
    char count[16] = "";
    CHECK(bl_test_sql_value(bl_test_fs.api.pool, "SELECT count(*) FROM fieldservice_reports WHERE intervention_id = $1", 1,
                            p, count, sizeof count) == 0);
    CHECK_EQ_STR(count, "0");
}

typedef struct pending_create {
    pthread_t thread;
    long status;
    bl_test_reply r;
} pending_create;

static void *create_waiting(void *arg)
{
    pending_create *p = arg;
    p->status = bl_test_fs_call(bl_test_fs.patient, "POST", "/api/clients/", "{\"nom\":\"Sans fil\",\"adresse\":\"3 rue Coupee, 69002 Lyon\"}",
                     &p->r);
    return NULL;
}

static long sql_count(const char *sql)
{
    char v[32] = "";
    return bl_test_sql_value(bl_test_fs.api.pool, sql, 0, NULL, v, sizeof v) == 0 ? atol(v) : -1;
}

/* Lets the test's database take new connections or not; from the server's
 * postgres database, since a database cannot refuse its own. */
static int allow_connections(bool allow)
{
    char db[128] = "";
    if (bl_test_sql_value(bl_test_fs.api.pool, "SELECT current_database()", 0, NULL, db, sizeof db) != 0)
        return -1;
    const char *keys[] = {"dbname", "dbname", NULL};
    const char *values[] = {bl_pg_pool_conninfo(bl_test_fs.api.pool), "postgres", NULL};
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
    bl_test_fs_service_pause();
    long before = sql_count("SELECT count(*) FROM api_commands WHERE state = 'accepted'");
    long applied = (long)bl_domain_service_stats_get(bl_test_fs.svc).applied;
    pending_create p = {0};
    REQUIRE(pthread_create(&p.thread, NULL, create_waiting, &p) == 0);
    /* accepted on the bus means its waiter is registered (before producing) */
    for (int i = 0; i < 600 && sql_count("SELECT count(*) FROM api_commands WHERE state = 'accepted'") <= before; i++)
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    CHECK(allow_connections(false) == 0);
    CHECK(sql_count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND query = 'LISTEN busline_command_outcome'") >= 1);
    bl_test_fs_service_resume(); /* its connection is open already: it applies and announces to nobody of ours */
    for (int i = 0; i < 600 && (long)bl_domain_service_stats_get(bl_test_fs.svc).applied == applied; i++)
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    CHECK_EQ_INT((long)bl_domain_service_stats_get(bl_test_fs.svc).applied, applied + 1);
    CHECK(allow_connections(true) == 0);
    pthread_join(p.thread, NULL);
    CHECK_EQ_INT(p.status, 201);
    CHECK_EQ_STR(bl_test_fs_str(p.r.json, "nom"), "Sans fil");
    bl_test_reply_clear(&p.r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_fs_setup() == 0) {
        BL_RUN(past_the_bound_202_then_the_status_url_shows_the_outcome);
        BL_RUN(an_outcome_missed_while_the_listener_was_down_still_answers);
        BL_RUN(a_refused_report_says_why_on_its_own_url);
    } else {
        bl_test_failures++;
    }
    bl_test_fs_teardown();
    curl_global_cleanup();
    return bl_test_summary();
}
