/* Relay throughput against its two limits, on the local broker and
 * PostgreSQL:
 *   relay - `busline relay` publishing N outbox rows (a child process; its
 *           peak RSS from getrusage);
 *   kcat  - kcat producing N messages of the same size with keys and six
 *           headers, idempotent, acks=all, lz4, to the same broker;
 *   relay exactly-once - the same with --exactly-once (a Kafka transaction
 *           and a positions marker per batch), for the cost of it;
 *   pg    - a bare loop claiming and deleting the same rows in batches of
 *           the relay's size, no Kafka (what the relay does with its
 *           default retention of 0).
 * Usage: bench_relay [events] (default 50000). BUSLINE_BIN may name the
 * busline binary (default: beside this one); BUSLINE_KAFKA_BROKERS and
 * BUSLINE_PG_URL as for the tests. */
#include "core/pg_pool.h"
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Rows per batch for the relay and the bare loop alike:
 * BUSLINE_RELAY_BATCH_SIZE (which the relay reads too), else the relay's
 * default. */
static const char *batch_size(void)
{
    const char *env = getenv("BUSLINE_RELAY_BATCH_SIZE");
    return env && *env ? env : "500";
}
#define N_AGGREGATES "500"
#define RELAY_TIMEOUT_S 600 /* a relay that stops publishing fails the bench instead of hanging it */

#define FILL_SQL                                                                              \
    "INSERT INTO busline_outbox (aggregate_type, aggregate_id, aggregate_seq, event_type, "  \
    "topic, schema_id, payload, ce_id, headers) "                                             \
    "SELECT 'bench', 'a' || (g % " N_AGGREGATES "), g / " N_AGGREGATES " + 1, "               \
    "'bench.happened', $1, 1, "                                                               \
    "'\\x0000000001'::bytea || decode(repeat('ab', $2::int - 5), 'hex'), 'e' || g, "          \
    "jsonb_build_object('ce_id', 'e' || g, 'ce_source', '//busline/bench', "                  \
    "'ce_specversion', '1.0', 'ce_type', 'bench.happened', "                                  \
    "'ce_time', '2026-01-01T00:00:00.000000Z', 'ce_subject', 'a' || (g % " N_AGGREGATES "), " \
    "'content-type', 'application/avro') "                                                    \
    "FROM generate_series(1, $3::bigint) g"

/* The relay's own statements (producers/outbox/relay_batch.c), without Kafka. */
#define CLAIM_SQL                                                                   \
    "SELECT id, aggregate_id, topic, payload, headers::text FROM busline_outbox " \
    "WHERE sent_at IS NULL ORDER BY id LIMIT $1::int"
#define DELETE_SQL "DELETE FROM busline_outbox WHERE id = ANY($1::bigint[])"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sql(PGconn *conn, const char *text, int n, const char *const *params)
{
    bl_err err = {0};
    if (bl_pg_exec_cmd(conn, text, n, params, &err) == 0)
        return 0;
    fprintf(stderr, "bench: %s\n", err.msg);
    return -1;
}

/* The bare loop: claim a batch, delete it, until none is left. Returns
 * events per second, or -1. */
static double pg_loop(PGconn *conn, long n)
{
    static char ids[100000 * 24];
    double t0 = now_s();
    long done = 0;
    for (;;) {
        bl_err err = {0};
        const char *limit[1] = {batch_size()};
        PGresult *res = bl_pg_exec(conn, CLAIM_SQL, 1, limit, &err);
        if (!res) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return -1;
        }
        int rows = PQntuples(res);
        size_t used = 0;
        ids[used++] = '{';
        for (int i = 0; i < rows; i++)
            used += (size_t)snprintf(ids + used, sizeof ids - used, "%s%s", i ? "," : "",
                                     PQgetvalue(res, i, 0));
        snprintf(ids + used, sizeof ids - used, "}");
        PQclear(res);
        if (rows == 0)
            break;
        const char *params[1] = {ids};
        if (sql(conn, DELETE_SQL, 1, params) != 0)
            return -1;
        done += rows;
    }
    double rate = (double)done / (now_s() - t0);
    return done == n ? rate : -1;
}

