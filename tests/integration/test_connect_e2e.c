/* End to end: a risk.escalated of severity CRITICAL, produced as a real
 * Avro event (Confluent wire format, schema in the registry) to a fresh
 * events.pmo.risk-like topic, becomes exactly one Jira issue with priority
 * Highest, even though `busline connect jira` is SIGKILLed after Jira
 * created the issue and before the connector could store its key, and
 * then restarted. */
#include "core/kafka_admin.h"
#include "core/kafka_producer.h"
#include "core/pg_pool.h"
#include "schemas/catalog.h"
#include "schemas/codec.h"
#include "schemas/registry_client.h"
#include "tests/support/fake_jira.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 60000

static char topic[128], dlq[160], group[128], name[96], config_path[256], log_path[256];
static bl_test_registry reg;

/* Registers the catalog's events.pmo.risk schema for topic and encodes one
 * risk.escalated envelope. Returns a malloc'd message or NULL. */
static uint8_t *encode_event(const char *event_id, size_t *len)
{
    bl_err err = {0};
    uint8_t *out = NULL;
    bl_catalog *cat = bl_catalog_load(bl_catalog_default_dir(), &err);
    const bl_catalog_topic *t = cat ? bl_catalog_topic_find(cat, "events.pmo.risk", &err) : NULL;
    bl_registry_client *client = bl_registry_client_new(reg.base_url, 0, &err);
    char subject[200];
    snprintf(subject, sizeof subject, "%s-value", topic);
    int id = 0;
    bl_avro_schema *schema = NULL;
    avro_value_t value;
    int have_value = 0;
    if (!t || !client || bl_registry_client_register(client, subject, t->schema_json, &id, &err) != 0 ||
        !(schema = bl_avro_schema_parse(t->schema_json, strlen(t->schema_json), &err)) ||
        bl_avro_value_new(schema, &value, &err) != 0)
        goto done;
    have_value = 1;
    json_t *env = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:n, s:s}}", "id", event_id,
        "type", "risk.escalated", "time", "2026-11-25T08:00:00.000Z", "source", "pmo-cockpit", "organization_id",
        "org_1", "subject", "risk-42", "data", "risk_id", "risk-42", "project_id", "p-1", "project_name", "Apollo",
        "title", "Supplier bankrupt", "description", "Main supplier filed for bankruptcy.", "previous_severity",
        "HIGH", "severity", "CRITICAL", "probability", 90, "impact", 95, "mitigation", "reason", "board review");
    bl_avro_json_opts opts = {.mode = BL_AVRO_JSON_PLAIN, .union_hint = "busline.events.pmo.RiskEscalated"};
    int rc = bl_avro_from_json(schema, env, &opts, &value, &err);
    json_decref(env);
    if (rc != 0 || bl_codec_encode(id, &value, &out, len, &err) != 0)
        out = NULL;
done:
    if (!out)
        fprintf(stderr, "  encode: %s\n", err.msg);
    if (have_value)
        avro_value_decref(&value);
    bl_avro_schema_free(schema);
    bl_registry_client_free(client);
    bl_catalog_free(cat);
    return out;
}

static int produce_event(void)
{
    size_t len = 0;
    uint8_t *msg = encode_event("6f1c2a3e-0000-4000-8000-000000000042", &len);
    if (!msg)
        return -1;
    bl_err err = {0};
    bl_kafka_producer *p = bl_kafka_producer_new(bl_test_kafka_brokers(), NULL, NULL, NULL, &err);
    bl_kafka_header h[] = {
        {"ce_id", "6f1c2a3e-0000-4000-8000-000000000042", 36},
        {"ce_type", "risk.escalated", 14},
        {"ce_source", "pmo-cockpit", 11},
        {"content-type", "application/avro", 16},
    };
    int rc = p ? bl_kafka_producer_send_sync(p, topic, "risk-42", 7, msg, len, h, 4, 10000, NULL, NULL, &err) : -1;
    if (rc != 0)
        fprintf(stderr, "  produce: %s\n", err.msg);
    bl_kafka_producer_free(p, 1000);
    free(msg);
    return rc;
}

static int write_config(const fake_jira *f)
{
    FILE *fp = fopen(config_path, "w");
    if (!fp)
        return -1;
    fprintf(fp,
            "{\"topics\":[\"%s\"],\"integrations\":[{\"id\":\"jira-ops\",\"organization_id\":\"org_1\","
            "\"settings\":{\"base_url\":\"%s\",\"project_key\":\"OPS\",\"issue_type\":\"Bug\"},"
            "\"credentials\":{\"email\":\"bot@example.com\",\"api_token\":\"env:E2E_JIRA_TOKEN\"},"
            "\"rules\":[{\"events\":[\"risk.escalated\"],\"conditions\":[{\"field\":\"data.severity\","
            "\"operator\":\"in\",\"value\":[\"HIGH\",\"CRITICAL\"]}],\"action\":\"create_issue\","
            "\"template\":{\"summary\":\"[{data.project_name}] {data.title}\",\"description\":\"{data.description}"
            "\\n\\nReason: {data.reason}\"}}]}]}\n",
            topic, fake_jira_url(f));
    return fclose(fp);
}

