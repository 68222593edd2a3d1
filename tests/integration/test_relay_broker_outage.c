/* The relay outlives a Kafka outage: a private broker (never the shared one
 * on 9092) is stopped for 30 s while events keep being appended, then started
 * again; the same relay process catches up and every event is published
 * exactly once, in order per aggregate. Takes about a minute; skipped when
 * BUSLINE_SKIP_BROKER_OUTAGE is set. */
#include "core/pg_pool.h"
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define OUTAGE_S 30
#define PER_SECOND 100
#define BEFORE 2000
#define AFTER 1000
#define N_AGGREGATES 50
#define WAIT_S 180

typedef struct private_broker {
    char state_dir[64];
    unsigned short port;
    char brokers[32];
} private_broker;

/* Runs scripts/kafka <verb> for the private broker. Returns its exit code. */
static int broker_script(const private_broker *b, const char *verb)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "BUSLINE_STATE_DIR='%s' BUSLINE_KAFKA_PORT=%u BUSLINE_KAFKA_BROKERS='%s' "
             "'%s/scripts/kafka' %s",
             b->state_dir, b->port, b->brokers, BUSLINE_SOURCE_DIR, verb);
    fflush(stderr);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Reuses the broker jars the shared broker was started from, when complete,
 * instead of resolving them again into the private state folder. */
static void link_jars(const private_broker *b)
{
    char target[512], complete[sizeof target + 16], link[128];
    snprintf(target, sizeof target, "%s/.local/kafka/jars", BUSLINE_SOURCE_DIR);
    snprintf(complete, sizeof complete, "%s/.complete", target);
    snprintf(link, sizeof link, "%s/kafka", b->state_dir);
    if (access(complete, F_OK) != 0 || mkdir(link, 0755) != 0)
        return;
    snprintf(link, sizeof link, "%s/kafka/jars", b->state_dir);
    if (symlink(target, link) != 0)
        fprintf(stderr, "  symlink %s: jars are resolved again\n", link);
}

static int broker_start(private_broker *b)
{
    snprintf(b->state_dir, sizeof b->state_dir, "/tmp/bl_outage_XXXXXX");
    if (!mkdtemp(b->state_dir))
        return -1;
    link_jars(b);
    /* The controller listens on port + 1. Both are below the ephemeral
     * range, so no client connection made during the outage (the relay's
     * reconnects, other tests) takes one of them before the restart. */
    b->port = bl_outbox_test_free_port();
    snprintf(b->brokers, sizeof b->brokers, "127.0.0.1:%u", b->port);
    return b->port ? broker_script(b, "start") : -1;
}

static void broker_remove(private_broker *b)
{
    broker_script(b, "stop");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", b->state_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "  could not remove %s\n", b->state_dir);
}

static void relay_catches_up_after_broker_outage_without_restart(void)
{
    private_broker broker = {0};
    if (broker_start(&broker) != 0) {
        CHECK(!"private broker started");
        broker_remove(&broker);
        return;
    }
    bl_outbox_fixture f;
    if (bl_outbox_fixture_open(&f, broker.brokers, 2) != 0) {
        CHECK(!"fixture opened");
        bl_outbox_fixture_close(&f);
        broker_remove(&broker);
        return;
    }
    unsigned short metrics_port = bl_outbox_test_free_port();
    char port[8];
    snprintf(port, sizeof port, "%u", metrics_port);
    /* The delivery timeout outlasts the outage: librdkafka keeps retrying
     * the batch in flight, and its idempotence drops the retries' copies. */
    const char *const args[] = {"--retention", "1h", "--poll-interval", "200ms", "--delivery-timeout", "120s",
                                "--metrics-port", port, NULL};
    pid_t relay = bl_outbox_test_spawn_relay(f.pg_url, f.brokers, args, NULL);
    CHECK(bl_outbox_test_wait_serving(metrics_port, 60) == 0);

    long total = 0;
    CHECK(bl_outbox_test_append_range(&f, total, BEFORE, N_AGGREGATES, 100) == 0);
    total += BEFORE;
    CHECK(bl_outbox_test_wait_all_sent(f.conn, total, WAIT_S) == 0);

    CHECK_EQ_INT(broker_script(&broker, "stop"), 0);
    for (int s = 0; s < OUTAGE_S; s++) {
        CHECK(bl_outbox_test_append_range(&f, total, PER_SECOND, N_AGGREGATES, 100) == 0);
        total += PER_SECOND;
        sleep(1);
    }
    /* The backlog grew and is reported while the broker is away. */
    CHECK(bl_outbox_test_metric(metrics_port, "busline_relay_backlog_events") > 0);
    CHECK(bl_outbox_test_count(f.conn, "SELECT count(*) FROM busline_outbox WHERE sent_at IS NULL") > 0);
    CHECK_EQ_INT(broker_script(&broker, "start"), 0);
    CHECK(bl_outbox_test_append_range(&f, total, AFTER, N_AGGREGATES, 100) == 0);
    total += AFTER;

    CHECK(bl_outbox_test_wait_all_sent(f.conn, total, WAIT_S) == 0);
    CHECK_EQ_INT(waitpid(relay, NULL, WNOHANG), 0); /* the same process throughout */
    CHECK_EQ_INT(bl_outbox_test_reap(relay, SIGTERM, NULL), 0);

    bl_outbox_readback rb;
    CHECK(bl_outbox_test_read_back(&f, &rb) == 0);
    bl_outbox_readback_print("after outage", &rb);
    CHECK(bl_outbox_readback_exact(&rb, total));
    bl_outbox_fixture_close(&f);
    broker_remove(&broker);
}

int main(void)
{
    if (getenv("BUSLINE_SKIP_BROKER_OUTAGE")) {
        fprintf(stderr, "skipped: BUSLINE_SKIP_BROKER_OUTAGE is set\n");
        return 0;
    }
    BL_RUN(relay_catches_up_after_broker_outage_without_restart);
    return bl_test_summary();
}
