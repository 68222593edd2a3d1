/* The field-service service end to end on the real broker, PostgreSQL and
 * an in-process schema registry: client and intervention commands produced to
 * a fresh commands topic and applied by the shared domain loop with
 * bl_fieldservice_rules; rows and outbox events checked, a redelivered
 * command changing nothing, every legal and illegal status move, and soft
 * deletes. Ids are prefixed with the test's organization so rows and events
 * of one test are told apart by aggregate id. */
#include "core/kafka_producer.h"
#include "core/log.h"
#include "producers/domain_service/send.h"
#include "producers/domain_service/service.h"
#include "producers/fieldservice/domain.h"
#include "tests/support/domain_fixture.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bl_test_domain fx;

#define CREATE_CLIENT                                                                        \
    "{\"type\":\"client.create\",\"organization_id\":\"%1$s\",\"data\":{\"client_id\":\"%1$s-C1\"," \
    "\"name\":\"Boulangerie Martin\",\"email\":\"m@example.fr\",\"statut\":\"prospect\","          \
    "\"address\":{\"street\":\"1 rue Haute\",\"postal_code\":\"75001\",\"city\":\"Paris\","        \
    "\"country\":\"FR\"}}}"

#define SITE "\"site_address\":{\"street\":\"2 rue Basse\",\"postal_code\":\"69001\",\"city\":\"Lyon\",\"country\":\"FR\"}"

/* Creates intervention <org>-<suffix> for client <org>-C1. */
static int create_intervention(const char *suffix)
{
    char fmt[1024];
    snprintf(fmt, sizeof fmt,
             "{\"type\":\"intervention.create\",\"organization_id\":\"%%1$s\",\"data\":{"
             "\"intervention_id\":\"%%1$s-%s\",\"client_id\":\"%%1$s-C1\",\"title\":\"Four\","
             "\"scheduled_at\":1767225600000," SITE "}}", suffix);
    return bl_test_domain_send(&fx, fmt, NULL);
}

static int change_status(const char *suffix, const char *status)
{
    char fmt[1024];
    snprintf(fmt, sizeof fmt,
             "{\"type\":\"intervention.change_status\",\"organization_id\":\"%%1$s\",\"data\":{"
             "\"intervention_id\":\"%%1$s-%s\",\"status\":\"%s\",\"note\":\"to %s\"}}", suffix,
             status, status);
    return bl_test_domain_send(&fx, fmt, NULL);
}

/* A column of <org>-<suffix>'s row in table (key column key). */
static void column_of(const char *table, const char *key, const char *suffix, const char *col,
                      char *out, size_t len)
{
    char sql[256], id[128];
    snprintf(sql, sizeof sql, "SELECT coalesce(%s::text, '<null>') FROM %s WHERE %s = $1", col,
             table, key);
    snprintf(id, sizeof id, "%s-%s", fx.org, suffix);
    PGresult *res = bl_test_domain_query(&fx, sql, id);
    snprintf(out, len, "%s", res && PQntuples(res) ? PQgetvalue(res, 0, 0) : "<none>");
    PQclear(res);
}

/* Outbox events of type about aggregate <org>-<suffix>. */
static long events_of(const char *type, const char *suffix)
{
    char id[128], sql[256];
    snprintf(id, sizeof id, "%s-%s", fx.org, suffix);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM busline_outbox WHERE aggregate_id = $1 AND event_type = '%s'", type);
    return bl_test_domain_count(&fx, sql, id);
}