/* Starts `busline relay` on the empty outbox and lets its producer connect,
 * then fills the outbox with n rows and times the relay from their commit
 * until none is left unsent: steady publishing, not process start-up.
 * Returns events per second, or -1; *rss_kib gets the relay's peak RSS. */
static double relay_run(bl_outbox_fixture *f, const char *const *fill_params, long n, int exactly_once,
                        long *rss_kib)
{
    if (sql(f->conn, "DELETE FROM busline_outbox", 0, NULL) != 0 ||
        sql(f->conn, "VACUUM ANALYZE busline_outbox", 0, NULL) != 0)
        return -1;
    unsigned short port = bl_outbox_test_free_port();
    char port_text[8];
    snprintf(port_text, sizeof port_text, "%u", port);
    const char *level = getenv("BUSLINE_BENCH_LOG_LEVEL") ? getenv("BUSLINE_BENCH_LOG_LEVEL") : "warn";
    char positions[160], txn_id[160];
    snprintf(positions, sizeof positions, "%s.positions", f->topic);
    snprintf(txn_id, sizeof txn_id, "%s-relay", f->topic);
    const char *const args[] = {"--batch-size", batch_size(), "--poll-interval", "100ms",
                                "--metrics-port", port_text, "--log-level", level,
                                "--exactly-once", exactly_once ? "true" : "false",
                                "--positions-topic", positions, "--transactional-id", txn_id, NULL};
    pid_t pid = bl_outbox_test_spawn_relay(f->pg_url, f->brokers, args, getenv("BUSLINE_BENCH_RELAY_LOG"));
    if (pid <= 0)
        return -1;
    long unsent = -1;
    double elapsed = 0;
    if (bl_outbox_test_wait_serving(port, 30) != 0)
        goto done;
    for (int i = 0; i < 300 && bl_outbox_test_metric(port, "busline_relay_leader") != 1; i++)
        usleep(10 * 1000);
    sleep(2); /* the idempotent producer gets its id */
    if (sql(f->conn, FILL_SQL, 3, fill_params) != 0)
        goto done;
    double t0 = now_s();
    sql(f->conn, "NOTIFY busline_outbox", 0, NULL);
    /* Watching the relay's own counter keeps the database free for it. */
    double published = 0;
    while (published >= 0 && published < (double)n && now_s() - t0 < RELAY_TIMEOUT_S) {
        usleep(5 * 1000);
        published = bl_outbox_test_metric(port, "busline_relay_published_total");
    }
    elapsed = now_s() - t0;
    unsent = bl_outbox_test_count(f->conn, "SELECT count(*) FROM busline_outbox WHERE sent_at IS NULL");
    /* transactions add a commit record per partition and batch */
    long in_topic = exactly_once ? n : bl_outbox_test_topic_size(f);
    if (unsent != 0 || in_topic != n) {
        fprintf(stderr, "bench: after %.0f s, %ld rows unsent and %ld of %ld messages in the topic\n", elapsed,
                unsent, in_topic, n);
        unsent = unsent == 0 ? -1 : unsent;
    }
done:;
    struct rusage ru;
    int code = bl_outbox_test_reap(pid, SIGTERM, &ru);
    *rss_kib = ru.ru_maxrss;
    return unsent == 0 && code == 0 ? (double)n / elapsed : -1;
}

/* Produces n messages of size bytes with kcat to a fresh topic of the
 * fixture's shape. Returns events per second, or -1. */
