/* The README's "run the bus" command, non-interactively: `scripts/run
 * --walkthrough` with this build's busline (BUSLINE_BIN: no setup, no
 * build), the test broker, a fresh database, ports of its own and a logs
 * folder of its own. It walks the CLI path, the /v1 path to a signed
 * webhook and the field-service path (/api: a client, a webhook on
 * intervention_created checked by a receiver verifying X-Webhook-Signature,
 * an intervention, its PDF report) and exits 0 only when every step saw what
 * it should; the test also reads the steps' own lines in its output. */
#include "tests/support/pg_test.h"
#include "tests/support/test.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PORTS 10 /* api, registry, two sinks, six metrics */

static char pg_url[512];

/* Whether port can be bound on 127.0.0.1 now (as the roles' servers bind:
 * a connection of an earlier run in TIME_WAIT does not hold it). */
static int port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* The first of PORTS consecutive free ports below the ephemeral range (from
 * a pid-dependent start), or -1. */
static int free_port_block(void)
{
    int base = 12000 + (int)(getpid() % 1000) * PORTS;
    for (int tries = 0; tries < 1000; tries++, base += PORTS) {
        if (base + PORTS > 32000)
            base = 12000;
        int all = 1;
        for (int i = 0; i < PORTS && all; i++)
            all = port_free(base + i);
        if (all)
            return base;
    }
    return -1;
}

static void run_walkthrough_creates_an_intervention_and_sees_its_signed_webhook_and_pdf(void)
{
    const char *src = getenv("BUSLINE_SOURCE_DIR");
    const char *bin = getenv("BUSLINE_BIN");
    REQUIRE(src && bin);
    bl_err err = {0};
    REQUIRE(bl_test_pg_fresh_db(pg_url, sizeof pg_url, &err) == 0);
    int base = free_port_block();
    REQUIRE(base > 0);
    char logs[] = "/tmp/busline-run-XXXXXX";
    REQUIRE(mkdtemp(logs) != NULL);

    /* on the command line, not setenv: bl_test_pg_url() must keep naming
     * the server's default database for the drop at the end */
    char cmd[3000];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && BUSLINE_BIN='%s' BUSLINE_PG_URL='%s' BUSLINE_KAFKA_BROKERS='%s' BUSLINE_RUN_LOGS='%s' "
             "BUSLINE_API_PORT=%d BUSLINE_REGISTRY_PORT=%d BUSLINE_RUN_SINK_PORT=%d BUSLINE_RUN_METRICS_PORT=%d "
             "BUSLINE_LOG_LEVEL=warn scripts/run --walkthrough 2>&1",
             src, bin, pg_url, bl_test_kafka_brokers(), logs, base, base + 1, base + 2, base + 4);
    FILE *p = popen(cmd, "r");
    REQUIRE(p != NULL);
    char line[8192];
    int verified = 0, pdf = 0, client = 0, done = 0;
    while (fgets(line, sizeof line, p)) {
        fputs(line, stderr);
        if (strstr(line, "\"signature\":\"valid, X-Webhook-Signature valid\"") &&
            strstr(line, "intervention_created"))
            verified = 1;
        if (strncmp(line, "PDF: ", 5) == 0 && strstr(line, "first bytes: %PDF-"))
            pdf = 1;
        if (strncmp(line, "the client in it: ", 18) == 0 && strstr(line, "Tilleuls"))
            client = 1;
        if (strstr(line, "== walk-through done"))
            done = 1;
    }
    int status = pclose(p);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(verified);
    CHECK(pdf);
    CHECK(client);
    CHECK(done);

    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf '%s'", logs);
    if (system(rm) != 0)
        fprintf(stderr, "  could not remove %s\n", logs);
}

int main(void)
{
    BL_RUN(run_walkthrough_creates_an_intervention_and_sees_its_signed_webhook_and_pdf);
    if (pg_url[0])
        bl_test_pg_drop_db(pg_url);
    return bl_test_summary();
}
