/* The whole path, end to end: POST /v1/risks -> commands.pmo -> the PMO
 * domain service -> outbox -> relay -> fan-out -> signed delivery received
 * by a local sink, every role its own process on a broker and a database of
 * the run's own (tests/chaos/chaos_cluster.h, no faults). Open loop at each
 * rate: request i is due at start + i / rate, and its latency runs from
 * that moment (a request sent late because the API lagged counts its wait)
 * to the first arrival of its webhook. Every delivery's signature is
 * checked, and every accepted command must arrive.
 *   bench_e2e [seconds per rate] [rates...]     (default 5 s; 500 1000 2000)
 * Prints per rate: sent, accepted, received, p50/p99/max, and the knee: the
 * first rate whose p99 passes 25 ms. The reference, measured in the same
 * run on the same broker at each rate, is one Kafka hop: librdkafka
 * producing a line at each due time and kcat consuming it (the path has three such hops
 * plus two HTTP requests and the database); `ratio e2e_p50|p99_<rate>` is
 * the hop's latency over the path's (1 would be the floor). */
#include "../chaos/chaos_cluster.h"
#include "../chaos/chaos_provision.h"

#include "core/clock.h"
#include "core/kafka_admin.h"
#include "tests/support/test.h"
#include "tests/support/api_fixture.h"
#include "tests/support/webhook_sink.h"

#include <curl/curl.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SENDERS 64
#define RATES_MAX 8
#define KNEE_P99_MS 25.0
#define DRAIN_MS 120000

typedef struct phase {
    int index, rate;
    long n;
    int64_t start_ms;       /* wall clock */
    atomic_long accepted, failed;
    char *ok;               /* per request: accepted */
    int64_t *arrived_ms;    /* per request: first arrival (0: none) */
} phase;

static chaos_cluster cluster;
static chaos_tenant tenant;
static webhook_sink sink;

typedef struct sender {
    phase *p;
    int first;
} sender;

static void *send_loop(void *arg)
{
    sender *s = arg;
    phase *p = s->p;
    for (long i = s->first; i < p->n; i += SENDERS) {
        int64_t due = p->start_ms + i * 1000 / p->rate, now = bl_clock_wall_ms();
        if (due > now)
            usleep((useconds_t)(due - now) * 1000);
        char body[320];
        snprintf(body, sizeof body,
                 "{\"risk_id\":\"R-e2e-%d-%ld\",\"project_id\":\"P-chaos\",\"title\":\"e2e\",\"description\":"
                 "\"end to end\",\"severity\":\"HIGH\",\"probability\":50,\"impact\":50}",
                 p->index, i);
        bl_test_reply r;
        long status = bl_test_http_call(cluster.api_port, "POST", "/v1/risks", tenant.token, NULL, body, &r);
        bl_test_reply_clear(&r);
        if (status >= 200 && status < 300) {
            p->ok[i] = 1;
            atomic_fetch_add(&p->accepted, 1);
        } else {
            atomic_fetch_add(&p->failed, 1);
        }
    }
    return NULL;
}

/* Reads every hit so far into the phases' first arrivals; counts bad
 * signatures. Returns how many of phase p's accepted requests arrived. */
static long settle(phase *phases, int n_phases, int p, long *bad_signatures)
{
    size_t cap = webhook_sink_count(&sink) + 16;
    sink_hit *hits = malloc(cap * sizeof *hits);
    if (!hits)
        return -1;
    size_t got = webhook_sink_hits_to(&sink, "/e2e", hits, cap);
    *bad_signatures = 0;
    for (size_t h = 0; h < got; h++) {
        bl_err err = {0};
        if (bl_webhook_verify_v1(&tenant.secret, hits[h].id, hits[h].timestamp, hits[h].signature, hits[h].body,
                                 hits[h].body_len, 0, -1, &err) != BL_WEBHOOK_VERIFY_OK) {
            (*bad_signatures)++;
            continue;
        }
        const char *at = strstr(hits[h].body, "\"R-e2e-");
        int pi;
        long i;
        if (!at || sscanf(at, "\"R-e2e-%d-%ld\"", &pi, &i) != 2 || pi < 0 || pi >= n_phases || i < 0 ||
            i >= phases[pi].n)
            continue;
        if (!phases[pi].arrived_ms[i] || hits[h].at_ms < phases[pi].arrived_ms[i])
            phases[pi].arrived_ms[i] = hits[h].at_ms;
    }
    free(hits);
    long arrived = 0;
    for (long i = 0; i < phases[p].n; i++)
        arrived += phases[p].ok[i] && phases[p].arrived_ms[i];
    return arrived;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double q)
{
    return n ? v[(size_t)((double)(n - 1) * q)] : 0;
}

