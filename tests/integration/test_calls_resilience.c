/* The integrations of a custom endpoint (connectors/calls) when the outside
 * service fails: each retry strategy's delays as the fake saw them,
 * Retry-After, no retry on 400, transport errors and timeouts, each
 * fallback, and the breaker opening and recovering half-open. */
#include "connectors/calls/call.h"
#include "core/clock.h"
#include "tests/support/calls_fixture.h"
#include "tests/support/fake_service.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int64_t gap(fake_service *f, size_t i)
{
    fake_hit a, b;
    if (fake_service_hit(f, i, &a) != 0 || fake_service_hit(f, i + 1, &b) != 0)
        return -1;
    return b.at_ms - a.at_ms;
}

/* maxAttempts 4 against 503, 503, 503, 200: three gaps. Each planned delay
 * lies within the strategy's own jitter of its nominal value, and the fake
 * saw each gap no shorter than the planned delay (no upper bound: a shared,
 * loaded machine may wake the runner late, and that is no retry bug). */
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
    bl_call *c = BL_CALLS_COMPILE(&err, "{\"id\":\"retry-%s\",\"type\":\"http\",\"endpoint\":\"%s\",\"retryPolicy\":"
                               "{\"maxAttempts\":4,\"backoffStrategy\":\"%s\",\"baseDelay\":%lld,\"maxDelay\":5000,"
                               "\"jitter\":%.2f}}", strategy, url, strategy, (long long)base, jitter);
    REQUIRE(c != NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, NULL, NULL, &r, &err), 0);
    CHECK_EQ_INT(r.attempts, 4);
    REQUIRE(fake_service_count(&f) == 4);
    for (size_t i = 0; i < 3; i++) {
        int64_t planned = r.delays_ms[i], seen = gap(&f, i);
        if (planned < (int64_t)(nominal[i] * (1 - jitter)) || planned > (int64_t)(nominal[i] * (1 + jitter)) + 1 ||
            seen < planned) {
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
    bl_call *c = bl_calls_on_fake(&f, "{\"ok\":true}", "/limited",
                              "{\"id\":\"ra\",\"type\":\"http\",\"endpoint\":\"%s\",\"retryPolicy\":"
                              "{\"maxAttempts\":2,\"backoffStrategy\":\"fixed\",\"baseDelay\":20,\"maxDelay\":5000}}", &err);
    REQUIRE(c != NULL);
    fake_service_queue(&f, 429, "{\"error\":\"slow down\"}", "1");
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, NULL, NULL, &r, &err), 0);
    CHECK_EQ_INT(r.attempts, 2);
    CHECK_EQ_INT(r.delays_ms[0], 1000);
    CHECK(gap(&f, 0) >= 1000);
    bl_call_result_clear(&r);
    /* a Retry-After beyond maxDelay ends the retries: never sooner than asked */
    fake_service_queue(&f, 429, NULL, "30");
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, NULL, NULL, &r, &err), -1);
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
    bl_call *c = bl_calls_on_fake(&f, "{\"ok\":true}", "/strict",
                              "{\"id\":\"strict\",\"type\":\"http\",\"method\":\"POST\",\"endpoint\":\"%s\","
                              "\"retryPolicy\":{\"maxAttempts\":5,\"baseDelay\":10},"
                              "\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"default-response\",\"fallbackData\":{}}}", &err);
    REQUIRE(c != NULL);
    fake_service_queue(&f, 400, "{\"error\":\"bad field\"}", NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, NULL, NULL, &r, &err), -1);
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
    bl_call *c = bl_calls_on_fake(&f, "{\"ok\":true}", "/reset",
                              "{\"id\":\"reset\",\"type\":\"http\",\"endpoint\":\"%s\","
                              "\"retryPolicy\":{\"maxAttempts\":2,\"baseDelay\":10}}", &err);
    REQUIRE(c != NULL);
    fake_service_queue(&f, FAKE_SERVICE_RESET, NULL, NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, NULL, NULL, &r, &err), 0);
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
    bl_call *c = bl_calls_on_fake(&f, "{\"fresh\":true}", "/slow",
                              "{\"id\":\"slow\",\"type\":\"http\",\"endpoint\":\"%s\",\"timeout\":100,"
                              "\"retryPolicy\":{\"maxAttempts\":2,\"baseDelay\":10},"
                              "\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"default-response\",\"fallbackData\":{\"late\":false}}}", &err);
    REQUIRE(c != NULL);
    fake_service_queue_slow(&f, 200, "{\"late\":true}", 600);
    fake_service_queue_slow(&f, 200, "{\"late\":true}", 600);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, NULL, NULL, &r, &err), 0);
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
    bl_call *c = bl_calls_on_fake(&f, "{\"price\":10}", "/prices/{sku}",
                              "{\"id\":\"prices\",\"type\":\"http\",\"endpoint\":\"%s\","
                              "\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"cache\"}}", &err);
    REQUIRE(c != NULL);
    json_t *a = json_pack("{s:s}", "sku", "A"), *b = json_pack("{s:s}", "sku", "B");
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, a, NULL, &r, &err), 0);
    CHECK_EQ_INT(r.source, BL_CALL_SOURCE_ENDPOINT);
    bl_call_result_clear(&r);
    fake_service_default(&f, 500, "{\"error\":\"down\"}");
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, a, NULL, &r, &err), 0);
    CHECK_EQ_INT(r.source, BL_CALL_SOURCE_CACHE);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.body, "price")), 10);
    CHECK(strstr(r.error, "500") != NULL);
    bl_call_result_clear(&r);
    /* another input has no last good answer */
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, b, NULL, &r, &err), -1);
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
    bl_call *c = bl_calls_on_fake(&f, "{}", "/down",
                              "{\"id\":\"dflt\",\"type\":\"http\",\"endpoint\":\"%s\",\"retryPolicy\":{\"maxAttempts\":2,\"baseDelay\":10},"
                              "\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"default-response\","
                              "\"fallbackData\":{\"items\":[],\"stale\":true}}}", &err);
    REQUIRE(c != NULL);
    fake_service_default(&f, 503, NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, NULL, NULL, &r, &err), 0);
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
    bl_call *c = BL_CALLS_COMPILE(&err, "{\"id\":\"stock\",\"type\":\"http\",\"endpoint\":\"%s\",\"retryPolicy\":{\"maxAttempts\":2,\"baseDelay\":10},"
                               "\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"alternative-service\","
                               "\"fallbackData\":{\"endpoint\":\"%s\"}}}", url, alt_url);
    REQUIRE(c != NULL);
    json_t *in = json_pack("{s:s}", "sku", "Z9");
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, in, NULL, &r, &err), 0);
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
    bl_call *c = bl_calls_on_fake(&f, "{}", "/fragile",
                              "{\"id\":\"fragile\",\"type\":\"http\",\"endpoint\":\"%s\","
                              "\"circuitBreaker\":{\"failureThreshold\":2,\"windowMs\":60000,\"openMs\":300}}", &err);
    REQUIRE(c != NULL);
    fake_service_default(&f, 500, NULL);
    bl_call_result r;
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, NULL, NULL, &r, &err), -1);
        bl_call_result_clear(&r);
    }
    CHECK_EQ_INT(bl_call_runner_breaker_state(bl_calls_runner, c), BL_BREAKER_OPEN);
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, NULL, NULL, &r, &err), -1);
    CHECK_EQ_INT(err.code, BL_ECONFLICT);
    CHECK(r.breaker_open);
    CHECK_EQ_INT(r.attempts, 0);
    CHECK_EQ_INT(fake_service_count(&f), 2); /* refused without a request */
    bl_call_result_clear(&r);
    fake_service_default(&f, 200, "{\"back\":true}");
    usleep(350 * 1000); /* past openMs: the next request is the trial */
    CHECK_EQ_INT(bl_call_runner_breaker_state(bl_calls_runner, c), BL_BREAKER_HALF_OPEN);
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, NULL, NULL, &r, &err), 0);
    CHECK(json_is_true(json_object_get(r.body, "back")));
    CHECK_EQ_INT(bl_call_runner_breaker_state(bl_calls_runner, c), BL_BREAKER_CLOSED);
    CHECK_EQ_INT(fake_service_count(&f), 3);
    bl_call_result_clear(&r);
    bl_call_free(c);
    fake_service_stop(&f);
}

