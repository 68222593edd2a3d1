/* Benchmark of webhook delivery on a fresh database and topics (the
 * in-process path of tests/support/webhook_e2e.h: relay and fan-out on
 * threads) with the delivery worker as its own process (`busline webhooks
 * deliver`), delivering signed webhooks to a C sink on core/http_server
 * over keep-alive connections:
 *   1. throughput: N deliveries waiting on the topic, then the worker
 *      starts; deliveries/s from the first to the last arrival;
 *   2. latency: events committed to the outbox at a fixed rate; p50/p99
 *      from each event's commit to its arrival at the sink;
 *   3. wrk POSTing a body of the same size to the same sink (requests/s);
 * then the worker's peak RSS (VmHWM of its process) and the ratio of
 * deliveries/s to wrk's requests/s.
 * With W workers (one group, the deliveries topic has 3 partitions) the
 * burst is shared among them. Over the paced phase the RSS of every worker
 * and of this process (relay, fan-out and sink threads) is sampled each
 * second; the slope of a least-squares line says whether it is flat (a
 * soak: a long phase, e.g. 2000 events/s for 600 s).
 *   bench_webhooks [burst events, default 20000] [rate/s, default 500] [seconds, default 10] [workers, 1]
 * The busline binary is $BUSLINE_BIN, else next to this program. */
#include "connectors/webhook/policy/signature.h"
#include "core/http_server.h"
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ORG "org-bench"
#define WRK_CONNECTIONS 64
#define WRK_SECONDS 5

#define WORKERS_MAX 8

static int burst = 20000, rate = 500, seconds = 10, workers = 1;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the sink: counts burst arrivals, timestamps paced ones ---- */

typedef struct bench_sink {
    bl_http_server *server;
    atomic_long burst_hits, other_hits;
    atomic_long bad_signatures;  /* /hook requests whose signature did not verify */
    bl_webhook_secret secret;    /* the endpoint's, to verify every delivery */
    atomic_llong burst_first_us, burst_last_us;
    int64_t *commit_us;         /* per paced event, written before its commit returns */
    _Atomic int64_t *arrive_us; /* per paced event, first arrival */
    long paced;                 /* how many paced events there are */
} bench_sink;

static bench_sink sink;

/* The paced event number in a body ("reason":"p<n>-0"), or -1. */
static long paced_index(const char *body, size_t len)
{
    static const char key[] = "\"reason\":\"p";
    const char *end = body + len;
    for (const char *p = body; p + sizeof key - 1 < end; p++)
        if (memcmp(p, key, sizeof key - 1) == 0)
            return strtol(p + sizeof key - 1, NULL, 10);
    return -1;
}

static int sink_handle(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    int64_t now = mono_us();
    size_t len = 0;
    const char *body = bl_http_request_body(req, &len);
    const char *path = bl_http_request_path(req);
    bl_err err = {0};
    if (strcmp(path, "/hook") == 0 &&
        (!body || bl_webhook_verify_v1(&sink.secret, bl_http_request_header(req, "webhook-id"),
                                       bl_http_request_header(req, "webhook-timestamp"),
                                       bl_http_request_header(req, "webhook-signature"), body, len,
                                       time(NULL), BL_WEBHOOK_TOLERANCE_DEFAULT_S, &err) != BL_WEBHOOK_VERIFY_OK)) {
        atomic_fetch_add(&sink.bad_signatures, 1);
    } else if (strcmp(path, "/hook") == 0) {
        long i = paced_index(body, len);
        if (i >= 0 && i < sink.paced) {
            int64_t zero = 0;
            atomic_compare_exchange_strong(&sink.arrive_us[i], &zero, now);
        } else if (i < 0) {
            long n = atomic_fetch_add(&sink.burst_hits, 1) + 1;
            if (n == 1)
                atomic_store(&sink.burst_first_us, now);
            if (n == burst)
                atomic_store(&sink.burst_last_us, now);
        }
    } else {
        atomic_fetch_add(&sink.other_hits, 1);
    }
    bl_http_response_status(resp, 200);
    return 0;
}

