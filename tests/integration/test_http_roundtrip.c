/* The HTTP client and server against each other on loopback. */
#include "core/clock.h"
#include "core/http_client.h"
#include "core/http_server.h"
#include "tests/support/test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SERVER_BODY_CAP (64 * 1024)

/* ---------- server side ---------- */

/* The slow route blocks until the test releases it (at most 10 s), so the
 * test decides when it answers instead of guessing with sleeps. */
typedef struct slow_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered;
    bool released;
} slow_gate;

static slow_gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};

static void gate_reset(void)
{
    pthread_mutex_lock(&gate.mu);
    gate.entered = false;
    gate.released = false;
    pthread_mutex_unlock(&gate.mu);
}

static bool gate_entered(void)
{
    pthread_mutex_lock(&gate.mu);
    bool e = gate.entered;
    pthread_mutex_unlock(&gate.mu);
    return e;
}

static void gate_release(void)
{
    pthread_mutex_lock(&gate.mu);
    gate.released = true;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
}

static int handle_slow(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    struct timespec deadline = bl_clock_deadline_after_ms(CLOCK_REALTIME, 10000);
    pthread_mutex_lock(&gate.mu);
    gate.entered = true;
    while (!gate.released)
        if (pthread_cond_timedwait(&gate.cv, &gate.mu, &deadline) != 0)
            break;
    pthread_mutex_unlock(&gate.mu);
    return bl_http_response_body_copy(resp, "slow done", 9, "text/plain");
}

static int handle_echo(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    size_t len;
    const char *body = bl_http_request_body(req, &len);
    const char *ct = bl_http_request_header(req, "content-type");
    return bl_http_response_body_copy(resp, body, len, ct ? ct : "application/octet-stream");
}

static int handle_params(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *q = bl_http_request_query(req, "q");
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "a", bl_http_request_param(req, "a"),
                          "b", bl_http_request_param(req, "b"), "q", q ? q : "(none)",
                          "client", bl_http_request_client_addr(req));
    if (!j)
        return -1;
    int rc = bl_http_response_json(resp, 200, j);
    json_decref(j);
    return rc;
}

static int handle_status(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    int code = atoi(bl_http_request_param(req, "code"));
    if (code == 500)
        return -1; /* the server's own 500 path */
    bl_http_response_status(resp, code);
    if (code == 503 && bl_http_response_header(resp, "Retry-After", "7") != 0)
        return -1;
    if (code == 302 && bl_http_response_header(resp, "Location", "/status/200") != 0)
        return -1;
    return bl_http_response_body_copy(resp, "status", 6, "text/plain");
}

static int handle_big(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    char *buf = malloc(10000);
    if (!buf)
        return -1;
    for (size_t i = 0; i < 10000; i++)
        buf[i] = (char)('a' + i % 26);
    return bl_http_response_body_owned(resp, buf, 10000, "text/plain");
}

/* Confluent's shape, plus the path the hook is given (a server with several
 * surfaces picks its shape by it). */
static json_t *confluent_error(int status, const char *message, const bl_http_request *req, void *ctx)
{
    (void)ctx;
    return json_pack("{s:i, s:s, s:s}", "error_code", status * 100 + 1, "message", message, "path",
                     bl_http_request_path(req));
}

static bl_http_server *server_start(unsigned pool, bl_http_error_body_fn error_body)
{
    bl_err err = {0};
    bl_http_server_config cfg = {.host = "127.0.0.1", .port = 0, .thread_pool_size = pool,
                                 .body_cap = SERVER_BODY_CAP, .error_body = error_body};
    bl_http_server *s = bl_http_server_new(&cfg, &err);
    if (!s)
        return NULL;
    int rc = 0;
    rc |= bl_http_server_route(s, "POST", "/echo", handle_echo, NULL, &err);
    rc |= bl_http_server_route(s, "GET", "/params/:a/:b", handle_params, NULL, &err);
    rc |= bl_http_server_route(s, "GET", "/slow", handle_slow, NULL, &err);
    rc |= bl_http_server_route(s, "GET", "/status/:code", handle_status, NULL, &err);
    rc |= bl_http_server_route(s, "GET", "/big", handle_big, NULL, &err);
    if (rc != 0 || bl_http_server_start(s, &err) != 0) {
        fprintf(stderr, "  server: %s\n", err.msg);
        bl_http_server_free(s);
        return NULL;
    }
    return s;
}

