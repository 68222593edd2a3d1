/* The integrations of a custom endpoint (connectors/calls) against local fake
 * outside services: each HTTP type, each retry strategy's delays as the fake
 * saw them, Retry-After, no retry on 400, each fallback, the breaker, and
 * the SSRF guard at compile. Loopback is allowed the way the webhook tests
 * allow it: an allow-list of 127.0.0.0/8. */
#include "connectors/calls/call.h"
#include "connectors/webhook/policy/signature.h"
#include "core/clock.h"
#include "tests/support/fake_service.h"
#include "tests/support/test.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bl_ssrf_allowlist allow;
static bl_call_runner *runner;

static bl_call *compile_text(const char *text, bl_err *err)
{
    json_t *cfg = json_loads(text, 0, NULL);
    if (!cfg) {
        fprintf(stderr, "  bad test JSON: %s\n", text);
        return NULL;
    }
    bl_call_compile_opts o = {.allow = &allow, .organization_id = "org-1"};
    bl_call *c = bl_call_compile(cfg, &o, err);
    json_decref(cfg);
    return c;
}

/* Compiles a config made from fmt with one URL argument (and more). */
#define COMPILE(err, ...)                                   \
    ({                                                      \
        char text_[4096];                                   \
        snprintf(text_, sizeof text_, __VA_ARGS__);         \
        compile_text(text_, err);                           \
    })

/* Starts f answering 200 with body and compiles cfg_fmt, whose one %s is
 * f's URL of path. */
static bl_call *call_on_fake(fake_service *f, const char *body, const char *path, const char *cfg_fmt, bl_err *err)
{
    char url[256], text[4096];
    if (fake_service_start(f, body) != 0)
        return NULL;
    fake_service_url(f, path, url, sizeof url);
    snprintf(text, sizeof text, cfg_fmt, url);
    return compile_text(text, err);
}

static int64_t gap(fake_service *f, size_t i)
{
    fake_hit a, b;
    if (fake_service_hit(f, i, &a) != 0 || fake_service_hit(f, i + 1, &b) != 0)
        return -1;
    return b.at_ms - a.at_ms;
}