static void clients_and_interventions_become_rows_and_events(void)
{
    bl_test_domain_new_org(&fx);
    char v[256];
    REQUIRE(bl_test_domain_send(&fx, CREATE_CLIENT, NULL) == 0);
    REQUIRE(bl_test_domain_send(&fx, "{\"type\":\"client.update\",\"organization_id\":\"%1$s\",\"data\":{"
                         "\"client_id\":\"%1$s-C1\",\"statut\":\"actif\",\"phone\":\"+33100000000\"}}",
                         NULL) == 0);
    REQUIRE(create_intervention("I1") == 0);
    REQUIRE(bl_test_domain_send(&fx, "{\"type\":\"intervention.update\",\"organization_id\":\"%1$s\",\"data\":{"
                         "\"intervention_id\":\"%1$s-I1\",\"title\":\"Four et pétrin\"}}", NULL) == 0);
    REQUIRE(bl_test_domain_run(&fx, 4) == 0);
    column_of("fieldservice_clients", "client_id", "C1", "statut", v, sizeof v);
    CHECK_EQ_STR(v, "actif");
    column_of("fieldservice_clients", "client_id", "C1", "phone", v, sizeof v);
    CHECK_EQ_STR(v, "+33100000000");
    column_of("fieldservice_clients", "client_id", "C1", "name", v, sizeof v);
    CHECK_EQ_STR(v, "Boulangerie Martin");
    column_of("fieldservice_interventions", "intervention_id", "I1", "status", v, sizeof v);
    CHECK_EQ_STR(v, "SCHEDULED");
    column_of("fieldservice_interventions", "intervention_id", "I1", "title", v, sizeof v);
    CHECK_EQ_STR(v, "Four et pétrin");
    column_of("fieldservice_interventions", "intervention_id", "I1", "city", v, sizeof v);
    CHECK_EQ_STR(v, "Lyon");
    CHECK_EQ_INT(events_of("client.created", "C1"), 1);
    CHECK_EQ_INT(events_of("client.updated", "C1"), 1);
    CHECK_EQ_INT(events_of("intervention.created", "I1"), 1);
    CHECK_EQ_INT(events_of("intervention.updated", "I1"), 1);
    char id[128];
    snprintf(id, sizeof id, "%s-C1", fx.org);
    PGresult *res = bl_test_domain_query(&fx, "SELECT topic, headers->>'ce_subject' FROM busline_outbox"
                          " WHERE aggregate_id = $1 ORDER BY id", id);
    REQUIRE(res && PQntuples(res) == 2);
    char want[160];
    snprintf(want, sizeof want, "%sevents.fieldservice.client", fx.prefix);
    CHECK_EQ_STR(PQgetvalue(res, 0, 0), want);
    CHECK_EQ_STR(PQgetvalue(res, 0, 1), id);
    PQclear(res);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT sum(events) FROM fieldservice_processed_commands"
                          " WHERE organization_id = $1", fx.org), 4);
}

/* Whether the Avro payload of the one outbox event of type about <org>-suffix
 * holds text (Avro strings are stored as their bytes). */
static long event_holds(const char *type, const char *suffix, const char *text)
{
    char id[128], sql[320];
    snprintf(id, sizeof id, "%s-%s", fx.org, suffix);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM busline_outbox WHERE aggregate_id = $1 AND event_type = '%s'"
             " AND position(convert_to('%s', 'UTF8') IN payload) > 0", type, text);
    return bl_test_domain_count(&fx, sql, id);
}

/* intervention.created and intervention.updated carry intervention_type
 * (the field-service webhooks show it as type_intervention). */
static void intervention_events_carry_their_type(void)
{
    bl_test_domain_new_org(&fx);
    REQUIRE(bl_test_domain_send(&fx, CREATE_CLIENT, NULL) == 0);
    REQUIRE(bl_test_domain_send(&fx, "{\"type\":\"intervention.create\",\"organization_id\":\"%1$s\",\"data\":{"
                                "\"intervention_id\":\"%1$s-T1\",\"client_id\":\"%1$s-C1\",\"title\":\"Four\","
                                "\"intervention_type\":\"detection_fuite\"," SITE "}}", NULL) == 0);
    REQUIRE(bl_test_domain_send(&fx, "{\"type\":\"intervention.update\",\"organization_id\":\"%1$s\",\"data\":{"
                                "\"intervention_id\":\"%1$s-T1\",\"intervention_type\":\"inspection_annuelle\"}}",
                                NULL) == 0);
    REQUIRE(bl_test_domain_run(&fx, 3) == 0);
    CHECK_EQ_INT(event_holds("intervention.created", "T1", "detection_fuite"), 1);
    CHECK_EQ_INT(event_holds("intervention.updated", "T1", "inspection_annuelle"), 1);
}

static void command_sent_twice_changes_nothing_the_second_time(void)
{
    bl_test_domain_new_org(&fx);
    char text[1024];
    snprintf(text, sizeof text, CREATE_CLIENT, fx.org);
    json_t *input = json_loads(text, 0, NULL);
    bl_domain_sender sender = {.source = "test", .actor = "tester"};
    bl_domain_prepared cmd;
    bl_err err = {0};
    REQUIRE(input && bl_domain_command_prepare(fx.codec, input, &sender, &cmd, &err) == 0);
    json_decref(input);
    long events_before = bl_test_domain_count(&fx, "SELECT count(*) FROM busline_outbox", NULL);
    bl_domain_service_stats before = bl_domain_service_stats_get(fx.svc);
    CHECK(bl_test_domain_produce(&fx, cmd.subject, cmd.wire.bytes, cmd.wire.len) == 0);
    CHECK(bl_test_domain_produce(&fx, cmd.subject, cmd.wire.bytes, cmd.wire.len) == 0);
    bl_domain_prepared_clear(&cmd);
    REQUIRE(bl_test_domain_run(&fx, 2) == 0);
    bl_domain_service_stats after = bl_domain_service_stats_get(fx.svc);
    CHECK_EQ_INT(after.applied - before.applied, 1);
    CHECK_EQ_INT(after.duplicates - before.duplicates, 1);
    CHECK_EQ_INT(after.dead_letters - before.dead_letters, 0);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM busline_outbox", NULL) - events_before, 1);
    CHECK_EQ_INT(events_of("client.created", "C1"), 1);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM fieldservice_clients WHERE organization_id = $1", fx.org), 1);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM fieldservice_processed_commands"
                          " WHERE organization_id = $1", fx.org), 1);
}