/* ---------- client side ---------- */

/* What one completion looked like, copied out of the callback. */
typedef struct outcome {
    bool done;
    int order;             /* completion sequence number */
    bl_http_transport transport;
    char error[256];
    long status;
    char body[512];
    size_t body_len;
    size_t body_total;
    bool body_truncated;
    bool reused;
    char content_type[128];
    char retry_after[64];
    char allow[64];
    bool check_echo;       /* compare the body with "request-<expect_index>" */
    int expect_index;
    bool body_matches;
} outcome;

static int completions;

static void record(const bl_http_result *r, void *opaque)
{
    outcome *o = opaque;
    o->done = true;
    o->order = completions++;
    o->transport = r->transport;
    snprintf(o->error, sizeof o->error, "%s", r->error);
    o->status = r->status;
    o->body_len = r->body_len;
    o->body_total = r->body_total;
    o->body_truncated = r->body_truncated;
    o->reused = r->connection_reused;
    snprintf(o->body, sizeof o->body, "%.*s", (int)r->body_len, r->body);
    snprintf(o->content_type, sizeof o->content_type, "%s", r->content_type ? r->content_type : "");
    snprintf(o->retry_after, sizeof o->retry_after, "%s", r->retry_after ? r->retry_after : "");
    for (size_t i = 0; i < r->header_count; i++)
        if (strcasecmp(r->headers[i].name, "Allow") == 0)
            snprintf(o->allow, sizeof o->allow, "%s", r->headers[i].value);
    if (o->check_echo) {
        char want[64];
        int n = snprintf(want, sizeof want, "request-%d", o->expect_index);
        o->body_matches = r->body_len == (size_t)n && memcmp(r->body, want, (size_t)n) == 0;
    }
}

static void url_for(char *buf, size_t len, const bl_http_server *s, const char *path)
{
    snprintf(buf, len, "http://127.0.0.1:%u%s", (unsigned)bl_http_server_port(s), path);
}

static int submit(bl_http_client *c, const bl_http_server *s, const char *method, const char *path,
                  const char *body, size_t body_len, long timeout_ms, outcome *o)
{
    char url[256];
    url_for(url, sizeof url, s, path);
    const char *hdrs[] = {"Content-Type: text/plain"};
    bl_http_call call = {.method = method, .url = url, .headers = hdrs, .header_count = 1,
                         .body = body, .body_len = body_len, .timeout_ms = timeout_ms,
                         .on_done = record, .opaque = o};
    bl_err err = {0};
    int rc = bl_http_client_submit(c, &call, &err);
    if (rc != 0)
        fprintf(stderr, "  submit: %s\n", err.msg);
    return rc;
}

static void run_until_done(bl_http_client *c, const outcome *o)
{
    bl_err err = {0};
    while (!o->done && bl_http_client_run(c, 200, &err) >= 0) {
    }
}

/* One request start to finish on client c. */
static void roundtrip(bl_http_client *c, const bl_http_server *s, const char *method, const char *path,
                      const char *body, size_t body_len, outcome *o)
{
    memset(o, 0, sizeof *o);
    if (submit(c, s, method, path, body, body_len, 10000, o) == 0)
        run_until_done(c, o);
}

/* ---------- tests ---------- */

/* A started server and a client with its error value, for one test. */
typedef struct fixture {
    bl_http_server *s;
    bl_http_client *c;
    bl_err err;
} fixture;

