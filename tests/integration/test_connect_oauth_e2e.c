/* End to end with the real OAuth store: a Google Calendar integration of
 * organization A connected through a local fake of Google's OAuth endpoints
 * (begin + complete, tokens sealed in `integrations`), its mapping rules in
 * settings.rules; `busline connect google_calendar --source db` as a child
 * process reads it from Postgres. Avro event.reminder_due events on a fresh
 * topic then show:
 *   - one event of A -> exactly one Google Calendar event;
 *   - an event of organization B (no integration) never reaches A's;
 *   - a rules change in Postgres is picked up through NOTIFY;
 *   - Google answers 401 once (token revoked at the vendor) -> the connector
 *     refreshes at the OAuth token endpoint and the retry succeeds;
 *   - the refresh refused -> the integration turns `error` with
 *     INVALID_CREDENTIALS, integration.disconnected is in the outbox, that
 *     event and the next one are dead-lettered with INVALID_CREDENTIALS on
 *     their first attempt, and Google is not called again. */
#include "api/auth/orgs.h"
#include "connectors/oauth/oauth.h"
#include "consumers/retry_tier.h"
#include "core/clock.h"
#include "tests/support/avro_event.h"
#include "tests/support/fake_oauth.h"
#include "tests/support/fake_saas.h"
#include "tests/support/outbox_test.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 60000
#define REDIRECT "https://app.example.com/oauth/google"
#define KEYS "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define RULES                                                                                                     \
    "[{\"events\":[\"event.reminder_due\"],\"action\":\"create_event\",\"template\":{\"summary\":\"%s{eventName}\"," \
    "\"start\":\"{data.starts_at}\",\"end\":\"{data.ends_at}\",\"location\":\"{data.location}\"}}]"

static char topic[128], dlq[160], group[128], name[96], log_path[256];
static char org_a[BL_API_ID_MAX], org_b[BL_API_ID_MAX], integration_id[64];
static bl_test_registry reg;
static fake_oauth oauth;
static bl_fake_saas gcal;
static bl_keyring *keyring;
static bl_oauth_store *store;

static long count(const char *sql, const char *param)
{
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(reg.pool, 5000, &err);
    const char *p[] = {param};
    PGresult *r = conn ? bl_pg_exec(conn, sql, param ? 1 : 0, p, &err) : NULL;
    long n = r ? atol(PQgetvalue(r, 0, 0)) : -1;
    if (!r)
        fprintf(stderr, "  sql: %s\n", err.msg);
    PQclear(r);
    bl_pg_pool_release(reg.pool, conn);
    return n;
}

/* Connects organization A's Google Calendar as the API's connect and
 * callback do, with rules whose summary starts with prefix. */
static int connect_google(const char *prefix)
{
    char text[1024];
    snprintf(text, sizeof text, "{\"calendar_id\":\"team@example.com\",\"rules\":" RULES "}", prefix);
    json_t *settings = json_loads(text, 0, NULL);
    bl_oauth_begin_result b;
    bl_err err = {0};
    int rc = settings ? bl_oauth_begin(store, "google_calendar", org_a, REDIRECT, NULL, settings, &b, &err) : -1;
    json_decref(settings);
    const char *ch = rc == 0 ? strstr(b.authorization_url, "code_challenge=") : NULL;
    if (ch)
        snprintf(oauth.challenge, sizeof oauth.challenge, "%.*s", (int)strcspn(ch + 15, "&"), ch + 15);
    if (!ch || bl_oauth_complete(store, "google_calendar", org_a, b.state, "4/good-code", "test", integration_id,
                                 NULL, &err) != 0) {
        fprintf(stderr, "  connect: %s (%s)\n", err.msg, oauth.last_error);
        return -1;
    }
    return 0;
}

