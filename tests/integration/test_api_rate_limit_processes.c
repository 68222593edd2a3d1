/* Rate limits shared by two API processes: `$BUSLINE_BIN api` started twice
 * on two ports over the same database, configured through the environment
 * as in production, and one key with a small per-minute limit hammered on
 * both at once until each refuses. Together they allow at most the limit
 * and at least the bound of api/rate_limit.h; every answer carries the
 * X-RateLimit-* headers; once the window is spent both answer 429 with
 * Retry-After in the error shape. */
#include "api/auth/keys.h"
#include "api/rate_limit.h"
#include "tests/support/api_fixture.h"
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LIMIT 60          /* per minute */
#define REPLICAS 2
#define REFUSALS_WANTED 3 /* consecutive 429s before a process counts as exhausted */
#define KEYRING "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static bl_test_api api;
static pid_t pids[REPLICAS];
static unsigned short ports[REPLICAS];
static char log_path[] = "/tmp/busline-api-replicas-XXXXXX";

/* Starts `$BUSLINE_BIN api` with its settings in the environment only. */
static pid_t spawn_api(unsigned short port)
{
    const char *bin = getenv("BUSLINE_BIN");
    if (!bin || !*bin) {
        fprintf(stderr, "  BUSLINE_BIN is not set (run through ctest)\n");
        return -1;
    }
    char port_text[16], metrics_text[16];
    snprintf(port_text, sizeof port_text, "%u", port);
    snprintf(metrics_text, sizeof metrics_text, "%u", bl_outbox_test_free_port());
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    const char *env[][2] = {
        {"BUSLINE_PG_URL", api.registry.pg_url},      {"BUSLINE_KAFKA_BROKERS", bl_test_kafka_brokers()},
        {"BUSLINE_REGISTRY_URL", api.registry.base_url}, {"BUSLINE_API_HOST", "127.0.0.1"},
        {"BUSLINE_API_PORT", port_text},              {"BUSLINE_METRICS_PORT", metrics_text},
        {"BUSLINE_API_TOPIC_PREFIX", api.prefix},     {"BUSLINE_JWT_SECRET", BL_TEST_API_JWT_SECRET},
        {"BUSLINE_ENCRYPTION_KEYS", KEYRING},          {"BUSLINE_LOG_LEVEL", "warn"},
    };
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
        setenv(env[i][0], env[i][1], 1);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execl(bin, bin, "api", (char *)NULL);
    _exit(127);
}

/* Waits until the process on port answers /healthz; 0 or -1. */
static int wait_serving(unsigned short port, pid_t pid)
{
    for (int i = 0; i < 600; i++) {
        bl_test_reply r;
        long st = bl_test_http_call(port, "GET", "/healthz", NULL, NULL, NULL, &r);
        bl_test_reply_clear(&r);
        if (st == 200)
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
        struct timespec pause = {0, 50 * 1000000L};
        nanosleep(&pause, NULL);
    }
    return -1;
}