static int sink_start(void)
{
    bl_err err = {0};
    bl_http_server_config cfg = {.thread_pool_size = 2, .connection_limit = 2048, .drain_timeout_ms = 1000};
    static const char *const methods[] = {"POST", "GET"};
    if (!(sink.server = bl_http_server_new(&cfg, &err)))
        goto fail;
    for (int m = 0; m < 2; m++)
        if (bl_http_server_route(sink.server, methods[m], "/hook", sink_handle, NULL, &err) != 0 ||
            bl_http_server_route(sink.server, methods[m], "/wrk", sink_handle, NULL, &err) != 0)
            goto fail;
    if (bl_http_server_start(sink.server, &err) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "sink: %s\n", err.msg);
    return -1;
}

/* ---- the delivery worker process ---- */

static pid_t start_worker(const char *bin, wh_e2e *e)
{
    char port[8], group[128];
    snprintf(port, sizeof port, "%u", bl_outbox_test_free_port());
    snprintf(group, sizeof group, "%s-bench-deliver", e->prefix);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    setenv("BUSLINE_PG_URL", e->f.pg_url, 1);
    setenv("BUSLINE_KAFKA_BROKERS", bl_test_kafka_brokers(), 1);
    setenv("BUSLINE_ENCRYPTION_KEYS", BL_WEBHOOK_TEST_KEYS, 1);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    setenv("BUSLINE_METRICS_PORT", port, 1);
    setenv("BUSLINE_LOG_LEVEL", "error", 1);
    if (!freopen("/dev/null", "w", stdout))
        _exit(127);
    execl(bin, bin, "webhooks", "deliver", "--deliveries-topic", e->deliveries, "--connector", e->prefix,
          "--retry-tiers", e->tier_spec, "--group", group, (char *)NULL);
    _exit(127);
}

/* field ("VmHWM", "VmRSS") of /proc/<pid>/status in KiB, or -1. */
static long vm_kb(pid_t pid, const char *field)
{
    char path[64], line[256], fmt[32];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    snprintf(fmt, sizeof fmt, "%s: %%ld kB", field);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, fmt, &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* CPU seconds (user + system) the process has used, or -1. */
static double cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static uint64_t fanned_out(wh_e2e *e)
{
    bl_webhook_fanout_stats st;
    bl_webhook_fanout_stats_get(e->fanout, &st);
    return st.deliveries;
}

static int wait_long(atomic_long *v, long want, int timeout_s)
{
    int64_t until = mono_us() + (int64_t)timeout_s * 1000000;
    while (atomic_load(v) < want && mono_us() < until)
        usleep(2000);
    return atomic_load(v) >= want ? 0 : -1;
}

/* ---- RSS over time ---- */

typedef struct rss_series {
    double *t_min;   /* minutes since the phase began */
    long *kb;
    size_t n, cap;
    long max_kb;
} rss_series;

static void rss_add(rss_series *r, double t_min, long kb)
{
    if (kb < 0)
        return;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        double *t = realloc(r->t_min, cap * sizeof *t);
        if (t)
            r->t_min = t;
        long *k = t ? realloc(r->kb, cap * sizeof *k) : NULL;
        if (!k)
            return;
        r->kb = k;
        r->cap = cap;
    }
    r->t_min[r->n] = t_min;
    r->kb[r->n++] = kb;
    if (kb > r->max_kb)
        r->max_kb = kb;
}

/* KiB per minute of the least-squares line through the samples (0 with fewer than 2). */
static double rss_slope(const rss_series *r)
{
    if (r->n < 2)
        return 0;
    double st = 0, sk = 0, stt = 0, stk = 0;
    for (size_t i = 0; i < r->n; i++) {
        st += r->t_min[i];
        sk += (double)r->kb[i];
        stt += r->t_min[i] * r->t_min[i];
        stk += r->t_min[i] * (double)r->kb[i];
    }
    double d = (double)r->n * stt - st * st;
    return d > 0 ? ((double)r->n * stk - st * sk) / d : 0;
}

