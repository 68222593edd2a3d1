/* The transactional outbox and its relay against the real PostgreSQL and
 * Kafka: what gets published, exactly once and in order per aggregate. */
#include "core/pg_pool.h"
#include "busline/outbox.h"
#include "producers/outbox/relay.h"
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#define N_EVENTS 50000
#define N_WRITERS 8
#define N_AGGREGATES 500
#define MAX_PER_TX 8
#define PAYLOAD_LEN 100
#define WAIT_S 300

static void append_outside_a_transaction_is_refused(void)
{
    bl_outbox_fixture f;
    REQUIRE(bl_outbox_fixture_open(&f, bl_test_kafka_brokers(), 1) == 0);
    bl_err err = {0};
    CHECK_EQ_INT(bl_outbox_test_append(f.conn, f.topic, 1, 1, PAYLOAD_LEN, &err), -1);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK(strstr(err.msg, "open transaction") != NULL);

    /* Nor inside a transaction that already failed. */
    REQUIRE(bl_pg_begin(f.conn, &err) == 0);
    CHECK(bl_pg_exec_cmd(f.conn, "SELECT 1/0", 0, NULL, &err) != 0);
    CHECK_EQ_INT(bl_outbox_test_append(f.conn, f.topic, 2, 1, PAYLOAD_LEN, &err), -1);
    CHECK(strstr(err.msg, "roll it back") != NULL);
    bl_pg_rollback(f.conn, &err);

    CHECK_EQ_INT(bl_outbox_test_count(f.conn, "SELECT count(*) FROM busline_outbox"), 0);
    bl_outbox_fixture_close(&f);
}

static void append_refuses_payload_not_in_wire_format(void)
{
    bl_outbox_fixture f;
    REQUIRE(bl_outbox_fixture_open(&f, bl_test_kafka_brokers(), 1) == 0);
    bl_err err = {0};
    REQUIRE(bl_pg_begin(f.conn, &err) == 0);
    const unsigned char other_schema[] = {0, 0, 0, 0, 9, 'x'};
    bl_outbox_event ev = {.aggregate_type = "t", .aggregate_id = "a1", .event_type = "t.x",
                          .topic = f.topic, .schema_id = 1, .payload = other_schema,
                          .payload_len = sizeof other_schema, .source = "//tests"};
    CHECK_EQ_INT(bl_outbox_append(f.conn, &ev, &err), -1);
    CHECK(strstr(err.msg, "schema id 9") != NULL);
    const unsigned char no_magic[] = {1, 0, 0, 0, 1, 'x'};
    ev.payload = no_magic;
    CHECK_EQ_INT(bl_outbox_append(f.conn, &ev, &err), -1);
    CHECK(strstr(err.msg, "magic") != NULL);
    ev.payload_len = 3;
    CHECK_EQ_INT(bl_outbox_append(f.conn, &ev, &err), -1);
    ev.payload_len = sizeof no_magic;
    ev.payload = other_schema;
    ev.schema_id = 9;
    ev.aggregate_id = NULL;
    CHECK_EQ_INT(bl_outbox_append(f.conn, &ev, &err), -1);
    CHECK(strstr(err.msg, "aggregate_id") != NULL);
    ev.aggregate_id = "a1";
    CHECK_EQ_INT(bl_outbox_append(f.conn, &ev, &err), 0); /* and a good one passes */
    CHECK(bl_pg_commit(f.conn, &err) == 0);
    /* The generated ce_id and the CloudEvents headers are on the row. */
    CHECK_EQ_INT(bl_outbox_test_count(f.conn,
                                      "SELECT count(*) FROM busline_outbox WHERE "
                                      "length(ce_id) = 36 AND headers->>'ce_id' = ce_id AND "
                                      "headers->>'ce_type' = 't.x' AND "
                                      "headers->>'content-type' = 'application/avro' AND "
                                      "headers ? 'ce_time' AND headers->>'ce_source' = '//tests'"),
                 1);
    bl_outbox_fixture_close(&f);
}

static void *run_relay(void *arg)
{
    bl_relay_run(arg);
    return NULL;
}

