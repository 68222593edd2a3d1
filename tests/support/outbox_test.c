#include "tests/support/outbox_test.h"

#include "core/kafka_consumer.h"
#include "core/migrations.h"
#include "core/pg_pool.h"
#include "busline/outbox.h"
#include "tests/support/pg_test.h"
#include "tests/support/test.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_TIMEOUT_MS 30000

int bl_outbox_fixture_open(bl_outbox_fixture *f, const char *brokers, int partitions)
{
    bl_err err = {0};
    memset(f, 0, sizeof *f);
    f->brokers = brokers;
    f->partitions = partitions;
    if (bl_test_pg_fresh_db(f->pg_url, sizeof f->pg_url, &err) != 0)
        goto fail;
    f->have_db = 1;
    f->conn = bl_pg_connect(f->pg_url, &err);
    if (!f->conn || bl_migrations_apply(f->conn, BUSLINE_SOURCE_DIR "/migrations", &err) < 0)
        goto fail;
    f->admin = bl_kafka_admin_new(brokers, NULL, &err);
    if (!f->admin)
        goto fail;
    bl_test_unique_name(f->topic, sizeof f->topic, "outbox");
    bl_kafka_topic_spec spec = {f->topic, partitions, -1, NULL};
    const char *names[1] = {f->topic};
    if (bl_kafka_admin_create_topics(f->admin, &spec, 1, ADMIN_TIMEOUT_MS, &err) != 0)
        goto fail;
    f->have_topic = 1;
    if (bl_kafka_admin_wait_visible(f->admin, names, 1, ADMIN_TIMEOUT_MS, &err) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "  fixture: %s\n", err.msg);
    return -1;
}

void bl_outbox_fixture_close(bl_outbox_fixture *f)
{
    bl_err err = {0};
    if (f->have_topic) {
        const char *names[1] = {f->topic};
        if (bl_kafka_admin_delete_topics(f->admin, names, 1, ADMIN_TIMEOUT_MS, &err) != 0)
            fprintf(stderr, "  fixture: %s\n", err.msg);
    }
    bl_kafka_admin_free(f->admin);
    PQfinish(f->conn);
    if (f->have_db)
        bl_test_pg_drop_db(f->pg_url);
    memset(f, 0, sizeof *f);
}

int bl_outbox_test_append(PGconn *conn, const char *topic, long index, int aggregate,
                          size_t payload_len, bl_err *err)
{
    unsigned char payload[4096];
    if (payload_len < 5 || payload_len > sizeof payload)
        return bl_err_set(err, BL_EINVAL, "test payload of %zu bytes", payload_len);
    payload[0] = 0; /* magic, then schema id 1 */
    payload[1] = payload[2] = payload[3] = 0;
    payload[4] = 1;
    for (size_t i = 5; i < payload_len; i++)
        payload[i] = (unsigned char)(index + (long)i);
    char ce_id[32], aggregate_id[32];
    snprintf(ce_id, sizeof ce_id, "e%ld", index);
    snprintf(aggregate_id, sizeof aggregate_id, "a%d", aggregate);
    bl_outbox_event ev = {
        .aggregate_type = "test",
        .aggregate_id = aggregate_id,
        .event_type = "test.happened",
        .topic = topic,
        .schema_id = 1,
        .payload = payload,
        .payload_len = payload_len,
        .source = "//busline/tests",
        .id = ce_id,
        .subject = aggregate_id,
    };
    return bl_outbox_append(conn, &ev, err);
}

int bl_outbox_test_append_range(bl_outbox_fixture *f, long first, long n, int n_aggregates,
                                size_t payload_len)
{
    bl_err err = {0};
    if (bl_pg_begin(f->conn, &err) != 0)
        goto fail;
    for (long i = first; i < first + n; i++) {
        if (bl_outbox_test_append(f->conn, f->topic, i, (int)(i % n_aggregates), payload_len,
                                  &err) != 0) {
            bl_pg_rollback(f->conn, &err);
            goto fail;
        }
    }
    if (bl_pg_commit(f->conn, &err) == 0)
        return 0;
fail:
    fprintf(stderr, "  append: %s\n", err.msg);
    return -1;
}

