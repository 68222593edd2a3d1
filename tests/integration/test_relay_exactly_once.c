/* The exactly-once relay (producers/outbox/relay.h): two relays racing for
 * one outbox, one of them killed with SIGKILL at random moments while
 * 20,000 events go out, and a read_committed reader of the topic sees each
 * event exactly once, in order per aggregate. The same kills without
 * exactly-once publish duplicates (tests/integration/test_relay_kill.c). */
#include "core/clock.h"
#include "core/pg_pool.h"
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_EVENTS 20000
#define N_AGGREGATES 97
#define PER_TX 200
#define KILLS 8
#define WAIT_S 180

typedef struct relay_proc {
    pid_t pid;
    unsigned short port;
} relay_proc;

static long sent_rows(PGconn *conn)
{
    return bl_outbox_test_count(conn, "SELECT count(*) FROM busline_outbox WHERE sent_at IS NOT NULL");
}

static relay_proc start_relay(bl_outbox_fixture *f, const char *positions, const char *txn_id, const char *log)
{
    relay_proc p = {.port = bl_outbox_test_free_port()};
    char port[8];
    snprintf(port, sizeof port, "%u", p.port);
    const char *const args[] = {"--exactly-once", "true", "--positions-topic", positions, "--transactional-id",
                                txn_id, "--batch-size", "1000", "--poll-interval", "50ms", "--metrics-port",
                                port, "--retention", "1h", NULL};
    p.pid = bl_outbox_test_spawn_relay(f->pg_url, f->brokers, args, log);
    return p;
}

/* The relay of the pair that holds the lease now, or -1 when neither
 * says so yet. */
static int leader_of(const relay_proc pair[2])
{
    for (int i = 0; i < 2; i++)
        if (bl_outbox_test_metric(pair[i].port, "busline_relay_leader") == 1)
            return i;
    return -1;
}

static int count_in_file(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, fp))
        n += strstr(line, needle) != NULL;
    fclose(fp);
    return n;
}

static void relays_killed_at_random_publish_each_event_once(void)
{
    bl_outbox_fixture f;
    REQUIRE(bl_outbox_fixture_open(&f, bl_test_kafka_brokers(), 3) == 0);
    char positions[160], txn_id[160], log[256];
    snprintf(positions, sizeof positions, "%s.positions", f.topic);
    snprintf(txn_id, sizeof txn_id, "%s-relay", f.topic);
    snprintf(log, sizeof log, "/tmp/%s-relays.log", f.topic);
    unlink(log);
    for (long first = 0; first < N_EVENTS; first += PER_TX)
        REQUIRE(bl_outbox_test_append_range(&f, first, PER_TX, N_AGGREGATES, 200) == 0);

    relay_proc pair[2] = {start_relay(&f, positions, txn_id, log), start_relay(&f, positions, txn_id, log)};
    srand((unsigned)getpid());
    int kills = 0;
    int64_t give_up = bl_clock_mono_ms() + WAIT_S * 1000;
    /* Kill the leader at a random moment after it published something, so
     * kills land before, during and after a batch's commit and its marking. */
    while (kills < KILLS && sent_rows(f.conn) < N_EVENTS && bl_clock_mono_ms() < give_up) {
        int who = leader_of(pair);
        if (who < 0) {
            usleep(20 * 1000);
            continue;
        }
        long before = sent_rows(f.conn);
        while (sent_rows(f.conn) == before && bl_clock_mono_ms() < give_up)
            usleep(2 * 1000);
        usleep((useconds_t)(rand() % 400) * 1000);
        CHECK_EQ_INT(bl_outbox_test_reap(pair[who].pid, SIGKILL, NULL), 128 + SIGKILL);
        kills++;
        fprintf(stderr, "  kill %d: relay %d, %ld rows marked sent\n", kills, who, sent_rows(f.conn));
        pair[who] = start_relay(&f, positions, txn_id, log);
    }
    CHECK(kills >= 3); /* enough of the run happened under kills */
    CHECK(bl_outbox_test_wait_all_sent(f.conn, N_EVENTS, WAIT_S) == 0);
    for (int i = 0; i < 2; i++) {
        /* serving metrics: its signal handling is in place, so SIGTERM tests a clean stop */
        CHECK(bl_outbox_test_wait_serving(pair[i].port, 30) == 0);
        CHECK_EQ_INT(bl_outbox_test_reap(pair[i].pid, SIGTERM, NULL), 0);
    }

    bl_outbox_readback rb;
    CHECK(bl_outbox_test_read_back_committed(&f, &rb) == 0);
    bl_outbox_readback_print("read_committed after kills", &rb);
    CHECK(bl_outbox_readback_exact(&rb, N_EVENTS));
    /* The recovery ran: a new leader found a marker and marked its rows. */
    int recovered = count_in_file(log, "\"recovered\":\"marker\"");
    fprintf(stderr, "  %d leaders recovered from a marker\n", recovered);
    CHECK(recovered >= 1);
    unlink(log);
    const char *const names[] = {positions};
    bl_err err = {0};
    if (bl_kafka_admin_delete_topics(f.admin, names, 1, 30000, &err) != 0)
        fprintf(stderr, "  delete %s: %s\n", positions, err.msg);
    bl_outbox_fixture_close(&f);
}

int main(void)
{
    BL_RUN(relays_killed_at_random_publish_each_event_once);
    return bl_test_summary();
}
