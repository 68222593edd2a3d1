/* Benchmark of the HTTP API in-process on a fresh database and topics, from
 * one client thread driving keep-alive connections with curl's multi
 * interface, beside wrk against the same server's /healthz in the same run:
 *  - POST /v1/risks (auth + validation + Avro + Kafka ack) and GET
 *    /v1/projects (auth + read model), closed loop over `clients`
 *    connections: requests/s, p50, p99 and the ratio to wrk;
 *  - POST /v1/risks closed loop over 1 and 64 connections, then paced at
 *    1,000 requests/s over 64 and 1,024: the rate reached, p50/p99/max
 *    (paced: from each request's scheduled start, so a late start counts);
 *  - per phase, the CPU per request of this process and of the API
 *    database's PostgreSQL backends (the machine's other load excluded);
 *  - overload: 1,024 connections in a closed loop, past the server's
 *    in-flight bound: how many were shed with 503 + Retry-After, how fast,
 *    and the resident memory before and after;
 *  - every command answered 202 is then looked for on the commands topic by
 *    its command id: a run where one is missing fails.
 * Server and clients share the process: memory figures are upper bounds.
 *   bench_api [seconds per phase, default 5] [clients, default 16] */
#include "core/kafka_consumer.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>
#include <time.h>

#define ID_LEN 36

static bl_test_api api;
static int seconds = 5, clients = 16;
static long failed_requests;
static long sequence;

/* The command ids of every 202, to find on Kafka afterwards. */
static char (*accepted)[ID_LEN + 1];
static size_t accepted_n, accepted_cap;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct conn {
    CURL *easy;
    struct curl_slist *headers;
    char body[512];
    char answer[2048];
    size_t answer_len;
    bool retry_after;
    double started; /* the scheduled start (paced) or the real one */
    bool busy;
} conn;

typedef struct run_result {
    double *lat, *shed_lat;
    size_t n, cap, shed, shed_cap;
    long errors, shed_without_retry_after;
    double elapsed;
} run_result;

static void push(double **a, size_t *n, size_t *cap, double v)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        *a = realloc(*a, *cap * sizeof **a);
    }
    (*a)[(*n)++] = v;
}

static size_t on_body(char *b, size_t s, size_t n, void *u)
{
    conn *c = u;
    size_t len = s * n, room = sizeof c->answer - 1 - c->answer_len;
    memcpy(c->answer + c->answer_len, b, len < room ? len : room);
    c->answer_len += len < room ? len : room;
    c->answer[c->answer_len] = '\0';
    return len;
}

static size_t on_header(char *b, size_t s, size_t n, void *u)
{
    conn *c = u;
    if (s * n > 12 && strncasecmp(b, "Retry-After:", 12) == 0)
        c->retry_after = true;
    return s * n;
}

static void conn_init(conn *c, const char *path, bool post)
{
    char url[256], auth[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", bl_api_server_port(api.server), path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", api.write_token);
    c->headers = curl_slist_append(NULL, auth);
    c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
    c->headers = curl_slist_append(c->headers, "Expect:");
    c->easy = curl_easy_init();
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(c->easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
    curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, post ? "POST" : "GET");
}

static void conn_start(CURLM *m, conn *c, bool post, double started)
{
    if (post) {
        snprintf(c->body, sizeof c->body,
                 "{\"risk_id\":\"bench-%ld\",\"project_id\":\"p-1\",\"title\":\"t\",\"description\":\"d\","
                 "\"severity\":\"HIGH\",\"probability\":50,\"impact\":50}",
                 sequence++);
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
    }
    c->answer_len = 0;
    c->answer[0] = '\0';
    c->retry_after = false;
    c->started = started;
    c->busy = true;
    curl_multi_add_handle(m, c->easy);
}