static rss_series rss_worker[WORKERS_MAX], rss_self;
static pid_t worker_pids[WORKERS_MAX];

static void rss_sample(int64_t start_us)
{
    double t = (mono_us() - start_us) / 60e6;
    for (int w = 0; w < workers; w++)
        rss_add(&rss_worker[w], t, vm_kb(worker_pids[w], "VmRSS"));
    rss_add(&rss_self, t, vm_kb(getpid(), "VmRSS"));
}

/* ---- phases ---- */

static double burst_cpu_share; /* the worker's CPU time over the burst's span */

static double phase_burst(wh_e2e *e, const char *bin)
{
    /* the deliveries wait on the topic before the worker exists */
    if (wh_e2e_append(e, ORG, "s", burst, "b-") != 0)
        return 0;
    for (int i = 0; i < 1200 && fanned_out(e) < (uint64_t)burst; i++)
        usleep(50 * 1000);
    if (fanned_out(e) < (uint64_t)burst) {
        fprintf(stderr, "burst: only %llu deliveries fanned out\n", (unsigned long long)fanned_out(e));
        return 0;
    }
    for (int w = 0; w < workers; w++)
        if ((worker_pids[w] = start_worker(bin, e)) < 0)
            return 0;
    if (wait_long(&sink.burst_hits, burst, 300) != 0) {
        fprintf(stderr, "burst: only %ld of %d delivered\n", atomic_load(&sink.burst_hits), burst);
        return 0;
    }
    double secs = (atomic_load(&sink.burst_last_us) - atomic_load(&sink.burst_first_us)) / 1e6;
    double cpu = 0; /* startup included: an upper bound */
    for (int w = 0; w < workers; w++)
        cpu += cpu_seconds(worker_pids[w]);
    burst_cpu_share = secs > 0 && cpu >= 0 ? cpu / secs : 0;
    return secs > 0 ? (burst - 1) / secs : 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void phase_paced(wh_e2e *e, double *p50_ms, double *p99_ms, double *max_ms, long *arrived)
{
    long total = (long)rate * seconds;
    const int tick_ms = 10;
    int per_tick = rate * tick_ms / 1000 > 0 ? rate * tick_ms / 1000 : 1;
    int64_t start = mono_us(), next_sample = start;
    for (long i = 0; i < total;) {
        if (mono_us() >= next_sample) {
            rss_sample(start);
            next_sample += 1000000;
        }
        int64_t due = start + (i / per_tick) * tick_ms * 1000;
        int64_t wait = due - mono_us();
        if (wait > 0)
            usleep((useconds_t)wait);
        for (int k = 0; k < per_tick && i < total; k++, i++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "p%ld-", i);
            if (wh_e2e_append(e, ORG, "s", 1, prefix) != 0)
                return;
            sink.commit_us[i] = mono_us();
        }
    }
    int64_t until = mono_us() + 30 * 1000000LL;
    long got = 0;
    while (mono_us() < until) {
        got = 0;
        for (long i = 0; i < total; i++)
            got += atomic_load(&sink.arrive_us[i]) != 0;
        if (got == total)
            break;
        usleep(20 * 1000);
    }
    int64_t *lat = malloc((size_t)total * sizeof *lat);
    long n = 0;
    for (long i = 0; lat && i < total; i++) {
        int64_t a = atomic_load(&sink.arrive_us[i]);
        if (a)
            lat[n++] = a > sink.commit_us[i] ? a - sink.commit_us[i] : 0;
    }
    if (n > 0) {
        qsort(lat, (size_t)n, sizeof *lat, cmp_i64);
        *p50_ms = lat[n / 2] / 1000.0;
        *p99_ms = lat[(size_t)(n * 0.99)] / 1000.0;
        *max_ms = lat[n - 1] / 1000.0;
    }
    *arrived = n;
    free(lat);
}