static void breaker_open_falls_back(void)
{
    fake_service f;
    bl_err err = {0};
    bl_call *c = bl_calls_on_fake(&f, "{}", "/fragile2",
                              "{\"id\":\"fragile2\",\"type\":\"http\",\"endpoint\":\"%s\","
                              "\"circuitBreaker\":{\"failureThreshold\":1,\"openMs\":60000},"
                              "\"fallbackStrategy\":{\"enabled\":true,\"strategy\":\"default-response\",\"fallbackData\":\"later\"}}", &err);
    REQUIRE(c != NULL);
    fake_service_default(&f, 500, NULL);
    bl_call_result r;
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, NULL, NULL, &r, &err), 0); /* failed, then the default */
    bl_call_result_clear(&r);
    CHECK_EQ_INT(bl_call_run(bl_calls_runner, c, NULL, NULL, &r, &err), 0);
    CHECK(r.breaker_open);
    CHECK_EQ_INT(r.source, BL_CALL_SOURCE_DEFAULT);
    CHECK_EQ_STR(json_string_value(r.body), "later");
    CHECK_EQ_INT(fake_service_count(&f), 1);
    bl_call_result_clear(&r);
    bl_call_free(c);
    fake_service_stop(&f);
}

int main(void)
{
    if (bl_calls_fixture_open() != 0)
        return 1;
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
    bl_calls_fixture_close();
    return bl_test_summary();
}