pid_t bl_test_spawn_busline(const char *const *args, const char *log_path)
{
    const char *bin = getenv("BUSLINE_BIN");
    if (!bin || !*bin) {
        fprintf(stderr, "  BUSLINE_BIN is not set (run through ctest)\n");
        return -1;
    }
    const char *argv[32] = {bin};
    int argc = 1;
    for (int i = 0; args && args[i] && argc < 31; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (log_path) {
            int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
        }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

pid_t bl_outbox_test_spawn_relay(const char *pg_url, const char *brokers,
                                 const char *const *extra, const char *log_path)
{
    const char *args[32] = {"relay", "--pg-url", pg_url, "--kafka-brokers", brokers};
    int argc = 5;
    for (int i = 0; extra && extra[i] && argc < 31; i++)
        args[argc++] = extra[i];
    args[argc] = NULL;
    return bl_test_spawn_busline(args, log_path);
}

int bl_outbox_test_port_free(unsigned short port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Below Linux's ephemeral range (32768 and up by default): no outgoing
 * connection takes such a port as its local one between the pick and the
 * server's bind, nor while a killed server is being restarted on it. */
#define PICK_LOW 20000
#define PICK_SPAN 12000

unsigned short bl_outbox_test_free_port(void)
{
    static unsigned seed;
    if (!seed)
        seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
    for (int tries = 0; tries < 500; tries++) {
        unsigned short p = (unsigned short)(PICK_LOW + rand_r(&seed) % PICK_SPAN);
        if (bl_outbox_test_port_free(p) && bl_outbox_test_port_free((unsigned short)(p + 1)))
            return p;
    }
    return 0;
}

typedef struct body {
    char buf[65536];
    size_t len;
} body;

static size_t collect(char *data, size_t size, size_t n, void *user)
{
    body *b = user;
    size_t take = size * n;
    if (take > sizeof b->buf - 1 - b->len)
        take = sizeof b->buf - 1 - b->len;
    memcpy(b->buf + b->len, data, take);
    b->len += take;
    b->buf[b->len] = '\0';
    return size * n;
}

double bl_outbox_test_metric(unsigned short port, const char *name)
{
    CURL *curl = curl_easy_init();
    body *b = calloc(1, sizeof *b);
    double value = -1;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/metrics", port);
    if (!curl || !b)
        goto done;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, b);
    if (curl_easy_perform(curl) != CURLE_OK)
        goto done;
    size_t name_len = strlen(name);
    for (const char *line = b->buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, name, name_len) == 0 && line[name_len] == ' ') {
            value = strtod(line + name_len + 1, NULL);
            break;
        }
    }
done:
    free(b);
    curl_easy_cleanup(curl);
    return value;
}

int bl_outbox_test_wait_serving(unsigned short port, int timeout_s)
{
    for (int waited_ms = 0; waited_ms < timeout_s * 1000; waited_ms += 50) {
        if (bl_outbox_test_metric(port, "busline_relay_leader") >= 0)
            return 0;
        usleep(50 * 1000);
    }
    fprintf(stderr, "  nothing serves /metrics on port %u after %d s\n", port, timeout_s);
    return -1;
}

int bl_outbox_test_reap(pid_t pid, int sig, struct rusage *ru)
{
    if (pid <= 0)
        return -1;
    if (sig)
        kill(pid, sig);
    int status = 0;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) != pid)
        return -1;
    if (ru)
        *ru = usage;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

long bl_outbox_test_count(PGconn *conn, const char *sql)
{
    bl_err err = {0};
    PGresult *res = bl_pg_exec(conn, sql, 0, NULL, &err);
    long n = res && PQntuples(res) > 0 ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    if (!res)
        fprintf(stderr, "  count: %s\n", err.msg);
    PQclear(res);
    return n;
}