/* wrk POSTing a body like a delivery's to /wrk; its requests/s, 0 on failure. */
static double phase_wrk(void)
{
    char lua[] = "/tmp/busline-bench-wrk-XXXXXX";
    int fd = mkstemp(lua);
    if (fd < 0)
        return 0;
    FILE *f = fdopen(fd, "w");
    fprintf(f, "wrk.method = \"POST\"\n"
               "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
               "wrk.headers[\"webhook-id\"] = \"01J00000000000000000000000\"\n"
               "wrk.headers[\"webhook-timestamp\"] = \"1764057600\"\n"
               "wrk.headers[\"webhook-signature\"] = \"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=\"\n"
               "wrk.body = '{\"event\":\"webhook.disabled\",\"timestamp\":\"2026-11-25T08:16:00.123Z\","
               "\"organization_id\":\"org-bench\",\"data\":{\"consecutive_failures\":3,\"endpoint_id\":\"s\","
               "\"name\":\"n\",\"reason\":\"w-0\",\"url\":\"http://x\"}}'\n");
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "wrk -t2 -c%d -d%ds -s %s http://127.0.0.1:%u/wrk 2>&1", WRK_CONNECTIONS,
             WRK_SECONDS, lua, bl_http_server_port(sink.server));
    FILE *p = popen(cmd, "r");
    double rps = 0;
    char line[512];
    while (p && fgets(line, sizeof line, p))
        sscanf(line, "Requests/sec: %lf", &rps);
    if (p)
        pclose(p);
    unlink(lua);
    return rps;
}

