/* A relay process killed with SIGKILL in the middle of its batches, and one
 * stopped with SIGTERM, then replaced: nothing is lost, order per aggregate
 * holds, and a re-sent event carries the ce_id it had the first time. */
#include "core/pg_pool.h"
#include "core/clock.h"
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"

#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define N_EVENTS 20000
#define N_AGGREGATES 97
#define PER_TX 200
#define KILLS 3
#define BATCH "2500" /* 8 batches: room for a kill to miss its batch now and then */
#define WAIT_S 120

static long sent_rows(PGconn *conn)
{
    return bl_outbox_test_count(conn, "SELECT count(*) FROM busline_outbox WHERE sent_at IS NOT NULL");
}

static int append_all(bl_outbox_fixture *f)
{
    for (long first = 0; first < N_EVENTS; first += PER_TX) {
        if (bl_outbox_test_append_range(f, first, PER_TX, N_AGGREGATES, 200) != 0)
            return -1;
    }
    return 0;
}

/* Starts a relay; once `ready` says so, ends it with sig. Returns its exit
 * code (128+sig when the signal killed it), or -1. */
typedef struct progress {
    long sent, in_topic; /* when the relay started */
} progress;

static progress progress_now(bl_outbox_fixture *f)
{
    return (progress){sent_rows(f->conn), bl_outbox_test_topic_size(f)};
}

static int run_relay_until(bl_outbox_fixture *f, int (*ready)(bl_outbox_fixture *, const progress *),
                           int sig)
{
    progress start = progress_now(f);
    char port[8];
    snprintf(port, sizeof port, "%u", bl_outbox_test_free_port());
    /* rows kept after publishing (not deleted, the default): they are what
     * the topic is checked against */
    const char *const args[] = {"--batch-size", BATCH, "--poll-interval", "50ms", "--metrics-port", port,
                                "--retention", "1h", NULL};
    pid_t pid = bl_outbox_test_spawn_relay(f->pg_url, f->brokers, args, NULL);
    if (pid <= 0)
        return -1;
    /* by the clock: each look at the progress is itself a query or two */
    for (int64_t give_up = bl_clock_mono_ms() + WAIT_S * 1000; bl_clock_mono_ms() < give_up && !ready(f, &start);)
        usleep(1000);
    return bl_outbox_test_reap(pid, sig, NULL);
}

/* Mid-batch, past the relay's first batch: since it started, it has marked
 * rows sent, and the broker holds more of its messages than it marked. */
static int published_but_not_marked(bl_outbox_fixture *f, const progress *start)
{
    progress now = progress_now(f);
    if (now.sent < 0 || now.in_topic < 0 || now.sent == N_EVENTS)
        return 1; /* nothing left to kill it in the middle of: the checks say so */
    return now.sent > start->sent && now.in_topic - start->in_topic > now.sent - start->sent;
}

static int marked_some(bl_outbox_fixture *f, const progress *start)
{
    long sent = sent_rows(f->conn);
    return sent < 0 || sent > start->sent;
}

static void relay_killed_mid_batch_loses_nothing(void)
{
    bl_outbox_fixture f;
    REQUIRE(bl_outbox_fixture_open(&f, bl_test_kafka_brokers(), 3) == 0);
    if (append_all(&f) != 0) {
        CHECK(!"appended every event");
        bl_outbox_fixture_close(&f);
        return;
    }
    /* Each kill lands between a batch's sends and its UPDATE (checked after
     * the fact: rows in the topic but not marked), so those rows go out twice. */
    long unmarked_at_kills = 0;
    for (int k = 0; k < KILLS; k++) {
        progress start = progress_now(&f);
        CHECK_EQ_INT(run_relay_until(&f, published_but_not_marked, SIGKILL), 128 + SIGKILL);
        long sent = sent_rows(f.conn), in_topic = bl_outbox_test_topic_size(&f);
        fprintf(stderr, "  kill %d: %ld rows marked sent, %ld messages in the topic\n", k + 1,
                sent, in_topic);
        CHECK(sent < N_EVENTS); /* the kill came before the end */
        unmarked_at_kills += in_topic - start.in_topic > sent - start.sent;
    }

    /* SIGTERM: the batch in flight is finished, the exit is clean. */
    CHECK_EQ_INT(run_relay_until(&f, marked_some, SIGTERM), 0);

    /* A last relay finishes the rest. */
    unsigned short port_number = bl_outbox_test_free_port();
    char port[8];
    snprintf(port, sizeof port, "%u", port_number);
    const char *const args[] = {"--metrics-port", port, "--retention", "1h", NULL};
    pid_t pid = bl_outbox_test_spawn_relay(f.pg_url, f.brokers, args, NULL);
    CHECK(bl_outbox_test_wait_serving(port_number, WAIT_S) == 0);
    CHECK(bl_outbox_test_wait_all_sent(f.conn, N_EVENTS, WAIT_S) == 0);
    /* The SIGTERM run may already have marked the rest: wait until this relay
     * serves its metrics (its signal handling is installed by then) so the
     * SIGTERM below tests a clean stop, not a process still starting. */
    for (int i = 0; i < 200 && bl_outbox_test_metric((unsigned short)atoi(port), "busline_relay_leader") < 0; i++)
        usleep(50 * 1000);
    CHECK_EQ_INT(bl_outbox_test_reap(pid, SIGTERM, NULL), 0);

    bl_outbox_readback rb;
    CHECK(bl_outbox_test_read_back(&f, &rb) == 0);
    bl_outbox_readback_print("after kills", &rb);
    CHECK_EQ_INT(rb.distinct, N_EVENTS);
    CHECK_EQ_INT(rb.missing, 0);
    CHECK_EQ_INT(rb.out_of_order, 0);
    CHECK_EQ_INT(rb.wrong_key, 0);
    /* What was published but not marked went out again, under its own ce_id. */
    CHECK(unmarked_at_kills > 0);
    CHECK(rb.duplicates > 0);
    CHECK_EQ_INT(rb.unknown, 0);
    CHECK_EQ_INT(rb.messages, rb.distinct + rb.duplicates);
    bl_outbox_fixture_close(&f);
}

int main(void)
{
    BL_RUN(relay_killed_mid_batch_loses_nothing);
    return bl_test_summary();
}
