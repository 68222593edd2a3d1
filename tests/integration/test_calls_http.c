/* The integrations of a custom endpoint (connectors/calls) against local fake
 * outside services: each HTTP type (http, graphql, a signed webhook), calls
 * from many threads over shared connections, and the SSRF guard and the
 * field errors at compile. Retries, fallbacks and the breaker are in
 * test_calls_resilience.c. Loopback is allowed the way the webhook tests
 * allow it: an allow-list of 127.0.0.0/8 (tests/support/calls_fixture.h). */
#include "connectors/calls/call.h"
#include "connectors/webhook/policy/signature.h"
#include "core/clock.h"
#include "tests/support/calls_fixture.h"
#include "tests/support/fake_service.h"
#include "tests/support/test.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void http_call_fills_url_headers_and_body_from_input(void)
{
    fake_service f;
    REQUIRE(fake_service_start(&f, "{\"name\":\"Ada\",\"tier\":3}") == 0);
    char url[256];
    fake_service_url(&f, "/customers/{customer.id}?q={q}", url, sizeof url);
    bl_err err = {0};
    bl_call *c = BL_CALLS_COMPILE(&err,
        "{\"id\":\"crm\",\"type\":\"http\",\"method\":\"POST\",\"endpoint\":\"%s\","
        "\"headers\":{\"X-Custom\":\"tenant-{tenant}\"},"
        "\"authentication\":{\"type\":\"bearer\",\"token\":\"tok-1\"},"
        "\"body\":{\"customer\":\"{customer.id}\",\"note\":\"hello {tenant}\",\"fixed\":7,\"raw\":\"{}\"}}", url);
    REQUIRE(c != NULL);
    json_t *in = json_pack("{s:{s:i}, s:s, s:s}", "customer", "id", 42, "q", "a b&c", "tenant", "acme");
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, in, "key-1", &r, &err), 0);
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
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, empty, NULL, &r2, &err), -1);
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
    bl_call *basic = BL_CALLS_COMPILE(&err, "{\"id\":\"basic\",\"type\":\"http\",\"endpoint\":\"%s\","
                                   "\"authentication\":{\"type\":\"basic\",\"username\":\"ada\",\"password\":\"s3cret\"}}", url);
    bl_call *key = BL_CALLS_COMPILE(&err, "{\"id\":\"key\",\"type\":\"http\",\"endpoint\":\"%s\","
                                 "\"authentication\":{\"type\":\"api-key\",\"header\":\"X-Custom\",\"value\":\"k-1\"}}", url);
    REQUIRE(basic != NULL && key != NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, basic, NULL, NULL, &r, &err), 0);
    bl_call_result_clear(&r);
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, key, NULL, NULL, &r, &err), 0);
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
        if (bl_call_run(bl_calls_runner, m->call, in, NULL, &r, &err) == 0 && r.status == 200)
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
    bl_call *c = bl_calls_on_fake(&f, "{\"ok\":true}", "/items/{n}",
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
    bl_call *c = BL_CALLS_COMPILE(&err,
        "{\"id\":\"gql\",\"type\":\"graphql\",\"endpoint\":\"%s\","
        "\"query\":\"query C($id: ID!) { customer(id: $id) { name } }\",\"operationName\":\"C\","
        "\"variables\":{\"id\":\"{customer_id}\"}}", url);
    REQUIRE(c != NULL);
    json_t *in = json_pack("{s:s}", "customer_id", "c-9");
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, in, NULL, &r, &err), 0);
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
    bl_call *c = bl_calls_on_fake(&f, "{\"data\":null,\"errors\":[{\"message\":\"customer not found\"}]}", "/graphql",
                              "{\"id\":\"gql2\",\"type\":\"graphql\",\"endpoint\":\"%s\",\"query\":\"{ x }\","
                              "\"retryPolicy\":{\"maxAttempts\":3,\"baseDelay\":10}}", &err);
    REQUIRE(c != NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, NULL, NULL, &r, &err), -1);
    CHECK(strstr(err.msg, "customer not found") != NULL);
    CHECK_EQ_INT(r.attempts, 1); /* an answer with errors is not retried */
    bl_call_result_clear(&r);
    bl_call_free(c);
    /* with a default response, that failure falls back */
    char url[256];
    fake_service_url(&f, "/graphql", url, sizeof url);
    c = BL_CALLS_COMPILE(&err, "{\"id\":\"gql3\",\"type\":\"graphql\",\"endpoint\":\"%s\",\"query\":\"{ x }\","
                      "\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"default-response\",\"fallbackData\":{\"x\":0}}}", url);
    REQUIRE(c != NULL);
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, NULL, NULL, &r, &err), 0);
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
    bl_call *c = BL_CALLS_COMPILE(&err, "{\"id\":\"hook\",\"type\":\"webhook\",\"endpoint\":\"%s\","
                               "\"authentication\":{\"type\":\"webhook-signature\",\"secret\":\"%s\"},"
                               "\"retryPolicy\":{\"maxAttempts\":2,\"baseDelay\":10}}", url, secret_text);
    REQUIRE(c != NULL);
    json_t *in = json_pack("{s:s}", "order", "o-1");
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, in, "evt_123", &r, &err), 0);
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


static void compile_refuses_addresses_the_guard_does_not_allow(void)
{
    bl_err err = {0};
    bl_call *c = BL_CALLS_COMPILE(&err, "{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://10.1.2.3/api\"}");
    CHECK(c == NULL);
    CHECK(strncmp(err.msg, "endpoint: ssrf:", 15) == 0);
    CHECK(strstr(err.msg, "private") != NULL);
    c = BL_CALLS_COMPILE(&err, "{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://127.0.0.1:1/ok\",\"fallbackStrategy\":"
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
    c = BL_CALLS_COMPILE(&err, "{\"id\":\"x\",\"type\":\"http\",\"endpoint\":\"http://{host}/x\"}");
    CHECK(c == NULL);
    CHECK(strstr(err.msg, "path and query only") != NULL);
}

/* The guard is asked again at every attempt, with the runner's allow-list:
 * a runner that allows no loopback sends nothing there. */
static void run_checks_the_address_again_with_the_runner_allow_list(void)
{
    fake_service f;
    bl_err err = {0};
    bl_call *c = bl_calls_on_fake(&f, "{}", "/guarded", "{\"id\":\"guarded\",\"type\":\"http\",\"endpoint\":\"%s\"}", &err);
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
        bl_call *c = bl_calls_compile_text(cases[i].cfg, &err);
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
    bl_call *c = bl_calls_compile_text("{\"id\":\"db\",\"type\":\"database\"}", &err);
    CHECK(c == NULL);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK(strncmp(err.msg, "type: database is not supported", 31) == 0);
    CHECK(strstr(err.msg, "read-only role") != NULL);
}

int main(void)
{
    if (bl_calls_fixture_open() != 0)
        return 1;
    BL_RUN(http_call_fills_url_headers_and_body_from_input);
    BL_RUN(http_call_sends_basic_and_api_key_authentication);
    BL_RUN(calls_from_many_threads_share_keep_alive_connections);
    BL_RUN(graphql_call_posts_query_and_variables);
    BL_RUN(graphql_errors_in_answer_are_a_failure);
    BL_RUN(webhook_call_is_signed_as_deliveries_are);
    BL_RUN(compile_refuses_addresses_the_guard_does_not_allow);
    BL_RUN(run_checks_the_address_again_with_the_runner_allow_list);
    BL_RUN(compile_errors_name_the_field);
    BL_RUN(compile_refuses_database_saying_why);
    bl_calls_fixture_close();
    return bl_test_summary();
}
