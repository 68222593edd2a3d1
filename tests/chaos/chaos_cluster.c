#include "chaos_cluster.h"

#include "core/clock.h"
#include "tests/support/api_fixture.h"
#include "tests/support/outbox_test.h"
#include "tests/support/webhook_test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const role_names[CHAOS_ROLE_COUNT] = {"registry", "pmo", "relay", "api", "webhooks fanout",
                                                         "webhooks deliver"};

const char *chaos_role_name(chaos_role_kind k)
{
    return k < CHAOS_ROLE_COUNT ? role_names[k] : "?";
}

/* Runs a command line of the project's scripts with the cluster's state
 * folder and ports. Returns its exit status. */
static int script(const chaos_cluster *c, const char *cmd, char *out, size_t len)
{
    char line[2048];
    /* without the shared cluster's addresses, which the scripts would take
     * for an external cluster to use instead of starting their own */
    snprintf(line, sizeof line,
             "cd '%s' && env -u BUSLINE_KAFKA_BROKERS -u BUSLINE_PG_URL BUSLINE_STATE_DIR='%s' BUSLINE_KAFKA_PORT=%u"
             " BUSLINE_PG_PORT=%u %s",
             c->source_dir, c->state_dir, c->kafka_port, c->pg_port, cmd);
    if (!out)
        return system(line);
    FILE *p = popen(line, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    out[strcspn(out, "\n")] = '\0';
    return pclose(p);
}

int chaos_busline_output(const char *const *args, char *out, size_t len)
{
    char line[2048];
    int at = snprintf(line, sizeof line, "'%s'", getenv("BUSLINE_BIN"));
    for (size_t i = 0; args[i] && at < (int)sizeof line; i++)
        at += snprintf(line + at, sizeof line - (size_t)at, " '%s'", args[i]);
    FILE *p = popen(line, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    return pclose(p);
}

static int busline_run(const char *const *args)
{
    char out[4096];
    int rc = chaos_busline_output(args, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "  chaos: busline %s %s failed (%d): %s\n", args[0], args[1] ? args[1] : "", rc, out);
    return rc == 0 ? 0 : -1;
}

static int start_kafka(chaos_cluster *c)
{
    if (script(c, "scripts/kafka start >/dev/null 2>&1", NULL, 0) != 0) {
        fprintf(stderr, "  chaos: the broker did not start (see %s/kafka/broker.log)\n", c->state_dir);
        return -1;
    }
    c->kafka_up = 1;
    return 0;
}

static int start_postgres(chaos_cluster *c)
{
    if (script(c, "scripts/postgres start 2>/dev/null", c->pg_url, sizeof c->pg_url) != 0 || !*c->pg_url) {
        fprintf(stderr, "  chaos: PostgreSQL did not start (see %s/postgres/server.log)\n", c->state_dir);
        return -1;
    }
    c->pg_up = 1;
    return 0;
}

int chaos_cluster_start(chaos_cluster *c)
{
    const char *src = getenv("BUSLINE_SOURCE_DIR");
    snprintf(c->source_dir, sizeof c->source_dir, "%s", src ? src : BUSLINE_SOURCE_DIR);
    snprintf(c->state_dir, sizeof c->state_dir, "/tmp/busline-chaos-%d", (int)getpid());
    char jars[768], link[512];
    snprintf(jars, sizeof jars, "%s/.local/kafka/jars", c->source_dir);
    snprintf(link, sizeof link, "%s/kafka", c->state_dir);
    if (mkdir(c->state_dir, 0755) != 0 || mkdir(link, 0755) != 0) {
        perror("  chaos: state folder");
        return -1;
    }
    snprintf(link, sizeof link, "%s/kafka/jars", c->state_dir);
    /* the broker's jars as scripts/kafka fetched them for the checkout */
    if (symlink(jars, link) != 0) {
        perror("  chaos: broker jars");
        return -1;
    }
    c->kafka_port = bl_outbox_test_free_port();
    c->pg_port = bl_outbox_test_free_port();
    while (c->pg_port == c->kafka_port || c->pg_port == c->kafka_port + 1)
        c->pg_port = bl_outbox_test_free_port();
    if (start_postgres(c) != 0 || start_kafka(c) != 0)
        return -1;
    snprintf(c->brokers, sizeof c->brokers, "127.0.0.1:%u", c->kafka_port);
    unsigned short used[2 + CHAOS_ROLE_COUNT + 2] = {c->kafka_port, c->pg_port};
    size_t n_used = 2;
    unsigned short *want[] = {&c->registry_port, &c->api_port};
    for (size_t i = 0; i < 2 + CHAOS_ROLE_COUNT; i++) {
        unsigned short p;
        int clash;
        do {
            p = bl_outbox_test_free_port();
            clash = 0;
            for (size_t j = 0; j < n_used; j++)
                clash |= p == used[j] || p == used[j] + 1 || p + 1 == used[j];
        } while (clash);
        used[n_used++] = p;
        if (i < 2)
            *want[i] = p;
        else
            c->metrics_port[i - 2] = p;
    }
    snprintf(c->registry_url, sizeof c->registry_url, "http://127.0.0.1:%u", c->registry_port);
    setenv("BUSLINE_PG_URL", c->pg_url, 1);
    setenv("BUSLINE_KAFKA_BROKERS", c->brokers, 1);
    setenv("BUSLINE_REGISTRY_URL", c->registry_url, 1);
    setenv("BUSLINE_ENCRYPTION_KEYS", BL_WEBHOOK_TEST_KEYS, 1);
    setenv("BUSLINE_JWT_SECRET", "chaos-jwt-secret-of-at-least-thirty-two-bytes", 1);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    setenv("BUSLINE_WEBHOOK_RETRY_TIERS", "1s,5s", 1);
    setenv("BUSLINE_LOG_LEVEL", "warn", 1);
    const char *migrate[] = {"migrate", NULL}, *topics[] = {"topics", "ensure", NULL};
    return busline_run(migrate) == 0 && busline_run(topics) == 0 ? 0 : -1;
}

/* Waits until 127.0.0.1:port answers GET /healthz with 200. */
static int wait_healthy(unsigned short port, int timeout_s)
{
    for (int64_t until = bl_clock_mono_ms() + timeout_s * 1000; bl_clock_mono_ms() < until;) {
        bl_test_reply r;
        long status = bl_test_http_call(port, "GET", "/healthz", NULL, NULL, NULL, &r);
        bl_test_reply_clear(&r);
        if (status == 200)
            return 0;
        usleep(100 * 1000);
    }
    return -1;
}

int chaos_role_start(chaos_cluster *c, chaos_role_kind k)
{
    char metrics[16], port[16], log[320];
    snprintf(metrics, sizeof metrics, "%u", c->metrics_port[k]);
    snprintf(log, sizeof log, "%s/%s.log", c->state_dir, k == CHAOS_FANOUT ? "fanout" : k == CHAOS_DELIVER ? "deliver" : role_names[k]);
    const char *args[8] = {0};
    size_t n = 0;
    if (k == CHAOS_FANOUT || k == CHAOS_DELIVER) {
        args[n++] = "webhooks";
        args[n++] = k == CHAOS_FANOUT ? "fanout" : "deliver";
    } else {
        args[n++] = role_names[k];
    }
    if (k == CHAOS_REGISTRY || k == CHAOS_API) {
        snprintf(port, sizeof port, "%u", k == CHAOS_API ? c->api_port : c->registry_port);
        args[n++] = "--port";
        args[n++] = port;
    }
    args[n++] = "--metrics-port";
    args[n++] = metrics;
    /* the registry and the API serve /healthz on their own ports */
    unsigned short serving = k == CHAOS_REGISTRY ? c->registry_port : k == CHAOS_API ? c->api_port : c->metrics_port[k];
    if ((c->pid[k] = bl_test_spawn_busline(args, log)) <= 0 || wait_healthy(serving, 60) != 0) {
        fprintf(stderr, "  chaos: %s did not come up (see %s)\n", role_names[k], log);
        return -1;
    }
    if (k == CHAOS_REGISTRY) {
        const char *reg[] = {"schemas", "register", NULL};
        return busline_run(reg);
    }
    return 0;
}

int chaos_role_kill_restart(chaos_cluster *c, chaos_role_kind k)
{
    if (c->pid[k] > 0)
        bl_outbox_test_reap(c->pid[k], SIGKILL, NULL);
    c->pid[k] = -1;
    c->kills[k]++;
    return chaos_role_start(c, k);
}

int chaos_restart_kafka(chaos_cluster *c)
{
    script(c, "scripts/kafka stop >/dev/null 2>&1", NULL, 0);
    c->kafka_up = 0;
    return start_kafka(c);
}

int chaos_restart_postgres(chaos_cluster *c)
{
    script(c, "scripts/postgres stop >/dev/null 2>&1", NULL, 0);
    c->pg_up = 0;
    char url[sizeof c->pg_url];
    snprintf(url, sizeof url, "%s", c->pg_url);
    int rc = start_postgres(c);
    if (rc == 0 && strcmp(url, c->pg_url) != 0)
        fprintf(stderr, "  chaos: PostgreSQL came back at another URL: %s\n", c->pg_url);
    return rc;
}

void chaos_cluster_stop(chaos_cluster *c)
{
    for (int k = CHAOS_ROLE_COUNT - 1; k >= 0; k--)
        if (c->pid[k] > 0) {
            bl_outbox_test_reap(c->pid[k], SIGTERM, NULL);
            c->pid[k] = -1;
        }
    if (c->kafka_up)
        script(c, "scripts/kafka stop >/dev/null 2>&1", NULL, 0);
    if (c->pg_up)
        script(c, "scripts/postgres stop >/dev/null 2>&1", NULL, 0);
    c->kafka_up = c->pg_up = 0;
    if (*c->state_dir && !getenv("BUSLINE_CHAOS_KEEP")) {
        char rm[512];
        snprintf(rm, sizeof rm, "rm -rf '%s'", c->state_dir);
        if (system(rm) != 0)
            fprintf(stderr, "  chaos: could not remove %s\n", c->state_dir);
    }
}