static void rolled_back_append_publishes_nothing(void)
{
    bl_outbox_fixture f;
    REQUIRE(bl_outbox_fixture_open(&f, bl_test_kafka_brokers(), 1) == 0);
    bl_err err = {0};
    REQUIRE(bl_pg_begin(f.conn, &err) == 0);
    CHECK(bl_outbox_test_append(f.conn, f.topic, 1, 1, PAYLOAD_LEN, &err) == 0);
    CHECK(bl_pg_rollback(f.conn, &err) == 0);
    REQUIRE(bl_pg_begin(f.conn, &err) == 0);
    CHECK(bl_outbox_test_append(f.conn, f.topic, 2, 1, PAYLOAD_LEN, &err) == 0);
    CHECK(bl_pg_commit(f.conn, &err) == 0);

    bl_relay_config cfg = {.pg_url = f.pg_url, .brokers = f.brokers, .batch_size = 100,
                           .poll_interval_ms = 100, .retention_ms = 3600000,
                           .cleanup_batch = 100, .cleanup_interval_ms = 1000,
                           .delivery_timeout_ms = 30000};
    bl_relay *relay = bl_relay_new(&cfg, &err);
    REQUIRE(relay != NULL);
    pthread_t thread;
    REQUIRE(pthread_create(&thread, NULL, run_relay, relay) == 0);
    CHECK(bl_outbox_test_wait_all_sent(f.conn, 1, 60) == 0);
    bl_relay_stop(relay);
    pthread_join(thread, NULL);
    CHECK_EQ_INT(bl_relay_get_stats(relay).published, 1);
    bl_relay_free(relay);

    bl_outbox_readback rb;
    CHECK(bl_outbox_test_read_back(&f, &rb) == 0);
    CHECK_EQ_INT(rb.messages, 1);
    CHECK_EQ_INT(rb.distinct, 1);
    CHECK_EQ_INT(rb.unknown, 0);
    bl_outbox_fixture_close(&f);
}

static void relay_deletes_sent_rows_past_retention_only(void)
{
    bl_outbox_fixture f;
    REQUIRE(bl_outbox_fixture_open(&f, bl_test_kafka_brokers(), 1) == 0);
    bl_err err = {0};
    REQUIRE(bl_pg_begin(f.conn, &err) == 0);
    for (int i = 0; i < 30; i++)
        CHECK(bl_outbox_test_append(f.conn, f.topic, i, i % 3, PAYLOAD_LEN, &err) == 0);
    CHECK(bl_pg_commit(f.conn, &err) == 0);
    /* Ten rows were sent an hour ago, by an earlier relay. */
    CHECK(bl_pg_exec_cmd(f.conn,
                         "UPDATE busline_outbox SET sent_at = now() - interval '1 hour' "
                         "WHERE aggregate_id = 'a0'", 0, NULL, &err) == 0);

    bl_relay_config cfg = {.pg_url = f.pg_url, .brokers = f.brokers, .batch_size = 7,
                           .poll_interval_ms = 50, .retention_ms = 30 * 60 * 1000,
                           .cleanup_batch = 3, .cleanup_interval_ms = 50,
                           .delivery_timeout_ms = 30000};
    bl_relay *relay = bl_relay_new(&cfg, &err);
    REQUIRE(relay != NULL);
    pthread_t thread;
    REQUIRE(pthread_create(&thread, NULL, run_relay, relay) == 0);
    CHECK(bl_outbox_test_wait_all_sent(f.conn, 20, 60) == 0);
    bl_relay_stop(relay);
    pthread_join(thread, NULL);
    bl_relay_stats stats = bl_relay_get_stats(relay);
    CHECK_EQ_INT(stats.published, 20);
    CHECK_EQ_INT(stats.deleted, 10);
    bl_relay_free(relay);
    CHECK_EQ_INT(bl_outbox_test_count(f.conn, "SELECT count(*) FROM busline_outbox "
                                              "WHERE aggregate_id = 'a0'"), 0);
    bl_outbox_fixture_close(&f);
}

