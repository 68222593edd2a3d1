/* A Kubernetes rolling update, done by hand on real processes: three
 * `busline pmo` consumers in one group on a fresh 3-partition commands topic
 * and two `busline relay`s, while a producer sends commands at a steady
 * pace. Every process is replaced one by one (SIGTERM, exit 0 within the
 * manifest's grace period, a new one started, /readyz awaited, the next).
 * Afterwards every command is applied exactly once, every event it made is
 * on its topic exactly once (by ce_id) and the outbox is drained. The drain
 * times (SIGTERM -> exit) are printed and checked against the
 * terminationGracePeriodSeconds of the rendered manifests. */
#include "core/kafka_admin.h"
#include "core/kafka_consumer.h"
#include "core/kafka_producer.h"
#include "core/log.h"
#include "core/pg_pool.h"
#include "producers/commands/command_envelope.h"
#include "producers/pmo/domain.h"
#include "producers/domain_service/send.h"
#include "producers/domain_service/service.h"
#include "tests/support/outbox_test.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define COMMANDS 6000
#define PER_TICK 30   /* commands per 100 ms: 300/s, 20 s of traffic */
#define PARTITIONS 3
#define CONSUMERS 3
#define RELAYS 2
#define TIMEOUT_MS 30000
#define READY_TIMEOUT_S 60

static bl_test_registry reg;
static char prefix[64], commands_topic[128], dlq_topic[160], events_topic[160], group[96];
static char log_path[256];
static bl_kafka_admin *admin;
static PGconn *db;

/* One child process of the test and where it serves /readyz. */
typedef struct child {
    pid_t pid;
    unsigned short port;
} child;

/* The longest drain seen per role, in seconds. */
static double pmo_drain_max, relay_drain_max;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

/* The HTTP status of GET http://127.0.0.1:port/path, 0 when unreachable. */
static long http_status(unsigned short port, const char *path)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    CURL *c = curl_easy_init();
    long status = 0;
    if (!c)
        return 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

/* Waits until /path on port answers want; returns 0, or -1 when the child
 * died or timeout_s passed. */
static int wait_status(const child *ch, const char *path, long want, int timeout_s)
{
    for (int i = 0; i < timeout_s * 10; i++) {
        if (http_status(ch->port, path) == want)
            return 0;
        if (waitpid(ch->pid, NULL, WNOHANG) == ch->pid) {
            fprintf(stderr, "  pid %d exited before %s answered %ld\n", (int)ch->pid, path, want);
            return -1;
        }
        usleep(100 * 1000);
    }
    fprintf(stderr, "  pid %d: %s did not answer %ld in %d s\n", (int)ch->pid, path, want, timeout_s);
    return -1;
}

/* Starts `busline pmo` in the test's group on topic, logging to log_path. */
static child spawn_pmo(const char *topic)
{
    child ch = {.pid = -1, .port = bl_outbox_test_free_port()};
    char port[8];
    snprintf(port, sizeof port, "%u", ch.port);
    const char *bin = getenv("BUSLINE_BIN");
    fflush(stderr);
    ch.pid = fork();
    if (ch.pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setenv("BUSLINE_LOG_LEVEL", "warn", 1);
        execl(bin, "busline", "pmo", "--registry-url", reg.base_url, "--pg-url", reg.pg_url,
              "--kafka-brokers", bl_test_kafka_brokers(), "--commands-topic", topic,
              "--events-topic-prefix", prefix, "--group", group, "--metrics-port", port, (char *)NULL);
        _exit(127);
    }
    return ch;
}

static child spawn_relay(void)
{
    child ch = {.pid = -1, .port = bl_outbox_test_free_port()};
    char port[8];
    snprintf(port, sizeof port, "%u", ch.port);
    /* rows kept after publishing: the topic is checked against them */
    const char *extra[] = {"--metrics-port", port, "--log-level", "warn", "--retention", "1h", NULL};
    ch.pid = bl_outbox_test_spawn_relay(reg.pg_url, bl_test_kafka_brokers(), extra, log_path);
    return ch;
}

/* SIGTERM, then what a kubelet does: wait up to grace_s for the exit, then
 * SIGKILL. Returns the exit code (128+signal when killed) and the time from
 * SIGTERM to exit in *drain_s. */