int bl_outbox_test_wait_all_sent(PGconn *conn, long expected, int timeout_s)
{
    long total = -1, unsent = -1;
    for (int waited_ms = 0; waited_ms < timeout_s * 1000; waited_ms += 100) {
        total = bl_outbox_test_count(conn, "SELECT count(*) FROM busline_outbox");
        unsent = bl_outbox_test_count(conn,
                                      "SELECT count(*) FROM busline_outbox WHERE sent_at IS NULL");
        if (total == expected && unsent == 0)
            return 0;
        usleep(100 * 1000);
    }
    fprintf(stderr, "  after %d s: %ld rows of %ld expected, %ld unsent\n", timeout_s, total,
            expected, unsent);
    return -1;
}

/* The outbox rows, indexed by the number in their ce_id "e<n>". */
typedef struct row_index {
    long n;          /* slots */
    int *aggregate;  /* -1 for no row */
    long *seq;
    int *seen;
    int n_aggregates;
} row_index;

static int load_rows(PGconn *conn, row_index *ix)
{
    bl_err err = {0};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT substr(ce_id, 2)::bigint, substr(aggregate_id, 2)::int, "
                               "aggregate_seq FROM busline_outbox",
                               0, NULL, &err);
    if (!res) {
        fprintf(stderr, "  rows: %s\n", err.msg);
        return -1;
    }
    memset(ix, 0, sizeof *ix);
    for (int i = 0; i < PQntuples(res); i++) {
        long n = strtol(PQgetvalue(res, i, 0), NULL, 10);
        int a = atoi(PQgetvalue(res, i, 1));
        if (n + 1 > ix->n)
            ix->n = n + 1;
        if (a + 1 > ix->n_aggregates)
            ix->n_aggregates = a + 1;
    }
    ix->aggregate = malloc(sizeof *ix->aggregate * (size_t)(ix->n + 1));
    ix->seq = calloc((size_t)ix->n + 1, sizeof *ix->seq);
    ix->seen = calloc((size_t)ix->n + 1, sizeof *ix->seen);
    if (!ix->aggregate || !ix->seq || !ix->seen) {
        PQclear(res);
        return -1;
    }
    for (long i = 0; i < ix->n; i++)
        ix->aggregate[i] = -1;
    for (int i = 0; i < PQntuples(res); i++) {
        long n = strtol(PQgetvalue(res, i, 0), NULL, 10);
        ix->aggregate[n] = atoi(PQgetvalue(res, i, 1));
        ix->seq[n] = strtol(PQgetvalue(res, i, 2), NULL, 10);
    }
    PQclear(res);
    return 0;
}

static void free_rows(row_index *ix)
{
    free(ix->aggregate);
    free(ix->seq);
    free(ix->seen);
}

/* Sum over partitions of high - low watermark: the messages in the topic. */
static long topic_size(rd_kafka_t *rk, const char *topic, int partitions)
{
    long total = 0;
    for (int p = 0; p < partitions; p++) {
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 30000);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "  watermarks %s/%d: %s\n", topic, p, rd_kafka_err2str(e));
            return -1;
        }
        total += (long)(hi - lo);
    }
    return total;
}

long bl_outbox_test_topic_size(bl_outbox_fixture *f)
{
    return topic_size(bl_kafka_admin_handle(f->admin), f->topic, f->partitions);
}