static void fixture_close(fixture *f)
{
    bl_http_client_free(f->c);
    bl_http_server_free(f->s);
}

static bool fixture_open(fixture *f, unsigned pool, bl_http_error_body_fn error_body,
                         const bl_http_client_config *cfg)
{
    memset(f, 0, sizeof *f);
    f->s = server_start(pool, error_body);
    f->c = bl_http_client_new(cfg, &f->err);
    if (f->s && f->c)
        return true;
    fixture_close(f);
    return false;
}

static void load_of_1000_requests(unsigned pool)
{
    fixture f;
    REQUIRE(fixture_open(&f, pool, NULL, NULL));
    enum { TOTAL = 1000, IN_FLIGHT = 100 };
    static outcome outcomes[TOTAL];
    memset(outcomes, 0, sizeof outcomes);
    int submitted = 0, finished = 0, max_in_flight = 0;
    char body[64];
    while (finished < TOTAL) {
        while (submitted < TOTAL && bl_http_client_in_flight(f.c) < IN_FLIGHT) {
            outcome *o = &outcomes[submitted];
            o->check_echo = true;
            o->expect_index = submitted;
            int n = snprintf(body, sizeof body, "request-%d", submitted);
            REQUIRE(submit(f.c, f.s, "POST", "/echo", body, (size_t)n, 20000, o) == 0);
            submitted++;
        }
        if ((int)bl_http_client_in_flight(f.c) > max_in_flight)
            max_in_flight = (int)bl_http_client_in_flight(f.c);
        int n = bl_http_client_run(f.c, 200, &f.err);
        REQUIRE(n >= 0);
        finished += n;
    }
    int ok = 0, new_connections = 0;
    for (int i = 0; i < TOTAL; i++) {
        /* The echo handler found "Content-Type" by its lower-case name. */
        if (outcomes[i].done && outcomes[i].status == 200 && outcomes[i].body_matches &&
            strcmp(outcomes[i].content_type, "text/plain") == 0)
            ok++;
        if (!outcomes[i].reused)
            new_connections++;
    }
    CHECK_EQ_INT(ok, TOTAL);
    CHECK_EQ_INT(max_in_flight, IN_FLIGHT);
    /* At most one connection per concurrent slot is ever opened. */
    CHECK(new_connections <= IN_FLIGHT);
    CHECK(new_connections > 0);
    fprintf(stderr, "  %d new connections for %d requests\n", new_connections, TOTAL);
    fixture_close(&f);
}

static void thousand_requests_100_in_flight_complete_on_reused_connections(void)
{
    load_of_1000_requests(0);
}

static void thread_pool_server_also_serves_the_load(void)
{
    load_of_1000_requests(2);
}