static int terminate(child *ch, int grace_s, double *drain_s)
{
    double t0 = now_s();
    kill(ch->pid, SIGTERM);
    int status = 0;
    pid_t got = 0;
    while ((got = waitpid(ch->pid, &status, WNOHANG)) == 0 && now_s() - t0 < grace_s)
        usleep(10 * 1000);
    *drain_s = now_s() - t0;
    if (got == 0) {
        fprintf(stderr, "  pid %d still running after %d s of grace: SIGKILL\n", (int)ch->pid, grace_s);
        kill(ch->pid, SIGKILL);
        waitpid(ch->pid, &status, 0);
    }
    ch->pid = -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

/* terminationGracePeriodSeconds of Deployment `name` in the rendered
 * overlay, or -1. */
static int rendered_grace(const char *overlay, const char *name)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "kubectl kustomize '%s/k8s/overlays/%s' 2>/dev/null", BUSLINE_SOURCE_DIR, overlay);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[1024], want[160];
    snprintf(want, sizeof want, "  name: %s\n", name);
    int deployment = 0, named = 0, grace = -1, found = -1;
    while (fgets(line, sizeof line, p)) {
        if (strcmp(line, "---\n") == 0) {
            if (deployment && named && grace >= 0)
                found = grace;
            deployment = named = 0;
            grace = -1;
        }
        deployment |= strcmp(line, "kind: Deployment\n") == 0;
        named |= strcmp(line, want) == 0;
        const char *g = strstr(line, "terminationGracePeriodSeconds: ");
        if (g)
            grace = atoi(g + strlen("terminationGracePeriodSeconds: "));
    }
    if (deployment && named && grace >= 0)
        found = grace;
    int status = pclose(p);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? found : -1;
}

/* The smaller grace period of a role over both overlays, or -1. */
static int grace_of(const char *deployment)
{
    int dev = rendered_grace("dev", deployment), prod = rendered_grace("prod", deployment);
    if (dev < 0 || prod < 0) {
        fprintf(stderr, "  no terminationGracePeriodSeconds for %s (is kubectl installed?)\n", deployment);
        return -1;
    }
    return dev < prod ? dev : prod;
}

static long count_of(const char *sql)
{
    return bl_outbox_test_count(db, sql);
}

/* --- the producer: COMMANDS project.create commands at a steady pace ---- */

typedef struct traffic {
    pthread_t thread;
    bl_domain_codec *codec;
    bl_kafka_producer *producer;
    char orgs[4][64];
    long sent;
    int failed;
    bl_err err;
} traffic;

static int send_one(traffic *t, long i)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"type\":\"project.create\",\"organization_id\":\"%s\",\"data\":{\"project_id\":\"P%ld\","
             "\"name\":\"Project %ld\",\"owner_id\":\"u1\",\"budget_cents\":100,\"currency\":\"EUR\"}}",
             t->orgs[i % 4], i, i);
    json_t *input = json_loads(text, 0, NULL);
    bl_domain_sender sender = {.source = "test-rolling", .actor = "tester"};
    bl_domain_prepared cmd;
    if (!input || bl_domain_command_prepare(t->codec, input, &sender, &cmd, &t->err) != 0) {
        json_decref(input);
        return -1;
    }
    json_decref(input);
    bl_command_meta meta = {.type = "project.create", .subject = cmd.subject, .source = sender.source};
    bl_kafka_header headers[BL_COMMAND_HEADER_COUNT];
    char time_text[32];
    size_t n = bl_command_headers(&meta, cmd.id, cmd.time_ms, time_text, headers);
    int rc = bl_kafka_producer_send(t->producer, commands_topic, cmd.subject, strlen(cmd.subject),
                                    cmd.wire.bytes, cmd.wire.len, headers, n, NULL, TIMEOUT_MS, &t->err);
    bl_domain_prepared_clear(&cmd);
    return rc;
}

static void *traffic_run(void *arg)
{
    traffic *t = arg;
    double start = now_s();
    for (long i = 0; i < COMMANDS; i++) {
        if (send_one(t, i) != 0) {
            t->failed = 1;
            return NULL;
        }
        __atomic_store_n(&t->sent, i + 1, __ATOMIC_RELAXED);
        if ((i + 1) % PER_TICK == 0) {
            bl_kafka_producer_poll(t->producer, 0);
            double due = start + (double)(i + 1) / PER_TICK * 0.1, wait = due - now_s();
            if (wait > 0)
                nanosleep(&(struct timespec){0, (long)(wait * 1e9)}, NULL);
        }
    }
    if (bl_kafka_producer_flush(t->producer, TIMEOUT_MS, &t->err) != 0)
        t->failed = 1;
    return NULL;
}