static void stop_worker(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 150; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(100 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* What the run must have been for its figures to count (filled by main). */
static struct {
    double deliveries_per_s, wrk;
    long arrived, paced, bad_signatures;
} verdict;

static void every_delivery_arrived_signed_and_every_phase_measured(void)
{
    CHECK(verdict.deliveries_per_s > 0);
    CHECK(verdict.wrk > 0);
    CHECK_EQ_INT(verdict.arrived, verdict.paced);
    CHECK_EQ_INT(verdict.bad_signatures, 0);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        burst = atoi(argv[1]);
    if (argc > 2)
        rate = atoi(argv[2]);
    if (argc > 3)
        seconds = atoi(argv[3]);
    if (argc > 4)
        workers = atoi(argv[4]);
    if (burst < 2 || rate < 1 || seconds < 1 || workers < 1 || workers > WORKERS_MAX) {
        fprintf(stderr, "usage: bench_webhooks [burst events >= 2] [rate/s] [seconds] [workers 1..%d]\n",
                WORKERS_MAX);
        return 2;
    }
    char bin[4096];
    if (getenv("BUSLINE_BIN"))
        snprintf(bin, sizeof bin, "%s", getenv("BUSLINE_BIN"));
    else {
        char self[4096];
        snprintf(self, sizeof self, "%s", argv[0]);
        snprintf(bin, sizeof bin, "%s/busline", dirname(self));
    }
    sink.paced = (long)rate * seconds;
    sink.commit_us = calloc((size_t)sink.paced, sizeof *sink.commit_us);
    sink.arrive_us = calloc((size_t)sink.paced, sizeof *sink.arrive_us);
    wh_e2e e = {0};
    int code = 1;
    if (!sink.commit_us || !sink.arrive_us || sink_start() != 0 || wh_e2e_open(&e) != 0)
        goto done;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/hook", bl_http_server_port(sink.server));
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_err err = {0};
    char *id = wh_e2e_endpoint(&e, ORG, url, "webhook.*", NULL, NULL, secret);
    int ready = id && bl_webhook_secret_parse(secret, &sink.secret, &err) == 0 && wh_e2e_wait_cache(&e, 1) == 0 &&
                wh_e2e_start(&e, 0) == 0;
    free(id);
    if (!ready)
        goto done;

    double dps = phase_burst(&e, bin);
    double p50 = 0, p99 = 0, max_ms = 0;
    long arrived = 0;
    if (dps > 0)
        phase_paced(&e, &p50, &p99, &max_ms, &arrived);
    double wrk = phase_wrk();
    long hwm = -1;
    double slope = 0;
    long rss_max = -1;
    for (int w = 0; w < workers; w++) {
        long h = worker_pids[w] > 0 ? vm_kb(worker_pids[w], "VmHWM") : -1;
        hwm = h > hwm ? h : hwm;
        double sl = rss_slope(&rss_worker[w]);
        slope = w == 0 || sl > slope ? sl : slope;
        rss_max = rss_worker[w].max_kb > rss_max ? rss_worker[w].max_kb : rss_max;
    }

    printf("\nwebhook delivery benchmark (%d deliver process(es), one group, sink on core/http_server, loopback)\n",
           workers);
    printf("%-44s %12s\n", "measure", "value");
    printf("%-44s %12.0f\n", "signed deliveries/s (burst of waiting)", dps);
    printf("%-44s %12d\n", "  burst size (deliveries)", burst);
    printf("%-44s %11.0f%%\n", "  deliver worker CPU over the burst (<=)", burst_cpu_share * 100);
    printf("%-44s %12.1f\n", "latency p50, outbox commit -> sink (ms)", p50);
    printf("%-44s %12.1f\n", "latency p99, outbox commit -> sink (ms)", p99);
    printf("%-44s %12.1f\n", "latency max, outbox commit -> sink (ms)", max_ms);
    printf("%-44s %7ld/%-4ld\n", "  paced events arrived (rate x seconds)", arrived, sink.paced);
    printf("%-44s %12d\n", "  paced rate (events/s)", rate);
    printf("%-44s %12.0f\n", "wrk POST to the same sink (requests/s)", wrk);
    printf("%-44s %12ld\n", "deliver worker peak RSS, VmHWM (KiB)", hwm);
    printf("%-44s %12ld\n", "deliver worker RSS max over paced (KiB)", rss_max);
    printf("%-44s %12.1f\n", "deliver worker RSS slope, paced (KiB/min)", slope);
    printf("%-44s %12ld\n", "bench process RSS max (relay+fanout, KiB)", rss_self.max_kb);
    printf("%-44s %12.1f\n", "bench process RSS slope (KiB/min)", rss_slope(&rss_self));
    printf("%-44s %12zu\n", "  RSS samples (1/s)", rss_self.n);
    printf("%-44s %12.3f\n", "ratio deliveries/s / wrk requests/s", wrk > 0 ? dps / wrk : 0);
    printf("ratio webhook_deliveries%s %.3f\n", workers > 1 ? "_workers" : "", wrk > 0 ? dps / wrk : 0);
    printf("figure webhook_deliveries_per_s workers=%d %.0f\n", workers, dps);
    printf("figure webhook_latency rate=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n", rate, p50, p99, max_ms);
    printf("figure webhook_rss seconds=%d worker_max_kib=%ld worker_slope_kib_per_min=%.1f self_max_kib=%ld "
           "self_slope_kib_per_min=%.1f\n",
           seconds, rss_max, slope, rss_self.max_kb, rss_slope(&rss_self));
    long bad = atomic_load(&sink.bad_signatures);
    if (bad > 0)
        fprintf(stderr, "bench: %ld deliveries did not verify: the figures do not measure signed delivery\n", bad);
    verdict.deliveries_per_s = dps;
    verdict.wrk = wrk;
    verdict.arrived = arrived;
    verdict.paced = sink.paced;
    verdict.bad_signatures = bad;
    BL_RUN(every_delivery_arrived_signed_and_every_phase_measured);
    code = bl_test_summary();
done:
    for (int w = 0; w < workers; w++)
        stop_worker(worker_pids[w]);
    wh_e2e_close(&e);
    if (sink.server) {
        bl_http_server_stop(sink.server);
        bl_http_server_free(sink.server);
    }
    free(sink.commit_us);
    free((void *)sink.arrive_us);
    for (int w = 0; w < WORKERS_MAX; w++) {
        free(rss_worker[w].t_min);
        free(rss_worker[w].kb);
    }
    free(rss_self.t_min);
    free(rss_self.kb);
    return code;
}