/* Runs phase p to the end and prints its line. Returns its p99 (ms) and
 * sets *p50_out, or -1 when a request was lost or a signature was bad. */
static double run_phase(phase *phases, int n_phases, int p, int seconds, double *p50_out)
{
    phase *ph = &phases[p];
    ph->n = (long)ph->rate * seconds;
    ph->ok = calloc((size_t)ph->n, 1);
    ph->arrived_ms = calloc((size_t)ph->n, sizeof *ph->arrived_ms);
    if (!ph->ok || !ph->arrived_ms)
        return -1;
    ph->start_ms = bl_clock_wall_ms() + 200;
    pthread_t t[SENDERS];
    sender s[SENDERS];
    for (int k = 0; k < SENDERS; k++) {
        s[k] = (sender){ph, k};
        if (pthread_create(&t[k], NULL, send_loop, &s[k]) != 0)
            return -1;
    }
    for (int k = 0; k < SENDERS; k++)
        pthread_join(t[k], NULL);
    double send_s = (bl_clock_wall_ms() - ph->start_ms) / 1000.0;
    long bad = 0, arrived = 0, accepted = atomic_load(&ph->accepted);
    for (int64_t until = bl_clock_mono_ms() + DRAIN_MS; bl_clock_mono_ms() < until;) {
        arrived = settle(phases, n_phases, p, &bad);
        if (arrived >= accepted)
            break;
        usleep(200 * 1000);
    }
    double *lat = malloc((size_t)(arrived > 0 ? arrived : 1) * sizeof *lat);
    size_t n = 0;
    for (long i = 0; lat && i < ph->n; i++)
        if (ph->ok[i] && ph->arrived_ms[i])
            lat[n++] = (double)(ph->arrived_ms[i] - (ph->start_ms + i * 1000 / ph->rate));
    qsort(lat, n, sizeof *lat, cmp_double);
    double p50 = pct(lat, n, 0.5), p99 = pct(lat, n, 0.99), max = pct(lat, n, 1.0);
    printf("e2e %5d/s: sent %ld in %.1f s, accepted %ld, failed %ld, received %ld  p50 %7.1f ms  p99 %7.1f ms"
           "  max %7.1f ms\n",
           ph->rate, ph->n, send_s, accepted, atomic_load(&ph->failed), arrived, p50, p99, max);
    printf("figure e2e_latency rate=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f received=%ld accepted=%ld\n", ph->rate,
           p50, p99, max, arrived, accepted);
    free(lat);
    *p50_out = p50;
    if (bad > 0)
        fprintf(stderr, "bench: %ld deliveries did not verify\n", bad);
    if (arrived < accepted || bad > 0 || accepted == 0) {
        fprintf(stderr, "bench: at %d/s %ld of %ld accepted commands arrived: the figures do not count\n",
                ph->rate, arrived, accepted);
        return -1;
    }
    return p99;
}

/* ---- the reference: one Kafka hop, librdkafka to kcat ---- */

typedef struct hop_reader {
    FILE *in;
    long n;
    int64_t *arrived_ms; /* per line number; [n] is the warm-up line */
    atomic_long seen;
} hop_reader;