static void http_call_fills_url_headers_and_body_from_input(void)
{
    fake_service f;
    REQUIRE(fake_service_start(&f, "{\"name\":\"Ada\",\"tier\":3}") == 0);
    char url[256];
    fake_service_url(&f, "/customers/{customer.id}?q={q}", url, sizeof url);
    bl_err err = {0};
    bl_call *c = COMPILE(&err,
        "{\"id\":\"crm\",\"type\":\"http\",\"method\":\"POST\",\"endpoint\":\"%s\","
        "\"headers\":{\"X-Custom\":\"tenant-{tenant}\"},"
        "\"authentication\":{\"type\":\"bearer\",\"token\":\"tok-1\"},"
        "\"body\":{\"customer\":\"{customer.id}\",\"note\":\"hello {tenant}\",\"fixed\":7,\"raw\":\"{}\"}}", url);
    REQUIRE(c != NULL);
    json_t *in = json_pack("{s:{s:i}, s:s, s:s}", "customer", "id", 42, "q", "a b&c", "tenant", "acme");
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(runner, c, in, "key-1", &r, &err), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.source, BL_CALL_SOURCE_ENDPOINT);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK_EQ_STR(json_string_value(json_object_get(r.body, "name")), "Ada");
    fake_hit h;
    REQUIRE(fake_service_hit(&f, 0, &h) == 0);
    CHECK_EQ_STR(h.method, "POST");
    CHECK_EQ_STR(h.path, "/customers/42");
    CHECK_EQ_STR(h.query_q, "a b&c");
    CHECK_EQ_STR(h.authorization, "Bearer tok-1");
    CHECK_EQ_STR(h.custom, "tenant-acme");
    CHECK_EQ_STR(h.idempotency_key, "key-1");
    CHECK_EQ_STR(h.content_type, "application/json");
    json_t *sent = json_loads(h.body, 0, NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(sent, "customer")), 42);
    CHECK_EQ_STR(json_string_value(json_object_get(sent, "note")), "hello acme");
    CHECK_EQ_INT(json_integer_value(json_object_get(sent, "fixed")), 7);
    CHECK_EQ_STR(json_string_value(json_object_get(sent, "raw")), "{}"); /* names nothing: kept */
    json_decref(sent);
    /* a placeholder the input cannot fill fails before anything is sent */
    json_t *empty = json_object();
    bl_call_result r2;
    CHECK_EQ_INT(bl_call_run(runner, c, empty, NULL, &r2, &err), -1);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK(strstr(err.msg, "customer.id") != NULL);
    CHECK_EQ_INT(fake_service_count(&f), 1);
    bl_call_result_clear(&r2);
    json_decref(empty);
    json_decref(in);
    bl_call_result_clear(&r);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void http_call_sends_basic_and_api_key_authentication(void)
{
    fake_service f;
    REQUIRE(fake_service_start(&f, "{}") == 0);
    char url[256];
    fake_service_url(&f, "/auth", url, sizeof url);
    bl_err err = {0};
    bl_call *basic = COMPILE(&err, "{\"id\":\"basic\",\"type\":\"http\",\"endpoint\":\"%s\","
                                   "\"authentication\":{\"type\":\"basic\",\"username\":\"ada\",\"password\":\"s3cret\"}}", url);
    bl_call *key = COMPILE(&err, "{\"id\":\"key\",\"type\":\"http\",\"endpoint\":\"%s\","
                                 "\"authentication\":{\"type\":\"api-key\",\"header\":\"X-Custom\",\"value\":\"k-1\"}}", url);
    REQUIRE(basic != NULL && key != NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(runner, basic, NULL, NULL, &r, &err), 0);
    bl_call_result_clear(&r);
    CHECK_EQ_INT(bl_call_run(runner, key, NULL, NULL, &r, &err), 0);
    bl_call_result_clear(&r);
    fake_hit h;
    REQUIRE(fake_service_hit(&f, 0, &h) == 0);
    CHECK_EQ_STR(h.authorization, "Basic YWRhOnMzY3JldA=="); /* base64("ada:s3cret") */
    REQUIRE(fake_service_hit(&f, 1, &h) == 0);
    CHECK_EQ_STR(h.custom, "k-1");
    CHECK_EQ_STR(h.authorization, "");
    bl_call_free(basic);
    bl_call_free(key);
    fake_service_stop(&f);
}

typedef struct many_ctx {
    const bl_call *call;
    int ok, reused;
} many_ctx;

static void *run_many(void *arg)
{
    many_ctx *m = arg;
    for (int i = 0; i < 10; i++) {
        bl_call_result r;
        bl_err err = {0};
        json_t *in = json_pack("{s:i}", "n", i);
        if (bl_call_run(runner, m->call, in, NULL, &r, &err) == 0 && r.status == 200)
            m->ok++;
        m->reused += r.connections_reused;
        bl_call_result_clear(&r);
        json_decref(in);
    }
    return NULL;
}

/* Calls from many threads share the runner's client: every one answered,
 * and all but the first few (one per connection opened) reuse a connection. */