/* --- 50,000 events, 8 writers, two relays --- */

typedef struct writers {
    const char *pg_url;
    const char *topic;
    atomic_long next_index;
    atomic_int failures;
} writers;

static int compare_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static void *write_events(void *arg)
{
    writers *w = arg;
    bl_err err = {0};
    PGconn *conn = bl_pg_connect(w->pg_url, &err);
    unsigned seed = (unsigned)(uintptr_t)&err ^ (unsigned)getpid();
    while (conn) {
        int n = 1 + rand_r(&seed) % MAX_PER_TX;
        long first = atomic_fetch_add(&w->next_index, n);
        if (first >= N_EVENTS)
            break;
        if (first + n > N_EVENTS)
            n = (int)(N_EVENTS - first);
        /* Several aggregates per transaction, locked in a stable order. */
        int aggregates[MAX_PER_TX];
        for (int i = 0; i < n; i++)
            aggregates[i] = rand_r(&seed) % N_AGGREGATES;
        qsort(aggregates, (size_t)n, sizeof aggregates[0], compare_int);
        int rc = bl_pg_begin(conn, &err);
        for (int i = 0; i < n && rc == 0; i++)
            rc = bl_outbox_test_append(conn, w->topic, first + i, aggregates[i], PAYLOAD_LEN, &err);
        rc = rc == 0 ? bl_pg_commit(conn, &err) : (bl_pg_rollback(conn, &err), -1);
        if (rc != 0) {
            fprintf(stderr, "  writer: %s\n", err.msg);
            atomic_fetch_add(&w->failures, 1);
            break;
        }
    }
    if (!conn) {
        fprintf(stderr, "  writer: %s\n", err.msg);
        atomic_fetch_add(&w->failures, 1);
    }
    PQfinish(conn);
    return NULL;
}

static void two_relays_publish_every_event_once_in_aggregate_order(void)
{
    bl_outbox_fixture f;
    REQUIRE(bl_outbox_fixture_open(&f, bl_test_kafka_brokers(), 4) == 0);
    char port_a[8], port_b[8];
    unsigned short ports[2] = {bl_outbox_test_free_port(), bl_outbox_test_free_port()};
    snprintf(port_a, sizeof port_a, "%u", ports[0]);
    snprintf(port_b, sizeof port_b, "%u", ports[1]);
    /* rows kept after publishing: the topic is checked against them */
    const char *const relay_a[] = {"--poll-interval", "200ms", "--metrics-port", port_a, "--retention", "1h", NULL};
    const char *const relay_b[] = {"--poll-interval", "200ms", "--metrics-port", port_b, "--retention", "1h", NULL};
    pid_t a = bl_outbox_test_spawn_relay(f.pg_url, f.brokers, relay_a, NULL);
    pid_t b = bl_outbox_test_spawn_relay(f.pg_url, f.brokers, relay_b, NULL);
    if (a <= 0 || b <= 0) {
        CHECK(a > 0 && b > 0);
        bl_outbox_test_reap(a, SIGKILL, NULL);
        bl_outbox_test_reap(b, SIGKILL, NULL);
        bl_outbox_fixture_close(&f);
        return;
    }

    writers w = {.pg_url = f.pg_url, .topic = f.topic};
    pthread_t threads[N_WRITERS];
    for (int i = 0; i < N_WRITERS; i++)
        pthread_create(&threads[i], NULL, write_events, &w);
    for (int i = 0; i < N_WRITERS; i++)
        pthread_join(threads[i], NULL);
    CHECK_EQ_INT(atomic_load(&w.failures), 0);

    CHECK(bl_outbox_test_wait_all_sent(f.conn, N_EVENTS, WAIT_S) == 0);
    /* The two relays' /metrics add up: one published everything, or both
     * when the lease moved. */
    double published_a = bl_outbox_test_metric(ports[0], "busline_relay_published_total");
    double published_b = bl_outbox_test_metric(ports[1], "busline_relay_published_total");
    CHECK(published_a >= 0 && published_b >= 0);
    CHECK_EQ_INT((long)(published_a + published_b), N_EVENTS);
    CHECK_EQ_INT((long)(bl_outbox_test_metric(ports[0], "busline_relay_leader") +
                        bl_outbox_test_metric(ports[1], "busline_relay_leader")), 1);
    /* SIGTERM: each relay (leader or standby) finishes and exits 0. */
    CHECK_EQ_INT(bl_outbox_test_reap(a, SIGTERM, NULL), 0);
    CHECK_EQ_INT(bl_outbox_test_reap(b, SIGTERM, NULL), 0);

    bl_outbox_readback rb;
    CHECK(bl_outbox_test_read_back(&f, &rb) == 0);
    bl_outbox_readback_print("two relays", &rb);
    CHECK(bl_outbox_readback_exact(&rb, N_EVENTS));
    /* The per-aggregate sequence has no gaps: 500 aggregates, 50,000 events. */
    CHECK_EQ_INT(bl_outbox_test_count(f.conn, "SELECT sum(last_seq) FROM busline_outbox_aggregates"),
                 N_EVENTS);
    bl_outbox_fixture_close(&f);
}