/* --- reading the events back ------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct ids {
    char **v;
    long n, cap;
} ids;

static int ids_add(ids *s, const char *p, size_t len)
{
    if (s->n == s->cap) {
        long cap = s->cap ? s->cap * 2 : 1024;
        char **v = realloc(s->v, sizeof *v * (size_t)cap);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strndup(p, len)))
        return -1;
    s->n++;
    return 0;
}

static void ids_free(ids *s)
{
    for (long i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

/* Reads every message of events_topic up to the high watermarks, collecting
 * their ce_id headers. Returns 0, or -1 after printing why. */
static int read_event_ids(ids *out)
{
    bl_err err = {0};
    char g[96];
    bl_test_unique_name(g, sizeof g, "rolling_readback");
    bl_kafka_consumer_opts opts = {.brokers = bl_test_kafka_brokers(), .group_id = g};
    bl_kafka_consumer *c = bl_kafka_consumer_new(&opts, &err);
    const char *topics[] = {events_topic};
    long size = 0;
    int rc = -1;
    if (!c || bl_kafka_consumer_subscribe(c, topics, 1, &err) != 0) {
        fprintf(stderr, "  read back: %s\n", err.msg);
        goto done;
    }
    for (int p = 0; p < PARTITIONS; p++) {
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(bl_kafka_consumer_handle(c), events_topic, p, &lo, &hi,
                                             TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
            goto done;
        size += (long)(hi - lo);
    }
    for (int idle_ms = 0; out->n < size && idle_ms < TIMEOUT_MS;) {
        bl_kafka_msg *m = NULL;
        if (bl_kafka_consumer_poll(c, 500, &m, &err) <= 0) {
            idle_ms += 500;
            continue;
        }
        idle_ms = 0;
        const void *v = NULL;
        size_t len = 0;
        int added = bl_kafka_msg_header(m, "ce_id", &v, &len) == 0 && v ? ids_add(out, v, len) : ids_add(out, "", 0);
        bl_kafka_msg_release(m);
        if (added != 0)
            goto done;
    }
    rc = out->n == size ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "  read back %ld of %ld events\n", out->n, size);
done:
    bl_kafka_consumer_free(c);
    return rc;
}

/* Counts messages whose ce_id repeats one before it, and outbox ce_ids never
 * seen on the topic. Returns 0, or -1 on a query failure. */
static int compare_with_outbox(ids *seen, long *duplicates, long *missing)
{
    bl_err err = {0};
    PGresult *res = bl_pg_exec(db, "SELECT ce_id FROM busline_outbox", 0, NULL, &err);
    if (!res) {
        fprintf(stderr, "  outbox: %s\n", err.msg);
        return -1;
    }
    qsort(seen->v, (size_t)seen->n, sizeof *seen->v, cmp_str);
    *duplicates = 0;
    for (long i = 1; i < seen->n; i++)
        *duplicates += strcmp(seen->v[i - 1], seen->v[i]) == 0;
    *missing = 0;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *id = PQgetvalue(res, r, 0);
        *missing += bsearch(&id, seen->v, (size_t)seen->n, sizeof *seen->v, cmp_str) == NULL;
    }
    PQclear(res);
    return 0;
}

/* --- the tests ------------------------------------------------------------ */

static void pmo_is_not_ready_until_it_holds_a_partition(void)
{
    /* In process: before the first poll the group has given nothing. */
    char g[96];
    bl_test_unique_name(g, sizeof g, "rolling_ready");
    bl_err err = {0};
    bl_domain_service_opts o = {.rules = &bl_pmo_rules, .brokers = bl_test_kafka_brokers(), .pg_url = reg.pg_url, .group_id = g,
                             .commands_topic = commands_topic, .events_topic_prefix = prefix,
                             .registry_url = reg.base_url};
    bl_domain_service *svc = bl_domain_service_new(&o, &err);
    REQUIRE(svc != NULL);
    char reason[64] = "";
    CHECK_EQ_INT(bl_domain_service_ready(svc, reason, sizeof reason), 0);
    CHECK(strstr(reason, "no partitions") != NULL);
    for (int i = 0; i < 60 && bl_domain_service_assigned(svc) == 0; i++)
        CHECK(bl_domain_service_step(svc, 500, &err) >= 0);
    CHECK_EQ_INT(bl_domain_service_assigned(svc), PARTITIONS);
    CHECK_EQ_INT(bl_domain_service_ready(svc, reason, sizeof reason), 1);
    bl_domain_service_free(svc);

    /* As a process: on a topic that does not exist it never gets a
     * partition, so /readyz says 503 while /healthz says 200. */
    char missing[160];
    snprintf(missing, sizeof missing, "%snot-there", prefix);
    child ch = spawn_pmo(missing);
    REQUIRE(ch.pid > 0);
    CHECK(wait_status(&ch, "/healthz", 200, READY_TIMEOUT_S) == 0);
    CHECK_EQ_INT(http_status(ch.port, "/readyz"), 503);
    double drain = 0;
    CHECK_EQ_INT(terminate(&ch, 30, &drain), 0);
}