/* Records a finished request of c; returns whether it counted as expected. */
static void conn_done(conn *c, CURLcode code, bool post, run_result *r)
{
    long status = 0;
    if (code == CURLE_OK)
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    double t = now_s() - c->started;
    c->busy = false;
    if (status == 503 && strstr(c->answer, "\"overloaded\"")) {
        push(&r->shed_lat, &r->shed, &r->shed_cap, t);
        if (!c->retry_after)
            r->shed_without_retry_after++;
        return;
    }
    if (status != (post ? 202 : 200)) {
        if (r->errors++ < 3)
            fprintf(stderr, "bench: %s answered %ld %.200s\n", post ? "POST" : "GET", status, c->answer);
        return;
    }
    if (post) {
        const char *id = strstr(c->answer, "\"command_id\":\"");
        if (!id || strlen(id) < 14 + ID_LEN) {
            r->errors++;
            return;
        }
        if (accepted_n == accepted_cap) {
            accepted_cap = accepted_cap ? accepted_cap * 2 : 8192;
            accepted = realloc(accepted, accepted_cap * sizeof *accepted);
        }
        memcpy(accepted[accepted_n], id + 14, ID_LEN);
        accepted[accepted_n++][ID_LEN] = '\0';
    }
    push(&r->lat, &r->n, &r->cap, t);
}

/* Runs requests over n connections for `seconds`: closed loop when rate is
 * 0, else one request every 1/rate s from the start (waiting for a free
 * connection when none is). */
static run_result run(const char *path, bool post, int n, double rate)
{
    run_result r = {0};
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n);
    conn *cs = calloc((size_t)n, sizeof *cs);
    for (int i = 0; i < n; i++)
        conn_init(&cs[i], path, post);
    double start = now_s(), until = start + seconds;
    long scheduled = 0;
    int running = 0;
    for (;;) {
        double now = now_s();
        if (now < until) {
            for (int i = 0; i < n; i++) {
                if (cs[i].busy)
                    continue;
                double due = rate > 0 ? start + scheduled / rate : now;
                if (due > now || due >= until)
                    break;
                conn_start(m, &cs[i], post, due);
                scheduled++;
            }
        }
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        bool finished = false;
        while ((msg = curl_multi_info_read(m, &left))) {
            finished = true;
            if (msg->msg != CURLMSG_DONE)
                continue;
            conn *c = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            CURLcode code = msg->data.result;
            curl_multi_remove_handle(m, msg->easy_handle);
            conn_done(c, code, post, &r);
        }
        if (now >= until && running == 0)
            break;
        if (!finished) /* a connection just freed starts its next request at once */
            curl_multi_poll(m, NULL, 0, rate > 0 ? 1 : 50, NULL);
    }
    r.elapsed = now_s() - start;
    for (int i = 0; i < n; i++) {
        curl_easy_cleanup(cs[i].easy);
        curl_slist_free_all(cs[i].headers);
    }
    free(cs);
    curl_multi_cleanup(m);
    failed_requests += r.errors;
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(n * p);
    return v[i < n ? i : n - 1] * 1e3;
}

/* CPU seconds used so far by this process (server and clients) and by the
 * PostgreSQL backends of the API's database (same machine: /proc). */
