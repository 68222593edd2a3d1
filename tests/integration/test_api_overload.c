/* Overload: past max_in_flight the API sheds a request at once with 503 and
 * Retry-After, in the surface's error shape, while health stays answered,
 * and admits requests again once those inside are done. A request is held
 * inside its handler by holding every connection of the server's pool, so
 * the test waits on states, not on time. */
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define POOL_SIZE 16 /* the fixture's pool */

static bl_test_api api;
static bl_test_api tight; /* the fixture's keys and pool, a server admitting one request */

typedef struct held_call {
    bl_test_reply reply;
    long status;
} held_call;

static void *call_projects(void *arg)
{
    held_call *h = arg;
    h->status = bl_test_api_call(&tight, "GET", "/v1/projects", api.write_token, NULL, NULL, &h->reply);
    return NULL;
}

static void nap_ms(long ms)
{
    struct timespec t = {0, ms * 1000000L};
    nanosleep(&t, NULL);
}

static void a_request_past_the_bound_is_shed_with_retry_after(void)
{
    bl_err err = {0};
    PGconn *held[POOL_SIZE];
    int n = 0;
    while (n < POOL_SIZE && (held[n] = bl_pg_pool_acquire(api.pool, 5000, &err)))
        n++;
    REQUIRE(n == POOL_SIZE);
    held_call first = {0};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, call_projects, &first) == 0);
    /* it is inside once it counts, waiting for a database connection */
    while (bl_api_server_in_flight(tight.server) < 1)
        nap_ms(2);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&tight, "GET", "/v1/projects", api.write_token, NULL, NULL, &r), 503);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "overloaded");
    CHECK_EQ_STR(r.retry_after, "1");
    CHECK(json_is_string(json_object_get(json_object_get(r.json, "error"), "request_id")));
    bl_test_reply_clear(&r);
    /* the field-service surface sheds in its own shape */
    CHECK_EQ_INT(bl_test_api_call(&tight, "GET", "/api/clients/", api.write_token, NULL, NULL, &r), 503);
    CHECK(json_is_string(json_object_get(r.json, "detail")));
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "overloaded"); /* its reason, beside the document's code */
    CHECK_EQ_STR(r.retry_after, "1");
    bl_test_reply_clear(&r);
    /* health is public: never shed */
    CHECK_EQ_INT(bl_test_api_call(&tight, "GET", "/healthz", NULL, NULL, NULL, &r), 200);
    bl_test_reply_clear(&r);
    for (int i = 0; i < n; i++)
        bl_pg_pool_release(api.pool, held[i]);
    pthread_join(th, NULL);
    CHECK_EQ_INT(first.status, 200);
    bl_test_reply_clear(&first.reply);
    CHECK_EQ_INT((long)bl_api_server_in_flight(tight.server), 0);
    /* and once it is out, the next one is admitted */
    CHECK_EQ_INT(bl_test_api_call(&tight, "GET", "/v1/projects", api.write_token, NULL, NULL, &r), 200);
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_api_start(&api, 0) == 0) {
        bl_err err = {0};
        bl_api_config cfg = {.jwt_secret = BL_TEST_API_JWT_SECRET, .max_in_flight = 1};
        tight = api;
        if ((tight.server = bl_api_server_new(&cfg, api.pool, &err)) && bl_api_server_start(tight.server, &err) == 0) {
            BL_RUN(a_request_past_the_bound_is_shed_with_retry_after);
        } else {
            fprintf(stderr, "  tight server: %s\n", err.msg);
            bl_test_failures++;
        }
        bl_api_server_free(tight.server);
    } else {
        bl_test_failures++;
    }
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return bl_test_summary();
}