static const char *const statuses[] = {"SCHEDULED", "EN_ROUTE",  "IN_PROGRESS",
                                       "ON_HOLD",   "COMPLETED", "CANCELLED"};
#define NSTATUS 6

/* The legal moves, written out here independently of status_machine.c. */
static int legal(int from, int to)
{
    static const char *const moves[] = {
        "SCHEDULED>EN_ROUTE",   "SCHEDULED>IN_PROGRESS", "SCHEDULED>CANCELLED",
        "EN_ROUTE>IN_PROGRESS", "EN_ROUTE>ON_HOLD",      "EN_ROUTE>CANCELLED",
        "IN_PROGRESS>ON_HOLD",  "IN_PROGRESS>COMPLETED", "IN_PROGRESS>CANCELLED",
        "ON_HOLD>IN_PROGRESS",  "ON_HOLD>CANCELLED",
    };
    char move[64];
    snprintf(move, sizeof move, "%s>%s", statuses[from], statuses[to]);
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
        if (strcmp(moves[i], move) == 0)
            return 1;
    return 0;
}

static void every_status_move_is_applied_or_refused_with_its_reason(void)
{
    bl_test_domain_new_org(&fx);
    REQUIRE(bl_test_domain_send(&fx, CREATE_CLIENT, NULL) == 0);
    char suffix[NSTATUS][NSTATUS][16];
    for (int f = 0; f < NSTATUS; f++)
        for (int t = 0; t < NSTATUS; t++) {
            snprintf(suffix[f][t], sizeof suffix[f][t], "I%d%d", f, t);
            REQUIRE(create_intervention(suffix[f][t]) == 0);
        }
    REQUIRE(bl_test_domain_run(&fx, 1 + NSTATUS * NSTATUS) == 0);
    /* Put each intervention in its starting status behind the service's back. */
    for (int f = 0; f < NSTATUS; f++) {
        char sql[256];
        snprintf(sql, sizeof sql, "UPDATE fieldservice_interventions SET status = '%s'"
                 " WHERE organization_id = $1 AND intervention_id LIKE '%%-I%d_'", statuses[f], f);
        CHECK_EQ_INT(bl_test_domain_count(&fx, sql, fx.org), -1); /* an UPDATE returns no row */
    }
    bl_domain_service_stats before = bl_domain_service_stats_get(fx.svc);
    int legal_count = 0;
    for (int f = 0; f < NSTATUS; f++)
        for (int t = 0; t < NSTATUS; t++) {
            REQUIRE(change_status(suffix[f][t], statuses[t]) == 0);
            legal_count += legal(f, t);
        }
    REQUIRE(bl_test_domain_run(&fx, NSTATUS * NSTATUS) == 0);
    bl_domain_service_stats after = bl_domain_service_stats_get(fx.svc);
    CHECK_EQ_INT(legal_count, 11);
    CHECK_EQ_INT(after.applied - before.applied, legal_count);
    CHECK_EQ_INT(after.dead_letters - before.dead_letters, NSTATUS * NSTATUS - legal_count);
    for (int f = 0; f < NSTATUS; f++)
        for (int t = 0; t < NSTATUS; t++) {
            char v[64], note[64];
            column_of("fieldservice_interventions", "intervention_id", suffix[f][t], "status", v,
                      sizeof v);
            column_of("fieldservice_interventions", "intervention_id", suffix[f][t], "status_note",
                      note, sizeof note);
            int ok = legal(f, t);
            CHECK_EQ_STR(v, statuses[ok ? t : f]);
            CHECK_EQ_INT(events_of("intervention.status_changed", suffix[f][t]), ok);
            if (ok) {
                char want[64];
                snprintf(want, sizeof want, "to %s", statuses[t]);
                CHECK_EQ_STR(note, want);
            } else {
                CHECK_EQ_STR(note, "<null>");
            }
        }
    bl_test_dlq_seen seen[NSTATUS * NSTATUS];
    memset(seen, 0, sizeof seen);
    int refused = NSTATUS * NSTATUS - legal_count;
    REQUIRE(bl_test_domain_read_dlq(&fx, seen, refused) == refused);
    for (int i = 0; i < refused; i++) {
        CHECK_EQ_STR(seen[i].error_class, "conflict");
        CHECK(strstr(seen[i].error, "intervention.change_status") != NULL);
        CHECK(strstr(seen[i].error, fx.org) != NULL);
    }
    /* The reasons name the rule broken. */
    int final_seen = 0, same_seen = 0, skip_seen = 0;
    for (int i = 0; i < refused; i++) {
        final_seen += strstr(seen[i].error, "a final status: it cannot become") != NULL;
        same_seen += strstr(seen[i].error, "intervention is already") != NULL;
        skip_seen += strstr(seen[i].error, "intervention cannot go from SCHEDULED to COMPLETED") != NULL;
    }
    CHECK_EQ_INT(final_seen, 10); /* COMPLETED, CANCELLED to the 5 others each */
    CHECK_EQ_INT(same_seen, 6);   /* each status to itself */
    CHECK_EQ_INT(skip_seen, 1);
}