static void closed_port_reports_connect_refused(void)
{
    /* A bound socket that never listens: its port answers connects with a
     * reset, and no other process can take it meanwhile. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    REQUIRE(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    REQUIRE(getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/x", (unsigned)ntohs(a.sin_port));
    bl_err err = {0};
    bl_http_client *c = bl_http_client_new(NULL, &err);
    REQUIRE(c != NULL);
    outcome o = {0};
    bl_http_call call = {.url = url, .timeout_ms = 5000, .on_done = record, .opaque = &o};
    REQUIRE(bl_http_client_submit(c, &call, &err) == 0);
    run_until_done(c, &o);
    CHECK_EQ_INT(o.transport, BL_HTTP_TRANSPORT_REFUSED);
    CHECK_EQ_STR(bl_http_transport_name(o.transport), "connect_refused");
    CHECK(o.error[0] != '\0');
    CHECK_EQ_INT(o.status, 0);
    bl_http_client_free(c);

    bl_http_sync_result sr;
    CHECK_EQ_INT(bl_http_request_sync(&call, NULL, &sr, &err), -1);
    CHECK_EQ_INT(sr.transport, BL_HTTP_TRANSPORT_REFUSED);
    CHECK(strstr(err.msg, url) != NULL);
    bl_http_sync_result_clear(&sr);
    close(fd);
}

static void only_http_and_https_urls_are_fetched(void)
{
    bl_err err = {0};
    bl_http_client *c = bl_http_client_new(NULL, &err);
    REQUIRE(c != NULL);
    outcome o = {0};
    bl_http_call call = {.url = "file:///etc/hostname", .on_done = record, .opaque = &o};
    REQUIRE(bl_http_client_submit(c, &call, &err) == 0);
    run_until_done(c, &o);
    CHECK_EQ_INT(o.transport, BL_HTTP_TRANSPORT_OTHER);
    CHECK_EQ_INT(o.body_len, 0);
    CHECK(o.error[0] != '\0');
    bl_http_client_free(c);
}

static void timeout_on_slow_route_does_not_hold_back_other_requests(void)
{
    gate_reset();
    fixture f;
    REQUIRE(fixture_open(&f, 0, NULL, NULL));
    outcome slow = {0};
    REQUIRE(submit(f.c, f.s, "GET", "/slow", NULL, 0, 3000, &slow) == 0);
    while (!gate_entered() && !slow.done)
        REQUIRE(bl_http_client_run(f.c, 50, &f.err) >= 0);
    enum { FAST = 50 };
    static outcome fast[FAST];
    memset(fast, 0, sizeof fast);
    char body[64];
    for (int i = 0; i < FAST; i++) {
        fast[i].check_echo = true;
        fast[i].expect_index = i;
        int n = snprintf(body, sizeof body, "request-%d", i);
        REQUIRE(submit(f.c, f.s, "POST", "/echo", body, (size_t)n, 20000, &fast[i]) == 0);
    }
    int fast_done = 0;
    while (fast_done < FAST && !slow.done) {
        REQUIRE(bl_http_client_run(f.c, 200, &f.err) >= 0);
        fast_done = 0;
        for (int i = 0; i < FAST; i++)
            fast_done += fast[i].done && fast[i].body_matches;
    }
    CHECK_EQ_INT(fast_done, FAST);
    CHECK(!slow.done); /* every fast request finished while the slow one was pending */
    run_until_done(f.c, &slow);
    CHECK_EQ_INT(slow.transport, BL_HTTP_TRANSPORT_TIMEOUT);
    CHECK_EQ_STR(bl_http_transport_name(slow.transport), "timeout");
    for (int i = 0; i < FAST; i++)
        CHECK(fast[i].order < slow.order);
    gate_release();
    fixture_close(&f);
}

static void body_over_server_cap_gets_413(void)
{
    fixture f;
    REQUIRE(fixture_open(&f, 0, NULL, NULL));
    size_t big_len = SERVER_BODY_CAP + 1;
    char *big = malloc(big_len);
    REQUIRE(big != NULL);
    memset(big, 'x', big_len);
    outcome o;
    roundtrip(f.c, f.s, "POST", "/echo", big, big_len, &o);
    CHECK_EQ_INT(o.transport, BL_HTTP_TRANSPORT_OK);
    CHECK_EQ_INT(o.status, 413);
    CHECK(strstr(o.body, "\"code\":\"payload_too_large\"") != NULL);
    /* Exactly the cap is still accepted. */
    roundtrip(f.c, f.s, "POST", "/echo", big, SERVER_BODY_CAP, &o);
    CHECK_EQ_INT(o.status, 200);
    CHECK_EQ_INT(o.body_total, SERVER_BODY_CAP);

    /* A client that waits for 100-continue gets the 413 without sending. */
    char url[256];
    url_for(url, sizeof url, f.s, "/echo");
    const char *hdrs[] = {"Expect: 100-continue"};
    memset(&o, 0, sizeof o);
    bl_http_call call = {.method = "POST", .url = url, .headers = hdrs, .header_count = 1,
                         .body = big, .body_len = big_len, .timeout_ms = 10000,
                         .on_done = record, .opaque = &o};
    REQUIRE(bl_http_client_submit(f.c, &call, &f.err) == 0);
    run_until_done(f.c, &o);
    CHECK_EQ_INT(o.status, 413);
    free(big);
    fixture_close(&f);
}