static double self_cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static double pg_cpu_s(void)
{
    char pids[4096] = "";
    if (bl_test_sql_value(api.pool,
                          "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE datname = current_database()",
                          0, NULL, pids, sizeof pids) != 0)
        return 0;
    double total = 0;
    long tick = sysconf(_SC_CLK_TCK);
    for (char *tok = strtok(pids, " "); tok; tok = strtok(NULL, " ")) {
        char path[64], line[1024];
        snprintf(path, sizeof path, "/proc/%s/stat", tok);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        unsigned long ut = 0, st = 0;
        const char *after = fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
        /* fields 14 and 15 (utime, stime), counted after the command's ")" */
        if (after && sscanf(after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
            total += (double)(ut + st) / (double)tick;
        fclose(f);
    }
    return total;
}

static double cpu_self_at_start, cpu_pg_at_start;

static void cpu_mark(void)
{
    cpu_self_at_start = self_cpu_s();
    cpu_pg_at_start = pg_cpu_s();
}

/* Prints one phase's line with the CPU per answered request since
 * cpu_mark(); returns its rate of expected answers. */
static double report(const char *name, run_result *r, int n)
{
    qsort(r->lat, r->n, sizeof *r->lat, cmp_double);
    double rps = r->n / r->elapsed;
    size_t answered = r->n + r->shed ? r->n + r->shed : 1;
    printf("%-34s %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (%zu ok, %ld errors, %d conns)"
           "  cpu/req: process %.3f ms, postgres %.3f ms\n",
           name, rps, pct(r->lat, r->n, 0.5), pct(r->lat, r->n, 0.99), pct(r->lat, r->n, 1.0), r->n, r->errors, n,
           (self_cpu_s() - cpu_self_at_start) * 1e3 / answered, (pg_cpu_s() - cpu_pg_at_start) * 1e3 / answered);
    fflush(stdout);
    return rps;
}

static void result_free(run_result *r)
{
    free(r->lat);
    free(r->shed_lat);
}

/* Runs wrk against /healthz; returns its requests/s (0 when wrk failed). */
static double wrk_healthz(void)
{
    char cmd[256], line[512];
    snprintf(cmd, sizeof cmd, "wrk -t2 -c%d -d%ds --latency http://127.0.0.1:%u/healthz 2>&1", clients, seconds,
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
    printf("%-34s %8.0f req/s  p50 %10s  p99 %10s  (wrk -t2 -c%d)\n", "wrk GET /healthz", rps, p50, p99, clients);
    return rps;
}

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && sscanf(line + n, ": %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static int seed_projects(void)
{
    const char *p[] = {api.org};
    return bl_test_sql(api.pool,
                       "INSERT INTO pmo_projects (organization_id, project_id, name, owner_id,"
                       " budget_cents, currency) SELECT $1, 'p-' || i, 'Project ' || i, 'o-1', 100,"
                       " 'EUR' FROM generate_series(1, 200) i",
                       1, p);
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, ID_LEN);
}

/* Reads the commands topic from its start and counts the accepted command
 * ids found there (by the ce_id header). */
static size_t verify_on_kafka(void)
{
    qsort(accepted, accepted_n, sizeof *accepted, cmp_id);
    bool *seen = calloc(accepted_n ? accepted_n : 1, sizeof *seen);
    size_t found = 0;
    bl_err err = {0};
    char group[96];
    bl_test_unique_name(group, sizeof group, "bench-api");
    bl_kafka_consumer_opts o = {.brokers = bl_test_kafka_brokers(), .group_id = group};
    bl_kafka_consumer *c = bl_kafka_consumer_new(&o, &err);
    const char *topics[] = {api.topics[0]};
    if (!c || bl_kafka_consumer_subscribe(c, topics, 1, &err) != 0) {
        fprintf(stderr, "bench: consumer: %s\n", err.msg);
        bl_kafka_consumer_free(c);
        free(seen);
        return 0;
    }
    double idle_until = now_s() + 30;
    while (found < accepted_n && now_s() < idle_until) {
        bl_kafka_msg *m = NULL;
        if (bl_kafka_consumer_poll(c, 200, &m, &err) != 1)
            continue;
        const void *v;
        size_t len;
        if (bl_kafka_msg_header(m, "ce_id", &v, &len) == 0 && len == ID_LEN) {
            char (*hit)[ID_LEN + 1] = bsearch(v, accepted, accepted_n, sizeof *accepted, cmp_id);
            if (hit && !seen[hit - accepted]) {
                seen[hit - accepted] = true;
                found++;
            }
        }
        bl_kafka_msg_release(m);
        idle_until = now_s() + 10;
    }
    bl_kafka_consumer_close(c, &err);
    bl_kafka_consumer_free(c);
    free(seen);
    return found;
}

/* What the run must have been for its figures to count (filled by main). */
static struct {
    long failed;
    size_t found, accepted;
    double healthz, post, get;
} verdict;

static void every_request_answered_and_every_accepted_command_is_on_kafka(void)
{
    CHECK_EQ_INT(verdict.failed, 0);
    CHECK_EQ_INT(verdict.found, verdict.accepted);
    CHECK(verdict.healthz > 0);
    CHECK(verdict.post > 0);
    CHECK(verdict.get > 0);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        seconds = atoi(argv[1]) > 0 ? atoi(argv[1]) : seconds;
    if (argc > 2)
        clients = atoi(argv[2]) > 0 ? atoi(argv[2]) : clients;
    /* 1,024 client sockets and as many server ones in one process */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 4096) {
        nofile.rlim_cur = nofile.rlim_max < 4096 ? nofile.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_api_start(&api, 1) != 0 || seed_projects() != 0) {
        bl_test_api_stop(&api);
        return 1;
    }
    double healthz = wrk_healthz();
    cpu_mark();
    run_result r = run("/v1/risks", true, clients, 0);
    char name[64];
    double post = report("POST /v1/risks", &r, clients);
    result_free(&r);
    cpu_mark();
    r = run("/v1/projects", false, clients, 0);
    double get = report("GET /v1/projects", &r, clients);
    result_free(&r);
    if (healthz > 0) {
        printf("ratio api_post_risks %.3f\nratio api_get_projects %.3f\n", post / healthz, get / healthz);
        printf("reference wrk_healthz %.0f req/s\n", healthz);
    }
    /* closed loop over 1 and 64 connections (1,024 is the overload below),
     * then paced at the goal's 1,000 requests/s */
    static const struct { int conns; double rate; } spread[] = {{1, 0}, {64, 0}, {64, 1000}, {1024, 1000}};
    for (size_t i = 0; i < sizeof spread / sizeof spread[0]; i++) {
        if (spread[i].rate > 0)
            snprintf(name, sizeof name, "POST /v1/risks @%.0f/s, %d conns", spread[i].rate, spread[i].conns);
        else
            snprintf(name, sizeof name, "POST /v1/risks, %d conns", spread[i].conns);
        cpu_mark();
        r = run("/v1/risks", true, spread[i].conns, spread[i].rate);
        report(name, &r, spread[i].conns);
        result_free(&r);
    }
    long rss_before = status_kb("VmRSS");
    cpu_mark();
    r = run("/v1/risks", true, 1024, 0);
    report("POST /v1/risks overload, 1024 conns", &r, 1024);
    qsort(r.shed_lat, r.shed, sizeof *r.shed_lat, cmp_double);
    printf("%-34s %8.0f req/s  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (%zu shed, %ld without Retry-After)\n",
           "  of which shed 503 + Retry-After", r.shed / r.elapsed, pct(r.shed_lat, r.shed, 0.5),
           pct(r.shed_lat, r.shed, 0.99), pct(r.shed_lat, r.shed, 1.0), r.shed, r.shed_without_retry_after);
    failed_requests += r.shed_without_retry_after;
    result_free(&r);
    printf("RSS before the overload %.1f MiB, after %.1f MiB, peak %.1f MiB (server + clients, one process)\n",
           rss_before / 1024.0, status_kb("VmRSS") / 1024.0, status_kb("VmHWM") / 1024.0);
    size_t found = verify_on_kafka();
    printf("verified: %zu of %zu accepted commands found on %s by command id\n", found, accepted_n, api.topics[0]);
    bl_test_api_stop(&api);
    curl_global_cleanup();
    free(accepted);
    if (failed_requests || found != accepted_n)
        fprintf(stderr, "bench: %ld requests failed, %zu accepted commands not on Kafka; the figures above do not "
                        "measure a working API\n",
                failed_requests, accepted_n - found);
    verdict.failed = failed_requests;
    verdict.found = found;
    verdict.accepted = accepted_n;
    verdict.healthz = healthz;
    verdict.post = post;
    verdict.get = get;
    BL_RUN(every_request_answered_and_every_accepted_command_is_on_kafka);
    return bl_test_summary();
}