static void print_log(void)
{
    FILE *f = fopen(log_path, "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f))
        fprintf(stderr, "  | %s", line);
    if (f)
        fclose(f);
}

/* ---- one hammering thread per process ---- */

typedef struct hammer {
    unsigned short port;
    const char *token;
    int allowed, refused, answers;
    bool headers_on_every_answer, refusals_well_formed, same_window;
    char first_reset[24];
} hammer;

static void *hammer_run(void *arg)
{
    hammer *h = arg;
    h->headers_on_every_answer = h->refusals_well_formed = h->same_window = true;
    int in_a_row = 0;
    for (int i = 0; i < 4 * LIMIT && in_a_row < REFUSALS_WANTED; i++) {
        bl_test_reply r;
        long st = bl_test_http_call(h->port, "GET", "/v1/projects", h->token, NULL, NULL, &r);
        h->answers++;
        char limit[24];
        snprintf(limit, sizeof limit, "%d", LIMIT);
        if (strcmp(r.rl_limit, limit) != 0 || !r.rl_remaining[0] || !r.rl_reset[0] || !r.request_id[0])
            h->headers_on_every_answer = false;
        if (!h->first_reset[0])
            snprintf(h->first_reset, sizeof h->first_reset, "%s", r.rl_reset);
        if (strcmp(h->first_reset, r.rl_reset) != 0)
            h->same_window = false;
        if (st == 200) {
            h->allowed++;
            in_a_row = 0;
        } else {
            h->refused++;
            in_a_row++;
            json_t *e = json_object_get(r.json, "error");
            const char *rid = json_string_value(json_object_get(e, "request_id"));
            bool ok = st == 429 && atoi(r.retry_after) >= 1 && atoi(r.retry_after) <= 60 &&
                      strcmp(r.rl_remaining, "0") == 0 && strcmp(bl_test_reply_error_code(&r), "rate_limit_exceeded") == 0 &&
                      json_is_string(json_object_get(e, "message")) && rid && strcmp(rid, r.request_id) == 0;
            if (!ok) {
                fprintf(stderr, "  port %u: %ld Retry-After '%s' Remaining '%s' %s\n", h->port, st, r.retry_after,
                        r.rl_remaining, r.body);
                h->refusals_well_formed = false;
            }
        }
        bl_test_reply_clear(&r);
    }
    return NULL;
}

/* Waits, when needed, until the minute has room for the whole run, so the
 * window does not roll over mid-test (the run takes a few seconds). */
static void start_early_in_a_minute(void)
{
    time_t now = time(NULL);
    if (now % 60 > 40) {
        fprintf(stderr, "  waiting %lds for the next minute\n", (long)(61 - now % 60));
        sleep((unsigned)(61 - now % 60));
    }
}

static void two_processes_share_one_keys_limit(void)
{
    char token[BL_API_TOKEN_SIZE], id[BL_API_ID_MAX];
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(api.pool, 5000, &err);
    REQUIRE(conn);
    bl_api_key_spec spec = {.org_id = api.org, .name = "shared", .perm = BL_API_PERM_READ, .rate_per_minute = LIMIT};
    int rc = bl_api_key_create(conn, &spec, token, id, &err);
    bl_pg_pool_release(api.pool, conn);
    REQUIRE(rc == 0);
    start_early_in_a_minute();
    hammer h[REPLICAS];
    pthread_t threads[REPLICAS];
    for (int i = 0; i < REPLICAS; i++) {
        h[i] = (hammer){.port = ports[i], .token = token};
        REQUIRE(pthread_create(&threads[i], NULL, hammer_run, &h[i]) == 0);
    }
    for (int i = 0; i < REPLICAS; i++)
        pthread_join(threads[i], NULL);
    int allowed = 0;
    for (int i = 0; i < REPLICAS; i++) {
        fprintf(stderr, "  process %d (port %u): %d answers, %d allowed, %d refused\n", i, ports[i], h[i].answers,
                h[i].allowed, h[i].refused);
        allowed += h[i].allowed;
        CHECK(h[i].headers_on_every_answer);
        CHECK(h[i].refusals_well_formed);
        CHECK(h[i].same_window);
        CHECK(h[i].refused >= REFUSALS_WANTED); /* each process ends up refusing */
        CHECK(h[i].allowed > 0);                /* and both served some of the limit */
    }
    CHECK_EQ_STR(h[0].first_reset, h[1].first_reset);
    /* api/rate_limit.h: limit - R * (B - 1) <= allowed <= limit, B the first block */
    int block = LIMIT / BL_RATE_BLOCK_DIVISOR;
    block = block < 1 ? 1 : block > BL_RATE_BLOCK_MAX ? BL_RATE_BLOCK_MAX : block;
    int lower = LIMIT - REPLICAS * (block - 1);
    fprintf(stderr, "  allowed %d across %d processes; limit %d, documented lower bound %d\n", allowed, REPLICAS,
            LIMIT, lower);
    CHECK(allowed <= LIMIT);
    CHECK(allowed >= lower);
    /* the shared counter agrees: the window's grants never passed the limit */
    conn = bl_pg_pool_acquire(api.pool, 5000, &err);
    REQUIRE(conn);
    char subject[64];
    snprintf(subject, sizeof subject, "key:%s", id);
    const char *p[] = {subject};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT coalesce(max(used), 0) FROM api_rate_counters"
                             " WHERE subject = $1 AND window_kind = 'minute'",
                             1, p, &err);
    bl_pg_pool_release(api.pool, conn);
    REQUIRE(r);
    long used = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    CHECK(used <= LIMIT);
    CHECK(used >= allowed);
}

static void another_key_is_not_limited_by_the_spent_one(void)
{
    for (int i = 0; i < REPLICAS; i++) {
        bl_test_reply r;
        CHECK_EQ_INT(bl_test_http_call(ports[i], "GET", "/v1/projects", api.write_token, NULL, NULL, &r), 200);
        CHECK(r.rl_limit[0] != '\0');
        bl_test_reply_clear(&r);
    }
}

static int start_replicas(void)
{
    int fd = mkstemp(log_path);
    if (fd < 0)
        return -1;
    close(fd);
    for (int i = 0; i < REPLICAS; i++) {
        if (!(ports[i] = bl_outbox_test_free_port()) || (pids[i] = spawn_api(ports[i])) <= 0 ||
            wait_serving(ports[i], pids[i]) != 0) {
            fprintf(stderr, "  busline api %d did not start on port %u; its log:\n", i, ports[i]);
            print_log();
            return -1;
        }
    }
    return 0;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_api_start(&api, 0) == 0 && start_replicas() == 0) {
        BL_RUN(two_processes_share_one_keys_limit);
        BL_RUN(another_key_is_not_limited_by_the_spent_one);
    } else {
        bl_test_failures++;
    }
    for (int i = 0; i < REPLICAS; i++) {
        if (pids[i] <= 0)
            continue;
        int code = bl_outbox_test_reap(pids[i], SIGTERM, NULL);
        if (code != 0) {
            fprintf(stderr, "  busline api %d exited with %d; its log:\n", i, code);
            print_log();
        }
        CHECK_EQ_INT(code, 0);
    }
    unlink(log_path);
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return bl_test_summary();
}
