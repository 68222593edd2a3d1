/* The relay outlives a Kafka outage: a private broker (never the shared one
 * on 9092) is stopped for 30 s while events keep being appended, then started
 * again; the same relay process catches up and every event is published
 * exactly once, in order per aggregate. Takes about a minute; skipped when
 * BUSLINE_SKIP_BROKER_OUTAGE is set. */
#include "core/pg_pool.h"
#include "tests/support/outbox_test.h"
#include "tests/support/private_broker.h"
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

static void relay_catches_up_after_broker_outage_without_restart(void)
{
    private_broker broker = {0};
    if (private_broker_start(&broker, 0) != 0) {
        CHECK(!"private broker started");
        private_broker_remove(&broker);
        return;
    }
    bl_outbox_fixture f;
    if (bl_outbox_fixture_open(&f, broker.brokers, 2) != 0) {
        CHECK(!"fixture opened");
        bl_outbox_fixture_close(&f);
        private_broker_remove(&broker);
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

    CHECK_EQ_INT(private_broker_script(&broker, "stop"), 0);
    for (int s = 0; s < OUTAGE_S; s++) {
        CHECK(bl_outbox_test_append_range(&f, total, PER_SECOND, N_AGGREGATES, 100) == 0);
        total += PER_SECOND;
        sleep(1);
    }
    /* The backlog grew and is reported while the broker is away. */
    CHECK(bl_outbox_test_metric(metrics_port, "busline_relay_backlog_events") > 0);
    CHECK(bl_outbox_test_count(f.conn, "SELECT count(*) FROM busline_outbox WHERE sent_at IS NULL") > 0);
    CHECK_EQ_INT(private_broker_script(&broker, "start"), 0);
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
    private_broker_remove(&broker);
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