static void calls_from_many_threads_share_keep_alive_connections(void)
{
    fake_service f;
    bl_err err = {0};
    bl_call *c = call_on_fake(&f, "{\"ok\":true}", "/items/{n}",
                              "{\"id\":\"many\",\"type\":\"http\",\"endpoint\":\"%s\"}", &err);
    REQUIRE(c != NULL);
    enum { THREADS = 4 };
    pthread_t t[THREADS];
    many_ctx m[THREADS];
    for (int i = 0; i < THREADS; i++) {
        m[i] = (many_ctx){c, 0, 0};
        REQUIRE(pthread_create(&t[i], NULL, run_many, &m[i]) == 0);
    }
    int ok = 0, reused = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ok += m[i].ok;
        reused += m[i].reused;
    }
    CHECK_EQ_INT(ok, THREADS * 10);
    CHECK_EQ_INT(fake_service_count(&f), THREADS * 10);
    /* at most one new connection per concurrent caller */
    CHECK(reused >= THREADS * 10 - THREADS);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void graphql_call_posts_query_and_variables(void)
{
    fake_service f;
    REQUIRE(fake_service_start(&f, "{\"data\":{\"customer\":{\"name\":\"Ada\"}}}") == 0);
    char url[256];
    fake_service_url(&f, "/graphql", url, sizeof url);
    bl_err err = {0};
    bl_call *c = COMPILE(&err,
        "{\"id\":\"gql\",\"type\":\"graphql\",\"endpoint\":\"%s\","
        "\"query\":\"query C($id: ID!) { customer(id: $id) { name } }\",\"operationName\":\"C\","
        "\"variables\":{\"id\":\"{customer_id}\"}}", url);
    REQUIRE(c != NULL);
    json_t *in = json_pack("{s:s}", "customer_id", "c-9");
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(runner, c, in, NULL, &r, &err), 0);
    CHECK_EQ_STR(f.problem, "");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_object_get(r.body, "data"), "customer"), "name")), "Ada");
    fake_hit h;
    REQUIRE(fake_service_hit(&f, 0, &h) == 0);
    CHECK_EQ_STR(h.method, "POST");
    CHECK(strstr(h.accept, "application/graphql-response+json") != NULL);
    json_t *sent = json_loads(h.body, 0, NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(sent, "variables"), "id")), "c-9");
    CHECK_EQ_STR(json_string_value(json_object_get(sent, "operationName")), "C");
    CHECK(strstr(json_string_value(json_object_get(sent, "query")), "customer(id: $id)") != NULL);
    json_decref(sent);
    bl_call_result_clear(&r);
    json_decref(in);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void graphql_errors_in_answer_are_a_failure(void)
{
    fake_service f;
    bl_err err = {0};
    bl_call *c = call_on_fake(&f, "{\"data\":null,\"errors\":[{\"message\":\"customer not found\"}]}", "/graphql",
                              "{\"id\":\"gql2\",\"type\":\"graphql\",\"endpoint\":\"%s\",\"query\":\"{ x }\","
                              "\"retryPolicy\":{\"maxAttempts\":3,\"baseDelay\":10}}", &err);
    REQUIRE(c != NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(runner, c, NULL, NULL, &r, &err), -1);
    CHECK(strstr(err.msg, "customer not found") != NULL);
    CHECK_EQ_INT(r.attempts, 1); /* an answer with errors is not retried */
    bl_call_result_clear(&r);
    bl_call_free(c);
    /* with a default response, that failure falls back */
    char url[256];
    fake_service_url(&f, "/graphql", url, sizeof url);
    c = COMPILE(&err, "{\"id\":\"gql3\",\"type\":\"graphql\",\"endpoint\":\"%s\",\"query\":\"{ x }\","
                      "\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"default-response\",\"fallbackData\":{\"x\":0}}}", url);
    REQUIRE(c != NULL);
    CHECK_EQ_INT(bl_call_run(runner, c, NULL, NULL, &r, &err), 0);
    CHECK_EQ_INT(r.source, BL_CALL_SOURCE_DEFAULT);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.body, "x")), 0);
    CHECK(strstr(r.error, "customer not found") != NULL);
    bl_call_result_clear(&r);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void webhook_call_is_signed_as_deliveries_are(void)
{
    fake_service f;
    REQUIRE(fake_service_start(&f, "{\"received\":true}") == 0);
    fake_service_queue(&f, 503, NULL, NULL);
    char url[256], secret_text[BL_WEBHOOK_SECRET_TEXT_MAX];
    fake_service_url(&f, "/hooks/in", url, sizeof url);
    bl_err err = {0};
    REQUIRE(bl_webhook_secret_generate(secret_text, sizeof secret_text, &err) == 0);
    bl_call *c = COMPILE(&err, "{\"id\":\"hook\",\"type\":\"webhook\",\"endpoint\":\"%s\","
                               "\"authentication\":{\"type\":\"webhook-signature\",\"secret\":\"%s\"},"
                               "\"retryPolicy\":{\"maxAttempts\":2,\"baseDelay\":10}}", url, secret_text);
    REQUIRE(c != NULL);
    json_t *in = json_pack("{s:s}", "order", "o-1");
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(runner, c, in, "evt_123", &r, &err), 0);
    CHECK_EQ_INT(r.attempts, 2);
    CHECK_EQ_INT(fake_service_count(&f), 2);
    bl_webhook_secret secret;
    REQUIRE(bl_webhook_secret_from_text(secret_text, &secret, &err) == 0);
    for (size_t i = 0; i < 2; i++) {
        fake_hit h;
        REQUIRE(fake_service_hit(&f, i, &h) == 0);
        CHECK_EQ_STR(h.webhook_id, "evt_123"); /* the same id on the retry: receivers drop duplicates */
        CHECK_EQ_STR(h.body, "{\"order\":\"o-1\"}");
        bl_webhook_verdict v = bl_webhook_verify_v1(&secret, h.webhook_id, h.webhook_timestamp, h.webhook_signature,
                                                    h.body, h.body_len, bl_clock_wall_ms() / 1000, 300, &err);
        CHECK_EQ_INT(v, BL_WEBHOOK_VERIFY_OK);
    }
    bl_call_result_clear(&r);
    json_decref(in);
    bl_call_free(c);
    fake_service_stop(&f);
}