static void tally(const row_index *ix, long *last_seq, bl_kafka_msg *m, bl_outbox_readback *rb)
{
    const void *value = NULL;
    size_t len = 0;
    char ce_id[32] = "";
    if (bl_kafka_msg_header(m, "ce_id", &value, &len) == 0 && value && len < sizeof ce_id)
        memcpy(ce_id, value, len), ce_id[len] = '\0';
    long n = ce_id[0] == 'e' ? strtol(ce_id + 1, NULL, 10) : -1;
    if (n < 0 || n >= ix->n || ix->aggregate[n] < 0) {
        rb->unknown++;
        return;
    }
    size_t key_len = 0;
    const char *key = bl_kafka_msg_key(m, &key_len);
    char want[32];
    snprintf(want, sizeof want, "a%d", ix->aggregate[n]);
    if (!key || key_len != strlen(want) || memcmp(key, want, key_len) != 0)
        rb->wrong_key++;
    if (ix->seen[n]++) {
        rb->duplicates++;
        return;
    }
    rb->distinct++;
    if (ix->seq[n] != last_seq[ix->aggregate[n]] + 1)
        rb->out_of_order++;
    last_seq[ix->aggregate[n]] = ix->seq[n];
}

static int read_back(bl_outbox_fixture *f, bl_outbox_readback *rb, int committed)
{
    memset(rb, 0, sizeof *rb);
    row_index ix;
    if (load_rows(f->conn, &ix) != 0)
        return -1;
    int rc = -1;
    bl_err err = {0};
    long *last_seq = calloc((size_t)ix.n_aggregates + 1, sizeof *last_seq);
    char group[128];
    bl_test_unique_name(group, sizeof group, "readback");
    bl_kafka_consumer_opts opts = {.brokers = f->brokers, .group_id = group};
    bl_kafka_consumer *c = last_seq ? bl_kafka_consumer_new(&opts, &err) : NULL;
    const char *topics[1] = {f->topic};
    if (!c || bl_kafka_consumer_subscribe(c, topics, 1, &err) != 0) {
        fprintf(stderr, "  read back: %s\n", err.msg);
        goto done;
    }
    /* Transactions leave commit records and aborted messages between the
     * watermarks that a read_committed reader never sees: it reads until
     * every row was seen and nothing more came for a while. */
    long size = committed ? LONG_MAX : topic_size(bl_kafka_consumer_handle(c), f->topic, f->partitions);
    if (size < 0)
        goto done;
    int idle_ms = 0;
    while (rb->messages < size && idle_ms < (committed && rb->distinct >= ix.n ? 5000 : 30000)) {
        bl_kafka_msg *m = NULL;
        int got = bl_kafka_consumer_poll(c, 500, &m, &err);
        if (got <= 0) {
            idle_ms += 500;
            continue;
        }
        idle_ms = 0;
        rb->messages++;
        tally(&ix, last_seq, m, rb);
        bl_kafka_msg_release(m);
    }
    if (!committed && rb->messages < size)
        fprintf(stderr, "  read back: %ld of %ld messages\n", rb->messages, size);
    for (long i = 0; i < ix.n; i++)
        rb->missing += ix.aggregate[i] >= 0 && !ix.seen[i];
    rc = committed || rb->messages == size ? 0 : -1;
done:
    bl_kafka_consumer_free(c);
    free(last_seq);
    free_rows(&ix);
    return rc;
}

int bl_outbox_test_read_back(bl_outbox_fixture *f, bl_outbox_readback *rb)
{
    return read_back(f, rb, 0);
}

int bl_outbox_test_read_back_committed(bl_outbox_fixture *f, bl_outbox_readback *rb)
{
    return read_back(f, rb, 1);
}

int bl_outbox_readback_exact(const bl_outbox_readback *rb, long n)
{
    return rb->messages == n && rb->distinct == n && rb->duplicates == 0 && rb->missing == 0 &&
           rb->unknown == 0 && rb->out_of_order == 0 && rb->wrong_key == 0;
}

void bl_outbox_readback_print(const char *what, const bl_outbox_readback *rb)
{
    fprintf(stderr,
            "  %s: %ld messages, %ld distinct, %ld duplicates, %ld unknown, %ld out of order, "
            "%ld wrong key, %ld missing\n",
            what, rb->messages, rb->distinct, rb->duplicates, rb->unknown, rb->out_of_order,
            rb->wrong_key, rb->missing);
}