static void every_process_replaced_during_a_run_loses_nothing(void)
{
    REQUIRE(getenv("BUSLINE_BIN") != NULL);
    int pmo_grace = grace_of("busline-pmo"), relay_grace = grace_of("busline-relay");
    REQUIRE(pmo_grace > 0 && relay_grace > 0);

    child pmo[CONSUMERS], relay[RELAYS];
    for (int i = 0; i < RELAYS; i++)
        relay[i] = spawn_relay();
    for (int i = 0; i < CONSUMERS; i++)
        pmo[i] = spawn_pmo(commands_topic);
    for (int i = 0; i < RELAYS; i++)
        REQUIRE(relay[i].pid > 0 && wait_status(&relay[i], "/readyz", 200, READY_TIMEOUT_S) == 0);
    /* Three members, three partitions: each ends up with one. */
    for (int i = 0; i < CONSUMERS; i++)
        REQUIRE(pmo[i].pid > 0 && wait_status(&pmo[i], "/readyz", 200, READY_TIMEOUT_S) == 0);

    traffic t = {0};
    bl_err err = {0};
    bl_domain_codec_opts copts = {.domain = BL_PMO_DOMAIN, .registry_url = reg.base_url, .commands_topic = commands_topic,
                               .events_prefix = prefix};
    for (int i = 0; i < 4; i++)
        bl_test_unique_name(t.orgs[i], sizeof t.orgs[i], "org");
    t.codec = bl_domain_codec_new(&copts, &err);
    t.producer = t.codec ? bl_kafka_producer_new(bl_test_kafka_brokers(), NULL, NULL, NULL, &err) : NULL;
    if (!t.producer)
        fprintf(stderr, "  producer: %s\n", err.msg);
    REQUIRE(t.producer != NULL && pthread_create(&t.thread, NULL, traffic_run, &t) == 0);

    /* Replace each consumer while commands keep coming: wait for progress,
     * stop one, start its successor, wait until it holds a partition. */
    for (int i = 0; i < CONSUMERS; i++) {
        long before = count_of("SELECT count(*) FROM pmo_processed_commands");
        for (int w = 0; w < 300 && count_of("SELECT count(*) FROM pmo_processed_commands") < before + 200; w++)
            usleep(100 * 1000);
        double drain = 0;
        int code = terminate(&pmo[i], pmo_grace, &drain);
        fprintf(stderr, "  pmo %d drained in %.2f s (exit %d), %ld of %d commands applied\n", i, drain, code,
                count_of("SELECT count(*) FROM pmo_processed_commands"), COMMANDS);
        CHECK_EQ_INT(code, 0);
        pmo_drain_max = drain > pmo_drain_max ? drain : pmo_drain_max;
        pmo[i] = spawn_pmo(commands_topic);
        CHECK(pmo[i].pid > 0 && wait_status(&pmo[i], "/readyz", 200, READY_TIMEOUT_S) == 0);
    }
    /* Then the relays: the standby takes the lease when the leader leaves. */
    for (int i = 0; i < RELAYS; i++) {
        double drain = 0;
        int code = terminate(&relay[i], relay_grace, &drain);
        fprintf(stderr, "  relay %d drained in %.2f s (exit %d), %ld events in the outbox\n", i, drain, code,
                count_of("SELECT count(*) FROM busline_outbox"));
        CHECK_EQ_INT(code, 0);
        relay_drain_max = drain > relay_drain_max ? drain : relay_drain_max;
        relay[i] = spawn_relay();
        CHECK(relay[i].pid > 0 && wait_status(&relay[i], "/readyz", 200, READY_TIMEOUT_S) == 0);
    }

    pthread_join(t.thread, NULL);
    if (t.failed)
        fprintf(stderr, "  producer: %s (sent %ld)\n", t.err.msg, t.sent);
    CHECK(!t.failed);
    CHECK_EQ_INT(bl_kafka_producer_free(t.producer, TIMEOUT_MS), 0);
    bl_domain_codec_free(t.codec);

    for (int w = 0; w < 600 && count_of("SELECT count(*) FROM pmo_processed_commands") < COMMANDS; w++)
        usleep(100 * 1000);
    /* Each command applied once: one processed row and one project each. */
    CHECK_EQ_INT(count_of("SELECT count(*) FROM pmo_processed_commands"), COMMANDS);
    CHECK_EQ_INT(count_of("SELECT count(*) FROM pmo_projects"), COMMANDS);
    CHECK_EQ_INT(count_of("SELECT coalesce(sum(events), 0) FROM pmo_processed_commands"), COMMANDS);
    /* ... and every event it made sent, exactly once. */
    CHECK(bl_outbox_test_wait_all_sent(db, COMMANDS, 60) == 0);
    ids seen = {0};
    long duplicates = -1, missing = -1;
    CHECK(read_event_ids(&seen) == 0);
    CHECK(compare_with_outbox(&seen, &duplicates, &missing) == 0);
    fprintf(stderr, "  %ld events on %s: %ld duplicates, %ld outbox rows missing\n", seen.n, events_topic,
            duplicates, missing);
    CHECK_EQ_INT(seen.n, COMMANDS);
    CHECK_EQ_INT(duplicates, 0);
    CHECK_EQ_INT(missing, 0);
    ids_free(&seen);

    for (int i = 0; i < CONSUMERS; i++)
        terminate(&pmo[i], pmo_grace, &(double){0});
    for (int i = 0; i < RELAYS; i++)
        terminate(&relay[i], relay_grace, &(double){0});

    /* The kubelet waits terminationGracePeriodSeconds before SIGKILL: keep
     * it well above what a drain under load takes. */
    fprintf(stderr, "  drain under load: pmo %.2f s (grace %d s), relay %.2f s (grace %d s)\n", pmo_drain_max,
            pmo_grace, relay_drain_max, relay_grace);
    CHECK(pmo_drain_max * 4 + 5 < pmo_grace);
    CHECK(relay_drain_max * 4 + 5 < relay_grace);
}

