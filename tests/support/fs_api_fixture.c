/* The field-service surface tests' fixture (fs_api_fixture.h). */
#include "tests/support/fs_api_fixture.h"

#include "core/kafka_admin.h"
#include "producers/fieldservice/domain.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

bl_test_fs_fixture bl_test_fs;

/* ---- the domain service on a thread ---- */

static void *step_service(void *arg)
{
    (void)arg;
    while (atomic_load(&bl_test_fs.service_running)) {
        bl_err err = {0};
        if (bl_domain_service_step(bl_test_fs.svc, 100, &err) < 0)
            fprintf(stderr, "  service: %s\n", err.msg);
    }
    return NULL;
}

void bl_test_fs_service_resume(void)
{
    atomic_store(&bl_test_fs.service_running, 1);
    REQUIRE(pthread_create(&bl_test_fs.service_thread, NULL, step_service, NULL) == 0);
}

void bl_test_fs_service_pause(void)
{
    atomic_store(&bl_test_fs.service_running, 0);
    pthread_join(bl_test_fs.service_thread, NULL);
}

static bl_api_server *server_waiting(int wait_ms)
{
    bl_err err = {0};
    bl_api_config cfg = {.jwt_secret = BL_TEST_API_JWT_SECRET, .kafka_brokers = bl_test_kafka_brokers(),
                         .registry_url = bl_test_fs.api.registry.base_url, .topic_prefix = bl_test_fs.api.prefix,
                         .command_wait_ms = wait_ms};
    bl_api_server *s = bl_api_server_new(&cfg, bl_test_fs.api.pool, &err);
    if (!s || bl_api_server_start(s, &err) != 0) {
        fprintf(stderr, "  server: %s\n", err.msg);
        bl_api_server_free(s);
        return NULL;
    }
    return s;
}

int bl_test_fs_setup(void)
{
    bl_err err = {0};
    if (bl_test_api_start(&bl_test_fs.api, 1) != 0)
        return -1;
    snprintf(bl_test_fs.dlq_topic, sizeof bl_test_fs.dlq_topic, "%s.dlq", bl_test_fs.api.topics[1]);
    bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    bl_kafka_topic_spec spec = {.name = bl_test_fs.dlq_topic, .partitions = 1, .replication_factor = -1};
    const char *names[] = {bl_test_fs.dlq_topic};
    int rc = admin && bl_kafka_admin_create_topics(admin, &spec, 1, 30000, &err) == 0 &&
                     bl_kafka_admin_wait_visible(admin, names, 1, 30000, &err) == 0
                 ? 0
                 : -1;
    bl_kafka_admin_free(admin);
    char group[96];
    bl_test_unique_name(group, sizeof group, "fs-api");
    bl_domain_service_opts o = {.rules = &bl_fieldservice_rules, .brokers = bl_test_kafka_brokers(),
                                .pg_url = bl_test_fs.api.registry.pg_url, .group_id = group,
                                .commands_topic = bl_test_fs.api.topics[1], .dlq_topic = bl_test_fs.dlq_topic,
                                .events_topic_prefix = bl_test_fs.api.prefix, .registry_url = bl_test_fs.api.registry.base_url};
    if (rc != 0 || !(bl_test_fs.svc = bl_domain_service_new(&o, &err))) {
        fprintf(stderr, "  setup: %s\n", err.msg);
        return -1;
    }
    if (!(bl_test_fs.patient = server_waiting(PATIENT_WAIT_MS)) ||
        !(bl_test_fs.hasty = server_waiting(HASTY_WAIT_MS)))
        return -1;
    bl_test_fs_service_resume();
    for (int i = 0; i < 600 && bl_domain_service_assigned(bl_test_fs.svc) == 0; i++)
        nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
    if (bl_domain_service_assigned(bl_test_fs.svc) == 0) {
        fprintf(stderr, "  setup: the service got no partition\n");
        return -1;
    }
    return 0;
}

void bl_test_fs_teardown(void)
{
    if (atomic_load(&bl_test_fs.service_running))
        bl_test_fs_service_pause();
    bl_api_server_free(bl_test_fs.patient);
    bl_api_server_free(bl_test_fs.hasty);
    bl_domain_service_free(bl_test_fs.svc);
    bl_err err = {0};
    bl_kafka_admin *admin = bl_test_fs.dlq_topic[0] ? bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err) : NULL;
    const char *names[] = {bl_test_fs.dlq_topic};
    if (admin)
        bl_kafka_admin_delete_topics(admin, names, 1, 30000, &err);
    bl_kafka_admin_free(admin);
    bl_test_api_stop(&bl_test_fs.api);
}

/* ---- calls ---- */

long bl_test_fs_call(bl_api_server *s, const char *method, const char *path, const char *body, bl_test_reply *r)
{
    const char *token = strcmp(method, "DELETE") == 0 ? bl_test_fs.api.admin_token : bl_test_fs.api.write_token;
    return bl_test_http_call(bl_api_server_port(s), method, path, token, NULL, body, r);
}

const char *bl_test_fs_str(const json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));
    return v ? v : "";
}

void bl_test_fs_check_error(const bl_test_reply *r, long status, const char *code)
{
    CHECK_EQ_INT(r->status, status);
    CHECK_EQ_STR(bl_test_fs_str(r->json, "error_code"), code);
    CHECK(json_is_string(json_object_get(r->json, "detail")) && bl_test_fs_str(r->json, "detail")[0]);
    CHECK(json_is_object(json_object_get(r->json, "field_errors")));
    CHECK_EQ_STR(bl_test_fs_str(r->json, "request_id"), r->request_id);
}

void bl_test_fs_make_client(const char *nom, const char *statut, const char *adresse, char id[64])
{
    char body[512];
    snprintf(body, sizeof body, "{\"nom\":\"%s\",\"adresse\":\"%s\",\"statut\":\"%s\"}", nom, adresse, statut);
    bl_test_reply r;
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "POST", "/api/clients/", body, &r) == 201);
    snprintf(id, 64, "%s", bl_test_fs_str(r.json, "id"));
    bl_test_reply_clear(&r);
}

void bl_test_fs_make_intervention(const char *client, const char *date, const char *type, char id[64])
{
    char body[512], path[] = "/api/interventions/";
    snprintf(body, sizeof body,
             "{\"client_id\":\"%s\",\"date_intervention\":\"%s\",\"type_intervention\":\"%s\"}", client,
             date, type);
    bl_test_reply r;
    REQUIRE(bl_test_fs_call(bl_test_fs.patient, "POST", path, body, &r) == 201);
    snprintf(id, 64, "%s", bl_test_fs_str(r.json, "id"));
    bl_test_reply_clear(&r);
}

