/* End to end: a risk.escalated of severity CRITICAL, produced as a real
 * Avro event (Confluent wire format, schema in the registry) to a fresh
 * events.pmo.risk-like topic, becomes exactly one Jira issue with priority
 * Highest, even though `busline connect jira` is SIGKILLed after Jira
 * created the issue and before the connector could store its key, and
 * then restarted. A second risk that Jira refuses (400) lands on the
 * dead-letter topic with Jira's message. */
#include "consumers/retry_tier.h"
#include "core/clock.h"
#include "core/kafka_admin.h"
#include "core/pg_pool.h"
#include "tests/support/avro_event.h"
#include "tests/support/fake_jira.h"
#include "tests/support/outbox_test.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 60000

static char topic[128], dlq[160], group[128], name[96], config_path[256], log_path[256];
static bl_test_registry reg;

static int produce_event(const char *event_id, const char *risk, const char *title)
{
    json_t *env = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:n, s:s}}", "id", event_id,
        "type", "risk.escalated", "time", "2026-11-25T08:00:00.000Z", "source", "pmo-cockpit", "organization_id",
        "org_1", "subject", risk, "data", "risk_id", risk, "project_id", "p-1", "project_name", "Apollo",
        "title", title, "description", "Main supplier filed for bankruptcy.", "previous_severity",
        "HIGH", "severity", "CRITICAL", "probability", 90, "impact", 95, "mitigation", "reason", "board review");
    int rc = env ? bl_test_produce_avro_event(reg.base_url, "events.pmo.risk", topic,
                                              "busline.events.pmo.RiskEscalated", env)
                 : -1;
    json_decref(env);
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
    /* a port below the ephemeral range, checked free: one picked from the pid
     * collided with an outgoing connection and the child exited */
    char port[16];
    snprintf(port, sizeof port, "%u", bl_outbox_test_free_port());
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

static void read_error(const bl_kafka_msg *m, void *user)
{
    const void *v;
    size_t len;
    if (bl_kafka_msg_header(m, BL_HDR_ERROR, &v, &len) == 0)
        snprintf(user, 512, "%.*s", (int)len, (const char *)v);
}

static void critical_risk_becomes_one_jira_issue_across_a_kill_and_restart(void)
{
    fake_jira *f = fake_jira_start("OPS", "bot@example.com", "tok", NULL);
    REQUIRE(f);
    REQUIRE(write_config(f) == 0);
    fake_jira_hold_creates(f, 1);
    REQUIRE(produce_event("6f1c2a3e-0000-4000-8000-000000000042", "risk-42", "Supplier bankrupt") == 0);

    pid_t pid = start_connector();
    REQUIRE(pid > 0);
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    while (fake_jira_held(f) == 0 && bl_clock_mono_ms() < deadline)
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
    deadline = bl_clock_mono_ms() + WAIT_MS;
    while ((fixture_committed_total(group, topic, 1) < 1 || state_rows("issue/risk-42") < 1) &&
           bl_clock_mono_ms() < deadline)
        usleep(100000);
    CHECK_EQ_INT(fixture_committed_total(group, topic, 1), 1);

    /* One Jira refuses: dead-lettered with Jira's own message. */
    REQUIRE(produce_event("6f1c2a3e-0000-4000-8000-000000000043", "risk-43", "REJECT-ME") == 0);
    deadline = bl_clock_mono_ms() + WAIT_MS;
    while (fixture_committed_total(group, topic, 1) < 2 && bl_clock_mono_ms() < deadline)
        usleep(100000);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char error[512] = "";
    CHECK_EQ_INT(fixture_read(dlq, 1, 15000, read_error, error), 1);
    CHECK(strstr(error, "HTTP 400: customfield_10010: Team is required.") != NULL);
    if (!strstr(error, "Team is required"))
        fprintf(stderr, "  dead letter error: \"%s\"\n", error);

    CHECK_EQ_INT(fixture_committed_total(group, topic, 1), 2);
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
    /* The only request Jira refused is the one meant to be refused. */
    CHECK_EQ_INT(fake_jira_rejected(f), 1);
    CHECK_EQ_STR(fake_jira_last_problem(f), "customfield_10010: Team is required.");
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