static int setup(void)
{
    bl_err err = {0};
    if (bl_test_registry_start(&reg) != 0)
        return -1;
    bl_test_unique_name(prefix, sizeof prefix, "t_rolling");
    strcat(prefix, ".");
    snprintf(commands_topic, sizeof commands_topic, "%scommands.pmo", prefix);
    snprintf(dlq_topic, sizeof dlq_topic, "%s.dlq", commands_topic);
    snprintf(events_topic, sizeof events_topic, "%sevents.pmo.project", prefix);
    bl_test_unique_name(group, sizeof group, "rolling_pmo");
    snprintf(log_path, sizeof log_path, "rolling_replacement.log");
    unlink(log_path);
    bl_kafka_topic_spec specs[] = {
        {.name = commands_topic, .partitions = PARTITIONS, .replication_factor = -1},
        {.name = dlq_topic, .partitions = 1, .replication_factor = -1},
        {.name = events_topic, .partitions = PARTITIONS, .replication_factor = -1},
    };
    const char *names[] = {commands_topic, dlq_topic, events_topic};
    if (!(admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err)) ||
        bl_kafka_admin_create_topics(admin, specs, 3, TIMEOUT_MS, &err) != 0 ||
        bl_kafka_admin_wait_visible(admin, names, 3, TIMEOUT_MS, &err) != 0 ||
        !(db = bl_pg_connect(reg.pg_url, &err))) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void teardown(void)
{
    bl_err err = {0};
    if (admin) {
        const char *names[] = {commands_topic, dlq_topic, events_topic};
        bl_kafka_admin_delete_topics(admin, names, 3, TIMEOUT_MS, &err);
    }
    bl_kafka_admin_free(admin);
    PQfinish(db);
    bl_test_registry_stop(&reg);
}

int main(void)
{
    bl_log_init("test_rolling_replacement", BL_LOG_WARN);
    int rc = 1;
    if (setup() == 0) {
        BL_RUN(pmo_is_not_ready_until_it_holds_a_partition);
        BL_RUN(every_process_replaced_during_a_run_loses_nothing);
        rc = bl_test_summary();
    }
    teardown();
    return rc;
}