static int produce_reminder(const char *org, const char *event_id, const char *session, const char *title)
{
    json_t *env = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:i, s:[]}}", "id",
                            event_id, "type", "event.reminder_due", "time", "2026-11-25T08:00:00.000Z", "source",
                            "attendance", "organization_id", org, "subject", session, "data", "event_id", session,
                            "event_name", title, "starts_at", "2026-12-01T09:00:00.000Z", "ends_at",
                            "2026-12-01T10:30:00.000Z", "location", "Room 4", "remind_before_minutes", 30,
                            "attendees");
    int rc = env ? bl_test_produce_avro_event(reg.base_url, "events.attendance.event", topic,
                                              "busline.events.attendance.EventReminderDue", env)
                 : -1;
    json_decref(env);
    return rc;
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
        const char *bin = getenv("BUSLINE_BIN");
        /* A reload interval far beyond the test: changes arrive by NOTIFY. */
        execl(bin, bin, "connect", "google_calendar", "--source", "db", "--topics", topic, "--vendor-base-url",
              gcal.base_url, "--registry-url", reg.base_url, "--pg-url", reg.pg_url, "--kafka-brokers",
              bl_test_kafka_brokers(), "--group", group, "--name", name, "--handlers", "1", "--metrics-port", port,
              "--session-timeout", "6s", "--reload-interval", "1h", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* How many times the connector loaded its integrations (its log). */
static int loads_logged(void)
{
    FILE *fp = fopen(log_path, "r");
    int n = 0;
    char line[4096];
    while (fp && fgets(line, sizeof line, fp))
        n += strstr(line, "\"msg\":\"connect: integrations loaded\"") != NULL;
    if (fp)
        fclose(fp);
    return n;
}

static int wait_committed(int64_t want)
{
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    while (fixture_committed_total(group, topic, 1) < want && bl_clock_mono_ms() < deadline)
        usleep(100000);
    return fixture_committed_total(group, topic, 1) == want;
}

typedef struct dead_letters {
    int n;
    char error[2][512];
    char attempt[2][16];
} dead_letters;

static void read_dead_letter(const bl_kafka_msg *m, void *user)
{
    dead_letters *d = user;
    const void *v;
    size_t len;
    if (d->n >= 2)
        return;
    if (bl_kafka_msg_header(m, BL_HDR_ERROR, &v, &len) == 0)
        snprintf(d->error[d->n], sizeof d->error[0], "%.*s", (int)len, (const char *)v);
    if (bl_kafka_msg_header(m, BL_HDR_ATTEMPT, &v, &len) == 0)
        snprintf(d->attempt[d->n], sizeof d->attempt[0], "%.*s", (int)len, (const char *)v);
    d->n++;
}

static int gcal_requests(void)
{
    pthread_mutex_lock(&gcal.lock);
    int n = gcal.requests;
    pthread_mutex_unlock(&gcal.lock);
    return n;
}

static const char *gcal_last_summary(char *out, size_t cap)
{
    pthread_mutex_lock(&gcal.lock);
    snprintf(out, cap, "%s", json_string_value(json_object_get(gcal.last_body, "summary")) ?: "");
    pthread_mutex_unlock(&gcal.lock);
    return out;
}

static void google_calendar_through_kafka_with_the_oauth_store(void)
{
    REQUIRE(connect_google("") == 0);
    bl_fake_saas_accept(&gcal, "Bearer ya29.access-1");
    pid_t pid = start_connector();
    REQUIRE(pid > 0);

    /* One reminder of A: one calendar event. */
    REQUIRE(produce_reminder(org_a, "7a1c2a3e-0000-4000-8000-000000000001", "session-1", "Kickoff") == 0);
    CHECK(wait_committed(1));
    CHECK_EQ_INT((int)bl_fake_saas_count(&gcal), 1);
    char summary[256];
    CHECK_EQ_STR(gcal_last_summary(summary, sizeof summary), "Kickoff");

    /* One of B: A's integration never sees it. */
    int before = gcal_requests();
    REQUIRE(produce_reminder(org_b, "7a1c2a3e-0000-4000-8000-000000000002", "session-2", "Other org") == 0);
    CHECK(wait_committed(2));
    CHECK_EQ_INT(gcal_requests(), before);
    CHECK_EQ_INT((int)bl_fake_saas_count(&gcal), 1);

    /* New rules saved in Postgres reach the running connector by NOTIFY. */
    int loads = loads_logged();
    char rules[1024];
    snprintf(rules, sizeof rules, RULES, "v2 ");
    PGconn *conn = bl_pg_pool_acquire(reg.pool, 5000, &(bl_err){0});
    REQUIRE(conn);
    const char *params[] = {integration_id, rules};
    bl_err err = {0};
    CHECK(bl_pg_exec_cmd(conn, "UPDATE integrations SET settings = jsonb_set(settings, '{rules}', $2::jsonb)"
                               " WHERE id::text = $1", 2, params, &err) == 0);
    bl_pg_pool_release(reg.pool, conn);
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    while (loads_logged() <= loads && bl_clock_mono_ms() < deadline)
        usleep(50000);
    CHECK(loads_logged() > loads);

    /* Google revoked the token: 401 once, refresh at the OAuth fake, retry. */
    bl_fake_saas_accept(&gcal, "Bearer ya29.access-2");
    before = gcal_requests();
    REQUIRE(produce_reminder(org_a, "7a1c2a3e-0000-4000-8000-000000000003", "session-3", "Review") == 0);
    CHECK(wait_committed(3));
    CHECK_EQ_INT(oauth.refreshes, 1);
    CHECK_EQ_INT(gcal_requests(), before + 2);
    CHECK_EQ_INT((int)bl_fake_saas_count(&gcal), 2);
    CHECK_EQ_STR(gcal_last_summary(summary, sizeof summary), "v2 Review");

    /* Refused refresh: INVALID_CREDENTIALS, disconnected, dead letters. */
    oauth.refuse_refresh = true;
    bl_fake_saas_accept(&gcal, "Bearer revoked-everywhere");
    REQUIRE(produce_reminder(org_a, "7a1c2a3e-0000-4000-8000-000000000004", "session-4", "Retro") == 0);
    CHECK(wait_committed(4));
    CHECK_EQ_INT(count("SELECT count(*) FROM integrations WHERE id::text = $1 AND status = 'error'"
                       " AND last_error_code = 'INVALID_CREDENTIALS'", integration_id), 1);
    CHECK_EQ_INT(count("SELECT count(*) FROM busline_outbox WHERE event_type = 'integration.disconnected'"
                       " AND aggregate_id = $1", integration_id), 1);
    before = gcal_requests();
    REQUIRE(produce_reminder(org_a, "7a1c2a3e-0000-4000-8000-000000000005", "session-5", "Demo") == 0);
    CHECK(wait_committed(5));
    CHECK_EQ_INT(gcal_requests(), before); /* no token: Google is not called */
    CHECK_EQ_INT((int)bl_fake_saas_count(&gcal), 2);

    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    dead_letters d = {0};
    CHECK_EQ_INT(fixture_read(dlq, 2, 15000, read_dead_letter, &d), 2);
    for (int i = 0; i < d.n; i++) {
        CHECK(strstr(d.error[i], "INVALID_CREDENTIALS") != NULL);
        CHECK_EQ_STR(d.attempt[i], "1");
        if (!strstr(d.error[i], "INVALID_CREDENTIALS"))
            fprintf(stderr, "  dead letter %d: \"%s\"\n", i, d.error[i]);
    }
    CHECK_EQ_STR(gcal.problem, "");
}

static int setup(void)
{
    bl_err err = {0};
    if (bl_test_registry_start(&reg) != 0)
        return -1;
    if (fake_oauth_start(&oauth, "google-client", "google-secret") != 0 ||
        bl_fake_saas_start(&gcal, "google_calendar", "Bearer none") != 0)
        return -1;
    snprintf(oauth.redirect_uri, sizeof oauth.redirect_uri, "%s", REDIRECT);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", fake_oauth_port(&oauth));
    setenv("BUSLINE_ENCRYPTION_KEYS", KEYS, 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_CLIENT_ID", "google-client", 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_CLIENT_SECRET", "google-secret", 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_BASE_URL", base, 1);
    bl_oauth_config oc = {0};
    bl_oauth_config_from_env(&oc);
    PGconn *conn = bl_pg_connect(reg.pg_url, &err);
    int ok = conn && bl_api_org_create(conn, "a", BL_API_PLAN_PRO, org_a, &err) == 0 &&
             bl_api_org_create(conn, "b", BL_API_PLAN_PRO, org_b, &err) == 0;
    if (conn)
        PQfinish(conn);
    if (!ok || !(keyring = bl_keyring_from_env(&err)) || !(store = bl_oauth_store_new(reg.pool, keyring, &oc, &err))) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    bl_test_unique_name(name, sizeof name, "connect-oauth");
    snprintf(topic, sizeof topic, "events.attendance.event-%s", name);
    snprintf(dlq, sizeof dlq, "%s.dlq", name);
    snprintf(group, sizeof group, "busline-%s", name);
    snprintf(log_path, sizeof log_path, "/tmp/%s.log", name);
    const char *topics[] = {topic, dlq};
    return fixture_topics_create(topics, 2, 1);
}

int main(void)
{
    if (setup() == 0) {
        BL_RUN(google_calendar_through_kafka_with_the_oauth_store);
        if (bl_test_current_failed || bl_test_failures) {
            fprintf(stderr, "connector log (%s):\n", log_path);
            char cmd[400];
            snprintf(cmd, sizeof cmd, "tail -n 40 %s >&2", log_path);
            if (system(cmd) != 0)
                fprintf(stderr, "  (no log)\n");
        }
        const char *topics[] = {topic, dlq};
        fixture_topics_delete(topics, 2);
    } else {
        bl_test_failures++;
    }
    unlink(log_path);
    bl_oauth_store_free(store);
    bl_keyring_free(keyring);
    bl_fake_saas_stop(&gcal);
    fake_oauth_stop(&oauth);
    bl_test_registry_stop(&reg);
    return bl_test_summary();
}