/* maxAttempts 4 against 503, 503, 503, 200: three gaps. Each planned delay
 * lies within the strategy's own jitter of its nominal value; the fake saw
 * each gap no shorter than the planned delay and no longer than it plus
 * half the base delay (the smallest step any strategy takes). */
static void check_strategy(const char *strategy, const int64_t nominal[3])
{
    const double jitter = 0.2;
    const int64_t base = 200;
    fake_service f;
    REQUIRE(fake_service_start(&f, "{\"ok\":true}") == 0);
    for (int i = 0; i < 3; i++)
        fake_service_queue(&f, 503, NULL, NULL);
    char url[256];
    fake_service_url(&f, "/flaky", url, sizeof url);
    bl_err err = {0};
    bl_call *c = COMPILE(&err, "{\"id\":\"retry-%s\",\"type\":\"http\",\"endpoint\":\"%s\",\"retryPolicy\":"
                               "{\"maxAttempts\":4,\"backoffStrategy\":\"%s\",\"baseDelay\":%lld,\"maxDelay\":5000,"
                               "\"jitter\":%.2f}}", strategy, url, strategy, (long long)base, jitter);
    REQUIRE(c != NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(runner, c, NULL, NULL, &r, &err), 0);
    CHECK_EQ_INT(r.attempts, 4);
    REQUIRE(fake_service_count(&f) == 4);
    for (size_t i = 0; i < 3; i++) {
        int64_t planned = r.delays_ms[i], seen = gap(&f, i);
        if (planned < (int64_t)(nominal[i] * (1 - jitter)) || planned > (int64_t)(nominal[i] * (1 + jitter)) + 1 ||
            seen < planned || seen > planned + base / 2) {
            fprintf(stderr, "  %s gap %zu: nominal %lld planned %lld seen %lld\n", strategy, i,
                    (long long)nominal[i], (long long)planned, (long long)seen);
            CHECK(0);
        }
    }
    bl_call_result_clear(&r);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void retry_linear_delays_grow_by_base(void)
{
    const int64_t d[3] = {200, 400, 600};
    check_strategy("linear", d);
}

static void retry_exponential_delays_double(void)
{
    const int64_t d[3] = {200, 400, 800};
    check_strategy("exponential", d);
}

static void retry_fixed_delays_stay_at_base(void)
{
    const int64_t d[3] = {200, 200, 200};
    check_strategy("fixed", d);
}

static void retry_after_of_429_replaces_the_backoff(void)
{
    fake_service f;
    bl_err err = {0};
    bl_call *c = call_on_fake(&f, "{\"ok\":true}", "/limited",
                              "{\"id\":\"ra\",\"type\":\"http\",\"endpoint\":\"%s\",\"retryPolicy\":"
                              "{\"maxAttempts\":2,\"backoffStrategy\":\"fixed\",\"baseDelay\":20,\"maxDelay\":5000}}", &err);
    REQUIRE(c != NULL);
    fake_service_queue(&f, 429, "{\"error\":\"slow down\"}", "1");
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(runner, c, NULL, NULL, &r, &err), 0);
    CHECK_EQ_INT(r.attempts, 2);
    CHECK_EQ_INT(r.delays_ms[0], 1000);
    CHECK(gap(&f, 0) >= 1000);
    bl_call_result_clear(&r);
    /* a Retry-After beyond maxDelay ends the retries: never sooner than asked */
    fake_service_queue(&f, 429, NULL, "30");
    CHECK_EQ_INT(bl_call_run(runner, c, NULL, NULL, &r, &err), -1);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK_EQ_INT(r.status, 429);
    bl_call_result_clear(&r);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void no_retry_and_no_fallback_on_400(void)
{
    fake_service f;
    bl_err err = {0};
    bl_call *c = call_on_fake(&f, "{\"ok\":true}", "/strict",
                              "{\"id\":\"strict\",\"type\":\"http\",\"method\":\"POST\",\"endpoint\":\"%s\","
                              "\"retryPolicy\":{\"maxAttempts\":5,\"baseDelay\":10},"
                              "\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"default-response\",\"fallbackData\":{}}}", &err);
    REQUIRE(c != NULL);
    fake_service_queue(&f, 400, "{\"error\":\"bad field\"}", NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(runner, c, NULL, NULL, &r, &err), -1);
    CHECK_EQ_INT(err.code, BL_EHTTP);
    CHECK_EQ_INT(r.attempts, 1);
    CHECK_EQ_INT(r.status, 400);
    CHECK_EQ_INT(r.source, BL_CALL_SOURCE_ENDPOINT);
    CHECK_EQ_STR(json_string_value(json_object_get(r.body, "error")), "bad field");
    CHECK_EQ_INT(fake_service_count(&f), 1);
    bl_call_result_clear(&r);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void transport_error_is_retried(void)
{
    fake_service f;
    bl_err err = {0};
    bl_call *c = call_on_fake(&f, "{\"ok\":true}", "/reset",
                              "{\"id\":\"reset\",\"type\":\"http\",\"endpoint\":\"%s\","
                              "\"retryPolicy\":{\"maxAttempts\":2,\"baseDelay\":10}}", &err);
    REQUIRE(c != NULL);
    fake_service_queue(&f, FAKE_SERVICE_RESET, NULL, NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(runner, c, NULL, NULL, &r, &err), 0);
    CHECK_EQ_INT(r.attempts, 2);
    CHECK_EQ_INT(r.status, 200);
    bl_call_result_clear(&r);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void timeout_is_a_failure_that_is_retried_then_falls_back(void)
{
    fake_service f;
    bl_err err = {0};
    bl_call *c = call_on_fake(&f, "{\"fresh\":true}", "/slow",
                              "{\"id\":\"slow\",\"type\":\"http\",\"endpoint\":\"%s\",\"timeout\":100,"
                              "\"retryPolicy\":{\"maxAttempts\":2,\"baseDelay\":10},"
                              "\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"default-response\",\"fallbackData\":{\"late\":false}}}", &err);
    REQUIRE(c != NULL);
    fake_service_queue_slow(&f, 200, "{\"late\":true}", 600);
    fake_service_queue_slow(&f, 200, "{\"late\":true}", 600);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(runner, c, NULL, NULL, &r, &err), 0);
    CHECK_EQ_INT(r.attempts, 2);
    CHECK_EQ_INT(r.source, BL_CALL_SOURCE_DEFAULT);
    CHECK(json_is_false(json_object_get(r.body, "late")));
    CHECK(strncmp(r.error, "timeout", 7) == 0);
    bl_call_result_clear(&r);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void fallback_cache_answers_the_last_good_answer_of_that_input(void)
{
    fake_service f;
    bl_err err = {0};
    bl_call *c = call_on_fake(&f, "{\"price\":10}", "/prices/{sku}",
                              "{\"id\":\"prices\",\"type\":\"http\",\"endpoint\":\"%s\","
                              "\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"cache\"}}", &err);
    REQUIRE(c != NULL);
    json_t *a = json_pack("{s:s}", "sku", "A"), *b = json_pack("{s:s}", "sku", "B");
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(runner, c, a, NULL, &r, &err), 0);
    CHECK_EQ_INT(r.source, BL_CALL_SOURCE_ENDPOINT);
    bl_call_result_clear(&r);
    fake_service_default(&f, 500, "{\"error\":\"down\"}");
    CHECK_EQ_INT(bl_call_run(runner, c, a, NULL, &r, &err), 0);
    CHECK_EQ_INT(r.source, BL_CALL_SOURCE_CACHE);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.body, "price")), 10);
    CHECK(strstr(r.error, "500") != NULL);
    bl_call_result_clear(&r);
    /* another input has no last good answer */
    CHECK_EQ_INT(bl_call_run(runner, c, b, NULL, &r, &err), -1);
    CHECK_EQ_INT(r.status, 500);
    bl_call_result_clear(&r);
    json_decref(a);
    json_decref(b);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void fallback_default_response_answers_configured_data(void)
{
    fake_service f;
    bl_err err = {0};
    bl_call *c = call_on_fake(&f, "{}", "/down",
                              "{\"id\":\"dflt\",\"type\":\"http\",\"endpoint\":\"%s\",\"retryPolicy\":{\"maxAttempts\":2,\"baseDelay\":10},"
                              "\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"default-response\","
                              "\"fallbackData\":{\"items\":[],\"stale\":true}}}", &err);
    REQUIRE(c != NULL);
    fake_service_default(&f, 503, NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(runner, c, NULL, NULL, &r, &err), 0);
    CHECK_EQ_INT(r.source, BL_CALL_SOURCE_DEFAULT);
    CHECK_EQ_INT(r.attempts, 2);
    CHECK(json_is_true(json_object_get(r.body, "stale")));
    bl_call_result_clear(&r);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void fallback_alternative_service_is_called_after_the_first_fails(void)
{
    fake_service f, alt;
    REQUIRE(fake_service_start(&f, "{}") == 0);
    REQUIRE(fake_service_start(&alt, "{\"from\":\"alternative\"}") == 0);
    fake_service_default(&f, 502, NULL);
    char url[256], alt_url[256];
    fake_service_url(&f, "/stock/{sku}", url, sizeof url);
    fake_service_url(&alt, "/mirror/stock/{sku}", alt_url, sizeof alt_url);
    bl_err err = {0};
    bl_call *c = COMPILE(&err, "{\"id\":\"stock\",\"type\":\"http\",\"endpoint\":\"%s\",\"retryPolicy\":{\"maxAttempts\":2,\"baseDelay\":10},"
                               "\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"alternative-service\","
                               "\"fallbackData\":{\"endpoint\":\"%s\"}}}", url, alt_url);
    REQUIRE(c != NULL);
    json_t *in = json_pack("{s:s}", "sku", "Z9");
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(runner, c, in, NULL, &r, &err), 0);
    CHECK_EQ_INT(r.source, BL_CALL_SOURCE_ALTERNATIVE);
    CHECK_EQ_INT(r.attempts, 2);
    CHECK_EQ_INT(r.alternative_attempts, 1);
    CHECK_EQ_STR(json_string_value(json_object_get(r.body, "from")), "alternative");
    fake_hit h;
    REQUIRE(fake_service_hit(&alt, 0, &h) == 0);
    CHECK_EQ_STR(h.path, "/mirror/stock/Z9");
    bl_call_result_clear(&r);
    json_decref(in);
    bl_call_free(c);
    fake_service_stop(&alt);
    fake_service_stop(&f);
}