static void unknown_path_404_and_wrong_method_405_answer_json(void)
{
    fixture f;
    REQUIRE(fixture_open(&f, 0, NULL, NULL));
    outcome o;
    roundtrip(f.c, f.s, "GET", "/nowhere", NULL, 0, &o);
    CHECK_EQ_INT(o.status, 404);
    CHECK_EQ_STR(o.content_type, "application/json");
    json_t *j = json_loads(o.body, 0, NULL);
    CHECK(j != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(j, "error"), "code")), "not_found");
    CHECK(json_string_length(json_object_get(json_object_get(j, "error"), "request_id")) > 0);
    json_decref(j);

    roundtrip(f.c, f.s, "GET", "/echo", NULL, 0, &o);
    CHECK_EQ_INT(o.status, 405);
    CHECK_EQ_STR(o.allow, "POST");
    CHECK(strstr(o.body, "\"code\":\"method_not_allowed\"") != NULL);

    roundtrip(f.c, f.s, "GET", "/status/500", NULL, 0, &o);
    CHECK_EQ_INT(o.status, 500);
    CHECK(strstr(o.body, "\"code\":\"internal_error\"") != NULL);

    roundtrip(f.c, f.s, "GET", "/status/503", NULL, 0, &o);
    CHECK_EQ_INT(o.status, 503);
    CHECK_EQ_STR(o.retry_after, "7");

    roundtrip(f.c, f.s, "GET", "/status/302", NULL, 0, &o);
    CHECK_EQ_INT(o.status, 302); /* redirects are reported, never followed */
    fixture_close(&f);
}

static void error_body_shape_is_replaceable(void)
{
    fixture f;
    REQUIRE(fixture_open(&f, 0, confluent_error, NULL));
    outcome o;
    roundtrip(f.c, f.s, "GET", "/subjects/x", NULL, 0, &o);
    CHECK_EQ_INT(o.status, 404);
    CHECK_EQ_STR(o.body, "{\"error_code\":40401,\"message\":\"no such path\",\"path\":\"/subjects/x\"}");
    fixture_close(&f);
}

static void path_params_and_query_are_decoded(void)
{
    fixture f;
    REQUIRE(fixture_open(&f, 0, NULL, NULL));
    outcome o;
    roundtrip(f.c, f.s, "GET", "/params/a%2Fb/c%20d%C3%A9?q=x+y%26z&other", NULL, 0, &o);
    CHECK_EQ_INT(o.status, 200);
    json_t *j = json_loads(o.body, 0, NULL);
    REQUIRE(j != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "a")), "a/b");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "b")), "c d\xc3\xa9");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "q")), "x y&z");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "client")), "127.0.0.1");
    json_decref(j);
    fixture_close(&f);
}

static void malformed_percent_encoding_gets_400(void)
{
    fixture f;
    REQUIRE(fixture_open(&f, 0, NULL, NULL));
    outcome o;
    roundtrip(f.c, f.s, "GET", "/params/a%zz/b", NULL, 0, &o);
    CHECK_EQ_INT(o.status, 400);
    CHECK(strstr(o.body, "\"code\":\"bad_request\"") != NULL);
    roundtrip(f.c, f.s, "GET", "/params/a%2/b", NULL, 0, &o);
    CHECK_EQ_INT(o.status, 400);
    roundtrip(f.c, f.s, "GET", "/params/a/b?q=%G1", NULL, 0, &o);
    CHECK_EQ_INT(o.status, 400);
    fixture_close(&f);
}

