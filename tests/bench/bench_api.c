/* Benchmark of the HTTP API in-process on a fresh database and topics:
 * requests/s and p50/p99 latency of POST /v1/risks (auth + validation +
 * Avro + Kafka ack) and GET /v1/projects (auth + read model), from C client
 * threads over keep-alive connections, beside wrk against the same server's
 * /healthz in the same run, and the process's peak RSS (server and clients
 * share the process: the figure is an upper bound for the server).
 *   bench_api [seconds per phase, default 5] [client threads, default 16] */
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Requests that did not get their expected status: the figures of a run
 * with failures are not a measurement of the API, so the bench fails. */
static long failed_requests;

static bl_test_api api;
static int seconds = 5, threads = 16;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct worker {
    const char *method, *path;
    int post;
    double *lat;
    size_t n, cap;
    long errors;
    double until;
    int index;
} worker;

static size_t discard(char *b, size_t s, size_t n, void *u)
{
    (void)b;
    (void)u;
    return s * n;
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    CURL *c = curl_easy_init();
    char url[256], auth[160], body[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", bl_api_server_port(api.server), w->path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", api.write_token);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, w->method);
    long seq = 0;
    while (now_s() < w->until) {
        if (w->post) {
            snprintf(body, sizeof body,
                     "{\"risk_id\":\"bench-%d-%ld\",\"project_id\":\"p-1\",\"title\":\"t\",\"description\":\"d\","
                     "\"severity\":\"HIGH\",\"probability\":50,\"impact\":50}",
                     w->index, seq++);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        }
        double t0 = now_s();
        long status = 0;
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        double t = now_s() - t0;
        if (status != (w->post ? 202 : 200)) {
            w->errors++;
            continue;
        }
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 4096;
            w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
        }
        w->lat[w->n++] = t;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double phase(const char *name, const char *method, const char *path, int post)
{
    worker *w = calloc((size_t)threads, sizeof *w);
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    double start = now_s();
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){.method = method, .path = path, .post = post, .until = start + seconds, .index = i};
        pthread_create(&th[i], NULL, run_worker, &w[i]);
    }
    size_t total = 0;
    long errors = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += w[i].n;
        errors += w[i].errors;
    }
    double elapsed = now_s() - start;
    double *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < threads; i++) {
        memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
        k += w[i].n;
        free(w[i].lat);
    }
    qsort(all, total, sizeof *all, cmp_double);
    double rps = total / elapsed;
    printf("%-22s %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms  (%zu ok, %ld errors, %d clients)\n", name, rps,
           total ? all[total / 2] * 1e3 : 0, total ? all[(size_t)(total * 0.99)] * 1e3 : 0, total, errors,
           threads);
    free(all);
    free(w);
    failed_requests += errors;
    free(th);
    return total ? rps : 0;
}

/* Runs wrk against /healthz; returns its requests/s (0 when wrk failed). */
static double wrk_healthz(void)
{
    char cmd[256], line[512];
    snprintf(cmd, sizeof cmd, "wrk -t2 -c%d -d%ds --latency http://127.0.0.1:%u/healthz 2>&1", threads, seconds,
             bl_api_server_port(api.server));
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    double rps = 0;
    char p50[32] = "?", p99[32] = "?";
    while (fgets(line, sizeof line, p)) {
        sscanf(line, " Requests/sec: %lf", &rps);
        sscanf(line, " 50%% %31s", p50);
        sscanf(line, " 99%% %31s", p99);
    }
    pclose(p);
    printf("%-22s %9.0f req/s  p50 %10s  p99 %10s  (wrk -t2 -c%d)\n", "wrk GET /healthz", rps, p50, p99,
           threads);
    return rps;
}

static long peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static int seed_projects(void)
{
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(api.pool, 5000, &err);
    const char *p[] = {api.org};
    int rc = conn ? bl_pg_exec_cmd(conn,
                                   "INSERT INTO pmo_projects (organization_id, project_id, name, owner_id,"
                                   " budget_cents, currency) SELECT $1, 'p-' || i, 'Project ' || i, 'o-1', 100,"
                                   " 'EUR' FROM generate_series(1, 200) i",
                                   1, p, &err)
                  : -1;
    bl_pg_pool_release(api.pool, conn);
    if (rc != 0)
        fprintf(stderr, "seed: %s\n", err.msg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        seconds = atoi(argv[1]) > 0 ? atoi(argv[1]) : seconds;
    if (argc > 2)
        threads = atoi(argv[2]) > 0 ? atoi(argv[2]) : threads;
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_api_start(&api, 1) != 0 || seed_projects() != 0) {
        bl_test_api_stop(&api);
        return 1;
    }
    double healthz = wrk_healthz();
    double post = phase("POST /v1/risks", "POST", "/v1/risks", 1);
    double get = phase("GET /v1/projects", "GET", "/v1/projects", 0);
    if (healthz > 0) {
        printf("ratios to /healthz: POST /v1/risks %.3f, GET /v1/projects %.3f\n", post / healthz, get / healthz);
        printf("ratio api_post_risks %.3f\nratio api_get_projects %.3f\n", post / healthz, get / healthz);
    }
    printf("peak RSS (server + bench clients, one process): %.1f MiB\n", peak_rss_kb() / 1024.0);
    bl_test_api_stop(&api);
    curl_global_cleanup();
    if (failed_requests) {
        fprintf(stderr, "bench: %ld requests failed; the figures above do not measure a working API\n",
                failed_requests);
        return 1;
    }
    if (healthz <= 0 || post <= 0 || get <= 0) {
        fprintf(stderr, "bench: a phase measured nothing (wrk %.0f, POST %.0f, GET %.0f req/s)\n", healthz, post,
                get);
        return 1;
    }
    return 0;
}