static void breaker_opens_then_half_open_trial_closes_it(void)
{
    fake_service f;
    bl_err err = {0};
    bl_call *c = call_on_fake(&f, "{}", "/fragile",
                              "{\"id\":\"fragile\",\"type\":\"http\",\"endpoint\":\"%s\","
                              "\"circuitBreaker\":{\"failureThreshold\":2,\"windowMs\":60000,\"openMs\":300}}", &err);
    REQUIRE(c != NULL);
    fake_service_default(&f, 500, NULL);
    bl_call_result r;
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(bl_call_run(runner, c, NULL, NULL, &r, &err), -1);
        bl_call_result_clear(&r);
    }
    CHECK_EQ_INT(bl_call_runner_breaker_state(runner, c), BL_BREAKER_OPEN);
    CHECK_EQ_INT(bl_call_run(runner, c, NULL, NULL, &r, &err), -1);
    CHECK_EQ_INT(err.code, BL_ECONFLICT);
    CHECK(r.breaker_open);
    CHECK_EQ_INT(r.attempts, 0);
    CHECK_EQ_INT(fake_service_count(&f), 2); /* refused without a request */
    bl_call_result_clear(&r);
    fake_service_default(&f, 200, "{\"back\":true}");
    usleep(350 * 1000); /* past openMs: the next request is the trial */
    CHECK_EQ_INT(bl_call_runner_breaker_state(runner, c), BL_BREAKER_HALF_OPEN);
    CHECK_EQ_INT(bl_call_run(runner, c, NULL, NULL, &r, &err), 0);
    CHECK(json_is_true(json_object_get(r.body, "back")));
    CHECK_EQ_INT(bl_call_runner_breaker_state(runner, c), BL_BREAKER_CLOSED);
    CHECK_EQ_INT(fake_service_count(&f), 3);
    bl_call_result_clear(&r);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void breaker_open_falls_back(void)
{
    fake_service f;
    bl_err err = {0};
    bl_call *c = call_on_fake(&f, "{}", "/fragile2",
                              "{\"id\":\"fragile2\",\"type\":\"http\",\"endpoint\":\"%s\","
                              "\"circuitBreaker\":{\"failureThreshold\":1,\"openMs\":60000},"
                              "\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"default-response\",\"fallbackData\":\"later\"}}", &err);
    REQUIRE(c != NULL);
    fake_service_default(&f, 500, NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(runner, c, NULL, NULL, &r, &err), 0); /* failed, then the default */
    bl_call_result_clear(&r);
    CHECK_EQ_INT(bl_call_run(runner, c, NULL, NULL, &r, &err), 0);
    CHECK(r.breaker_open);
    CHECK_EQ_INT(r.source, BL_CALL_SOURCE_DEFAULT);
    CHECK_EQ_STR(json_string_value(r.body), "later");
    CHECK_EQ_INT(fake_service_count(&f), 1);
    bl_call_result_clear(&r);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void compile_refuses_addresses_the_guard_does_not_allow(void)
{
    bl_err err = {0};
    bl_call *c = COMPILE(&err, "{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://10.1.2.3/api\"}");
    CHECK(c == NULL);
    CHECK(strncmp(err.msg, "endpoint: ssrf:", 15) == 0);
    CHECK(strstr(err.msg, "private") != NULL);
    c = COMPILE(&err, "{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://127.0.0.1:1/ok\",\"fallbackStrategy\":"
                      "{\"enabled\":true,\"strategy\":\"alternative-service\",\"fallbackData\":\"http://169.254.169.254/meta\"}}");
    CHECK(c == NULL);
    CHECK(strncmp(err.msg, "fallbackStrategy.fallbackData.endpoint: ssrf:", 45) == 0);
    /* without the allow-list, loopback is refused too */
    json_t *cfg = json_pack("{s:s, s:s, s:s}", "id", "x", "type", "http", "endpoint", "http://127.0.0.1:8080/x");
    c = bl_call_compile(cfg, NULL, &err);
    CHECK(c == NULL);
    CHECK(strstr(err.msg, "loopback") != NULL);
    json_decref(cfg);
    /* placeholders may not choose the host */
    c = COMPILE(&err, "{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://{host}/x\"}");
    CHECK(c == NULL);
    CHECK(strstr(err.msg, "path and query only") != NULL);
}

/* The guard is asked again at every attempt, with the runner's allow-list:
 * a runner that allows no loopback sends nothing there. */
static void run_checks_the_address_again_with_the_runner_allow_list(void)
{
    fake_service f;
    bl_err err = {0};
    bl_call *c = call_on_fake(&f, "{}", "/guarded", "{\"id\":\"guarded\",\"type\":\"http\",\"endpoint\":\"%s\"}", &err);
    REQUIRE(c != NULL);
    bl_call_runner *strict = bl_call_runner_new(NULL, &err);
    REQUIRE(strict != NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(strict, c, NULL, NULL, &r, &err), -1);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK(strstr(err.msg, "loopback") != NULL);
    CHECK_EQ_INT(fake_service_count(&f), 0);
    bl_call_result_clear(&r);
    bl_call_runner_free(strict);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void compile_errors_name_the_field(void)
{
    static const struct { const char *cfg, *prefix; } cases[] = {
        {"{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://127.0.0.1:1/\",\"retryPolicy\":{\"backoffStrategy\":\"random\"}}", "retryPolicy.backoffStrategy:"},
        {"{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://127.0.0.1:1/\",\"retryPolicy\":{\"maxAttempts\":0}}", "retryPolicy.maxAttempts:"},
        {"{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://127.0.0.1:1/\",\"retryPolicy\":{\"baseDelay\":500,\"maxDelay\":100}}", "retryPolicy.maxDelay:"},
        {"{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://127.0.0.1:1/\",\"timeout\":0}", "timeout:"},
        {"{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://127.0.0.1:1/\",\"headers\":{\"Bad Name\":\"v\"}}", "headers.Bad Name:"},
        {"{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://127.0.0.1:1/\",\"headers\":{\"X-A\":\"a\\r\\nInjected: 1\"}}", "headers.X-A:"},
        {"{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://127.0.0.1:1/\",\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"default-response\"}}", "fallbackStrategy.fallbackData:"},
        {"{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://127.0.0.1:1/\",\"fallbackStrategy\":{\"strategy\":\"pray\"}}", "fallbackStrategy.strategy:"},
        {"{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://127.0.0.1:1/\",\"query\":\"{ a }\"}", "query:"},
        {"{\"id\":\"x\",\"type\":\"webhook\",\"endpoint\":\"http://127.0.0.1:1/\"}", "authentication:"},
        {"{\"id\":\"x\",\"type\":\"graphql\",\"endpoint\":\"http://127.0.0.1:1/\"}", "query:"},
        {"{\"id\":\"x\",\"type\":\"bus\",\"topic\":\"commands.nowhere\",\"messageType\":\"a.b\",\"subject\":\"s\"}", "topic:"},
        {"{\"id\":\"x\",\"type\":\"bus\",\"topic\":\"commands.pmo\",\"messageType\":\"risk.explode\",\"subject\":\"s\"}", "messageType:"},
        {"{\"id\":\"x\",\"type\":\"soap\"}", "type:"},
        {"{\"type\":\"http\"}", "id:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bl_err err = {0};
        bl_call *c = compile_text(cases[i].cfg, &err);
        if (c || strncmp(err.msg, cases[i].prefix, strlen(cases[i].prefix)) != 0) {
            fprintf(stderr, "  case %zu: got \"%s\", want prefix \"%s\"\n", i, err.msg, cases[i].prefix);
            CHECK(0);
        }
        bl_call_free(c);
    }
}

static void compile_refuses_database_saying_why(void)
{
    bl_err err = {0};
    bl_call *c = compile_text("{\"id\":\"db\",\"type\":\"database\"}", &err);
    CHECK(c == NULL);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK(strncmp(err.msg, "type: database is not supported", 31) == 0);
    CHECK(strstr(err.msg, "read-only role") != NULL);
}

int main(void)
{
    bl_err err = {0};
    if (bl_ssrf_allowlist_parse("127.0.0.0/8", &allow, &err) != 0)
        return 1;
    bl_call_runner_opts o = {.allow = &allow};
    runner = bl_call_runner_new(&o, &err);
    if (!runner) {
        fprintf(stderr, "runner: %s\n", err.msg);
        return 1;
    }
    BL_RUN(http_call_fills_url_headers_and_body_from_input);
    BL_RUN(http_call_sends_basic_and_api_key_authentication);
    BL_RUN(calls_from_many_threads_share_keep_alive_connections);
    BL_RUN(graphql_call_posts_query_and_variables);
    BL_RUN(graphql_errors_in_answer_are_a_failure);
    BL_RUN(webhook_call_is_signed_as_deliveries_are);
    BL_RUN(retry_linear_delays_grow_by_base);
    BL_RUN(retry_exponential_delays_double);
    BL_RUN(retry_fixed_delays_stay_at_base);
    BL_RUN(retry_after_of_429_replaces_the_backoff);
    BL_RUN(no_retry_and_no_fallback_on_400);
    BL_RUN(transport_error_is_retried);
    BL_RUN(timeout_is_a_failure_that_is_retried_then_falls_back);
    BL_RUN(fallback_cache_answers_the_last_good_answer_of_that_input);
    BL_RUN(fallback_default_response_answers_configured_data);
    BL_RUN(fallback_alternative_service_is_called_after_the_first_fails);
    BL_RUN(breaker_opens_then_half_open_trial_closes_it);
    BL_RUN(breaker_open_falls_back);
    BL_RUN(compile_refuses_addresses_the_guard_does_not_allow);
    BL_RUN(run_checks_the_address_again_with_the_runner_allow_list);
    BL_RUN(compile_errors_name_the_field);
    BL_RUN(compile_refuses_database_saying_why);
    bl_call_runner_free(runner);
    return bl_test_summary();
}