static void response_body_cap_truncates_and_says_so(void)
{
    fixture f;
    bl_http_client_config cfg = {.body_cap = 100};
    REQUIRE(fixture_open(&f, 0, NULL, &cfg));
    outcome o;
    roundtrip(f.c, f.s, "GET", "/big", NULL, 0, &o);
    CHECK_EQ_INT(o.status, 200);
    CHECK_EQ_INT(o.body_len, 100);
    CHECK_EQ_INT(o.body_total, 10000);
    CHECK(o.body_truncated);
    CHECK(strncmp(o.body, "abcdefghijklmnopqrstuvwxyzabcd", 30) == 0);
    /* The drained connection is still good for the next request. */
    roundtrip(f.c, f.s, "GET", "/status/204", NULL, 0, &o);
    CHECK_EQ_INT(o.status, 204);
    CHECK(!o.body_truncated);
    CHECK(o.reused);
    fixture_close(&f);
}

static void sync_request_returns_owned_copy(void)
{
    bl_http_server *s = server_start(0, NULL);
    REQUIRE(s != NULL);
    char url[256];
    url_for(url, sizeof url, s, "/echo");
    bl_http_call call = {.method = "POST", .url = url, .body = "hello", .body_len = 5};
    bl_http_sync_result r;
    bl_err err = {0};
    CHECK_EQ_INT(bl_http_request_sync(&call, NULL, &r, &err), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(r.body, "hello");
    CHECK(r.duration_us > 0);
    bl_http_sync_result_clear(&r);
    bl_http_server_free(s);
}

typedef struct stopper {
    bl_http_server *server;
    atomic_bool stopping;
} stopper;

static void *stop_in_background(void *arg)
{
    stopper *st = arg;
    atomic_store(&st->stopping, true);
    bl_http_server_stop(st->server);
    return NULL;
}

static void stop_lets_in_flight_request_finish(void)
{
    gate_reset();
    fixture f;
    REQUIRE(fixture_open(&f, 0, NULL, NULL));
    outcome o = {0};
    REQUIRE(submit(f.c, f.s, "GET", "/slow", NULL, 0, 20000, &o) == 0);
    while (!gate_entered())
        REQUIRE(bl_http_client_run(f.c, 50, &f.err) >= 0);
    stopper st = {.server = f.s};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, stop_in_background, &st) == 0);
    while (!atomic_load(&st.stopping))
        sched_yield();
    /* Give stop a moment to quiesce before the handler answers; the test
     * does not depend on it, it only makes the drain path the usual one. */
    struct timespec nap = {0, 50 * 1000 * 1000};
    nanosleep(&nap, NULL);
    gate_release();
    run_until_done(f.c, &o);
    pthread_join(t, NULL);
    CHECK_EQ_INT(o.transport, BL_HTTP_TRANSPORT_OK);
    CHECK_EQ_INT(o.status, 200);
    CHECK_EQ_STR(o.body, "slow done");
    fixture_close(&f);
}

int main(void)
{
    BL_RUN(thousand_requests_100_in_flight_complete_on_reused_connections);
    BL_RUN(thread_pool_server_also_serves_the_load);
    BL_RUN(closed_port_reports_connect_refused);
    BL_RUN(only_http_and_https_urls_are_fetched);
    BL_RUN(timeout_on_slow_route_does_not_hold_back_other_requests);
    BL_RUN(body_over_server_cap_gets_413);
    BL_RUN(unknown_path_404_and_wrong_method_405_answer_json);
    BL_RUN(error_body_shape_is_replaceable);
    BL_RUN(path_params_and_query_are_decoded);
    BL_RUN(malformed_percent_encoding_gets_400);
    BL_RUN(response_body_cap_truncates_and_says_so);
    BL_RUN(sync_request_returns_owned_copy);
    BL_RUN(stop_lets_in_flight_request_finish);
    return bl_test_summary();
}