static void deletes_are_soft_and_deleted_rows_refuse_commands(void)
{
    bl_test_domain_new_org(&fx);
    REQUIRE(bl_test_domain_send(&fx, CREATE_CLIENT, NULL) == 0);
    REQUIRE(create_intervention("I1") == 0);
    REQUIRE(bl_test_domain_send(&fx, "{\"type\":\"intervention.delete\",\"organization_id\":\"%1$s\",\"data\":{"
                         "\"intervention_id\":\"%1$s-I1\",\"reason\":\"doublon\"}}", NULL) == 0);
    REQUIRE(bl_test_domain_send(&fx, "{\"type\":\"client.delete\",\"organization_id\":\"%1$s\",\"data\":{"
                         "\"client_id\":\"%1$s-C1\"}}", NULL) == 0);
    REQUIRE(bl_test_domain_run(&fx, 4) == 0);
    bl_domain_service_stats before = bl_domain_service_stats_get(fx.svc);
    REQUIRE(change_status("I1", "EN_ROUTE") == 0);
    REQUIRE(bl_test_domain_send(&fx, "{\"type\":\"client.update\",\"organization_id\":\"%1$s\",\"data\":{"
                         "\"client_id\":\"%1$s-C1\",\"statut\":\"inactif\"}}", NULL) == 0);
    REQUIRE(create_intervention("I2") == 0);
    REQUIRE(bl_test_domain_run(&fx, 3) == 0);
    bl_domain_service_stats after = bl_domain_service_stats_get(fx.svc);
    CHECK_EQ_INT(after.applied - before.applied, 0);
    CHECK_EQ_INT(after.dead_letters - before.dead_letters, 3);
    char v[64];
    column_of("fieldservice_interventions", "intervention_id", "I1", "deleted_at IS NOT NULL", v,
              sizeof v);
    CHECK_EQ_STR(v, "true");
    column_of("fieldservice_interventions", "intervention_id", "I1", "delete_reason", v, sizeof v);
    CHECK_EQ_STR(v, "doublon");
    column_of("fieldservice_interventions", "intervention_id", "I1", "status", v, sizeof v);
    CHECK_EQ_STR(v, "SCHEDULED");
    column_of("fieldservice_clients", "client_id", "C1", "deleted_at IS NOT NULL", v, sizeof v);
    CHECK_EQ_STR(v, "true");
    column_of("fieldservice_clients", "client_id", "C1", "statut", v, sizeof v);
    CHECK_EQ_STR(v, "prospect");
    column_of("fieldservice_interventions", "intervention_id", "I2", "status", v, sizeof v);
    CHECK_EQ_STR(v, "<none>");
    CHECK_EQ_INT(events_of("intervention.deleted", "I1"), 1);
    CHECK_EQ_INT(events_of("client.deleted", "C1"), 1);
    CHECK_EQ_INT(events_of("intervention.status_changed", "I1"), 0);
    CHECK_EQ_INT(events_of("client.updated", "C1"), 0);
    CHECK_EQ_INT(events_of("intervention.created", "I2"), 0);
}

int main(void)
{
    bl_log_init("test_fieldservice_service", BL_LOG_WARN);
    int rc = 1;
    if (bl_test_domain_start(&fx, "fieldservice", &bl_fieldservice_rules) == 0) {
        BL_RUN(clients_and_interventions_become_rows_and_events);
        BL_RUN(command_sent_twice_changes_nothing_the_second_time);
        BL_RUN(intervention_events_carry_their_type);
        /* First to dead-letter: it reads the DLQ from its start. */
        BL_RUN(every_status_move_is_applied_or_refused_with_its_reason);
        BL_RUN(deletes_are_soft_and_deleted_rows_refuse_commands);
        rc = bl_test_summary();
    }
    bl_test_domain_stop(&fx);
    return rc;
}
