/* The web console end to end: runs tests/console/e2e.mjs (playwright-core
 * driving Debian's headless Chromium) against the bus of this build on a
 * fresh migrated database and topics of its own (registry, api, pmo, relay,
 * webhooks fanout and deliver, as processes), so ctest covers the browser
 * test in both the normal and the sanitizer build. Screenshots land in
 * <build>/console-screenshots/. Fails with a message saying what to install
 * when Chromium, node or the test's node_modules are missing. */
#include "core/kafka_admin.h"
#include "core/migrations.h"
#include "core/pg_pool.h"
#include "tests/support/pg_test.h"
#include "tests/support/test.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHROMIUM "/usr/bin/chromium"

static char pg_url[512];
static char connector[64];   /* also the topics' prefix, without its dot */
static char topics[10][160]; /* what the bus of the test uses */
static int have_topics;

/* Names and creates the test's topics: commands, events, deliveries, one
 * retry tier and the dead letters. Returns 0, or -1 after printing why. */
static int topics_create(void)
{
    bl_test_unique_name(connector, sizeof connector, "console");
    /* the webhook domain's topics too: the API's endpoint changes publish there */
    static const char *const suffixes[] = {"commands.pmo", "commands.pmo.dlq", "events.pmo.project",
                                           "events.pmo.risk", "deliveries", "retry.1s", "dlq",
                                           "events.webhook.webhook", "events.webhook.endpoint",
                                           "events.webhook.message"};
    bl_kafka_topic_spec specs[10];
    const char *names[10];
    for (int i = 0; i < 10; i++) {
        snprintf(topics[i], sizeof topics[i], "%s.%s", connector, suffixes[i]);
        specs[i] = (bl_kafka_topic_spec){.name = topics[i], .partitions = 1, .replication_factor = -1};
        names[i] = topics[i];
    }
    bl_err err = {0};
    bl_kafka_admin *a = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    int rc = a && bl_kafka_admin_create_topics(a, specs, 10, 15000, &err) == 0 &&
                     bl_kafka_admin_wait_visible(a, names, 10, 15000, &err) == 0
                 ? 0
                 : -1;
    have_topics = a != NULL;
    bl_kafka_admin_free(a);
    if (rc != 0)
        fprintf(stderr, "  topics: %s\n", err.msg);
    return rc;
}

static void topics_delete(void)
{
    const char *names[10];
    for (int i = 0; i < 10; i++)
        names[i] = topics[i];
    bl_err err = {0};
    bl_kafka_admin *a = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    if (!a || bl_kafka_admin_delete_topics(a, names, 10, 15000, &err) != 0)
        fprintf(stderr, "  topics not deleted: %s\n", err.msg);
    bl_kafka_admin_free(a);
}

/* Whether the tools the browser test needs are here; says what is missing. */
static int tools_present(const char *src)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/console/node_modules/playwright-core/package.json", src);
    if (access(CHROMIUM, X_OK) != 0) {
        fprintf(stderr, "console e2e: %s is missing: install Debian's chromium package "
                        "(apt-get install chromium; scripts/setup does it)\n", CHROMIUM);
        return 0;
    }
    if (system("node --version > /dev/null 2>&1") != 0) {
        fprintf(stderr, "console e2e: node is missing: install nodejs (scripts/setup does it)\n");
        return 0;
    }
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "console e2e: playwright-core is not installed: run `npm ci` in "
                        "tests/console (scripts/setup does it)\n");
        return 0;
    }
    return 1;
}

static void console_pages_work_end_to_end_in_chromium(void)
{
    const char *src = getenv("BUSLINE_SOURCE_DIR");
    const char *bin = getenv("BUSLINE_BIN");
    REQUIRE(src && bin);
    REQUIRE(tools_present(src));

    bl_err err = {0};
    REQUIRE(bl_test_pg_fresh_db(pg_url, sizeof pg_url, &err) == 0);
    PGconn *conn = bl_pg_connect(pg_url, &err);
    int applied = conn ? bl_migrations_apply(conn, BUSLINE_SOURCE_DIR "/migrations", &err) : -1;
    PQfinish(conn);
    if (applied < 0)
        fprintf(stderr, "  migrations: %s\n", err.msg);
    REQUIRE(applied >= 0);
    REQUIRE(topics_create() == 0);

    char cwd[512], shots[600];
    REQUIRE(getcwd(cwd, sizeof cwd) != NULL);
    snprintf(shots, sizeof shots, "%s/console-screenshots", cwd);
    /* on the command line, not setenv: bl_test_pg_url() must keep naming
     * the server's default database for the drop at the end */
    char cmd[2400];
    snprintf(cmd, sizeof cmd,
             "cd '%s/tests/console' && BUSLINE_PG_URL='%s' CONSOLE_SHOTS='%s' BUSLINE_KAFKA_BROKERS='%s' "
             "CONSOLE_BUS='%s' node e2e.mjs 2>&1",
             src, pg_url, shots, bl_test_kafka_brokers(), connector);
    FILE *p = popen(cmd, "r");
    REQUIRE(p != NULL);
    char line[2048];
    int passed_line = 0;
    while (fgets(line, sizeof line, p)) {
        fputs(line, stderr);
        if (strstr(line, "console e2e: ") && strstr(line, "checks passed"))
            passed_line = 1;
    }
    int status = pclose(p);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(passed_line);
}

int main(void)
{
    BL_RUN(console_pages_work_end_to_end_in_chromium);
    if (have_topics)
        topics_delete();
    if (pg_url[0])
        bl_test_pg_drop_db(pg_url);
    return bl_test_summary();
}