static void *read_hop(void *arg)
{
    hop_reader *r = arg;
    char line[64];
    while (fgets(line, sizeof line, r->in)) {
        long i = strtol(line, NULL, 10);
        if (i >= 0 && i <= r->n && !r->arrived_ms[i]) {
            r->arrived_ms[i] = bl_clock_wall_ms();
            atomic_fetch_add(&r->seen, 1);
        }
    }
    return NULL;
}

/* Waits up to ms for the reader to have seen want lines. */
static int hop_wait(hop_reader *r, long want, int64_t ms)
{
    for (int64_t until = bl_clock_mono_ms() + ms; bl_clock_mono_ms() < until; usleep(10 * 1000))
        if (atomic_load(&r->seen) >= want)
            return 1;
    return 0;
}

/* A plain librdkafka producer as the relay configures its own (acks=all,
 * idempotent), nothing else set: kcat's producer reads a pipe to its end
 * before it sends, so it cannot keep an open loop. */
static rd_kafka_t *hop_producer(void)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", cluster.brokers, errstr, sizeof errstr) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "bench: reference producer: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "bench: reference producer: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* Produces line i ("<i>") to topic. Returns 0, or -1 when it was refused. */
static int hop_send(rd_kafka_t *rk, const char *topic, long i)
{
    char v[24];
    int len = snprintf(v, sizeof v, "%ld", i);
    rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(v, (size_t)len),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    rd_kafka_poll(rk, 0);
    return e == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

/* One Kafka hop at rate for seconds on a topic of its own: p50 and p99 from
 * each line's due time to the consumer reading it. Returns 0, or -1 when
 * the hop could not be measured (printed). */
static int kafka_hop(int rate, int seconds, double *p50, double *p99)
{
    long n = (long)rate * seconds;
    char topic[96], cmd[512];
    bl_test_unique_name(topic, sizeof topic, "bench_e2e_hop");
    bl_err err = {0};
    bl_kafka_admin *admin = bl_kafka_admin_new(cluster.brokers, NULL, &err);
    bl_kafka_topic_spec spec = {topic, 1, -1, NULL};
    const char *names[1] = {topic};
    if (!admin || bl_kafka_admin_create_topics(admin, &spec, 1, 30000, &err) != 0 ||
        bl_kafka_admin_wait_visible(admin, names, 1, 30000, &err) != 0) {
        fprintf(stderr, "bench: reference topic: %s\n", err.msg);
        bl_kafka_admin_free(admin);
        return -1;
    }
    hop_reader r = {.n = n, .arrived_ms = calloc((size_t)n + 1, sizeof(int64_t))};
    /* -c: the consumer leaves after the last line; timeout bounds a lost one */
    snprintf(cmd, sizeof cmd, "timeout %d kcat -C -b '%s' -t '%s' -o beginning -u -q -c %ld -f '%%s\\n'",
             seconds + 60, cluster.brokers, topic, n + 1);
    r.in = r.arrived_ms ? popen(cmd, "r") : NULL;
    rd_kafka_t *out = r.in ? hop_producer() : NULL;
    pthread_t reader;
    int rc = -1, reading = out && pthread_create(&reader, NULL, read_hop, &r) == 0;
    if (reading && hop_send(out, topic, n) == 0 && hop_wait(&r, 1, 30000)) { /* the warm-up line */
        int64_t start = bl_clock_wall_ms() + 100;
        for (long i = 0; i < n; i++) {
            int64_t due = start + i * 1000 / rate, now = bl_clock_wall_ms();
            if (due > now)
                usleep((useconds_t)(due - now) * 1000);
            hop_send(out, topic, i);
        }
        rd_kafka_flush(out, 30000);
        if (hop_wait(&r, n + 1, 60000)) {
            double *lat = malloc((size_t)n * sizeof *lat);
            for (long i = 0; lat && i < n; i++)
                lat[i] = (double)(r.arrived_ms[i] - (start + i * 1000 / rate));
            if (lat) {
                qsort(lat, (size_t)n, sizeof *lat, cmp_double);
                *p50 = pct(lat, (size_t)n, 0.5);
                *p99 = pct(lat, (size_t)n, 0.99);
                rc = 0;
            }
            free(lat);
        }
    }
    if (rc != 0)
        fprintf(stderr, "bench: the reference hop at %d/s read %ld of %ld lines\n", rate, atomic_load(&r.seen), n + 1);
    if (out)
        rd_kafka_destroy(out);
    if (reading)
        pthread_join(reader, NULL); /* the consumer ends at its count or its timeout */
    if (r.in)
        pclose(r.in);
    free(r.arrived_ms);
    bl_kafka_admin_delete_topics(admin, names, 1, 30000, &err);
    bl_kafka_admin_free(admin);
    return rc;
}

static int failed_phases; /* rates whose run lost a request, a delivery or a signature, or its reference */

static void every_phase_delivered_every_accepted_command_signed(void)
{
    CHECK_EQ_INT(failed_phases, 0);
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 && atoi(argv[1]) > 0 ? atoi(argv[1]) : 5;
    int rates[RATES_MAX] = {500, 1000, 2000}, n_rates = 3;
    if (argc > 2) {
        n_rates = 0;
        for (int i = 2; i < argc && n_rates < RATES_MAX; i++)
            rates[n_rates++] = atoi(argv[i]);
    }
    for (int i = 0; i < n_rates; i++)
        if (rates[i] < 1) {
            fprintf(stderr, "usage: bench_e2e [seconds per rate] [rates/s >= 1 ...]\n");
            return 2;
        }
    curl_global_init(CURL_GLOBAL_ALL);
    static phase phases[RATES_MAX];
    int code = 1;
    char url[128];
    if (webhook_sink_start(&sink, NULL, NULL) != 0 || chaos_cluster_start(&cluster) != 0)
        goto done;
    for (int k = 0; k < CHAOS_ROLE_COUNT; k++)
        if (chaos_role_start(&cluster, (chaos_role_kind)k) != 0)
            goto done;
    webhook_sink_url(&sink, "/e2e", url, sizeof url);
    if (chaos_provision(&cluster, url, NULL, &tenant) != 0)
        goto done;
    printf("\nend to end: POST /v1/risks -> PMO service -> outbox -> relay -> fan-out -> signed delivery "
           "(every role a process, loopback)\n");
    int knee = 0;
    code = 0;
    for (int p = 0; p < n_rates; p++) {
        phases[p].index = p;
        phases[p].rate = rates[p];
        double p50 = 0, p99 = run_phase(phases, n_rates, p, seconds, &p50), ref50 = 0, ref99 = 0;
        if (p99 < 0) {
            failed_phases++;
            continue;
        }
        if (!knee && p99 > KNEE_P99_MS)
            knee = rates[p];
        if (kafka_hop(rates[p], seconds, &ref50, &ref99) != 0) {
            failed_phases++;
            continue;
        }
        printf("reference %5d/s: one Kafka hop, librdkafka to kcat  p50 %7.1f ms  p99 %7.1f ms\n", rates[p], ref50, ref99);
        printf("ratio e2e_p50_%d %.3f\n", rates[p], p50 > 0 ? ref50 / p50 : 0);
        printf("ratio e2e_p99_%d %.3f\n", rates[p], p99 > 0 ? ref99 / p99 : 0);
    }
    if (knee)
        printf("figure e2e_knee_rate %d (the first rate whose p99 passed %.0f ms)\n", knee, KNEE_P99_MS);
    else
        printf("figure e2e_knee_rate none (p99 stayed under %.0f ms at every rate run)\n", KNEE_P99_MS);
    BL_RUN(every_phase_delivered_every_accepted_command_signed);
    code = bl_test_summary();
done:
    chaos_cluster_stop(&cluster);
    webhook_sink_stop(&sink);
    for (int p = 0; p < RATES_MAX; p++) {
        free(phases[p].ok);
        free(phases[p].arrived_ms);
    }
    curl_global_cleanup();
    return code;
}