static double kcat_run(bl_outbox_fixture *f, long n, int size)
{
    char path[] = "/tmp/bl_bench_kcat_XXXXXX";
    int fd = mkstemp(path);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out)
        return -1;
    char *value = malloc((size_t)size + 1);
    memset(value, 'v', (size_t)size);
    value[size] = '\0';
    for (long i = 0; i < n; i++)
        fprintf(out, "a%ld\t%s\n", i % 500, value);
    fclose(out);
    free(value);

    char topic[128];
    bl_test_unique_name(topic, sizeof topic, "bench_kcat");
    bl_err err = {0};
    bl_kafka_topic_spec spec = {topic, f->partitions, -1, NULL};
    const char *names[1] = {topic};
    double rate = -1;
    if (bl_kafka_admin_create_topics(f->admin, &spec, 1, 30000, &err) != 0 ||
        bl_kafka_admin_wait_visible(f->admin, names, 1, 30000, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        goto done;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "kcat -P -b '%s' -t '%s' -K '\t' -z lz4 -X enable.idempotence=true -X acks=all "
             "-H ce_id=e1 -H ce_source=//busline/bench -H ce_specversion=1.0 "
             "-H ce_type=bench.happened -H ce_time=2026-01-01T00:00:00.000000Z "
             "-H content-type=application/avro -l '%s'",
             f->brokers, topic, path);
    double t0 = now_s();
    if (system(cmd) == 0)
        rate = (double)n / (now_s() - t0);
    bl_kafka_admin_delete_topics(f->admin, names, 1, 30000, &err);
done:
    unlink(path);
    return rate;
}

static void set_default_bin(const char *argv0)
{
    if (getenv("BUSLINE_BIN"))
        return;
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return;
    self[len] = '\0';
    char bin[PATH_MAX + 16];
    snprintf(bin, sizeof bin, "%s/busline", dirname(self));
    setenv("BUSLINE_BIN", bin, 0);
    (void)argv0;
}

static int bench_size(long n, int size)
{
    bl_outbox_fixture f;
    int rc = -1;
    if (bl_outbox_fixture_open(&f, bl_test_kafka_brokers(), 4) != 0)
        goto done;
    char size_text[16], n_text[24];
    snprintf(size_text, sizeof size_text, "%d", size);
    snprintf(n_text, sizeof n_text, "%ld", n);
    const char *params[3] = {f.topic, size_text, n_text};
    if (sql(f.conn, FILL_SQL, 3, params) != 0 || sql(f.conn, "VACUUM ANALYZE busline_outbox", 0, NULL) != 0)
        goto done;
    double pg = pg_loop(f.conn, n);
    long rss_kib = 0;
    double relay = relay_run(&f, params, n, 0, &rss_kib);
    long eos_rss_kib = 0;
    double relay_eos = relay_run(&f, params, n, 1, &eos_rss_kib);
    double kcat = kcat_run(&f, n, size);
    double limit = pg < kcat ? pg : kcat;
    printf("%5d B x %ld, batch %s: relay %8.0f ev/s | kcat %8.0f ev/s | pg claim+delete %8.0f ev/s | "
           "relay / lower limit %.2f | relay peak RSS %.1f MiB\n",
           size, n, batch_size(), relay, kcat, pg, limit > 0 ? relay / limit : 0, (double)rss_kib / 1024);
    printf("ratio relay_%dB %.3f\n", size, limit > 0 ? relay / limit : 0);
    printf("%5d B x %ld: relay exactly-once %8.0f ev/s (peak RSS %.1f MiB), %.2f of the plain relay\n", size,
           n, relay_eos, (double)eos_rss_kib / 1024, relay > 0 ? relay_eos / relay : 0);
    printf("ratio relay_exactly_once_vs_plain_%dB %.3f\n", size, relay > 0 ? relay_eos / relay : 0);
    fflush(stdout);
    rc = relay > 0 && relay_eos > 0 && kcat > 0 && pg > 0 ? 0 : -1;
done:
    bl_outbox_fixture_close(&f);
    return rc;
}

static int failed_sizes; /* event sizes whose run left rows unsent or measured nothing */

static void every_event_reached_kafka_at_every_size(void)
{
    CHECK_EQ_INT(failed_sizes, 0);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 50000;
    if (n <= 0) {
        fprintf(stderr, "usage: bench_relay [events]\n");
        return 2;
    }
    set_default_bin(argv[0]);
    failed_sizes = (bench_size(n, 100) != 0) + (bench_size(n, 1024) != 0);
    BL_RUN(every_event_reached_kafka_at_every_size);
    return bl_test_summary();
}