/* Retention 0 (the CLI's default): each acknowledged row is deleted instead
 * of marked. The rows are copied aside first and put back once the relay is
 * done, as what the topic is checked against. */
static void relay_without_retention_deletes_each_published_row(void)
{
    enum { EVENTS = 3000, AGGREGATES = 40 };
    bl_outbox_fixture f;
    REQUIRE(bl_outbox_fixture_open(&f, bl_test_kafka_brokers(), 3) == 0);
    for (long first = 0; first < EVENTS; first += 500)
        REQUIRE(bl_outbox_test_append_range(&f, first, 500, AGGREGATES, PAYLOAD_LEN) == 0);
    bl_err err = {0};
    REQUIRE(bl_pg_exec_cmd(f.conn, "CREATE TABLE outbox_truth AS SELECT * FROM busline_outbox", 0, NULL, &err) == 0);

    bl_relay_config cfg = {.pg_url = f.pg_url, .brokers = f.brokers, .batch_size = 700,
                           .poll_interval_ms = 50, .retention_ms = 0,
                           .cleanup_batch = 100, .cleanup_interval_ms = 50,
                           .delivery_timeout_ms = 30000};
    bl_relay *relay = bl_relay_new(&cfg, &err);
    REQUIRE(relay != NULL);
    pthread_t thread;
    REQUIRE(pthread_create(&thread, NULL, run_relay, relay) == 0);
    long left = -1;
    for (int i = 0; i < 600 && left != 0; i++) {
        usleep(100 * 1000);
        left = bl_outbox_test_count(f.conn, "SELECT count(*) FROM busline_outbox");
    }
    bl_relay_stop(relay);
    pthread_join(thread, NULL);
    CHECK_EQ_INT(left, 0);
    CHECK_EQ_INT(bl_relay_get_stats(relay).published, EVENTS);
    CHECK_EQ_INT(bl_relay_get_stats(relay).deleted, 0); /* nothing was left for the retention */
    bl_relay_free(relay);

    REQUIRE(bl_pg_exec_cmd(f.conn, "INSERT INTO busline_outbox SELECT * FROM outbox_truth", 0, NULL, &err) == 0);
    bl_outbox_readback rb;
    CHECK(bl_outbox_test_read_back(&f, &rb) == 0);
    bl_outbox_readback_print("deleted when acknowledged", &rb);
    CHECK(bl_outbox_readback_exact(&rb, EVENTS));
    bl_outbox_fixture_close(&f);
}

int main(void)
{
    BL_RUN(append_outside_a_transaction_is_refused);
    BL_RUN(append_refuses_payload_not_in_wire_format);
    BL_RUN(rolled_back_append_publishes_nothing);
    BL_RUN(relay_deletes_sent_rows_past_retention_only);
    BL_RUN(relay_without_retention_deletes_each_published_row);
    BL_RUN(two_relays_publish_every_event_once_in_aggregate_order);
    return bl_test_summary();
}