static pid_t start_connector(void)
{
    char port[16];
    snprintf(port, sizeof port, "%d", 20000 + (int)(getpid() % 20000));
    pid_t pid = fork();
    if (pid == 0) {
        FILE *out = freopen(log_path, "a", stdout);
        (void)out;
        setenv("E2E_JIRA_TOKEN", "tok", 1);
        const char *bin = getenv("BUSLINE_BIN");
        execl(bin, bin, "connect", "jira", "--config", config_path, "--registry-url", reg.base_url, "--pg-url",
              reg.pg_url, "--kafka-brokers", bl_test_kafka_brokers(), "--group", group, "--name", name,
              "--handlers", "1", "--metrics-port", port, "--session-timeout", "6s", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static long state_rows(const char *key)
{
    bl_err err = {0};
    PGconn *conn = bl_pg_connect(reg.pg_url, &err);
    const char *params[] = {key};
    PGresult *res = conn ? bl_pg_exec(conn, "SELECT count(*) FROM connector_state WHERE key = $1", 1, params, &err)
                         : NULL;
    long n = res ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    if (conn)
        PQfinish(conn);
    return n;
}

static void critical_risk_becomes_one_jira_issue_across_a_kill_and_restart(void)
{
    fake_jira *f = fake_jira_start("OPS", "bot@example.com", "tok", NULL);
    REQUIRE(f);
    REQUIRE(write_config(f) == 0);
    fake_jira_hold_creates(f, 1);
    REQUIRE(produce_event() == 0);

    pid_t pid = start_connector();
    REQUIRE(pid > 0);
    int64_t deadline = fixture_now_ms() + WAIT_MS;
    while (fake_jira_held(f) == 0 && fixture_now_ms() < deadline)
        usleep(20000);
    CHECK_EQ_INT(fake_jira_held(f), 1);
    CHECK_EQ_INT(fake_jira_issue_count(f), 1);
    /* Killed with the issue created in Jira and its key not yet stored. */
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    CHECK_EQ_INT(state_rows("issue/risk-42"), 0);
    fake_jira_hold_creates(f, 0);
    fake_jira_release(f);

    pid = start_connector();
    REQUIRE(pid > 0);
    deadline = fixture_now_ms() + WAIT_MS;
    while ((fixture_committed_total(group, topic, 1) < 1 || state_rows("issue/risk-42") < 1) &&
           fixture_now_ms() < deadline)
        usleep(100000);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    CHECK_EQ_INT(fixture_committed_total(group, topic, 1), 1);
    CHECK_EQ_INT(state_rows("issue/risk-42"), 1);
    CHECK_EQ_INT(fake_jira_issue_count(f), 1);
    json_t *issue = fake_jira_issue(f, 0);
    REQUIRE(issue);
    json_t *fields = json_object_get(issue, "fields");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(fields, "priority"), "name")), "Highest");
    CHECK_EQ_STR(json_string_value(json_object_get(fields, "summary")), "[Apollo] Supplier bankrupt");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(fields, "issuetype"), "name")), "Bug");
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(fields, "labels"), 0)), "busline-risk-42");
    json_decref(issue);
    CHECK_EQ_INT(fake_jira_rejected(f), 0);
    fake_jira_stop(f);
}

int main(void)
{
    if (bl_test_registry_start(&reg) != 0) {
        bl_test_registry_stop(&reg);
        return 1;
    }
    bl_test_unique_name(name, sizeof name, "connect-e2e");
    snprintf(topic, sizeof topic, "events.pmo.risk-%s", name);
    snprintf(dlq, sizeof dlq, "%s.dlq", name);
    snprintf(group, sizeof group, "busline-%s", name);
    snprintf(config_path, sizeof config_path, "/tmp/%s.json", name);
    snprintf(log_path, sizeof log_path, "/tmp/%s.log", name);
    const char *topics[] = {topic, dlq};
    if (fixture_topics_create(topics, 2, 1) != 0) {
        bl_test_registry_stop(&reg);
        return 1;
    }
    BL_RUN(critical_risk_becomes_one_jira_issue_across_a_kill_and_restart);
    if (bl_test_current_failed || bl_test_failures) {
        fprintf(stderr, "connector log (%s):\n", log_path);
        char cmd[400];
        snprintf(cmd, sizeof cmd, "tail -n 30 %s >&2", log_path);
        if (system(cmd) != 0)
            fprintf(stderr, "  (no log)\n");
    }
    fixture_topics_delete(topics, 2);
    unlink(config_path);
    unlink(log_path);
    bl_test_registry_stop(&reg);
    return bl_test_summary();
}
